/**
 * The JSON cluster configuration file (`rift-node --config cluster.json --id n1`).
 * Validation with precise errors lives in `node/config.ts`.
 *
 * Example:
 * {
 *   "cluster": "rift-dev",
 *   "peerSecret": "nodes-only-at-least-16-chars",
 *   "clientSecret": "clients-and-nodes-16-chars",
 *   "dataDir": "./data",
 *   "electionTimeoutMsMin": 150, "electionTimeoutMsMax": 300, "heartbeatIntervalMs": 50,
 *   "nodes": [ { "id": "n1", "host": "127.0.0.1", "port": 7001 }, ... ],
 *   "routes": { "n1": { "n2": "127.0.0.1:9102" } }
 * }
 */
import type { NodeId } from './raft/types.js';
import { defaultCompaction } from './raft/compaction.js';

export interface NodeAddress {
  readonly id: NodeId;
  /** Where the node binds its one UDP socket; clients send here. */
  readonly host: string;
  readonly port: number;
}

export type ReadMode = 'readindex' | 'lease';

export interface ClusterConfig {
  /** Cluster name, inside every authenticated envelope: a packet from another cluster is dropped. */
  readonly cluster: string;
  /**
   * Held by the nodes only: each node's peer MAC key is derived from it and
   * the node's id (node/transport/keys.ts). At least 16 characters.
   */
  readonly peerSecret: string;
  /**
   * Held by the clients (and the nodes, which answer them): the client MAC
   * key is derived from it. At least 16 characters, and not the peer secret.
   */
  readonly clientSecret: string;
  /**
   * W of the client freshness window: a node refuses a client datagram
   * stamped more than W from its own system clock (node/transport/client-replay.ts),
   * so clients' and nodes' clocks must agree within W.
   */
  readonly clientFreshnessMs: number;
  /** Each node keeps its files in `<dataDir>/<id>/`. Relative paths resolve against the config file's directory. */
  readonly dataDir: string;
  readonly electionTimeoutMsMin: number;
  readonly electionTimeoutMsMax: number;
  readonly heartbeatIntervalMs: number;
  /** Granularity of the core's logical clock (default: defaultTimings.tickMs). */
  readonly tickMs: number;
  /**
   * The bootstrap configuration: its voters, and their addresses. Read as
   * the configuration only by a node whose log and snapshot hold none yet
   * (dissertation ch. 4: from then on the newest configuration in the log
   * rules, and membership changes go through `rift-node admin`), so it must
   * never be edited once the cluster has started: a node that lost its
   * configuration entries would take the edited list for its voters.
   */
  readonly nodes: readonly NodeAddress[];
  /**
   * Identities that are not in the bootstrap configuration but may join it
   * later (README "Membership"): their addresses, where the nodes send to
   * once a membership change makes them members. A spare starts with
   * `rift-node --join`; `rift-node admin add` makes it a learner. Adding
   * identities here never changes the bootstrap configuration. Absent: none.
   * Addresses come only from this file, never from the network, and peer
   * keys are derived per identity from the peer secret (transport/keys.ts).
   */
  readonly spareNodes?: readonly NodeAddress[];
  /**
   * Optional overrides of where node `from` sends datagrams for peer `to`
   * ("host:port"). The harness points these at its UDP relay, one socket per
   * directed link, so it can drop, delay and duplicate per link without the
   * nodes cooperating. Without an override a node sends to the peer's own address.
   */
  readonly routes: Readonly<Record<NodeId, Readonly<Record<NodeId, string>>>>;
  readonly readMode: ReadMode;
  /** Lease reads (readMode "lease") assume clocks drift apart by at most this factor (thesis §6.4.1): the lease is safeLeaseTicks (below). */
  readonly clockDriftBound: number;
  readonly maxKeyBytes: number;
  readonly maxValueBytes: number;
  /**
   * The client session table's bound (node/kv/sessions.ts); absent = its
   * default, 10,000. Part of the replicated state machine's rules, so the
   * same on every node. Small values evict sessions while their clients
   * still retry: the harness uses it to test session expiry.
   */
  readonly maxSessions?: number;
  /**
   * Log compaction (§7, issue 18): snapshot the state machine once this many
   * entries were applied since the last snapshot; null = never (the log
   * grows without bound). Absent = `defaultSnapshotting.snapshotEveryEntries`.
   */
  readonly snapshotEveryEntries?: number | null;
  /** ... or once the entries applied since then add up to this many bytes. Absent = the default. */
  readonly snapshotEveryBytes?: number;
  /**
   * Entries kept before a snapshot, so a follower only a little behind is
   * caught up with entries rather than a whole snapshot (etcd's
   * SnapshotCatchUpEntries). Absent = the default.
   */
  readonly snapshotTrailingEntries?: number;
  /**
   * Snapshot bytes per InstallSnapshot chunk (node/snapshot/streamer.ts
   * `chunkBytes`), at most the default (60 KiB: one datagram with its
   * envelope). Absent = the default. A test setting: small chunks make a
   * small snapshot a stream of many datagrams (the harness's
   * `--snapshot-chunk-bytes`).
   */
  readonly snapshotChunkBytes?: number;
}

