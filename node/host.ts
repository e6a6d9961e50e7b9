/**
 * The node host: wires the pure Raft core to a storage, a transport, a clock
 * and the KV state machine, and serves clients. It performs the core's
 * effects in the order the `Ready` contract demands (node/raft/types.ts):
 * persist + fsync, then send, then apply, then serve reads.
 *
 * The host itself does no IO of its own: everything goes through `HostIo`,
 * so the real binary (node/main.ts: UDP, files, the adjustable wall clock)
 * and the deterministic simulator (sim/) run exactly this code.
 */
import { createHash } from 'node:crypto';
import { RaftNode } from './raft/raft.js';
import { handOverTarget } from './raft/hand-over.js';
import { createPrng } from './raft/prng.js';
import type {
  Configuration,
  Entry,
  HardState,
  InstallSnapshot,
  NodeId,
  RaftConfig,
  RaftMessage,
  Ready,
  Removal,
  Role,
  SnapshotMeta,
  StoredState,
} from './raft/types.js';
import type {
  AdminMessage,
  AdminOutcome,
  AdminRequest,
  ClientMessage,
  ClientOutcome,
  MembershipStatus,
  ClientRequest,
  KvResult,
  NodeStatus,
  SnapshotStatus,
  SnapshotTransferMessage,
  StateDigest,
} from './protocol.js';
import { addressBook, electionTicksMinOf, safeLeaseTicks, type ClusterConfig } from './config-types.js';
import { describeConfChange, isVoter } from './raft/configuration.js';
import { unsafeNames, type UnsafeFlags } from './unsafe-flags.js';
import type { RaftStorage } from './storage/storage.js';
import type { Clock, TimerId } from './clock/clock.js';
import { HeldRequests, MAX_HELD_REQUESTS, wantsHold } from './held-requests.js';
import { KvStateMachine, type ApplyResult, type KvStateMachineOptions } from './kv/state-machine.js';
import { encodeCommand } from './kv/command.js';
import { LazyDigest } from './kv/sessions.js';
import type { SessionCheck } from './kv/sessions.js';
import type { ReplyAddress } from './transport/node-endpoint.js';
import { maxEntryDataBytes } from './transport/codec.js';
import { checkStoredCommand, validateOp } from './kv/limits.js';
import { assert, assertionFailed, assertNever } from './util/assert.js';
import { LocalSnapshots, emptySnapshotStart, type SnapshotStart } from './snapshot/local-snapshots.js';
import { SnapshotStreamer, defaultStreamerOptions, type StreamerOptions } from './snapshot/streamer.js';
import { SnapshotAssembler, defaultAssemblerOptions, type AssembledSnapshot, type AssemblerOptions } from './snapshot/assembler.js';
import { snapshotBytes, type SnapshotBytes } from './snapshot/snapshot-bytes.js';
import { STAGE, type LatencyProbe } from './latency-probe.js';
import { coalesceAcks } from './ack-coalescing.js';

export type { ReplyAddress };

export interface HostIo {
  readonly storage: RaftStorage;
  readonly clock: Clock;
  sendPeer(to: NodeId, message: RaftMessage): void;
  sendClient(to: ReplyAddress, message: ClientMessage): void;
  /**
   * Sends a snapshot chunk or ack to a peer (InstallSnapshot streams,
   * node/snapshot/). Absent: the host cannot stream, so every stream it is
   * asked for fails at once (the follower stays behind until it can).
   */
  sendSnapshotMessage?(to: NodeId, message: SnapshotTransferMessage): void;
  /**
   * Answers an admin request (membership, node/admin-client.ts). Absent:
   * admin requests are not answered.
   */
  sendAdmin?(to: ReplyAddress, message: AdminMessage): void;
  /**
   * Whose peer datagrams the transport should hear (RaftNode.acceptedPeers):
   * called at start and whenever the set changes (a configuration appended,
   * or one that removes a node committed). Null: everyone in the address book
   * (a joiner that knows no configuration yet). Absent: the transport hears
   * a fixed set (the simulator's fixed clusters).
   */
  setPeers?(peers: readonly NodeId[] | null): void;
  log(line: string): void;
  /** Transport drop counters, for status. */
  droppedCounts(): Readonly<Record<string, number>>;
  /**
   * Optional: run `fn` once the inputs that are ready right now have been
   * stepped (the real binary uses setImmediate, i.e. after the current poll
   * phase), so everything that arrived together shares one Ready and one
   * fsync (group commit) even when storage writes synchronously. Without it
   * the effect loop starts at once (the simulator drives time itself).
   */
  defer?(fn: () => void): void;
  /** Optional: watches what the host does, without changing it (the simulator's invariant checks). */
  readonly observe?: HostObserver;
  /** Optional: stage marks for the latency breakdown (node/latency-probe.ts); absent unless `--latency-trace`. */
  readonly probe?: LatencyProbe;
  /** Optional: ms this process has waited for a CPU so far (null: unknown), for the status (the binary reads /proc/self/schedstat). */
  runQueueWaitMs?(): number | null;
}

/**
 * Hooks that see the host's effects as they happen, for checkers outside the
 * node (the simulator checks the Raft invariants after every event in which
 * a node produced a Ready, and State Machine Safety at each application).
 * Observers must not call back into the host. Absent hooks cost one property
 * check per Ready and per applied entry.
 */
export interface HostObserver {
  /** Every Ready the host takes from the core, once, before it performs any of it. */
  ready?(ready: Ready): void;
  /** Every committed entry, once, right after the state machine applied it, with what the state machine returned. */
  applied?(entry: Entry, result: ApplyResult | null): void;
  /** The state machine was serialised into a snapshot at `meta.index` (Ready step 5), before it is saved. */
  snapshotTaken?(meta: SnapshotMeta): void;
  /** A snapshot from the leader replaced the state machine (Ready step 3). */
  snapshotInstalled?(meta: SnapshotMeta): void;
}

export interface HostOptions {
  readonly id: NodeId;
  readonly config: ClusterConfig;
  readonly unsafe: UnsafeFlags;
  readonly stored: StoredState;
  readonly seed: number;
  readonly io: HostIo;
  /**
   * Core-only unsafe behaviours that have no node flag (the simulator proves
   * it catches them, e.g. `skipReadQuorum`); absent in the real binary.
   */
  readonly coreUnsafe?: { readonly skipReadQuorum?: boolean };
  /** The session table's bound (default: the config's maxSessions, else DEFAULT_MAX_SESSIONS; tests shrink it to reach eviction). */
  readonly maxSessions?: number;
  /**
   * The snapshot the node restores from, where snapshots are saved, and the
   * slots' state (node/snapshot/recover.ts reads them from disk). Absent:
   * no snapshot, and snapshots are not saved anywhere (tests).
   * `stored.snapshot` is ignored: this is the one source.
   */
  readonly snapshots?: SnapshotStart;
  /** InstallSnapshot transfer tuning (tests shrink the timeouts); absent = the defaults. */
  readonly snapshotTransfer?: { readonly streamer?: StreamerOptions; readonly assembler?: AssemblerOptions };
  /**
   * This node joins a running cluster (`rift-node --join`, a spare identity):
   * it starts with no configuration of its own and never campaigns until the
   * leader's log or snapshot makes it a voter (RaftConfig.joining, §4.2.1).
   */
  readonly joining?: boolean;
}

/** The host's state machine could not be restored from the snapshot it was given: the node must refuse to start. */
export class SnapshotRestoreError extends Error {
  override readonly name = 'SnapshotRestoreError';
}

/** A snapshot from the leader, assembled and decoded, waiting for the core's `snapshotToInstall` (Ready steps 1a, 3). */
interface StagedInstall {
  readonly snapshot: SnapshotBytes;
  readonly kv: KvStateMachine;
}

/** Bound on assembled snapshots stepped into the core and not yet named by a Ready (normally one). */
const maxStagedInstalls = 4;

/** Bounds on what a host keeps for clients (TigerStyle: put a limit on everything). */
const maxPendingWrites = 4096;
const maxPendingReads = 4096;
/** Datagram budget for entries in one AppendEntries: 65,507 minus envelope, JSON framing and headroom. */
const maxAppendBytes = 48 * 1024;
/** Snapshot text built per event-loop turn (takeSnapshot): about 1 MiB, 5-10 ms here, well inside a heartbeat interval. */
const SNAPSHOT_CHARS_PER_TURN = 1 << 20;

interface PendingWrite {
  readonly clientId: string;
  readonly instance: number;
  readonly seq: number;
  readonly index: number;
  replyTo: ReplyAddress;
}

