/**
 * Membership changes (Raft dissertation ch. 4): single-server changes
 * (§4.1) with Ongaro's 2015 rule, learners (§4.2.1), removing the leader
 * (§4.2.2), disruptive removed servers (§4.2.3), and every majority taken
 * over the configuration in effect. After etcd-io/raft's raft_test.go
 * (TestLearner*, TestCommitAfterRemoveNode, TestRemoveLeader,
 * TestLeaderTransferToLearner, TestAddNode*) in the "init, test and check"
 * style, and the bug scenario of Ongaro's raft-dev post.
 */
import { describe, expect, it } from 'vitest';
import { createPrng } from '../../../node/raft/prng.js';
import { RaftNode } from '../../../node/raft/raft.js';
import { encodeConfigEntry } from '../../../node/raft/configuration.js';
import { safeCoreFlags, type ConfChange, type Configuration, type Entry, type NodeId } from '../../../node/raft/types.js';
import { appendEntries, appendResponse, makeLeader, ofType, requestVote, voteResponse } from './helpers.js';
import { Network, ids, makeConfig, type ConfigOverrides } from './network.js';

const plain: ConfigOverrides = { preVote: false, checkQuorum: false };

function configEntry(index: number, term: number, change: ConfChange, configuration: Configuration): Entry {
  return { term, index, type: 'config', data: encodeConfigEntry({ change, configuration }) };
}

/** A three-node cluster led by n1 with n4 added as a learner and caught up. */
function clusterWithLearner(overrides: ConfigOverrides = plain): Network {
  const net = new Network(3, overrides);
  net.campaign('n1');
  net.addNode('n4', overrides);
  expect(net.node('n1').proposeConfChange({ type: 'add_learner', node: 'n4' })).toMatchObject({ ok: true });
  net.stabilize();
  net.tick(2);
  return net;
}

