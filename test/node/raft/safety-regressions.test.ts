/**
 * Regression tests for the read-safety and catch-up defects a review found
 * in the core (issue 15). Each scenario runs twice: with the core as it is
 * (the defect must not show) and with the `unsafe` flag that re-creates the
 * old behaviour (the defect must show, so the scenario really reaches it).
 */
import { describe, expect, it } from 'vitest';
import type { AppendEntries, NodeId, RaftMessage, UnsafeCoreFlags } from '../../../node/raft/types.js';
import { safeCoreFlags } from '../../../node/raft/types.js';
import { Network, entriesOfTerms, ids, type ConfigOverrides } from './network.js';

function flags(extra: Partial<UnsafeCoreFlags>): UnsafeCoreFlags {
  return { ...safeCoreFlags, ...extra };
}

function isAppend(message: RaftMessage): message is AppendEntries {
  return message.type === 'append_entries';
}

/**
 * Defect 1's setup: n1 leads term 1 long enough to have sent AppendEntries
 * with a high `seq`; n2 then leads term 2, and hands leadership back to n1,
 * which leads term 3 (its seq restarted at 0). Returns the network and the
 * newest term-1 AppendEntries n1 sent to n4 and to n5 (what an adversary
 * recorded, or what the network held back).
 */
function leaderAgainInTerm3(overrides: ConfigOverrides): { net: Network; oldToN4: AppendEntries; oldToN5: AppendEntries } {
  const net = new Network(5, { preVote: true, checkQuorum: true, ...overrides });
  net.campaign('n1');
  expect(net.leader()).toBe('n1');
  net.tick(40); // many heartbeat rounds: seq climbs
  const term1 = net.sent.filter(isAppend).filter((m) => m.term === 1 && m.from === 'n1');
  const newest = (to: NodeId): AppendEntries => {
    const found = term1.filter((m) => m.to === to).at(-1);
    if (found === undefined) throw new Error(`no term-1 AppendEntries to ${to}`);
    return found;
  };
  const oldToN4 = newest('n4');
  const oldToN5 = newest('n5');
  expect(oldToN4.seq).toBeGreaterThan(10);

  // n2 takes over in term 2 (a transfer: n1 asks it to), then gives it back.
  net.node('n1').transferLeadership('n2');
  net.stabilize();
  expect(net.leader()).toBe('n2');
  expect(net.node('n2').status().currentTerm).toBe(2);
  net.node('n2').transferLeadership('n1');
  net.stabilize();
  expect(net.leader()).toBe('n1');
  expect(net.node('n1').status().currentTerm).toBe(3);
  return { net, oldToN4, oldToN5 };
}

describe('defect 1: an answer to an older term does not confirm a later term (thesis §6.4)', () => {
  for (const unsafe of [false, true]) {
    it(`ReadIndex: two replayed term-1 heartbeats confirm nothing${unsafe ? ' (unsafe.staleReadAcks: they do)' : ''}`, () => {
      const { net, oldToN4, oldToN5 } = leaderAgainInTerm3({ unsafe: flags({ staleReadAcks: unsafe }) });
      // n1 is cut off from n2 and n3, and nothing n1 sends reaches n4 or n5:
      // no peer sees the read's heartbeat round. Meanwhile {n2, n3} plus
      // either of n4/n5 could elect a leader and commit writes.
      net.cut('n1', 'n2');
      net.cut('n1', 'n3');
      net.filter = (m) => !(m.from === 'n1');
      net.node('n1').readIndex('r1');
      net.stabilize();
      expect(net.readStates.get('n1')).toEqual([]);
      // The adversary delivers the recorded term-1 AppendEntries to n4 and n5.
      net.filter = null;
      net.cut('n1', 'n4');
      net.cut('n1', 'n5');
      net.node('n4').step(oldToN4);
      net.node('n5').step(oldToN5);
      const answers = [net.processReady('n4'), net.processReady('n5')].flatMap((r) => r?.messages ?? []);
      expect(answers.map((m) => [m.type, m.term])).toEqual([
        ['append_entries_response', 3],
        ['append_entries_response', 3],
      ]);
      net.queue = [];
      for (const answer of answers) net.node('n1').step(answer);
      net.processReady('n1');
      const served = (net.readStates.get('n1') ?? []).map((r) => r.requestId);
      expect(served).toEqual(unsafe ? ['r1'] : []);
    });

    it(`lease: replayed term-1 heartbeats do not renew an expired lease${unsafe ? ' (unsafe.staleReadAcks: they do)' : ''}`, () => {
      const leaseTicks = 5;
      const { net, oldToN4, oldToN5 } = leaderAgainInTerm3({
        unsafe: flags({ staleReadAcks: unsafe }),
        leaseTicks,
        electionTimeoutTicksMin: 30,
        electionTimeoutTicksMax: 40,
      });
      // n1 hears nothing more from anyone; its lease runs out (well inside
      // the check-quorum window, so it still leads).
      net.isolate('n1');
      net.tick(leaseTicks + 2, ['n1']);
      expect(net.node('n1').status().role).toBe('leader');
      net.node('n4').step(oldToN4);
      net.node('n5').step(oldToN5);
      const answers = [net.processReady('n4'), net.processReady('n5')].flatMap((r) => r?.messages ?? []);
      net.queue = [];
      for (const answer of answers) net.node('n1').step(answer);
      net.node('n1').readIndex('r1');
      net.processReady('n1');
      const served = (net.readStates.get('n1') ?? []).map((r) => r.requestId);
      expect(served).toEqual(unsafe ? ['r1'] : []);
    });
  }
});