/** Every identity the config gives an address: the bootstrap nodes, then the spares. */
export function addressBook(config: Pick<ClusterConfig, 'nodes' | 'spareNodes'>): readonly NodeAddress[] {
  return config.spareNodes === undefined || config.spareNodes.length === 0 ? config.nodes : [...config.nodes, ...config.spareNodes];
}

/**
 * When a node snapshots, by default: the core's policy (node/raft/compaction.ts
 * `defaultCompaction`, the one place the numbers live): every 10,000 entries
 * (etcd's default snapshot count) or 16 MiB of applied entries, whichever
 * comes first. Spelled here so the config, the README and `--help` read them.
 */
export const defaultSnapshotting = {
  snapshotEveryEntries: defaultCompaction.snapshotEveryEntries,
  snapshotEveryBytes: defaultCompaction.snapshotEveryBytes,
  snapshotTrailingEntries: defaultCompaction.snapshotTrailingEntries,
} as const;

/**
 * The default timings, the one place they are spelled: the node's config
 * (below), the harness's `--election-timeout` and `--heartbeat` defaults and
 * the simulator's options all read them. §5.6: broadcastTime << electionTimeout
 * << MTBF; a heartbeat well under the minimum timeout keeps followers from
 * starting elections while the leader lives, and the 150-300 ms range is the
 * paper's own. One tick of the core's logical clock is tickMs.
 */
export const defaultTimings = {
  electionTimeoutMsMin: 150,
  electionTimeoutMsMax: 300,
  heartbeatIntervalMs: 50,
  tickMs: 10,
} as const;

export const configDefaults = {
  ...defaultTimings,
  readMode: 'readindex' as ReadMode,
  clockDriftBound: 1.2,
  clientFreshnessMs: 30_000,
  maxKeyBytes: 256,
  maxValueBytes: 8192,
} as const;

/**
 * The lease in ticks (thesis §6.4.1), from the election timeout in ticks E
 * and the drift bound ρ: floor((E - 1) / ρ). A follower's election timer of E
 * ticks can run out only E - 1 tick periods after it hears the leader (its
 * first tick may come right after the heartbeat), while the leader's lease
 * runs whole periods of its own clock from its tick before the send; with
 * periods at most ρ apart the lease must end by then: L * ρ <= E - 1. The
 * thesis's electionTimeout / ρ, counted in ticks, is one tick too long: the
 * model checker found the stale lease read it allows (test/mc/clock.test.ts),
 * at the defaults too (12 ticks where 11.67 is the limit).
 * 0 when no lease is safe (E - 1 < ρ): lease mode is then refused.
 */
export function safeLeaseTicks(electionTimeoutTicksMin: number, clockDriftBound: number): number {
  return Math.max(0, Math.floor((electionTimeoutTicksMin - 1) / clockDriftBound));
}

/** The election timeout in whole ticks, as the core counts it. */
export function electionTicksMinOf(config: { readonly electionTimeoutMsMin: number; readonly tickMs: number }): number {
  return Math.max(1, Math.round(config.electionTimeoutMsMin / config.tickMs));
}

/** Why lease mode cannot be safe with these timings, or null (see safeLeaseTicks). */
export function leaseProblem(config: {
  readonly electionTimeoutMsMin: number;
  readonly tickMs: number;
  readonly clockDriftBound: number;
}): string | null {
  const e = electionTicksMinOf(config);
  if (safeLeaseTicks(e, config.clockDriftBound) >= 1) return null;
  return (
    `lease mode needs electionTimeoutMsMin of at least tickMs * (1 + clockDriftBound) (a lease of one tick): ` +
    `${config.electionTimeoutMsMin} ms is ${e} tick(s) of ${config.tickMs} ms, with clockDriftBound ${config.clockDriftBound}`
  );
}