describe('learners (§4.2.1; etcd TestLearner*)', () => {
  it('a learner receives the log but counts in no majority', () => {
    const net = clusterWithLearner();
    expect(net.node('n4').configuration()).toEqual({ voters: ['n1', 'n2', 'n3'], learners: ['n4'] });
    expect(net.applied.get('n4')).toEqual(net.applied.get('n1'));
    // With n2 and n3 cut off, n1 and the learner n4 are not a majority: nothing commits.
    net.isolate('n2');
    net.isolate('n3');
    const before = net.node('n1').status().commitIndex;
    net.propose('n1', 'x');
    expect(net.node('n4').status().lastLogIndex).toBe(before + 1);
    expect(net.node('n1').status().commitIndex).toBe(before);
  });

  it('a learner never campaigns, even when asked to or told to (TimeoutNow)', () => {
    const net = clusterWithLearner();
    const learner = net.node('n4');
    for (let t = 0; t < 50; t++) learner.tick();
    learner.campaign();
    expect(learner.status()).toMatchObject({ role: 'follower', currentTerm: 1 });
    learner.step({ type: 'timeout_now', term: 1, from: 'n1', to: 'n4' });
    expect(learner.status().role).toBe('follower');
    expect(ofType(learner.ready().messages, 'request_vote')).toEqual([]);
  });

  it("a learner's vote does not count, and a candidate does not ask it", () => {
    const node = new RaftNode(
      makeConfig('n1', ids(3), plain),
      {
        hardState: { currentTerm: 1, votedFor: null },
        entries: [configEntry(1, 1, { type: 'add_learner', node: 'n4' }, { voters: ['n1', 'n2', 'n3'], learners: ['n4'] })],
      },
      createPrng(1),
    );
    node.campaign();
    expect(ofType(node.ready().messages, 'request_vote').map((m) => m.to)).toEqual(['n2', 'n3']);
    node.step(voteResponse({ from: 'n4', to: 'n1', term: 2, voteGranted: true }));
    expect(node.status().role).toBe('candidate');
    node.step(voteResponse({ from: 'n2', to: 'n1', term: 2, voteGranted: true }));
    expect(node.status().role).toBe('leader');
  });

  it("a learner answers a RequestVote (it may already be a voter in the candidate's log)", () => {
    const net = clusterWithLearner();
    const last = net.node('n4').status();
    net.node('n4').step(requestVote({ from: 'n2', to: 'n4', term: 5, lastLogIndex: last.lastLogIndex, lastLogTerm: last.lastLogTerm }));
    expect(ofType(net.node('n4').ready().messages, 'request_vote_response')).toEqual([
      voteResponse({ from: 'n4', to: 'n2', term: 5, voteGranted: true }),
    ]);
  });

  it('is promoted only once caught up (§4.2.1), and then counts', () => {
    const net = clusterWithLearner();
    net.isolate('n4');
    for (let i = 0; i < 3; i++) net.propose('n1', `v${i}`);
    // Its catch-up round has been open for more than an election timeout: not caught up.
    net.tick(25, ['n1', 'n2', 'n3']);
    expect(net.node('n1').progressOf('n4')).toMatchObject({ learner: true, caughtUp: false });
    const refused = net.node('n1').proposeConfChange({ type: 'promote', node: 'n4' });
    expect(refused).toMatchObject({ ok: false, reason: 'proposal_dropped' });
    expect(refused.ok ? '' : refused.reason === 'proposal_dropped' ? refused.detail : '').toMatch(/learner n4 has not caught up/);
    net.heal();
    net.tick(4);
    expect(net.node('n1').progressOf('n4')).toMatchObject({ learner: true, caughtUp: true, state: 'replicate' });
    expect(net.node('n1').proposeConfChange({ type: 'promote', node: 'n4' })).toMatchObject({ ok: true });
    net.stabilize();
    for (const id of net.ids) expect(net.node(id).configuration()).toEqual({ voters: ['n1', 'n2', 'n3', 'n4'], learners: [] });
    // Four voters: n1 and n2 alone (2 of 4) commit nothing, n1, n2 and n4 (3 of 4) do.
    net.isolate('n3');
    net.isolate('n4');
    const before = net.node('n1').status().commitIndex;
    net.propose('n1', 'two');
    expect(net.node('n1').status().commitIndex).toBe(before);
    net.heal();
    net.isolate('n3');
    net.tick(6); // n4's lost append is resent once a heartbeat round shows it stalled
    expect(net.node('n1').status().commitIndex).toBe(before + 1);
  });

  it('leadership is never transferred to a learner (etcd TestLeaderTransferToLearner)', () => {
    const net = clusterWithLearner();
    net.node('n1').transferLeadership('n4');
    const ready = net.node('n1').ready();
    expect(ofType(ready.messages, 'timeout_now')).toEqual([]);
    expect(ready.notices).toEqual(['leadership transfer to n4 refused: it is a learner, not a voter']);
    expect(net.node('n1').propose('still leading')).toMatchObject({ ok: true });
  });
});

