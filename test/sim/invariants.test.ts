import { describe, expect, it } from 'vitest';
import { InvariantChecker } from '../../sim/invariants.js';
import type { RaftNode } from '../../node/raft/raft.js';
import type { Entry, Role } from '../../node/raft/types.js';

/** A stand-in exposing only what the checker reads from a core. */
function core(role: Role, currentTerm: number, commitIndex: number, log: Entry[]): RaftNode {
  return {
    status: () => ({
      role,
      currentTerm,
      commitIndex,
      leaderId: null,
      lastLogIndex: log.length,
      lastLogTerm: log[log.length - 1]?.term ?? 0,
      votedFor: null,
    }),
    // What checkNode reads after every event, without a status object.
    isLeader: () => role === 'leader',
    term: () => currentTerm,
    committedIndex: () => commitIndex,
    lastLogIndex: () => log.length,
    log: () => log,
  } as unknown as RaftNode;
}

const e = (index: number, term: number, data = `d${index}.${term}`): Entry => ({ index, term, type: 'command', data });
const empty = { hardState: { currentTerm: 0, votedFor: null }, entries: [] };

function checker(durability = true) {
  const violations: string[] = [];
  const c = new InvariantChecker((m) => violations.push(m), durability);
  return { c, violations };
}

describe('InvariantChecker (Figure 3)', () => {
  it('accepts a consistent cluster', () => {
    const { c, violations } = checker();
    c.onStart('n1', empty);
    c.onStart('n2', empty);
    const log = [e(1, 1), e(2, 1)];
    c.checkNode('n1', core('leader', 1, 2, log));
    c.checkNode('n2', core('follower', 1, 1, log.slice()));
    c.onApply('n1', log[0]!);
    c.onApply('n2', log[0]!);
    expect(violations).toEqual([]);
  });

  it('catches two leaders in one term (Election Safety, §5.2)', () => {
    const { c, violations } = checker();
    c.onStart('n1', empty);
    c.onStart('n2', empty);
    c.checkNode('n1', core('leader', 3, 0, []));
    c.checkNode('n2', core('leader', 3, 0, []));
    expect(violations.join()).toMatch(/two leaders in term 3/);
  });

  it('catches a committed entry that changes, and different entries applied at one index', () => {
    const { c, violations } = checker();
    c.onStart('n1', empty);
    c.onStart('n2', empty);
    c.checkNode('n1', core('follower', 2, 1, [e(1, 1, 'a')]));
    c.checkNode('n2', core('follower', 2, 1, [e(1, 2, 'b')]));
    c.onApply('n1', e(1, 1, 'a'));
    c.onApply('n2', e(1, 2, 'b'));
    expect(violations.some((v) => v.startsWith('committed entry changed'))).toBe(true);
    expect(violations.some((v) => v.startsWith('state machine safety'))).toBe(true);
  });

  it('catches a leader that commits an old-term entry by counting replicas (leader commit rule, Figure 8)', () => {
    const { c, violations } = checker();
    c.onStart('n1', empty);
    const log = [e(1, 1), e(2, 1)];
    c.checkNode('n1', core('leader', 3, 0, log));
    c.checkNode('n1', core('leader', 3, 2, log)); // index 2 is of term 1: the §5.4.2 rule forbids it
    expect(violations.join()).toMatch(/leader commit rule: leader n1 of term 3 advanced commitIndex from 0 to 2, an entry of term 1/);
  });

  it('accepts old-term entries committed together with a current-term entry, and a new leader that starts with a higher commitIndex', () => {
    const { c, violations } = checker();
    c.onStart('n1', empty);
    const log = [e(1, 1), e(2, 1)];
    c.checkNode('n1', core('follower', 2, 1, log.slice()));
    c.checkNode('n1', core('leader', 3, 1, log.slice())); // learned commitIndex 1 as a follower
    c.checkNode('n1', core('leader', 3, 3, [...log, e(3, 3)]));
    expect(violations).toEqual([]);
  });

  it('catches Log Matching violations: same index and term, different entries', () => {
    const { c, violations } = checker();
    c.onStart('n1', empty);
    c.onStart('n2', empty);
    c.checkNode('n1', core('follower', 1, 0, [e(1, 1, 'x')]));
    c.checkNode('n2', core('follower', 1, 0, [e(1, 1, 'y')]));
    expect(violations.join()).toMatch(/log matching/);
  });

  it('catches a leader that rewrites its own log (Leader Append-Only) and a new leader missing a committed entry', () => {
    const { c, violations } = checker();
    c.onStart('n1', empty);
    c.onStart('n2', empty);
    c.checkNode('n1', core('leader', 2, 1, [e(1, 2, 'a'), e(2, 2, 'b')]));
    c.checkNode('n1', core('leader', 2, 1, [e(1, 2, 'a'), e(2, 2, 'c')]));
    expect(violations.join()).toMatch(/leader append-only/);
    c.checkNode('n2', core('leader', 3, 0, [e(1, 1, 'z')]));
    expect(violations.join()).toMatch(/leader completeness/);
  });

  it('Leader Completeness binds leaders of later terms only: a stale candidate elected in an old term owes nothing to later commits (§5.4)', () => {
    const { c, violations } = checker();
    c.onStart('n1', empty);
    c.onStart('n2', empty);
    c.onStart('n3', empty);
    // n1 commits entry 1 in term 3.
    c.checkNode('n1', core('leader', 3, 1, [e(1, 3, 'a')]));
    // n2, a candidate of term 2 whose votes arrived late (it was paused), becomes leader of term 2.
    c.checkNode('n2', core('leader', 2, 0, []));
    expect(violations).toEqual([]);
    // n3 leads term 4 without entry 1: that is the violation.
    c.checkNode('n3', core('leader', 4, 0, []));
    expect(violations.join()).toMatch(/leader completeness: n3 became leader of term 4 without committed entry 1 \(term 3\)/);
  });

  it('Leader Completeness also binds a leader elected before the entry committed (an old leader committing behind its back), durability checks off', () => {
    const { c, violations } = checker(false);
    c.onStart('n1', empty);
    c.onStart('n2', empty);
    c.onStart('n3', empty);
    c.checkNode('n1', core('leader', 1, 1, [e(1, 1, 'noop')]));
    // n2 leads term 2 with the noop (elected by n3, which then forgot its term in a crash).
    c.checkNode('n2', core('leader', 2, 1, [e(1, 1, 'noop'), e(2, 2, 'noop2')]));
    expect(violations).toEqual([]);
    // n1, still leading term 1, commits entry 2 of term 1 with n3's ack: n2 (term 2) does not hold it.
    c.checkNode('n1', core('leader', 1, 2, [e(1, 1, 'noop'), e(2, 1, 'put')]));
    expect(violations.join()).toMatch(/leader completeness: n2 leads term 2 without entry 2 \(term 1\), committed in term 1/);
  });

  it('an entry that commits while a later-term leader holds it is no violation', () => {
    const { c, violations } = checker();
    c.onStart('n1', empty);
    c.onStart('n2', empty);
    c.checkNode('n2', core('leader', 2, 0, [e(1, 1, 'a'), e(2, 2, 'noop')]));
    // A node still in term 1 learns that entry 1 (term 1) committed: n2, leading term 2, holds it.
    c.checkNode('n1', core('follower', 1, 1, [e(1, 1, 'a')]));
    expect(violations).toEqual([]);
  });

  it('catches forgotten terms and votes across a restart, and double votes on the wire', () => {
    const { c, violations } = checker();
    c.onStart('n1', empty);
    c.onSend('n1', { type: 'request_vote_response', term: 4, from: 'n1', to: 'n2', voteGranted: true, preVote: false });
    c.onStart('n1', { hardState: { currentTerm: 4, votedFor: null }, entries: [] });
    expect(violations.join()).toMatch(/granted its vote in term 4 to n2/);
    c.onStart('n1', { hardState: { currentTerm: 3, votedFor: null }, entries: [] });
    expect(violations.join()).toMatch(/restarted with currentTerm 3/);
    c.onSend('n1', { type: 'request_vote_response', term: 4, from: 'n1', to: 'n3', voteGranted: true, preVote: false });
    expect(violations.join()).toMatch(/two votes in term 4/);
  });

  it('ignores pre-votes, which carry a term the sender does not hold (§9.6)', () => {
    const { c, violations } = checker();
    c.onStart('n1', empty);
    c.onSend('n1', { type: 'request_vote', term: 9, from: 'n1', to: 'n2', lastLogIndex: 0, lastLogTerm: 0, preVote: true });
    c.onStart('n1', empty);
    expect(violations).toEqual([]);
  });
});
