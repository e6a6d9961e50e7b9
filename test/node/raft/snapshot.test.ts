/**
 * Log compaction and InstallSnapshot (§7, Figure 13; Raft dissertation
 * ch. 5), after etcd-io/raft's raft_snap_test.go and raft_test.go
 * (TestRestore*, TestProvideSnap, TestSlowNodeRestore,
 * TestSnapshotSucceedViaAppResp) in the "init, test and check" style.
 */
import { describe, expect, it } from 'vitest';
import { createPrng } from '../../../node/raft/prng.js';
import { RaftNode } from '../../../node/raft/raft.js';
import {
  safeCoreFlags,
  type Configuration,
  type CoreMessage,
  type Entry,
  type InstallSnapshot,
  type SnapshotMeta,
  type StoredState,
} from '../../../node/raft/types.js';
import { AssertionError } from '../../../node/util/assert.js';
import { appendEntries, appendResponse, entry, makeLeader, ofType } from './helpers.js';
import { Network, ids, makeConfig, type ConfigOverrides } from './network.js';

const three: Configuration = { voters: ['n1', 'n2', 'n3'], learners: [] };

function meta(index: number, term: number, configuration = three): SnapshotMeta {
  return { index, term, configuration };
}

function coreFrom(stored: StoredState, overrides: ConfigOverrides = {}, id = 'n1'): RaftNode {
  return new RaftNode(makeConfig(id, ids(3), overrides), stored, createPrng(1));
}

function installSnapshot(fields: { from: string; to: string; term: number; snapshot: SnapshotMeta; seq?: number }): InstallSnapshot {
  return { type: 'install_snapshot', term: fields.term, from: fields.from, to: fields.to, seq: fields.seq ?? 1, snapshot: fields.snapshot };
}

/** A leader n1 whose log was compacted: snapshot at `snapshotIndex`, then `tail` more entries of term `term`. */
function compactedLeader(snapshotIndex: number, tail: number, overrides: ConfigOverrides = {}): RaftNode {
  const entries = Array.from({ length: tail }, (_, i) => entry({ term: 2, index: snapshotIndex + 1 + i }));
  const node = coreFrom({ hardState: { currentTerm: 2, votedFor: null }, entries, snapshot: meta(snapshotIndex, 1) }, overrides);
  makeLeader(node);
  return node;
}