describe('the rules of a change (§4.1 and Ongaro 2015)', () => {
  it('a new leader waits for an entry of its own term to commit before it changes the configuration', () => {
    const node = new RaftNode(
      makeConfig('n1', ids(3), plain),
      { hardState: { currentTerm: 1, votedFor: null }, entries: [] },
      createPrng(1),
    );
    makeLeader(node);
    const early = node.proposeConfChange({ type: 'add_learner', node: 'n4' });
    // Transient: it passes once the noop commits, with nothing else done (the admin retries it, node/host.ts).
    expect(early).toMatchObject({ ok: false, reason: 'proposal_dropped', transient: true });
    expect(early.ok === false && early.reason === 'proposal_dropped' ? early.detail : '').toMatch(/no entry of term 2 is committed yet/);
    node.step(appendResponse({ from: 'n2', to: 'n1', term: 2, success: true, matchIndex: 1, seq: 1 }));
    expect(node.proposeConfChange({ type: 'add_learner', node: 'n4' })).toEqual({ ok: true, index: 2, term: 2 });
  });

  it('one change at a time, and only changes that make sense', () => {
    const net = new Network(3, plain);
    net.campaign('n1');
    net.addNode('n4', plain);
    const leader = net.node('n1');
    expect(leader.proposeConfChange({ type: 'add_learner', node: 'n4' })).toMatchObject({ ok: true });
    expect(leader.proposeConfChange({ type: 'remove', node: 'n3' })).toMatchObject({
      ok: false,
      reason: 'proposal_dropped',
      transient: false,
    });
    net.stabilize();
    const dropped = (change: ConfChange) => {
      const result = leader.proposeConfChange(change);
      return result.ok === false && result.reason === 'proposal_dropped' ? result.detail : 'accepted';
    };
    expect(dropped({ type: 'add_learner', node: 'n2' })).toBe('n2 is already a voter');
    expect(dropped({ type: 'promote', node: 'n2' })).toMatch(/n2 is not a learner/);
    expect(dropped({ type: 'remove', node: 'n9' })).toBe('n9 is not a member');
    expect(net.node('n2').proposeConfChange({ type: 'remove', node: 'n3' })).toMatchObject({
      ok: false,
      reason: 'not_leader',
      leaderHint: 'n1',
    });
  });

  it('the last voter cannot be removed', () => {
    const net = new Network(1, plain);
    net.campaign('n1');
    expect(net.node('n1').proposeConfChange({ type: 'remove', node: 'n1' })).toMatchObject({ ok: false, detail: 'n1 is the last voter' });
  });
});

describe('configurations take effect when appended and roll back when truncated (§4.1)', () => {
  it('a follower uses a configuration as soon as the entry is in its log, and drops it with the entry', () => {
    const node = new RaftNode(
      makeConfig('n2', ids(3), plain),
      { hardState: { currentTerm: 1, votedFor: null }, entries: [] },
      createPrng(1),
    );
    const withLearner = { voters: ['n1', 'n2', 'n3'], learners: ['n4'] };
    node.step(
      appendEntries({
        from: 'n1',
        to: 'n2',
        term: 1,
        prevLogIndex: 0,
        prevLogTerm: 0,
        entries: [{ term: 1, index: 1, type: 'noop', data: '' }, configEntry(2, 1, { type: 'add_learner', node: 'n4' }, withLearner)],
        leaderCommit: 1,
      }),
    );
    expect(node.configuration()).toEqual(withLearner); // not committed, already in effect
    node.ready();
    // A new leader of term 2 never had index 2: it is overwritten, and the configuration with it.
    node.step(
      appendEntries({
        from: 'n3',
        to: 'n2',
        term: 2,
        prevLogIndex: 1,
        prevLogTerm: 1,
        entries: [{ term: 2, index: 2, type: 'noop', data: '' }],
        leaderCommit: 1,
      }),
    );
    expect(node.configuration()).toEqual({ voters: ['n1', 'n2', 'n3'], learners: [] });
    // n4 is outside our configuration again, but a leader's AppendEntries is taken from anyone (§4.1: a
    // leader may have joined in entries we have not yet received). This used to be ignored, which left a
    // member that missed the leader's own addition deaf to it for good (see the next describe).
    node.step(appendEntries({ from: 'n4', to: 'n2', term: 9, prevLogIndex: 0, prevLogTerm: 0, entries: [], leaderCommit: 0 }));
    expect(node.status()).toMatchObject({ currentTerm: 9, leaderId: 'n4' });
  });

  it('a follower drops an AppendEntries whose configuration entry is malformed', () => {
    const node = new RaftNode(
      makeConfig('n2', ids(3), plain),
      { hardState: { currentTerm: 1, votedFor: null }, entries: [] },
      createPrng(1),
    );
    node.step(
      appendEntries({
        from: 'n1',
        to: 'n2',
        term: 1,
        prevLogIndex: 0,
        prevLogTerm: 0,
        entries: [{ term: 1, index: 1, type: 'config', data: '{"voters":[]}' }],
        leaderCommit: 0,
      }),
    );
    expect(node.status().lastLogIndex).toBe(0);
    expect(node.hasReady()).toBe(false);
  });
});

