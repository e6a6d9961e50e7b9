// Differential test of the fast paths (checker/fast/, the reductions in
// checker/search/wgl.ts): on thousands of small generated histories, the
// checker with them must give exactly the verdict of the plain WGL search
// (itself checked against a brute-force reference in property.test.ts). Any
// disagreement is a bug; fast-check shrinks it and prints the seed and path.
// Every verdict is also certified: a valid key's linearization and an
// invalid key's minimal failing sub-history are confirmed by the independent
// verifier (checker/verify.ts).
//
// Replay: RIFT_SEED=<seed printed below> npx vitest run test/checker/differential.test.ts
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { checkHistory } from '../../checker/index.js';
import { hasLinearization, opsByKey, verifyLinearization, weakenedSubHistory } from '../../checker/verify.js';
import { actionArb, simulate, type Shape } from './simulate.js';
import { generateFamily, hardFamilies, rng } from '../../bench/hard-histories.js';

const SEED = process.env['RIFT_SEED'] !== undefined ? Number(process.env['RIFT_SEED']) : Date.now() % 2 ** 31;
/** RIFT_DIFF_SCALE=10 runs ten times as many histories, with up to 16 ops each (a longer campaign). */
const SCALE = Math.max(1, Number(process.env['RIFT_DIFF_SCALE'] ?? 1));
console.log(`differential.test.ts seed ${SEED} (replay with RIFT_SEED=${SEED}), scale ${SCALE}`);

const SHAPES: { name: string; shape: Shape; runs: number }[] = [
  { name: 'register, unique values', shape: { model: 'cas-register', values: 0, casShare: 0.3, keys: 1 }, runs: 700 },
  { name: 'register, 2 values, cas-heavy', shape: { model: 'cas-register', values: 2, casShare: 0.7, keys: 1 }, runs: 700 },
  { name: 'register, 3 values, 2 keys', shape: { model: 'cas-register', values: 3, casShare: 0.4, keys: 2 }, runs: 500 },
  { name: 'kv, unique tokens', shape: { model: 'kv', values: 0, casShare: 0, keys: 1 }, runs: 600 },
  { name: 'kv, 2 tokens', shape: { model: 'kv', values: 2, casShare: 0, keys: 1 }, runs: 600 },
  { name: 'kv, puts and appends', shape: { model: 'kv', values: 3, casShare: 0.3, keys: 1 }, runs: 500 },
];

describe('fast paths agree with the plain search (and certify their verdicts)', () => {
  for (const { name, shape, runs } of SHAPES) {
    test(`${name}: ${runs * SCALE} histories`, () => {
      const tally = { valid: 0, invalid: 0, refuted: 0, unobservedDropped: 0, minimalOps: 0 };
      fc.assert(
        fc.property(
          fc.integer({ min: 2, max: 5 }),
          fc.array(actionArb, { minLength: 10, maxLength: SCALE > 1 ? 90 : 60 }),
          (processes, actions) => {
            const { history } = simulate(shape, actions, processes, SCALE > 1 ? 16 : 12);
            const plain = checkHistory(history, { model: shape.model, allKeys: true, fastPaths: false, minimizeMs: 0 });
            const fast = checkHistory(history, { model: shape.model, allKeys: true, witness: true, minimizeMs: 1000, plainFirst: false });
            expect(plain.valid).not.toBe('unknown');
            expect(fast.valid).toBe(plain.valid);
            const byKey = opsByKey(history);
            for (const [k, pr] of Object.entries(plain.keys)) {
              const fr = fast.keys[k]!;
              expect(fr.valid, `key ${k}`).toBe(pr.valid);
              if (fr.unobservedInfoOps !== undefined) tally.unobservedDropped++;
              if (fr.valid === true) {
                tally.valid++;
                expect(verifyLinearization(shape.model, byKey.get(k)!, fr.linearization!)).toBeNull();
              } else {
                tally.invalid++;
                if (fr.refutation !== undefined) tally.refuted++;
                expect(fr.minimal?.oneMinimal).toBe(true);
                const sub = weakenedSubHistory(
                  shape.model,
                  byKey.get(k)!,
                  fr.minimal!.ops.map((o) => ({
                    index: o.op.invoke.index,
                    completion: o.completionDropped ? ('dropped' as const) : ('kept' as const),
                  })),
                );
                expect(typeof sub).not.toBe('string');
                expect(hasLinearization(shape.model, sub as Exclude<typeof sub, string>)).toBe(false);
                tally.minimalOps += fr.minimal!.ops.length;
                expect(fr.counterexample).toBeDefined();
              }
            }
          },
        ),
        { numRuns: runs * SCALE, seed: SEED },
      );
      console.log(`${name}: ${JSON.stringify(tally)}`);
      // Both verdicts, and the fast paths themselves, must have been exercised.
      expect(tally.valid).toBeGreaterThan((runs * SCALE) / 10);
      expect(tally.invalid).toBeGreaterThan((runs * SCALE) / 20);
    });
  }
});

// The same comparison on histories shaped like issue 17's hard families
// (bench/hard-histories.ts: writes late and reads early, info storms, cas on
// few values, appends), cut small enough for the plain search, with one read
// corrupted in every other history so that both verdicts occur.
describe('fast paths agree with the plain search on family-shaped histories', () => {
  test(`${300 * SCALE} histories`, () => {
    const rand = rng(SEED);
    let compared = 0;
    let invalid = 0;
    let skipped = 0;
    for (let i = 0; i < 300 * SCALE; i++) {
      const cases = hardFamilies(SEED + i, 0.01);
      const c = cases[i % cases.length]!;
      let history;
      try {
        history = generateFamily({ ...c.params, fault: 'none', ops: 14 + (i % 7), processes: 3 + (i % 3) });
      } catch {
        continue;
      }
      if (i % 2 === 1) {
        // Corrupt one ok read: another value seen in the history (often stale), or one nobody wrote.
        const reads = history.filter((o) => o.type === 'ok' && (o.f === 'read' || o.f === 'get'));
        const seen = history.filter((o) => o.type === 'ok' && o.value !== null).map((o) => o.value);
        if (reads.length > 0) {
          const r = reads[Math.floor(rand() * reads.length)]!;
          r.value = rand() < 0.8 && seen.length > 0 ? seen[Math.floor(rand() * seen.length)] : c.params.model === 'kv' ? 'zz' : 987654;
          if (c.params.model === 'kv' && typeof r.value !== 'string') r.value = 'zz';
          if (c.params.model === 'cas-register' && Array.isArray(r.value)) r.value = r.value[1];
        }
      }
      const plain = checkHistory(history, { fastPaths: false, minimizeMs: 0, timeLimitMs: 2000 });
      if (plain.valid === 'unknown') {
        skipped++;
        continue;
      }
      const fast = checkHistory(history, { plainFirst: false, minimizeMs: 0 });
      expect(fast.valid, `${c.name} #${i}: ${JSON.stringify(history)}`).toBe(plain.valid);
      compared++;
      if (plain.valid === false) invalid++;
    }
    console.log(`family-shaped: ${compared} compared (${invalid} invalid), ${skipped} skipped (plain search undecided in 2 s)`);
    expect(compared).toBeGreaterThan(200 * SCALE);
    expect(invalid).toBeGreaterThan(20 * SCALE);
  }, 300_000);
});
