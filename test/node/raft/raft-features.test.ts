/**
 * Beyond the paper's core sections: fast backtracking, pre-vote (thesis
 * §9.6), check-quorum and leader stickiness (thesis §4.2.3, §6.2), ReadIndex
 * and lease reads (thesis §6.4), flow control, leadership transfer (§3.10),
 * the single-node cluster and the Ready contract (etcd-io/raft).
 */
import { describe, expect, it } from 'vitest';
import { AssertionError } from '../../../node/util/assert.js';
import { createPrng } from '../../../node/raft/prng.js';
import { RaftNode } from '../../../node/raft/raft.js';
import type { RaftMessage } from '../../../node/raft/types.js';
import { appendEntries, appendResponse, entry, makeLeader, newNode, ofType, requestVote, takeMessages, voteResponse } from './helpers.js';
import { Network, entriesOfTerms, ids, makeConfig, termsOf, type ConfigOverrides } from './network.js';

const sticky: ConfigOverrides = { preVote: true, checkQuorum: true };

/** Shuttle messages between a leader n1 and follower n2 until quiet; returns the rejections n2 sent. */
function shuttle(leader: RaftNode, follower: RaftNode, first: readonly RaftMessage[], maxRounds = 50) {
  const rejections: Extract<RaftMessage, { type: 'append_entries_response' }>[] = [];
  const probes: number[] = [];
  for (let round = 0; round < maxRounds; round++) {
    const toFollower = (round === 0 ? first : leader.ready().messages).filter((m) => m.to === 'n2');
    if (toFollower.length === 0) return { rejections, probes };
    for (const m of toFollower) {
      if (m.type === 'append_entries') probes.push(m.prevLogIndex);
      follower.step(m);
    }
    for (const response of follower.ready().messages) {
      if (response.type === 'append_entries_response' && !response.success) rejections.push(response);
      leader.step(response);
    }
  }
  throw new Error('shuttle did not converge');
}

describe('fast log backtracking (§5.3 optimization; etcd TestFastLogRejection)', () => {
  it.each([
    {
      name: 'follower has a term the leader never had',
      leader: [1, 2, 2, 4, 4, 4, 4],
      follower: [1, 2, 2, 3, 3, 3, 3, 3, 3],
      hint: { conflictTerm: 3, conflictIndex: 4 },
      nextProbe: 3,
      maxRejections: 1,
    },
    {
      name: 'follower log too short',
      leader: [1, 1, 1, 1],
      follower: [1],
      hint: { conflictTerm: null, conflictIndex: 2 },
      nextProbe: 1,
      maxRejections: 1,
    },
    {
      name: 'leader has the conflicting term: jump past its last entry of it',
      leader: [1, 1, 2, 2, 2, 3],
      follower: [1, 1, 2, 2, 2, 2, 2, 2, 2],
      hint: { conflictTerm: 2, conflictIndex: 3 },
      nextProbe: 5,
      maxRejections: 1,
    },
    {
      name: 'one round trip per conflicting term, not per entry',
      leader: [1, 1, 1, 1, 1, 1],
      follower: [1, 2, 2, 3, 3, 4, 4, 5, 5],
      hint: { conflictTerm: 4, conflictIndex: 6 },
      nextProbe: 5,
      maxRejections: 4,
    },
    {
      name: 'empty follower',
      leader: [1, 1, 1],
      follower: [],
      hint: { conflictTerm: null, conflictIndex: 1 },
      nextProbe: 0,
      maxRejections: 1,
    },
    { name: 'identical logs', leader: [1, 2, 3], follower: [1, 2, 3], hint: null, nextProbe: null, maxRejections: 0 },
  ])('$name', ({ leader: leaderTerms, follower: followerTerms, hint, nextProbe, maxRejections }) => {
    const term = Math.max(...leaderTerms, ...followerTerms, 0);
    const leader = newNode({ term, entries: entriesOfTerms(leaderTerms) });
    const follower = newNode({ id: 'n2', term, entries: entriesOfTerms(followerTerms) });
    const first = makeLeader(leader); // term + 1, noop appended and sent
    const { rejections, probes } = shuttle(leader, follower, first);
    if (hint === null) expect(rejections).toEqual([]);
    else expect(rejections[0]).toMatchObject(hint);
    if (nextProbe !== null) expect(probes[1]).toBe(nextProbe);
    expect(rejections.length).toBeLessThanOrEqual(maxRejections);
    expect(follower.log()).toEqual(leader.log());
  });

  it('a stale rejection (answer to an older probe) does not move nextIndex back', () => {
    const leader = newNode({ term: 1, entries: entriesOfTerms([1, 1, 1]) });
    makeLeader(leader); // noop at 4; n2 probed at prev 3
    // n2 matches everything: replicate
    leader.step(appendResponse({ from: 'n2', to: 'n1', term: 2, success: true, matchIndex: 4, seq: 1 }));
    expect(leader.progressOf('n2')).toMatchObject({ state: 'replicate', matchIndex: 4, nextIndex: 5 });
    // late rejection of prev 2
    leader.step(
      appendResponse({
        from: 'n2',
        to: 'n1',
        term: 2,
        success: false,
        matchIndex: 2,
        seq: 0,
        conflictTerm: 1,
        conflictIndex: 1,
      }),
    );
    expect(leader.progressOf('n2')).toMatchObject({ state: 'replicate', matchIndex: 4, nextIndex: 5 });
  });
});