describe('a server takes messages from a leader outside every configuration it knows (§4.1)', () => {
  it('a member cut off while the leader joined catches up from that leader (membership property, seed 1248809100)', () => {
    // Sticky followers (check-quorum, pre-vote) keep the cut-off member from
    // forcing an election that a leader it knows might win: only the new
    // leader's own messages can bring it back.
    const sticky: ConfigOverrides = { preVote: true, checkQuorum: true };
    const net = new Network(3, sticky);
    net.campaign('n1');
    net.addNode('n4', sticky);
    net.isolate('n3');
    expect(net.node('n1').proposeConfChange({ type: 'add_learner', node: 'n4' })).toMatchObject({ ok: true });
    net.stabilize();
    net.tick(2, ['n1', 'n2', 'n4']);
    expect(net.node('n1').proposeConfChange({ type: 'promote', node: 'n4' })).toMatchObject({ ok: true });
    net.stabilize();
    net.node('n1').transferLeadership('n4');
    net.stabilize();
    expect(net.node('n4').status().role).toBe('leader');
    net.propose('n4', 'after');
    // n3 still has only the bootstrap configuration: n4 is a stranger to it.
    expect(net.node('n3').configuration()).toEqual({ voters: ['n1', 'n2', 'n3'], learners: [] });
    net.heal();
    net.tick(10);
    net.stabilize();
    expect(net.leader()).toBe('n4');
    expect(net.node('n3').configuration()).toEqual({ voters: ['n1', 'n2', 'n3', 'n4'], learners: [] });
    expect(net.applied.get('n3')?.map((e) => e.data)).toContain('after');
    expect(net.node('n3').status().commitIndex).toBe(net.node('n4').status().commitIndex);
  });
});

describe('removing servers (§4.2.2, §4.2.3; etcd TestCommitAfterRemoveNode, TestRemoveLeader)', () => {
  it('removing a lagging voter lets entries commit on the new, smaller majority at once', () => {
    const net = new Network(4, plain);
    net.campaign('n1');
    net.isolate('n3');
    net.isolate('n4');
    net.propose('n1', 'stuck');
    const stuck = net.node('n1').status().lastLogIndex;
    expect(net.node('n1').status().commitIndex).toBe(stuck - 1); // 2 of 4 voters hold it
    expect(net.node('n1').proposeConfChange({ type: 'remove', node: 'n4' })).toMatchObject({ ok: true });
    net.stabilize();
    // {n1, n2, n3}: n1 and n2 are a majority.
    expect(net.node('n1').status().commitIndex).toBe(stuck + 1);
  });

  it('a removed leader leads without counting itself until the removal commits, then hands over and steps down', () => {
    const net = new Network(3, { preVote: true, checkQuorum: true });
    net.campaign('n1');
    expect(net.node('n1').proposeConfChange({ type: 'remove', node: 'n1' })).toMatchObject({ ok: true });
    net.stabilize();
    expect(net.node('n1').status()).toMatchObject({ role: 'follower', currentTerm: 1 });
    const leader = net.waitForLeader(5); // the handover is immediate: no election timeout
    expect(['n2', 'n3']).toContain(leader);
    expect(net.node(leader).status().currentTerm).toBe(2);
    net.propose(leader, 'after');
    // The removed server never campaigns again and no longer hears from the cluster.
    net.tick(100);
    expect(net.node('n1').status()).toMatchObject({ role: 'follower', currentTerm: 1 });
    expect(net.node(net.leader() ?? 'n2').configuration()).toEqual({ voters: ['n2', 'n3'], learners: [] });
  });

  it('a removed server that did not learn of its removal cannot disrupt the cluster (§4.2.3, pre-vote and check-quorum)', () => {
    const net = new Network(3, { preVote: true, checkQuorum: true });
    net.campaign('n1');
    net.isolate('n3');
    expect(net.node('n1').proposeConfChange({ type: 'remove', node: 'n3' })).toMatchObject({ ok: true });
    net.stabilize();
    net.heal();
    net.tick(200);
    expect(net.node('n1').status()).toMatchObject({ role: 'leader', currentTerm: 1 });
    expect(net.node('n2').status()).toMatchObject({ leaderId: 'n1', currentTerm: 1 });
    // Without pre-vote, leader stickiness (check-quorum) still keeps its higher-term RequestVotes out.
    const sticky = new Network(3, { preVote: false, checkQuorum: true });
    sticky.campaign('n1');
    sticky.isolate('n3');
    sticky.node('n1').proposeConfChange({ type: 'remove', node: 'n3' });
    sticky.stabilize();
    sticky.heal();
    sticky.tick(200);
    expect(sticky.node('n1').status().role).toBe('leader');
    expect(sticky.node('n2').status().leaderId).toBe('n1');
  });
});

