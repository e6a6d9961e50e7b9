/**
 * coalesceAcks: which acknowledgements a Ready may leave out, and (the
 * property that matters) that a real leader core ends in the same state
 * whether it steps every answer or only the coalesced ones.
 *
 * Replay: the fast-check seed is in the test name
 * (`ACK_COALESCING_SEED=<seed> npx vitest run test/node/ack-coalescing.test.ts`).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { coalesceAcks } from '../../node/ack-coalescing.js';
import type { RaftNode } from '../../node/raft/raft.js';
import type { AppendEntriesResponse, RaftMessage } from '../../node/raft/types.js';
import { appendEntries, appendResponse, makeLeader, newNode, voteResponse } from './raft/helpers.js';

const ok = (to: string, term: number, matchIndex: number, seq: number): AppendEntriesResponse =>
  appendResponse({ from: 'n2', to, term, success: true, matchIndex, seq });

describe('coalesceAcks', () => {
  it('keeps only the last of successes to the same leader in the same term when it dominates', () => {
    const a = ok('n1', 2, 5, 3);
    const b = ok('n1', 2, 7, 4);
    expect(coalesceAcks([a, b])).toEqual([b]);
  });

  it('keeps an earlier success that a later one does not dominate in both fields (reordered requests)', () => {
    const higherSeqFirst = ok('n1', 2, 7, 9);
    const lowerSeqLater = ok('n1', 2, 7, 8);
    expect(coalesceAcks([higherSeqFirst, lowerSeqLater])).toEqual([higherSeqFirst, lowerSeqLater]);
    const higherIndexFirst = ok('n1', 2, 9, 3);
    const lowerIndexLater = ok('n1', 2, 7, 4);
    expect(coalesceAcks([higherIndexFirst, lowerIndexLater])).toEqual([higherIndexFirst, lowerIndexLater]);
  });

  it('keeps rejections, other terms, other recipients and every other message, in order', () => {
    const reject = appendResponse({ from: 'n2', to: 'n1', term: 2, success: false, matchIndex: 3, seq: 5 });
    const otherTerm = ok('n1', 1, 2, 1);
    const otherLeader = ok('n3', 2, 2, 1);
    const vote = voteResponse({ from: 'n2', to: 'n3', term: 2, voteGranted: false });
    const append = appendEntries({ from: 'n2', to: 'n3', term: 2, prevLogIndex: 0, prevLogTerm: 0, entries: [], leaderCommit: 0 });
    const last = ok('n1', 2, 9, 9);
    const messages: RaftMessage[] = [reject, otherTerm, otherLeader, vote, append, last];
    expect(coalesceAcks(messages)).toEqual(messages);
  });

  it('returns the same array when there is nothing to leave out', () => {
    const messages = [ok('n1', 2, 5, 3)];
    expect(coalesceAcks(messages)).toBe(messages);
  });

  const seed = Number(process.env['ACK_COALESCING_SEED'] ?? Math.floor(Math.random() * 0x7fffffff));

  /**
   * A 3-node leader n1 in term 1: its noop committed with n2's answer, `count`
   * entries proposed and persisted, then a read round (ReadIndex) in flight.
   */
  function leaderWithEntries(count: number): { leader: RaftNode; term: number; maxSeq: number } {
    const leader = newNode({ id: 'n1', overrides: { preVote: false } });
    let maxSeq = 0;
    const note = (messages: readonly RaftMessage[]): void => {
      for (const m of messages) if (m.type === 'append_entries') maxSeq = Math.max(maxSeq, m.seq);
    };
    note(makeLeader(leader));
    const term = leader.status().currentTerm;
    leader.persisted(leader.status().lastLogIndex);
    leader.step(ok('n1', term, 1, 1));
    note(leader.ready().messages);
    for (let i = 0; i < count; i++) leader.propose(`v${i}`);
    note(leader.ready().messages);
    leader.persisted(leader.status().lastLogIndex);
    leader.readIndex('r1');
    note(leader.ready().messages);
    return { leader, term, maxSeq };
  }

  function observable(leader: RaftNode): unknown {
    const ready = leader.ready();
    return {
      status: leader.status(),
      n2: leader.progressOf('n2'),
      n3: leader.progressOf('n3'),
      readStates: ready.readStates,
      committed: ready.committedEntries.map((e) => e.index),
    };
  }

  it(`a leader stepping the coalesced answers ends as it does stepping all of them (fast-check seed ${seed})`, () => {
    const count = 6;
    const { term, maxSeq } = leaderWithEntries(count);
    const last = count + 1;
    const answer = fc.record({
      from: fc.constantFrom('n2', 'n3'),
      success: fc.boolean(),
      matchIndex: fc.integer({ min: 0, max: last }),
      seq: fc.integer({ min: 1, max: maxSeq }),
      termOffset: fc.constantFrom(0, 0, 0, -1),
    });
    fc.assert(
      fc.property(fc.array(answer, { maxLength: 12 }), (answers) => {
        const messages: AppendEntriesResponse[] = answers.map((a) =>
          appendResponse({
            from: a.from,
            to: 'n1',
            term: term + a.termOffset,
            success: a.success,
            matchIndex: a.matchIndex,
            seq: a.seq,
            conflictIndex: a.success ? 0 : a.matchIndex,
          }),
        );
        // A Ready holds one follower's answers; the leader gets each follower's separately.
        const coalesced = (['n2', 'n3'] as const).flatMap((f) => coalesceAcks(messages.filter((m) => m.from === f)));
        const all = (['n2', 'n3'] as const).flatMap((f) => messages.filter((m) => m.from === f));
        const a = leaderWithEntries(count).leader;
        const b = leaderWithEntries(count).leader;
        for (const m of all) a.step(m);
        for (const m of coalesced) b.step(m);
        expect(observable(b)).toEqual(observable(a));
      }),
      { seed, numRuns: 400 },
    );
  });

  it('the property can fail: leaving out a dominating success changes what the leader knows', () => {
    const { term } = leaderWithEntries(6);
    const a = leaderWithEntries(6).leader;
    const b = leaderWithEntries(6).leader;
    const first = ok('n1', term, 3, 1);
    const second = ok('n1', term, 7, 2);
    for (const m of [first, second]) a.step(m);
    b.step(first); // a wrong coalescing that kept the dominated one
    expect(observable(b)).not.toEqual(observable(a));
  });
});
