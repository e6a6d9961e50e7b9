/**
 * The simulator on the real node: clean runs pass every check, runs are
 * deterministic, and a bounded fast-check campaign with faults finds no
 * violation in the safe configuration.
 *
 * Seed: RIFT_SIM_SEED (default fixed, printed in the test name); replay a
 * failure with `npm run sim -- --seed <seed> --path <path>`.
 */
import { describe, expect, it } from 'vitest';
import { PausedProcess, socketOverheadBytes } from '../../sim/pause.js';
import { campaign, describeViolations, judge } from '../../sim/property.js';
import { defaultSimOptions, type Scenario, type WorkloadOp } from '../../sim/scenario.js';
import { runSimulation } from '../../sim/simulator.js';

const seed = Number(process.env['RIFT_SIM_SEED'] ?? 20240611);

function workload(clients: number, ops: number, thinkMs: number): WorkloadOp[][] {
  const fs = ['write', 'read', 'cas'] as const;
  return Array.from({ length: clients }, (_, c) =>
    Array.from({ length: ops }, (_, i) => ({ f: fs[(i + c) % 3]!, key: (i + c) % 3, thinkMs })),
  );
}

const faulty: Scenario = {
  seed: 7,
  faults: [
    { atMs: 800, fault: { kind: 'crash_leader' } },
    { atMs: 1200, fault: { kind: 'network', profile: 'lossy' } },
    { atMs: 1500, fault: { kind: 'partition', groups: [0, 0, 1, 1, 1] } },
    { atMs: 2200, fault: { kind: 'restart_all' } },
    { atMs: 2500, fault: { kind: 'clock', node: 2, rate: 1.1, offsetMs: 300 } },
    { atMs: 3000, fault: { kind: 'isolate_leader', direction: 'out' } },
  ],
  clients: workload(3, 25, 80),
};

describe('deterministic simulation of the rift node', () => {
  it('a fault-free run elects a leader, completes every op, and its history is linearizable', async () => {
    const judged = await judge({ seed: 1, faults: [], clients: workload(3, 15, 50) }, defaultSimOptions);
    expect(judged.violations, describeViolations(judged.violations)).toEqual([]);
    expect(judged.check?.valid).toBe(true);
    const s = judged.sim.stats;
    expect(s.leaderTerms).toBeGreaterThanOrEqual(1);
    expect(s.opsInfo).toBe(0);
    // 45 workload ops + 2 liveness probes per client: each ends ok, or fails only on a cas precondition.
    expect(s.opsOk + s.opsFail).toBe(51);
    const fails = judged.sim.history.filter((op) => op.type === 'fail');
    expect(fails.every((op) => op.f === 'cas' && op.error === 'cas_mismatch')).toBe(true);
    expect(s.committed).toBeGreaterThan(20);
  });

  it('survives crashes, partitions, loss and clock skew with every check passing', async () => {
    const judged = await judge(faulty, defaultSimOptions);
    expect(judged.violations, describeViolations(judged.violations)).toEqual([]);
    expect(judged.check?.valid).toBe(true);
    expect(judged.sim.stats.crashes).toBeGreaterThanOrEqual(1);
    expect(judged.sim.stats.leaderTerms).toBeGreaterThanOrEqual(2);
  });

  it('is deterministic: the same scenario gives the same trace hash and history; another seed does not', async () => {
    const a = await runSimulation(faulty, defaultSimOptions);
    const b = await runSimulation(faulty, defaultSimOptions);
    const c = await runSimulation({ ...faulty, seed: 8 }, defaultSimOptions);
    expect(b.traceHash).toBe(a.traceHash);
    expect(JSON.stringify(b.history)).toBe(JSON.stringify(a.history));
    expect(b.stats.events).toBe(a.stats.events);
    expect(c.traceHash).not.toBe(a.traceHash);
  });

  it(`a fast-check campaign of 50 runs of the default mix (seed ${seed}) finds no violation in the safe node`, async () => {
    const result = await campaign({ ...defaultSimOptions, nodeCount: 5 }, { numRuns: 50, seed, maxShrinks: 20 });
    if (result.failed) {
      throw new Error(`campaign failed: replay with npm run sim -- --seed ${result.seed} --path ${result.path}\n${result.report}`);
    }
    expect(result.runs).toBe(50);
    expect(result.totals.opsOk).toBeGreaterThan(0);
    expect(result.totals.leaderTerms).toBeGreaterThanOrEqual(50);
  });
});