describe('defect 4: a follower that lost acknowledged entries is caught up by the current leader', () => {
  for (const unsafe of [false, true]) {
    it(`after its log lost its tail, the follower catches up without a new election${unsafe ? ' (unsafe.ignoreLostFollowerLog: it never does)' : ''}`, () => {
      const net = new Network(3, { unsafe: flags({ ignoreLostFollowerLog: unsafe }) });
      net.campaign('n1');
      for (let i = 0; i < 5; i++) net.propose('n1', `v${i}`);
      net.tick(4);
      const lastIndex = net.node('n1').status().lastLogIndex;
      expect(net.node('n3').status().lastLogIndex).toBe(lastIndex);
      expect(net.node('n1').progressOf('n3')?.matchIndex).toBe(lastIndex);
      // n3's disk loses its tail (a truncated file): it restarts with 2 entries.
      net.crash('n3');
      const disk = net.disks.get('n3');
      if (disk === undefined) throw new Error('no disk');
      disk.entries.length = 2;
      net.restart('n3');
      expect(net.node('n3').status().lastLogIndex).toBe(2);
      net.tick(8, ['n1', 'n2']); // heartbeats only: no election timeout anywhere
      expect(net.node('n1').status().role).toBe('leader');
      expect(net.node('n1').status().currentTerm).toBe(1);
      expect(net.node('n3').status().lastLogIndex).toBe(unsafe ? 2 : lastIndex);
      if (!unsafe) expect(net.node('n1').progressOf('n3')?.matchIndex).toBe(lastIndex);
    });
  }

  it('a late rejection of an older request (reordering, no loss) does not reset the follower', () => {
    const net = new Network(3);
    net.campaign('n1');
    net.propose('n1', 'a');
    const toN2 = (): AppendEntries[] => {
      const out = net.queue.filter((m): m is AppendEntries => isAppend(m) && m.to === 'n2');
      net.queue = net.queue.filter((m) => !(isAppend(m) && m.to === 'n2'));
      return out;
    };
    net.node('n1').propose('b');
    net.processReady('n1');
    const [first] = toN2();
    net.node('n1').propose('c');
    net.processReady('n1');
    const [second] = toN2();
    if (first === undefined || second === undefined) throw new Error('expected two AppendEntries to n2');
    expect(second.prevLogIndex).toBe(first.prevLogIndex + 1);
    // n2 gets the second one first: it rejects it (its log is too short).
    net.node('n2').step(second);
    const rejection = net.processReady('n2')?.messages.find((m) => m.type === 'append_entries_response');
    expect(rejection).toMatchObject({ success: false, seq: second.seq });
    net.queue = net.queue.filter((m) => m !== rejection);
    // Then the first, and a resend of the second: n2 holds everything.
    net.deliver(first);
    net.deliver(second);
    net.stabilize();
    const lastIndex = net.node('n1').status().lastLogIndex;
    expect(net.node('n1').progressOf('n2')).toMatchObject({ matchIndex: lastIndex, state: 'replicate' });
    // The rejection arrives late: it answers a request sent before the acks came, so it proves no loss.
    if (rejection === undefined) throw new Error('no rejection');
    net.deliver(rejection);
    expect(net.node('n1').progressOf('n2')).toMatchObject({ matchIndex: lastIndex, state: 'replicate' });
  });
});