/** A membership change proposed for an admin request, answered when its entry commits (or is replaced). */
interface PendingAdmin {
  readonly requestId: string;
  readonly index: number;
  readonly term: number;
  readonly what: string;
  replyTo: ReplyAddress;
}

/** Bound on admin changes awaited (one change at a time is in flight, §4.1; retries share it) and on answers remembered. */
const maxPendingAdmin = 16;
const maxAdminAnswers = 64;

interface PendingRead {
  readonly request: ClientRequest & { op: { type: 'get' } };
  readonly replyTo: ReplyAddress;
  readIndex: number | null;
  /** This node's read number (the latency probe's key). */
  readonly seq: number;
}

export function raftConfigFor(id: NodeId, config: ClusterConfig, unsafe: UnsafeFlags, joining = false): RaftConfig {
  const ticks = (ms: number): number => Math.max(1, Math.round(ms / config.tickMs));
  // `--unsafe-lease-ms` overrides the safe lease (the gate's bug).
  let leaseTicks: number | null = null;
  if (config.readMode === 'lease') {
    leaseTicks =
      unsafe.leaseMs !== null
        ? Math.max(1, Math.floor(unsafe.leaseMs / config.tickMs))
        : safeLeaseTicks(electionTicksMinOf(config), config.clockDriftBound);
    assert(
      leaseTicks >= 1,
      `lease mode needs a lease of at least one tick (electionTimeoutMsMin ${config.electionTimeoutMsMin}, tickMs ${config.tickMs}, clockDriftBound ${config.clockDriftBound}): the config check refuses this`,
    );
  }
  return {
    id,
    // A joiner is in no bootstrap configuration; its `peers` only satisfy the core's check (RaftConfig.joining).
    peers: joining ? [id] : config.nodes.map((n) => n.id),
    ...(joining ? { joining: true } : {}),
    electionTimeoutTicksMin: ticks(config.electionTimeoutMsMin),
    electionTimeoutTicksMax: Math.max(ticks(config.electionTimeoutMsMin), ticks(config.electionTimeoutMsMax)),
    heartbeatIntervalTicks: ticks(config.heartbeatIntervalMs),
    preVote: true,
    checkQuorum: true,
    maxAppendBytes,
    maxInflightAppends: 64,
    maxUncommittedBytes: 8 * 1024 * 1024,
    maxPendingReads,
    leaseTicks,
    unsafe: {
      commitOldTerms: unsafe.commitOldTerms,
      skipReadQuorum: false,
      staleReadAcks: unsafe.staleReadAcks,
      ignoreLostFollowerLog: unsafe.ignoreLostFollowerLog,
      forgetLeaseOnRestart: unsafe.forgetLeaseOnRestart,
      leaseAfterHandover: unsafe.leaseAfterHandover,
      confChangeBeforeTermCommit: unsafe.confChangeBeforeTermCommit,
      configOnCommit: unsafe.configOnCommit,
      snapshotPastCommit: unsafe.snapshotPastCommit,
      keepLogOnInstall: unsafe.keepLogOnInstall,
    },
    parallelLeaderAppend: true,
    commitNoticeAtTick: true,
    // Issue 18: absent = the core's defaults (node/raft/compaction.ts), the one source of them.
    ...(config.snapshotEveryEntries !== undefined ? { snapshotEveryEntries: config.snapshotEveryEntries } : {}),
    ...(config.snapshotEveryBytes !== undefined ? { snapshotEveryBytes: config.snapshotEveryBytes } : {}),
    ...(config.snapshotTrailingEntries !== undefined ? { snapshotTrailingEntries: config.snapshotTrailingEntries } : {}),
  };
}

export class NodeHost {
  readonly id: NodeId;
  private readonly config: ClusterConfig;
  /** The largest entry data an AppendEntries can carry (codec.ts maxEntryDataBytes): a bigger command is refused. */
  private readonly maxEntryDataBytes: number;
  /** io.clock.monotonicMs() when start() ran: the status's uptimeMs. */
  private startedAtMs = 0;
  private readonly unsafe: UnsafeFlags;
  private readonly io: HostIo;
  private readonly observer: HostObserver | undefined;
  private readonly probe: LatencyProbe | undefined;
  private readonly core: RaftNode;
  /** Replaced whole when a snapshot from the leader is installed (Ready step 3). */
  private kv: KvStateMachine;
  private readonly kvOptions: KvStateMachineOptions;
  private readonly snapshots: LocalSnapshots;
  private readonly streamer: SnapshotStreamer;
  private readonly assembler: SnapshotAssembler;
  /** Assembled snapshots stepped into the core, by `index@term`, until a Ready's snapshotToInstall names one. */
  private readonly stagedInstalls = new Map<string, StagedInstall>();
  /** Since this process started (node status). */
  private snapshotsTaken = 0;
  private snapshotsInstalled = 0;
  /**
   * An own snapshot was saved: the log on disk may be compacted, between
   * Readies (never beside a persist). How far is decided when it runs: an
   * installed snapshot saved meanwhile may have compacted further already.
   */
  private compactionDue = false;
  private readonly pendingWrites = new Map<string, PendingWrite>(); // by clientId
  private readonly pendingWriteByIndex = new Map<number, PendingWrite>();
  private readonly pendingReads = new Map<string, PendingRead>(); // by requestId
  private readonly pendingAdmin = new Map<string, PendingAdmin>(); // by requestId
  /** Client requests waiting for a leader instead of a redirect now (node/held-requests.ts). */
  private readonly held = new HeldRequests<ReplyAddress>();
  /** Fires when the earliest held request's wait runs out, or at once to dispatch them to a new leader. */
  private heldTimer: TimerId | null = null;
  private heldTimerAtMs = 0;
  /** Answers to admin changes already decided, by requestId, so a retry is answered rather than proposed again (bounded, oldest out). */
  private readonly adminAnswers = new Map<string, AdminOutcome>();
  /** RaftNode.acceptedPeers' last answer (undefined: not asked yet). */
  private lastPeers: readonly NodeId[] | null | undefined = undefined;
  /** The peers the transport was last told to hear (RaftNode.acceptedPeers), as a comparable key. */
  private lastPeersKey: string | undefined = undefined;
  private started = false;
  /** When the next tick is due, on the clock's monotonic timeline. */
  private nextTickAtMs = 0;
  private wakeTimer: TimerId | null = null;
  private wakeAtMs = 0;
  private draining = false;
  /** The leader's own log write in flight (appendInBackground), or null. */
  private leaderWrite: Promise<void> | null = null;
  /** Entries from Readies taken while `leaderWrite` runs: the next write. */
  private leaderWriteNext: Entry[] = [];
  /** Loop continuations waiting for the pipeline to empty (at most one: the loop waits for itself). */
  private readonly pipelineEmptyWaiters: (() => void)[] = [];
  private stopped = false;
  private lastRole: Role = 'follower';
  private lastTerm = 0;
  private lastLeader: NodeId | null = null;
  private lastLogIndex = 0;
  private readSeq = 0;
  /** The removal this host already reported through onRemoved (at most once). */
  private removalReported: Removal | null = null;
  /**
   * This node learnt that a committed configuration removed it (RaftNode.removal,
   * dissertation §4.2.2): the real binary exits with NODE_EXIT.removed
   * (node/main.ts). Called once, after the Ready that carried the news was
   * persisted and sent. The default only logs: the simulator's hosts stay up
   * (the core no longer campaigns).
   */
  onRemoved: (removal: Removal) => void = () => undefined;
  /** A snapshot stream to `peer` gave up unacknowledged (SnapshotStreamer: the stream ends as failed). Default: nothing. */
  onSnapshotStreamGaveUp: (peer: NodeId, ackedChunks: number, chunks: number) => void = () => undefined;
  /** A fatal error in the effect loop (e.g. fsync failed): the node must stop, never continue unpersisted. */
  onFatal: (error: unknown) => void = (error) => {
    throw error;
  };

