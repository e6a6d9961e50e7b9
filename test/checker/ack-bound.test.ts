import { describe, expect, test } from 'vitest';
import { AckLedger, type AckAppend, type AckResponse } from '../../checker/ack-bound.js';

type AppendFields = Partial<Omit<AckAppend, 'entries'>> & { seq: number; prevLogIndex: number; entries: number };
const append = ({ entries, ...fields }: AppendFields): AckAppend => ({
  term: 2,
  from: 'n1',
  to: 'n2',
  leaderCommit: 0,
  ...fields,
  entries: { length: entries },
});

const ack = (seq: number, matchIndex: number, fields: Partial<AckResponse> = {}): AckResponse => ({
  term: 2,
  from: 'n2',
  to: 'n1',
  success: true,
  matchIndex,
  seq,
  ...fields,
});

const chunk = (seq: number, index: number, fields: { term?: number; from?: string; to?: string } = {}) => ({
  term: fields.term ?? 2,
  from: fields.from ?? 'n1',
  to: fields.to ?? 'n2',
  seq,
  snapshot: { index },
});

describe('AckLedger: an acknowledgement vouches only for what its request carried or what is committed', () => {
  test('AppendEntries: up to prevLogIndex + entries is founded; one past it is not', () => {
    const ledger = new AckLedger();
    ledger.append(append({ seq: 1, prevLogIndex: 4, entries: 3 }));
    expect(ledger.response(ack(1, 7))).toBeNull();
    ledger.append(append({ seq: 2, prevLogIndex: 7, entries: 0 }));
    expect(ledger.response(ack(2, 7))).toBeNull();
    const v = ledger.response(ack(2, 8));
    expect(v).toMatchObject({ follower: 'n2', leader: 'n1', term: 2, seq: 2, matchIndex: 8, request: 'append_entries', reach: 7 });
    expect(v?.message).toMatch(
      /unfounded acknowledgement: n2 answered its AppendEntries \(seq 2\) reaching index 7 from n1 in term 2 with matchIndex 8/,
    );
    expect(ledger.counts).toEqual({ judged: 3, unknownRequest: 0 });
  });

  test('an old request is answered with the commit index the follower learnt (node/raft/raft.ts): founded', () => {
    const ledger = new AckLedger();
    ledger.append(append({ seq: 1, prevLogIndex: 0, entries: 10, leaderCommit: 10 }));
    ledger.append(append({ seq: 2, prevLogIndex: 3, entries: 2 })); // delayed, or duplicated
    expect(ledger.response(ack(1, 10))).toBeNull();
    expect(ledger.response(ack(2, 10))).toBeNull();
    // It can have learnt no more than min(leaderCommit, prevLogIndex + entries) of what it was sent (Figure 2).
    ledger.append(append({ seq: 3, prevLogIndex: 10, entries: 0, leaderCommit: 15 }));
    expect(ledger.response(ack(2, 11))).toMatchObject({ reach: 5, commitBound: 10 });
  });

  test('InstallSnapshot: the snapshot index (or what is committed) is founded; a kept log past it is not', () => {
    const ledger = new AckLedger();
    ledger.append(append({ seq: 1, prevLogIndex: 0, entries: 9, leaderCommit: 4 })); // n2 holds 1-9, knows 4 committed
    ledger.snapshotChunk(chunk(2, 6));
    ledger.snapshotChunk(chunk(2, 6)); // every chunk of the stream names it
    expect(ledger.response(ack(2, 6))).toBeNull();
    const v = ledger.response(ack(2, 9));
    expect(v).toMatchObject({ request: 'install_snapshot', reach: 6, commitBound: 6, matchIndex: 9 });
    expect(v?.message).toMatch(/its InstallSnapshot \(seq 2\) of a snapshot through index 6/);
    // One report per follower and leader-term: the first says it.
    expect(ledger.response(ack(2, 9))).toBeNull();
    // Another leader-term is reported on its own.
    ledger.snapshotChunk(chunk(1, 6, { term: 3 }));
    expect(ledger.response(ack(1, 9, { term: 3 }))).not.toBeNull();
  });

  test('a snapshot already covered by the commit index is answered with it: founded', () => {
    const ledger = new AckLedger();
    ledger.append(append({ seq: 1, prevLogIndex: 0, entries: 12, leaderCommit: 12 }));
    ledger.snapshotChunk(chunk(2, 6)); // an old stream, arriving late
    expect(ledger.response(ack(2, 12))).toBeNull();
  });

  test('a former leader answers with what it committed, which only acknowledgements it got can reach', () => {
    const ledger = new AckLedger();
    // n2 led term 2: n3 acknowledged 30 (seen on its way), n2 never advertised it.
    ledger.append(append({ term: 2, from: 'n2', to: 'n3', seq: 1, prevLogIndex: 0, entries: 30 }));
    expect(ledger.response(ack(1, 30, { term: 2, from: 'n3', to: 'n2' }))).toBeNull();
    // n1 leads term 3 and sends n2 an older snapshot: n2 answers its commit index.
    ledger.snapshotChunk(chunk(1, 20, { term: 3 }));
    expect(ledger.response(ack(1, 30, { term: 3 }))).toBeNull();
    expect(ledger.response(ack(1, 31, { term: 3 }))).toMatchObject({ commitBound: 30 });
  });

  test('failures, answers to requests never seen, and answers from another node are not judged', () => {
    const ledger = new AckLedger({ maxRequests: 2 });
    ledger.append(append({ seq: 1, prevLogIndex: 0, entries: 1 }));
    expect(ledger.response(ack(1, 50, { success: false }))).toBeNull();
    expect(ledger.response(ack(9, 50))).toBeNull();
    expect(ledger.response(ack(1, 50, { from: 'n3' }))).toBeNull();
    // Bounded: a third request evicts the first.
    ledger.append(append({ seq: 2, prevLogIndex: 1, entries: 1 }));
    ledger.append(append({ seq: 3, prevLogIndex: 2, entries: 1 }));
    expect(ledger.response(ack(1, 50))).toBeNull();
    expect(ledger.counts).toEqual({ judged: 0, unknownRequest: 3 });
    expect(ledger.response(ack(3, 50))).not.toBeNull();
  });

  test('bounded over many requests: only the newest maxRequests are judged; keys beyond the numeric range work', () => {
    const ledger = new AckLedger({ maxRequests: 10 });
    for (let seq = 1; seq <= 10_000; seq++) ledger.append(append({ seq, prevLogIndex: 0, entries: 1 }));
    ledger.response(ack(9_990, 1)); // evicted: not judged
    ledger.response(ack(9_991, 1));
    ledger.response(ack(10_000, 1));
    expect(ledger.counts).toEqual({ judged: 2, unknownRequest: 1 });
    // A seq past 2^32 and a term past 2^21 are keyed as text, never confused with a numeric key.
    const big = new AckLedger();
    big.append(append({ seq: 2 ** 40, prevLogIndex: 0, entries: 1 }));
    big.append(append({ term: 2 ** 30, seq: 1, prevLogIndex: 0, entries: 1 }));
    expect(big.response(ack(2 ** 40, 50))).not.toBeNull();
    expect(big.response(ack(1, 50, { term: 2 ** 30 }))).not.toBeNull();
    expect(big.response(ack(1, 1, { term: 2 }))).toBeNull();
    expect(big.counts).toEqual({ judged: 2, unknownRequest: 1 });
  });
});
