/**
 * The simulator over snapshots (issue 18): with a small snapshotEveryEntries
 * every run takes snapshots, compacts logs on the simulated disk and streams
 * InstallSnapshot to followers that fell behind (crashes, partitions, lost
 * datagrams), while every check of the simulator runs: Raft's invariants
 * over compacted logs, "a snapshot never contains uncommitted state",
 * read safety, State Machine Safety at application, liveness after the heal,
 * linearizability.
 *
 * Seed: RIFT_SIM_SEED (default fixed, printed in the test name); replay a
 * failure with `npm run sim -- --seed <seed> --path <path> --snapshot-every-entries 5`.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { SnapshotStreamer } from '../../node/snapshot/streamer.js';
import { noUnsafeFlags } from '../../node/unsafe-flags.js';
import { campaign, describeViolations, judge } from '../../sim/property.js';
import { defaultSimOptions, type Scenario, type SimOptions, type WorkloadF, type WorkloadOp } from '../../sim/scenario.js';
import { unsafePresets } from '../../sim/unsafe.js';

const seed = Number(process.env['RIFT_SIM_SEED'] ?? 20261205);
const here = dirname(fileURLToPath(import.meta.url));

/** A scenario kept as data (testdata/), judged with every check: no violation, and its trace for the course it had when found. */
async function judgeKept(file: string, options: SimOptions): Promise<readonly string[]> {
  const scenario = JSON.parse(readFileSync(join(here, 'testdata', file), 'utf8')) as Scenario;
  const judged = await judge(scenario, { ...options, traceLines: true });
  expect(judged.violations, describeViolations(judged.violations)).toEqual([]);
  return judged.sim.trace;
}