describe('defect 7: a restarted follower keeps the lease promise it may have made (thesis §6.4.1)', () => {
  for (const unsafe of [false, true]) {
    it(`grants no (pre-)vote for a minimum election timeout after a restart${unsafe ? ' (unsafe.forgetLeaseOnRestart: it votes at once)' : ''}`, () => {
      const net = new Network(3, { preVote: true, checkQuorum: true, unsafe: flags({ forgetLeaseOnRestart: unsafe }) });
      net.campaign('n1');
      net.propose('n1', 'x');
      net.tick(2);
      // n2 restarts (it may have just answered n1, whose lease counts on it);
      // n1 is cut off at once, and n3, as up to date as anyone, campaigns.
      net.crash('n2');
      net.restart('n2');
      net.isolate('n1');
      net.node('n3').campaign();
      net.stabilize();
      expect(net.leader()).toBe(unsafe ? 'n3' : 'n1');
      if (!unsafe) {
        // After a minimum election timeout n2's promise has run out: n3 wins.
        net.tick(12, ['n2', 'n3']);
        expect(net.leader()).not.toBe('n1');
        expect(['n2', 'n3']).toContain(net.leader());
      }
    });
  }

  it('a node that never left term 0 has promised nothing: a fresh cluster elects at once', () => {
    const net = new Network(ids(3), { preVote: true, checkQuorum: true });
    net.campaign('n2');
    expect(net.leader()).toBe('n2');
  });

  it('stored term > 0 without a stored log still keeps the promise', () => {
    const net = new Network(3, { preVote: true, checkQuorum: true }, 1, () => ({
      hardState: { currentTerm: 4, votedFor: null },
      entries: entriesOfTerms([]),
    }));
    net.campaign('n2');
    expect(net.leader()).toBeNull();
    net.tick(10);
    expect(net.leader()).not.toBeNull();
  });
});

describe('TimeoutNow is obeyed only from the leader we follow (thesis §3.10; issue 15 item 5)', () => {
  it('a follower ignores TimeoutNow from a peer that is not its leader, and from anyone when it knows no leader', () => {
    const net = new Network(3, { preVote: true, checkQuorum: true });
    net.campaign('n1');
    const term = net.node('n1').status().currentTerm;
    net.node('n2').step({ type: 'timeout_now', term, from: 'n3', to: 'n2' });
    net.processReady('n2');
    expect(net.node('n2').status()).toMatchObject({ role: 'follower', currentTerm: term, leaderId: 'n1' });
    // From its leader, it campaigns at once (a transfer).
    net.node('n2').step({ type: 'timeout_now', term, from: 'n1', to: 'n2' });
    expect(net.node('n2').status()).toMatchObject({ role: 'candidate', currentTerm: term + 1 });
    // A node that knows no leader yet ignores it.
    const lone = new Network(3, { preVote: true, checkQuorum: true });
    lone.node('n3').step({ type: 'timeout_now', term: 0, from: 'n1', to: 'n3' });
    expect(lone.node('n3').status().role).toBe('follower');
  });
});

/**
 * Found by the model checker's swarm walks (issue 16, `--mode swarm`): a follower that answered the leader's
 * heartbeat (so the leader's lease counts on it) gets a late, rejected answer to a pre-vote it sent before it heard
 * that heartbeat, from a candidate already in term 2. The higher term cleared the leader it knew, and the
 * candidate's RequestVote of that same term then found "no leader, no vote" and was granted: the candidate won
 * term 2 and committed while the old leader still served reads on its lease. A follower in a leader's lease now
 * takes a higher term only from a leader (or a transfer's RequestVote), as it already ignored RequestVote.
 */
