/**
 * The Raft paper, section by section (a port of the spirit of etcd-io/raft
 * raft_paper_test.go). Each test is "init, test, check": build a core in a
 * known state, feed it messages or ticks, check its state and outgoing
 * messages. Section references are to Ongaro & Ousterhout 2014.
 */
import { describe, expect, it } from 'vitest';
import { createPrng } from '../../../node/raft/prng.js';
import { RaftNode } from '../../../node/raft/raft.js';
import type { Entry, NodeId, RaftMessage } from '../../../node/raft/types.js';
import { appendEntries, appendResponse, entry, makeLeader, newNode, ofType, requestVote, takeMessages, voteResponse } from './helpers.js';
import { Network, entriesOfTerms, ids, makeConfig, termsOf } from './network.js';

/** A 3-node leader at term 1 whose noop (index 1) every follower acknowledged. */
function leaderWithCommittedNoop(peers: readonly NodeId[] = ids(3)): RaftNode {
  const leader = newNode({ peers });
  makeLeader(leader);
  for (const peer of peers.slice(1)) leader.step(appendResponse({ from: peer, to: 'n1', term: 1, success: true, matchIndex: 1 }));
  leader.ready();
  expect(leader.status().commitIndex).toBe(1);
  return leader;
}

describe('§5.1 terms', () => {
  const roles = ['follower', 'pre_candidate', 'candidate', 'leader'] as const;

  // §5.1: "If a server's current term is smaller than the other's, it updates its term";
  // "If a candidate or leader discovers that its term is out of date, it immediately reverts to follower."
  it.each(roles)('a %s adopts a higher term from AppendEntries and becomes follower', (role) => {
    const node = newNode({ term: 1, overrides: { preVote: role === 'pre_candidate' } });
    if (role === 'pre_candidate') node.campaign();
    if (role === 'candidate') node.campaign();
    if (role === 'leader') makeLeader(node);
    expect(node.status().role).toBe(role);
    const term = node.status().currentTerm + 1;
    node.step(appendEntries({ from: 'n2', to: 'n1', term, prevLogIndex: 0, prevLogTerm: 0, entries: [], leaderCommit: 0 }));
    expect(node.status()).toMatchObject({ role: 'follower', currentTerm: term, leaderId: 'n2' });
  });

  // §5.1: a higher-term RequestVote also updates the term (vote cleared, no leader known).
  it('a follower adopts a higher term from RequestVote, with votedFor cleared before voting', () => {
    const node = newNode({ term: 1, votedFor: 'n3' });
    node.step(requestVote({ from: 'n2', to: 'n1', term: 2, lastLogIndex: 0, lastLogTerm: 0 }));
    expect(node.status()).toMatchObject({ role: 'follower', currentTerm: 2, leaderId: null, votedFor: 'n2' });
  });

  // §5.1: "If a server receives a request with a stale term number, it rejects the request"
  // (with its own term, so the sender steps down).
  it('ignores a stale AppendEntries but answers with its term', () => {
    const node = newNode({ term: 2 });
    node.step(
      appendEntries({
        from: 'n2',
        to: 'n1',
        term: 1,
        prevLogIndex: 0,
        prevLogTerm: 0,
        entries: [entry({ term: 1, index: 1 })],
        leaderCommit: 1,
      }),
    );
    expect(node.status()).toMatchObject({ role: 'follower', currentTerm: 2, leaderId: null, lastLogIndex: 0, commitIndex: 0 });
    const [response] = takeMessages(node);
    expect(response).toMatchObject({ type: 'append_entries_response', term: 2, success: false, to: 'n2' });
  });

  it('rejects a stale RequestVote with its term and does not vote', () => {
    const node = newNode({ term: 2 });
    node.step(requestVote({ from: 'n2', to: 'n1', term: 1, lastLogIndex: 5, lastLogTerm: 1 }));
    expect(node.status().votedFor).toBeNull();
    expect(takeMessages(node)).toEqual([voteResponse({ from: 'n1', to: 'n2', term: 2, voteGranted: false })]);
  });

  it('drops stale responses without any effect', () => {
    const node = newNode({ term: 3 });
    node.step(voteResponse({ from: 'n2', to: 'n1', term: 2, voteGranted: true }));
    node.step(appendResponse({ from: 'n2', to: 'n1', term: 2, success: true, matchIndex: 0 }));
    expect(node.hasReady()).toBe(false);
  });

  // §5.1: a leader that learns of a higher term from a response steps down.
  it('a leader steps down on a response with a higher term', () => {
    const leader = newNode();
    makeLeader(leader);
    leader.step(appendResponse({ from: 'n2', to: 'n1', term: 5, success: false, matchIndex: 0 }));
    expect(leader.status()).toMatchObject({ role: 'follower', currentTerm: 5, leaderId: null });
  });
});

