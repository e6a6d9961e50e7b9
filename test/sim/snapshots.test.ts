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
import { describe, expect, it } from 'vitest';
import { noUnsafeFlags } from '../../node/unsafe-flags.js';
import { campaign } from '../../sim/property.js';
import { defaultSimOptions } from '../../sim/scenario.js';
import { unsafePresets } from '../../sim/unsafe.js';

const seed = Number(process.env['RIFT_SIM_SEED'] ?? 20261205);

describe('the simulator with snapshots every few entries', () => {
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
});
