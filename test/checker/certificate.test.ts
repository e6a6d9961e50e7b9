// Certified verdicts: `--witness` writes a certificate (a linearization per
// valid key, a minimal failing sub-history per invalid key) and `--verify`
// re-checks it with checker/verify.ts, which shares nothing with the search.
// The verifier must accept the checker's certificates and reject tampered
// ones (a wrong order, a missing op, a removal that is not a weakening, a
// sub-history that is in fact linearizable).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { checkHistory, cliMain } from '../../checker/index.js';
import { certificateOf, parseCertificate, type Certificate } from '../../checker/certificate.js';
import { hasLinearization, opsByKey, verifyLinearization, weakenedSubHistory } from '../../checker/verify.js';
import { hist, jsonl, type Row } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'rift-cert-'));

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await cliMain(args, { out: (s) => (out += s), err: (s) => (err += s) });
  return { code, out, err };
}

/** Two keys: "a" valid (concurrent writes and reads), "b" with a stale read after two writes. */
const ROWS: Row[] = [
  [0, 'invoke', 'write', 1, 'a'],
  [1, 'invoke', 'write', 2, 'a'],
  [0, 'ok', 'write', 1, 'a'],
  [2, 'invoke', 'read', null, 'a'],
  [1, 'ok', 'write', 2, 'a'],
  [2, 'ok', 'read', 1, 'a'],
  [3, 'invoke', 'write', 10, 'b'],
  [3, 'ok', 'write', 10, 'b'],
  [4, 'invoke', 'read', null, 'b'],
  [4, 'ok', 'read', 10, 'b'],
  [3, 'invoke', 'write', 11, 'b'],
  [3, 'ok', 'write', 11, 'b'],
  [5, 'invoke', 'write', 12, 'b'],
  [5, 'info', 'write', 12, 'b'],
  [4, 'invoke', 'read', null, 'b'],
  [4, 'ok', 'read', 10, 'b'],
];

