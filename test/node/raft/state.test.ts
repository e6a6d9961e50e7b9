/**
 * RaftNode.snapshotState / RaftNode.fromState: the core's whole state as
 * data (node/raft/state.ts), which the model checker stores, hashes and
 * restores. The differential test runs two clusters in lockstep on the same
 * random inputs, one of which replaces every core it touches by a core
 * rebuilt from that core's snapshot; every Ready must come out the same.
 *
 * Replay: the seed is in the test name (`RAFT_STATE_SEED=<seed> npx vitest
 * run test/node/raft/state.test.ts`).
 */
import { describe, expect, it } from 'vitest';
import { describeReady } from '../../../node/raft/describe.js';
import { SplitMix32, createPrng } from '../../../node/raft/prng.js';
import { RaftNode } from '../../../node/raft/raft.js';
import type { ConfChange, CoreMessage, InstallSnapshot, NodeId, Prng, RaftConfig, SnapshotMeta } from '../../../node/raft/types.js';
import { makeLeader, newNode } from './helpers.js';
import { ids, makeConfig } from './network.js';

const seed = Number(process.env['RAFT_STATE_SEED'] ?? Math.floor(Math.random() * 0x7fffffff));

interface Twin {
  readonly config: RaftConfig;
  /** The same PRNG sequence on both sides: each side draws from its own generator with the same seed. */
  readonly prngA: Prng;
  readonly prngB: Prng;
  a: RaftNode;
  b: RaftNode;
}

describe('RaftNode.snapshotState / fromState', () => {
  it('round-trips: a restored core has the same snapshot', () => {
    const leader = newNode({ overrides: { preVote: true, checkQuorum: true, leaseTicks: 4 } });
    makeLeader(leader);
    leader.propose('x');
    leader.readIndex('r1');
    const state = leader.snapshotState();
    const restored = RaftNode.fromState(
      makeConfig('n1', ids(3), { preVote: true, checkQuorum: true, leaseTicks: 4 }),
      state,
      createPrng(1),
    );
    expect(restored.snapshotState()).toEqual(state);
    // Pending output survives: the restored core hands out the same Ready.
    expect(describeReady(restored.ready())).toBe(describeReady(leader.ready()));
  });

  it('does not depend on absolute time: a core that slept first has the same snapshot', () => {
    const overrides = { preVote: true, checkQuorum: true, leaseTicks: 4 };
    const early = newNode({ overrides });
    const late = newNode({ overrides });
    late.elapse(1000);
    makeLeader(early);
    makeLeader(late);
    expect(late.snapshotState()).toEqual(early.snapshotState());
  });

  it('records a lease round older than the lease as expired', () => {
    const node = newNode({
      overrides: {
        preVote: false,
        checkQuorum: true,
        leaseTicks: 3,
        heartbeatIntervalTicks: 100,
        electionTimeoutTicksMin: 200,
        electionTimeoutTicksMax: 200,
      },
    });
    const noop = makeLeader(node).find((m) => m.type === 'append_entries' && m.to === 'n2');
    expect(noop?.type).toBe('append_entries');
    if (noop?.type !== 'append_entries') return;
    node.step({
      type: 'append_entries_response',
      term: noop.term,
      from: 'n2',
      to: 'n1',
      success: true,
      matchIndex: noop.prevLogIndex + noop.entries.length,
      conflictTerm: null,
      conflictIndex: 0,
      seq: noop.seq,
    });
    const acked = (): number | null | undefined => node.snapshotState().progress.find(([peer]) => peer === 'n2')?.[1].ackedSendTicksAgo;
    expect(acked()).toBe(0);
    node.tick();
    node.tick();
    expect(acked()).toBe(2);
    node.tick();
    expect(acked()).toBeNull(); // 3 ticks ago = leaseTicks: it can never count again
  });

  it(`behaves exactly like the core it was taken from (seed ${seed})`, () => {
    const nodeIds: readonly NodeId[] = ids(3);
    const overrides = {
      preVote: true,
      checkQuorum: true,
      leaseTicks: 3,
      electionTimeoutTicksMin: 4,
      electionTimeoutTicksMax: 7,
      heartbeatIntervalTicks: 1,
      maxInflightAppends: 2,
    };
    const seen = differential(seed, nodeIds, (id) => makeConfig(id, nodeIds, overrides), false);
    // The run must have exercised leadership (otherwise most of the state was never compared).
    expect(seen.leaders).toBeGreaterThan(0);
  });

  it(`behaves exactly like the core it was taken from through membership changes and log compaction (seed ${seed})`, () => {
    // n4 joins (dissertation §4.2.1): empty, no configuration of its own until a leader adds it.
    const founders = ids(3);
    const nodeIds: readonly NodeId[] = ids(4);
    const overrides = {
      preVote: true,
      checkQuorum: true,
      leaseTicks: 3,
      electionTimeoutTicksMin: 4,
      electionTimeoutTicksMax: 7,
      heartbeatIntervalTicks: 1,
      maxInflightAppends: 2,
      // Snapshot every few applied entries and keep a short tail (§7): compaction and InstallSnapshot happen within the run.
      snapshotEveryEntries: 4,
      snapshotTrailingEntries: 1,
    };
    const seen = differential(
      seed,
      nodeIds,
      (id) => (founders.includes(id) ? makeConfig(id, founders, overrides) : makeConfig(id, nodeIds, { ...overrides, joining: true })),
      true,
    );
    expect(seen.leaders).toBeGreaterThan(0);
    expect(seen.compactions).toBeGreaterThan(0);
    expect(seen.configEntriesApplied).toBeGreaterThan(0);
  });
});

