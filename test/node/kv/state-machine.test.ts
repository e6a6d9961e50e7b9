import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeCommand, encodeCommand, opDigest } from '../../../node/kv/command.js';
import { KvStateMachine, MAX_STATE_BYTES } from '../../../node/kv/state-machine.js';
import { DEFAULT_MAX_SESSIONS } from '../../../node/kv/sessions.js';
import { sessionBytes } from '../../../node/kv/stored-size.js';
import { MAX_ID_CHARS } from '../../../node/transport/validate.js';
import { constants } from 'node:buffer';
import { MAX_SNAPSHOT_BYTES } from '../../../node/storage/snapshot-store.js';
import type { ApplyResult } from '../../../node/kv/state-machine.js';
import type { KvOp, KvResult } from '../../../node/protocol.js';
import type { Entry } from '../../../node/raft/types.js';

/** Feeds entries with consecutive indices. */
class Feeder {
  index = 0;
  constructor(readonly sm: KvStateMachine) {}
  cmd(clientId: string, seq: number, op: KvOp, instance = 1): ApplyResult | null {
    this.index++;
    return this.sm.apply({ term: 1, index: this.index, type: 'command', data: encodeCommand({ clientId, instance, seq, op }) });
  }
  noop(): ApplyResult | null {
    this.index++;
    return this.sm.apply({ term: 1, index: this.index, type: 'noop', data: '' });
  }
  raw(data: string): ApplyResult | null {
    this.index++;
    return this.sm.apply({ term: 1, index: this.index, type: 'command', data });
  }
}

const quiet = { log: () => {} };

/** The random tests' seed: printed in their names; replay with FC_SEED=<seed>. */
const seed = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : Date.now() % 2 ** 31;

describe('KvStateMachine operations', () => {
  it('put, get, delete', () => {
    const f = new Feeder(new KvStateMachine(quiet));
    expect(f.cmd('c', 1, { type: 'get', key: 'k' })).toMatchObject({ kind: 'applied', result: { status: 'ok', value: null } });
    expect(f.cmd('c', 2, { type: 'put', key: 'k', value: 'v1' })).toMatchObject({
      kind: 'applied',
      clientId: 'c',
      seq: 2,
      index: 2,
      result: { status: 'ok', value: 'v1' },
    });
    expect(f.sm.read('k')).toBe('v1');
    expect(f.cmd('c', 3, { type: 'get', key: 'k' })).toMatchObject({ result: { status: 'ok', value: 'v1' } });
    expect(f.cmd('c', 4, { type: 'delete', key: 'k' })).toMatchObject({ result: { status: 'ok', value: null } });
    expect(f.sm.read('k')).toBeNull();
    expect(f.cmd('c', 5, { type: 'delete', key: 'k' })).toMatchObject({ result: { status: 'ok', value: null } });
    expect(f.sm.lastApplied).toBe(5);
  });

  it('cas: expected null means absent; mismatch reports the actual value and changes nothing', () => {
    const f = new Feeder(new KvStateMachine(quiet));
    expect(f.cmd('c', 1, { type: 'cas', key: 'k', expected: 'x', value: 'a' })).toMatchObject({
      result: { status: 'cas_mismatch', actual: null },
    });
    expect(f.sm.read('k')).toBeNull();
    expect(f.cmd('c', 2, { type: 'cas', key: 'k', expected: null, value: 'a' })).toMatchObject({ result: { status: 'ok', value: 'a' } });
    expect(f.cmd('c', 3, { type: 'cas', key: 'k', expected: null, value: 'b' })).toMatchObject({
      result: { status: 'cas_mismatch', actual: 'a' },
    });
    expect(f.cmd('c', 4, { type: 'cas', key: 'k', expected: 'a', value: 'b' })).toMatchObject({ result: { status: 'ok', value: 'b' } });
    expect(f.sm.read('k')).toBe('b');
    // The empty string is a value, not absence.
    f.cmd('c', 5, { type: 'put', key: 'e', value: '' });
    expect(f.cmd('c', 6, { type: 'cas', key: 'e', expected: null, value: 'z' })).toMatchObject({
      result: { status: 'cas_mismatch', actual: '' },
    });
  });

  it('no-op entries advance lastApplied and return null', () => {
    const f = new Feeder(new KvStateMachine(quiet));
    expect(f.noop()).toBeNull();
    expect(f.sm.lastApplied).toBe(1);
  });

  it('asserts entries are applied in order', () => {
    const sm = new KvStateMachine(quiet);
    const e = (index: number): Entry => ({ term: 1, index, type: 'noop', data: '' });
    expect(() => sm.apply(e(2))).toThrow(/in order/);
    sm.apply(e(1));
    expect(() => sm.apply(e(1))).toThrow(/in order/);
    expect(sm.lastApplied).toBe(1);
  });

  it('an undecodable command is a logged no-op, identically on every replica', () => {
    const logs: string[] = [];
    const replicas = [new Feeder(new KvStateMachine({ log: (l) => logs.push(l) })), new Feeder(new KvStateMachine({ log: () => {} }))];
    for (const f of replicas) {
      f.cmd('c', 1, { type: 'put', key: 'k', value: 'v' });
      expect(f.raw('{"clientId":"c","seq":2,"op":{"type":"explode"}}')).toBeNull();
      expect(f.raw('\u0000garbage')).toBeNull();
      f.cmd('c', 2, { type: 'put', key: 'k', value: 'w' });
    }
    expect(logs).toHaveLength(2);
    expect(logs[0]).toMatch(/entry 2 .* undecodable/);
    expect(replicas[0]?.sm.snapshotState()).toEqual(replicas[1]?.sm.snapshotState());
    expect(replicas[0]?.sm.snapshotState()).toMatchObject({ lastApplied: 4, undecodable: 2, data: { k: 'w' } });
  });
});

