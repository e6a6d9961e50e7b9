import { describe, expect, it } from 'vitest';
import { checkStoredCommand, validateOp } from '../../../node/kv/limits.js';
import { encodeCommand } from '../../../node/kv/command.js';
import type { KvOp } from '../../../node/protocol.js';

const limits = { maxKeyBytes: 8, maxValueBytes: 16 };

describe('validateOp', () => {
  it('accepts ops within the limits (boundary included)', () => {
    expect(validateOp({ type: 'put', key: 'k'.repeat(8), value: 'v'.repeat(16) }, limits)).toBeNull();
    expect(validateOp({ type: 'get', key: '' }, limits)).toBeNull();
    expect(validateOp({ type: 'delete', key: 'k' }, limits)).toBeNull();
    expect(validateOp({ type: 'cas', key: 'k', expected: null, value: 'v' }, limits)).toBeNull();
  });

  it('measures UTF-8 bytes, not characters', () => {
    // 'é' is 2 bytes: 5 of them are 10 bytes > 8.
    expect(validateOp({ type: 'get', key: 'ééééé' }, limits)).toEqual({
      status: 'invalid',
      code: 'key_too_large',
      message: 'key is 10 bytes; the limit is 8',
    });
    expect(validateOp({ type: 'get', key: 'éééé' }, limits)).toBeNull();
  });

  it('rejects large values with a clear message', () => {
    expect(validateOp({ type: 'put', key: 'k', value: 'x'.repeat(17) }, limits)).toEqual({
      status: 'invalid',
      code: 'value_too_large',
      message: 'value is 17 bytes; the limit is 16',
    });
    expect(validateOp({ type: 'put', key: 'k', value: 'x'.repeat(9000) }, { maxKeyBytes: 256, maxValueBytes: 8192 })).toMatchObject({
      message: 'value is 9000 bytes; the limit is 8192',
    });
    expect(validateOp({ type: 'cas', key: 'k', expected: 'x'.repeat(17), value: 'v' }, limits)).toMatchObject({ code: 'value_too_large' });
    expect(validateOp({ type: 'cas', key: 'k', expected: 'e', value: 'x'.repeat(17) }, limits)).toMatchObject({ code: 'value_too_large' });
  });

  it('checks the key before the value', () => {
    expect(validateOp({ type: 'put', key: 'k'.repeat(9), value: 'x'.repeat(17) }, limits)).toMatchObject({ code: 'key_too_large' });
  });

  it('reports a malformed op (from untyped input) as malformed', () => {
    const bogus = { type: 'put', key: 'k' } as unknown as KvOp;
    expect(validateOp(bogus, limits)).toMatchObject({ status: 'invalid', code: 'malformed' });
    expect(validateOp({ type: 'pop', key: 'k' } as unknown as KvOp, limits)).toMatchObject({ code: 'malformed' });
  });
});

describe('checkStoredCommand', () => {
  // The byte limits of validateOp bound what the client sends, not what the log stores: JSON writes a control
  // character as six bytes. A cas of two values at the default limit (8,192) of U+0001 is stored as 98,346 bytes, an
  // entry no AppendEntries can carry: proposed, it held back every later write for as long as its leader lived.
  it('refuses a command whose stored form exceeds one entry, within the byte limits', () => {
    const op: KvOp = { type: 'cas', key: 'k', expected: '\u0001'.repeat(8192), value: '\u0001'.repeat(8192) };
    expect(validateOp(op, { maxKeyBytes: 256, maxValueBytes: 8192 })).toBeNull();
    const stored = Buffer.byteLength(encodeCommand({ clientId: 'c1', instance: 1, seq: 1, op }), 'utf8');
    expect(stored).toBeGreaterThan(6 * 2 * 8192);
    expect(checkStoredCommand(op, stored, 64_000)).toEqual({
      status: 'invalid',
      code: 'value_too_large',
      message: `the command's stored form is ${stored} bytes (JSON: a control character takes 6, a quote or backslash 2); one log entry carries at most 64000`,
    });
    expect(checkStoredCommand(op, 64_000, 64_000)).toBeNull();
    expect(checkStoredCommand({ type: 'delete', key: 'k' }, 64_001, 64_000)).toMatchObject({ code: 'key_too_large' });
  });
});