describe('a removed server is told, once its removal is committed (§4.2.2: it should shut down)', () => {
  it('no farewell while the removal is only appended; one once it commits; then the server never campaigns', () => {
    const net = new Network(3, { preVote: true, checkQuorum: true });
    net.campaign('n1');
    // {n1, n2} must hold the removal of n3 to commit it: without n2 it stays appended only (and could be rolled back).
    net.isolate('n2');
    expect(net.node('n1').proposeConfChange({ type: 'remove', node: 'n3' })).toMatchObject({ ok: true });
    net.stabilize();
    net.tick(4, ['n1', 'n3']);
    expect(net.node('n1').configurationCommitted()).toBe(false);
    expect(net.node('n3').removal()).toBeNull();
    net.heal();
    net.tick(2, ['n1', 'n2']); // a heartbeat brings n2 the entry: {n1, n2} commits it
    const index = net.node('n1').status().lastLogIndex;
    expect(net.node('n1').configurationCommitted()).toBe(true);
    expect(net.node('n3').removal()).toEqual({ index, leaderId: 'n1', term: 1 });
    // n3 was never sent the removal entry itself: its log still says it is a voter, yet it never campaigns.
    expect(net.node('n3').configuration().voters).toContain('n3');
    net.tick(100, ['n3']);
    expect(net.node('n3').status()).toMatchObject({ role: 'follower', currentTerm: 1 });
    expect(ofType(net.node('n3').ready().messages, 'request_vote')).toEqual([]);
  });

  it('the leader that committed its own removal knows it was removed', () => {
    const net = new Network(3, { preVote: true, checkQuorum: true });
    net.campaign('n1');
    net.node('n1').proposeConfChange({ type: 'remove', node: 'n1' });
    net.stabilize();
    expect(net.node('n1').removal()).toMatchObject({ leaderId: 'n1', term: 1 });
    expect(net.node('n2').removal()).toBeNull();
  });

  it('a late farewell is ignored by a server whose log holds a newer configuration that includes it (re-added)', () => {
    const net = new Network(3, { preVote: true, checkQuorum: true });
    net.campaign('n1');
    net.isolate('n3'); // it misses the farewells
    net.node('n1').proposeConfChange({ type: 'remove', node: 'n3' });
    net.stabilize();
    net.tick(20, ['n1', 'n2']); // the farewell rounds are over
    const removedAt = net.node('n1').status().lastLogIndex;
    net.heal();
    expect(net.node('n1').proposeConfChange({ type: 'add_learner', node: 'n3' })).toMatchObject({ ok: true });
    net.stabilize();
    net.tick(4);
    expect(net.node('n3').configuration().learners).toEqual(['n3']);
    // A farewell from before the re-add, delivered now.
    const late = appendEntries({
      from: 'n1',
      to: 'n3',
      term: 1,
      prevLogIndex: removedAt,
      prevLogTerm: 1,
      entries: [],
      leaderCommit: removedAt,
    });
    net.node('n3').step({ ...late, removedAt });
    expect(net.node('n3').removal()).toBeNull();
    expect(net.node('n3').ready().notices.join('\n')).toContain('ignored: a newer configuration includes n3');
  });
});

