/**
 * The KV state machine's snapshot (§7; dissertation ch. 5 and §6.3): apply a
 * random log, snapshot at a random point, restore into a fresh machine and
 * apply the rest there: every later apply answers exactly as on the machine
 * that never stopped, and the final states are identical (data, session
 * table with its eviction order, counters). A restore is all or nothing.
 *
 * Replay: the fast-check seed is in the test name
 * (`KV_SNAPSHOT_SEED=<seed> npx vitest run test/node/kv/snapshot.test.ts`).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeCommand, opDigest } from '../../../node/kv/command.js';
import { KV_SNAPSHOT_FORMAT, KV_SNAPSHOT_VERSION, KvStateMachine } from '../../../node/kv/state-machine.js';
import { sessionFromSnapshot, sessionToSnapshot } from '../../../node/kv/sessions.js';
import type { KvOp } from '../../../node/protocol.js';
import type { Entry } from '../../../node/raft/types.js';

const quiet = { log: (): void => {} };

type Step =
  | { readonly kind: 'command'; readonly client: number; readonly seqDelta: number; readonly op: KvOp }
  | { readonly kind: 'noop' }
  | { readonly kind: 'config' }
  | { readonly kind: 'garbage' };

const key = fc.constantFrom('a', 'b', 'c', 'ä', '__proto__');
const value = fc.string({ maxLength: 6 });
const opArb: fc.Arbitrary<KvOp> = fc.oneof(
  fc.record({ type: fc.constant('get' as const), key }),
  fc.record({ type: fc.constant('put' as const), key, value }),
  fc.record({ type: fc.constant('delete' as const), key }),
  fc.record({ type: fc.constant('cas' as const), key, expected: fc.option(value, { nil: null }), value }),
);
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  // seqDelta: 1 is the next command, 0 a retry of the last one, negative a stale one.
  {
    weight: 10,
    arbitrary: fc.record({
      kind: fc.constant('command' as const),
      client: fc.nat({ max: 5 }),
      seqDelta: fc.integer({ min: -2, max: 1 }),
      op: opArb,
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'noop' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'config' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'garbage' as const }) },
);

/** The log the steps describe (indices from 1), with per-client seqs that retry and go stale. */
function logOf(steps: readonly Step[]): Entry[] {
  const seqs = new Map<number, number>();
  return steps.map((step, i): Entry => {
    const index = i + 1;
    switch (step.kind) {
      case 'command': {
        const seq = Math.max(0, (seqs.get(step.client) ?? 0) + step.seqDelta);
        if (step.seqDelta === 1) seqs.set(step.client, seq);
        return { term: 1, index, type: 'command', data: encodeCommand({ clientId: `c${step.client}`, instance: 1, seq, op: step.op }) };
      }
      case 'noop':
        return { term: 1, index, type: 'noop', data: '' };
      case 'config':
        return { term: 1, index, type: 'config', data: '{"change":{"type":"add_learner","node":"n4"},"voters":["n1"],"learners":["n4"]}' };
      case 'garbage':
        return { term: 1, index, type: 'command', data: '{not json' };
    }
  });
}

function everything(machine: KvStateMachine): unknown {
  return { text: machine.encodeSnapshot(), state: machine.snapshotState() };
}

const GET_DIGEST = opDigest({ type: 'get', key: 'a' });
const PUT_DIGEST = opDigest({ type: 'put', key: 'k', value: 'v' });

const seed = Number(process.env['KV_SNAPSHOT_SEED'] ?? Math.floor(Math.random() * 0x7fffffff));