describe('§5.2 leader election', () => {
  // §5.2: "When servers start up, they begin as followers."
  it('starts as follower with no leader', () => {
    expect(newNode().status()).toMatchObject({ role: 'follower', leaderId: null, currentTerm: 0, commitIndex: 0 });
  });

  // §5.2: "Leaders send periodic heartbeats (AppendEntries RPCs that carry no log entries) to all followers."
  it('a leader broadcasts one empty heartbeat per follower every heartbeat interval', () => {
    const leader = newNode({ entries: entriesOfTerms(Array(10).fill(1)), term: 1 });
    makeLeader(leader);
    for (let t = 0; t < 2; t++) leader.tick(); // heartbeatIntervalTicks = 2
    const messages = takeMessages(leader);
    expect(messages.map((m) => m.to)).toEqual(['n2', 'n3']);
    for (const message of ofType(messages, 'append_entries')) {
      expect(message).toMatchObject({ term: 2, entries: [], leaderCommit: 0 });
    }
    expect(messages).toHaveLength(2);
  });

  // §5.2: "If a follower receives no communication over a period of time called the election
  // timeout ... it increments its current term, votes for itself, and issues RequestVote RPCs."
  it.each(['follower', 'candidate'] as const)('a %s starts an election after the election timeout', (role) => {
    const node = newNode({ term: 1, entries: [entry({ term: 1, index: 1 })] });
    if (role === 'candidate') node.campaign();
    node.ready();
    const term = node.status().currentTerm;
    for (let t = 0; t < 2 * 19; t++) node.tick();
    expect(node.status()).toMatchObject({ role: 'candidate', votedFor: 'n1' });
    expect(node.status().currentTerm).toBeGreaterThan(term);
    const requests = ofType(takeMessages(node), 'request_vote').filter((m) => m.term === node.status().currentTerm);
    // Every request of one round carries that round's campaign number (answers echo it).
    const campaign = requests[0]?.campaign;
    expect(Number.isSafeInteger(campaign) && (campaign ?? 0) >= 1).toBe(true);
    const expected = [
      requestVote({
        from: 'n1',
        to: 'n2',
        term: node.status().currentTerm,
        lastLogIndex: 1,
        lastLogTerm: 1,
        ...(campaign !== undefined ? { campaign } : {}),
      }),
      requestVote({
        from: 'n1',
        to: 'n3',
        term: node.status().currentTerm,
        lastLogIndex: 1,
        lastLogTerm: 1,
        ...(campaign !== undefined ? { campaign } : {}),
      }),
    ];
    expect(requests.slice(0, 2)).toEqual(expected);
    // Anything after the first round is a retry of the same request (§5.1).
    for (const r of requests.slice(2)) expect(expected).toContainEqual(r);
  });

  // §5.1: "Servers retry RPCs if they do not receive a response in a timely manner."
  it('a candidate asks again, every heartbeat interval, only the peers that have not answered', () => {
    const node = newNode({ term: 1, entries: [entry({ term: 1, index: 1 })], peers: ids(5) });
    node.campaign();
    const term = node.status().currentTerm;
    expect(ofType(takeMessages(node), 'request_vote').map((m) => m.to)).toEqual(['n2', 'n3', 'n4', 'n5']);
    node.step({ type: 'request_vote_response', term, from: 'n2', to: 'n1', voteGranted: true, preVote: false });
    node.step({ type: 'request_vote_response', term, from: 'n3', to: 'n1', voteGranted: false, preVote: false });
    node.ready();
    const retried: string[][] = [];
    for (
      let t = 0;
      t < 3 * 2 /* heartbeatIntervalTicks */ && node.status().role === 'candidate' && node.status().currentTerm === term;
      t++
    ) {
      node.tick();
      const to = ofType(takeMessages(node), 'request_vote').map((m) => m.to);
      if (to.length > 0) retried.push(to);
    }
    expect(retried.length).toBeGreaterThan(0);
    for (const round of retried) expect(round).toEqual(['n4', 'n5']);
  });

  // §5.2: a candidate wins with votes from a majority; loses when a majority refused; else waits.
  it.each([
    { size: 1, votes: {}, role: 'leader' },
    { size: 3, votes: { n2: true, n3: true }, role: 'leader' },
    { size: 3, votes: { n2: true }, role: 'leader' },
    { size: 5, votes: { n2: true, n3: true, n4: true, n5: true }, role: 'leader' },
    { size: 5, votes: { n2: true, n3: true }, role: 'leader' },
    { size: 3, votes: { n2: false, n3: false }, role: 'follower' },
    { size: 5, votes: { n2: false, n3: false, n4: false, n5: false }, role: 'follower' },
    { size: 5, votes: { n2: true, n3: false, n4: false, n5: false }, role: 'follower' },
    { size: 3, votes: {}, role: 'candidate' },
    { size: 5, votes: { n2: true }, role: 'candidate' },
    { size: 5, votes: { n2: true, n3: false, n4: false }, role: 'candidate' },
  ] as const)('election in one round: $size nodes, votes $votes -> $role', ({ size, votes, role }) => {
    const node = newNode({ peers: ids(size) });
    node.campaign();
    node.ready();
    for (const [from, granted] of Object.entries(votes)) node.step(voteResponse({ from, to: 'n1', term: 1, voteGranted: granted }));
    expect(node.status()).toMatchObject({ role, currentTerm: 1 });
  });

  // §5.2: "Each server will vote for at most one candidate in a given term, on a first-come-first-served basis."
  it.each([
    { votedFor: null, requester: 'n2', granted: true },
    { votedFor: null, requester: 'n3', granted: true },
    { votedFor: 'n2', requester: 'n2', granted: true },
    { votedFor: 'n2', requester: 'n3', granted: false },
    { votedFor: 'n3', requester: 'n2', granted: false },
    { votedFor: 'n3', requester: 'n3', granted: true },
  ] as const)('votes once per term: votedFor $votedFor, request from $requester -> $granted', ({ votedFor, requester, granted }) => {
    const node = newNode({ term: 1, votedFor });
    node.step(requestVote({ from: requester, to: 'n1', term: 1, lastLogIndex: 0, lastLogTerm: 0 }));
    expect(takeMessages(node)).toEqual([voteResponse({ from: 'n1', to: requester, term: 1, voteGranted: granted })]);
    expect(node.status().votedFor).toBe(granted ? requester : votedFor);
  });

  // §5.2: "If the AppendEntries RPC is from the leader of its term (term >= candidate's term), the candidate ... returns to follower state."
  it.each([0, 1])('a candidate falls back to follower on AppendEntries with term +%i', (delta) => {
    const node = newNode({ term: 1 });
    node.campaign();
    const term = node.status().currentTerm + delta;
    node.step(appendEntries({ from: 'n2', to: 'n1', term, prevLogIndex: 0, prevLogTerm: 0, entries: [], leaderCommit: 0 }));
    expect(node.status()).toMatchObject({ role: 'follower', currentTerm: term, leaderId: 'n2' });
  });

  // §5.2, §9.3: election timeouts are chosen randomly from a fixed interval; every value occurs.
  it('draws the election timeout from [min, max] at random (seed 7): every value observed', () => {
    const node = newNode({ seed: 7 });
    const seen = new Set<number>();
    for (let round = 1; round <= 1000; round++) {
      // a new term resets the timer
      node.step(
        appendEntries({
          from: 'n2',
          to: 'n1',
          term: node.status().currentTerm + 1,
          prevLogIndex: 0,
          prevLogTerm: 0,
          entries: [],
          leaderCommit: 0,
        }),
      );
      let ticks = 0;
      while (node.status().role === 'follower') {
        node.tick();
        ticks++;
        expect(ticks).toBeLessThanOrEqual(19);
      }
      seen.add(ticks);
      node.ready();
    }
    expect([...seen].sort((a, b) => a - b)).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
  });

  // §5.2, §9.3: with randomized timeouts, followers rarely time out together (etcd: <= 30% of rounds).
  it('followers rarely time out on the same tick (5 nodes, 1000 rounds, seeds 1..5)', () => {
    const nodes = ids(5).map((id, i) => newNode({ id, peers: ids(5), seed: i + 1 }));
    let conflicts = 0;
    for (let round = 1; round <= 1000; round++) {
      const fired: number[] = [];
      for (const node of nodes) {
        const other = node.id === 'n1' ? 'n2' : 'n1';
        node.step({
          ...appendEntries({
            from: other,
            to: node.id,
            term: node.status().currentTerm + 1,
            prevLogIndex: 0,
            prevLogTerm: 0,
            entries: [],
            leaderCommit: 0,
          }),
        });
        let ticks = 0;
        while (node.status().role === 'follower') {
          node.tick();
          ticks++;
        }
        fired.push(ticks);
        node.ready();
      }
      const first = Math.min(...fired);
      if (fired.filter((t) => t === first).length > 1) conflicts++;
    }
    expect(conflicts / 1000).toBeLessThanOrEqual(0.3);
  });
});