describe('restoring from storage (§7; etcd TestRestore)', () => {
  it('starts from the snapshot: committed and applied up to it, the log after it', () => {
    const node = coreFrom({
      hardState: { currentTerm: 3, votedFor: 'n2' },
      entries: [entry({ term: 3, index: 11 }), entry({ term: 3, index: 12 })],
      snapshot: meta(10, 2),
    });
    expect(node.status()).toMatchObject({ commitIndex: 10, lastLogIndex: 12, lastLogTerm: 3, firstIndex: 11, snapshot: meta(10, 2) });
    expect(node.log().map((e) => e.index)).toEqual([11, 12]);
    // Nothing to apply yet: the state machine starts from the snapshot itself.
    expect(node.hasReady()).toBe(false);
    // A leader's commit hands out entries after the snapshot only.
    node.step(appendEntries({ from: 'n2', to: 'n1', term: 3, prevLogIndex: 12, prevLogTerm: 3, entries: [], leaderCommit: 12 }));
    expect(node.ready().committedEntries.map((e) => e.index)).toEqual([11, 12]);
  });

  it('keeps entries the snapshot covers as a tail (minus the first, whose term marks the start)', () => {
    const entries = [5, 6, 7, 8].map((index) => entry({ term: 1, index }));
    const node = coreFrom({ hardState: { currentTerm: 1, votedFor: null }, entries, snapshot: meta(7, 1) });
    expect(node.status()).toMatchObject({ firstIndex: 6, commitIndex: 7, lastLogIndex: 8 });
    expect(node.log().map((e) => e.index)).toEqual([6, 7, 8]);
  });

  it('drops stored entries that disagree with the snapshot (an interrupted install) and says so', () => {
    const entries = [entry({ term: 1, index: 4 }), entry({ term: 1, index: 5 }), entry({ term: 1, index: 6 })];
    const node = coreFrom({ hardState: { currentTerm: 2, votedFor: null }, entries, snapshot: meta(5, 2) });
    expect(node.status()).toMatchObject({ firstIndex: 6, lastLogIndex: 5, lastLogTerm: 2, commitIndex: 5 });
    expect(node.log()).toEqual([]);
    expect(node.ready().notices).toEqual(['stored log disagrees with the snapshot at 5@2: dropped (an interrupted install)']);
  });

  it('ignores entries that end before the snapshot, and refuses a gap after it', () => {
    const short = coreFrom({
      hardState: { currentTerm: 2, votedFor: null },
      entries: [entry({ term: 1, index: 1 })],
      snapshot: meta(5, 2),
    });
    expect(short.status()).toMatchObject({ firstIndex: 6, lastLogIndex: 5 });
    expect(() =>
      coreFrom({ hardState: { currentTerm: 2, votedFor: null }, entries: [entry({ term: 2, index: 8 })], snapshot: meta(5, 2) }),
    ).toThrow(AssertionError);
    expect(() =>
      coreFrom({
        hardState: { currentTerm: 2, votedFor: null },
        entries: [],
        snapshot: { index: 5, term: 2, configuration: { voters: [], learners: [] } },
      }),
    ).toThrow(AssertionError);
  });

  it('takes the configuration from the snapshot, then from config entries after it (dissertation ch. 4)', () => {
    const withLearner = { voters: ['n1', 'n2', 'n3'], learners: ['n4'] };
    const node = coreFrom({ hardState: { currentTerm: 2, votedFor: null }, entries: [], snapshot: meta(5, 2, withLearner) });
    expect(node.configuration()).toEqual(withLearner);
    const promoted = coreFrom({
      hardState: { currentTerm: 2, votedFor: null },
      entries: [
        {
          term: 2,
          index: 6,
          type: 'config',
          data: JSON.stringify({ change: { type: 'promote', node: 'n4' }, voters: ['n1', 'n2', 'n3', 'n4'], learners: [] }),
        },
      ],
      snapshot: meta(5, 2, withLearner),
    });
    expect(promoted.configuration()).toEqual({ voters: ['n1', 'n2', 'n3', 'n4'], learners: [] });
  });
});