describe('pre-vote (thesis §9.6)', () => {
  it('a partitioned follower does not bump its term, and rejoining does not disrupt the leader', () => {
    const net = new Network(3, { preVote: true });
    net.campaign('n1');
    const term = net.node('n1').status().currentTerm;
    net.isolate('n3');
    net.tick(100);
    expect(net.node('n3').status().currentTerm).toBe(term);
    net.heal();
    net.tick(30);
    expect(net.leader()).toBe('n1');
    for (const id of net.ids) expect(net.node(id).status().currentTerm).toBe(term);
  });

  it('control: without pre-vote the same partition bumps the term and deposes the leader on rejoin', () => {
    const net = new Network(3, { preVote: false });
    net.campaign('n1');
    const term = net.node('n1').status().currentTerm;
    net.isolate('n3');
    net.tick(100);
    expect(net.node('n3').status().currentTerm).toBeGreaterThan(term + 1);
    net.heal();
    net.tick(2); // the next heartbeat reaches n3, whose answer carries its higher term
    expect(net.node('n1').status().currentTerm).toBeGreaterThan(term);
  });

  it('a lagging node cannot win pre-votes, so terms stay unchanged', () => {
    const net = new Network(3, { preVote: true });
    net.campaign('n1');
    net.isolate('n3');
    net.propose('n1', 'a');
    net.propose('n1', 'b');
    net.heal();
    const term = net.node('n1').status().currentTerm;
    net.node('n3').campaign();
    expect(net.node('n3').status().role).toBe('pre_candidate');
    net.stabilize();
    expect(net.node('n3').status().role).toBe('follower');
    expect(net.leader()).toBe('n1');
    for (const id of net.ids) expect(net.node(id).status().currentTerm).toBe(term);
  });

  it('a pre-vote request with a higher term changes neither the voter term nor its vote', () => {
    const node = newNode({ term: 2 });
    node.step(requestVote({ from: 'n2', to: 'n1', term: 3, lastLogIndex: 0, lastLogTerm: 0, preVote: true }));
    expect(node.status()).toMatchObject({ currentTerm: 2, votedFor: null });
    expect(takeMessages(node)).toEqual([voteResponse({ from: 'n1', to: 'n2', term: 3, voteGranted: true, preVote: true })]);
    expect(node.hasReady()).toBe(false);
  });

  it('a pre-candidate adopts the higher term of a pre-vote rejection, not of a grant', () => {
    const node = newNode({ term: 2, overrides: { preVote: true } });
    node.campaign();
    node.ready();
    // grant for the proposed term 3: term unchanged, wins pre-vote
    node.step(voteResponse({ from: 'n2', to: 'n1', term: 3, voteGranted: true, preVote: true }));
    expect(node.status()).toMatchObject({ role: 'candidate', currentTerm: 3 });

    const other = newNode({ term: 2, overrides: { preVote: true } });
    other.campaign();
    other.ready();
    other.step(voteResponse({ from: 'n2', to: 'n1', term: 7, voteGranted: false, preVote: true }));
    expect(other.status()).toMatchObject({ role: 'follower', currentTerm: 7 });
  });
});

