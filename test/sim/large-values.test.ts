/**
 * Simulated runs whose clients write values padded to the value limit
 * (checker/values.ts largeValues): entries near the datagram limit, which no
 * run made before (a cas of two padded values wedged a real leader's writes;
 * node/kv/limits.ts checkStoredCommand).
 *
 * Seeds: fixed, or RIFT_SIM_SEED for the campaign; replay a failure with
 * `npm run sim -- --seed S --path P --large-values`.
 */
import { describe, expect, it } from 'vitest';
import { campaign, describeViolations, judge } from '../../sim/property.js';
import { defaultSimOptions, type Scenario } from '../../sim/scenario.js';

const override = process.env['RIFT_SIM_SEED'] === undefined ? null : Number(process.env['RIFT_SIM_SEED']);

describe('runs with large values', () => {
  it('a cas whose stored form is too large for one entry is refused at once, and the writes after it commit', async () => {
    // Values 1 and 6 are padded with U+0001 (values.ts PADS): the cas k0 1 -> 6 is stored as about 98 KB.
    const scenario: Scenario = {
      seed: 3,
      faults: [],
      clients: [
        [
          { f: 'write', key: 0, thinkMs: 0 },
          { f: 'read', key: 0, thinkMs: 5 },
          { f: 'write', key: 1, thinkMs: 5 },
          { f: 'write', key: 1, thinkMs: 5 },
          { f: 'write', key: 1, thinkMs: 5 },
          { f: 'write', key: 1, thinkMs: 5 },
          { f: 'cas', key: 0, thinkMs: 5 },
          { f: 'write', key: 2, thinkMs: 5 },
          { f: 'read', key: 2, thinkMs: 5 },
        ],
      ],
    };
    const judged = await judge(scenario, { ...defaultSimOptions, largeValues: true });
    expect(judged.violations, describeViolations(judged.violations)).toEqual([]);
    const completions = judged.sim.history.filter((op) => op.type !== 'invoke' && op.process === 0);
    const cas = completions.find((op) => op.f === 'cas');
    expect(cas, JSON.stringify(completions)).toMatchObject({ type: 'fail', value: [1, 6] });
    expect(String(cas?.error)).toMatch(/value_too_large: the command's stored form is \d+ bytes/);
    expect(completions.filter((op) => op.f === 'write').every((op) => op.type === 'ok')).toBe(true);
    expect(completions.find((op) => op.f === 'read' && op.key === 'k2')).toMatchObject({ type: 'ok', value: 7 });
  });

  it(`the correct node with large values: no violation in 12 runs`, async () => {
    const seed = override ?? 74002;
    const result = await campaign({ ...defaultSimOptions, largeValues: true }, { numRuns: 12, seed, maxShrinks: 8 });
    expect(result.failed, `replay: npm run sim -- --seed ${seed} --path ${result.path} --large-values`).toBe(false);
  });
});
