import { createSocket, type Socket } from 'node:dgram';
import fc from 'fast-check';
import { afterEach, describe, expect, test } from 'vitest';
import { RaftWireMonitor, type MonitorViolation } from '../../../harness/net/monitor.js';
import { UdpRelay } from '../../../harness/net/relay.js';
import { encodeEnvelope, encodeJson, type Stamp } from '../../../node/transport/codec.js';
import { derivePeerKey } from '../../../node/transport/keys.js';
import { safeCoreFlags, type CoreMessage, type Entry, type RaftMessage, type StoredState } from '../../../node/raft/types.js';
import { RaftNode } from '../../../node/raft/raft.js';
import { createPrng } from '../../../node/raft/prng.js';
import { snapshotChecksum } from '../../../node/snapshot/snapshot-bytes.js';
import { entry, makeLeader } from '../../node/raft/helpers.js';
import { ids, makeConfig, type ConfigOverrides } from '../../node/raft/network.js';
import { waitFor } from '../wait.js';

const secret = 'monitor-test-secret-0123456789';
const cluster = 'rift-monitor-test';
const nodeIds = ['n1', 'n2', 'n3', 'n4', 'n5'];
/** A sender's peer key (under the test's peer secret unless told otherwise). */
const keyOf = (from: string, s = secret): Buffer => derivePeerKey(s, from);
let counter = 0;
const stamp = (): Stamp => ({ senderIncarnation: 1, receiverIncarnation: 1, counter: ++counter, sentAtMs: 1 });

function datagram(body: RaftMessage, k = keyOf(body.from), name = cluster): Buffer {
  const encoded = encodeEnvelope({ cluster: name, from: body.from, to: body.to, body }, k, stamp());
  if (!encoded.ok) throw new Error(`test datagram does not encode: ${encoded.detail}`);
  return encoded.datagram;
}

function ae(from: string, to: string, term: number, entries: Entry[] = []): Buffer {
  return datagram({ type: 'append_entries', term, from, to, prevLogIndex: 0, prevLogTerm: 0, entries, leaderCommit: 0, seq: 1 });
}

function vote(from: string, to: string, term: number, voteGranted: boolean, preVote = false, k = keyOf(from)): Buffer {
  return datagram({ type: 'request_vote_response', term, from, to, voteGranted, preVote }, k);
}

function monitor(): { m: RaftWireMonitor; seen: MonitorViolation[] } {
  const seen: MonitorViolation[] = [];
  const m = new RaftWireMonitor({ peerSecret: secret, nodeIds, cluster, onViolation: (v) => seen.push(v), nowMs: () => 42 });
  return { m, seen };
}

