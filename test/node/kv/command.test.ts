import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeCommand, encodeCommand, opDigest } from '../../../node/kv/command.js';
import type { KvOp } from '../../../node/protocol.js';
import { arbKvOp } from '../transport/arbitraries.js';

describe('command encoding', () => {
  it('round-trips any command (property)', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 40, unit: 'binary' }),
        fc.maxSafeNat(),
        fc.maxSafeNat(),
        arbKvOp,
        fc.constantFrom(undefined, 'open' as const, 'existing' as const),
        (clientId, instance, seq, op, mode) => {
          // Only a get opens a session (the host refuses any other op as an open).
          const session = mode === 'open' && op.type !== 'get' ? undefined : mode;
          const cmd = session === undefined ? { clientId, instance, seq, op } : { clientId, instance, seq, op, session };
          expect(decodeCommand(encodeCommand(cmd))).toEqual({ ok: true, cmd });
        },
      ),
    );
  });

  it('stores [clientId, instance, seq, opType, key, ...fields], without extra fields of the caller object', () => {
    const cmd = { clientId: 'c', instance: 7, seq: 1, op: { type: 'get', key: 'k' } as const, extra: 'x' };
    expect(JSON.parse(encodeCommand(cmd))).toEqual(['c', 7, 1, 'get', 'k']);
    const cas = { type: 'cas', value: 'v', key: 'k', expected: null, extra: 1 } as unknown as KvOp;
    expect(encodeCommand({ clientId: 'c', instance: 7, seq: 2, op: cas })).toBe('["c",7,2,"cas","k",null,"v"]');
  });

  it('marks a session mode with a trailing 1 (open) or 2 (existing), and refuses any other mark or an open that is not a get', () => {
    expect(encodeCommand({ clientId: 'c', instance: 7, seq: 1, op: { type: 'get', key: '' }, session: 'open' })).toBe(
      '["c",7,1,"get","",1]',
    );
    expect(encodeCommand({ clientId: 'c', instance: 7, seq: 2, op: { type: 'put', key: 'k', value: 'v' }, session: 'existing' })).toBe(
      '["c",7,2,"put","k","v",2]',
    );
    for (const bad of [
      '["c",7,2,"put","k","v",3]',
      '["c",7,2,"put","k","v","existing"]',
      '["c",7,2,"put","k","v",1]',
      '["c",7,2,"put","k","v",2,2]',
    ])
      expect(decodeCommand(bad).ok).toBe(false);
  });

  it('still reads the object form {clientId, instance, seq, op} that older logs hold (property)', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 40 }), fc.maxSafeNat(), fc.maxSafeNat(), arbKvOp, (clientId, instance, seq, op) => {
        const r = decodeCommand(JSON.stringify({ clientId, instance, seq, op }));
        expect(r).toEqual({ ok: true, cmd: { clientId, instance, seq, op } });
      }),
      { numRuns: 200 },
    );
  });

  it.each([
    ['not json', 'nope'],
    ['array', '[]'],
    ['missing seq', '{"clientId":"c","instance":1,"op":{"type":"get","key":"k"}}'],
    ['extra field', '{"clientId":"c","instance":1,"seq":1,"op":{"type":"get","key":"k"},"x":1}'],
    ['empty client', '{"clientId":"","instance":1,"seq":1,"op":{"type":"get","key":"k"}}'],
    ['negative seq', '{"clientId":"c","instance":1,"seq":-1,"op":{"type":"get","key":"k"}}'],
    ['bad op', '{"clientId":"c","instance":1,"seq":1,"op":{"type":"incr","key":"k"}}'],
    ['put without value', '{"clientId":"c","instance":1,"seq":1,"op":{"type":"put","key":"k"}}'],
    ['missing instance', '{"clientId":"c","seq":1,"op":{"type":"get","key":"k"}}'],
    ['negative instance', '{"clientId":"c","instance":-1,"seq":1,"op":{"type":"get","key":"k"}}'],
    ['stored: put without value', '["c",1,1,"put","k"]'],
    ['stored: get with a value', '["c",1,1,"get","k","v"]'],
    ['stored: unknown op', '["c",1,1,"incr","k"]'],
    ['stored: prototype key as op', '["c",1,1,"constructor","k"]'],
    ['stored: empty client', '["",1,1,"get","k"]'],
    ['stored: fractional seq', '["c",1,1.5,"get","k"]'],
    ['stored: negative instance', '["c",-1,1,"get","k"]'],
    ['stored: number key', '["c",1,1,"get",7]'],
    ['stored: cas expected a number', '["c",1,1,"cas","k",3,"v"]'],
    ['stored: cas value null', '["c",1,1,"cas","k","a",null]'],
  ])('rejects %s with a typed error', (_name, data) => {
    const r = decodeCommand(data);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.length).toBeGreaterThan(0);
  });

  it('opDigest is a function of the op alone, and tells ops apart (property)', () => {
    fc.assert(
      fc.property(arbKvOp, arbKvOp, (a, b) => {
        expect(opDigest({ ...a })).toBe(opDigest(a));
        expect(opDigest(a)).toMatch(/^[0-9a-f]{32}$/);
        if (JSON.stringify(a) !== JSON.stringify(b)) expect(opDigest(a)).not.toBe(opDigest(b));
      }),
      { numRuns: 300 },
    );
    // Field order and extra fields of the caller's object do not matter; every field that is part of the op does.
    expect(opDigest({ value: 'v', key: 'k', type: 'put' } as unknown as KvOp)).toBe(opDigest({ type: 'put', key: 'k', value: 'v' }));
    expect(opDigest({ type: 'cas', key: 'k', expected: null, value: 'v' })).not.toBe(
      opDigest({ type: 'cas', key: 'k', expected: 'null', value: 'v' }),
    );
  });

  it('never throws on arbitrary strings', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary' }), fc.json()), (s) => {
        const r = decodeCommand(s);
        expect(typeof r.ok).toBe('boolean');
      }),
      { numRuns: 300 },
    );
  });
});