  constructor(options: HostOptions) {
    this.id = options.id;
    this.config = options.config;
    this.maxEntryDataBytes = maxEntryDataBytes(options.config.cluster);
    this.unsafe = options.unsafe;
    this.io = options.io;
    this.observer = options.io.observe;
    this.probe = options.io.probe;
    const maxSessions = options.maxSessions ?? options.config.maxSessions;
    this.kvOptions = {
      ...(maxSessions !== undefined ? { maxSessions } : {}),
      ...(options.unsafe.ignoreSessionExpiry ? { ignoreSessionMode: true } : {}),
    };
    this.kv = new KvStateMachine(this.kvOptions);
    const start = options.snapshots ?? emptySnapshotStart();
    const restored = start.restored;
    if (restored !== null) {
      // §7: a restart loads the snapshot into the state machine and replays the log after it.
      const r = this.kv.restoreSnapshot(restored.data.toString('utf8'));
      if (!r.ok)
        throw new SnapshotRestoreError(
          `snapshot ${restored.meta.index}@${restored.meta.term} does not restore the state machine: ${r.error}`,
        );
      if (this.kv.lastApplied !== restored.meta.index) {
        throw new SnapshotRestoreError(
          `snapshot ${restored.meta.index}@${restored.meta.term} holds a state machine at index ${this.kv.lastApplied}`,
        );
      }
    }
    this.snapshots = new LocalSnapshots(start);
    const raftConfig = raftConfigFor(options.id, options.config, options.unsafe, options.joining === true);
    const skipReadQuorum = options.coreUnsafe?.skipReadQuorum === true;
    this.core = new RaftNode(
      skipReadQuorum ? { ...raftConfig, unsafe: { ...raftConfig.unsafe, skipReadQuorum } } : raftConfig,
      { ...options.stored, snapshot: restored?.meta ?? null },
      createPrng(options.seed),
    );
    this.lastTerm = options.stored.hardState.currentTerm;
    const last = options.stored.entries[options.stored.entries.length - 1];
    this.lastLogIndex = Math.max(last?.index ?? 0, restored?.meta.index ?? 0);
    const io = options.io;
    this.streamer = new SnapshotStreamer(
      {
        clock: io.clock,
        // Its own stream of the seed (the core's draws stay what they were): retransmission jitter only.
        prng: createPrng((options.seed ^ 0x5a17c4) >>> 0),
        sendChunk: (to, chunk) => io.sendSnapshotMessage?.(to, chunk),
        report: (peer, outcome) => {
          if (this.stopped) return;
          this.core.reportSnapshot(peer, outcome);
          this.drain();
          this.armWake();
        },
        gaveUp: (peer, acked, chunks) => this.onSnapshotStreamGaveUp(peer, acked, chunks),
        log: (line) => io.log(line),
      },
      options.snapshotTransfer?.streamer ?? defaultStreamerOptions,
    );
    this.assembler = new SnapshotAssembler(
      options.id,
      {
        currentTerm: () => this.core.status().currentTerm,
        sendAck: (to, ack) => io.sendSnapshotMessage?.(to, ack),
        onAssembled: (snapshot) => this.onAssembled(snapshot),
        log: (line) => io.log(line),
      },
      options.snapshotTransfer?.assembler ?? defaultAssemblerOptions,
    );
  }

  start(): void {
    assert(!this.started, 'host started twice');
    this.started = true;
    this.startedAtMs = this.io.clock.monotonicMs();
    this.nextTickAtMs = this.startedAtMs + this.config.tickMs;
    this.armWake();
    this.updatePeers();
    this.io.log(`started term=${this.lastTerm} lastLogIndex=${this.lastLogIndex}`);
  }

  /** Tells the transport whom to hear, when that changed (dissertation §4.1, §4.2.3). */
  private updatePeers(): void {
    if (this.io.setPeers === undefined) return;
    const peers = this.core.acceptedPeers();
    if (peers === this.lastPeers) return; // the core returns the same array until its answer changes
    this.lastPeers = peers;
    const key = peers === null ? '*' : peers.join(',');
    if (key === this.lastPeersKey) return;
    if (this.lastPeersKey !== undefined)
      this.io.log(`peers heard: ${peers === null ? 'any node of the address book' : peers.join(', ') || 'none'}`);
    this.lastPeersKey = key;
    this.io.setPeers(peers);
  }

  stop(): void {
    this.stopped = true;
    if (this.wakeTimer !== null) this.io.clock.clearTimer(this.wakeTimer);
    this.wakeTimer = null;
    if (this.heldTimer !== null) this.io.clock.clearTimer(this.heldTimer);
    this.heldTimer = null;
    this.held.clear();
    this.streamer.stop();
  }

  // Logical time (§5.2: election timeouts, heartbeats; thesis §6.2: check-quorum).
  //
  // Tick k is due at start + k·tickMs on the clock's monotonic timeline, and
  // the core gets every due tick, in order, before any input (catchUpTicks).
  // Between inputs the host sleeps until the next tick that may act
  // (RaftNode.ticksUntilDue) instead of waking every tickMs: a follower wakes
  // about once per election timeout, a leader once per heartbeat. The core
  // sees the same ticks and steps in the same order as with a timer per tick.

  /** Runs the ticks that are due by now (or by `wakeAtMs`, when a wake-up timer fired a hair early). */
  private catchUpTicks(atLeastMs = 0): void {
    const tickMs = this.config.tickMs;
    const now = Math.max(this.io.clock.monotonicMs(), atLeastMs);
    if (this.nextTickAtMs > now) return;
    let idle = this.core.ticksUntilDue() - 1;
    let readyBefore = this.core.hasReady();
    while (this.nextTickAtMs <= now) {
      this.core.tick();
      this.nextTickAtMs += tickMs;
      if (idle > 0) {
        idle--;
        // ticksUntilDue promised this tick only moves counters; output here means the sleep was too long.
        if (!readyBefore && this.core.hasReady()) assertionFailed(`a tick RaftNode.ticksUntilDue called idle produced output (${this.id})`);
        continue;
      }
      if (this.nextTickAtMs <= now && this.core.hasReady()) {
        // A late wake-up (a paused or overloaded process): after the first
        // tick that acted, the rest of the backlog is dropped, as a late
        // per-tick timer would drop it, so the core acts once per wake-up
        // rather than once per lost interval (a burst of elections or heartbeats).
        // The core is still told how much time it slept through: its lease
        // clock must not lose it (a paused leader would keep serving reads
        // on a lease that ran out while it slept).
        const droppedTicks = Math.floor((now - this.nextTickAtMs) / tickMs) + 1;
        this.nextTickAtMs = now + tickMs;
        if (!this.unsafe.leaseAfterPause) this.core.elapse(droppedTicks);
        return;
      }
      idle = this.core.ticksUntilDue() - 1;
      readyBefore = this.core.hasReady();
    }
  }

  /** Sets the wake-up timer for the next tick that may act, unless one is already set no later. */
  private armWake(): void {
    if (this.stopped) return;
    const dueAtMs = this.nextTickAtMs + (this.core.ticksUntilDue() - 1) * this.config.tickMs;
    if (this.wakeTimer !== null) {
      if (this.wakeAtMs <= dueAtMs) return; // an early wake-up is harmless: it catches up and sleeps again
      this.io.clock.clearTimer(this.wakeTimer);
    }
    this.wakeAtMs = dueAtMs;
    this.wakeTimer = this.io.clock.setTimer(this.wake, Math.max(0, dueAtMs - this.io.clock.monotonicMs()));
  }

  private readonly wake = (): void => {
    this.wakeTimer = null;
    if (this.stopped) return;
    this.catchUpTicks(this.wakeAtMs);
    this.drain();
    this.armWake();
  };

  onPeerMessage(message: RaftMessage): void {
    if (this.stopped) return;
    if (this.probe !== undefined) this.markPeerArrival(this.probe, message);
    this.catchUpTicks();
    // A follower we stream a snapshot to answers: it is reachable, so a stream backed off while it was gone resends now.
    if (message.type === 'append_entries_response') this.streamer.peerHeard(message.from);
    this.core.step(message);
    this.drain();
    if (!this.draining) this.reportRemoval();
    this.armWake();
  }

  /** A snapshot chunk (this node follows) or an ack of one (this node streams), from the endpoint. */
  onSnapshotMessage(message: SnapshotTransferMessage): void {
    if (this.stopped) return;
    this.catchUpTicks();
    switch (message.type) {
      case 'snapshot_chunk':
        this.assembler.onChunk(message);
        break;
      case 'snapshot_ack':
        this.streamer.onAck(message);
        break;
      default:
        assertNever(message, 'snapshot transfer message');
    }
    this.drain();
    this.armWake();
  }

