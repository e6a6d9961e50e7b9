/**
 * Failed file-system calls in the simulator (`io_error` faults, SimOptions
 * diskErrors, `npm run sim -- --disk-errors`): a write, fsync, rename, open or
 * directory fsync that fails with ENOSPC, EIO or EROFS, through the node's
 * real storage code (sim/sim-fs.ts failNext). The node must stop (storage.ts:
 * a failed call is fatal; the binary exits 7), and after its restart no
 * acknowledged write may be lost (the run's usual checks). A node that carried
 * on as if the call had worked (diskErrorsSilent: the call reports success and
 * does nothing) is found by those checks.
 *
 * Campaign seeds are fresh (printed in the test names); RIFT_SIM_SEED replays.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defaultShape, scenarioArb, type ScenarioShape } from '../../sim/arbitraries.js';
import { campaign, describeViolations, judge } from '../../sim/property.js';
import { defaultSimOptions, ioErrorOps, type IoErrorOp, type Scenario, type SimOptions, type WorkloadOp } from '../../sim/scenario.js';

const here = dirname(fileURLToPath(import.meta.url));
const override = process.env['RIFT_SIM_SEED'] === undefined ? null : Number(process.env['RIFT_SIM_SEED']) >>> 0;
const fresh = override ?? (Date.now() ^ (process.pid << 8)) >>> 0;

function workload(clients: number, ops: number, thinkMs: number): WorkloadOp[][] {
  const fs = ['write', 'read', 'cas'] as const;
  return Array.from({ length: clients }, (_, c) =>
    Array.from({ length: ops }, (_, i) => ({ f: fs[(i + c) % 3]!, key: (i + c) % 3, thinkMs })),
  );
}

/** Three nodes snapshotting every 4 entries: saves (temp file, fsync, renames, directory fsync) happen while they run. */
const snapshotting: SimOptions = {
  ...defaultSimOptions,
  nodeCount: 3,
  snapshotEveryEntries: 4,
  snapshotTrailingEntries: 4,
  diskErrors: true,
};

/** io_error faults among crashes and restarts, so failures land in appends, snapshot saves and recoveries alike. */
const diskErrorHeavy: ScenarioShape = {
  ...defaultShape,
  minFaults: 4,
  maxFaults: 12,
  faultWeights: { io_error: 6, crash: 2, crash_leader: 2, restart: 3, restart_all: 2, isolate_leader: 1, heal: 1 },
};
const heavyOptions: SimOptions = { ...snapshotting, snapshotEveryEntries: 8, snapshotTrailingEntries: 5 };