/** Every fault kind of the network adversary and process pauses, in one schedule. */
const adversarial: Scenario = {
  seed: 11,
  faults: [
    { atMs: 400, fault: { kind: 'hold_across', rate: 1, forMs: 300 } },
    { atMs: 600, fault: { kind: 'hold_leader', direction: 'out', rate: 0.5, holdMs: 2500, forMs: 400 } },
    { atMs: 900, fault: { kind: 'pause_leader', forMs: 700 } },
    { atMs: 1000, fault: { kind: 'split_leader', companion: 1 } },
    { atMs: 1800, fault: { kind: 'heal' } },
    { atMs: 2000, fault: { kind: 'replay', count: 6, minAgeMs: 800 } },
    { atMs: 2100, fault: { kind: 'replay_leader', count: 4, minAgeMs: 500 } },
    { atMs: 2300, fault: { kind: 'cut_leader', other: 2 } },
    { atMs: 2500, fault: { kind: 'reboot', node: 3, downMs: 40 } },
    { atMs: 2800, fault: { kind: 'hold', node: 1, direction: 'both', rate: 1, holdMs: 1200, forMs: 200 } },
    { atMs: 3000, fault: { kind: 'pause', node: 2, forMs: 1500 } },
    { atMs: 3100, fault: { kind: 'network', profile: 'stragglers' } },
  ],
  clients: workload(3, 25, 60),
};