  /**
   * A whole snapshot from the leader, checksum verified (assembler.ts). It is
   * decoded into a fresh state machine now, so a snapshot that does not
   * decode is refused before anything durable happens; then the
   * InstallSnapshot goes into the core, which decides whether to install it
   * (Ready.snapshotToInstall) or only learns the commit.
   */
  private onAssembled(assembled: AssembledSnapshot): string | null {
    const { meta } = assembled;
    if (meta.index > this.core.status().commitIndex) {
      const kv = new KvStateMachine(this.kvOptions);
      const restored = kv.restoreSnapshot(assembled.data.toString('utf8'));
      if (!restored.ok) return `it does not decode as this state machine's snapshot: ${restored.error}`;
      if (kv.lastApplied !== meta.index)
        return `it holds a state machine at index ${kv.lastApplied}, not at the snapshot's index ${meta.index}`;
      const key = snapshotKey(meta);
      this.stagedInstalls.delete(key);
      if (this.stagedInstalls.size >= maxStagedInstalls) {
        const oldest = this.stagedInstalls.keys().next().value;
        if (oldest !== undefined) this.stagedInstalls.delete(oldest);
      }
      this.stagedInstalls.set(key, { snapshot: snapshotBytes(meta, assembled.data), kv });
    }
    const message: InstallSnapshot = {
      type: 'install_snapshot',
      term: assembled.term,
      from: assembled.from,
      to: this.id,
      seq: assembled.seq,
      snapshot: meta,
    };
    this.core.step(message);
    return null;
  }

  onClientMessage(message: ClientMessage, replyTo: ReplyAddress): void {
    if (this.stopped) return;
    this.catchUpTicks();
    switch (message.type) {
      case 'client_request':
        this.onClientRequest(message, replyTo);
        break;
      case 'status_request':
        this.io.sendClient(replyTo, { type: 'status_response', requestId: message.requestId, status: this.status() });
        break;
      case 'client_response':
      case 'status_response':
      case 'retry':
        // Answers are for clients; a node receiving one ignores it.
        break;
      default:
        assertNever(message, 'client message');
    }
    this.drain(); // a caught-up tick may have acted even when the request did not reach the core
    this.armWake();
  }

  /**
   * A membership admin request (node/admin-client.ts). Only the leader
   * changes the configuration (dissertation §4.1), one server at a time; a
   * change is answered when its entry is committed. A retry of a change
   * (same requestId) is answered from the change in flight or its remembered
   * answer, never proposed twice.
   */
  onAdminMessage(request: AdminRequest, replyTo: ReplyAddress): void {
    if (this.stopped) return;
    this.catchUpTicks();
    const command = request.command;
    const soft = this.core.status();
    const answer = (outcome: AdminOutcome): void =>
      this.io.sendAdmin?.(replyTo, { type: 'admin_response', requestId: request.requestId, outcome });
    if (command.type === 'status') {
      answer(
        soft.role === 'leader' ? { status: 'ok', membership: this.membership() } : { status: 'not_leader', leaderHint: soft.leaderId },
      );
      this.drain();
      this.armWake();
      return;
    }
    const remembered = this.adminAnswers.get(request.requestId);
    const pending = this.pendingAdmin.get(request.requestId);
    if (remembered !== undefined) {
      answer(remembered);
    } else if (pending !== undefined && soft.role === 'leader') {
      pending.replyTo = replyTo; // answered when its entry commits
    } else if (soft.role !== 'leader') {
      answer({ status: 'not_leader', leaderHint: soft.leaderId });
    } else if (command.type === 'add' && !addressBook(this.config).some((n) => n.id === command.node)) {
      answer({
        status: 'refused',
        message:
          `${command.node} has no address: list it (id, host, port) in "spareNodes" of the config file of every node ` +
          `(restarting each with the new file, one at a time), then start it with --join`,
      });
    } else if (this.pendingAdmin.size >= maxPendingAdmin) {
      answer({ status: 'unavailable', reason: 'overloaded' });
    } else if (command.type === 'remove' && command.node === this.id && this.handOverBeforeRemoval(soft.configuration)) {
      // Not definite and nothing proposed: the admin retries, and the new leader proposes the removal.
      answer({ status: 'unavailable', reason: 'leadership_transfer' });
    } else {
      const change =
        command.type === 'add'
          ? ({ type: 'add_learner', node: command.node } as const)
          : command.type === 'promote'
            ? ({ type: 'promote', node: command.node } as const)
            : ({ type: 'remove', node: command.node } as const);
      const result = this.core.proposeConfChange(change);
      if (!result.ok) {
        // A transient refusal (a leader new in its term, a transfer under way) is not definite: the admin retries it.
        answer(
          result.reason === 'not_leader'
            ? { status: 'not_leader', leaderHint: result.leaderHint }
            : result.transient
              ? { status: 'unavailable', reason: `not_ready: ${result.detail}` }
              : { status: 'refused', message: result.detail },
        );
      } else {
        const what = describeConfChange(change);
        this.io.log(`admin: proposed ${what} at index ${result.index} (term ${result.term})`);
        this.pendingAdmin.set(request.requestId, { requestId: request.requestId, index: result.index, term: result.term, what, replyTo });
      }
    }
    this.drain();
    this.armWake();
  }

  /**
   * The leader asked to remove itself hands leadership over first (thesis
   * §3.10, as §4.2.2 suggests): were it to commit its own removal, the others
   * stop hearing it at once (they only hear members), its hand-over with them,
   * and the cluster waits out an election timeout with no leader. Instead the
   * most caught-up other voter is made leader and proposes the removal when
   * the admin retries. False when there is no other voter to hand to.
   */
  private handOverBeforeRemoval(configuration: Configuration): boolean {
    const target = handOverTarget(this.id, configuration, (id) => this.core.progressOf(id)?.matchIndex ?? 0);
    if (target === null) return false;
    this.io.log(`admin: remove ${this.id} asked of the leader itself: handing leadership to ${target} first (§3.10)`);
    this.core.transferLeadership(target);
    return true;
  }

  /** The configuration in effect and each member's progress, as this node (the leader) sees it. */
  private membership(): MembershipStatus {
    const soft = this.core.status();
    const { voters, learners } = soft.configuration;
    const members = [...voters, ...learners].map((id) => {
      const progress = id === this.id ? null : this.core.progressOf(id);
      return {
        id,
        role: isVoter(soft.configuration, id) ? ('voter' as const) : ('learner' as const),
        matchIndex: id === this.id ? soft.lastLogIndex : (progress?.matchIndex ?? 0),
        caughtUp: id === this.id ? true : (progress?.caughtUp ?? false),
      };
    });
    return {
      leaderId: soft.leaderId ?? this.id,
      term: soft.currentTerm,
      commitIndex: soft.commitIndex,
      lastLogIndex: soft.lastLogIndex,
      voters: [...voters],
      learners: [...learners],
      configurationCommitted: this.core.configurationCommitted(),
      members,
    };
  }

  /** A config entry commits: the admin request that proposed it (same index and term) is done; another at its index replaced it. */
  private answerAdminAt(entry: Entry): void {
    for (const pending of this.pendingAdmin.values()) {
      if (pending.index !== entry.index) continue;
      this.pendingAdmin.delete(pending.requestId);
      const outcome: AdminOutcome =
        entry.term === pending.term ? { status: 'ok', membership: this.membership() } : { status: 'unavailable', reason: 'entry_replaced' };
      this.io.log(`admin: ${pending.what} at index ${pending.index}: ${outcome.status === 'ok' ? 'committed' : 'replaced'}`);
      this.rememberAdmin(pending.requestId, outcome);
      this.io.sendAdmin?.(pending.replyTo, { type: 'admin_response', requestId: pending.requestId, outcome });
    }
  }

  private rememberAdmin(requestId: string, outcome: AdminOutcome): void {
    if (this.adminAnswers.size >= maxAdminAnswers) {
      const oldest = this.adminAnswers.keys().next().value;
      if (oldest !== undefined) this.adminAnswers.delete(oldest);
    }
    this.adminAnswers.set(requestId, outcome);
  }

  /** A deposed leader cannot tell whether its change will commit: not definite, the admin asks `status`. */
  private failAdminOnStepDown(): void {
    for (const pending of this.pendingAdmin.values()) {
      this.io.sendAdmin?.(pending.replyTo, {
        type: 'admin_response',
        requestId: pending.requestId,
        outcome: { status: 'unavailable', reason: 'leadership_lost' },
      });
    }
    this.pendingAdmin.clear();
  }