describe('check-quorum and leader stickiness (thesis §6.2, §4.2.3)', () => {
  it('an isolated leader steps down within two election timeouts; the majority elects a new one', () => {
    const net = new Network(3, sticky);
    net.campaign('n1');
    net.isolate('n1');
    let ticks = 0;
    while (net.node('n1').status().role === 'leader') {
      net.tick(1);
      ticks++;
      expect(ticks).toBeLessThanOrEqual(2 * 10);
    }
    const other = net.waitForLeader();
    expect(other).not.toBe('n1');
  });

  it('control: without check-quorum an isolated leader keeps believing it leads', () => {
    const net = new Network(3, { checkQuorum: false });
    net.campaign('n1');
    net.isolate('n1');
    net.tick(100, ['n1']);
    expect(net.node('n1').status().role).toBe('leader');
  });

  it('followers that heard from the leader ignore a disruptive RequestVote', () => {
    const net = new Network(3, { checkQuorum: true, preVote: false });
    net.campaign('n1');
    net.tick(1);
    const term = net.node('n1').status().currentTerm;
    net.node('n3').campaign(); // no pre-vote: n3 bumps its term and asks
    net.stabilize();
    expect(net.node('n2').status().currentTerm).toBe(term);
    expect(net.leader()).toBe('n1');
  });

  it('a follower in lease drops a higher-term RequestVote without answering or changing term', () => {
    const node = newNode({ term: 1, overrides: { checkQuorum: true } });
    node.step(appendEntries({ from: 'n2', to: 'n1', term: 1, prevLogIndex: 0, prevLogTerm: 0, entries: [], leaderCommit: 0 }));
    node.ready();
    node.step(requestVote({ from: 'n3', to: 'n1', term: 5, lastLogIndex: 10, lastLogTerm: 1 }));
    expect(node.status()).toMatchObject({ currentTerm: 1, leaderId: 'n2' });
    expect(node.hasReady()).toBe(false);
    for (let t = 0; t < 10; t++) node.tick(); // lease (min election timeout) over: votes count again
    node.step(requestVote({ from: 'n3', to: 'n1', term: 5, lastLogIndex: 10, lastLogTerm: 1 }));
    expect(node.status().currentTerm).toBe(5);
  });
});

describe('leadership transfer (thesis §3.10)', () => {
  it('transfers to an up-to-date follower despite stickiness', () => {
    const net = new Network(3, sticky);
    net.campaign('n1');
    net.propose('n1', 'a');
    net.node('n1').transferLeadership('n2');
    net.stabilize();
    expect(net.leader()).toBe('n2');
    expect(net.node('n1').status().role).toBe('follower');
  });

  it('drops proposals while transferring and aborts after an election timeout', () => {
    const net = new Network(3, sticky);
    net.campaign('n1');
    net.isolate('n2');
    net.node('n1').transferLeadership('n2');
    expect(net.node('n1').propose('x')).toMatchObject({ ok: false, reason: 'proposal_dropped' });
    net.tick(10, ['n1']);
    expect(net.node('n1').propose('x')).toMatchObject({ ok: true });
  });
});

