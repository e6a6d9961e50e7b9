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
  // Network adversary and process pauses (sim/adversary.ts, sim/pause.ts; issue 15).
  /**
   * Random halves with the leader in the minority (Jepsen's random-halves
   * partition aimed at the leader): the leader and floor((n-1)/2) - 1 other
   * nodes, the first non-leaders from position `companion`, are cut from the
   * majority, which elects a new leader while the old one may not yet know.
   */
  | { readonly kind: 'split_leader'; readonly companion: number }
  /**
   * Cut the link between the leader and one other node (`other` counts the
   * non-leaders), both ways, leaving every other link: partitions that are
   * not transitive (Jepsen's bridge), where a node can reach both sides.
   */
  | { readonly kind: 'cut_leader'; readonly other: number }
  /** Crash a node and restart it `downMs` later (a kill and a supervisor's restart). */
  | { readonly kind: 'reboot'; readonly node: number; readonly downMs: number }
  /**
   * The network holds datagrams on a node's peer links (`direction` as for
   * `isolate`): for `forMs`, each datagram is held with probability `rate`
   * and delivered `holdMs` later, once, with its original bytes (a delay,
   * not a forgery: a transport's replay window may rightly refuse it).
   */
  | {
      readonly kind: 'hold';
      readonly node: number;
      readonly direction: LinkDirection;
      readonly rate: number;
      readonly holdMs: number;
      readonly forMs: number;
    }
  /** The same, on whichever node is leader at that moment. */
  | {
      readonly kind: 'hold_leader';
      readonly direction: LinkDirection;
      readonly rate: number;
      readonly holdMs: number;
      readonly forMs: number;
    }
  /**
   * An adversary that holds datagrams across terms: for `forMs`, each peer
   * datagram the current leader sends is taken off the wire with probability
   * `rate` and released the moment its sender leads again in a later term
   * (or at the end of the fault window). Bodies are authenticated, not
   * encrypted, so an on-path adversary can read the terms. A transport's
   * replay window rightly takes these (it never saw them): the core must not
   * act on an old message or an old answer as if it were new (issue 15
   * defect 1).
   */
  | { readonly kind: 'hold_across'; readonly rate: number; readonly forMs: number }
  /**
   * An adversary below the transport re-delivers `count` peer datagrams it
   * recorded at least `minAgeMs` earlier, byte for byte (it holds no key):
   * the receivers' replay windows must refuse the copies of what they accepted.
   */
  | { readonly kind: 'replay'; readonly count: number; readonly minAgeMs: number }
  /** The same, but only messages that whichever node is leader at that moment sent (a leader's old traffic, replayed to its followers). */
  | { readonly kind: 'replay_leader'; readonly count: number; readonly minAgeMs: number }
  /** The node's process stops (SIGSTOP, a GC pause) for `forMs`: no timers, no input; datagrams queue in its socket buffer. */
  | { readonly kind: 'pause'; readonly node: number; readonly forMs: number }
  /** The same, on whichever node is leader at that moment. */
  | { readonly kind: 'pause_leader'; readonly forMs: number }
  // Disk faults on the real file storage (sim/disk.ts, sim/sim-fs.ts; issue 15).
  /**
   * Power failure of node `node % n`, a bit flip in the last durable frame
   * of its log, and a restart: it must refuse to start (issue 15 defect 3);
   * `--unsafe-torn-tail-dropped` drops the frame and what it held.
   */
  | {
      readonly kind: 'corrupt_last_frame';
      readonly node: number;
      /**
       * Aimed at what recovery must tell apart (node/storage/replay.ts): the
       * failure waits until the node is in the middle of an append (its fsync
       * not done; at most one maximum election timeout), so the append is
       * torn beside the flipped durable frame, and half the time the flipped
       * bit is in that frame's header (length, checksum, type). Generated
       * scenarios set it; absent (scenarios kept from before), the failure is
       * at once and the bit anywhere in the frame, as they were recorded.
       */
      readonly aimed?: boolean;
    }
  /**
   * Outside Raft's fault model (a disk that loses synced data), bounded so
   * that a correct node stays safe, hence in the default mix: power failure of a follower (the `node`-th running
   * non-leader), its disk loses up to `entries` entries of its log's tail
   * (only entries every other disk also holds, so a correct node stays
   * safe; term and vote kept), and it restarts: the leader must catch it up
   * (issue 15 defect 4, `--unsafe-ignore-lost-follower-log`).
   */
  | { readonly kind: 'lose_tail'; readonly node: number; readonly entries: number }
  /**
   * Membership changes while clients run (issue 18; the harness's membership
   * nemesis, Jepsen's etcd suite): one cycle of single-server changes
   * through the leader's admin path (node/host.ts onAdminMessage, §4.1):
   * remove the `node`-th member (null: whoever leads when it fires, which
   * hands over first, §3.10), keep it out `outMs`, then restart it on its own
   * data if its removal stopped it (§4.2.2), add it back as a learner and,
   * once the leader reports it caught up (§4.2.1), promote it
   * (sim/membership.ts). At most two cycles (one per member) run at once; the heal
   * finishes it, so every original member votes again.
   */
  | { readonly kind: 'membership'; readonly node: number | null; readonly outMs: number }
  /**
   * Ongaro's 2015 bug in single-server changes, lined up (issue 18; the
   * harness's `change-race` kind on real processes): the `node`-th follower
   * removed, a voter that from then on hears only votes, the follower back
   * as a learner, the leader cut off with it and asked to promote it, the
   * other side's new leader asked at once to remove the votes-only voter
   * (a correct one refuses: no entry of its term is committed), and if it
   * does not, the old side together electing in its own configuration
   * (sim/change-race.ts). Five nodes; not in the default mix.
   */
  | { readonly kind: 'change_race'; readonly node: number }
  /**
   * A follower that holds a minority term's entries past the index of an
   * older-term snapshot, sent that snapshot by a later leader (issue 18,
   * §7: it must discard its log; `--unsafe-keep-log-on-install` keeps it and
   * claims it): the leader cut off with the `node`-th follower and `writes`
   * puts there, a minority leader heard by nobody growing a longer tail, the
   * old side committing the puts and compacting to one of them, the follower
   * snapshotting there on the leader's heartbeat at its compaction point, made
   * leader and joined with the minority leader (sim/divergent-install.ts).
   * Five nodes; not in the default mix.
   */
  | { readonly kind: 'divergent_install'; readonly node: number; readonly writes: number }
  /**
   * A kill that lands inside an InstallSnapshot stream (streams of several
   * chunks: SimOptions.snapshotChunkBytes): the next node after this fault
   * to receive chunk number `afterChunks` of a stream (or the one before its
   * last, in a shorter stream) crashes right after it has staged and
   * acknowledged it, and restarts `downMs` later. A stream takes
   * milliseconds, so a crash drawn at a random time almost never lands in
   * one: a follower that restarted mid-stream (its staging is memory, its
   * acknowledgements stand) made the stream give up (fixed 2026-12-07), and
   * only the model checker had found it. Armed until it fires or the heal.
   */
  | { readonly kind: 'kill_in_stream'; readonly afterChunks: number; readonly downMs: number }
  /**
   * A disk that refuses an operation (SimOptions.diskErrors): on the
   * `node`-th node's disk, the file-system call of kind `op` after the next
   * `skip` such calls fails with `code` (ENOSPC: a full disk; EIO: a failing
   * one; EROFS: remounted read-only), through the real storage code
   * (sim-fs.ts `failNext`). A failed write changes nothing; a failed fsync
   * drops what it covered (Linux marks the pages clean: still read, never
   * written, lost in a power failure); a failed rename, open or directory
   * fsync changes nothing durable. The node must stop (storage.ts: fatal)
   * unless the call was its log rewrite's temp file, which it may abandon:
   * its process exits (the page cache stays), it stays down until a restart
   * or the heal, and no acknowledged write may be lost. Armed until it fires
   * or the heal.
   */
  | { readonly kind: 'io_error'; readonly node: number; readonly op: IoErrorOp; readonly code: IoErrorCode; readonly skip: number };