  /**
   * What this node answers `request` without doing anything, if it has such
   * an answer: a node that is not the leader redirects a client to the
   * leader it knows (§8). Null when it would act on the request (as leader,
   * or reading locally under --unsafe-local-reads). The wire answers a
   * request not yet validated with this, as it changes nothing
   * (node/transport/node-endpoint.ts).
   */
  redirectOf(request: ClientRequest): ClientOutcome | null {
    if (this.stopped || (this.unsafe.localReads && request.op.type === 'get')) return null;
    const soft = this.core.status();
    if (soft.role === 'leader') return null;
    // A request that would be held waits for its validated resend (a retry token), where it can be.
    if (wantsHold(request, soft.role, soft.leaderId) && this.held.size < MAX_HELD_REQUESTS) return null;
    return { status: 'not_leader', leaderHint: soft.leaderId };
  }

  /** Holds a request until this node learns a leader other than the one it names, or its wait runs out; false when full. */
  private hold(request: ClientRequest, replyTo: ReplyAddress): boolean {
    if (!this.held.hold(request, replyTo, this.io.clock.monotonicMs())) return false;
    this.armHeldTimer(this.held.nextReleaseAtMs()!);
    return true;
  }

  private armHeldTimer(atMs: number): void {
    if (this.stopped) return;
    if (this.heldTimer !== null) {
      if (this.heldTimerAtMs <= atMs) return;
      this.io.clock.clearTimer(this.heldTimer);
    }
    this.heldTimerAtMs = atMs;
    this.heldTimer = this.io.clock.setTimer(this.onHeldTimer, Math.max(0, atMs - this.io.clock.monotonicMs()));
  }

  /**
   * Held requests go on: those whose wait ran out, answered as they would
   * have been at once; then, once this node leads or knows a leader, those
   * that do not avoid it, dispatched again (served here or redirected to it).
   */
  private readonly onHeldTimer = (): void => {
    this.heldTimer = null;
    if (this.stopped) return;
    this.catchUpTicks();
    // A timer may fire a hair early by the clock's reading: it was set for heldTimerAtMs.
    const now = Math.max(this.io.clock.monotonicMs(), this.heldTimerAtMs);
    for (const h of this.held.expired(now)) this.answerUnheld(h.request, h.replyTo);
    const soft = this.core.status();
    const leader = soft.role === 'leader' ? this.id : soft.leaderId;
    if (leader !== null) for (const h of this.held.takeFor(leader, now)) this.onClientRequest(h.request, h.replyTo);
    const next = this.held.nextReleaseAtMs();
    if (next !== null) this.armHeldTimer(next);
    this.drain();
    this.armWake();
  };

  /** A held request whose wait ran out: dispatched without the wait (answered as it would have been at once). */
  private answerUnheld(request: ClientRequest, replyTo: ReplyAddress): void {
    const { awaitLeader: _, ...unheld } = request;
    this.onClientRequest(unheld, replyTo);
  }

  status(): NodeStatus {
    const soft = this.core.status();
    const clock = this.io.clock;
    const clockState =
      'state' in clock && typeof (clock as { state?: unknown }).state === 'function'
        ? (clock as unknown as { state(): { nowMs: number; offsetMs: number; rate: number } }).state()
        : { nowMs: clock.nowMs(), offsetMs: 0, rate: 1 };
    return {
      id: this.id,
      role: soft.role,
      currentTerm: soft.currentTerm,
      votedFor: soft.votedFor,
      leaderId: soft.leaderId,
      commitIndex: soft.commitIndex,
      lastApplied: this.kv.lastApplied,
      lastLogIndex: soft.lastLogIndex,
      clock: clockState,
      dropped: this.io.droppedCounts(),
      unsafe: unsafeNames(this.unsafe),
      snapshots: this.snapshotStatus(soft.firstIndex),
      configuration: { voters: [...soft.configuration.voters], learners: [...soft.configuration.learners] },
      uptimeMs: Math.max(0, Math.floor(this.io.clock.monotonicMs() - this.startedAtMs)),
      ...this.runQueueWait(),
    };
  }

  private runQueueWait(): { runQueueWaitMs?: number } {
    const ms = this.io.runQueueWaitMs?.() ?? null;
    return ms === null ? {} : { runQueueWaitMs: Math.floor(ms) };
  }

  /** The digest of the replicated state as applied so far (protocol.ts StateDigest). */
  stateDigest(): StateDigest {
    return { appliedIndex: this.kv.lastApplied, sha256: createHash('sha256').update(this.kv.encodeSnapshot()).digest('hex') };
  }

  private snapshotStatus(firstIndex: number): SnapshotStatus {
    const latest = this.snapshots.latest();
    return {
      firstIndex,
      latest: latest === null ? null : { index: latest.meta.index, term: latest.meta.term, bytes: latest.data.length },
      taken: this.snapshotsTaken,
      installed: this.snapshotsInstalled,
    };
  }

  /** The state machine, for the simulator's invariant checks. */
  stateMachine(): KvStateMachine {
    return this.kv;
  }

  raft(): RaftNode {
    return this.core;
  }

  private reply(to: ReplyAddress, request: ClientRequest, outcome: ClientOutcome): void {
    this.io.sendClient(to, { type: 'client_response', clientId: request.clientId, seq: request.seq, outcome });
  }

  private onClientRequest(request: ClientRequest, replyTo: ReplyAddress): void {
    const invalid = validateOp(request.op, this.config);
    if (invalid !== null) {
      this.reply(replyTo, request, invalid);
      return;
    }
    const op = request.op;
    const mode = request.session;
    // A get that opens a session is logged like a write (dissertation §6.3's registration); any other is a read.
    if (op.type === 'get' && mode !== 'open') {
      this.onRead({ ...request, op }, replyTo);
      return;
    }
    if (mode === 'open' && op.type !== 'get') {
      this.reply(replyTo, request, { status: 'invalid', code: 'malformed', message: `a session is opened by a get, not a ${op.type}` });
      return;
    }
    // Like validateOp's limits, a definite answer on any node: the entry this write would be must fit a datagram.
    const data = encodeCommand({
      clientId: request.clientId,
      instance: request.instance,
      seq: request.seq,
      op,
      ...(mode === undefined ? {} : { session: mode }),
    });
    const tooLarge = checkStoredCommand(op, Buffer.byteLength(data, 'utf8'), this.maxEntryDataBytes);
    if (tooLarge !== null) {
      this.reply(replyTo, request, tooLarge);
      return;
    }
    // Exactly-once (dissertation §6.3): a retry of a write that was already
    // applied gets the remembered result, without proposing it again; a
    // request the session refuses gets its definite error at once.
    const session = this.kv.sessionCheck(request.clientId, request.instance, request.seq, new LazyDigest(op), mode);
    switch (session.kind) {
      case 'new':
      // Only the apply decides that a session has expired: this node's state may lag the log (a follower, a leader
      // still applying), where the open that this write follows is committed but not yet applied.
      case 'expired':
        break;
      case 'duplicate':
        this.reply(replyTo, request, session.result);
        return;
      case 'stale':
      case 'conflict':
        this.reply(replyTo, request, sessionRejection(request.clientId, request.seq, session));
        return;
      default:
        assertNever(session, 'session check');
    }
    const pending = this.pendingWrites.get(request.clientId);
    if (
      pending !== undefined &&
      pending.instance === request.instance &&
      pending.seq === request.seq &&
      this.core.status().role === 'leader'
    ) {
      pending.replyTo = replyTo; // already proposed here; answer when it applies
      return;
    }
    // Only a request that asked to wait costs a status here (this is every write's path).
    if (request.awaitLeader !== undefined) {
      const soft = this.core.status();
      if (wantsHold(request, soft.role, soft.leaderId) && this.hold(request, replyTo)) return;
    }
    if (this.pendingWriteByIndex.size >= maxPendingWrites) {
      this.reply(replyTo, request, { status: 'unavailable', reason: 'overloaded' });
      return;
    }
    const result = this.core.propose(data);
    if (!result.ok) {
      if (result.reason === 'not_leader') this.reply(replyTo, request, { status: 'not_leader', leaderHint: result.leaderHint });
      else this.reply(replyTo, request, { status: 'unavailable', reason: result.reason });
      return;
    }
    if (pending !== undefined) this.pendingWriteByIndex.delete(pending.index);
    // The breakdown is of writes: a session's open (once per client) is not one (bench/latency-breakdown.ts skips an
    // index it never saw arrive).
    if (this.probe !== undefined && mode !== 'open') {
      this.probe.mark(STAGE.client_request, result.index, this.probe.arrivedAtMs);
      this.probe.mark(STAGE.propose, result.index);
    }
    const entry: PendingWrite = { clientId: request.clientId, instance: request.instance, seq: request.seq, index: result.index, replyTo };
    this.pendingWrites.set(request.clientId, entry);
    this.pendingWriteByIndex.set(result.index, entry);
    this.drain();
  }