describe('RaftWireMonitor', () => {
  test('one leader per term and single votes: no violation', () => {
    const { m, seen } = monitor();
    for (let term = 1; term <= 5; term++) {
      const leader = `n${(term % 3) + 1}`;
      m.observe(vote('n4', leader, term, true));
      m.observe(vote('n4', leader, term, true)); // a repeated answer to the same candidate is allowed
      for (let i = 0; i < 10; i++) m.observe(ae(leader, 'n4', term, [{ term, index: i + 1, type: 'command', data: 'x'.repeat(100) }]));
    }
    expect(seen).toEqual([]);
    const r = m.report();
    expect(r.violations).toEqual([]);
    expect(r.maxLeaderTerm).toBe(5);
    expect(r.counts.appendEntries).toBe(50);
    expect(r.counts.votesGranted).toBe(10);
    // The fast path: only the first AppendEntries per (term, leader) is decoded.
    expect(r.counts.decoded).toBe(5 + 10);
  });

  test('two senders of AppendEntries in one term violate Election Safety', () => {
    const { m, seen } = monitor();
    m.observe(ae('n4', 'n1', 7));
    m.observe(ae('n2', 'n1', 7));
    m.observe(ae('n2', 'n3', 7)); // reported once
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ kind: 'election-safety', term: 7, leaders: ['n2', 'n4'] });
    expect(seen[0]!.message).toBe('election safety violated: n2 and n4 both led term 7');
    expect(m.report().leadersByTerm['7']).toEqual(['n4', 'n2']);
  });

  test('a voter granting two candidates in one term is a double vote; pre-votes and rejections are not', () => {
    const { m, seen } = monitor();
    m.observe(vote('n3', 'n1', 4, true, true)); // pre-vote grants are hypothetical
    m.observe(vote('n3', 'n2', 4, true, true));
    m.observe(vote('n3', 'n1', 4, false));
    m.observe(vote('n3', 'n2', 4, true));
    expect(seen).toEqual([]);
    m.observe(vote('n3', 'n1', 4, true));
    m.observe(vote('n3', 'n1', 4, true)); // the same double vote, reported once
    m.observe(vote('n3', 'n1', 5, true)); // a new term, a new vote
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ kind: 'double-vote', term: 4, voter: 'n3', candidates: ['n2', 'n1'] });
    expect(seen[0]!.message).toBe('vote safety violated: n3 granted its term-4 vote to both n2 and n1');
  });

  test('forged, corrupt or foreign datagrams never create a violation', () => {
    const { m, seen } = monitor();
    m.observe(ae('n1', 'n2', 3));
    m.observe(ae('n2', 'n1', 3, []).fill(0x41, 50, 60)); // corrupt: bad MAC
    m.observe(
      datagram(
        { type: 'append_entries', term: 3, from: 'n3', to: 'n1', prevLogIndex: 0, prevLogTerm: 0, entries: [], leaderCommit: 0, seq: 1 },
        keyOf('n3', 'another-secret-0123456789'),
      ),
    );
    m.observe(
      datagram(
        { type: 'append_entries', term: 3, from: 'n4', to: 'n1', prevLogIndex: 0, prevLogTerm: 0, entries: [], leaderCommit: 0, seq: 1 },
        keyOf('n4'),
        'other-cluster',
      ),
    );
    m.observe(Buffer.from('RIFT'));
    m.observe(Buffer.alloc(0));
    expect(seen).toEqual([]);
    expect(m.report().counts.undecodable).toBe(3);
  });

  test('other message types are counted but not decoded', () => {
    const { m } = monitor();
    m.observe(
      datagram({
        type: 'append_entries_response',
        term: 2,
        from: 'n2',
        to: 'n1',
        success: true,
        matchIndex: 1,
        conflictTerm: null,
        conflictIndex: 0,
        seq: 1,
      }),
    );
    m.observe(datagram({ type: 'request_vote', term: 2, from: 'n2', to: 'n1', lastLogIndex: 0, lastLogTerm: 0, preVote: false }));
    const r = m.report();
    expect(r.counts.datagrams).toBe(2);
    expect(r.counts.decoded).toBe(0);
  });

  test('property: a violation is reported iff two leaders share a term or a voter grants two candidates in one term', () => {
    const event = fc.oneof(
      fc.record({ t: fc.constant('ae' as const), from: fc.constantFrom('n1', 'n2', 'n3'), term: fc.integer({ min: 1, max: 4 }) }),
      fc.record({
        t: fc.constant('vote' as const),
        from: fc.constantFrom('n1', 'n2', 'n3'),
        to: fc.constantFrom('n1', 'n2', 'n3'),
        term: fc.integer({ min: 1, max: 4 }),
        granted: fc.boolean(),
        pre: fc.boolean(),
      }),
    );
    fc.assert(
      fc.property(fc.array(event, { maxLength: 30 }), (events) => {
        const { m, seen } = monitor();
        const leaders = new Map<number, Set<string>>();
        const votes = new Map<string, Set<string>>();
        for (const e of events) {
          if (e.t === 'ae') {
            m.observe(ae(e.from, e.from === 'n1' ? 'n2' : 'n1', e.term));
            leaders.set(e.term, (leaders.get(e.term) ?? new Set()).add(e.from));
          } else {
            m.observe(vote(e.from, e.to, e.term, e.granted, e.pre));
            if (e.granted && !e.pre) votes.set(`${e.from} ${e.term}`, (votes.get(`${e.from} ${e.term}`) ?? new Set()).add(e.to));
          }
        }
        const expectedElection = [...leaders.values()].reduce((n, s) => n + Math.max(0, s.size - 1), 0);
        const expectedVotes = [...votes.values()].reduce((n, s) => n + Math.max(0, s.size - 1), 0);
        expect(seen.filter((v) => v.kind === 'election-safety')).toHaveLength(expectedElection);
        expect(seen.filter((v) => v.kind === 'double-vote')).toHaveLength(expectedVotes);
      }),
      { numRuns: 200 },
    );
  });

  test('keeps at most maxViolations, counts the rest', () => {
    const m = new RaftWireMonitor({ peerSecret: secret, nodeIds, cluster, maxViolations: 2 });
    for (let term = 1; term <= 5; term++) {
      m.observe(ae('n1', 'n2', term));
      m.observe(ae('n2', 'n1', term));
    }
    const r = m.report();
    expect(r.violations).toHaveLength(2);
    expect(r.counts.violationsDropped).toBe(3);
  });

  test('vote listeners hear every granted non-pre vote, and nothing else', () => {
    const { m } = monitor();
    const heard: string[] = [];
    const unsubscribe = m.addVoteListener((v) => heard.push(`${v.voter}@${v.term}->${v.candidate}`));
    m.addVoteListener(() => {
      throw new Error('a broken listener');
    });
    m.observe(vote('n2', 'n1', 3, true));
    m.observe(vote('n3', 'n1', 3, false)); // rejected
    m.observe(vote('n4', 'n1', 4, true, true)); // pre-vote
    m.observe(vote('n2', 'n1', 3, true, false).subarray(0, 50)); // truncated: never decoded
    m.observe(vote('n5', 'n1', 3, true, false, keyOf('n5', 'another secret'))); // forged
    unsubscribe();
    m.observe(vote('n3', 'n1', 5, true));
    expect(heard).toEqual(['n2@3->n1']);
    expect(m.report().counts.votesGranted).toBe(2);
  });

  test('a restarted voter must report the vote it granted, if it is still in that term', () => {
    const { m, seen } = monitor();
    const granted = { voter: 'n3', candidate: 'n1', term: 9 };
    m.checkRestartedVoter(granted, { currentTerm: 9, votedFor: 'n1' }); // kept: fine
    m.checkRestartedVoter(granted, { currentTerm: 10, votedFor: null }); // moved on: says nothing
    expect(seen).toEqual([]);
    m.checkRestartedVoter(granted, { currentTerm: 9, votedFor: null });
    m.checkRestartedVoter(granted, { currentTerm: 9, votedFor: 'n2' }); // reported once per (voter, term)
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ kind: 'lost-vote', voter: 'n3', candidate: 'n1', term: 9, votedFor: null });
    expect(seen[0]!.message).toMatch(/n3 granted its term-9 vote to n1, crashed, and came back in term 9 with votedFor null/);
  });

  test('a voter that comes back in an earlier term than it voted in lost its persisted term and vote', () => {
    const { m, seen } = monitor();
    m.checkRestartedVoter({ voter: 'n2', term: 7, candidate: 'n4' }, { currentTerm: 6, votedFor: 'n4' });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ kind: 'lost-vote', voter: 'n2', candidate: 'n4', term: 7 });
    expect(seen[0]!.message).toMatch(/n2 granted its term-7 vote to n4, crashed, and came back in term 6 with votedFor n4/);
  });

  test('Raft messages in the JSON form are judged too', () => {
    const { m, seen } = monitor();
    const json = (body: RaftMessage): Buffer => {
      const r = encodeJson({ cluster, from: body.from, to: body.to, body }, keyOf(body.from), stamp());
      if (!r.ok) throw new Error(r.detail);
      return r.datagram;
    };
    m.observe(json({ type: 'request_vote_response', term: 7, from: 'n3', to: 'n1', voteGranted: true, preVote: false }));
    m.observe(json({ type: 'request_vote_response', term: 7, from: 'n3', to: 'n2', voteGranted: true, preVote: false }));
    m.observe(
      json({
        type: 'append_entries',
        term: 7,
        from: 'n1',
        to: 'n3',
        prevLogIndex: 0,
        prevLogTerm: 0,
        entries: [],
        leaderCommit: 0,
        seq: 1,
      }),
    );
    m.observe(
      json({
        type: 'append_entries',
        term: 7,
        from: 'n2',
        to: 'n3',
        prevLogIndex: 0,
        prevLogTerm: 0,
        entries: [],
        leaderCommit: 0,
        seq: 1,
      }),
    );
    expect(seen.map((v) => v.kind).sort()).toEqual(['double-vote', 'election-safety']);
  });
});