describe('exactly-once sessions', () => {
  it('a retried (clientId, seq) returns the cached result and applies once', () => {
    const f = new Feeder(new KvStateMachine(quiet));
    f.cmd('c', 1, { type: 'put', key: 'k', value: 'a' });
    const first = f.cmd('c', 2, { type: 'cas', key: 'k', expected: 'a', value: 'b' });
    expect(first).toMatchObject({ kind: 'applied', result: { status: 'ok', value: 'b' } });
    // Another client changes the key; the retry must still answer what the first application answered.
    f.cmd('d', 1, { type: 'put', key: 'k', value: 'a' });
    const retry = f.cmd('c', 2, { type: 'cas', key: 'k', expected: 'a', value: 'b' });
    expect(retry).toMatchObject({ kind: 'duplicate', clientId: 'c', seq: 2, result: { status: 'ok', value: 'b' } });
    expect(f.sm.read('k')).toBe('a'); // not applied again
  });

  it('an older seq is stale and changes nothing', () => {
    const f = new Feeder(new KvStateMachine(quiet));
    f.cmd('c', 1, { type: 'put', key: 'k', value: 'a' });
    f.cmd('c', 2, { type: 'put', key: 'k', value: 'b' });
    expect(f.cmd('c', 1, { type: 'put', key: 'k', value: 'a' })).toEqual({ kind: 'stale', index: 3, clientId: 'c', seq: 1, lastSeq: 2 });
    expect(f.sm.read('k')).toBe('b');
  });

  it('the same seq with another op is refused (op_mismatch), changes nothing, and leaves the session answering its own op', () => {
    const f = new Feeder(new KvStateMachine(quiet));
    f.cmd('c', 1, { type: 'put', key: 'k', value: 'a' });
    f.cmd('d', 1, { type: 'put', key: 'k2', value: 'x' });
    expect(f.cmd('c', 1, { type: 'put', key: 'k', value: 'other' })).toEqual({
      kind: 'conflict',
      index: 3,
      clientId: 'c',
      instance: 1,
      seq: 1,
      code: 'op_mismatch',
      lastSeq: 1,
    });
    expect(f.sm.read('k')).toBe('a');
    expect(f.cmd('c', 1, { type: 'put', key: 'k', value: 'a' })).toMatchObject({ kind: 'duplicate', result: { status: 'ok', value: 'a' } });
  });

  it('defect 6: a reused clientId from another instance gets a conflict, never the cached result of the other client, and nothing is applied', () => {
    const f = new Feeder(new KvStateMachine(quiet));
    // Client instance 1 writes dk2=a2 as its seq 3.
    f.cmd('shared', 1, { type: 'put', key: 'dk', value: 'first' }, 1);
    f.cmd('shared', 2, { type: 'put', key: 'dk', value: 'second' }, 1);
    f.cmd('shared', 3, { type: 'put', key: 'dk2', value: 'a2' }, 1);
    // A second client with the same id: its seq 1 and 2 (below the session's) and its seq 3 (equal) are all refused.
    expect(f.cmd('shared', 1, { type: 'put', key: 'dk', value: 'x1' }, 2)).toMatchObject({
      kind: 'conflict',
      code: 'session_conflict',
      instance: 2,
      seq: 1,
    });
    expect(f.cmd('shared', 2, { type: 'put', key: 'dk', value: 'x2' }, 2)).toMatchObject({
      kind: 'conflict',
      code: 'session_conflict',
      seq: 2,
    });
    const third = f.cmd('shared', 3, { type: 'put', key: 'dk', value: 'fourth' }, 2);
    expect(third).toMatchObject({ kind: 'conflict', code: 'session_conflict', seq: 3 });
    expect(third).not.toHaveProperty('result');
    expect(f.cmd('shared', 4, { type: 'put', key: 'dk', value: 'fifth' }, 2)).toMatchObject({
      kind: 'conflict',
      code: 'session_conflict',
      seq: 4,
    });
    expect(f.sm.read('dk')).toBe('second');
    expect(f.sm.read('dk2')).toBe('a2');
    // The owner goes on undisturbed.
    expect(f.cmd('shared', 4, { type: 'put', key: 'dk', value: 'owner' }, 1)).toMatchObject({ kind: 'applied' });
    expect(f.sm.read('dk')).toBe('owner');
  });

  it('sessions are evicted deterministically by log order', () => {
    const run = (): KvStateMachine => {
      const f = new Feeder(new KvStateMachine({ ...quiet, maxSessions: 2 }));
      f.cmd('a', 1, { type: 'put', key: 'x', value: '1' });
      f.cmd('b', 1, { type: 'put', key: 'x', value: '2' });
      f.cmd('a', 2, { type: 'put', key: 'x', value: '3' });
      f.cmd('c', 1, { type: 'put', key: 'x', value: '4' }); // evicts b
      return f.sm;
    };
    const s1 = run().snapshotState();
    expect(s1.sessions.map((s) => s.clientId)).toEqual(['a', 'c']);
    expect(run().snapshotState()).toEqual(s1);
  });

  it('a write retried after its session was evicted is applied twice when sessions open implicitly, refused (expired) when opened explicitly', () => {
    const session = (s: 'open' | 'existing'): string => (s === 'open' ? ',1]' : ',2]');
    const explicit = new Feeder(new KvStateMachine({ ...quiet, maxSessions: 1 }));
    // The open: a logged get, applied as a no-op whose answer carries no value (the key '' holds one here).
    explicit.cmd('w', 1, { type: 'put', key: '', value: 'not read' });
    expect(explicit.raw('["a",1,1,"get",""' + session('open'))).toMatchObject({ kind: 'applied', result: { status: 'ok', value: null } });
    expect(explicit.raw('["a",1,2,"put","x","1"' + session('existing'))).toMatchObject({ kind: 'applied' });
    explicit.cmd('b', 1, { type: 'put', key: 'x', value: '2' }); // evicts a
    const retried = explicit.raw('["a",1,2,"put","x","1"' + session('existing'));
    expect(retried).toEqual({ kind: 'expired', index: 5, clientId: 'a', instance: 1, seq: 2 });
    expect(explicit.sm.read('x')).toBe('2');
    // Refused without opening a session: the next existing write of a is refused too, until it opens anew.
    expect(explicit.raw('["a",1,3,"put","x","3"' + session('existing'))).toMatchObject({ kind: 'expired' });
    expect(explicit.sm.snapshotState().sessions.map((s) => s.clientId)).toEqual(['b']);
    expect(explicit.raw('["a",1,4,"get",""' + session('open'))).toMatchObject({ kind: 'applied' });
    expect(explicit.raw('["a",1,2,"put","x","1"' + session('existing'))).toMatchObject({ kind: 'stale' });
    expect(explicit.sm.read('x')).toBe('2');

    const implicit = new Feeder(new KvStateMachine({ ...quiet, maxSessions: 1 }));
    implicit.cmd('a', 2, { type: 'put', key: 'x', value: '1' });
    implicit.cmd('b', 1, { type: 'put', key: 'x', value: '2' }); // evicts a
    expect(implicit.cmd('a', 2, { type: 'put', key: 'x', value: '1' })).toMatchObject({ kind: 'applied' });
    expect(implicit.sm.read('x')).toBe('1'); // the documented limit (sessions.ts)
  });
});