  private onRead(request: ClientRequest & { op: { type: 'get' } }, replyTo: ReplyAddress): void {
    if (this.unsafe.localReads) {
      // --unsafe-local-reads: answer from whatever this node has applied.
      this.reply(replyTo, request, { status: 'ok', value: this.kv.read(request.op.key) });
      return;
    }
    const soft = this.core.status();
    if (soft.role !== 'leader') {
      if (wantsHold(request, soft.role, soft.leaderId) && this.hold(request, replyTo)) return;
      this.reply(replyTo, request, { status: 'not_leader', leaderHint: soft.leaderId });
      return;
    }
    if (this.pendingReads.size >= maxPendingReads) {
      this.reply(replyTo, request, { status: 'unavailable', reason: 'overloaded' });
      return;
    }
    const seq = ++this.readSeq;
    const requestId = `${this.id}:${seq}`;
    if (this.probe !== undefined) this.probe.mark(STAGE.read_request, seq, this.probe.arrivedAtMs);
    this.pendingReads.set(requestId, { request, replyTo, readIndex: null, seq });
    this.core.readIndex(requestId);
    this.drain();
  }

  /** True while the effect loop is running and not waiting on storage (the simulator settles on this). */
  busy(): boolean {
    return this.draining;
  }

  /**
   * Takes Readies until the core has nothing more, one at a time. While a
   * persist is in flight, new inputs accumulate in the core and come out in
   * the next Ready, so one fsync covers all of them (group commit).
   *
   * A Ready with nothing durable in it (a heartbeat answer, an idle tick) is
   * handled synchronously; the loop only leaves the current call stack to
   * wait for storage. It is a plain loop rather than an async function: an
   * async call allocates a promise and queues a reaction even when it never
   * awaits, and this runs for nearly every datagram a node receives.
   */
  private drain(): void {
    if (this.draining || this.stopped || (!this.core.hasReady() && !this.compactionDue)) return;
    this.draining = true;
    if (this.io.defer !== undefined) this.io.defer(this.drainReadies);
    else this.drainReadies();
  }

  /** The drain loop; `draining` is true on entry and stays true while a persist (or the pipeline, see appendInBackground) is awaited. */
  private readonly drainReadies = (): void => {
    try {
      while (!this.stopped) {
        if (this.compactionDue && this.leaderWrite !== null) {
          // RaftStorage.compact's contract: no persist in flight.
          this.whenPipelineEmpty(this.drainReadies);
          return;
        }
        const compaction = this.compactionDue ? this.snapshots.ownCompaction() : null;
        this.compactionDue = false;
        if (compaction !== null) {
          // Between Readies, so no persist is in flight (RaftStorage.compact's contract).
          this.io.storage.compact(compaction.firstIndex, compaction.prevTerm).then(
            () => {
              if (this.stopped) {
                this.draining = false;
                return;
              }
              this.snapshots.compacted(compaction);
              this.drainReadies();
            },
            (error: unknown) => this.fail(error),
          );
          return;
        }
        if (!this.core.hasReady()) break;
        const ready = this.core.ready();
        if (this.observer?.ready !== undefined) this.observer.ready(ready);
        if (this.probe !== undefined) for (const entry of ready.committedEntries) this.probe.mark(STAGE.commit, entry.index);
        if (ready.hardState === null && ready.softState.role === 'leader' && ready.snapshotToInstall === null) {
          // Thesis §10.2.1: a leader's messages only carry its own entries, so
          // they leave now and its own write runs beside the loop; the core
          // counts the leader's copy only after persisted() (see Ready).
          this.sendPeers(ready.messages);
          this.appendInBackground(ready.entriesToAppend);
          this.finishReady(ready, true);
          continue;
        }
        if (this.leaderWrite !== null) {
          // Persists reach the storage in Ready order: this one after the pipeline's.
          this.whenPipelineEmpty(() => {
            if (this.stopped) {
              this.draining = false;
              return;
            }
            try {
              if (!this.persistThenFinish(ready)) this.drainReadies();
            } catch (error) {
              this.fail(error);
            }
          });
          return;
        }
        if (this.persistThenFinish(ready)) return; // still draining: the continuation resumes the loop once the write is durable
      }
      this.draining = false;
    } catch (error) {
      this.fail(error);
    }
  };

  /**
   * Persists `ready` and then finishes it (sends, applies, serves reads).
   * Returns true when it waits for storage: the continuation resumes the
   * loop. False when the Ready held nothing durable and is finished already.
   */
  private persistThenFinish(ready: Ready): boolean {
    const persisting = this.persist(ready);
    if (persisting === null) {
      this.finishReady(ready, false);
      return false;
    }
    persisting.then(
      () => {
        if (this.stopped) {
          this.draining = false;
          return;
        }
        try {
          this.finishReady(ready, false);
        } catch (error) {
          this.fail(error);
          return;
        }
        this.drainReadies();
      },
      (error: unknown) => this.fail(error),
    );
    return true;
  }

  /**
   * The leader's own log writes, pipelined (thesis §10.2.1; etcd's
   * AsyncStorageWrites): the effect loop goes on (sends, applies entries a
   * quorum of followers made durable, serves reads) while the write runs
   * with its fsync off the event loop (PersistOptions.inBackground), and the
   * core hears `persisted` when it is durable. Entries of Readies taken
   * meanwhile wait in `leaderWriteNext` and go in one write after it (group
   * commit). Anything else that touches the disk (a Ready with a hard state
   * or from a non-leader, a compaction) waits until the pipeline is empty, so
   * the storage still sees every persist in Ready order.
   *
   * Why: with the fsync on the event loop the leader could not read its
   * followers' acknowledgements for ~1.1 ms per write, though a quorum of
   * followers commits without it (issue 15's throughput measurements).
   */
  private appendInBackground(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    if (this.leaderWrite !== null) {
      for (const entry of entries) this.leaderWriteNext.push(entry);
      return;
    }
    this.startLeaderWrite(entries);
  }

  private startLeaderWrite(entries: readonly Entry[]): void {
    const last = entries[entries.length - 1]!.index;
    const probe = this.probe;
    if (probe !== undefined) for (const entry of entries) probe.mark(STAGE.persist_start, entry.index);
    this.leaderWrite = this.io.storage.persist(null, entries, { inBackground: true }).then(
      () => {
        this.lastLogIndex = last;
        if (probe !== undefined) for (const entry of entries) probe.mark(STAGE.persist_end, entry.index);
        if (this.stopped) return;
        try {
          const next = this.leaderWriteNext;
          if (next.length > 0) {
            this.leaderWriteNext = [];
            this.startLeaderWrite(next);
          } else {
            this.leaderWrite = null;
          }
          // Before any waiting Ready is taken: a Ready that truncates the log
          // (a follower again) comes only after this, and the core caps
          // persisted() at what it has handed out.
          this.core.persisted(last);
          if (this.leaderWrite === null) for (const resume of this.pipelineEmptyWaiters.splice(0)) resume();
        } catch (error) {
          this.fail(error);
          return;
        }
        this.drain();
      },
      (error: unknown) => this.fail(error),
    );
  }

  /** Runs `resume` once no leader write is in flight (the loop is still draining meanwhile). */
  private whenPipelineEmpty(resume: () => void): void {
    assert(this.leaderWrite !== null, 'waits only for a pipeline that is busy');
    this.pipelineEmptyWaiters.push(resume);
  }

  /** The rest of a Ready once what it made durable is on disk: send (unless sent first), apply, serve reads. */
  private finishReady(ready: Ready, sentFirst: boolean): void {
    this.core.persisted(this.lastLogIndex);
    if (!sentFirst) this.sendPeers(ready.messages);
    // Indexed loops over a Ready's lists here and below: an empty one is the core's shared frozen array, and
    // for...of over a frozen array is not optimised (V8 11: an iterator result allocated per step, ~10x slower).
    const sends = ready.snapshotsToSend;
    for (let i = 0; i < sends.length; i++) this.startStream(sends[i]!);
    if (ready.snapshotToInstall !== null) this.restoreInstalled(ready.snapshotToInstall);
    this.apply(ready.committedEntries);
    this.handleReads(ready);
    if (ready.snapshotRequest !== null) this.takeSnapshot(ready.snapshotRequest);
    // Ready step 6 (discardEntriesBefore) needs nothing here: the log on disk
    // is compacted after each own snapshot, only up to the older one (local-snapshots.ts).
    this.observe(ready);
  }