describe('ReadIndex (thesis §6.4)', () => {
  it('a new leader defers reads until its noop commits, then confirms with a quorum round', () => {
    const leader = newNode();
    makeLeader(leader);
    leader.readIndex('r1');
    expect(leader.ready().readStates).toEqual([]);
    // noop committed: the read's round starts now
    leader.step(appendResponse({ from: 'n2', to: 'n1', term: 1, success: true, matchIndex: 1, seq: 1 }));
    const ready = leader.ready();
    expect(ready.readStates).toEqual([]);
    const heartbeats = ofType(ready.messages, 'append_entries');
    const roundSeq = Math.min(...heartbeats.map((m) => m.seq));
    expect(heartbeats.map((m) => m.to)).toEqual(['n2', 'n3']);
    // an ack of an older message: not enough
    leader.step(appendResponse({ from: 'n3', to: 'n1', term: 1, success: true, matchIndex: 1, seq: roundSeq - 1 }));
    expect(leader.ready().readStates).toEqual([]);
    leader.step(appendResponse({ from: 'n2', to: 'n1', term: 1, success: true, matchIndex: 1, seq: roundSeq }));
    expect(leader.ready().readStates).toEqual([{ requestId: 'r1', readIndex: 1 }]);
  });

  it('batches many reads into one heartbeat round', () => {
    const leader = newNode();
    makeLeader(leader);
    leader.step(appendResponse({ from: 'n2', to: 'n1', term: 1, success: true, matchIndex: 1, seq: 1 }));
    leader.ready();
    for (let i = 0; i < 10; i++) leader.readIndex(`r${i}`);
    const heartbeats = ofType(leader.ready().messages, 'append_entries');
    expect(heartbeats).toHaveLength(2);
    leader.step(appendResponse({ from: 'n3', to: 'n1', term: 1, success: true, matchIndex: 1, seq: heartbeats[1]?.seq ?? -1 }));
    expect(leader.ready().readStates.map((r) => r.requestId)).toEqual(Array.from({ length: 10 }, (_, i) => `r${i}`));
  });

  it('an isolated leader never confirms a read; it rejects it when it steps down (check-quorum)', () => {
    const net = new Network(3, sticky);
    net.campaign('n1');
    net.isolate('n1');
    net.node('n1').readIndex('r');
    net.tick(40);
    expect(net.readStates.get('n1')).toEqual([]);
    expect(net.readRejections.get('n1')).toEqual([{ requestId: 'r', reason: 'not_leader', leaderHint: null }]);
  });

  it('a deposed leader without check-quorum never confirms a read; it rejects it on learning the new term', () => {
    const net = new Network(3, { checkQuorum: false });
    net.campaign('n1');
    net.propose('n1', 'a');
    net.isolate('n1');
    net.node('n1').readIndex('stale');
    net.waitForLeader(); // n1 still says leader: make the majority elect another
    for (let i = 0; i < 100 && net.node('n2').status().role !== 'leader' && net.node('n3').status().role !== 'leader'; i++)
      net.tick(1, ['n2', 'n3']);
    const newLeader = net.node('n2').status().role === 'leader' ? 'n2' : 'n3';
    net.propose(newLeader, 'b');
    net.tick(50, ['n1']);
    expect(net.readStates.get('n1')).toEqual([]);
    net.heal();
    net.tick(3);
    expect(net.readStates.get('n1')).toEqual([]);
    expect(net.readRejections.get('n1')).toEqual([{ requestId: 'stale', reason: 'not_leader', leaderHint: newLeader }]);
  });

  it('a follower rejects reads with a leader hint; a full leader rejects with overloaded', () => {
    const net = new Network(3, { maxPendingReads: 2 });
    net.campaign('n1');
    net.node('n2').readIndex('f');
    net.isolate('n1');
    for (const id of ['a', 'b', 'c']) net.node('n1').readIndex(id);
    net.processAll();
    expect(net.readRejections.get('n2')).toEqual([{ requestId: 'f', reason: 'not_leader', leaderHint: 'n1' }]);
    expect(net.readRejections.get('n1')).toEqual([{ requestId: 'c', reason: 'overloaded', leaderHint: 'n1' }]);
  });

  it('a single-node cluster answers reads at once', () => {
    const node = newNode({ peers: ['n1'] });
    node.campaign();
    node.readIndex('r');
    expect(node.ready().readStates).toEqual([{ requestId: 'r', readIndex: 1 }]);
  });

  it('lease reads: answered at once within the lease, with a quorum round after it expires', () => {
    const net = new Network(3, { ...sticky, leaseTicks: 5 });
    net.campaign('n1');
    net.tick(2, ['n1']); // a heartbeat round acked by everyone
    net.node('n1').readIndex('fast');
    expect(net.node('n1').ready().readStates).toEqual([{ requestId: 'fast', readIndex: 1 }]);
    net.isolate('n1');
    net.tick(6, ['n1']);
    net.node('n1').readIndex('slow');
    net.processAll();
    expect(net.readStates.get('n1')).toEqual([]);
  });

  it('leaseTicks without checkQuorum is refused at construction', () => {
    expect(() => newNode({ overrides: { leaseTicks: 5, checkQuorum: false } })).toThrow(AssertionError);
  });

  it('unsafe.skipReadQuorum: an isolated leader answers at once (the stale-read bug mechanism)', () => {
    const net = new Network(3, { unsafe: { commitOldTerms: false, skipReadQuorum: true } });
    net.campaign('n1');
    net.isolate('n1');
    net.node('n1').readIndex('r');
    net.processAll();
    expect(net.readStates.get('n1')).toEqual([{ requestId: 'r', readIndex: 1 }]);
  });
});