// ----------------------------------------------------------------- model-based property

type Step =
  | { kind: 'new'; client: number; op: KvOp }
  | { kind: 'retry'; client: number }
  | { kind: 'stale'; client: number; back: number }
  /** The client's last seq again, with another op. */
  | { kind: 'mismatch'; client: number; op: KvOp }
  /** Another instance using the client's id, at a seq near the client's. */
  | { kind: 'imposter'; client: number; shift: number; op: KvOp }
  | { kind: 'noop' };

const arbKey = fc.constantFrom('a', 'b', 'c');
const arbVal = fc.constantFrom('0', '1', '2', '');
const arbOp: fc.Arbitrary<KvOp> = fc.oneof(
  fc.record({ type: fc.constant('get' as const), key: arbKey }),
  fc.record({ type: fc.constant('put' as const), key: arbKey, value: arbVal }),
  fc.record({ type: fc.constant('delete' as const), key: arbKey }),
  fc.record({ type: fc.constant('cas' as const), key: arbKey, expected: fc.option(arbVal, { nil: null }), value: arbVal }),
);
const arbStep: fc.Arbitrary<Step> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('new' as const), client: fc.nat(5), op: arbOp }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('retry' as const), client: fc.nat(5) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('stale' as const), client: fc.nat(5), back: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('mismatch' as const), client: fc.nat(5), op: arbOp }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('imposter' as const), client: fc.nat(5), shift: fc.integer({ min: -2, max: 2 }), op: arbOp }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'noop' as const }) },
);