describe('KvStateMachine snapshots', () => {
  it(`snapshot at any point, restore, apply the rest: identical answers and state (fast-check seed ${seed})`, () => {
    let checkedAfterSnapshot = 0;
    fc.assert(
      fc.property(
        fc.array(stepArb, { minLength: 1, maxLength: 120 }),
        fc.nat(),
        fc.integer({ min: 1, max: 4 }),
        (steps, cut, maxSessions) => {
          const log = logOf(steps);
          const at = cut % (log.length + 1);
          const straight = new KvStateMachine({ ...quiet, maxSessions });
          const before = new KvStateMachine({ ...quiet, maxSessions });
          for (const entry of log.slice(0, at)) {
            expect(before.apply(entry)).toEqual(straight.apply(entry));
          }
          const text = before.encodeSnapshot();
          const restored = new KvStateMachine({ ...quiet, maxSessions });
          expect(restored.restoreSnapshot(text)).toEqual({ ok: true });
          expect(restored.lastApplied).toBe(at);
          // Restoring reproduces the snapshot exactly (same bytes: comparable checksums across replicas).
          expect(restored.encodeSnapshot()).toBe(text);
          for (const entry of log.slice(at)) {
            const expected = straight.apply(entry);
            expect(restored.apply(entry), `entry ${entry.index} after a snapshot at ${at}`).toEqual(expected);
            checkedAfterSnapshot++;
          }
          expect(everything(restored)).toEqual(everything(straight));
          for (let client = 0; client <= 5; client++) {
            for (let seq = 0; seq <= 4; seq++) {
              for (const [instance, digest] of [
                [1, GET_DIGEST],
                [2, GET_DIGEST],
                [1, PUT_DIGEST],
              ] as const) {
                expect(restored.sessionCheck(`c${client}`, instance, seq, digest)).toEqual(
                  straight.sessionCheck(`c${client}`, instance, seq, digest),
                );
              }
            }
          }
        },
      ),
      { seed, numRuns: 300 },
    );
    // Not vacuous: entries were applied after restores.
    expect(checkedAfterSnapshot).toBeGreaterThan(300);
  });

  it(`a snapshot read a piece at a time while entries go on being applied is the state at its start, byte for byte (fast-check seed ${seed})`, () => {
    // The reference is the one-call encoding the node used before snapshot-writer.ts, written out here on purpose.
    const reference = (m: KvStateMachine): string => {
      const state = m.snapshotState();
      return JSON.stringify({
        format: KV_SNAPSHOT_FORMAT,
        version: KV_SNAPSHOT_VERSION,
        lastApplied: state.lastApplied,
        undecodable: state.undecodable,
        data: Object.keys(state.data)
          .sort()
          .map((k) => [k, state.data[k]]),
        sessions: state.sessions.map(sessionToSnapshot),
      });
    };
    let appliedWhileOpen = 0;
    fc.assert(
      fc.property(
        fc.array(stepArb, { minLength: 1, maxLength: 120 }),
        fc.nat(),
        fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 8 }),
        (steps, cut, budgets) => {
          const log = logOf(steps);
          const at = cut % (log.length + 1);
          const machine = new KvStateMachine({ ...quiet, maxSessions: 3 });
          const frozen = new KvStateMachine({ ...quiet, maxSessions: 3 });
          for (const entry of log.slice(0, at)) {
            machine.apply(entry);
            frozen.apply(entry);
          }
          const bound = machine.storedBytes;
          const writer = machine.beginSnapshot();
          expect(() => machine.beginSnapshot()).toThrow(/already open/);
          // A one-call encoding meanwhile (the host's state digest) reads the state as it is, and leaves the writer open.
          expect(machine.encodeSnapshot()).toBe(reference(frozen));
          const pieces: string[] = [];
          let next = at;
          for (let i = 0; ; i++) {
            const piece = writer.next(budgets[i % budgets.length]!);
            if (piece === null) break;
            pieces.push(piece);
            // Between pieces, the state machine applies the next entries (writes, deletes, sessions evicted).
            for (let k = 0; k < 2 && next < log.length; k++, appliedWhileOpen++) machine.apply(log[next++]!);
            if (i === 1) expect(machine.encodeSnapshot()).toBe(reference(machine)); // the digest's view: the state now
          }
          const text = pieces.join('');
          expect(text).toBe(reference(frozen));
          expect(Buffer.byteLength(text, 'utf8')).toBeLessThanOrEqual(bound);
          // The writer closed: a new one may open, and it sees the state as it is now.
          for (const entry of log.slice(next)) machine.apply(entry);
          expect(machine.encodeSnapshot()).toBe(reference(machine));
        },
      ),
      { seed, numRuns: 300 },
    );
    expect(appliedWhileOpen).toBeGreaterThan(300); // not vacuous
  });

  it('a restore abandons an open writer (its state is gone); the next writer opens', () => {
    const machine = new KvStateMachine(quiet);
    const donor = new KvStateMachine(quiet);
    const put = (index: number, key: string, v: string): Entry => ({
      term: 1,
      index,
      type: 'command',
      data: encodeCommand({ clientId: 'c', instance: 1, seq: index, op: { type: 'put', key, value: v } }),
    });
    for (let i = 1; i <= 3; i++) machine.apply(put(i, `k${i}`, 'old'));
    for (let i = 1; i <= 5; i++) donor.apply(put(i, `k${i}`, 'new'));
    const writer = machine.beginSnapshot();
    expect(writer.next(1)).not.toBeNull();
    expect(machine.restoreSnapshot(donor.encodeSnapshot())).toEqual({ ok: true });
    expect(writer.abandoned).toBe(true);
    expect(() => writer.next(1)).toThrow(/abandoned/);
    expect(machine.encodeSnapshot()).toBe(donor.encodeSnapshot());
  });

  it('carries the session table: a retry after the restore gets the cached answer, not a second apply', () => {
    const first = new KvStateMachine(quiet);
    const put = (index: number, seq: number, v: string): Entry => ({
      term: 1,
      index,
      type: 'command',
      data: encodeCommand({ clientId: 'c', instance: 1, seq, op: { type: 'put', key: 'k', value: v } }),
    });
    first.apply(put(1, 1, 'x'));
    const restored = new KvStateMachine(quiet);
    expect(restored.restoreSnapshot(first.encodeSnapshot())).toEqual({ ok: true });
    // The retry of seq 1 at index 2 (the client did not hear the answer) is a duplicate.
    expect(restored.apply(put(2, 1, 'x'))).toEqual({
      kind: 'duplicate',
      index: 2,
      clientId: 'c',
      seq: 1,
      result: { status: 'ok', value: 'x' },
    });
    expect(restored.sessionCheck('c', 1, 1, opDigest({ type: 'put', key: 'k', value: 'x' }))).toEqual({
      kind: 'duplicate',
      result: { status: 'ok', value: 'x' },
    });
    // The session's owner and op digest came through the snapshot too.
    expect(restored.sessionCheck('c', 2, 1, opDigest({ type: 'put', key: 'k', value: 'x' }))).toMatchObject({
      kind: 'conflict',
      code: 'session_conflict',
    });
    expect(restored.sessionCheck('c', 1, 1, opDigest({ type: 'put', key: 'k', value: 'y' }))).toMatchObject({
      kind: 'conflict',
      code: 'op_mismatch',
    });
  });

  it('refuses a damaged snapshot and keeps its state (all or nothing)', () => {
    const source = new KvStateMachine(quiet);
    source.apply({
      term: 1,
      index: 1,
      type: 'command',
      data: encodeCommand({ clientId: 'c', instance: 1, seq: 1, op: { type: 'put', key: 'k', value: 'v' } }),
    });
    const good = source.encodeSnapshot();
    const target = new KvStateMachine(quiet);
    target.apply({
      term: 1,
      index: 1,
      type: 'command',
      data: encodeCommand({ clientId: 'd', instance: 1, seq: 1, op: { type: 'put', key: 'j', value: 'w' } }),
    });
    const kept = everything(target);
    const parsed = JSON.parse(good) as Record<string, unknown>;
    const damaged = [
      good.slice(0, good.length - 3),
      JSON.stringify({ ...parsed, version: 2 }),
      JSON.stringify({ ...parsed, extra: 1 }),
      JSON.stringify({ ...parsed, lastApplied: -1 }),
      JSON.stringify({
        ...parsed,
        data: [
          ['k', 'v'],
          ['a', 'b'],
        ],
      }), // not sorted
      JSON.stringify({ ...parsed, data: [['k', 1]] }),
      JSON.stringify({
        ...parsed,
        sessions: [{ clientId: 'c', instance: 1, lastSeq: 1, digest: PUT_DIGEST, result: { status: 'ok', value: 'v' } }],
      }), // a field missing
      JSON.stringify({
        ...parsed,
        sessions: [{ clientId: 'c', instance: 1, lastSeq: 1, digest: PUT_DIGEST, result: { status: 'weird' }, lastUsedIndex: 1 }],
      }),
      JSON.stringify({
        ...parsed,
        sessions: [{ clientId: 'c', instance: 1, lastSeq: 1, digest: PUT_DIGEST, result: { status: 'ok', value: 'v' }, lastUsedIndex: 5 }],
      }), // after lastApplied
      JSON.stringify({
        ...parsed,
        sessions: [
          { clientId: 'c', instance: 1, lastSeq: 1, digest: 'not-a-digest', result: { status: 'ok', value: 'v' }, lastUsedIndex: 1 },
        ],
      }),
      JSON.stringify({
        ...parsed,
        sessions: [{ clientId: 'c', instance: -1, lastSeq: 1, digest: PUT_DIGEST, result: { status: 'ok', value: 'v' }, lastUsedIndex: 1 }],
      }),
    ];
    for (const text of damaged) {
      const result = target.restoreSnapshot(text);
      expect(result.ok, text).toBe(false);
      expect(everything(target)).toEqual(kept);
    }
    expect(target.restoreSnapshot(good)).toEqual({ ok: true });
    expect(target.read('k')).toBe('v');
    expect(target.read('j')).toBeNull();
  });

  it('writes every session field and reads back exactly those', () => {
    const session = {
      clientId: 'c',
      instance: 9,
      lastSeq: 3,
      digest: PUT_DIGEST,
      result: { status: 'cas_mismatch' as const, actual: null },
      lastUsedIndex: 7,
    };
    const record = sessionToSnapshot(session);
    expect(Object.keys(record)).toEqual(['clientId', 'instance', 'lastSeq', 'digest', 'result', 'lastUsedIndex']);
    expect(sessionFromSnapshot(JSON.parse(JSON.stringify(record)))).toEqual({ ok: true, session });
    expect(sessionFromSnapshot({ ...record, extra: 1 }).ok).toBe(false);
    expect(sessionFromSnapshot({ ...record, lastUsedIndex: 0 }).ok).toBe(false);
  });
});
