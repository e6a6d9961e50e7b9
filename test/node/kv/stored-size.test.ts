// The stored form's sizes, counted without building it (node/kv/stored-size.ts). Random: the seed is in the test
// names; replay with FC_SEED=<seed>.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonStringBytes, pairBytes, resultBytes, sessionBytes } from '../../../node/kv/stored-size.js';
import { INVALID_CODES, type KvResult } from '../../../node/protocol.js';

const seed = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : Date.now() % 2 ** 31;

/** Strings with every kind of character JSON writes differently: controls, quotes, backslashes, wide, astral, lone surrogates. */
const text = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({
    unit: fc.constantFrom(
      '\u0000',
      '\u0001',
      '\b',
      '\t',
      '\n',
      '\f',
      '\r',
      '"',
      '\\',
      'a',
      'é',
      '\u2028',
      '\ud83d',
      '\ude00',
      '\ud83d\ude00',
    ),
    maxLength: 40,
  }),
);

describe('stored sizes', () => {
  it(`jsonStringBytes is exactly the UTF-8 bytes of JSON.stringify (seed ${seed})`, () => {
    fc.assert(
      fc.property(text, (s) => {
        expect(jsonStringBytes(s)).toBe(Buffer.byteLength(JSON.stringify(s), 'utf8'));
      }),
      { seed, numRuns: 2000 },
    );
  });

  it(`pairs, results and session records are counted at least at their JSON length (seed ${seed})`, () => {
    const result: fc.Arbitrary<KvResult> = fc.oneof(
      fc.record({ status: fc.constant('ok' as const), value: fc.option(text) }),
      fc.record({ status: fc.constant('cas_mismatch' as const), actual: fc.option(text) }),
      fc.record({ status: fc.constant('invalid' as const), code: fc.constantFrom(...INVALID_CODES), message: text }),
    );
    fc.assert(
      fc.property(text, text, result, (key, value, r) => {
        const bytes = (v: unknown): number => Buffer.byteLength(JSON.stringify(v), 'utf8');
        expect(pairBytes(key, value)).toBe(bytes([key, value]) + 1);
        expect(resultBytes(r)).toBeGreaterThanOrEqual(bytes(r));
        expect(resultBytes(r)).toBeLessThanOrEqual(bytes(r) + 48);
        const session = {
          clientId: key,
          instance: Number.MAX_SAFE_INTEGER,
          lastSeq: Number.MAX_SAFE_INTEGER,
          digest: 'f'.repeat(32),
          result: r,
          lastUsedIndex: Number.MAX_SAFE_INTEGER,
        };
        expect(sessionBytes(key, r)).toBeGreaterThanOrEqual(bytes(session) + 1);
      }),
      { seed, numRuns: 1000 },
    );
  });
});