/** Reference model: a Map, plus sessions (owner instance, last seq and its op) with explicit last-use indices and min-search eviction. */
class Model {
  data = new Map<string, string>();
  sessions = new Map<string, { instance: number; seq: number; op: string; result: KvResult; used: number }>();
  constructor(readonly maxSessions: number) {}

  apply(index: number, clientId: string, instance: number, seq: number, op: KvOp): { kind: string; result?: KvResult; code?: string } {
    const s = this.sessions.get(clientId);
    let out: { kind: string; result?: KvResult; code?: string };
    if (s !== undefined && instance !== s.instance) {
      s.used = index;
      out = { kind: 'conflict', code: 'session_conflict' };
    } else if (s !== undefined && seq === s.seq && JSON.stringify(op) !== s.op) {
      s.used = index;
      out = { kind: 'conflict', code: 'op_mismatch' };
    } else if (s !== undefined && seq === s.seq) {
      s.used = index;
      out = { kind: 'duplicate', result: s.result };
    } else if (s !== undefined && seq < s.seq) {
      s.used = index;
      out = { kind: 'stale' };
    } else {
      const result = this.exec(op);
      this.sessions.set(clientId, { instance, seq, op: JSON.stringify(op), result, used: index });
      out = { kind: 'applied', result };
    }
    if (this.sessions.size > this.maxSessions) {
      let victim = '';
      let min = Infinity;
      for (const [id, v] of this.sessions) if (v.used < min) [victim, min] = [id, v.used];
      this.sessions.delete(victim);
    }
    return out;
  }

  private exec(op: KvOp): KvResult {
    const cur = this.data.get(op.key) ?? null;
    switch (op.type) {
      case 'get':
        return { status: 'ok', value: cur };
      case 'put':
        this.data.set(op.key, op.value);
        return { status: 'ok', value: op.value };
      case 'delete':
        this.data.delete(op.key);
        return { status: 'ok', value: null };
      case 'cas':
        if (cur !== op.expected) return { status: 'cas_mismatch', actual: cur };
        this.data.set(op.key, op.value);
        return { status: 'ok', value: op.value };
    }
  }
}