describe("a higher term that is not a leader's does not end a follower's lease promise (thesis §6.4.1)", () => {
  /** n2's RequestVote for term 2 (campaign `campaign`), as up to date as n3's log (all of term 1). */
  function askN3ForTerm2(net: Network, campaign: number): void {
    const lastLogIndex = net.node('n3').status().lastLogIndex;
    net.deliver({ type: 'request_vote', term: 2, from: 'n2', to: 'n3', lastLogIndex, lastLogTerm: 1, preVote: false, campaign });
  }

  function leaseFollowerAskedForTerm2(): { net: Network; voted: () => RaftMessage[] } {
    const net = new Network(3, { preVote: true, checkQuorum: true });
    net.campaign('n1');
    net.tick(3); // heartbeats: n3 has just answered its leader
    expect(net.node('n3').status()).toMatchObject({ role: 'follower', leaderId: 'n1', currentTerm: 1 });
    const before = net.sent.length;
    // n2, cut off from n1 (it never heard the heartbeats), is a candidate in term 2; its rejection of n3's older
    // pre-vote (campaign 1) and its RequestVote reach n3 now.
    net.deliver({ type: 'request_vote_response', term: 2, from: 'n2', to: 'n3', voteGranted: false, preVote: true, campaign: 1 });
    askN3ForTerm2(net, 2);
    const voted = (): RaftMessage[] =>
      net.sent.slice(before).filter((m) => m.type === 'request_vote_response' && m.from === 'n3' && m.voteGranted);
    return { net, voted };
  }

  it('ignores the higher term while a leader may hold a lease on it, and so gives no vote in it', () => {
    const { net, voted } = leaseFollowerAskedForTerm2();
    expect(voted()).toEqual([]);
    expect(net.node('n3').status()).toMatchObject({ role: 'follower', leaderId: 'n1', currentTerm: 1 });
  });

  it('grants it once a minimum election timeout has passed without a leader (the promise runs out)', () => {
    const { net, voted } = leaseFollowerAskedForTerm2();
    net.isolate('n1');
    net.tick(10, ['n3']); // electionTimeoutTicksMin of the test network
    askN3ForTerm2(net, 3);
    expect(voted().length).toBeGreaterThan(0);
  });
});

describe('a leader that hands over stops serving reads from its lease (thesis §3.10, §6.4.1)', () => {
  // Found by the simulator's membership cycles in lease mode (2026-12-06): the leader n2, asked to remove itself,
  // handed over to n1 (TimeoutNow, §3.10); n3 granted n1's transfer vote inside n2's lease (a transfer's RequestVote
  // is exempt from the lease check: the leaseholder asked for it); n1 led term 3 and committed its noop; n2, cut off
  // from both, went on answering reads from its lease, from a state without that entry. The lease promise no longer
  // holds once the leader sends TimeoutNow, so it serves reads by ReadIndex rounds only for the rest of its term.
  function handedOver(unsafe: boolean): Network {
    const net = new Network(3, { preVote: true, checkQuorum: true, leaseTicks: 5, unsafe: flags({ leaseAfterHandover: unsafe }) });
    net.campaign('n1');
    net.tick(2, ['n1']); // a heartbeat round acknowledged by everyone: n1's lease holds
    net.node('n1').readIndex('before');
    net.processReady('n1');
    expect((net.readStates.get('n1') ?? []).map((r) => r.requestId)).toEqual(['before']);
    net.node('n1').transferLeadership('n2');
    net.processReady('n1');
    const timeoutNow = net.queue.find((m) => m.type === 'timeout_now' && m.to === 'n2');
    expect(timeoutNow).toBeDefined();
    net.queue = [];
    net.isolate('n1'); // n1 hears nothing of what follows (its TimeoutNow got through before the cut)
    net.node('n2').step(timeoutNow!);
    net.processReady('n2');
    net.stabilize();
    expect(net.node('n2').status()).toMatchObject({ role: 'leader', currentTerm: 2 });
    expect(net.node('n2').status().commitIndex).toBeGreaterThan(net.node('n1').status().commitIndex);
    return net;
  }

  for (const unsafe of [false, true]) {
    it(`after its TimeoutNow, a read at the old leader is not answered from the lease${unsafe ? ' (unsafe.leaseAfterHandover: it is)' : ''}`, () => {
      const net = handedOver(unsafe);
      expect(net.node('n1').status()).toMatchObject({ role: 'leader', currentTerm: 1 });
      net.node('n1').readIndex('after');
      net.processReady('n1');
      expect((net.readStates.get('n1') ?? []).map((r) => r.requestId)).toEqual(unsafe ? ['before', 'after'] : ['before']);
    });
  }
});