describe('a server outside its latest configuration still campaigns while that configuration is uncommitted (§4.2.2)', () => {
  it("a removed leader holding the only copy of its removal wins with the new configuration's votes, commits it, and steps down", () => {
    const net = new Network(3, plain);
    net.campaign('n1');
    net.node('n1').proposeConfChange({ type: 'remove', node: 'n2' });
    net.stabilize();
    net.tick(2);
    expect(net.node('n3').configuration()).toEqual({ voters: ['n1', 'n3'], learners: [] });
    // n1 removes itself, but the entry reaches no one; n1 crashes and forgets what was committed.
    net.isolate('n1');
    expect(net.node('n1').proposeConfChange({ type: 'remove', node: 'n1' })).toMatchObject({ ok: true });
    net.stabilize();
    net.crash('n1');
    net.restart('n1');
    net.heal();
    // n3 cannot win {n1, n3}: n1's log is more up to date. n1 is not in its
    // own latest configuration {n3}, but that one is not known committed:
    // it campaigns, without its own vote, and n3's vote is a majority of {n3}.
    net.tick(60, ['n1', 'n3']);
    expect(net.node('n3').configuration()).toEqual({ voters: ['n3'], learners: [] });
    expect(net.node('n3').status().role).toBe('leader');
    expect(net.node('n1').status().role).toBe('follower');
    net.propose('n3', 'alone');
    expect(net.applied.get('n3')?.at(-1)?.data).toBe('alone');
  });
});

describe("every majority counts the current configuration's voters", () => {
  it('ReadIndex confirmation and check-quorum use the new configuration', () => {
    const net = new Network(3, { preVote: true, checkQuorum: true });
    net.campaign('n1');
    net.addNode('n4', { preVote: true, checkQuorum: true });
    net.node('n1').proposeConfChange({ type: 'add_learner', node: 'n4' });
    net.stabilize();
    net.tick(2);
    net.node('n1').proposeConfChange({ type: 'promote', node: 'n4' });
    net.stabilize();
    // Four voters: one answer (n2) is not enough to confirm a read; two are.
    net.isolate('n3');
    net.isolate('n4');
    net.node('n1').readIndex('r1');
    net.stabilize();
    expect(net.readStates.get('n1')).toEqual([]);
    net.heal();
    net.isolate('n3');
    net.tick(2);
    expect(net.readStates.get('n1')?.map((r) => r.requestId)).toEqual(['r1']);
    // Check-quorum: with n3 and n4 gone, n1 hears from 2 of 4 and steps down.
    net.isolate('n4');
    net.tick(30);
    expect(net.node('n1').status().role).not.toBe('leader');
  });
});