describe('state machine vs reference model (property)', () => {
  it('random command sequences with retries, stale requests, mismatched ops and reused ids match a Map model with dedup', () => {
    fc.assert(
      fc.property(fc.array(arbStep, { maxLength: 200 }), fc.integer({ min: 1, max: 8 }), (steps, maxSessions) => {
        const sm = new KvStateMachine({ ...quiet, maxSessions });
        const twin = new KvStateMachine({ ...quiet, maxSessions });
        const model = new Model(maxSessions);
        // What each client last sent: its seq and op (a retry resends exactly that).
        const sent = new Map<number, { seq: number; op: KvOp }>();
        let index = 0;
        for (const step of steps) {
          index++;
          if (step.kind === 'noop') {
            const e: Entry = { term: 1, index, type: 'noop', data: '' };
            expect(sm.apply(e)).toBeNull();
            twin.apply(e);
            continue;
          }
          const last = sent.get(step.client);
          let seq: number;
          let op: KvOp;
          let instance = 1;
          if (step.kind === 'imposter') {
            // Canonical key order, so the model's comparison by JSON sees the op the state machine digests.
            instance = 2;
            seq = Math.max(0, (last?.seq ?? 1) + step.shift);
            const decoded = decodeCommand(encodeCommand({ clientId: 'x', instance, seq, op: step.op }));
            if (!decoded.ok) throw new Error(decoded.error);
            op = decoded.cmd.op;
          } else if (step.kind === 'new' || last === undefined) {
            seq = (last?.seq ?? 0) + 1;
            op = step.kind === 'new' ? step.op : { type: 'get', key: 'a' };
            sent.set(step.client, { seq, op });
          } else if (step.kind === 'retry') {
            ({ seq, op } = last);
          } else if (step.kind === 'mismatch') {
            seq = last.seq;
            op = step.op;
          } else {
            seq = Math.max(0, last.seq - step.back);
            op = { type: 'put', key: 'a', value: 'stale!' };
          }
          const clientId = `client-${step.client}`;
          const e: Entry = { term: 1, index, type: 'command', data: encodeCommand({ clientId, instance, seq, op }) };
          const got = sm.apply(e);
          twin.apply(e);
          const want = model.apply(index, clientId, instance, seq, { ...op });
          expect(got?.kind).toBe(want.kind);
          if (got !== null && (got.kind === 'applied' || got.kind === 'duplicate')) expect(got.result).toEqual(want.result);
          if (got?.kind === 'conflict') expect(got.code).toBe(want.code);
          if (got?.kind === 'conflict' && got.code === 'op_mismatch' && step.kind === 'mismatch')
            expect(opDigest(op)).not.toBe(opDigest(sent.get(step.client)!.op));
        }
        const snap = sm.snapshotState();
        expect(snap.data).toEqual(Object.fromEntries(model.data));
        expect(new Map(snap.sessions.map((s) => [s.clientId, s.lastSeq]))).toEqual(
          new Map([...model.sessions].map(([id, s]) => [id, s.seq])),
        );
        expect(twin.snapshotState()).toEqual(snap); // determinism across replicas
        expect(snap.lastApplied).toBe(steps.length);
      }),
      { numRuns: 300 },
    );
  });
});