describe('the simulator with snapshots every few entries', () => {
  // Found by a 1,500-run campaign with snapshots every 4 entries (2026-12-06, `npm run sim -- --runs 1500 --seed 41
  // --snapshot-every-entries 4`, run 387): n5 acknowledged 36@3 (a majority with n1 and n2), then a bit of its last
  // durable frame was flipped and it refused to start; n1 committed 36 and snapshotted there, and the check "a snapshot
  // never contains uncommitted state" read n5's damaged disk, found 2 holders of 5 and cried wolf. It now reads a down
  // node's disk as it was before the injected flips (sim/disk.ts undamagedState). The scenario is the campaign's, kept
  // as data (testdata/); the run is deterministic, so it replays the same course.
  it('a follower whose disk is damaged after it acknowledged the entry still counts as holding it when a snapshot is taken', async () => {
    // Its clients follow every hint, as when it was found (before the client's suspicion, node/client-retry.ts).
    const trace = await judgeKept('snapshot-check-after-bit-rot.json', {
      ...defaultSimOptions,
      nodeCount: 5,
      snapshotEveryEntries: 4,
      snapshotTrailingEntries: 4,
      clientSuspicion: false,
    });
    // The course it had when found: n5 refuses its flipped last frame right after acknowledging 36@3, and n1 snapshots at 36.
    const refusedAt = trace.findIndex((line) => line.includes('n5 refuses to start'));
    const snapshotAt = trace.findIndex((line) => line.includes('SnapshotRequest 36@3'));
    expect(refusedAt).toBeGreaterThan(0);
    expect(snapshotAt).toBeGreaterThan(refusedAt);
  });

  // Found by a hunt of the correct node in lease mode on 3 nodes with snapshots every 3 entries (2026-12-06, `npm run sim
  // -- --runs 10000 --seed 922 --nodes 3 --read-mode lease --snapshot-every-entries 3`, run 2,437): leader n3 of term 1
  // was paused with 7@1 on n1 and n2; n1 snapshotted at 6, compacted its log to start at 4, and won term 2; n3 woke,
  // took n2's acknowledgement and committed 7. The check that a leader of a later term holds a newly committed entry
  // read n1's log as if it started at index 1 (found nothing at 7) and cried wolf; it now indexes from the log's start,
  // and an entry below it is under that leader's snapshot. The scenario is the hunt's, kept as data (testdata/).
  it('an entry an old leader commits late is found in the compacted log of the leader of the later term', async () => {
    const trace = await judgeKept('completeness-check-compacted-leader.json', {
      ...defaultSimOptions,
      nodeCount: 3,
      readMode: 'lease',
      snapshotEveryEntries: 3,
      snapshotTrailingEntries: 3,
    });
    // The course it had when found: n1 compacts, leads term 2, and then n3 commits 7 in term 1.
    const led = trace.findIndex((line) => line.includes('n1: role leader term=2'));
    const compacted = trace.findIndex((line) => line.includes('DiscardEntriesBefore 4'));
    const lateCommit = trace.findIndex((line) => line.includes('n3 Ready SoftState role=leader term=1 leader=n3 commit=7'));
    expect(compacted).toBeGreaterThan(0);
    expect(led).toBeGreaterThan(compacted);
    expect(lateCommit).toBeGreaterThan(led);
  });

  // Found by a hunt on the correct node under the keep-log-on-install preset's faults and options, flag off (2026-12-06,
  // 3 nodes, snapshots every 4 entries, seed 601, run 1417; shrunk to one fault): n3 crashed at 223 ms; its leader n2
  // compacted past it and streamed it a snapshot that nobody received; n3 restarted at the heal (4,000 ms) and answered
  // every heartbeat, but the stream, its retransmission timeout backed off towards 2 s, resent only at ~5.5 s, past the
  // catch-up bound of the liveness check. The streamer now resends as soon as the follower is heard (streamer.ts
  // peerHeard). The scenario is the hunt's, kept as data (testdata/).
  it('a follower back from a crash gets the snapshot streamed to it while it was down within the catch-up bound', async () => {
    // The preset's options when it was found (it has since become the divergent-install choreography on five nodes).
    const trace = await judgeKept('snapshot-stream-after-restart.json', {
      ...defaultSimOptions,
      nodeCount: 3,
      snapshotEveryEntries: 4,
      snapshotTrailingEntries: 1,
      unsafe: noUnsafeFlags,
    });
    // The course it had when found: n3 down from 223 ms to the heal, a snapshot streamed to it meanwhile.
    const crashedAt = trace.findIndex((line) => line.includes('n3 crashes'));
    const streamedAt = trace.findIndex((line) => /n2: snapshot \d+@\d+ to n3: streaming/.test(line));
    const restartedAt = trace.findIndex((line) => line.includes('n3 starts (incarnation 3'));
    expect(crashedAt).toBeGreaterThan(0);
    expect(streamedAt).toBeGreaterThan(crashedAt);
    expect(restartedAt).toBeGreaterThan(streamedAt);
  });

  // Kept from a hunt with the streamer's old rule put back (2026-12-07, `npm run sim -- --runs 1500 --seed 7204 --faults-of
  // keep-log-on-install --snapshot-every-entries 3 --snapshot-chunk-bytes 16`, run 7, shrunk to five faults): n3 is
  // killed right after staging and acknowledging a stream's first chunk and restarts 1 ms later; the stream runs on and
  // every chunk ends up acknowledged while n3 holds only part of them. The old rule resent only the last chunk and gave
  // up 894 ms after the heal; the fixed streamer starts the stream over. The model checker found the defect first; a
  // crash drawn at a random time almost never lands inside a stream of milliseconds, hence the `kill_in_stream` fault.
  const KILL_INSIDE_STREAM = {
    ...defaultSimOptions,
    nodeCount: 3,
    snapshotEveryEntries: 3,
    snapshotTrailingEntries: 3,
    snapshotChunkBytes: 16,
  } as const;

  it('a follower killed inside a snapshot stream and restarted at once gets the whole snapshot (kill_in_stream)', async () => {
    const trace = await judgeKept('kill-inside-stream.json', KILL_INSIDE_STREAM);
    const killedAt = trace.findIndex((line) => /n3 killed inside n\d's snapshot stream \d+@\d+, after chunk 1 of \d+/.test(line));
    expect(killedAt).toBeGreaterThan(0);
    expect(trace.slice(killedAt).some((line) => line.includes('n3 starts'))).toBe(true);
    expect(trace.some((line) => line.includes('giving up'))).toBe(false);
  });

  it("the stream give-up check catches the streamer's old rule on that scenario", async () => {
    // The rule before 2026-12-07, put back for this test only: with every chunk acknowledged and no `complete`, resend
    // only the last chunk. (A mutation of one private method; the check must report what it did.)
    type Internals = {
      resendInFlight(stream: { inflight: Set<number>; ackedCount: number; chunks: number }): void;
      send(stream: unknown, k: number): void;
      stats: { chunksRetransmitted: number };
    };
    const prototype = SnapshotStreamer.prototype as unknown as Internals;
    const spy = vi.spyOn(prototype, 'resendInFlight').mockImplementation(function (this: Internals, stream) {
      for (const k of stream.inflight) {
        this.stats.chunksRetransmitted++;
        this.send(stream, k);
      }
      if (stream.inflight.size === 0 && stream.ackedCount === stream.chunks) {
        this.stats.chunksRetransmitted++;
        this.send(stream, stream.chunks - 1);
      }
    });
    try {
      const scenario = JSON.parse(readFileSync(join(here, 'testdata', 'kill-inside-stream.json'), 'utf8')) as Scenario;
      const judged = await judge(scenario, KILL_INSIDE_STREAM);
      expect(spy).toHaveBeenCalled();
      expect(describeViolations(judged.violations)).toMatch(
        /liveness: n\d's snapshot stream to n3 gave up \d+ ms after the heal with (\d+)\/\1 chunks acknowledged/,
      );
    } finally {
      spy.mockRestore();
    }
  });

  it(
    `a campaign of 25 runs of the default mix (seed ${seed}) takes and installs snapshots and finds no violation`,
    { timeout: 240_000 },
    async () => {
      const options = { ...defaultSimOptions, nodeCount: 5, snapshotEveryEntries: 5, snapshotTrailingEntries: 2 };
      const result = await campaign(options, { numRuns: 25, seed, maxShrinks: 20 });
      if (result.failed) {
        throw new Error(
          `campaign failed: replay with npm run sim -- --seed ${result.seed} --path ${result.path} --snapshot-every-entries 5\n${result.report}`,
        );
      }
      expect(result.runs).toBe(25);
      // The runs exercised what they are about.
      expect(result.totals.snapshotsTaken).toBeGreaterThan(25);
      expect(result.totals.snapshotsInstalled).toBeGreaterThan(0);
      expect(result.totals.opsOk).toBeGreaterThan(0);
    },
  );

  // Lease reads over compacted logs, on a fresh seed each run (printed; RIFT_SIM_SEED replays): the mix whose hunts found
  // the two false alarms above (2026-12-06; about 1 run in 2,400 and 1 in 13,000), so that CI keeps hunting it.
  const freshSeed = process.env['RIFT_SIM_SEED'] === undefined ? (Date.now() ^ (process.pid << 8)) >>> 0 : seed;
  it(
    `a campaign of 150 runs in lease mode on 3 nodes with snapshots every 3 entries (fresh seed ${freshSeed}) finds no violation`,
    { timeout: 240_000 },
    async () => {
      const options = {
        ...defaultSimOptions,
        nodeCount: 3,
        readMode: 'lease' as const,
        snapshotEveryEntries: 3,
        snapshotTrailingEntries: 3,
      };
      const result = await campaign(options, { numRuns: 150, seed: freshSeed, maxShrinks: 20 });
      if (result.failed) {
        throw new Error(
          `campaign failed: replay with npm run sim -- --seed ${result.seed} --path ${result.path} --nodes 3 --read-mode lease --snapshot-every-entries 3\n${result.report}`,
        );
      }
      expect(result.runs).toBe(150);
      expect(result.totals.snapshotsTaken).toBeGreaterThan(150);
      expect(result.totals.opsOk).toBeGreaterThan(0);
    },
  );

  // Snapshots of a simulated run are a few hundred bytes: with the node's 60 KiB chunks every stream was one chunk, so
  // no campaign had a stream's chunks lost, repeated, reordered or held across terms (2026-12-07). 64-byte chunks make
  // every stream several, on a fresh seed each run (printed; RIFT_SIM_SEED replays).
  it(
    `a campaign of 60 runs on 3 nodes with snapshots every 3 entries streamed in 64-byte chunks (fresh seed ${freshSeed}) finds no violation`,
    { timeout: 240_000 },
    async () => {
      const options = { ...defaultSimOptions, nodeCount: 3, snapshotEveryEntries: 3, snapshotTrailingEntries: 3, snapshotChunkBytes: 64 };
      const result = await campaign(options, { numRuns: 60, seed: freshSeed, maxShrinks: 20 });
      if (result.failed) {
        throw new Error(
          `campaign failed: replay with npm run sim -- --seed ${result.seed} --path ${result.path} --nodes 3 --snapshot-every-entries 3 --snapshot-chunk-bytes 64\n${result.report}`,
        );
      }
      expect(result.runs).toBe(60);
      expect(result.totals.snapshotsInstalled).toBeGreaterThan(0);
      // Streams of several chunks happened: chunks past a stream's first were sent.
      expect(result.totals.snapshotChunksPastFirst).toBeGreaterThan(0);
      expect(result.totals.snapshotChunks).toBeGreaterThan(result.totals.snapshotChunksPastFirst);
    },
  );

  it(
    `the snapshot-past-commit preset's faults on the correct node (seed ${seed}) show nothing in 20 runs`,
    { timeout: 240_000 },
    async () => {
      const preset = unsafePresets['snapshot-past-commit'];
      if (preset === undefined) throw new Error('no preset snapshot-past-commit');
      const result = await campaign(
        { ...preset.options, unsafe: noUnsafeFlags },
        { numRuns: 20, seed, maxShrinks: 20, shape: preset.shape },
      );
      if (result.failed) throw new Error(`campaign failed: seed ${result.seed} path ${result.path}\n${result.report}`);
      expect(result.totals.snapshotsTaken).toBeGreaterThan(20);
    },
  );

  it('regression: an own snapshot saved while an InstallSnapshot is queued behind it does not compact the log below the installed one', async () => {
    // Found by a campaign (seed 515151, --snapshot-every-entries 3), shrunk to one paused leader: a
    // follower's own snapshot at 12 finished saving, the install of 15 (saved next) compacted the log
    // to 16, and the compaction the own snapshot had computed earlier (to 10) then failed its
    // precondition. The compaction is now decided when it runs. Scenario re-found (the fix reverted in
    // a scratch copy) once the host coalesced acknowledgements, which changed the old one's course:
    // --seed 515153 --snapshot-every-entries 3 --nodes 5, shrunk; it fails there with "invalid compact:
    // compact to index 4 below the log's first index 13".
    const w = (f: WorkloadF, key: number, thinkMs: number): WorkloadOp => ({ f, key, thinkMs });
    const scenario: Scenario = {
      seed: 20,
      faults: [{ atMs: 481, fault: { kind: 'pause_leader', forMs: 1730 } }],
      clients: [
        [w('write', 0, 6), w('cas', 0, 0), w('cas', 0, 52), w('write', 1, 225), w('read', 2, 145)],
        [
          w('read', 1, 265),
          w('write', 1, 196),
          w('write', 0, 181),
          w('read', 1, 300),
          w('cas', 2, 186),
          w('read', 0, 134),
          w('write', 1, 219),
          w('cas', 2, 183),
          w('cas', 2, 144),
          w('read', 1, 261),
          w('write', 1, 115),
          w('read', 2, 125),
          w('cas', 2, 96),
          w('write', 0, 217),
          w('cas', 0, 30),
        ],
      ],
    };
    const judged = await judge(scenario, { ...defaultSimOptions, nodeCount: 5, snapshotEveryEntries: 3, snapshotTrailingEntries: 3 });
    expect(judged.violations, describeViolations(judged.violations)).toEqual([]);
    expect(judged.sim.stats.snapshotsInstalled).toBeGreaterThan(0);
  });
});
