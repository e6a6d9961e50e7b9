import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeCommand, encodeCommand } from '../../../node/kv/command.js';
import { arbKvOp } from '../transport/arbitraries.js';

describe('command encoding', () => {
  it('round-trips any command (property)', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 40, unit: 'binary' }), fc.maxSafeNat(), arbKvOp, (clientId, seq, op) => {
        const r = decodeCommand(encodeCommand({ clientId, seq, op }));
        expect(r).toEqual({ ok: true, cmd: { clientId, seq, op } });
      }),
    );
  });

  it('does not copy extra fields of the caller object into the log', () => {
    const cmd = { clientId: 'c', seq: 1, op: { type: 'get', key: 'k' } as const, extra: 'x' };
    expect(JSON.parse(encodeCommand(cmd))).toEqual({ clientId: 'c', seq: 1, op: { type: 'get', key: 'k' } });
  });

  it.each([
    ['not json', 'nope'],
    ['array', '[]'],
    ['missing seq', '{"clientId":"c","op":{"type":"get","key":"k"}}'],
    ['extra field', '{"clientId":"c","seq":1,"op":{"type":"get","key":"k"},"x":1}'],
    ['empty client', '{"clientId":"","seq":1,"op":{"type":"get","key":"k"}}'],
    ['negative seq', '{"clientId":"c","seq":-1,"op":{"type":"get","key":"k"}}'],
    ['bad op', '{"clientId":"c","seq":1,"op":{"type":"incr","key":"k"}}'],
    ['put without value', '{"clientId":"c","seq":1,"op":{"type":"put","key":"k"}}'],
  ])('rejects %s with a typed error', (_name, data) => {
    const r = decodeCommand(data);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.length).toBeGreaterThan(0);
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
