/**
 * Thesis §10.2.1: the leader writes its own log in parallel with replication.
 * Its copy counts towards a commit quorum only once the driver reports it
 * durable with persisted(), so nothing commits on fewer than a majority of
 * durable copies.
 */
import { describe, expect, it } from 'vitest';
import { appendResponse, makeLeader, newNode, ofType } from './helpers.js';
import { ids } from './network.js';

describe('parallel leader append (thesis §10.2.1)', () => {
  const peers = ids(5);

  function leaderWithProposal(parallel: boolean) {
    const leader = newNode({ id: 'n1', peers, term: 1, overrides: { parallelLeaderAppend: parallel } });
    makeLeader(leader);
    // The noop of the new term: every follower acks it, and the leader persists it.
    const noopIndex = leader.status().lastLogIndex;
    leader.persisted(noopIndex);
    for (const peer of peers.slice(1))
      leader.step(
        appendResponse({
          from: peer,
          to: 'n1',
          term: leader.status().currentTerm,
          success: true,
          matchIndex: noopIndex,
        }),
      );
    leader.ready();
    expect(leader.status().commitIndex).toBe(noopIndex);
    const proposed = leader.propose('x');
    if (!proposed.ok) throw new Error('propose failed');
    const ready = leader.ready();
    expect(ofType(ready.messages, 'append_entries').some((m) => m.entries.length === 1)).toBe(true);
    return { leader, index: proposed.index };
  }

  it('two follower acks plus an unpersisted leader copy do not commit (2 durable copies of 5)', () => {
    const { leader, index } = leaderWithProposal(true);
    const term = leader.status().currentTerm;
    leader.step(appendResponse({ from: 'n2', to: 'n1', term, success: true, matchIndex: index }));
    leader.step(appendResponse({ from: 'n3', to: 'n1', term, success: true, matchIndex: index }));
    expect(leader.status().commitIndex).toBe(index - 1);
    leader.persisted(index);
    expect(leader.status().commitIndex).toBe(index);
    expect(leader.ready().committedEntries.map((e) => e.index)).toEqual([index]);
  });

  it('three follower acks commit without the leader copy (a durable majority)', () => {
    const { leader, index } = leaderWithProposal(true);
    const term = leader.status().currentTerm;
    for (const peer of ['n2', 'n3', 'n4']) leader.step(appendResponse({ from: peer, to: 'n1', term, success: true, matchIndex: index }));
    expect(leader.status().commitIndex).toBe(index);
  });

  it('control: without the option the leader counts its copy at once', () => {
    const { leader, index } = leaderWithProposal(false);
    const term = leader.status().currentTerm;
    leader.step(appendResponse({ from: 'n2', to: 'n1', term, success: true, matchIndex: index }));
    leader.step(appendResponse({ from: 'n3', to: 'n1', term, success: true, matchIndex: index }));
    expect(leader.status().commitIndex).toBe(index);
  });
});
