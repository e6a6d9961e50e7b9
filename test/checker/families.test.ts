// The hard history families of issue 17 (bench/hard-histories.ts), scaled
// down to stay quick here (`npm run bench -- checker` runs them at full
// size): every one must be decided (valid or invalid, never unknown) with
// the expected verdict, within the 10 s, and its certificate must
// pass the independent verifier. The seed is printed; replay with
// RIFT_SEED=<seed>.
import { describe, expect, test } from 'vitest';
import { generateFamily, hardFamilies } from '../../bench/hard-histories.js';
import { checkHistory } from '../../checker/index.js';
import { hasLinearization, opsByKey, verifyLinearization, weakenedSubHistory } from '../../checker/verify.js';

const SEED = process.env['RIFT_SEED'] !== undefined ? Number(process.env['RIFT_SEED']) : Date.now() % 100_000;
console.log(`families.test.ts seed ${SEED} (replay with RIFT_SEED=${SEED})`);

describe('hard families are decided', () => {
  for (const c of hardFamilies(SEED, 0.2)) {
    test(`${c.name} (${c.family}): ${c.expected}`, () => {
      const history = generateFamily(c.params);
      const t0 = performance.now();
      const r = checkHistory(history, { timeLimitMs: 10_000, witness: true });
      const ms = performance.now() - t0;
      expect(r.valid).toBe(c.expected === 'valid');
      expect(ms).toBeLessThan(10_000);
      const [key, kr] = Object.entries(r.keys)[0]!;
      const ops = opsByKey(history).get(key)!;
      if (kr.valid === true) {
        expect(verifyLinearization(c.params.model, ops, kr.linearization!)).toBeNull();
      } else {
        const sub = weakenedSubHistory(
          c.params.model,
          ops,
          kr.minimal!.ops.map((o) => ({
            index: o.op.invoke.index,
            completion: o.completionDropped ? ('dropped' as const) : ('kept' as const),
          })),
        );
        expect(typeof sub).not.toBe('string');
        expect(hasLinearization(c.params.model, sub as Exclude<typeof sub, string>)).toBe(false);
      }
    }, 30_000);
  }
});

// A heavy-tail instance found by this file's random seed in a CI run (stop 24): the cas register family
// "writes late, reads early, 2% info, 5 values" at seed 72392 (1,000 ops, 50 processes) ends `unknown`
// (time limit at 10 s, 3.1M cache entries; with 40 s, the memory cap after 4.7 s), while 16 other seeds
// of the same family take 22-103 ms. A known gap of issue 17, kept visible: `test.fails` passes while the
// checker cannot decide it and turns red once it can (then make it a plain test).
describe('known gaps', () => {
  test.fails(
    'register-late-50p-5-values at seed 72392 is decided within 10 s (issue 17: not yet)',
    () => {
      const c = hardFamilies(72392, 0.2).find((x) => x.name === 'register-late-50p-5-values')!;
      const r = checkHistory(generateFamily(c.params), { timeLimitMs: 10_000 });
      expect(r.valid).toBe(true);
    },
    30_000,
  );
});