describe("Ongaro's single-server change bug (raft-dev 2015), reproduced under the unsafe flag", () => {
  /**
   * {n1..n4} with learner n5. n1 (term 1) promotes n5, reaching only n5.
   * n2 wins term 2 with n3 and n4, but its noop reaches only n3. If n2 may
   * change the configuration now, it removes n1: {n2, n3, n4} commits on n2
   * and n3. n1 then wins term 3 in its own configuration {n1..n5} with n4
   * and n5 (n4 holds nothing of term 2) and overwrites index 3, which n2
   * and n3 have applied: two different entries applied at one index.
   */
  function scenario(confChangeBeforeTermCommit: boolean) {
    const overrides: ConfigOverrides = { ...plain, unsafe: { ...safeCoreFlags, confChangeBeforeTermCommit } };
    const net = new Network(4, overrides);
    net.campaign('n1');
    net.addNode('n5', overrides);
    expect(net.node('n1').proposeConfChange({ type: 'add_learner', node: 'n5' })).toMatchObject({ ok: true });
    net.stabilize();
    net.tick(2);
    for (const other of ['n2', 'n3', 'n4']) net.cut('n1', other);
    expect(net.node('n1').proposeConfChange({ type: 'promote', node: 'n5' })).toMatchObject({ ok: true });
    net.stabilize();
    expect(net.node('n5').configuration().voters).toEqual(['n1', 'n2', 'n3', 'n4', 'n5']);
    // n2's appends reach only n3.
    net.filter = (m) => !(m.type === 'append_entries' && m.from === 'n2' && m.to !== 'n3');
    net.campaign('n2');
    expect(net.node('n2').status()).toMatchObject({ role: 'leader', currentTerm: 2 });
    const change = net.node('n2').proposeConfChange({ type: 'remove', node: 'n1' });
    net.stabilize();
    // n1 crashes and comes back, and can reach n4 and n5 but not n2 and n3.
    net.crash('n1');
    net.restart('n1');
    net.heal();
    for (const other of ['n1', 'n4', 'n5']) {
      net.cut('n2', other);
      net.cut('n3', other);
    }
    // Term 2 is lost (n4 voted for n2); term 3 is won with n4 and n5.
    for (let round = 0; round < 3 && net.node('n1').status().role !== 'leader'; round++) net.campaign('n1');
    net.tick(4, ['n1', 'n4', 'n5']);
    const at3 = (id: NodeId) => net.applied.get(id)?.[2];
    return { change, n1: net.node('n1').status(), at3, ids: net.ids };
  }

  it('with the rule the change waits; whoever wins next, no two nodes apply different entries at index 3', () => {
    const { change, at3, ids: all } = scenario(false);
    expect(change).toMatchObject({ ok: false, reason: 'proposal_dropped' });
    // n2's noop never committed (n4 did not get it): n2 and n3 applied nothing at 3, so n1 overwriting it loses nothing.
    expect(at3('n2')).toBeUndefined();
    const applied = all.map(at3).filter((e) => e !== undefined);
    for (const e of applied) expect(e).toEqual(applied[0]);
  });

  it('without it two configurations with disjoint majorities both commit, and index 3 is applied twice, differently', () => {
    const { change, n1, at3 } = scenario(true);
    // n2's change commits in {n2, n3, n4} on n2 and n3; n1 wins term 3 in {n1..n5} with n4 and n5.
    expect(change).toMatchObject({ ok: true });
    expect(n1).toMatchObject({ role: 'leader', currentTerm: 3 });
    expect(at3('n2')).toMatchObject({ index: 3, term: 2, type: 'noop' });
    expect(at3('n1')).toMatchObject({ index: 3, term: 1, type: 'config' });
  });
});

describe('a configuration takes effect when appended, not when committed (§4.1), and the unsafe flag that waits for the commit', () => {
  /**
   * {n1, n2, n3} led by n1; n2 is cut off. n1 removes n3: the new
   * configuration {n1, n2} needs n2, so a correct n1 cannot commit the
   * removal (nor anything after it) while n2 is away. A node that uses a
   * configuration only once committed still counts {n1, n2, n3} and commits
   * the removal with n3's acknowledgement: a commit no majority of the
   * configuration in effect holds (what the wire monitor's commit-quorum
   * check reports, test/checker/commit-quorum.test.ts).
   */
  function scenario(configOnCommit: boolean) {
    const overrides: ConfigOverrides = { ...plain, unsafe: { ...safeCoreFlags, configOnCommit } };
    const net = new Network(3, overrides);
    net.campaign('n1');
    net.stabilize();
    net.isolate('n2');
    const before = net.node('n1').status().commitIndex;
    const removal = net.node('n1').proposeConfChange({ type: 'remove', node: 'n3' });
    expect(removal).toMatchObject({ ok: true });
    net.stabilize();
    return { before, removalIndex: removal.ok ? removal.index : -1, n1: net.node('n1'), n3: net.node('n3') };
  }

  it('the removal waits for n2: no majority of {n1, n2} holds it', () => {
    const { before, removalIndex, n1, n3 } = scenario(false);
    // n1 stopped replicating to n3 when it appended the entry (n3 is not in the new configuration), and without n2 nothing commits.
    expect(n3.status().lastLogIndex).toBeLessThan(removalIndex);
    expect(n1.status().commitIndex).toBe(before);
    expect(n1.configuration()).toEqual({ voters: ['n1', 'n2'], learners: [] });
  });

  it('--unsafe-config-on-commit: n1 commits its removal of n3 with n3 (the old majority)', () => {
    const { removalIndex, n1, n3 } = scenario(true);
    expect(n3.status().lastLogIndex).toBe(removalIndex);
    expect(n1.status().commitIndex).toBe(removalIndex);
  });
});