describe('§5.3 log replication', () => {
  // §5.3: "The leader appends the command to its log as a new entry, then issues AppendEntries RPCs in parallel."
  it('a leader appends a proposal and sends it at once to every follower', () => {
    const leader = leaderWithCommittedNoop();
    const result = leader.propose('x');
    expect(result).toEqual({ ok: true, index: 2, term: 1 });
    const ready = leader.ready();
    expect(ready.entriesToAppend).toEqual([{ term: 1, index: 2, type: 'command', data: 'x' }]);
    expect(
      ofType(ready.messages, 'append_entries').map((m) => [m.to, m.prevLogIndex, m.prevLogTerm, m.entries.length, m.leaderCommit]),
    ).toEqual([
      ['n2', 1, 1, 1, 1],
      ['n3', 1, 1, 1, 1],
    ]);
  });

  // §5.3: "When the entry has been safely replicated, the leader applies the entry ... [and] keeps track of the
  // highest index it knows to be committed, and it includes that index in future AppendEntries RPCs."
  it('a leader commits once a majority stored the entry and tells followers in later AppendEntries', () => {
    const leader = leaderWithCommittedNoop();
    leader.propose('x');
    leader.ready();
    leader.step(appendResponse({ from: 'n2', to: 'n1', term: 1, success: true, matchIndex: 2 }));
    const ready = leader.ready();
    expect(ready.softState.commitIndex).toBe(2);
    expect(ready.committedEntries.map((e) => e.data)).toEqual(['x']);
    leader.propose('y');
    const toN2 = ofType(takeMessages(leader), 'append_entries').find((m) => m.to === 'n2');
    expect(toN2?.leaderCommit).toBe(2);
  });

  // §5.3: "A log entry is committed once the leader that created the entry has replicated it on a majority of the servers."
  it.each([
    { size: 1, acks: 0, committed: true },
    { size: 3, acks: 0, committed: false },
    { size: 3, acks: 1, committed: true },
    { size: 3, acks: 2, committed: true },
    { size: 5, acks: 0, committed: false },
    { size: 5, acks: 1, committed: false },
    { size: 5, acks: 2, committed: true },
    { size: 5, acks: 4, committed: true },
  ])('commit needs a majority: $size nodes, $acks follower acks -> committed $committed', ({ size, acks, committed }) => {
    const peers = ids(size);
    const leader = newNode({ peers });
    makeLeader(leader);
    leader.propose('x'); // index 2 (after the noop)
    leader.ready();
    for (const peer of peers.slice(1, 1 + acks))
      leader.step(
        appendResponse({
          from: peer,
          to: 'n1',
          term: 1,
          success: true,
          matchIndex: 2,
        }),
      );
    expect(leader.status().commitIndex).toBe(committed ? 2 : 0);
  });

  // §5.3: "This also commits all preceding entries in the leader's log, including entries created by previous leaders."
  it('committing a new-term entry commits all preceding entries, applied in order', () => {
    const leader = newNode({ term: 2, entries: entriesOfTerms([1, 2]) });
    makeLeader(leader); // term 3, noop at index 3
    leader.step(appendResponse({ from: 'n2', to: 'n1', term: 3, success: true, matchIndex: 3 }));
    expect(leader.ready().committedEntries.map((e) => [e.index, e.term])).toEqual([
      [1, 1],
      [2, 2],
      [3, 3],
    ]);
  });

  // §5.3 / Figure 2: "If leaderCommit > commitIndex, set commitIndex = min(leaderCommit, index of last new entry)."
  it.each([
    { log: [], prev: 0, ents: [1, 1], leaderCommit: 1, commit: 1 },
    { log: [], prev: 0, ents: [1, 1], leaderCommit: 2, commit: 2 },
    { log: [], prev: 0, ents: [1, 1], leaderCommit: 5, commit: 2 },
    { log: [1, 1, 1, 1], prev: 0, ents: [1], leaderCommit: 3, commit: 1 },
    { log: [1, 1, 1, 1], prev: 2, ents: [], leaderCommit: 4, commit: 2 },
    { log: [1, 1], prev: 2, ents: [1, 1], leaderCommit: 3, commit: 3 },
  ])(
    'follower commit = min(leaderCommit, last new): log $log, prev $prev + $ents, leaderCommit $leaderCommit -> $commit',
    ({ log, prev, ents, leaderCommit, commit }) => {
      const node = newNode({ term: 1, entries: entriesOfTerms(log) });
      const incoming = ents.map((term, i) => entry({ term, index: prev + 1 + i }));
      node.step(
        appendEntries({
          from: 'n2',
          to: 'n1',
          term: 1,
          prevLogIndex: prev,
          prevLogTerm: prev === 0 ? 0 : 1,
          entries: incoming,
          leaderCommit,
        }),
      );
      const ready = node.ready();
      expect(ready.softState.commitIndex).toBe(commit);
      expect(ready.committedEntries.map((e) => e.index)).toEqual(Array.from({ length: commit }, (_, i) => i + 1));
    },
  );

  // §5.3: "If the follower does not find an entry in its log with the same index and term, then it refuses the new entries."
  // The rejection carries the fast-backtracking hint (conflictTerm, first index of that term / log length + 1).
  it.each([
    { prev: 0, prevTerm: 0, success: true, matchIndex: 0, conflictTerm: null, conflictIndex: 0 },
    { prev: 2, prevTerm: 2, success: true, matchIndex: 2, conflictTerm: null, conflictIndex: 0 },
    { prev: 4, prevTerm: 3, success: true, matchIndex: 4, conflictTerm: null, conflictIndex: 0 },
    { prev: 4, prevTerm: 2, success: false, matchIndex: 4, conflictTerm: 3, conflictIndex: 4 },
    { prev: 3, prevTerm: 3, success: false, matchIndex: 3, conflictTerm: 2, conflictIndex: 2 },
    { prev: 1, prevTerm: 2, success: false, matchIndex: 1, conflictTerm: 1, conflictIndex: 1 },
    { prev: 6, prevTerm: 3, success: false, matchIndex: 6, conflictTerm: null, conflictIndex: 5 },
  ])('consistency check on log [1,2,2,3]: prev ($prev, $prevTerm) -> success $success', (c) => {
    const node = newNode({ term: 3, entries: entriesOfTerms([1, 2, 2, 3]) });
    node.step(
      appendEntries({
        from: 'n2',
        to: 'n1',
        term: 3,
        prevLogIndex: c.prev,
        prevLogTerm: c.prevTerm,
        entries: [],
        leaderCommit: 0,
        seq: 9,
      }),
    );
    expect(takeMessages(node)).toEqual([
      appendResponse({
        from: 'n1',
        to: 'n2',
        term: 3,
        success: c.success,
        matchIndex: c.matchIndex,
        seq: 9,
        conflictTerm: c.conflictTerm,
        conflictIndex: c.conflictIndex,
      }),
    ]);
    expect(node.log().length).toBe(4);
  });

  // §5.3: "If an existing entry conflicts with a new one (same index but different terms), delete the existing
  // entry and all that follow it"; entries already present are never truncated (etcd TestFollowerAppendEntries,
  // TestLogReplicationWithReorderedMessage): a duplicated or reordered older AppendEntries changes nothing.
  it.each([
    { name: 'append after the last', prev: 2, prevTerm: 2, ents: [[3, 3]], log: [1, 2, 3], persistFrom: 3 },
    {
      name: 'truncate a conflicting suffix',
      prev: 1,
      prevTerm: 1,
      ents: [
        [3, 2],
        [4, 3],
      ],
      log: [1, 3, 4],
      persistFrom: 2,
    },
    { name: 'matching prefix only: no truncation', prev: 0, prevTerm: 0, ents: [[1, 1]], log: [1, 2], persistFrom: null },
    { name: 'duplicate of the last entry', prev: 1, prevTerm: 1, ents: [[2, 2]], log: [1, 2], persistFrom: null },
    {
      name: 'matching then new',
      prev: 0,
      prevTerm: 0,
      ents: [
        [1, 1],
        [2, 2],
        [4, 3],
      ],
      log: [1, 2, 4],
      persistFrom: 3,
    },
    { name: 'conflict at the first entry', prev: 0, prevTerm: 0, ents: [[3, 1]], log: [3], persistFrom: 1 },
  ])('follower append/truncate on log [1,2]: $name', ({ prev, prevTerm, ents, log, persistFrom }) => {
    const node = newNode({ term: 4, entries: entriesOfTerms([1, 2]) });
    node.step(
      appendEntries({
        from: 'n2',
        to: 'n1',
        term: 4,
        prevLogIndex: prev,
        prevLogTerm: prevTerm,
        entries: ents.map(([term, index]) => entry({ term: term ?? 0, index: index ?? 0 })),
        leaderCommit: 0,
      }),
    );
    expect(termsOf(node.log())).toEqual(log);
    const ready = node.ready();
    expect(ready.entriesToAppend[0]?.index ?? null).toBe(persistFrom);
    expect(ready.messages[0]).toMatchObject({ success: true, matchIndex: prev + ents.length });
  });

  it('a reordered older AppendEntries never truncates, and the leader never lowers matchIndex', () => {
    const follower = newNode({ id: 'n2', term: 1 });
    const newer = appendEntries({
      from: 'n1',
      to: 'n2',
      term: 1,
      prevLogIndex: 0,
      prevLogTerm: 0,
      entries: [entry({ term: 1, index: 1 }), entry({ term: 1, index: 2 }), entry({ term: 1, index: 3 })],
      leaderCommit: 0,
      seq: 2,
    });
    const older = appendEntries({
      from: 'n1',
      to: 'n2',
      term: 1,
      prevLogIndex: 0,
      prevLogTerm: 0,
      entries: [entry({ term: 1, index: 1 })],
      leaderCommit: 0,
      seq: 1,
    });
    follower.step(newer);
    follower.step(older);
    follower.step(newer); // and a duplicate
    expect(termsOf(follower.log())).toEqual([1, 1, 1]);
    const responses = ofType(takeMessages(follower), 'append_entries_response').map((m) => m.matchIndex);
    expect(responses).toEqual([3, 1, 3]);

    const leader = leaderWithCommittedNoop();
    leader.propose('a');
    leader.propose('b');
    leader.ready();
    leader.step(appendResponse({ from: 'n2', to: 'n1', term: 1, success: true, matchIndex: 3, seq: 5 }));
    leader.step(appendResponse({ from: 'n2', to: 'n1', term: 1, success: true, matchIndex: 2, seq: 4 })); // late answer to an older message
    expect(leader.progressOf('n2')?.matchIndex).toBe(3);
  });

  // §5.3, Figure 7: whatever the follower's log (a)-(f), the leader of term 8 makes it identical to its own.
  const figure7Leader = [1, 1, 1, 4, 4, 5, 5, 6, 6, 6];
  it.each([
    { name: '(a) missing one entry', follower: [1, 1, 1, 4, 4, 5, 5, 6, 6] },
    { name: '(b) missing many entries', follower: [1, 1, 1, 4] },
    { name: '(c) one extra uncommitted entry', follower: [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6] },
    { name: '(d) extra entries of a later term', follower: [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7] },
    { name: '(e) missing and extra entries of term 4', follower: [1, 1, 1, 4, 4, 4, 4] },
    { name: '(f) entries of terms 2-3 the leader never had', follower: [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3] },
  ])('Figure 7 %s: the follower ends with the leader log', ({ follower }) => {
    const net = new Network(3, {}, 1, (id) => ({
      hardState: { currentTerm: 7, votedFor: null },
      entries: entriesOfTerms(id === 'n2' ? follower : figure7Leader),
    }));
    net.campaign('n1'); // term 8: n3 (same log) grants, so n1 wins whatever n2 says
    expect(net.node('n1').status()).toMatchObject({ role: 'leader', currentTerm: 8 });
    net.tick(4, ['n1']); // heartbeats drive the repair to completion
    expect(termsOf(net.node('n2').log())).toEqual([...figure7Leader, 8]);
    expect(net.node('n2').log()).toEqual(net.node('n1').log());
    expect(net.node('n2').status().commitIndex).toBe(11);
  });
});

