import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LazyDigest, SessionTable, type SessionCheck, type SessionUpdate } from '../../../node/kv/sessions.js';
import { opDigest } from '../../../node/kv/command.js';
import type { KvOp, KvResult } from '../../../node/protocol.js';

const ok = (value: string | null): KvResult => ({ status: 'ok', value });
/** Instance 1's update to seq `seq` (digest d<seq>). */
const upd = (seq: number, result: KvResult, instance = 1, digest = `d${seq}`): SessionUpdate => ({ instance, seq, digest, result });
/** What instance 1 asking for `seq` with op digest d<seq> gets. */
const check = (t: SessionTable, clientId: string, seq: number, instance = 1, digest = `d${seq}`): SessionCheck =>
  t.check(clientId, instance, seq, digest);

describe('SessionTable', () => {
  it('classifies new, duplicate and stale requests', () => {
    const t = new SessionTable(10);
    expect(check(t, 'c', 1)).toEqual({ kind: 'new' });
    t.touch('c', 1, upd(5, ok('a')));
    expect(check(t, 'c', 6)).toEqual({ kind: 'new' });
    expect(check(t, 'c', 5)).toEqual({ kind: 'duplicate', result: ok('a') });
    expect(check(t, 'c', 4)).toEqual({ kind: 'stale', lastSeq: 5 });
    expect(check(t, 'other', 0)).toEqual({ kind: 'new' });
  });

  it('binds (clientId, seq) to its op digest and the session to its instance: a mismatch is a conflict', () => {
    const t = new SessionTable(10);
    t.touch('c', 1, upd(5, ok('a')));
    expect(t.check('c', 1, 5, 'another op')).toEqual({ kind: 'conflict', code: 'op_mismatch', lastSeq: 5 });
    // Another instance with the same clientId: refused at any seq, above, at or below the session's.
    for (const seq of [1, 4, 5, 6, 100])
      expect(t.check('c', 2, seq, `d${seq}`)).toEqual({ kind: 'conflict', code: 'session_conflict', lastSeq: 5 });
    expect(() => t.touch('c', 2, upd(6, ok('b'), 2))).toThrow(/instance 2 updates the session of instance 1/);
    // Refusals leave the session as it was.
    expect(check(t, 'c', 5)).toEqual({ kind: 'duplicate', result: ok('a') });
  });

  it('an existing command finds its session gone (evicted, or opened anew by another instance): expired, never new', () => {
    const t = new SessionTable(1);
    expect(t.check('c', 1, 1, 'd1', 'existing')).toEqual({ kind: 'expired' });
    expect(t.check('c', 1, 1, 'd1', 'open')).toEqual({ kind: 'new' });
    t.touch('c', 1, upd(1, ok(null)));
    expect(t.check('c', 1, 2, 'd2', 'existing')).toEqual({ kind: 'new' });
    expect(t.check('c', 1, 1, 'd1', 'existing')).toEqual({ kind: 'duplicate', result: ok(null) });
    // Another instance holds the id now: for an implicit command a conflict (definite), for an existing one expired.
    expect(t.check('c', 2, 5, 'd5', 'existing')).toEqual({ kind: 'expired' });
    expect(t.check('c', 2, 5, 'd5')).toEqual({ kind: 'conflict', code: 'session_conflict', lastSeq: 1 });
    t.touch('d', 2, upd(1, ok(null))); // evicts c
    expect(t.check('c', 1, 2, 'd2', 'existing')).toEqual({ kind: 'expired' });
    expect(t.check('c', 1, 2, 'd2')).toEqual({ kind: 'new' }); // the limit of implicit sessions
  });

  it('evicts the session least recently used by log index', () => {
    const t = new SessionTable(2);
    t.touch('a', 1, upd(1, ok('1')));
    t.touch('b', 2, upd(1, ok('2')));
    t.touch('a', 3, null); // a duplicate of a's last command refreshes a
    t.touch('c', 4, upd(1, ok('3'))); // evicts b
    expect(t.list().map((s) => s.clientId)).toEqual(['a', 'c']);
    expect(check(t, 'b', 1)).toEqual({ kind: 'new' });
    expect(check(t, 'a', 1)).toMatchObject({ kind: 'duplicate' });
  });

  it('asserts that seq advances and indices increase (broken invariants crash)', () => {
    const t = new SessionTable(2);
    t.touch('a', 5, upd(3, ok(null)));
    expect(() => t.touch('a', 6, upd(3, ok(null)))).toThrow(/does not advance/);
    expect(() => t.touch('a', 5, upd(4, ok(null)))).toThrow(/touched at index/);
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
          for (const t of tables) t.touch(`c${c}`, i + 1, upd(seq, ok(String(i))));
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

  describe('lazy op digests (computed only for a retry of the last seq, or for a snapshot)', () => {
    const put = (key: string, value: string): KvOp => ({ type: 'put', key, value });

    it('judges with lazy digests exactly as with computed ones', () => {
      const lazy = new SessionTable(10);
      const eager = new SessionTable(10);
      const applied = put('k', 'v1');
      lazy.touch('c', 1, { instance: 1, seq: 5, digest: new LazyDigest(applied), result: ok('v1') });
      eager.touch('c', 1, { instance: 1, seq: 5, digest: opDigest(applied), result: ok('v1') });
      for (const [seq, op] of [
        [5, put('k', 'v1')],
        [5, put('k', 'v2')],
        [5, { type: 'get', key: 'k' }],
        [4, put('k', 'v1')],
        [6, put('k', 'v1')],
      ] as const) {
        const want = eager.check('c', 1, seq, opDigest(op));
        expect(lazy.check('c', 1, seq, new LazyDigest(op))).toEqual(want);
        expect(lazy.check('c', 1, seq, opDigest(op))).toEqual(want);
        expect(eager.check('c', 1, seq, new LazyDigest(op))).toEqual(want);
      }
      expect(lazy.check('c', 1, 5, new LazyDigest(put('k', 'v2')))).toEqual({ kind: 'conflict', code: 'op_mismatch', lastSeq: 5 });
      // The snapshot form carries the computed digest: identical tables.
      expect(lazy.list()).toEqual(eager.list());
    });

    it('digests a large op when it is recorded, so a session never holds a large value for its digest', () => {
      const t = new SessionTable(10);
      const big = new LazyDigest(put('k', 'x'.repeat(LazyDigest.MAX_HELD_CHARS + 1)));
      const small = new LazyDigest(put('k', 'x'));
      expect(big.small).toBe(false);
      t.touch('big', 1, { instance: 1, seq: 1, digest: big, result: ok('x') });
      t.touch('small', 2, { instance: 1, seq: 1, digest: small, result: ok('x') });
      // The big one was digested at touch (its op released); the small one is still lazy: computing it now gives opDigest.
      expect(big.small).toBe(true);
      expect(t.list().map((s) => s.digest)).toEqual([
        opDigest(put('k', 'x'.repeat(LazyDigest.MAX_HELD_CHARS + 1))),
        opDigest(put('k', 'x')),
      ]);
    });
  });
});