interface Seen {
  /** Readies of a leader. */
  leaders: number;
  /** Readies that discarded a compacted prefix (§7). */
  compactions: number;
  /** Config entries handed out for application (dissertation ch. 4). */
  configEntriesApplied: number;
  /** InstallSnapshot messages delivered. */
  snapshotsDelivered: number;
}

/**
 * Two clusters in lockstep on the same random inputs (`seed`); side B
 * replaces every core it touches by one rebuilt from that core's snapshot.
 * With `extras` the driver also proposes membership changes, reports the
 * snapshots the cores ask for (Ready.snapshotRequest, then snapshotTaken)
 * and delivers and reports InstallSnapshot streams.
 */
function differential(seed: number, nodeIds: readonly NodeId[], configOf: (id: NodeId) => RaftConfig, extras: boolean): Seen {
  const random = new SplitMix32(seed);
  const pick = <T>(items: readonly T[]): T => items[random.nextInt(0, items.length - 1)]!;
  const twins = new Map<NodeId, Twin>();
  nodeIds.forEach((id, i) => {
    const config = configOf(id);
    const prngA = createPrng(seed + i);
    const prngB = createPrng(seed + i);
    const stored = { hardState: { currentTerm: 0, votedFor: null }, entries: [] };
    twins.set(id, { config, prngA, prngB, a: new RaftNode(config, stored, prngA), b: new RaftNode(config, stored, prngB) });
  });
  const twin = (id: NodeId): Twin => twins.get(id)!;
  let inFlight: CoreMessage[] = [];
  let requests = 0;
  const seen: Seen = { leaders: 0, compactions: 0, configEntriesApplied: 0, snapshotsDelivered: 0 };
  /** Snapshots a core asked for and the driver has not reported taken yet, per node. */
  const snapshotRequests = new Map<NodeId, SnapshotMeta>();
  /** InstallSnapshot streams a leader started and the driver has not reported yet. */
  let streams: InstallSnapshot[] = [];

  const act = (id: NodeId, input: (core: RaftNode) => void): void => {
    const t = twin(id);
    // Side B always runs on a core rebuilt from the snapshot of its previous one.
    t.b = RaftNode.fromState(t.config, t.b.snapshotState(), t.prngB);
    input(t.a);
    input(t.b);
    expect(t.b.snapshotState()).toEqual(t.a.snapshotState());
    while (t.a.hasReady() || t.b.hasReady()) {
      const readyA = t.a.ready();
      const readyB = t.b.ready();
      expect(describeReady(readyB)).toBe(describeReady(readyA));
      expect(readyB.snapshotToInstall).toEqual(readyA.snapshotToInstall);
      expect(readyB.snapshotsToSend).toEqual(readyA.snapshotsToSend);
      expect(readyB.snapshotRequest).toEqual(readyA.snapshotRequest);
      expect(readyB.discardEntriesBefore).toEqual(readyA.discardEntriesBefore);
      t.a.persisted(t.a.status().lastLogIndex);
      t.b.persisted(t.b.status().lastLogIndex);
      inFlight.push(...readyA.messages, ...readyA.snapshotsToSend);
      streams.push(...readyA.snapshotsToSend);
      if (readyA.snapshotRequest !== null) snapshotRequests.set(id, readyA.snapshotRequest);
      if (readyA.discardEntriesBefore !== null) seen.compactions++;
      seen.configEntriesApplied += readyA.committedEntries.filter((e) => e.type === 'config').length;
      if (readyA.softState.role === 'leader') seen.leaders++;
    }
  };

  const extra = (id: NodeId): void => {
    const which = random.nextInt(0, 2);
    const request = snapshotRequests.get(id);
    if (which === 0 && request !== undefined) {
      snapshotRequests.delete(id);
      act(id, (core) => core.snapshotTaken(request));
    } else if (which === 1 && streams.length > 0) {
      const stream = streams.splice(random.nextInt(0, streams.length - 1), 1)[0]!;
      const outcome = random.nextInt(0, 1) === 0 ? 'finished' : 'failed';
      act(stream.from, (core) => core.reportSnapshot(stream.to, outcome));
    } else {
      const change: ConfChange = { type: pick(['add_learner', 'promote', 'remove'] as const), node: pick(nodeIds) };
      act(id, (core) => void core.proposeConfChange(change));
    }
  };

  for (let step = 0; step < 4000; step++) {
    const id = pick(nodeIds);
    if (extras && random.nextInt(0, 99) < 8) {
      extra(id);
      continue;
    }
    const choice = random.nextInt(0, 99);
    if (choice < 65 && inFlight.length > 0) {
      const message = inFlight.splice(random.nextInt(0, inFlight.length - 1), 1)[0]!;
      // Reordering, loss and duplication: sometimes keep a copy in flight, sometimes drop it.
      if (random.nextInt(0, 9) === 0) inFlight.push(message);
      if (random.nextInt(0, 9) !== 0) {
        if (message.type === 'install_snapshot') seen.snapshotsDelivered++;
        act(message.to, (core) => core.step(message));
      }
    } else if (choice < 85) {
      act(id, (core) => core.tick());
    } else if (choice < 90) {
      act(id, (core) => void core.propose(`v${step}`));
    } else if (choice < 95) {
      const request = `r${requests++}`;
      act(id, (core) => core.readIndex(request));
    } else if (choice < 98) {
      const to = pick(nodeIds);
      act(id, (core) => core.transferLeadership(to));
    } else {
      const ticks = random.nextInt(0, 5);
      act(id, (core) => core.elapse(ticks));
    }
    if (inFlight.length > 200) inFlight = inFlight.slice(-100);
  }
  return seen;
}