describe('when the core asks for a snapshot, and compaction (§7; etcd SnapshotCount, SnapshotCatchUpEntries)', () => {
  it('asks once snapshotEveryEntries entries were applied, at the applied index, with its term and configuration', () => {
    const net = new Network(3, { snapshotEveryEntries: 4, snapshotTrailingEntries: 2 });
    net.campaign('n1');
    for (const value of ['a', 'b', 'c']) net.propose('n1', value);
    net.tick(2); // a heartbeat tells the followers the last commit
    // noop + 3 entries = 4 applied: each node took one snapshot at index 4.
    expect(net.snapshotCounts.taken).toBe(3);
    for (const id of net.ids) {
      expect(net.disks.get(id)?.snapshot).toEqual(meta(4, 1));
      // Two trailing entries are kept before the snapshot: the log starts at 3.
      expect(net.node(id).status()).toMatchObject({ firstIndex: 3, snapshot: meta(4, 1) });
      expect(net.disks.get(id)?.entries.map((e) => e.index)).toEqual([3, 4]);
    }
    net.propose('n1', 'd');
    expect(net.snapshotCounts.taken).toBe(3); // 1 entry since the snapshot: not yet
  });

  it('asks at most once until the driver reports it, and never with snapshotEveryEntries null', () => {
    const node = coreFrom(
      { hardState: { currentTerm: 0, votedFor: null }, entries: [] },
      { snapshotEveryEntries: 2, snapshotTrailingEntries: 0 },
    );
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
    const first = node.ready();
    expect(first.snapshotRequest).toEqual(meta(2, 1));
    node.step(
      appendEntries({
        from: 'n2',
        to: 'n1',
        term: 1,
        prevLogIndex: 2,
        prevLogTerm: 1,
        entries: [entry({ term: 1, index: 3 }), entry({ term: 1, index: 4 })],
        leaderCommit: 4,
      }),
    );
    expect(node.ready().snapshotRequest).toBeNull(); // the first is still outstanding
    node.snapshotTaken(meta(2, 1));
    // Due again (2 entries since 2): asked at once, and the compaction is reported.
    const after = node.ready();
    expect(after.snapshotRequest).toEqual(meta(4, 1));
    expect(after.discardEntriesBefore).toBe(3);
    const never = coreFrom({ hardState: { currentTerm: 0, votedFor: null }, entries: [] }, { snapshotEveryEntries: null });
    never.step(
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
    expect(never.ready().snapshotRequest).toBeNull();
  });

  it('asks early when the applied entries reach snapshotEveryBytes', () => {
    const node = coreFrom(
      { hardState: { currentTerm: 0, votedFor: null }, entries: [] },
      { snapshotEveryEntries: 1000, snapshotEveryBytes: 300 },
    );
    const big = (index: number): Entry => entry({ term: 1, index, data: 'x'.repeat(200) });
    node.step(appendEntries({ from: 'n2', to: 'n1', term: 1, prevLogIndex: 0, prevLogTerm: 0, entries: [big(1)], leaderCommit: 1 }));
    expect(node.ready().snapshotRequest).toBeNull();
    node.step(appendEntries({ from: 'n2', to: 'n1', term: 1, prevLogIndex: 1, prevLogTerm: 1, entries: [big(2)], leaderCommit: 2 }));
    expect(node.ready().snapshotRequest).toEqual(meta(2, 1));
  });

  it('refuses a snapshot past what was handed out for application, or one that misstates the term (a driver bug)', () => {
    const node = coreFrom({ hardState: { currentTerm: 0, votedFor: null }, entries: [] }, { snapshotEveryEntries: null });
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
    node.ready();
    expect(() => node.snapshotTaken(meta(2, 1))).toThrow(AssertionError); // index 2 is not committed
    expect(() => node.snapshotTaken(meta(1, 3))).toThrow(AssertionError);
    expect(() => node.snapshotTaken(meta(1, 1, { voters: ['n1'], learners: [] }))).toThrow(AssertionError);
    expect(node.snapshotMetaAt(2)).toBeNull();
    expect(node.snapshotMetaAt(1)).toEqual(meta(1, 1));
    node.snapshotTaken(meta(1, 1));
    node.snapshotTaken(meta(1, 1)); // the same again: ignored
    expect(node.snapshotMetaAt(1)).toBeNull(); // not newer than the current snapshot
  });
});

describe('the leader sends a snapshot to a follower that needs compacted entries (etcd TestProvideSnap)', () => {
  it('streams it (snapshotsToSend, never a datagram) and sends nothing but heartbeats until it is answered', () => {
    const leader = compactedLeader(10, 2);
    leader.ready();
    // n2 says its log ends at 3: everything it needs next is compacted.
    const seq = 1;
    leader.step(appendResponse({ from: 'n2', to: 'n1', term: 3, success: false, matchIndex: 12, conflictIndex: 4, seq }));
    const ready = leader.ready();
    expect(ready.messages.filter((m) => m.to === 'n2')).toEqual([]);
    expect(ready.snapshotsToSend).toEqual([
      expect.objectContaining({ type: 'install_snapshot', to: 'n2', term: 3, snapshot: meta(10, 1) }),
    ]);
    expect(leader.progressOf('n2')).toMatchObject({ state: 'snapshot', pendingSnapshot: 10 });
    // n3 is up to date; a proposal goes to n3 but not to n2 (paused), and heartbeats still go to n2, at the compaction point.
    leader.step(appendResponse({ from: 'n3', to: 'n1', term: 3, success: true, matchIndex: 13, seq: 2 }));
    leader.ready();
    leader.propose('p');
    const afterPropose = leader.ready();
    expect(ofType(afterPropose.messages, 'append_entries').map((m) => m.to)).toEqual(['n3']);
    for (let i = 0; i < 2; i++) leader.tick();
    const beats = ofType(leader.ready().messages, 'append_entries').filter((m) => m.to === 'n2');
    expect(beats).toEqual([expect.objectContaining({ prevLogIndex: 10, prevLogTerm: 1, entries: [] })]);
  });

  it('a follower answer at or past the compaction point ends the snapshot state (etcd TestSnapshotSucceedViaAppResp)', () => {
    const leader = compactedLeader(10, 2);
    leader.ready();
    leader.step(appendResponse({ from: 'n2', to: 'n1', term: 3, success: false, matchIndex: 12, conflictIndex: 4 }));
    const stream = leader.ready().snapshotsToSend[0];
    expect(stream).toBeDefined();
    leader.step(appendResponse({ from: 'n2', to: 'n1', term: 3, success: true, matchIndex: 10, seq: stream?.seq ?? 0 }));
    expect(leader.progressOf('n2')).toMatchObject({ state: 'replicate', matchIndex: 10 });
    // The missing entries follow at once.
    expect(ofType(leader.ready().messages, 'append_entries').find((m) => m.to === 'n2')).toMatchObject({
      prevLogIndex: 10,
      prevLogTerm: 1,
    });
    // The stream's late report changes nothing.
    leader.reportSnapshot('n2', 'finished');
    expect(leader.progressOf('n2')).toMatchObject({ state: 'replicate' });
  });

  it('a failed stream goes back to probing, paused until the follower answers again; then it is streamed again', () => {
    const leader = compactedLeader(10, 2);
    leader.ready();
    leader.step(appendResponse({ from: 'n2', to: 'n1', term: 3, success: false, matchIndex: 12, conflictIndex: 4 }));
    expect(leader.ready().snapshotsToSend).toHaveLength(1);
    leader.reportSnapshot('n2', 'failed');
    const failed = leader.ready();
    expect(failed.snapshotsToSend).toEqual([]);
    expect(failed.notices).toEqual(['snapshot 10 to n2 failed; retrying after its next answer']);
    expect(leader.progressOf('n2')).toMatchObject({ state: 'probe' });
    // Its answer to a heartbeat (a rejection: it holds nothing at the compaction point) resumes the stream.
    leader.step(appendResponse({ from: 'n2', to: 'n1', term: 3, success: false, matchIndex: 10, conflictIndex: 4, seq: 5 }));
    expect(leader.ready().snapshotsToSend).toEqual([expect.objectContaining({ to: 'n2', snapshot: meta(10, 1) })]);
  });
});

describe('the follower handles InstallSnapshot (§7 Figure 13)', () => {
  const follower = (entries: readonly Entry[], commit = 0): RaftNode => {
    const node = coreFrom({ hardState: { currentTerm: 2, votedFor: null }, entries }, {}, 'n2');
    if (commit > 0) {
      const last = entries[commit - 1];
      node.step(
        appendEntries({
          from: 'n1',
          to: 'n2',
          term: 2,
          prevLogIndex: commit,
          prevLogTerm: last?.term ?? 0,
          entries: [],
          leaderCommit: commit,
        }),
      );
    }
    node.ready();
    return node;
  };

  it('installs a snapshot its log does not match: discards the whole log, takes commit, state and configuration from it', () => {
    const node = follower([entry({ term: 1, index: 1 }), entry({ term: 2, index: 2 }), entry({ term: 2, index: 3 })], 1);
    const withLearner = { voters: ['n1', 'n2', 'n3'], learners: ['n4'] };
    node.step(installSnapshot({ from: 'n1', to: 'n2', term: 3, seq: 7, snapshot: meta(5, 3, withLearner) }));
    const ready = node.ready();
    expect(ready.snapshotToInstall).toEqual(meta(5, 3, withLearner));
    expect(ready.entriesToAppend).toEqual([]);
    expect(ready.committedEntries).toEqual([]);
    expect(ready.messages).toEqual([appendResponse({ from: 'n2', to: 'n1', term: 3, success: true, matchIndex: 5, seq: 7 })]);
    expect(node.log()).toEqual([]);
    expect(node.status()).toMatchObject({ commitIndex: 5, lastLogIndex: 5, lastLogTerm: 3, firstIndex: 6, leaderId: 'n1' });
    expect(node.configuration()).toEqual(withLearner);
    // Entries continue right after it.
    node.step(
      appendEntries({
        from: 'n1',
        to: 'n2',
        term: 3,
        prevLogIndex: 5,
        prevLogTerm: 3,
        entries: [entry({ term: 3, index: 6 })],
        leaderCommit: 6,
      }),
    );
    expect(node.ready().committedEntries.map((e) => e.index)).toEqual([6]);
  });

  it("keeps its log when it already holds the snapshot's last entry, and only learns the commit (etcd TestRestoreIgnoreSnapshot)", () => {
    const entries = [1, 2, 3, 4].map((index) => entry({ term: 1, index }));
    const node = follower(entries, 1);
    node.step(installSnapshot({ from: 'n1', to: 'n2', term: 2, snapshot: meta(3, 1) }));
    const ready = node.ready();
    expect(ready.snapshotToInstall).toBeNull();
    expect(ready.committedEntries.map((e) => e.index)).toEqual([2, 3]);
    expect(node.log().map((e) => e.index)).toEqual([1, 2, 3, 4]);
    expect(ready.messages).toEqual([appendResponse({ from: 'n2', to: 'n1', term: 2, success: true, matchIndex: 3, seq: 1 })]);
  });

  it('answers a snapshot no newer than its commit index with its commit index, and installs nothing', () => {
    const node = follower(
      [1, 2, 3].map((index) => entry({ term: 1, index })),
      3,
    );
    node.step(installSnapshot({ from: 'n1', to: 'n2', term: 2, snapshot: meta(2, 1) }));
    const ready = node.ready();
    expect(ready.snapshotToInstall).toBeNull();
    expect(ready.messages).toEqual([appendResponse({ from: 'n2', to: 'n1', term: 2, success: true, matchIndex: 3, seq: 1 })]);
  });

  it('rejects an InstallSnapshot of an older term with its own term (so the old leader steps down), and drops malformed ones', () => {
    const node = follower([entry({ term: 1, index: 1 })]);
    node.step(installSnapshot({ from: 'n1', to: 'n2', term: 1, snapshot: meta(5, 1) }));
    expect(node.ready().messages).toEqual([
      appendResponse({ from: 'n2', to: 'n1', term: 2, success: false, matchIndex: 5, conflictIndex: 2, seq: 0 }),
    ]);
    node.step(installSnapshot({ from: 'n1', to: 'n2', term: 2, snapshot: meta(5, 3) })); // snapshot term above the message's
    node.step(installSnapshot({ from: 'n1', to: 'n2', term: 2, snapshot: meta(5, 2, { voters: [], learners: [] }) }));
    node.step(installSnapshot({ from: 'n1', to: 'n2', term: 2, snapshot: meta(0, 1) }));
    expect(node.hasReady()).toBe(false);
    expect(node.status().lastLogIndex).toBe(1);
  });
});

describe('a slow follower is caught up by snapshot (etcd TestSlowNodeRestore)', () => {
  it('catches up, applies the same state, and restarts from its snapshot', () => {
    const net = new Network(3, { snapshotEveryEntries: 5, snapshotTrailingEntries: 2, preVote: true, checkQuorum: true });
    const leader = net.waitForLeader();
    const slow = net.ids.find((id) => id !== leader) ?? 'n3';
    net.isolate(slow);
    for (let i = 0; i < 30; i++) net.propose(leader, `v${i}`);
    net.heal();
    net.tick(5);
    expect(net.snapshotCounts.installed).toBeGreaterThanOrEqual(1);
    const leaderApplied = net.applied.get(leader) ?? [];
    expect(leaderApplied.length).toBeGreaterThanOrEqual(31);
    for (const id of net.ids) expect(net.applied.get(id)).toEqual(leaderApplied);
    expect(net.node(slow).status().snapshot?.index).toBeGreaterThan(1);
    // Every node restarts from its snapshot and tail to the same state.
    for (const id of net.ids) {
      net.crash(id);
      net.restart(id);
    }
    const newLeader = net.waitForLeader();
    net.propose(newLeader, 'after');
    net.tick(3);
    const states = net.ids.map((id) => net.applied.get(id) ?? []);
    for (const state of states) expect(state).toEqual(states[0]);
    expect(states[0]?.at(-1)?.data).toBe('after');
  });
});

describe('unsafe: the classic snapshot mistakes break State Machine Safety (§5.4.3)', () => {
  it('snapshotPastCommit: a leader cut off from its followers applies (and would answer) an entry that is never committed', () => {
    const run = (snapshotPastCommit: boolean) => {
      const net = new Network(3, { snapshotEveryEntries: 2, unsafe: { ...safeCoreFlags, snapshotPastCommit } });
      net.campaign('n1');
      net.isolate('n1');
      net.node('n1').propose('lost');
      net.processReady('n1');
      net.heal();
      net.isolate('n1');
      net.campaign('n2');
      net.propose('n2', 'kept');
      return { n1: net.applied.get('n1')?.[1], n2: net.applied.get('n2')?.[1] };
    };
    const safe = run(false);
    expect(safe.n1).toBeUndefined(); // n1 never applied index 2: it was never committed
    expect(safe.n2).toMatchObject({ index: 2, term: 2, type: 'noop' });
    const broken = run(true);
    expect(broken.n1).toMatchObject({ index: 2, term: 1, data: 'lost' });
    expect(broken.n2).toMatchObject({ index: 2, term: 2 });
  });

  it('keepLogOnInstall: the follower claims entries it does not hold and the leader commits on them', () => {
    const run = (keepLogOnInstall: boolean) => {
      // n1 leads term 4 with a log compacted through 2@1 and its noop at 3@4.
      const leader = coreFrom({ hardState: { currentTerm: 3, votedFor: null }, entries: [], snapshot: meta(2, 1) });
      const first = makeLeader(leader);
      expect(leader.status()).toMatchObject({ currentTerm: 4, lastLogIndex: 3, lastLogTerm: 4 });
      // n2 holds a term-2 leader's uncommitted entries at 2 and 3.
      const follower = coreFrom(
        {
          hardState: { currentTerm: 3, votedFor: null },
          entries: [entry({ term: 1, index: 1 }), entry({ term: 2, index: 2 }), entry({ term: 2, index: 3 })],
        },
        { unsafe: { ...safeCoreFlags, keepLogOnInstall } },
        'n2',
      );
      // Shuttle until quiet (the leader backtracks, then streams the snapshot).
      let toFollower: CoreMessage[] = first.filter((m) => m.to === 'n2');
      for (let round = 0; round < 20 && toFollower.length > 0; round++) {
        for (const m of toFollower) follower.step(m);
        for (const m of follower.ready().messages) leader.step(m);
        const ready = leader.ready();
        toFollower = [...ready.messages.filter((m) => m.to === 'n2'), ...ready.snapshotsToSend];
        if (leader.status().commitIndex >= 3) break;
      }
      return { commit: leader.status().commitIndex, followerEntry3: follower.log().find((e) => e.index === 3) };
    };
    const safe = run(false);
    expect(safe.commit).toBe(3); // committed once n2 really holds 3@4
    expect(safe.followerEntry3).toMatchObject({ term: 4 });
    const broken = run(true);
    // Index 3 committed on n1 and n2, but n2 holds 3@2, not n1's 3@4: a single copy of a committed entry.
    expect(broken.commit).toBe(3);
    expect(broken.followerEntry3).toMatchObject({ term: 2 });
  });
});