/** A monitor of n1-n3 with the commit quorum and acknowledgement checks on (as the harness runs it). */
function threeNodeMonitor(): { m: RaftWireMonitor; seen: MonitorViolation[] } {
  const seen: MonitorViolation[] = [];
  const m = new RaftWireMonitor({
    peerSecret: secret,
    nodeIds: ['n1', 'n2', 'n3'],
    cluster,
    commitQuorum: true,
    onViolation: (v) => seen.push(v),
    nowMs: () => 7,
  });
  return { m, seen };
}

describe('RaftWireMonitor commit quorums (commitQuorum: true)', () => {
  /** n1 leads term 1 of n1-n3, commits 1 with everyone, then appends the removal of n3 at 2 and only n3 acknowledges it. */
  function removalRun(alsoN2: boolean): MonitorViolation[] {
    const { m, seen } = threeNodeMonitor();
    const append = (to: string, seq: number, prevLogIndex: number, entries: Entry[], leaderCommit: number): Buffer =>
      datagram({
        type: 'append_entries',
        term: 1,
        from: 'n1',
        to,
        prevLogIndex,
        prevLogTerm: prevLogIndex > 0 ? 1 : 0,
        entries,
        leaderCommit,
        seq,
      });
    const answer = (from: string, matchIndex: number, seq: number): Buffer =>
      datagram({
        type: 'append_entries_response',
        term: 1,
        from,
        to: 'n1',
        success: true,
        matchIndex,
        conflictTerm: null,
        conflictIndex: 0,
        seq,
      });
    m.observe(vote('n2', 'n1', 1, true)); // n1 was elected (n1 and n2 of three)
    m.observe(append('n2', 1, 0, [{ term: 1, index: 1, type: 'command', data: 'x' }], 0));
    m.observe(answer('n2', 1, 1));
    m.observe(answer('n3', 1, 1)); // (to n2's request: hand-made, not judged as an acknowledgement)
    const removal: Entry = {
      term: 1,
      index: 2,
      type: 'config',
      data: JSON.stringify({ change: { type: 'remove', node: 'n3' }, voters: ['n1', 'n2'], learners: [] }),
    };
    m.observe(append('n2', 2, 1, [removal], 1));
    m.observe(append('n3', 3, 1, [removal], 1));
    m.observe(answer('n3', 2, 3));
    if (alsoN2) m.observe(answer('n2', 2, 2));
    m.observe(append('n2', 4, 2, [], 2));
    m.report(); // the end of the run judges what was still within its grace window
    return seen;
  }

  test('a commit held by the removed node but not by the new majority is a violation; held by it, none', () => {
    const bad = removalRun(false);
    expect(bad.map((v) => v.kind)).toEqual(['commit-quorum']);
    expect(bad[0]!.message).toMatch(/n1 advertised commit index 2 in term 1 held by no majority.*voters=\[n1,n2\]: held by n1/);
    expect(removalRun(true)).toEqual([]);
  });
});

