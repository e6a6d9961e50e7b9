/**
 * The wire invariants shared by the harness's monitor and the simulator
 * (checker/raft-invariants.ts): one leader per term, one vote per term per
 * voter, pre-votes not counted, each violation reported once, bounded memory.
 *
 * Replay the property: `INVARIANTS_PROPERTY_SEED=<seed> npx vitest run test/checker/raft-invariants.test.ts`.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LeaderLedger, VoteLedger, grantedVote } from '../../checker/raft-invariants.js';

describe('grantedVote', () => {
  it('is a granted, non-pre-vote RequestVote response, and nothing else', () => {
    expect(grantedVote({ type: 'request_vote_response', term: 3, from: 'n2', to: 'n1', voteGranted: true, preVote: false })).toEqual({
      voter: 'n2',
      candidate: 'n1',
      term: 3,
    });
    expect(grantedVote({ type: 'request_vote_response', term: 3, from: 'n2', to: 'n1', voteGranted: false, preVote: false })).toBeNull();
    expect(grantedVote({ type: 'request_vote_response', term: 3, from: 'n2', to: 'n1', voteGranted: true, preVote: true })).toBeNull();
    expect(grantedVote({ type: 'request_vote', term: 3, from: 'n1', to: 'n2', preVote: false })).toBeNull();
    expect(grantedVote({ type: 'append_entries', term: 3, from: 'n1', to: 'n2' })).toBeNull();
  });
});

describe('VoteLedger', () => {
  it('reports a second candidate in one voter-term once, naming the first vote', () => {
    const votes = new VoteLedger();
    expect(votes.grant({ voter: 'n3', candidate: 'n1', term: 4 })).toBeNull();
    expect(votes.grant({ voter: 'n3', candidate: 'n1', term: 4 })).toBeNull(); // the same answer again is allowed
    expect(votes.grant({ voter: 'n2', candidate: 'n2', term: 4 })).toBeNull(); // another voter
    expect(votes.grant({ voter: 'n3', candidate: 'n1', term: 5 })).toBeNull(); // another term
    expect(votes.grant({ voter: 'n3', candidate: 'n2', term: 4 })).toBe('n1');
    expect(votes.grant({ voter: 'n3', candidate: 'n2', term: 4 })).toBeNull(); // reported once
    expect(votes.grant({ voter: 'n3', candidate: 'n5', term: 4 })).toBe('n1'); // a third candidate is a new violation
    expect(votes.votedFor('n3', 4)).toBe('n1');
    expect(votes.votedFor('n3', 6)).toBeUndefined();
  });

  it('forgets the oldest voter-terms beyond its bound', () => {
    const votes = new VoteLedger(2);
    votes.grant({ voter: 'n1', candidate: 'n1', term: 1 });
    votes.grant({ voter: 'n1', candidate: 'n1', term: 2 });
    votes.grant({ voter: 'n1', candidate: 'n1', term: 3 });
    expect(votes.votedFor('n1', 1)).toBeUndefined();
    expect(votes.votedFor('n1', 2)).toBe('n1');
    expect(votes.votedFor('n1', 3)).toBe('n1');
  });
});

describe('LeaderLedger', () => {
  it('reports a second leader of a term once, naming the first', () => {
    const leaders = new LeaderLedger();
    expect(leaders.claim(7, 'n2')).toBeNull();
    expect(leaders.claim(7, 'n2')).toBeNull();
    expect(leaders.claim(8, 'n4')).toBeNull();
    expect(leaders.claim(7, 'n4')).toBe('n2');
    expect(leaders.claim(7, 'n4')).toBeNull();
    expect(leaders.has(7, 'n4')).toBe(true);
    expect(leaders.has(8, 'n2')).toBe(false);
    expect(leaders.leadersOf(7)).toEqual(['n2', 'n4']);
    expect(leaders.leadersOf(9)).toEqual([]);
    expect(leaders.terms()).toEqual([7, 8]);
    expect(leaders.size).toBe(2);
  });

  it('forgets the oldest terms beyond its bound', () => {
    const leaders = new LeaderLedger(2);
    for (const term of [1, 2, 3]) leaders.claim(term, 'n1');
    expect(leaders.terms()).toEqual([2, 3]);
    expect(leaders.size).toBe(2);
  });

  const seed = Number(process.env['INVARIANTS_PROPERTY_SEED'] ?? Math.floor(Math.random() * 0x7fffffff));
  it(`reports exactly one violation per extra leader of a term and per extra candidate of a voter-term (fast-check seed ${seed})`, () => {
    const id = fc.constantFrom('n1', 'n2', 'n3');
    const event = fc.oneof(
      fc.record({ t: fc.constant('lead' as const), node: id, term: fc.integer({ min: 1, max: 4 }) }),
      fc.record({ t: fc.constant('vote' as const), voter: id, candidate: id, term: fc.integer({ min: 1, max: 4 }) }),
    );
    fc.assert(
      fc.property(fc.array(event, { maxLength: 40 }), (events) => {
        const leaders = new LeaderLedger();
        const votes = new VoteLedger();
        const leadersSeen = new Map<number, Set<string>>();
        const votesSeen = new Map<string, Set<string>>();
        let leaderReports = 0;
        let voteReports = 0;
        for (const e of events) {
          if (e.t === 'lead') {
            const first = leaders.claim(e.term, e.node);
            if (first !== null) {
              leaderReports++;
              expect(first).not.toBe(e.node);
            }
            leadersSeen.set(e.term, (leadersSeen.get(e.term) ?? new Set()).add(e.node));
          } else {
            const first = votes.grant(e);
            if (first !== null) {
              voteReports++;
              expect(first).not.toBe(e.candidate);
            }
            const key = `${e.voter} ${e.term}`;
            votesSeen.set(key, (votesSeen.get(key) ?? new Set()).add(e.candidate));
          }
        }
        const extra = (sets: Iterable<Set<string>>): number => [...sets].reduce((n, s) => n + s.size - 1, 0);
        expect(leaderReports).toBe(extra(leadersSeen.values()));
        expect(voteReports).toBe(extra(votesSeen.values()));
      }),
      { seed, numRuns: 300 },
    );
  });
});