describe('§5.4.1 election restriction', () => {
  // §5.4.1: "The RequestVote RPC ... includes information about the candidate's log."
  it('a RequestVote carries the last log index and term', () => {
    const node = newNode({ term: 2, entries: entriesOfTerms([1, 2]) });
    node.campaign();
    expect(ofType(takeMessages(node), 'request_vote')[0]).toMatchObject({ lastLogIndex: 2, lastLogTerm: 2, term: 3 });
  });

  // §5.4.1: "If the logs have last entries with different terms, then the log with the later term is more
  // up-to-date. If the logs end with the same term, then whichever log is longer is more up-to-date."
  it.each([
    { voter: [1], lastLogIndex: 1, lastLogTerm: 1, granted: true },
    { voter: [1], lastLogIndex: 2, lastLogTerm: 1, granted: true },
    { voter: [1, 1], lastLogIndex: 1, lastLogTerm: 1, granted: false },
    { voter: [1], lastLogIndex: 1, lastLogTerm: 2, granted: true },
    { voter: [1, 1], lastLogIndex: 1, lastLogTerm: 2, granted: true },
    { voter: [2], lastLogIndex: 1, lastLogTerm: 1, granted: false },
    { voter: [2], lastLogIndex: 2, lastLogTerm: 1, granted: false },
    { voter: [1, 2], lastLogIndex: 3, lastLogTerm: 1, granted: false },
    { voter: [], lastLogIndex: 0, lastLogTerm: 0, granted: true },
  ])(
    'voter log $voter, candidate last ($lastLogIndex, $lastLogTerm) -> granted $granted',
    ({ voter, lastLogIndex, lastLogTerm, granted }) => {
      const node = newNode({ term: 2, entries: entriesOfTerms(voter) });
      node.step(requestVote({ from: 'n2', to: 'n1', term: 3, lastLogIndex, lastLogTerm }));
      expect(takeMessages(node)).toEqual([voteResponse({ from: 'n1', to: 'n2', term: 3, voteGranted: granted })]);
    },
  );
});