/** The file-system calls an `io_error` fault can fail (sim-fs.ts). */
export type IoErrorOp = 'write' | 'fsync' | 'rename' | 'open' | 'fsync_dir';
export const ioErrorOps: readonly IoErrorOp[] = ['write', 'fsync', 'rename', 'open', 'fsync_dir'];
export type IoErrorCode = 'ENOSPC' | 'EIO' | 'EROFS';
export const ioErrorCodes: readonly IoErrorCode[] = ['ENOSPC', 'EIO', 'EROFS'];

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
  /** Faults fire in [0, faultWindowMs]; at faultWindowMs everything heals (restarts, partitions, pauses, network, clock rates). */
  readonly faultWindowMs: number;
  /**
   * Liveness after the heal (issue 20), in election timeouts (one is
   * electionTimeoutMsMax; see liveness.ts): if a majority can run, a leader
   * that has committed an entry of its term exists this many election
   * timeouts after the heal. The liveness phase starts then.
   */
  readonly livenessLeaderElectionTimeouts: number;
  /** Ops invoked in the liveness phase must complete definitely (ok or fail) within this many election timeouts. */
  readonly livenessOpElectionTimeouts: number;
  /**
   * Every live node's commitIndex reaches the leader's commitIndex at the
   * start of the liveness phase within this many election timeouts after the
   * heal (a follower the leader never catches up is a liveness bug).
   */
  readonly catchUpElectionTimeouts: number;
  /** Hard end of the run, after the heal. */
  readonly settleMs: number;
  /** Client deadline per op before the liveness phase. */
  readonly opTimeoutMs: number;
  /**
   * A paused process's socket receive buffer (Linux's default
   * net.core.rmem_default, 208 KiB): datagrams that arrive while it is
   * stopped queue up to this many bytes (counted as the kernel does, with a
   * per-datagram overhead, pause.ts), the rest are dropped.
   */
  readonly socketBufferBytes: number;
  /**
   * The core's `unsafe.skipReadQuorum` (no node command-line flag): ReadIndex
   * answers without the heartbeat round that confirms leadership (thesis §6.4
   * step 3 skipped), so a deposed leader serves stale reads.
   */
  readonly skipReadQuorum: boolean;
  readonly keys: number;
  readonly electionTimeoutMsMin: number;
  readonly electionTimeoutMsMax: number;
  readonly heartbeatIntervalMs: number;
  readonly tickMs: number;
  /** Keep every trace line (for artefacts and replays); otherwise only the trace hash. */
  readonly traceLines: boolean;
  /** Stop at the first violation (campaigns); false runs to the end (replays). */
  readonly stopOnViolation: boolean;
  /**
   * Judge what each acknowledgement vouches for (checker/ack-bound.ts; default
   * true). Off only to watch the harm an unfounded answer does downstream
   * (test/sim/divergent-install.test.ts), which the check would stop first.
   */
  readonly checkAcknowledgements: boolean;
  /** Budget for the linearizability checker per run. */
  readonly checkerTimeLimitMs: number;
  /**
   * The nodes' `snapshotEveryEntries` (issue 18): small values make
   * snapshots, log compaction and InstallSnapshot streams happen within a
   * run, so every check runs over them. Absent = the node's default (10,000:
   * no snapshot in a run of a few seconds).
   */
  readonly snapshotEveryEntries?: number;
  /** The nodes' `snapshotTrailingEntries`; absent = the node's default. */
  readonly snapshotTrailingEntries?: number;
  /**
   * Bytes per InstallSnapshot chunk (the streamer's `chunkBytes`). Absent =
   * the node's default (60 KiB), which every snapshot of a simulated run fits
   * in: one chunk a stream. Small values make streams of many chunks, which
   * the network loses, repeats, reorders and holds across terms.
   */
  readonly snapshotChunkBytes?: number;
  /**
   * Clients pass over a node whose attempt timed out for one election
   * timeout (node/client-retry.ts `Suspicion`), as the real client does.
   * Absent = true; false replays scenarios kept as data from before the
   * suspicion existed (their course depends on every client's choice).
   */
  readonly clientSuspicion?: boolean;
  /**
   * While a node is suspected, clients ask the others to hold an attempt
   * until they know another leader (ClientRequest.awaitLeader,
   * node/held-requests.ts), as the real client does. Absent = true; false
   * replays scenarios kept as data from before it existed (their course
   * depends on every client's choice).
   */
  readonly clientAwaitsLeader?: boolean;
  /** The clients' attempt timeout (node/client-retry.ts RetryPolicy); absent = the default policy's (min(250, opTimeoutMs)). */
  readonly clientAttemptTimeoutMs?: number;
  /**
   * The simulated disks' sector (StorageFs `sectorBytes`). Absent = a real
   * disk's 512. Small sectors (4, 16) make a sector's share of a frame that
   * reads as zeros by nature common, not 1 frame in hundreds: recovery takes
   * such a share for a write lost in a power failure, so a bit flipped in a
   * durable frame with one is the case its rules must still refuse (a vote
   * or an entry dropped as torn otherwise).
   */
  readonly sectorBytes?: number;
  /**
   * Clients write most values padded up to the nodes' value limit with
   * characters whose stored form is larger than they are (sim/values.ts):
   * log entries, AppendEntries and snapshots near their size limits. Absent
   * = false: short numbers, as every run before it.
   */
  readonly largeValues?: boolean;
  /**
   * The nodes' session table bound (NodeHost `maxSessions`; absent = the
   * default, 10,000, which a simulated run never fills). A bound below the
   * number of clients evicts sessions while their owners still retry: the
   * case where exactly-once rests on eviction being detected
   * (node/kv/sessions.ts).
   */
  readonly maxSessions?: number;
  /**
   * Clients open each session explicitly before their first write and send
   * writes as `existing` (ClientRequest.session), as node/client.ts does:
   * a write retried after its session's eviction is refused
   * (`session_expired`), never applied twice. Absent = false: every command
   * opens its session implicitly, as every run and kept scenario before it.
   */
  readonly clientOpensSessions?: boolean;
  /**
   * Every mix also draws `io_error` faults (arbitraries.ts ioErrorWeight): a
   * file-system call that fails (ENOSPC, EIO, EROFS), which the node must
   * treat as fatal. Absent = false: no run draws one, so every seed and
   * kept scenario runs as before.
   */
  readonly diskErrors?: boolean;
  /**
   * For tests only: an injected `io_error` fails silently (the write is
   * dropped, the fsync reports success without making anything durable),
   * so the node carries on as if the call had worked: what a node that
   * ignored the error would do. The run's checks must then find the
   * acknowledged writes that a power failure loses.
   */
  readonly diskErrorsSilent?: boolean;
}

export const defaultSimOptions: SimOptions = {
  nodeCount: 5,
  unsafe: noUnsafeFlags,
  readMode: configDefaults.readMode,
  clockDriftBound: configDefaults.clockDriftBound,
  faultWindowMs: 4000,
  livenessLeaderElectionTimeouts: 3,
  livenessOpElectionTimeouts: 3,
  catchUpElectionTimeouts: 5,
  settleMs: 6000,
  opTimeoutMs: 1500,
  socketBufferBytes: 212_992,
  skipReadQuorum: false,
  keys: 3,
  electionTimeoutMsMin: defaultTimings.electionTimeoutMsMin,
  electionTimeoutMsMax: defaultTimings.electionTimeoutMsMax,
  heartbeatIntervalMs: defaultTimings.heartbeatIntervalMs,
  tickMs: defaultTimings.tickMs,
  traceLines: false,
  stopOnViolation: true,
  checkAcknowledgements: true,
  checkerTimeLimitMs: 10_000,
};