describe('KvStateMachine.fromSnapshot', () => {
  it('a machine restored from a snapshot applies the rest exactly as the original (property)', () => {
    fc.assert(
      fc.property(fc.array(arbStep, { maxLength: 80 }), fc.nat(80), fc.integer({ min: 1, max: 4 }), (steps, splitAt, maxSessions) => {
        const original = new KvStateMachine({ ...quiet, maxSessions });
        let restored: KvStateMachine | null = null;
        // What each client last sent (as in the reference-model property above): retries, stale seqs, mismatched ops, imposters.
        const sent = new Map<number, { seq: number; op: KvOp }>();
        steps.forEach((step, i) => {
          if (i === Math.min(splitAt, steps.length - 1))
            restored = KvStateMachine.fromSnapshot(original.snapshotState(), { ...quiet, maxSessions });
          const index = i + 1;
          let entry: Entry;
          if (step.kind === 'noop') entry = { term: 1, index, type: 'noop', data: '' };
          else {
            const last = sent.get(step.client);
            let seq: number;
            let op: KvOp;
            let instance = 1;
            if (step.kind === 'imposter') {
              instance = 2;
              seq = Math.max(0, (last?.seq ?? 1) + step.shift);
              op = step.op;
            } else if (step.kind === 'new' || last === undefined) {
              seq = (last?.seq ?? 0) + 1;
              op = step.kind === 'new' ? step.op : { type: 'put', key: 'a', value: `v${index}` };
              sent.set(step.client, { seq, op });
            } else if (step.kind === 'retry') {
              ({ seq, op } = last);
            } else if (step.kind === 'mismatch') {
              seq = last.seq;
              op = step.op;
            } else {
              seq = Math.max(0, last.seq - step.back);
              op = { type: 'put', key: 'a', value: `v${index}` };
            }
            entry = { term: 1, index, type: 'command', data: encodeCommand({ clientId: `client-${step.client}`, instance, seq, op }) };
          }
          const want = original.apply(entry);
          if (restored !== null) expect((restored as KvStateMachine).apply(entry)).toEqual(want);
        });
        if (restored !== null) expect((restored as KvStateMachine).snapshotState()).toEqual(original.snapshotState());
      }),
      { numRuns: 200 },
    );
  });

  it('refuses a session list out of eviction order', () => {
    const result = { status: 'ok', value: null } as const;
    expect(() =>
      KvStateMachine.fromSnapshot({
        lastApplied: 5,
        data: {},
        sessions: [
          { clientId: 'a', instance: 1, lastSeq: 1, digest: 'd', result, lastUsedIndex: 4 },
          { clientId: 'b', instance: 1, lastSeq: 1, digest: 'd', result, lastUsedIndex: 2 },
        ],
        undecodable: 0,
      }),
    ).toThrow(/least recently used first/);
  });
});

describe("the bound on the state's stored form (MAX_STATE_BYTES)", () => {
  // A state whose snapshot text outgrew what V8 can hold in one string made every snapshot throw, and every replica
  // stopped at the same index, again after each restart (12,000 keys of 8,192 bytes of U+0001 at the real bound).
  it('refuses a write that would grow the stored form past the bound, on every replica alike, and always applies deletes', () => {
    const options = { ...quiet, maxStateBytes: 3000 };
    const a = new Feeder(new KvStateMachine(options));
    const b = new Feeder(new KvStateMachine(options));
    const big = '\u0001'.repeat(100); // 600 bytes in JSON
    const results: KvResult[] = [];
    for (let i = 1; i <= 6; i++) {
      const ra = a.cmd('c1', i, { type: 'put', key: `k${i}`, value: big });
      const rb = b.cmd('c1', i, { type: 'put', key: `k${i}`, value: big });
      expect(rb).toEqual(ra);
      if (ra?.kind === 'applied') results.push(ra.result);
    }
    expect(results.slice(0, 2).every((r) => r.status === 'ok')).toBe(true);
    const refused = results.find((r) => r.status === 'invalid');
    expect(refused).toMatchObject({ status: 'invalid', code: 'state_full' });
    expect(refused?.status === 'invalid' && refused.message).toMatch(/^the state's stored form would be \d+ bytes; it holds at most 3000/);
    const kept = results.filter((r) => r.status === 'ok').length;
    expect(a.sm.snapshotState().data).toEqual(Object.fromEntries(Array.from({ length: kept }, (_, i) => [`k${i + 1}`, big])));
    expect(a.sm.encodeSnapshot()).toBe(b.sm.encodeSnapshot());
    // A delete makes room; a small write fits where a large one does not.
    expect(a.cmd('c1', 7, { type: 'put', key: 'x', value: big })?.kind === 'applied').toBe(true);
    expect(a.cmd('c2', 1, { type: 'delete', key: 'k1' })).toMatchObject({ kind: 'applied', result: { status: 'ok', value: null } });
    expect(a.cmd('c2', 2, { type: 'put', key: 'k1', value: 'small' })).toMatchObject({ kind: 'applied', result: { status: 'ok' } });
    // A large value counts twice (the data, and the session's cached result): two deletes make room for one.
    expect(a.cmd('c2', 3, { type: 'put', key: 'k7', value: big })).toMatchObject({ result: { code: 'state_full' } });
    a.cmd('c3', 1, { type: 'delete', key: 'k1' });
    a.cmd('c3', 2, { type: 'delete', key: 'k2' });
    expect(a.cmd('c2', 4, { type: 'put', key: 'k7', value: big })).toMatchObject({ kind: 'applied', result: { status: 'ok' } });
    expect(a.sm.storedBytes).toBeGreaterThanOrEqual(Buffer.byteLength(a.sm.encodeSnapshot(), 'utf8'));
  });

  it(`its count is an upper bound of the snapshot's length, within the bound plus the sessions' margin, and restored alike (seed ${seed})`, () => {
    const value = fc.oneof(
      fc.constantFrom('', 'v', '"', '\\'),
      fc.string({ maxLength: 60 }),
      fc.constantFrom('\u0001'.repeat(50), 'é'.repeat(40), '"'.repeat(70)),
    );
    const op: fc.Arbitrary<KvOp> = fc.oneof(
      fc.record({ type: fc.constant('put' as const), key: fc.constantFrom('a', 'b', 'c', '\u0002'), value }),
      fc.record({ type: fc.constant('delete' as const), key: fc.constantFrom('a', 'b', 'c', '\u0002') }),
      fc.record({ type: fc.constant('get' as const), key: fc.constantFrom('a', 'b', 'c') }),
      fc.record({ type: fc.constant('cas' as const), key: fc.constantFrom('a', 'b'), expected: fc.option(value), value }),
    );
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 5 }), op), { maxLength: 120 }),
        fc.integer({ min: 300, max: 2000 }),
        (steps, max) => {
          const maxSessions = 4;
          const f = new Feeder(new KvStateMachine({ ...quiet, maxSessions, maxStateBytes: max }));
          const seqs = new Map<number, number>();
          for (const [client, o] of steps) {
            const seq = (seqs.get(client) ?? 0) + 1;
            seqs.set(client, seq);
            f.cmd(`client-${client}`, seq, o);
            const text = f.sm.encodeSnapshot();
            expect(f.sm.storedBytes).toBeGreaterThanOrEqual(text.length);
            // Past the bound only by what refusals and deletes add: a small session record per client.
            expect(Buffer.byteLength(text, 'utf8')).toBeLessThanOrEqual(max + maxSessions * 400);
            const restored = new KvStateMachine({ ...quiet, maxSessions, maxStateBytes: max });
            expect(restored.restoreSnapshot(text)).toEqual({ ok: true });
            expect(restored.storedBytes).toBe(f.sm.storedBytes);
            expect(KvStateMachine.fromSnapshot(f.sm.snapshotState(), { ...quiet, maxSessions, maxStateBytes: max }).storedBytes).toBe(
              f.sm.storedBytes,
            );
          }
        },
      ),
      { seed, numRuns: 60 },
    );
  });
});