describe('flow control and bounds', () => {
  function replicatingLeader(overrides: ConfigOverrides): RaftNode {
    const leader = newNode({ overrides });
    makeLeader(leader);
    leader.step(appendResponse({ from: 'n2', to: 'n1', term: 1, success: true, matchIndex: 1 }));
    leader.step(appendResponse({ from: 'n3', to: 'n1', term: 1, success: true, matchIndex: 1 }));
    leader.ready();
    return leader;
  }

  it('at most maxInflightAppends unacknowledged AppendEntries per follower', () => {
    const leader = replicatingLeader({ maxInflightAppends: 2 });
    const toN2: number[][] = [];
    for (let i = 0; i < 5; i++) {
      leader.propose(`v${i}`); // one Ready per proposal: one AppendEntries each, while the window allows
      toN2.push(
        ...ofType(takeMessages(leader), 'append_entries')
          .filter((m) => m.to === 'n2')
          .map((m) => m.entries.map((e) => e.index)),
      );
    }
    expect(toN2).toEqual([[2], [3]]);
    leader.step(appendResponse({ from: 'n2', to: 'n1', term: 1, success: true, matchIndex: 2 }));
    const more = ofType(takeMessages(leader), 'append_entries').filter((m) => m.to === 'n2' && m.entries.length > 0);
    expect(more.map((m) => m.entries.map((e) => e.index))).toEqual([[4, 5, 6]]);
  });

  it('batches every proposal made between two Ready into one AppendEntries per follower', () => {
    const leader = replicatingLeader({});
    for (let i = 0; i < 5; i++) leader.propose(`v${i}`);
    const appends = ofType(takeMessages(leader), 'append_entries');
    expect(appends.map((m) => [m.to, m.entries.map((e) => e.index)])).toEqual([
      ['n2', [2, 3, 4, 5, 6]],
      ['n3', [2, 3, 4, 5, 6]],
    ]);
  });

  it('probe state: one AppendEntries at a time until the follower answers', () => {
    const leader = newNode();
    makeLeader(leader); // followers in probe with the noop out
    leader.propose('a');
    leader.propose('b');
    expect(ofType(takeMessages(leader), 'append_entries')).toEqual([]);
  });

  it('AppendEntries carry at most maxAppendBytes of entries, but always one', () => {
    const leader = newNode({ overrides: { maxAppendBytes: 400 } });
    makeLeader(leader);
    leader.ready();
    leader.step(appendResponse({ from: 'n2', to: 'n1', term: 1, success: true, matchIndex: 0 })); // answer of the probe: still probing at 1
    leader.ready();
    for (let i = 0; i < 4; i++) leader.propose('x'.repeat(100)); // 164 bytes each with the overhead
    leader.propose('y'.repeat(10_000));
    leader.step(appendResponse({ from: 'n3', to: 'n1', term: 1, success: true, matchIndex: 1 }));
    const toN3 = ofType(takeMessages(leader), 'append_entries').filter((m) => m.to === 'n3');
    expect(toN3.map((m) => m.entries.map((e) => e.index))).toEqual([[2, 3], [4, 5], [6]]);
  });

  it('drops proposals while the uncommitted tail exceeds maxUncommittedBytes', () => {
    const leader = replicatingLeader({ maxUncommittedBytes: 1000 });
    expect(leader.propose('a'.repeat(500))).toMatchObject({ ok: true, index: 2 });
    expect(leader.propose('b'.repeat(500))).toMatchObject({ ok: false, reason: 'proposal_dropped' });
    leader.step(appendResponse({ from: 'n2', to: 'n1', term: 1, success: true, matchIndex: 2 }));
    expect(leader.propose('b'.repeat(500))).toMatchObject({ ok: true, index: 3 });
  });

  it('recovers a lost optimistic stream within two heartbeat intervals', () => {
    const net = new Network(3);
    net.campaign('n1');
    net.filter = (m) => !(m.type === 'append_entries' && m.to === 'n2' && m.entries.length > 0);
    net.propose('n1', 'a');
    net.propose('n1', 'b');
    expect(net.node('n2').status().lastLogIndex).toBe(1);
    net.filter = null;
    net.tick(4, ['n1']);
    expect(termsOf(net.node('n2').log())).toEqual([1, 1, 1]);
  });
});

