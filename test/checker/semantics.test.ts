// One hand-written history per semantic rule (ok = happened once between
// invoke and completion; fail = never happened; info / no completion = maybe,
// at any point after the invoke), for both models.
import { describe, expect, test } from 'vitest';
import { checkHistory, formatResult } from '../../checker/index.js';
import { opsByKey, verifyLinearization } from '../../checker/verify.js';
import { hist } from './helpers.js';

describe('cas-register', () => {
  test('sequential write then read is valid', () => {
    const r = checkHistory(
      hist([
        [0, 'invoke', 'write', 1],
        [0, 'ok', 'write', 1],
        [1, 'invoke', 'read', null],
        [1, 'ok', 'read', 1],
      ]),
    );
    expect(r.valid).toBe(true);
    expect(r.model).toBe('cas-register');
    expect(r.keyCount).toBe(1);
    expect(Object.keys(r.keys)).toEqual(['']);
  });

  test('stale read after a completed write is invalid, with a counterexample', () => {
    const r = checkHistory(
      hist([
        [0, 'invoke', 'write', 1],
        [0, 'ok', 'write', 1],
        [0, 'invoke', 'write', 2],
        [0, 'ok', 'write', 2],
        [1, 'invoke', 'read', null],
        [1, 'ok', 'read', 1],
      ]),
    );
    expect(r.valid).toBe(false);
    expect(r.failures).toEqual(['']);
    const ce = r.keys['']!.counterexample!;
    expect(ce.op.invoke.line).toBe(5);
    expect(ce.op.completion?.line).toBe(6);
    expect(ce.linearized.map((s) => s.stateAfter)).toEqual([1, 2]);
    expect(ce.stateBefore).toBe(2);
    expect(ce.candidates).toHaveLength(1);
    expect(ce.candidates[0]!.reason).toContain('read 1 but the register holds 2');
    expect(formatResult(r)).toContain('INVALID');
  });

  test('read concurrent with a write may see either value', () => {
    for (const seen of [null, 1]) {
      const r = checkHistory(
        hist([
          [0, 'invoke', 'write', 1],
          [1, 'invoke', 'read', null],
          [1, 'ok', 'read', seen],
          [0, 'ok', 'write', 1],
        ]),
      );
      expect(r.valid).toBe(true);
    }
  });

  test('read of a never-written value is invalid', () => {
    const r = checkHistory(
      hist([
        [0, 'invoke', 'write', 1],
        [1, 'invoke', 'read', null],
        [1, 'ok', 'read', 7],
        [0, 'ok', 'write', 1],
      ]),
    );
    expect(r.valid).toBe(false);
  });

  test('initial value is null', () => {
    expect(
      checkHistory(
        hist([
          [0, 'invoke', 'read', null],
          [0, 'ok', 'read', null],
        ]),
      ).valid,
    ).toBe(true);
    expect(
      checkHistory(
        hist([
          [0, 'invoke', 'read', null],
          [0, 'ok', 'read', 0],
        ]),
      ).valid,
    ).toBe(false);
  });

  test('an info write may be seen later, even after its process crashed', () => {
    const r = checkHistory(
      hist([
        [0, 'invoke', 'write', 5],
        [0, 'info', 'write', 5],
        [1, 'invoke', 'read', null],
        [1, 'ok', 'read', 5],
      ]),
    );
    expect(r.valid).toBe(true);
  });

  test('an info write may also never happen', () => {
    const r = checkHistory(
      hist([
        [0, 'invoke', 'write', 5],
        [0, 'info', 'write', 5],
        [1, 'invoke', 'read', null],
        [1, 'ok', 'read', null],
      ]),
    );
    expect(r.valid).toBe(true);
  });

  test('an info write cannot take effect before its invoke', () => {
    const r = checkHistory(
      hist([
        [1, 'invoke', 'read', null],
        [1, 'ok', 'read', 5],
        [0, 'invoke', 'write', 5],
        [0, 'info', 'write', 5],
      ]),
    );
    expect(r.valid).toBe(false);
  });

  test('an invoke with no completion behaves as info', () => {
    expect(
      checkHistory(
        hist([
          [0, 'invoke', 'write', 3],
          [1, 'invoke', 'read', null],
          [1, 'ok', 'read', 3],
        ]),
      ).valid,
    ).toBe(true);
    expect(
      checkHistory(
        hist([
          [0, 'invoke', 'write', 3],
          [1, 'invoke', 'read', null],
          [1, 'ok', 'read', 4],
        ]),
      ).valid,
    ).toBe(false);
  });

  test('a failed op is never visible', () => {
    const r = checkHistory(
      hist([
        [0, 'invoke', 'write', 9],
        [0, 'fail', 'write', 9],
        [1, 'invoke', 'read', null],
        [1, 'ok', 'read', 9],
      ]),
    );
    expect(r.valid).toBe(false);
    expect(r.keys['']!.opCount).toBe(1); // the failed write never reaches the search
  });

  test('cas chains apply in order', () => {
    const ok = hist([
      [0, 'invoke', 'write', 1],
      [0, 'ok', 'write', 1],
      [0, 'invoke', 'cas', [1, 2]],
      [0, 'ok', 'cas', [1, 2]],
      [1, 'invoke', 'cas', [2, 3]],
      [1, 'ok', 'cas', [2, 3]],
      [2, 'invoke', 'read', null],
      [2, 'ok', 'read', 3],
    ]);
    expect(checkHistory(ok).valid).toBe(true);
    const broken = hist([
      [0, 'invoke', 'write', 1],
      [0, 'ok', 'write', 1],
      [1, 'invoke', 'cas', [2, 3]],
      [1, 'ok', 'cas', [2, 3]],
    ]);
    const r = checkHistory(broken);
    expect(r.valid).toBe(false);
    expect(r.keys['']!.counterexample!.candidates[0]!.reason).toContain('cas expected 2 but the register holds 1');
  });

  test('concurrent cas ops can be ordered to succeed', () => {
    const r = checkHistory(
      hist([
        [0, 'invoke', 'cas', [2, 3]],
        [1, 'invoke', 'cas', [null, 2]],
        [0, 'ok', 'cas', [2, 3]],
        [1, 'ok', 'cas', [null, 2]],
        [2, 'invoke', 'read', null],
        [2, 'ok', 'read', 3],
      ]),
    );
    expect(r.valid).toBe(true);
  });

  test('an info cas takes effect only if it matched', () => {
    const matched = hist([
      [0, 'invoke', 'write', 1],
      [0, 'ok', 'write', 1],
      [1, 'invoke', 'cas', [1, 4]],
      [1, 'info', 'cas', [1, 4]],
      [2, 'invoke', 'read', null],
      [2, 'ok', 'read', 4],
    ]);
    expect(checkHistory(matched).valid).toBe(true);
    const unmatched = hist([
      [0, 'invoke', 'write', 1],
      [0, 'ok', 'write', 1],
      [1, 'invoke', 'cas', [2, 4]],
      [1, 'info', 'cas', [2, 4]],
      [2, 'invoke', 'read', null],
      [2, 'ok', 'read', 4],
    ]);
    expect(checkHistory(unmatched).valid).toBe(false);
  });

  test('info reads are dropped, fail reads too', () => {
    const r = checkHistory(
      hist([
        [0, 'invoke', 'read', null],
        [0, 'info', 'read', null],
        [1, 'invoke', 'read', null],
        [1, 'fail', 'read', null],
      ]),
    );
    expect(r.valid).toBe(true);
    expect(r.keys['']!.opCount).toBe(0);
    expect(r.clientOpCount).toBe(2);
  });

  test('values compare structurally', () => {
    const r = checkHistory(
      hist([
        [0, 'invoke', 'write', { a: [1, 2] }],
        [0, 'ok', 'write', { a: [1, 2] }],
        [1, 'invoke', 'read', null],
        [1, 'ok', 'read', { a: [1, 2] }],
      ]),
    );
    expect(r.valid).toBe(true);
    expect(
      checkHistory(
        hist([
          [0, 'invoke', 'write', '1'],
          [0, 'ok', 'write', '1'],
          [1, 'invoke', 'read', null],
          [1, 'ok', 'read', 1],
        ]),
      ).valid,
    ).toBe(false);
  });

  test("an object's members may come in any order: JSON objects and Clojure maps are unordered", () => {
    // Compared by plain JSON.stringify, the read of {"b":..,"a":..} after the write of {"a":..,"b":..} was not
    // linearizable (found by test/checker/metamorphic.test.ts). Nested objects, and cas, alike.
    const rows = hist([
      [0, 'invoke', 'write', { a: 1, b: { c: [1, { d: 2, e: 3 }], f: null } }],
      [0, 'ok', 'write', { a: 1, b: { c: [1, { d: 2, e: 3 }], f: null } }],
      [1, 'invoke', 'read', null],
      [1, 'ok', 'read', { b: { f: null, c: [1, { e: 3, d: 2 }] }, a: 1 }],
      [
        1,
        'invoke',
        'cas',
        [
          { b: { f: null, c: [1, { e: 3, d: 2 }] }, a: 1 },
          { x: 1, y: 2 },
        ],
      ],
      [
        1,
        'ok',
        'cas',
        [
          { b: { f: null, c: [1, { e: 3, d: 2 }] }, a: 1 },
          { x: 1, y: 2 },
        ],
      ],
      [0, 'invoke', 'read', null],
      [0, 'ok', 'read', { y: 2, x: 1 }],
    ]);
    const r = checkHistory(rows, { witness: true });
    expect(r.valid).toBe(true);
    // The independent verifier agrees with the certificate.
    expect(verifyLinearization('cas-register', opsByKey(rows).get('')!, r.keys['']!.linearization!)).toBeNull();
    // Arrays stay ordered, and members stay members: a different value is still different.
    for (const stale of [{ a: 2, b: 1 }, [1, 2], { a: 1 }]) {
      const rows = hist([
        [0, 'invoke', 'write', { a: 1, b: 2 }],
        [0, 'ok', 'write', { a: 1, b: 2 }],
        [1, 'invoke', 'read', null],
        [1, 'ok', 'read', stale],
      ]);
      expect(checkHistory(rows).valid, JSON.stringify(stale)).toBe(false);
    }
    expect(
      checkHistory(
        hist([
          [0, 'invoke', 'write', [1, 2]],
          [0, 'ok', 'write', [1, 2]],
          [1, 'invoke', 'read', null],
          [1, 'ok', 'read', [2, 1]],
        ]),
      ).valid,
    ).toBe(false);
  });

  test('non-client processes are ignored', () => {
    const r = checkHistory(
      hist([
        ['nemesis', 'info', 'start', null],
        [0, 'invoke', 'write', 1],
        ['nemesis', 'info', 'start', 'partitioned'],
        [0, 'ok', 'write', 1],
      ]),
    );
    expect(r.valid).toBe(true);
    expect(r.opCount).toBe(4);
    expect(r.clientOpCount).toBe(1);
  });
});