describe('MAX_STATE_BYTES', () => {
  it("leaves the sessions' margin below the longest string V8 can build and the largest snapshot file", () => {
    // What refusals and deletes may still add past the bound: one session record each, the client id at its longest
    // (MAX_ID_CHARS, each character at most 6 in JSON) and a state_full result.
    const refusal: KvResult = {
      status: 'invalid',
      code: 'state_full',
      message: `the state's stored form would be ${'9'.repeat(16)} characters; it holds at most ${MAX_STATE_BYTES} (delete keys to make room)`,
    };
    const margin = DEFAULT_MAX_SESSIONS * sessionBytes('\u0001'.repeat(MAX_ID_CHARS), refusal);
    expect(MAX_STATE_BYTES + margin).toBeLessThan(constants.MAX_STRING_LENGTH);
    // The snapshot file adds its header and metadata (a configuration: at most 64 KiB).
    expect(MAX_STATE_BYTES + margin + 64 * 1024 + 16).toBeLessThan(MAX_SNAPSHOT_BYTES);
  });
});

describe('client keys named like Object.prototype', () => {
  it('survive snapshotState and fromSnapshot (the model checker restores replicas so)', () => {
    const f = new Feeder(new KvStateMachine(quiet));
    f.cmd('c1', 1, { type: 'put', key: '__proto__', value: 'p' });
    f.cmd('c1', 2, { type: 'put', key: 'constructor', value: 'c' });
    const state = f.sm.snapshotState();
    expect(Object.keys(state.data).sort()).toEqual(['__proto__', 'constructor']);
    const restored = KvStateMachine.fromSnapshot(state, quiet);
    expect(restored.read('__proto__')).toBe('p');
    expect(restored.encodeSnapshot()).toBe(f.sm.encodeSnapshot());
  });
});