describe('single-node cluster', () => {
  it('elects itself on timeout and commits proposals without any message', () => {
    const node = newNode({ peers: ['n1'], overrides: { preVote: true } });
    for (let t = 0; t < 19 && node.status().role !== 'leader'; t++) node.tick();
    expect(node.status().role).toBe('leader');
    expect(node.propose('x')).toMatchObject({ ok: true, index: 2 });
    const ready = node.ready();
    expect(ready.messages).toEqual([]);
    expect(ready.entriesToAppend.map((e) => e.index)).toEqual([1, 2]);
    expect(ready.committedEntries.map((e) => e.data)).toEqual(['', 'x']);
  });
});

describe('Ready contract (etcd-io/raft)', () => {
  it('a granted vote is in hardState of the same Ready that carries the vote response', () => {
    const node = newNode({ term: 1 });
    node.step(requestVote({ from: 'n2', to: 'n1', term: 2, lastLogIndex: 0, lastLogTerm: 0 }));
    const ready = node.ready();
    expect(ready.hardState).toEqual({ currentTerm: 2, votedFor: 'n2' });
    expect(ready.messages).toEqual([voteResponse({ from: 'n1', to: 'n2', term: 2, voteGranted: true })]);
    node.step(appendEntries({ from: 'n2', to: 'n1', term: 2, prevLogIndex: 0, prevLogTerm: 0, entries: [], leaderCommit: 0 }));
    expect(node.ready().hardState).toBeNull(); // unchanged term and vote
  });

  it('hands out entries to persist and committed entries exactly once each', () => {
    const node = newNode({ term: 1 });
    node.step(
      appendEntries({
        from: 'n2',
        to: 'n1',
        term: 1,
        prevLogIndex: 0,
        prevLogTerm: 0,
        entries: [entry({ term: 1, index: 1 }), entry({ term: 1, index: 2 })],
        leaderCommit: 1,
      }),
    );
    const first = node.ready();
    expect(first.entriesToAppend.map((e) => e.index)).toEqual([1, 2]);
    expect(first.committedEntries.map((e) => e.index)).toEqual([1]);
    node.step(appendEntries({ from: 'n2', to: 'n1', term: 1, prevLogIndex: 2, prevLogTerm: 1, entries: [], leaderCommit: 2 }));
    const second = node.ready();
    expect(second.entriesToAppend).toEqual([]);
    expect(second.committedEntries.map((e) => e.index)).toEqual([2]);
    expect(node.hasReady()).toBe(false);
  });

  it('the same inputs and seed give the same outputs (determinism)', () => {
    const run = (seed: number) => {
      const net = new Network(5, sticky, seed);
      net.waitForLeader();
      net.propose(net.leader() ?? 'n1', 'a');
      net.isolate(net.leader() ?? 'n1');
      net.tick(40);
      return JSON.stringify(net.sent);
    };
    expect(run(42)).toBe(run(42));
  });
});