describe('kv and keys', () => {
  test('append order must match the gets', () => {
    const seq = (seen: string) =>
      hist([
        [0, 'invoke', 'append', 'a', 'k'],
        [0, 'ok', 'append', 'a', 'k'],
        [1, 'invoke', 'append', 'b', 'k'],
        [1, 'ok', 'append', 'b', 'k'],
        [2, 'invoke', 'get', null, 'k'],
        [2, 'ok', 'get', seen, 'k'],
      ]);
    expect(checkHistory(seq('ab')).valid).toBe(true);
    expect(checkHistory(seq('ba')).valid).toBe(false);
    expect(checkHistory(seq('a')).valid).toBe(false);
  });

  test('concurrent appends may land in either order, but only one order per history', () => {
    const h = (g1: string, g2: string) =>
      hist([
        [0, 'invoke', 'append', 'a', 'k'],
        [1, 'invoke', 'append', 'b', 'k'],
        [0, 'ok', 'append', 'a', 'k'],
        [1, 'ok', 'append', 'b', 'k'],
        [2, 'invoke', 'get', null, 'k'],
        [2, 'ok', 'get', g1, 'k'],
        [2, 'invoke', 'get', null, 'k'],
        [2, 'ok', 'get', g2, 'k'],
      ]);
    expect(checkHistory(h('ba', 'ba')).valid).toBe(true);
    expect(checkHistory(h('ab', 'ab')).valid).toBe(true);
    expect(checkHistory(h('ab', 'ba')).valid).toBe(false);
  });

  test('put overwrites; get of an absent key is "" (null allowed)', () => {
    const r = checkHistory(
      hist([
        [0, 'invoke', 'get', null, 'x'],
        [0, 'ok', 'get', null, 'x'],
        [0, 'invoke', 'append', 'a', 'x'],
        [0, 'ok', 'append', 'a', 'x'],
        [0, 'invoke', 'put', 'z', 'x'],
        [0, 'ok', 'put', 'z', 'x'],
        [1, 'invoke', 'get', null, 'x'],
        [1, 'ok', 'get', 'z', 'x'],
      ]),
    );
    expect(r.valid).toBe(true);
    expect(r.model).toBe('kv');
  });

  test('keys are checked independently and the verdict is their conjunction', () => {
    const rows = hist([
      [0, 'invoke', 'put', 'a', 'k1'],
      [0, 'ok', 'put', 'a', 'k1'],
      [1, 'invoke', 'get', null, 'k2'],
      [1, 'ok', 'get', 'a', 'k2'], // k2 was never written
      [2, 'invoke', 'get', null, 'k1'],
      [2, 'ok', 'get', 'a', 'k1'],
    ]);
    const r = checkHistory(rows, { allKeys: true });
    expect(r.valid).toBe(false);
    expect(r.keyCount).toBe(2);
    expect(r.failures).toEqual(['k2']);
    expect(r.keys['k1']!.valid).toBe(true);
  });

  test('without allKeys the check stops at the first invalid key', () => {
    const rows = hist([
      [1, 'invoke', 'get', null, 'k1'],
      [1, 'ok', 'get', 'zz', 'k1'],
      [0, 'invoke', 'put', 'a', 'k2'],
      [0, 'ok', 'put', 'a', 'k2'],
    ]);
    const r = checkHistory(rows);
    expect(r.valid).toBe(false);
    expect(r.failures).toEqual(['k1']);
    expect(r.keys['k2']).toBeUndefined();
  });

  test('the model can be forced, and numeric keys are keys', () => {
    const r = checkHistory(
      hist([
        [0, 'invoke', 'write', 1, 3],
        [0, 'ok', 'write', 1, 3],
        [0, 'invoke', 'read', null, 4],
        [0, 'ok', 'read', null, 4],
      ]),
      {
        model: 'cas-register',
      },
    );
    expect(r.valid).toBe(true);
    expect(Object.keys(r.keys).sort()).toEqual(['3', '4']);
  });
});