  /** Ready step 2: stream the newest durable snapshot (the one the core names) to a follower. */
  private startStream(message: InstallSnapshot): void {
    const latest = this.snapshots.latest();
    if (
      latest === null ||
      latest.meta.index !== message.snapshot.index ||
      latest.meta.term !== message.snapshot.term ||
      this.io.sendSnapshotMessage === undefined
    ) {
      this.io.log(
        `snapshot ${message.snapshot.index}@${message.snapshot.term} to ${message.to}: cannot stream it ` +
          (latest === null ? '(no durable snapshot)' : `(the newest durable snapshot is ${latest.meta.index}@${latest.meta.term})`),
      );
      this.core.reportSnapshot(message.to, 'failed');
      return;
    }
    this.streamer.start(message, latest);
  }

  /** Ready step 3 for a snapshot from the leader: its state machine (decoded when it arrived) replaces ours. */
  private restoreInstalled(meta: SnapshotMeta): void {
    const key = snapshotKey(meta);
    const staged = this.stagedInstalls.get(key);
    if (staged === undefined) assertionFailed(`${this.id}: the core installs snapshot ${key}, which this host never staged`);
    this.stagedInstalls.delete(key);
    this.kv = staged.kv;
    this.io.log(`installed snapshot ${key}: lastApplied ${this.kv.lastApplied}`);
    this.snapshotsInstalled++;
    this.observer?.snapshotInstalled?.(meta);
  }

  /**
   * Ready step 5: the state machine stands exactly at `request.index` now.
   * Serialise it (client sessions included), save it durably, and only then
   * tell the core (RaftNode.snapshotTaken) and compact the log on disk.
   * The save runs beside the effect loop; nothing is discarded before it is durable.
   */
  private takeSnapshot(request: SnapshotMeta): void {
    assert(
      this.kv.lastApplied === request.index,
      `${this.id}: snapshot requested at ${request.index}, the state machine stands at ${this.kv.lastApplied}`,
    );
    // The text is built a piece per event-loop turn (where the binary can defer) while entries go on being applied:
    // in one call a 50-80 MB state held the event loop 0.5-1.1 s and the cluster lost its leader at every snapshot
    // (kv/snapshot-writer.ts). Without `defer` (the simulator) it is built at once, as before.
    // Into one buffer sized by the state's bound on its text's bytes (no copy at the end); grown if the bound was wrong.
    let out = Buffer.allocUnsafe(this.kv.storedBytes);
    const writer = this.kv.beginSnapshot();
    const hash = createHash('sha256');
    let bytes = 0;
    const build = (): void => {
      if (this.stopped) {
        writer.abandon();
        return;
      }
      for (;;) {
        if (writer.abandoned) {
          // An installed snapshot replaced the state (it is newer: the core no longer waits for this one).
          this.io.log(`snapshot ${snapshotKey(request)} abandoned: an installed snapshot replaced the state`);
          return;
        }
        const text = writer.next(SNAPSHOT_CHARS_PER_TURN);
        if (text === null) break;
        const length = Buffer.byteLength(text, 'utf8');
        if (bytes + length > out.length) {
          this.io.log(`snapshot ${snapshotKey(request)}: text past its bound of ${out.length} bytes (a bug in stored-size.ts)`);
          const grown = Buffer.allocUnsafe(Math.max(2 * out.length, bytes + length));
          out.copy(grown, 0, 0, bytes);
          out = grown;
        }
        assert(out.write(text, bytes, 'utf8') === length, 'a snapshot piece written whole');
        hash.update(out.subarray(bytes, bytes + length));
        bytes += length;
        if (this.io.defer !== undefined) {
          this.io.defer(build);
          return;
        }
      }
      this.saveSnapshot(snapshotBytes(request, out.subarray(0, bytes), hash.digest('hex')));
    };
    build();
  }

  private saveSnapshot(snapshot: SnapshotBytes): void {
    const request = snapshot.meta;
    this.observer?.snapshotTaken?.(request);
    this.snapshots.save(snapshot).then(
      (saved) => {
        if (this.stopped || !saved) return; // not saved: a newer snapshot (an install) got there first
        this.io.log(`snapshot ${snapshotKey(request)} saved (${snapshot.data.length} bytes)`);
        this.snapshotsTaken++;
        this.core.snapshotTaken(request);
        this.compactionDue = true;
        this.drain();
        this.armWake();
      },
      (error: unknown) => this.fail(error),
    );
  }

  /** A failed persist or a broken invariant in the loop: the node stops, never continues unpersisted. */
  private fail(error: unknown): void {
    this.draining = false;
    this.stopped = true;
    this.onFatal(error);
  }

  /**
   * Starts persisting what `ready` makes durable; null when it holds nothing
   * to persist. A snapshot from the leader first (Ready step 1a): saved
   * durably, then the log compacted to it (the whole conflicting log goes),
   * then the hard state and entries.
   */
  private persist(ready: Ready): Promise<void> | null {
    const install = ready.snapshotToInstall;
    if (install === null) return this.persistLog(ready);
    const staged = this.stagedInstalls.get(snapshotKey(install));
    if (staged === undefined)
      return Promise.reject(new Error(`${this.id}: the core installs snapshot ${snapshotKey(install)}, which this host never staged`));
    return this.snapshots
      .save(staged.snapshot)
      .then((saved) => {
        assert(saved, `${this.id}: installed snapshot ${snapshotKey(install)} is not newer than one already saved`);
        const compaction = this.snapshots.installCompaction(install);
        return this.io.storage.compact(compaction.firstIndex, compaction.prevTerm).then(() => this.snapshots.compacted(compaction));
      })
      .then(() => {
        this.lastLogIndex = install.index;
        return this.persistLog(ready) ?? undefined;
      });
  }

  private persistLog(ready: Ready): Promise<void> | null {
    let hardState: HardState | null = ready.hardState;
    if (hardState !== null && this.unsafe.noPersistVote) {
      // --unsafe-no-persist-vote: the vote lives only in memory, so a restarted
      // node can vote twice in one term (§5.2 requires votedFor on stable storage).
      hardState = { currentTerm: hardState.currentTerm, votedFor: null };
    }
    if (hardState === null && ready.entriesToAppend.length === 0) return null;
    const first = ready.entriesToAppend[0];
    if (first !== undefined && first.index <= this.lastLogIndex) {
      this.io.log(`truncate log from index ${first.index} (had ${this.lastLogIndex}; conflicting suffix, §5.3)`);
    }
    const last = ready.entriesToAppend[ready.entriesToAppend.length - 1];
    const probe = this.probe;
    if (probe !== undefined) for (const entry of ready.entriesToAppend) probe.mark(STAGE.persist_start, entry.index);
    return this.io.storage.persist(hardState, ready.entriesToAppend).then(() => {
      if (last !== undefined) this.lastLogIndex = last.index;
      if (probe !== undefined) for (const entry of ready.entriesToAppend) probe.mark(STAGE.persist_end, entry.index);
    });
  }