describe('the network adversary and process pauses', () => {
  it('a schedule with holds, replays, pauses, splits, cuts and a reboot passes every check on the safe node, and each fault took effect', async () => {
    const judged = await judge(adversarial, { ...defaultSimOptions, traceLines: true, stopOnViolation: false });
    expect(judged.violations, describeViolations(judged.violations)).toEqual([]);
    expect(judged.check?.valid).toBe(true);
    const s = judged.sim.stats;
    expect(s.held).toBeGreaterThan(0);
    expect(s.heldAcross).toBeGreaterThan(0);
    expect(s.replayed).toBeGreaterThan(0);
    expect(s.pauses).toBe(2);
    expect(s.crashes).toBeGreaterThanOrEqual(1);
    expect(s.readsChecked).toBeGreaterThan(0);
    expect(s.leaderAfterHealMs).toBeGreaterThanOrEqual(0);
    const trace = judged.sim.trace.join('\n');
    // A paused process resumes with its input queued and its timers overdue.
    expect(trace).toMatch(/n\d resumes: [1-9]\d* datagrams buffered, 0 dropped \(socket buffer full\), [1-9]\d* timers overdue/);
    expect(trace).toMatch(/adversary replays \(sent at [\d.]+\) n\d->n\d Msg/);
  });

  it('is deterministic under the adversary: same scenario, same trace hash and history', async () => {
    const a = await runSimulation(adversarial, defaultSimOptions);
    const b = await runSimulation(adversarial, defaultSimOptions);
    expect(b.traceHash).toBe(a.traceHash);
    expect(JSON.stringify(b.history)).toBe(JSON.stringify(a.history));
    const c = await runSimulation({ ...adversarial, seed: 12 }, defaultSimOptions);
    expect(c.traceHash).not.toBe(a.traceHash);
  });

  it('the trace prints messages and Readies as the core transcripts do (node/raft/describe.ts), and lines do not change the hash', async () => {
    const plain = await runSimulation(faulty, defaultSimOptions);
    const traced = await runSimulation(faulty, { ...defaultSimOptions, traceLines: true });
    expect(traced.traceHash).toBe(plain.traceHash);
    const lines = traced.trace;
    expect(lines.some((l) => / deliver n\d->n\d MsgApp term=\d+ prev=\d+@\d+ commit=\d+ seq=\d+/.test(l))).toBe(true);
    expect(lines.some((l) => / deliver n\d->n\d MsgAppResp term=\d+ match=\d+ seq=\d+/.test(l))).toBe(true);
    expect(
      lines.some((l) => / n\d Ready SoftState role=(leader|follower|candidate|pre_candidate) term=\d+ leader=\S+ commit=\d+$/.test(l)),
    ).toBe(true);
    expect(lines.some((l) => /^\s+[\d.]+\s+Entries \[\d+@\d+ "c\d#\d+ (put|cas) k\d/.test(l))).toBe(true);
    expect(lines.some((l) => / deliver c\d->n\d request c\d#\d+ (get|put|cas) k\d/.test(l))).toBe(true);
  });

  it('the catch-up check after the heal finds a follower the leader never repairs (--unsafe-ignore-lost-follower-log), and only then', async () => {
    // A follower that acknowledged entries loses them: with --unsafe-ack-before-fsync a
    // reboot drops its unsynced tail (the storage work's disk faults do it without a flag).
    const writes = Array.from({ length: 60 }, (): WorkloadOp => ({ f: 'write', key: 0, thinkMs: 20 }));
    const base = { ...defaultSimOptions, nodeCount: 3, keys: 1, stopOnViolation: false };
    const catchUps = async (ignoreLostFollowerLog: boolean): Promise<string[]> => {
      const found: string[] = [];
      for (let s = 1; s <= 6; s++) {
        const scenario: Scenario = {
          seed: s,
          faults: [{ atMs: 1500, fault: { kind: 'reboot', node: 1, downMs: 50 } }],
          clients: [writes, writes],
        };
        const judged = await judge(scenario, { ...base, unsafe: { ...base.unsafe, ackBeforeFsync: true, ignoreLostFollowerLog } });
        found.push(...judged.violations.filter((v) => v.message.startsWith('catch-up:')).map((v) => `seed ${s}: ${v.message}`));
      }
      return found;
    };
    const withFlag = await catchUps(true);
    expect(withFlag.length).toBeGreaterThan(0);
    expect(withFlag[0]).toMatch(
      /catch-up: 5 election timeouts after the heal \(at 5500 ms\), n\d \(commit \d+, last \d+\) still below commit \d+/,
    );
    expect(await catchUps(false)).toEqual([]);
  });

  it("a paused process's socket buffer holds about 208 KiB (kernel accounting) and drops the rest", () => {
    const paused = new PausedProcess(1000, defaultSimOptions.socketBufferBytes);
    const datagram = Buffer.alloc(150);
    let accepted = 0;
    while (paused.receive('n2', datagram)) accepted++;
    expect(accepted).toBe(Math.floor(212_992 / (150 + socketOverheadBytes)));
    expect(paused.receive('n2', datagram)).toBe(false);
    expect(paused.dropped).toBe(2);
    expect(paused.buffered).toHaveLength(accepted);
  });
});

describe('the end of a run: a client with work left', () => {
  // Found by a hunt of the correct node under the stale-read-acks preset's faults, flag off (2026-12-06, seed 701, run
  // 175): one client's 294 ops did not fit in the run, though it was answered every ~25 ms to the end; the run was
  // flagged "still had work" (sim/liveness.ts judgeClientsAtEnd). The scenario is the hunt's, kept as data (testdata/).
  it('is not flagged while its ops are still answered (its workload was only longer than the run)', async () => {
    const { readFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { unsafePresets } = await import('../../sim/unsafe.js');
    const { noUnsafeFlags } = await import('../../node/unsafe-flags.js');
    const scenario = JSON.parse(readFileSync(join(import.meta.dirname, 'testdata', 'heavy-workload-at-the-end.json'), 'utf8')) as Scenario;
    const preset = unsafePresets['stale-read-acks']!;
    // Its clients poll without asking a node to wait for a leader, as when it was found (before node/held-requests.ts).
    const judged = await judge(scenario, { ...preset.options, unsafe: noUnsafeFlags, clientAwaitsLeader: false });
    expect(judged.violations, describeViolations(judged.violations)).toEqual([]);
    // Its course: the clients had not invoked their whole workload (and the two probes each) when the run ended.
    const workloadOps = scenario.clients.reduce((n, ops) => n + ops.length + 2, 0);
    const invoked = judged.sim.history.filter((o) => o.type === 'invoke' && typeof o.process === 'number').length;
    expect(invoked).toBeLessThan(workloadOps);
  });
});

describe('liveness after the heal while held datagrams still land', () => {
  // Found by a campaign with chunked snapshots (2026-12-07, `npm run sim -- --runs 2000 --seed 911783485 --nodes 3
  // --snapshot-every-entries 3 --snapshot-chunk-bytes 100`, run 1,219, no snapshot streamed in it): a hold of the
  // leader's datagrams (3.6 s) landed until 735 ms after the heal. Those late heartbeats kept n2 sure of its term-1
  // leader, so it refused the pre-votes of the others (§9.6, rightly) and no leader was elected by the planned check
  // (3 election timeouts after the heal): the check flagged the correct node. The leader and catch-up checks now run
  // as much later as held datagrams landed after the heal. The scenario is the campaign's, kept as data (testdata/).
  it('the leader and catch-up checks wait for the last held datagram; the correct node passes them', async () => {
    const { readFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const scenario = JSON.parse(readFileSync(join(import.meta.dirname, 'testdata', 'held-until-after-heal.json'), 'utf8')) as Scenario;
    const options = { ...defaultSimOptions, nodeCount: 3, snapshotEveryEntries: 3, snapshotTrailingEntries: 3, snapshotChunkBytes: 100 };
    const judged = await judge(scenario, { ...options, traceLines: true });
    expect(judged.violations, describeViolations(judged.violations)).toEqual([]);
    const trace = judged.sim.trace.join('\n');
    expect(trace).toMatch(/held datagrams landed until 4735 ms: the liveness checks run 735 ms later/);
    expect(trace).toMatch(/5635\.\d+ liveness phase starts .*leader/);
    expect(trace).toMatch(/6235\.\d+ catch-up check/);
  });
});
