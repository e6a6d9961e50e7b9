/**
 * The divergent_install fault (sim/divergent-install.ts): a follower whose
 * log holds a minority term's entries past the index of an older-term
 * snapshot, sent that snapshot by a later leader. On the correct core the
 * follower discards its log (§7) and nothing is violated; the counts make
 * the test fail if the choreography stopped reaching the install (a test of
 * nothing). With `--unsafe-keep-log-on-install` the follower keeps its tail
 * and claims it: its answer to the snapshot vouches for more than the
 * snapshot (checker/ack-bound.ts, seen first), and with that check off the
 * leader commits on two copies of five (the commit-quorum check); before this fault no simulator campaign found that
 * flag (its old mix: 300 runs, 198 installs, none onto a log with entries to
 * keep; sim/README.md "Detection"). Fresh seeds, printed; RIFT_SIM_SEED replays.
 */
import { describe, expect, it } from 'vitest';
import { campaign, describeViolations, judge } from '../../sim/property.js';
import { correctUnder, unsafePresets } from '../../sim/unsafe.js';

const fromEnv = process.env['RIFT_SIM_SEED'];
const seed = fromEnv === undefined ? (Date.now() ^ (process.pid << 8)) >>> 0 : Number(fromEnv) >>> 0;
process.stdout.write(`divergent-install: seed ${seed} (replay: RIFT_SIM_SEED=${seed} npx vitest run test/sim/divergent-install.test.ts)\n`);

const preset = unsafePresets['keep-log-on-install']!;

describe('the divergent_install fault in the simulator', () => {
  it('the correct core discards its log on every lined-up install: no violation', { timeout: 120_000 }, async () => {
    const mix = correctUnder(preset);
    if ('refused' in mix) throw new Error(mix.refused);
    // 2,000 runs on seed 77 (2026-12-07): 310 snapshots below the tail's term, 305 lined up, no violation.
    const result = await campaign(mix.options, { numRuns: 60, seed, maxShrinks: 0, shape: preset.shape });
    if (result.failed) throw new Error(`seed ${result.seed} path ${result.path}: ${result.report}`);
    expect(result.totals.divergentOlderSnapshots, `seed ${seed}`).toBeGreaterThan(0);
    expect(result.totals.divergentSplits, `seed ${seed}`).toBeGreaterThan(0);
  });

  it('with the flag the follower keeps its tail and claims it: its answer to the snapshot is unfounded', { timeout: 120_000 }, async () => {
    const result = await campaign(preset.options, { numRuns: 80, seed, maxShrinks: 0, shape: preset.shape });
    expect(result.failed, `no violation in 80 runs, seed ${seed}`).toBe(true);
    const judged = await judge(result.counterexample!, preset.options);
    expect(describeViolations(judged.violations), `seed ${seed} path ${result.path}`).toMatch(
      /unfounded acknowledgement: n\d answered its InstallSnapshot/,
    );
  });

  it('with the flag, and that check off to see the harm: the leader commits on two copies of five', { timeout: 120_000 }, async () => {
    // Runs to detection on seeds 101-110 (2026-12-07): 1, 15, 1, 2, 4, 11, 3, 1, 5, 2.
    const options = { ...preset.options, checkAcknowledgements: false };
    const result = await campaign(options, { numRuns: 80, seed, maxShrinks: 0, shape: preset.shape });
    expect(result.failed, `no violation in 80 runs, seed ${seed}`).toBe(true);
    const judged = await judge(result.counterexample!, options);
    expect(judged.sim.stats.divergentSplits, `seed ${seed} path ${result.path}`).toBeGreaterThan(0);
    expect(describeViolations(judged.violations), `seed ${seed} path ${result.path}`).toMatch(
      /commit quorum|uncommitted state in a snapshot/,
    );
  });
});
