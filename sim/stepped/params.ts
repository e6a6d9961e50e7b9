/**
 * The fixed setting of a stepped cluster (sim/stepped/): how many nodes, the
 * core's timing in ticks, the read mode and the unsafe flags. The model
 * checker (mc/) explores from it and writes it into every counterexample
 * file; the replay (`npm run sim -- --replay FILE`) rebuilds the cluster
 * from it. One function, `coreConfigFor`, turns it into each node's
 * `RaftConfig`, through the host's own mapping (node/host.ts
 * `raftConfigFor`), so the cores run with the production settings
 * (pre-vote, check-quorum, parallel leader appends, the lease formula).
 */
import type { ClusterConfig, ReadMode } from '../../node/config-types.js';
import { configDefaults } from '../../node/config-types.js';
import { raftConfigFor } from '../../node/host.js';
import type { NodeId, Prng, RaftConfig } from '../../node/raft/types.js';
import type { UnsafeFlags } from '../../node/unsafe-flags.js';

export interface SteppedParams {
  readonly nodeCount: number;
  /** Election timeout in ticks; the same for every node and every draw (the schedule, not a PRNG, decides who times out first). */
  readonly electionTicks: number;
  readonly heartbeatTicks: number;
  readonly readMode: ReadMode;
  /** The lease is floor((electionTicks - 1) / clockDriftBound) ticks (thesis §6.4.1; safeLeaseTicks), as the host computes it. */
  readonly clockDriftBound: number;
  /** The node's unsafe flags (node/unsafe-flags.ts); `leaseMs` counts ticks here (one tick is one ms). */
  readonly unsafe: UnsafeFlags;
  /** The core's own unsafe flag that no host flag reaches (RaftConfig.unsafe.skipReadQuorum). */
  readonly skipReadQuorum: boolean;
  /**
   * Snapshots (§7, issue 18): the core asks for one after this many applied
   * entries (the host's `snapshotEveryEntries`); absent = the node's default
   * (10,000, which no stepped run reaches: no snapshots).
   */
  readonly snapshotEveryEntries?: number;
  /** Entries kept before a snapshot when the log is compacted (the host's `snapshotTrailingEntries`); with snapshotEveryEntries. */
  readonly snapshotTrailingEntries?: number;
  /**
   * Membership (issue 18): the last `spareCount` of the `nodeCount` ids are
   * spare identities, in no bootstrap configuration (the host's
   * `spareNodes`, started with `--join`: RaftConfig.joining) until an admin
   * change adds them; the others are the bootstrap voters. Absent = 0.
   */
  readonly spareCount?: number;
  /** `immediate`: a leader tells followers of a commit at once, not at its next tick (RaftConfig.commitNoticeAtTick). Absent = the node's setting (the next tick). */
  readonly commitNotice?: 'immediate';
  /**
   * InstallSnapshot as the host streams it (node/snapshot/streamer.ts,
   * assembler.ts): chunks of this many bytes, each a message, acknowledged
   * one by one, the stream's retransmission timer an event of its own
   * (`stream_timeout`). Absent = one message carries the whole snapshot.
   */
  readonly snapshotChunkBytes?: number;
}

export function nodeIds(params: SteppedParams): NodeId[] {
  return Array.from({ length: params.nodeCount }, (_, i) => `n${i + 1}`);
}

/** The bootstrap voters: every id but the spares (dissertation §4.1: the initial configuration). */
export function bootstrapVoterCount(params: SteppedParams): number {
  return params.nodeCount - (params.spareCount ?? 0);
}

/** The cluster config the host would read, with one tick per ms. */
function clusterConfig(params: SteppedParams): ClusterConfig {
  const ids = nodeIds(params);
  const voters = bootstrapVoterCount(params);
  const address = (id: NodeId, i: number): { id: NodeId; host: string; port: number } => ({ id, host: 'stepped', port: 7001 + i });
  return {
    cluster: 'stepped',
    peerSecret: 'stepped-cluster-peer-secret',
    clientSecret: 'stepped-cluster-client-secret',
    clientFreshnessMs: configDefaults.clientFreshnessMs,
    dataDir: '/nonexistent/stepped',
    electionTimeoutMsMin: params.electionTicks,
    electionTimeoutMsMax: params.electionTicks,
    heartbeatIntervalMs: params.heartbeatTicks,
    tickMs: 1,
    nodes: ids.slice(0, voters).map(address),
    ...(voters < ids.length ? { spareNodes: ids.slice(voters).map((id, i) => address(id, voters + i)) } : {}),
    routes: {},
    readMode: params.readMode,
    clockDriftBound: params.clockDriftBound,
    maxKeyBytes: configDefaults.maxKeyBytes,
    maxValueBytes: configDefaults.maxValueBytes,
    ...(params.snapshotEveryEntries === undefined
      ? {}
      : { snapshotEveryEntries: params.snapshotEveryEntries, snapshotTrailingEntries: params.snapshotTrailingEntries ?? 0 }),
  };
}

export function coreConfigFor(params: SteppedParams, id: NodeId): RaftConfig {
  // A spare starts as the host starts a node with --join: in no configuration until a leader's log names it.
  const joining = nodeIds(params).indexOf(id) >= bootstrapVoterCount(params);
  const config = raftConfigFor(id, clusterConfig(params), params.unsafe, joining);
  return {
    ...config,
    unsafe: { ...config.unsafe, skipReadQuorum: params.skipReadQuorum },
    ...(params.commitNotice === 'immediate' ? { commitNoticeAtTick: false } : {}),
  };
}

/**
 * Election timeouts without jitter: every draw is the minimum. The stepped
 * cluster's nondeterminism is the order of events, which the model checker
 * enumerates; a random timeout would only hide part of it behind a seed.
 */
export const fixedTimeouts: Prng = { nextInt: (min) => min };