describe('certificates', () => {
  const history = hist(ROWS);
  const r = checkHistory(history, { allKeys: true, witness: true });
  const byKey = opsByKey(history);

  test('the checker certifies both verdicts, and the verifier confirms them', () => {
    expect(r.keys['a']!.valid).toBe(true);
    expect(r.keys['b']!.valid).toBe(false);
    const lin = r.keys['a']!.linearization!;
    expect(verifyLinearization('cas-register', byKey.get('a')!, lin)).toBeNull();
    const m = r.keys['b']!.minimal!;
    expect(m.oneMinimal).toBe(true);
    // The stale read needs both writes and the read; the first read and the info write are irrelevant.
    expect(m.ops.map((o) => o.op.description)).toEqual(['write 10', 'write 11', 'read -> 10']);
    const sub = weakenedSubHistory(
      'cas-register',
      byKey.get('b')!,
      m.ops.map((o) => ({ index: o.op.invoke.index, completion: o.completionDropped ? 'dropped' : 'kept' })),
    );
    expect(typeof sub).not.toBe('string');
    expect(hasLinearization('cas-register', sub as Exclude<typeof sub, string>)).toBe(false);
  });

  test('ops that share an index cannot be named: the verifier refuses, and confirms no forged certificate', () => {
    // The read of 2 returns before the write of 2 is invoked: not linearizable. Both invokes have index 0; the write
    // hid the read, so the forged linearization [0] was CONFIRMED (the read never replayed, yet counted as placed).
    const forged = opsByKey([
      { index: 0, process: 1, type: 'invoke', f: 'read', value: null },
      { index: 1, process: 1, type: 'ok', f: 'read', value: 2 },
      { index: 0, process: 0, type: 'invoke', f: 'write', value: 2 },
      { index: 3, process: 0, type: 'ok', f: 'write', value: 2 },
    ]).get('')!;
    expect(verifyLinearization('cas-register', forged, [0])).toMatch(/two ops of this key have the index 0/);
    expect(weakenedSubHistory('cas-register', forged, [{ index: 0, completion: 'kept' }])).toMatch(/two ops of this key have the index 0/);
  });

  test('tampered linearizations are rejected', () => {
    const ops = byKey.get('a')!;
    const lin = r.keys['a']!.linearization!;
    // Reversed: the read of 1 then sees 2 (or the real-time order breaks).
    expect(verifyLinearization('cas-register', ops, [...lin].reverse())).not.toBeNull();
    // An ok op left out.
    expect(verifyLinearization('cas-register', ops, lin.slice(1))).toMatch(/missing|illegal/);
    // An op twice.
    expect(verifyLinearization('cas-register', ops, [...lin, lin[0]!])).toMatch(/twice/);
    // An op of another key.
    expect(verifyLinearization('cas-register', ops, [...lin, 6])).toMatch(/not an op of this key/);
    // Real time: the read (invoked after write 1 returned) cannot go before it.
    expect(verifyLinearization('cas-register', ops, [3, 0, 1])).toMatch(/returned before|illegal/);
  });

  test('sub-histories that are not weakenings, or are linearizable, are rejected', () => {
    const ops = byKey.get('b')!;
    // Removing write 10, which the read still observes, is not a weakening.
    expect(
      weakenedSubHistory('cas-register', ops, [
        { index: 10, completion: 'kept' },
        { index: 14, completion: 'kept' },
      ]),
    ).toMatch(/not a weakening/);
    // Dropping write 11's completion makes it linearizable (it may take effect after the read).
    const sub = weakenedSubHistory('cas-register', ops, [
      { index: 6, completion: 'kept' },
      { index: 10, completion: 'dropped' },
      { index: 14, completion: 'kept' },
    ]);
    expect(hasLinearization('cas-register', sub as Exclude<typeof sub, string>)).toBe(true);
  });

  test('kv: an append observed by a remaining get cannot be removed', () => {
    const kv = hist([
      [0, 'invoke', 'append', 'x'],
      [0, 'ok', 'append', 'x'],
      [1, 'invoke', 'append', 'y'],
      [1, 'ok', 'append', 'y'],
      [2, 'invoke', 'get', null],
      [2, 'ok', 'get', 'x'],
    ]);
    const ops = opsByKey(kv).get('')!;
    expect(
      weakenedSubHistory('kv', ops, [
        { index: 2, completion: 'kept' },
        { index: 4, completion: 'kept' },
      ]),
    ).toMatch(/not a weakening/);
    const sub = weakenedSubHistory('kv', ops, [
      { index: 0, completion: 'kept' },
      { index: 2, completion: 'kept' },
      { index: 4, completion: 'kept' },
    ]);
    expect(hasLinearization('kv', sub as Exclude<typeof sub, string>)).toBe(false);
  });

  test('--witness and --verify through the command line (0 confirmed, 1 not, 254 bad input)', async () => {
    const file = join(dir, 'h.jsonl');
    const cert = join(dir, 'h.cert.json');
    writeFileSync(file, jsonl(ROWS));
    const c = await run([file, '--witness', cert, '--all-keys']);
    expect(c.code).toBe(1);
    expect(c.out).toContain(`certificate: ${cert}`);
    const v = await run(['--verify', cert]);
    expect(v.code).toBe(0);
    expect(v.out).toContain('2 of 2 key verdict(s) confirmed');
    // Tamper: reverse the valid key's linearization.
    const parsed: Certificate = parseCertificate(readFileSync(cert, 'utf8'));
    const tampered = {
      ...parsed,
      keys: parsed.keys.map((k) => ('linearization' in k ? { ...k, linearization: [...k.linearization].reverse() } : k)),
    };
    writeFileSync(cert, JSON.stringify(tampered));
    const t = await run(['--verify', cert]);
    expect(t.code).toBe(1);
    expect(t.out).toContain('NOT CONFIRMED');
    writeFileSync(cert, '{"format":"nope"}');
    expect((await run(['--verify', cert])).code).toBe(254);
  });

  test('certificateOf records unknown keys without a claim', () => {
    const c = certificateOf('x.jsonl', { ...r, keys: { a: { ...r.keys['a']!, valid: 'unknown', unknownReason: 'time_limit' } } });
    expect(c.keys).toEqual([{ key: 'a', valid: 'unknown', note: 'no verdict' }]);
  });
});
