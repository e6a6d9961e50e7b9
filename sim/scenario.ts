/**
 * What one simulation run is made of, as plain data so fast-check can
 * generate and shrink it: a seed for every random stream, a fault schedule
 * and a client workload. `SimOptions` is the fixed setting of a campaign.
 */
import { configDefaults, defaultTimings, type ReadMode } from '../node/config-types.js';
import { noUnsafeFlags, type UnsafeFlags } from '../node/unsafe-flags.js';
import type { NetworkProfileName } from './network.js';

export type LinkDirection = 'in' | 'out' | 'both';

export type Fault =
  /** Power failure of node `node % n`: unsynced writes meet a crash fate (disk.ts). */
  | { readonly kind: 'crash'; readonly node: number }
  /** Crash whichever node is leader at that moment (the Jepsen leader-targeting nemesis). */
  | { readonly kind: 'crash_leader' }
  | { readonly kind: 'restart'; readonly node: number }
  | { readonly kind: 'restart_all' }
  /** Node i goes to group groups[i % groups.length]; links between groups are cut both ways. */
  | { readonly kind: 'partition'; readonly groups: readonly number[] }
  /** Cut a node's links: incoming, outgoing (one-way) or both. */
  | { readonly kind: 'isolate'; readonly node: number; readonly direction: LinkDirection }
  | { readonly kind: 'isolate_leader'; readonly direction: LinkDirection }
  | { readonly kind: 'heal' }
  /** Set a node's clock rate (logical ms per simulated ms) and jump its offset. */
  | { readonly kind: 'clock'; readonly node: number; readonly rate: number; readonly offsetMs: number }
  /** The same, on whichever node is leader at that moment. */
  | { readonly kind: 'clock_leader'; readonly rate: number; readonly offsetMs: number }
  | { readonly kind: 'network'; readonly profile: NetworkProfileName }
  /** Bit rot in a node's synced log; noticed at its next restart. */
  | { readonly kind: 'corrupt'; readonly node: number }
  /**
   * Power failure of node `node % n`, a bit flip in the last durable frame
   * of its log, and a restart: it must refuse to start (issue 15 defect 3);
   * `--unsafe-torn-tail-dropped` drops the frame and what it held.
   */
  | { readonly kind: 'corrupt_last_frame'; readonly node: number }
  /**
   * OUTSIDE Raft's fault model (a disk that loses synced data; never in a
   * default mix): power failure of a follower (the `node`-th running
   * non-leader), its disk loses up to `entries` entries of its log's tail
   * (only entries every other disk also holds, so a correct node stays
   * safe; term and vote kept), and it restarts: the leader must catch it up
   * (issue 15 defect 4, `--unsafe-ignore-lost-follower-log`).
   */
  | { readonly kind: 'lose_tail'; readonly node: number; readonly entries: number };

export type FaultKind = Fault['kind'];

export interface TimedFault {
  readonly atMs: number;
  readonly fault: Fault;
}

export type WorkloadF = 'read' | 'write' | 'cas';

export interface WorkloadOp {
  readonly f: WorkloadF;
  /** Key `k<key % keys>`. */
  readonly key: number;
  /** Pause before invoking this op, in simulated ms. */
  readonly thinkMs: number;
}

export interface Scenario {
  readonly seed: number;
  readonly faults: readonly TimedFault[];
  /** One op list per client slot. */
  readonly clients: readonly (readonly WorkloadOp[])[];
}

export interface SimOptions {
  readonly nodeCount: number;
  readonly unsafe: UnsafeFlags;
  readonly readMode: ReadMode;
  readonly clockDriftBound: number;
  /** Faults fire in [0, faultWindowMs]; at faultWindowMs everything heals (restarts, partitions, network, clock rates). */
  readonly faultWindowMs: number;
  /** Ops invoked at or after heal + livenessGraceMs must complete definitely (ok or fail), never time out. */
  readonly livenessGraceMs: number;
  /** Hard end of the run, after the heal. */
  readonly settleMs: number;
  readonly opTimeoutMs: number;
  readonly keys: number;
  readonly electionTimeoutMsMin: number;
  readonly electionTimeoutMsMax: number;
  readonly heartbeatIntervalMs: number;
  readonly tickMs: number;
  /** Keep every trace line (for artefacts and replays); otherwise only the trace hash. */
  readonly traceLines: boolean;
  /** Stop at the first violation (campaigns); false runs to the end (replays). */
  readonly stopOnViolation: boolean;
  /** Budget for the linearizability checker per run. */
  readonly checkerTimeLimitMs: number;
}

export const defaultSimOptions: SimOptions = {
  nodeCount: 5,
  unsafe: noUnsafeFlags,
  readMode: configDefaults.readMode,
  clockDriftBound: configDefaults.clockDriftBound,
  faultWindowMs: 4000,
  livenessGraceMs: 2000,
  settleMs: 6000,
  opTimeoutMs: 1500,
  keys: 3,
  electionTimeoutMsMin: defaultTimings.electionTimeoutMsMin,
  electionTimeoutMsMax: defaultTimings.electionTimeoutMsMax,
  heartbeatIntervalMs: defaultTimings.heartbeatIntervalMs,
  tickMs: defaultTimings.tickMs,
  traceLines: false,
  stopOnViolation: true,
  checkerTimeLimitMs: 10_000,
};