describe('robustness against bad input', () => {
  it('ignores messages for another node, from itself, and malformed AppendEntries', () => {
    const node = newNode({ term: 1 });
    node.step(appendEntries({ from: 'n2', to: 'n9', term: 5, prevLogIndex: 0, prevLogTerm: 0, entries: [], leaderCommit: 0 }));
    node.step(appendEntries({ from: 'n1', to: 'n1', term: 5, prevLogIndex: 0, prevLogTerm: 0, entries: [], leaderCommit: 0 }));
    // gap
    node.step(
      appendEntries({
        from: 'n2',
        to: 'n1',
        term: 5,
        prevLogIndex: 0,
        prevLogTerm: 0,
        entries: [entry({ term: 1, index: 1 }), entry({ term: 1, index: 3 })],
        leaderCommit: 0,
      }),
    );
    // entry term above message term
    node.step(
      appendEntries({
        from: 'n2',
        to: 'n1',
        term: 5,
        prevLogIndex: 0,
        prevLogTerm: 0,
        entries: [entry({ term: 6, index: 1 })],
        leaderCommit: 0,
      }),
    );
    node.step({ ...appendEntries({ from: 'n2', to: 'n1', term: 5, prevLogIndex: -1, prevLogTerm: 0, entries: [], leaderCommit: 0 }) });
    expect(node.status()).toMatchObject({ currentTerm: 1, lastLogIndex: 0 });
    expect(node.hasReady()).toBe(false);
  });

  it('takes a leader from outside its configuration (§4.1: it may have joined in entries not received yet); senders are authenticated by the transport', () => {
    const node = newNode({ term: 1 });
    node.step(appendEntries({ from: 'x', to: 'n1', term: 5, prevLogIndex: 0, prevLogTerm: 0, entries: [], leaderCommit: 0 }));
    expect(node.status()).toMatchObject({ currentTerm: 5, leaderId: 'x', lastLogIndex: 0 });
    expect(ofType(node.ready().messages, 'append_entries_response')).toMatchObject([{ to: 'x', success: true }]);
  });

  it('drops an AppendEntries that contradicts committed entries instead of overwriting them (§5.4.3)', () => {
    const node = newNode({ term: 1 });
    node.step(
      appendEntries({
        from: 'n2',
        to: 'n1',
        term: 1,
        prevLogIndex: 0,
        prevLogTerm: 0,
        entries: [entry({ term: 1, index: 1 }), entry({ term: 1, index: 2 })],
        leaderCommit: 2,
      }),
    );
    node.ready();
    node.step(
      appendEntries({
        from: 'n3',
        to: 'n1',
        term: 2,
        prevLogIndex: 0,
        prevLogTerm: 0,
        entries: [entry({ term: 2, index: 1 }), entry({ term: 2, index: 2 }), entry({ term: 2, index: 3 })],
        leaderCommit: 3,
      }),
    );
    expect(termsOf(node.log())).toEqual([1, 1]);
    expect(node.ready().messages).toEqual([]);
  });

  it('rejects broken configuration and stored state loudly', () => {
    expect(
      () => new RaftNode(makeConfig('n1', ['n2', 'n3']), { hardState: { currentTerm: 0, votedFor: null }, entries: [] }, createPrng(1)),
    ).toThrow(AssertionError);
    expect(() => newNode({ term: 1, entries: [entry({ term: 1, index: 1 }), entry({ term: 1, index: 3 })] })).toThrow(AssertionError);
    expect(() => newNode({ term: 1, entries: entriesOfTerms([1, 2]) })).toThrow(AssertionError);
    expect(
      () =>
        new RaftNode(
          makeConfig('n1', ids(3), { heartbeatIntervalTicks: 10 }),
          { hardState: { currentTerm: 0, votedFor: null }, entries: [] },
          createPrng(1),
        ),
    ).toThrow(AssertionError);
  });
});