describe('RaftWireMonitor unfounded acknowledgements (commitQuorum: true), from real cores', () => {
  const three = { voters: ['n1', 'n2', 'n3'], learners: [] };
  const coreFrom = (stored: StoredState, overrides: ConfigOverrides, id: string): RaftNode =>
    new RaftNode(makeConfig(id, ids(3), overrides), stored, createPrng(1));

  /** A core's message as a datagram: a Raft message as is, an InstallSnapshot as the one chunk that carries it. */
  function wire(m: CoreMessage): Buffer {
    if (m.type !== 'install_snapshot') return datagram(m);
    const data = Buffer.from('state machine bytes');
    const chunk = {
      ...m,
      type: 'snapshot_chunk' as const,
      totalBytes: data.length,
      chunkBytes: data.length,
      checksum: snapshotChecksum(data),
      offset: 0,
      data,
    };
    const encoded = encodeEnvelope({ cluster, from: m.from, to: m.to, body: chunk }, keyOf(m.from), stamp());
    if (!encoded.ok) throw new Error(`test chunk does not encode: ${encoded.detail}`);
    return encoded.datagram;
  }

  /**
   * test/node/raft/snapshot.test.ts's keepLogOnInstall case, every message
   * through the monitor: n1 leads term 4 with its log compacted through 2@1;
   * n2 holds a term-2 leader's uncommitted 2@2 and 3@2. n1 backtracks and
   * sends its snapshot; a follower that keeps 3@2 and answers 3 vouches for
   * an entry it never matched.
   */
  function keptLog(keepLogOnInstall: boolean): { seen: MonitorViolation[]; commit: number } {
    const { m, seen } = threeNodeMonitor();
    const leader = coreFrom(
      { hardState: { currentTerm: 3, votedFor: null }, entries: [], snapshot: { index: 2, term: 1, configuration: three } },
      {},
      'n1',
    );
    const follower = coreFrom(
      {
        hardState: { currentTerm: 3, votedFor: null },
        entries: [entry({ term: 1, index: 1 }), entry({ term: 2, index: 2 }), entry({ term: 2, index: 3 })],
      },
      { unsafe: { ...safeCoreFlags, keepLogOnInstall } },
      'n2',
    );
    let toFollower: CoreMessage[] = makeLeader(leader).filter((x) => x.to === 'n2');
    for (let round = 0; round < 20 && toFollower.length > 0; round++) {
      for (const x of toFollower) {
        m.observe(wire(x));
        follower.step(x);
      }
      for (const x of follower.ready().messages) {
        m.observe(wire(x));
        leader.step(x);
      }
      const ready = leader.ready();
      toFollower = [...ready.messages.filter((x) => x.to === 'n2'), ...ready.snapshotsToSend];
      if (leader.status().commitIndex >= 3) break;
    }
    const { counts } = m.report();
    // Every answer n2 gave was to a request the monitor saw.
    expect(counts.acksJudged).toBeGreaterThan(0);
    expect(counts.acksUnmatched).toBe(0);
    return { seen, commit: leader.status().commitIndex };
  }

  test('a follower that keeps its log on install and acknowledges it is reported; a correct one is not', () => {
    const broken = keptLog(true);
    expect(broken.commit).toBe(3); // n1 counted n2 for 3@4, which n2 does not hold
    // (It also finds n1's first commit advertisement unsupported: it did not see how n1 came to hold 2 committed.)
    const unfounded = (seen: MonitorViolation[]) => seen.filter((v) => v.kind === 'unfounded-ack');
    expect(unfounded(broken.seen)).toHaveLength(1);
    expect(unfounded(broken.seen)[0]!.message).toMatch(
      /n2 answered its InstallSnapshot \(seq \d+\) of a snapshot through index 2 from n1 in term 4 with matchIndex 3/,
    );
    const safe = keptLog(false);
    expect(safe.commit).toBe(3);
    expect(unfounded(safe.seen)).toEqual([]);
  });
});

