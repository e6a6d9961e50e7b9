import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SessionTable } from '../../../node/kv/sessions.js';
import type { KvResult } from '../../../node/protocol.js';

const ok = (value: string | null): KvResult => ({ status: 'ok', value });

describe('SessionTable', () => {
  it('classifies new, duplicate and stale requests', () => {
    const t = new SessionTable(10);
    expect(t.check('c', 1)).toEqual({ kind: 'new' });
    t.touch('c', 1, { seq: 5, result: ok('a') });
    expect(t.check('c', 6)).toEqual({ kind: 'new' });
    expect(t.check('c', 5)).toEqual({ kind: 'duplicate', result: ok('a') });
    expect(t.check('c', 4)).toEqual({ kind: 'stale', lastSeq: 5 });
    expect(t.check('other', 0)).toEqual({ kind: 'new' });
  });

  it('evicts the session least recently used by log index', () => {
    const t = new SessionTable(2);
    t.touch('a', 1, { seq: 1, result: ok('1') });
    t.touch('b', 2, { seq: 1, result: ok('2') });
    t.touch('a', 3, null); // a duplicate of a's last command refreshes a
    t.touch('c', 4, { seq: 1, result: ok('3') }); // evicts b
    expect(t.list().map((s) => s.clientId)).toEqual(['a', 'c']);
    expect(t.check('b', 1)).toEqual({ kind: 'new' });
    expect(t.check('a', 1)).toMatchObject({ kind: 'duplicate' });
  });

  it('asserts that seq advances and indices increase (broken invariants crash)', () => {
    const t = new SessionTable(2);
    t.touch('a', 5, { seq: 3, result: ok(null) });
    expect(() => t.touch('a', 6, { seq: 3, result: ok(null) })).toThrow(/does not advance/);
    expect(() => t.touch('a', 5, { seq: 4, result: ok(null) })).toThrow(/touched at index/);
    expect(() => new SessionTable(0)).toThrow();
  });

  it('eviction is a function of the log alone: two tables fed the same sequence are identical (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 30 }), { maxLength: 300 }), fc.integer({ min: 1, max: 12 }), (clients, max) => {
        const tables = [new SessionTable(max), new SessionTable(max)];
        const seqs = new Map<number, number>();
        clients.forEach((c, i) => {
          const seq = (seqs.get(c) ?? 0) + 1;
          seqs.set(c, seq);
          for (const t of tables) t.touch(`c${c}`, i + 1, { seq, result: ok(String(i)) });
        });
        expect(tables[0]?.list()).toEqual(tables[1]?.list());
        expect(tables[0]?.size).toBeLessThanOrEqual(max);
        // The survivors are exactly the `max` most recently used clients.
        const recent: string[] = [];
        for (let i = clients.length - 1; i >= 0 && recent.length < max; i--) {
          const id = `c${clients[i]}`;
          if (!recent.includes(id)) recent.push(id);
        }
        expect(tables[0]?.list().map((s) => s.clientId)).toEqual(recent.reverse());
      }),
    );
  });
});