describe('io_error faults: the correct node stops on a failed call and loses no acknowledged write', () => {
  for (const op of ioErrorOps) {
    it(`a failed ${op} on a running node: it stops, restarts at the heal, and the run is valid`, async () => {
      const scenario: Scenario = {
        seed: 5,
        faults: [{ atMs: 1000, fault: { kind: 'io_error', node: 1, op, code: op === 'write' ? 'ENOSPC' : 'EIO', skip: 0 } }],
        clients: workload(3, 30, 60),
      };
      const judged = await judge(scenario, { ...snapshotting, traceLines: true });
      expect(judged.violations, describeViolations(judged.violations)).toEqual([]);
      expect(judged.check?.valid).toBe(true);
      expect(judged.sim.stats.ioFailures, 'the failure fired').toBe(1);
      expect(judged.sim.stats.ioFailureStops).toBe(1);
      const trace = judged.sim.trace.join('\n');
      expect(trace).toMatch(new RegExp(`n2 stops on the failed ${op} of /var/lib/rift/n2(/\\S+)? \\((ENOSPC|EIO)\\)`));
      expect(trace).toMatch(/heal all[^\n]*\n(.*\n)*? *[\d.]+ n2 starts/);
    });
  }

  it('a failed open while the node recovers: it does not start, and starts at the heal', async () => {
    const scenario: Scenario = {
      seed: 7,
      faults: [
        { atMs: 800, fault: { kind: 'crash', node: 2 } },
        { atMs: 900, fault: { kind: 'io_error', node: 2, op: 'open', code: 'EROFS', skip: 0 } },
        { atMs: 1000, fault: { kind: 'restart', node: 2 } },
      ],
      clients: workload(3, 30, 60),
    };
    const judged = await judge(scenario, { ...snapshotting, traceLines: true });
    expect(judged.violations, describeViolations(judged.violations)).toEqual([]);
    const trace = judged.sim.trace.join('\n');
    expect(trace).toMatch(/n3 does not start: its open of \/var\/lib\/rift\/n3\/\S+ failed \(EROFS\)/);
    expect(judged.sim.stats.ioFailureStops).toBe(1);
  });

  // Found by this fault (seed 2 of the mix below: run 7; kept as data, hand-shrunk to its three faults): n1's fsync
  // of its log failed (EROFS) and it stopped; Linux keeps the failed pages readable in the page cache, never on the
  // disk, so n1 restarted without a power failure on a log whose last frame only the cache held, appended after
  // it, and after a power failure refused to start on the hole of zeros where it had been. The storage now cuts a
  // failed frame off before it stops (node/storage/file-storage.ts writeAt).
  it('a node restarted after a failed fsync, then a power failure: it starts again (kept scenario)', async () => {
    const scenario = JSON.parse(readFileSync(join(here, 'testdata', 'restart-after-failed-fsync.json'), 'utf8')) as Scenario;
    const judged = await judge(scenario, { ...heavyOptions, traceLines: true });
    expect(judged.violations, describeViolations(judged.violations)).toEqual([]);
    const trace = judged.sim.trace.join('\n');
    expect(trace).toMatch(/n1 stops on the failed fsync of \/var\/lib\/rift\/n1\/raft\.log \(EROFS\)/);
    expect(trace).toMatch(/n1 exits \(its page cache stays\)/);
    expect(trace).toMatch(/n1 crashes \(unsynced writes: /);
    expect(trace).not.toMatch(/refuses to start/);
  });

  it(`a campaign of 150 runs of io_error faults among crashes (3 nodes, snapshots every 8; fresh seed ${fresh}) finds no violation`, async () => {
    const result = await campaign(heavyOptions, { numRuns: 150, seed: fresh, maxShrinks: 20, shape: diskErrorHeavy });
    expect(result.failed, `seed ${fresh} path ${result.path}: ${result.report.slice(0, 2000)}`).toBe(false);
    // The faults fire (about one run in three: a failure armed late may find no call of its kind before the heal).
    expect(result.totals.ioFailures).toBeGreaterThan(10);
    expect(result.totals.ioFailureStops).toBe(result.totals.ioFailures);
  }, 120_000);
});

describe('a node that carries on after a failed call is found', () => {
  // Measured (seeds 1-10, this mix): found after 11, 7, 6, 15, 10, 30, 21, 15, 27, 23 runs, about 1 run in 17:
  // P(none in 150) < 0.001. The violation: a node that restarts refuses its own log (a write it was told was made
  // left a hole of zeros) or lost acknowledged entries (an fsync it was told was done dropped them).
  it(`diskErrorsSilent: a violation within 150 runs (fresh seed ${fresh}), and it replays`, async () => {
    const options: SimOptions = { ...heavyOptions, diskErrorsSilent: true };
    const found = await campaign(options, { numRuns: 150, seed: fresh, maxShrinks: 20, shape: diskErrorHeavy });
    expect(found.failed, `no violation within 150 runs (seed ${fresh})`).toBe(true);
    const replay = await campaign(options, { numRuns: 1, seed: found.seed, path: found.path!, maxShrinks: 0, shape: diskErrorHeavy });
    expect(replay.failed, `replay of seed ${found.seed} path ${found.path} passed`).toBe(true);
    process.stdout.write(
      `disk errors ignored: found after ${found.runsToFailure} run(s) (seed ${fresh}); ${found.report.split('\n')[0]}\n`,
    );
  }, 120_000);
});

describe(`without --disk-errors nothing changes (seed ${fresh})`, () => {
  it('the default mix never draws io_error and draws the same scenarios with the option absent or false', () => {
    const sample = (options: SimOptions): Scenario[] => fc.sample(scenarioArb(options), { seed: fresh, numRuns: 200 });
    const absent = sample(defaultSimOptions);
    expect(absent.flatMap((s) => s.faults).some((f) => f.fault.kind === 'io_error')).toBe(false);
    expect(sample({ ...defaultSimOptions, diskErrors: false })).toEqual(absent);
    const drawn = sample({ ...defaultSimOptions, diskErrors: true })
      .flatMap((s) => s.faults)
      .filter((f) => f.fault.kind === 'io_error');
    expect(drawn.length, 'with --disk-errors the same seed draws io_error faults').toBeGreaterThan(0);
    const ops = new Set(drawn.map((f) => (f.fault as { op: IoErrorOp }).op));
    expect([...ops].sort()).toEqual([...ioErrorOps].sort());
  });
});
