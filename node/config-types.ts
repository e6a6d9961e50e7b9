/**
 * The JSON cluster configuration file (`rift-node --config cluster.json --id n1`).
 * Validation with precise errors lives in `node/config.ts`.
 *
 * Example:
 * {
 *   "cluster": "rift-dev",
 *   "secret": "change-me-at-least-16-chars",
 *   "dataDir": "./data",
 *   "electionTimeoutMsMin": 150, "electionTimeoutMsMax": 300, "heartbeatIntervalMs": 50,
 *   "nodes": [ { "id": "n1", "host": "127.0.0.1", "port": 7001 }, ... ],
 *   "routes": { "n1": { "n2": "127.0.0.1:9102" } }
 * }
 */
import type { NodeId } from './raft/types.js';

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
  /** Shared secret for the HMAC on every datagram (at least 16 characters). */
  readonly secret: string;
  /** Each node keeps its files in `<dataDir>/<id>/`. Relative paths resolve against the config file's directory. */
  readonly dataDir: string;
  readonly electionTimeoutMsMin: number;
  readonly electionTimeoutMsMax: number;
  readonly heartbeatIntervalMs: number;
  /** Granularity of the core's logical clock. Default 10 ms. */
  readonly tickMs: number;
  readonly nodes: readonly NodeAddress[];
  /**
   * Optional overrides of where node `from` sends datagrams for peer `to`
   * ("host:port"). The harness points these at its UDP relay, one socket per
   * directed link, so it can drop, delay and duplicate per link without the
   * nodes cooperating. Without an override a node sends to the peer's own address.
   */
  readonly routes: Readonly<Record<NodeId, Readonly<Record<NodeId, string>>>>;
  readonly readMode: ReadMode;
  /** Lease reads (readMode "lease") assume clocks drift apart by at most this factor (thesis §6.4.1): lease = electionTimeoutMsMin / clockDriftBound. */
  readonly clockDriftBound: number;
  readonly maxKeyBytes: number;
  readonly maxValueBytes: number;
}

export const configDefaults = {
  electionTimeoutMsMin: 150,
  electionTimeoutMsMax: 300,
  heartbeatIntervalMs: 50,
  tickMs: 10,
  readMode: 'readindex' as ReadMode,
  clockDriftBound: 1.2,
  maxKeyBytes: 256,
  maxValueBytes: 8192,
} as const;

/**
 * Deliberately unsafe node behaviours, off by default, enabled with
 * `--unsafe-...` command-line flags. Each breaks the node in one known way
 * for the harness, the simulator and the consistency gate to catch.
 */
export interface UnsafeFlags {
  /** `--unsafe-local-reads`: every node answers reads from its own applied state, without ReadIndex or redirect. */
  readonly localReads: boolean;
  /** `--unsafe-no-persist-vote`: votedFor is kept in memory only (lost on restart). */
  readonly noPersistVote: boolean;
  /** `--unsafe-memory-log`: the log and hard state live only in memory; a restart starts empty. */
  readonly memoryLog: boolean;
  /** `--unsafe-ack-before-fsync`: messages and acknowledgements go out before the write reaches the disk; storage writes lazily, so a kill loses the tail. */
  readonly ackBeforeFsync: boolean;
  /** `--unsafe-commit-old-terms`: commit entries of earlier terms by counting replicas (the Figure 8 bug). */
  readonly commitOldTerms: boolean;
  /** `--unsafe-lease-ms N`: with readMode "lease", use a lease of N ms instead of the safe electionTimeoutMsMin / clockDriftBound. */
  readonly leaseMs: number | null;
  /**
   * `--unsafe-lease-after-pause`: after a late wake-up (a paused process) the
   * host drops the tick backlog without telling the core, so the lease clock
   * loses the time it slept through and a paused leader serves lease reads
   * on a lease that ran out (issue 15, defect 2). Absent = false.
   */
  readonly leaseAfterPause?: boolean;
}

export const noUnsafeFlags: UnsafeFlags = {
  localReads: false,
  noPersistVote: false,
  memoryLog: false,
  ackBeforeFsync: false,
  commitOldTerms: false,
  leaseMs: null,
};