  private apply(entries: readonly Entry[]): void {
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i]!;
      if (entry.type === 'config' && this.pendingAdmin.size > 0) this.answerAdminAt(entry);
      const applied = this.kv.apply(entry);
      if (this.observer?.applied !== undefined) this.observer.applied(entry, applied);
      if (this.probe !== undefined) this.probe.mark(STAGE.apply, entry.index);
      const pending = this.pendingWriteByIndex.get(entry.index);
      if (pending !== undefined) {
        this.pendingWriteByIndex.delete(entry.index);
        if (this.pendingWrites.get(pending.clientId) === pending) this.pendingWrites.delete(pending.clientId);
      }
      const answer = applied === null ? null : this.answerOf(applied);
      if (applied !== null && answer !== null) {
        // Reply to whoever waits for this (clientId, seq), whichever index it landed at.
        const waiting = this.pendingWrites.get(applied.clientId);
        const target =
          pending !== undefined && this.waitsFor(pending, applied)
            ? pending
            : waiting !== undefined && this.waitsFor(waiting, applied)
              ? waiting
              : undefined;
        if (target !== undefined) {
          this.io.sendClient(target.replyTo, { type: 'client_response', clientId: applied.clientId, seq: applied.seq, outcome: answer });
          if (this.probe !== undefined) this.probe.mark(STAGE.reply_send, target.index);
          if (this.pendingWrites.get(target.clientId) === target) this.pendingWrites.delete(target.clientId);
          this.pendingWriteByIndex.delete(target.index);
        }
      }
      if (
        pending !== undefined &&
        (applied === null || applied.clientId !== pending.clientId || applied.seq !== pending.seq || answer === null)
      ) {
        // Another leader's entry replaced ours at this index (§5.3): ours did
        // not happen here. The client retries with the same (clientId, seq).
        this.io.sendClient(pending.replyTo, {
          type: 'client_response',
          clientId: pending.clientId,
          seq: pending.seq,
          outcome: { status: 'unavailable', reason: 'entry_replaced' },
        });
      }
    }
    this.serveReadyReads();
  }

  /** What the client that sent an applied entry hears: its result or the session's refusal; null for a stale retry nobody waits on. */
  private answerOf(applied: ApplyResult): ClientOutcome | null {
    switch (applied.kind) {
      case 'applied':
      case 'duplicate':
        return applied.result;
      case 'conflict':
      case 'expired':
        return sessionRejection(applied.clientId, applied.seq, applied);
      case 'stale':
        return null;
      default:
        return assertNever(applied, 'apply result');
    }
  }

  /** Whether `pending` waits for the answer to `applied` (same client, seq and, for a refusal, instance). */
  private waitsFor(pending: PendingWrite, applied: ApplyResult): boolean {
    if (pending.clientId !== applied.clientId || pending.seq !== applied.seq) return false;
    return (applied.kind !== 'conflict' && applied.kind !== 'expired') || pending.instance === applied.instance;
  }

  private handleReads(ready: Ready): void {
    const states = ready.readStates;
    for (let i = 0; i < states.length; i++) {
      const state = states[i]!;
      const read = this.pendingReads.get(state.requestId);
      if (read === undefined) continue;
      read.readIndex = state.readIndex;
      if (this.probe !== undefined) this.probe.mark(STAGE.read_confirmed, read.seq);
    }
    const rejections = ready.readRejections;
    for (let i = 0; i < rejections.length; i++) {
      const rejection = rejections[i]!;
      const read = this.pendingReads.get(rejection.requestId);
      if (read === undefined) continue;
      this.pendingReads.delete(rejection.requestId);
      const outcome: ClientOutcome =
        rejection.reason === 'not_leader'
          ? { status: 'not_leader', leaderHint: rejection.leaderHint }
          : { status: 'unavailable', reason: rejection.reason };
      this.reply(read.replyTo, read.request, outcome);
    }
    this.serveReadyReads();
  }

  /** Thesis §6.4 step 4: serve a confirmed read once lastApplied >= readIndex. */
  private serveReadyReads(): void {
    if (this.pendingReads.size === 0) return; // twice per Ready, almost always with nothing waiting
    for (const [requestId, read] of this.pendingReads) {
      if (read.readIndex === null || this.kv.lastApplied < read.readIndex) continue;
      this.pendingReads.delete(requestId);
      const result: KvResult = { status: 'ok', value: this.kv.read(read.request.op.key) };
      this.reply(read.replyTo, read.request, result);
      if (this.probe !== undefined) this.probe.mark(STAGE.read_reply, read.seq);
    }
  }

  /** A Ready's messages, without the acknowledgements a later one in them supersedes (ack-coalescing.ts). */
  private sendPeers(messages: readonly RaftMessage[]): void {
    const sending = coalesceAcks(messages);
    for (let i = 0; i < sending.length; i++) this.sendPeer(sending[i]!);
  }

  private sendPeer(message: RaftMessage): void {
    this.io.sendPeer(message.to, message);
    if (this.probe === undefined) return;
    if (message.type === 'append_entries') {
      const last = message.entries[message.entries.length - 1];
      if (last !== undefined) this.probe.mark(STAGE.peer_send, last.index);
    } else if (message.type === 'append_entries_response' && message.success) {
      this.probe.mark(STAGE.ack_send, message.matchIndex);
    }
  }

  /** Latency probe: when a follower got entries, or the leader an acknowledgement (the datagram's arrival). */
  private markPeerArrival(probe: LatencyProbe, message: RaftMessage): void {
    if (message.type === 'append_entries') {
      const last = message.entries[message.entries.length - 1];
      if (last !== undefined) probe.mark(STAGE.peer_receive, last.index, probe.arrivedAtMs);
    } else if (message.type === 'append_entries_response' && message.success) {
      probe.mark(STAGE.ack_receive, message.matchIndex, probe.arrivedAtMs);
    }
  }

  private observe(ready: Ready): void {
    const notices = ready.notices;
    for (let i = 0; i < notices.length; i++) this.io.log(notices[i]!);
    this.updatePeers();
    this.reportRemoval();
    const soft = ready.softState;
    if (soft.currentTerm !== this.lastTerm) {
      this.io.log(`term ${this.lastTerm} -> ${soft.currentTerm}`);
      this.lastTerm = soft.currentTerm;
    }
    this.assembler.onTerm(soft.currentTerm);
    if (soft.role !== this.lastRole || soft.leaderId !== this.lastLeader) {
      this.io.log(`role ${soft.role} term=${soft.currentTerm} leader=${soft.leaderId ?? '-'} commitIndex=${soft.commitIndex}`);
      if (this.lastRole === 'leader' && soft.role !== 'leader') {
        this.failPendingOnStepDown(soft.leaderId);
        this.failAdminOnStepDown();
        this.streamer.abortAll(`no longer leader (term ${soft.currentTerm})`);
      }
      this.lastRole = soft.role;
      this.lastLeader = soft.leaderId;
      // A leader is known (or this node leads): the held requests go on, from a fresh call stack.
      if (this.held.size > 0 && (soft.role === 'leader' || soft.leaderId !== null)) this.armHeldTimer(this.io.clock.monotonicMs());
    }
  }

  /**
   * Dissertation §4.2.2: once the core knows a committed configuration
   * removed this node, log one line and hand over to onRemoved, once. Called
   * after each Ready (a leader that committed its own removal) and after a
   * peer message when no Ready is in flight (a farewell changes nothing
   * durable, so it may come with no Ready at all).
   */
  private reportRemoval(): void {
    const removal = this.core.removal();
    if (removal === null || this.removalReported !== null || this.stopped) return;
    this.removalReported = removal;
    this.io.log(
      `removed from the cluster: the configuration committed at index ${removal.index} does not include ${this.id} ` +
        `(${removal.leaderId === this.id ? 'this node led and committed it' : `told by the leader ${removal.leaderId}`}, term ${removal.term}); shutting down`,
    );
    this.onRemoved(removal);
  }

  /**
   * A deposed leader cannot tell whether its pending writes will commit, so it
   * says `unavailable` (not a definite failure) and the client retries with
   * the same (clientId, seq); reads have no effect and are redirected.
   */
  private failPendingOnStepDown(leaderHint: NodeId | null): void {
    for (const [requestId, read] of this.pendingReads) {
      this.pendingReads.delete(requestId);
      this.reply(read.replyTo, read.request, { status: 'not_leader', leaderHint });
    }
    for (const pending of this.pendingWriteByIndex.values()) {
      this.io.sendClient(pending.replyTo, {
        type: 'client_response',
        clientId: pending.clientId,
        seq: pending.seq,
        outcome: { status: 'unavailable', reason: 'leadership_lost' },
      });
    }
    this.pendingWriteByIndex.clear();
    this.pendingWrites.clear();
  }
}

/** The definite error the session table's refusal becomes (protocol.ts SessionRejection says which are definite). */
export function sessionRejection(
  clientId: string,
  seq: number,
  check: Extract<SessionCheck, { kind: 'stale' | 'conflict' | 'expired' }>,
): ClientOutcome {
  if (check.kind === 'expired') {
    return {
      status: 'rejected',
      code: 'session_expired',
      message: `the session of client ${JSON.stringify(clientId)} has expired (evicted): seq ${seq} not applied now, possibly applied before; open a new session`,
    };
  }
  if (check.kind === 'stale') {
    return {
      status: 'rejected',
      code: 'stale_seq',
      message: `seq ${seq} is below the last seq ${check.lastSeq} applied for client ${JSON.stringify(clientId)}: not applied now, possibly applied before`,
    };
  }
  switch (check.code) {
    case 'session_conflict':
      return {
        status: 'rejected',
        code: 'session_conflict',
        message: `client id ${JSON.stringify(clientId)} belongs to another client instance: not applied (give every client its own id)`,
      };
    case 'op_mismatch':
      return {
        status: 'rejected',
        code: 'op_mismatch',
        message: `seq ${seq} of client ${JSON.stringify(clientId)} was applied with a different op: this op was not applied`,
      };
    default:
      return assertNever(check.code, 'session conflict');
  }
}

function snapshotKey(meta: SnapshotMeta): string {
  return `${meta.index}@${meta.term}`;
}