describe('UdpRelay + monitor', () => {
  const open: { close(): void }[] = [];
  afterEach(() => {
    for (const o of open.splice(0)) o.close();
  });

  async function endpoint(): Promise<{ socket: Socket; port: number; got: number }> {
    const socket = createSocket('udp4');
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
    open.push(socket);
    const ep = { socket, port: socket.address().port, got: 0 };
    socket.on('message', () => {
      ep.got++;
    });
    return ep;
  }

  test('datagrams sent before the monitor is attached are replayed to it; partitioned ones are judged too', async () => {
    const eps = [await endpoint(), await endpoint(), await endpoint()];
    const ids = ['n1', 'n2', 'n3'];
    const relay = await UdpRelay.start({ nodes: eps.map((e, i) => ({ id: ids[i]!, host: '127.0.0.1', port: e.port })), seed: 1 });
    open.push(relay);
    const send = (from: number, to: number, msg: Buffer): void => {
      const a = relay.linkAddress(ids[from]!, ids[to]!);
      eps[from]!.socket.send(msg, a.port, a.host);
    };
    expect(relay.monitorReport()).toBeNull();
    send(0, 1, ae('n1', 'n2', 9));
    await waitFor(() => eps[1]!.got === 1, 2000, 'n2 gets the first AppendEntries');
    const seen: MonitorViolation[] = [];
    relay.attachMonitor(new RaftWireMonitor({ peerSecret: secret, nodeIds, cluster, onViolation: (v) => seen.push(v) }));
    expect(relay.monitorReport()!.counts.appendEntries).toBe(1);
    // n3 is cut off from n2, but what n3 sent still shows it believes it leads term 9.
    await relay.partition({ n2: ['n3'] });
    send(2, 1, ae('n3', 'n2', 9));
    await waitFor(() => seen.length === 1, 2000, 'the monitor reports the second leader of term 9');
    expect(seen[0]!.message).toBe('election safety violated: n1 and n3 both led term 9');
    expect(eps[1]!.got).toBe(1);
    expect(relay.monitorReport()!.unmonitored).toBe(0);
    expect(() => relay.attachMonitor(new RaftWireMonitor({ peerSecret: secret, nodeIds, cluster }))).toThrow(/already attached/);
  });
});