describe('§5.4.2 committing entries from previous terms (Figure 8)', () => {
  // §5.4.2: "Raft never commits log entries from previous terms by counting replicas. Only log entries from the
  // leader's current term are committed by counting replicas."
  it.each([
    { matchIndex: 1, commit: 0 },
    { matchIndex: 2, commit: 0 },
    { matchIndex: 3, commit: 3 },
  ])('a term-3 leader with entries of terms 1-2: a majority at $matchIndex -> commit $commit', ({ matchIndex, commit }) => {
    const leader = newNode({ term: 2, entries: entriesOfTerms([1, 2]) });
    makeLeader(leader); // term 3, noop at index 3
    leader.step(appendResponse({ from: 'n2', to: 'n1', term: 3, success: true, matchIndex }));
    expect(leader.status().commitIndex).toBe(commit);
  });

  it('with unsafe.commitOldTerms the same leader commits an old-term entry by counting (the bug)', () => {
    const leader = newNode({
      term: 2,
      entries: entriesOfTerms([1, 2]),
      overrides: { unsafe: { commitOldTerms: true, skipReadQuorum: false } },
    });
    makeLeader(leader);
    leader.step(appendResponse({ from: 'n2', to: 'n1', term: 3, success: true, matchIndex: 2 }));
    expect(leader.status().commitIndex).toBe(2);
  });

  /**
   * Figure 8 scripted on 5 nodes. Our logs start with each leader's noop,
   * so the caption's "term-2 entry at index 2" is the entry `x` (term 1,
   * index 2) written by the first leader n1 (S1):
   * (a) n1 leads term 1 and appends x, replicated nowhere else;
   * (b) n1 crashes; n5 wins term 2 with votes of n3, n4 and writes its noop at index 2 only locally;
   * (c) n5 crashes; n1 restarts, wins term 3 (n2, n3), replicates x to n2, n3 (a majority) but not its term-3 noop;
   * (d) n1 crashes; n5 restarts, wins term 4 and overwrites x with its own index-2 entry;
   * (e) instead of (d): n1 first replicates its term-3 noop to a majority, committing x; n5 then cannot win.
   */
  function figure8(unsafe: boolean, ending: 'd' | 'e') {
    const net = new Network(5, { maxAppendBytes: 1, unsafe: { commitOldTerms: unsafe, skipReadQuorum: false } });
    // (a)
    net.campaign('n1');
    // Under the flag a leader appends no noop (the whole Figure 8 bug): index 1 is a client's entry instead.
    if (unsafe) net.propose('n1', 'w');
    expect(net.node('n1').status()).toMatchObject({ role: 'leader', currentTerm: 1, commitIndex: 1 });
    net.isolate('n1');
    net.propose('n1', 'x');
    // (b)
    net.crash('n1');
    net.heal();
    net.filter = (m) => !(m.type === 'append_entries' && m.from === 'n5');
    net.campaign('n5');
    expect(net.node('n5').status()).toMatchObject({ role: 'leader', currentTerm: 2 });
    // Likewise n5's index-2 entry is a client's under the flag, as in the paper's (b).
    if (unsafe) net.propose('n5', 'y');
    expect(termsOf(net.node('n5').log())).toEqual([1, 2]);
    // (c)
    net.crash('n5');
    net.restart('n1');
    net.cut('n1', 'n4');
    // Deliver n1's term-3 noop only where it will be rejected (the follower lacks index 2), so x travels alone.
    net.filter = (m) =>
      !(m.type === 'append_entries' && m.from === 'n1' && m.entries.some((e) => e.term === 3) && net.node(m.to).status().lastLogIndex >= 2);
    net.campaign('n1'); // term 2: n3, n4 voted for n5 already; not enough votes
    net.campaign('n1'); // term 3: n2, n3 (and n1) grant
    const n1 = net.node('n1').status();
    expect(n1).toMatchObject({ role: 'leader', currentTerm: 3 });
    for (const id of ['n1', 'n2', 'n3']) expect(net.node(id).log()[1]?.data).toBe('x');
    expect(net.node('n1').progressOf('n2')?.matchIndex).toBe(2);
    expect(net.node('n1').progressOf('n3')?.matchIndex).toBe(2);
    const commitAtC = n1.commitIndex;
    if (ending === 'e') {
      net.filter = null;
      net.tick(4, ['n1']); // heartbeats: the lost noop is resent and acknowledged
      expect(net.node('n1').status().commitIndex).toBe(3);
    }
    // (d) / after (e)
    net.crash('n1');
    net.heal();
    net.restart('n5');
    for (let i = 0; i < 3 && net.leader() !== 'n5'; i++) net.campaign('n5');
    return { net, commitAtC };
  }

  it('Figure 8 (a)-(d): the term-1 entry on a majority is never committed at (c), so (d) may overwrite it safely', () => {
    const { net, commitAtC } = figure8(false, 'd');
    expect(commitAtC).toBeLessThan(2); // x (index 2, old term) stored on 3 of 5, not committed
    expect(net.leader()).toBe('n5');
    net.tick(4, ['n5']);
    for (const id of ['n2', 'n3', 'n4', 'n5']) {
      expect(termsOf(net.node(id).log()).slice(0, 2)).toEqual([1, 2]);
      expect(net.applied.get(id)?.some((e) => e.data === 'x')).toBe(false);
    }
    expect(net.applied.get('n1')?.some((e) => e.data === 'x')).toBe(false);
  });

  it('Figure 8 (e): once the current-term entry is on a majority, x is committed and n5 cannot win', () => {
    const { net } = figure8(false, 'e');
    expect(net.leader()).not.toBe('n5');
    const leader = net.waitForLeader();
    expect(['n2', 'n3']).toContain(leader);
    net.tick(4);
    for (const id of ['n2', 'n3', 'n4', 'n5']) {
      expect(net.node(id).log()[1]?.data).toBe('x');
      expect(net.applied.get(id)?.[1]?.data).toBe('x');
    }
  });

  it('Figure 8 with unsafe.commitOldTerms: x is committed at (c) and then overwritten at (d) (the bug shows)', () => {
    const { net, commitAtC } = figure8(true, 'd');
    expect(commitAtC).toBe(2); // the unsafe leader counted replicas of an old-term entry
    expect(net.leader()).toBe('n5');
    net.tick(4, ['n5']);
    const atIndex2 = new Set<string>();
    for (const id of net.ids) {
      const applied: Entry | undefined = net.applied.get(id)?.[1];
      if (applied !== undefined) atIndex2.add(`${applied.term}:${applied.data}`);
    }
    // Two different entries were applied at index 2: State Machine Safety is broken.
    expect(atIndex2.size).toBe(2);
  });
});

// Keep the import of RaftMessage/makeConfig/createPrng used for a direct-construction sanity check.
describe('construction', () => {
  it('restores term, vote and log from stored state and starts with nothing to do', () => {
    const node = new RaftNode(
      makeConfig('n1', ids(3)),
      { hardState: { currentTerm: 4, votedFor: 'n2' }, entries: entriesOfTerms([1, 4]) },
      createPrng(3),
    );
    expect(node.status()).toMatchObject({ currentTerm: 4, votedFor: 'n2', lastLogIndex: 2, lastLogTerm: 4, commitIndex: 0 });
    expect(node.hasReady()).toBe(false);
    const none: RaftMessage[] = [];
    expect(node.ready().messages).toEqual(none);
  });
});
