/**
 * The change_race fault (sim/change-race.ts): Ongaro's 2015 bug in
 * single-server changes lined up on the simulated cluster. On the correct
 * core every early removal is refused (the new leader has no committed entry
 * of its term), so no early removal commits and nothing is violated; the
 * counts make the test fail if the choreography stopped reaching the
 * refusal (a test of nothing). With `--unsafe-conf-change-before-term-commit`
 * (test/sim/unsafe.test.ts finds it on fresh seeds) the removal commits and
 * Figure 3 sees two histories. Fresh seeds, printed; RIFT_SIM_SEED replays.
 */
import { describe, expect, it } from 'vitest';
import { campaign, describeViolations, judge } from '../../sim/property.js';
import { correctUnder, unsafePresets } from '../../sim/unsafe.js';

const fromEnv = process.env['RIFT_SIM_SEED'];
const seed = fromEnv === undefined ? (Date.now() ^ (process.pid << 8)) >>> 0 : Number(fromEnv) >>> 0;
process.stdout.write(`change-race: seed ${seed} (replay: RIFT_SIM_SEED=${seed} npx vitest run test/sim/change-race.test.ts)\n`);

const preset = unsafePresets['conf-change-before-term-commit']!;

describe('the change_race fault in the simulator', () => {
  it('the correct core refuses every early removal: none commits, no violation', { timeout: 120_000 }, async () => {
    const mix = correctUnder(preset);
    if ('refused' in mix) throw new Error(mix.refused);
    const result = await campaign(mix.options, { numRuns: 60, seed, maxShrinks: 0, shape: preset.shape });
    if (result.failed) throw new Error(`seed ${result.seed} path ${result.path}: ${result.report}`);
    expect(result.totals.changeRaceRefusals, `seed ${seed}`).toBeGreaterThan(0);
    expect(result.totals.changeRaceEarlyRemovals, `seed ${seed}`).toBe(0);
  });

  it('with the flag an early removal commits, and Figure 3 sees the two histories', { timeout: 120_000 }, async () => {
    const result = await campaign(preset.options, { numRuns: 40, seed, maxShrinks: 0, shape: preset.shape });
    expect(result.failed, `no violation in 40 runs, seed ${seed}`).toBe(true);
    const judged = await judge(result.counterexample!, preset.options);
    expect(judged.sim.stats.changeRaceEarlyRemovals, `seed ${seed} path ${result.path}`).toBeGreaterThan(0);
    expect(describeViolations(judged.violations), `seed ${seed} path ${result.path}`).toMatch(
      /leader completeness|state machine safety|log matching|commit quorum/,
    );
  });
});
