/**
 * One node of a stepped cluster: the real pure core (node/raft/) and the
 * real KV state machine with its client sessions (node/kv/), driven one
 * input at a time by whoever holds it (the model checker, which tries every
 * order; the replay of a counterexample), with a disk that separates what
 * was written from what was fsynced.
 *
 * The host part models `node/host.ts` step for step, without its clock,
 * timers and promises:
 * - every input is followed by the host's drain loop: take a Ready; a
 *   leader's Ready without a hard state sends first (thesis §10.2.1,
 *   `parallelLeaderAppend`); a Ready with something durable is written and
 *   the host waits for the fsync (the `fsync` input) before it reports
 *   `persisted`, sends the rest, applies and serves reads; a Ready with
 *   nothing durable is finished at once;
 * - client writes: the session check (dissertation §6.3: a duplicate gets
 *   the cached result, a stale or conflicting one the session's refusal),
 *   propose, reply when the
 *   entry applies (or `entry_replaced` when another leader's entry took its
 *   index); reads: ReadIndex (thesis §6.4), served once applied; a leader
 *   that steps down answers everything pending (`leadership_lost`,
 *   `not_leader`);
 * - a late wake-up (`resume`): the ticks it slept through run until the
 *   first that acts, the rest is dropped and the core is told how much time
 *   passed (`elapse`), as `catchUpTicks` does;
 * - the host-level unsafe flags: `localReads` (reads from local state),
 *   `noPersistVote` (the written hard state loses votedFor), `memoryLog`
 *   (nothing reaches the disk), `ackBeforeFsync` (the host goes on before
 *   the fsync; the write stays unsynced until the next `fsync`),
 *   `leaseAfterPause` (no `elapse` after a late wake-up);
 * - the transport's membership filter on every delivery (`deliver`), with
 *   its flag `membersOnlyTransport`;
 * - InstallSnapshot: as one message carrying the whole snapshot, or, with
 *   `chunkBytes` (SteppedParams.snapshotChunkBytes), as the host does it:
 *   the real streamer (node/snapshot/streamer.ts) cuts the snapshot into
 *   chunks, each a message, and the real assembler (assembler.ts) stages
 *   them, acknowledges each and steps the whole into the core once the
 *   checksum matches. The streamer's retransmission timer does not run by
 *   itself: the `streamTimeout` input fires it.
 *
 * A crash keeps only the fsynced writes; a restart rebuilds the core from
 * them, with an empty state machine that the committed entries replay
 * into, as the real node does.
 *
 * The whole node is plain data (`SteppedNodeState`, built on
 * `RaftNode.snapshotState` and `KvStateMachine.snapshotState`), so a caller
 * can store a node, restore it and feed it another input from the same
 * point: that is how the model checker branches.
 */
import { sessionRejection } from '../../node/host.js';
import { encodeCommand } from '../../node/kv/command.js';
import { LazyDigest } from '../../node/kv/sessions.js';
import { KvStateMachine, type ApplyResult, type KvSnapshot } from '../../node/kv/state-machine.js';
import type { ClientOutcome, ClientRequest } from '../../node/protocol.js';
import { SnapshotAssembler, defaultAssemblerOptions, type AssembledSnapshot, type AssemblerState } from '../../node/snapshot/assembler.js';
import { snapshotBytes } from '../../node/snapshot/snapshot-bytes.js';
import { SnapshotStreamer, defaultStreamerOptions, type StreamState } from '../../node/snapshot/streamer.js';
import type { Clock } from '../../node/clock/clock.js';
import { RaftNode } from '../../node/raft/raft.js';
import { handOverTarget } from '../../node/raft/hand-over.js';
import type { RaftNodeState } from '../../node/raft/state.js';
import type {
  ConfChange,
  Configuration,
  Entry,
  HardState,
  InstallSnapshot,
  NodeId,
  RaftConfig,
  Ready,
  Role,
  SnapshotMeta,
  StoredState,
} from '../../node/raft/types.js';
import type { UnsafeFlags } from '../../node/unsafe-flags.js';
import { peerDatagramHeard } from '../../node/transport/node-endpoint.js';
import { assert, assertNever, assertionFailed } from '../../node/util/assert.js';
import { chunkMessage, chunkOf, type SnapshotMessage, type SteppedMessage } from './network.js';
import { fixedTimeouts } from './params.js';

/** Which client operation, and which attempt of it, a request or reply belongs to. */
export interface ClientOpRef {
  readonly op: number;
  readonly attempt: number;
}

export interface PendingWriteState {
  readonly ref: ClientOpRef;
  readonly clientId: string;
  readonly instance: number;
  readonly seq: number;
  /** Log index the proposal got. */
  readonly index: number;
}

export interface PendingReadState {
  readonly ref: ClientOpRef;
  /** The core's ReadIndex request id. */
  readonly requestId: string;
  readonly key: string;
  /** Set once the core confirmed the read (thesis §6.4 step 3); served when lastApplied reaches it. */
  readonly readIndex: number | null;
}

/**
 * A snapshot of the state machine (§7): its Raft metadata and the state
 * machine's own serialisation (KvStateMachine.encodeSnapshot, client
 * sessions included), the bytes the host writes to a snapshot file and
 * streams to a follower.
 */
export interface SnapshotData {
  readonly meta: SnapshotMeta;
  readonly data: string;
}

/** What one persist call hands the disk. */
export interface DiskWrite {
  /** Ready step 1a: a snapshot from the leader becomes the node's snapshot and the stored log is emptied first; null otherwise. */
  readonly snapshot: SnapshotData | null;
  readonly hardState: HardState | null;
  readonly entries: readonly Entry[];
}

/** What survives a crash. */
export interface DurableState {
  readonly hardState: HardState;
  /** The stored log, contiguous; with a snapshot it may start after index 1 (compacted, Ready step 6). */
  readonly entries: readonly Entry[];
  /** The newest durable snapshot (taken here or installed from a leader), or null. */
  readonly snapshot: SnapshotData | null;
}

export interface RunningState {
  readonly core: RaftNodeState;
  readonly kv: KvSnapshot;
  /** The Ready whose write the host waits on (its send/apply/read steps run after the fsync); null when not waiting. */
  readonly awaiting: { readonly ready: Ready; readonly sentFirst: boolean } | null;
  /** Last log index the host has written (node/host.ts `lastLogIndex`; `RaftNode.persisted`). */
  readonly lastLogIndex: number;
  /** Proposed client writes waiting to apply, by index ascending. */
  readonly writes: readonly PendingWriteState[];
  /** Client reads waiting for confirmation or application, oldest first. */
  readonly reads: readonly PendingReadState[];
  /** Role at the last Ready the host finished (a leader that steps down answers its pending requests). */
  readonly lastRole: Role;
  /**
   * Ready step 5: the state machine serialised at a snapshotRequest, being
   * saved (the host's save runs beside the effect loop); the `snapshot`
   * input finishes the save. Lost in a crash. Null when none.
   */
  readonly snapshotSave: SnapshotData | null;
  /** Snapshots from the leader, decoded and stepped into the core, waiting for a Ready's snapshotToInstall (node/host.ts stagedInstalls). */
  readonly staged: readonly SnapshotData[];
  /** Chunked snapshots only: the streams this node sends, by follower (the streamer's, the bytes as text). */
  readonly streams?: readonly (readonly [NodeId, SteppedStream])[];
  /** Chunked snapshots only: the stream this node stages and the last that ended (the assembler's). */
  readonly assembly?: AssemblerState;
}

/** A stream as the streamer keeps it (StreamState), the snapshot as SnapshotData (its checksum is recomputed). */
export type SteppedStream = Omit<StreamState, 'snapshot'> & { readonly snapshot: SnapshotData };

export interface SteppedNodeState {
  readonly durable: DurableState;
  /** Written and not yet fsynced, oldest first: lost by a crash, made durable by `fsync`. */
  readonly unsynced: readonly DiskWrite[];
  /** Null while the node is down. */
  readonly running: RunningState | null;
}

export interface ClientReply {
  readonly ref: ClientOpRef;
  readonly outcome: ClientOutcome;
}

export interface ServedRead {
  readonly ref: ClientOpRef;
  readonly key: string;
  readonly value: string | null;
  /** The state machine's lastApplied when it answered (read safety compares it to what was committed). */
  readonly lastApplied: number;
}

export interface AppliedEntry {
  readonly entry: Entry;
  readonly result: ApplyResult | null;
}

/** Everything observable that one input made the node do, in order within each kind. */
export class StepEffects {
  readonly messages: SteppedMessage[] = [];
  readonly replies: ClientReply[] = [];
  readonly served: ServedRead[] = [];
  readonly applied: AppliedEntry[] = [];
  /** Readies the host took from the core. */
  readies = 0;
  /** What the node restarted from, when the input was a restart. */
  started: StoredState | null = null;
  crashed = false;
  /** A snapshot this input made durable: taken here (the `snapshot` input) or installed from a leader. */
  snapshotSaved: SnapshotMeta | null = null;
  /** The state machine was serialised for a snapshot at this point (Ready step 5; saved later). */
  snapshotSerialised: SnapshotMeta | null = null;
  /** Chunked snapshots: followers whose stream this input's retransmission timeout ended as failed (it gave up). */
  readonly streamsGivenUp: NodeId[] = [];
}

export const EMPTY_DURABLE: DurableState = Object.freeze({
  hardState: Object.freeze({ currentTerm: 0, votedFor: null }),
  entries: Object.freeze([]),
  snapshot: null,
});

/** Bound on staged snapshots (node/host.ts keeps as few: normally one). */
const MAX_STAGED = 4;

const quietKv = { log: (): void => {} };

interface MutableRunning {
  core: RaftNode;
  kv: KvStateMachine;
  awaiting: { readonly ready: Ready; readonly sentFirst: boolean } | null;
  lastLogIndex: number;
  writes: PendingWriteState[];
  reads: PendingReadState[];
  lastRole: Role;
  snapshotSave: SnapshotData | null;
  staged: SnapshotData[];
  /** Chunked snapshots only (else null): the real streamer and assembler, restored from the state. */
  streamer: SnapshotStreamer | null;
  assembler: SnapshotAssembler | null;
}

/**
 * The streamer's clock in a stepped node: time stands still and timers never
 * go off by themselves (the `streamTimeout` input expires one).
 */
const inertClock: Clock = {
  nowMs: () => 0,
  monotonicMs: () => 0,
  setTimer: () => 0,
  clearTimer: () => {},
};
/** Retransmission jitter only changes when a timer would go off, which the schedule decides here. */
const inertPrng = { nextInt: (min: number): number => min };

export class SteppedNode {
  private durable: DurableState;
  private unsynced: DiskWrite[];
  private running: MutableRunning | null;
  private effects = new StepEffects();

  private constructor(
    readonly id: NodeId,
    private readonly config: RaftConfig,
    private readonly unsafe: UnsafeFlags,
    state: SteppedNodeState,
    /** Chunked snapshots: bytes per chunk (SteppedParams.snapshotChunkBytes); null: a snapshot is one message. */
    private readonly chunkBytes: number | null,
  ) {
    this.durable = state.durable;
    this.unsynced = state.unsynced.slice();
    const running = state.running;
    if (running === null) this.running = null;
    else {
      const restored: MutableRunning = {
        core: RaftNode.fromState(config, running.core, fixedTimeouts),
        kv: KvStateMachine.fromSnapshot(running.kv, quietKv),
        awaiting: running.awaiting,
        lastLogIndex: running.lastLogIndex,
        writes: running.writes.slice(),
        reads: running.reads.slice(),
        lastRole: running.lastRole,
        snapshotSave: running.snapshotSave,
        staged: running.staged.slice(),
        streamer: null,
        assembler: null,
      };
      this.running = restored;
      this.transferParts(restored, running.streams ?? [], running.assembly ?? { staging: null, finished: null });
    }
  }

  /** A node that has never run: empty disk, down until `restart`. */
  static fresh(id: NodeId, config: RaftConfig, unsafe: UnsafeFlags, chunkBytes: number | null = null): SteppedNode {
    return new SteppedNode(id, config, unsafe, { durable: EMPTY_DURABLE, unsynced: [], running: null }, chunkBytes);
  }

  static fromState(
    id: NodeId,
    config: RaftConfig,
    unsafe: UnsafeFlags,
    state: SteppedNodeState,
    chunkBytes: number | null = null,
  ): SteppedNode {
    return new SteppedNode(id, config, unsafe, state, chunkBytes);
  }

  /**
   * Chunked snapshots: the host's streamer and assembler (node/host.ts wires
   * them the same way), in the given state. Their effects are this node's:
   * chunks and acks go out as messages, a stream's end is reported to the
   * core, a whole snapshot is stepped into the core.
   */
  private transferParts(running: MutableRunning, streams: readonly (readonly [NodeId, SteppedStream])[], assembly: AssemblerState): void {
    if (this.chunkBytes === null) return;
    const ignore = (): void => {};
    running.streamer = SnapshotStreamer.restored(
      {
        clock: inertClock,
        prng: inertPrng,
        sendChunk: (_to, chunk) => this.effects.messages.push(chunkMessage(chunk)),
        report: (peer, outcome) => running.core.reportSnapshot(peer, outcome),
        log: ignore,
      },
      { ...defaultStreamerOptions, chunkBytes: this.chunkBytes },
      streams.map(([peer, stream]) => [
        peer,
        { ...stream, snapshot: snapshotBytes(stream.snapshot.meta, Buffer.from(stream.snapshot.data, 'utf8')) },
      ]),
    );
    running.assembler = SnapshotAssembler.restored(
      this.id,
      {
        currentTerm: () => running.core.status().currentTerm,
        sendAck: (_to, ack) => this.effects.messages.push(ack),
        onAssembled: (snapshot) => this.onChunksAssembled(running, snapshot),
        log: ignore,
      },
      defaultAssemblerOptions,
      assembly,
    );
  }

  state(): SteppedNodeState {
    const running = this.running;
    return {
      durable: this.durable,
      unsynced: this.unsynced.slice(),
      running:
        running === null
          ? null
          : {
              core: running.core.snapshotState(),
              kv: running.kv.snapshotState(),
              awaiting: running.awaiting,
              lastLogIndex: running.lastLogIndex,
              writes: running.writes.slice(),
              reads: running.reads.slice(),
              lastRole: running.lastRole,
              snapshotSave: running.snapshotSave,
              staged: running.staged.slice(),
              ...(running.streamer === null
                ? {}
                : {
                    streams: running.streamer
                      .exportStreams()
                      .map(([peer, stream]): [NodeId, SteppedStream] => [
                        peer,
                        { ...stream, snapshot: { meta: stream.snapshot.meta, data: stream.snapshot.data.toString('utf8') } },
                      ]),
                  }),
              ...(running.assembler === null ? {} : { assembly: running.assembler.exportState() }),
            },
    };
  }

  get up(): boolean {
    return this.running !== null;
  }

  /** The live core (for outside invariant checks); null while down. */
  core(): RaftNode | null {
    return this.running?.core ?? null;
  }

  stateMachine(): KvStateMachine | null {
    return this.running?.kv ?? null;
  }

  durableState(): DurableState {
    return this.durable;
  }

  hasUnsynced(): boolean {
    return this.unsynced.length > 0;
  }

  /** A snapshot is being saved (the `snapshot` input would finish it). */
  hasSnapshotSave(): boolean {
    return this.running?.snapshotSave != null;
  }

  /** Hands over (and forgets) what the inputs since the last call did. */
  takeEffects(): StepEffects {
    const effects = this.effects;
    this.effects = new StepEffects();
    return effects;
  }

  // ---------------------------------------------------------------- inputs

  tick(): void {
    const running = this.mustRun('tick');
    running.core.tick();
    this.drain(running);
  }

  /**
   * The node's next timer goes off: the ticks until the first one that acts
   * (RaftNode.ticksUntilDue: an election timeout, a heartbeat, a
   * check-quorum round, a vote retry) run at once, as a host that sleeps
   * until then runs them. The model checker's timing-free mode uses this
   * instead of single ticks (Raft's safety does not depend on timing; only
   * lease reads do).
   */
  timeout(): void {
    const running = this.mustRun('timeout');
    const due = running.core.ticksUntilDue();
    for (let i = 0; i < due; i++) running.core.tick();
    this.drain(running);
  }

  /**
   * A peer message reaches the node through its transport's membership
   * filter (node/transport/node-endpoint.ts peerDatagramHeard, fed
   * RaftNode.acceptedPeers after each Ready, as the host does): one the
   * transport would drop changes nothing. Whether it was heard.
   */
  deliver(message: SteppedMessage): boolean {
    const running = this.mustRun('deliver');
    const peers = running.core.acceptedPeers();
    if (!peerDatagramHeard(peers === null || peers.includes(message.from), message.type, this.unsafe.membersOnlyTransport)) return false;
    switch (message.type) {
      case 'install_snapshot':
        this.onAssembled(running, message);
        return true;
      case 'snapshot_chunk':
        this.transfer(running.assembler, message.type).onChunk(chunkOf(message));
        this.drain(running);
        return true;
      case 'snapshot_ack':
        this.transfer(running.streamer, message.type).onAck(message);
        this.drain(running);
        return true;
      case 'append_entries_response':
        // host.ts onPeerMessage: a follower that answers is reachable; a stream to it that backed off resends now.
        running.streamer?.peerHeard(message.from);
        break;
      default:
        break;
    }
    running.core.step(message);
    this.drain(running);
    return true;
  }

  private transfer<T>(part: T | null, what: string): T {
    assert(part !== null, `${this.id}: a ${what} without chunked snapshots (SteppedParams.snapshotChunkBytes)`);
    return part;
  }

  /**
   * Chunked snapshots: the retransmission timer of the stream to `peer`
   * goes off (streamer.ts onTimeout: what is in flight is sent again, or the
   * stream gives up after maxTimeoutsWithoutProgress and is reported
   * failed). Nothing without a stream to `peer`.
   */
  streamTimeout(peer: NodeId): void {
    const running = this.mustRun('streamTimeout');
    const streamer = running.streamer;
    if (streamer !== null && streamer.expire(peer) && !streamer.peers().includes(peer)) this.effects.streamsGivenUp.push(peer);
    this.drain(running);
  }

  /** The followers this node streams a snapshot to now (chunked snapshots), in the order the streams started. */
  streamPeers(): NodeId[] {
    return this.running?.streamer?.peers() ?? [];
  }

  /** node/host.ts onAssembled, for a whole snapshot the assembler verified: decoded, staged, stepped into the core. */
  private onChunksAssembled(running: MutableRunning, assembled: AssembledSnapshot): string | null {
    this.onAssembled(running, {
      type: 'install_snapshot',
      term: assembled.term,
      from: assembled.from,
      to: this.id,
      seq: assembled.seq,
      snapshot: assembled.meta,
      data: assembled.data.toString('utf8'),
    });
    return null;
  }

  /**
   * A whole snapshot from the leader arrived (node/host.ts `onAssembled`:
   * the chunk stream is the host's concern, so here it is one message): it
   * is decoded into a fresh state machine, staged, and the InstallSnapshot
   * goes into the core, which installs it (Ready.snapshotToInstall) or only
   * learns the commit.
   */
  private onAssembled(running: MutableRunning, message: SnapshotMessage): void {
    const { data, ...install } = message;
    const kv = new KvStateMachine(quietKv);
    const restored = kv.restoreSnapshot(data);
    if (!restored.ok || kv.lastApplied !== install.snapshot.index) {
      assertionFailed(`${this.id}: snapshot ${install.snapshot.index}@${install.snapshot.term} does not decode at its index`);
    }
    const staged = running.staged.filter((s) => s.meta.index !== install.snapshot.index || s.meta.term !== install.snapshot.term);
    staged.push({ meta: install.snapshot, data });
    running.staged = staged.slice(-MAX_STAGED);
    running.core.step(install);
    this.drain(running);
    // Kept only while a Ready may still name it (the core's pending install, or the Ready waiting on its
    // fsync): a snapshot the core only learned the commit from, or a duplicate, leaves nothing behind.
    const pending = [running.core.snapshotState().snapshotToInstall, running.awaiting?.ready.snapshotToInstall ?? null];
    running.staged = running.staged.filter((s) => pending.some((m) => m !== null && m.index === s.meta.index && m.term === s.meta.term));
  }

  /**
   * The save of the snapshot requested at Ready step 5 completes: it is
   * durable now (the host writes, fsyncs and renames it), the core is told
   * (`snapshotTaken`) and may compact. A snapshot no newer than the durable
   * one (an install got there first) is dropped, as the host does.
   */
  snapshot(): void {
    const running = this.mustRun('snapshot');
    const save = running.snapshotSave;
    assert(save !== null, `snapshot on ${this.id}, which is saving none`);
    running.snapshotSave = null;
    const durable = this.durable.snapshot;
    if (durable === null || durable.meta.index < save.meta.index) {
      this.durable = { ...this.durable, snapshot: save };
      this.effects.snapshotSaved = save.meta;
      running.core.snapshotTaken(save.meta);
    }
    this.drain(running);
  }

  /**
   * The host wakes after sleeping through `backlogTicks` ticks (a paused
   * process, issue 15 defect 2): node/host.ts `catchUpTicks` runs them until
   * the first one that acts, drops the rest and tells the core how many it
   * dropped (unless `leaseAfterPause`).
   */
  resume(backlogTicks: number): void {
    const running = this.mustRun('resume');
    for (let done = 1; done <= backlogTicks; done++) {
      running.core.tick();
      if (done < backlogTicks && running.core.hasReady()) {
        if (!this.unsafe.leaseAfterPause) running.core.elapse(backlogTicks - done);
        break;
      }
    }
    this.drain(running);
  }

  /** Thesis §3.10 (the host never starts one; the model checker may). */
  transferLeadership(to: NodeId): void {
    const running = this.mustRun('transferLeadership');
    running.core.transferLeadership(to);
    this.drain(running);
  }

  /**
   * An admin membership request (node/host.ts `onAdminMessage`, the core
   * calls it makes, without the request bookkeeping and answers): a leader
   * asked to remove itself hands leadership to its most caught-up other
   * voter first (thesis §3.10, `handOverBeforeRemoval`); otherwise the
   * single-server change is proposed (§4.1; the core refuses what it must,
   * e.g. before an entry of its term is committed). A node that is not the
   * leader only answers not_leader.
   */
  admin(change: ConfChange): void {
    const running = this.mustRun('admin');
    const soft = running.core.status();
    if (soft.role === 'leader') {
      if (!(change.type === 'remove' && change.node === this.id && this.handOverBeforeRemoval(running, soft.configuration))) {
        running.core.proposeConfChange(change);
      }
    }
    this.drain(running);
  }

  /** node/host.ts `handOverBeforeRemoval`: false when there is no other voter. */
  private handOverBeforeRemoval(running: MutableRunning, configuration: Configuration): boolean {
    const target = handOverTarget(this.id, configuration, (id) => running.core.progressOf(id)?.matchIndex ?? 0);
    if (target === null) return false;
    running.core.transferLeadership(target);
    return true;
  }

  /** Everything written so far reaches the disk; a host waiting on it goes on. */
  fsync(): void {
    for (const write of this.unsynced) this.durable = applyWrite(this.durable, write);
    this.unsynced = [];
    const running = this.running;
    if (running === null || running.awaiting === null) return;
    const { ready, sentFirst } = running.awaiting;
    running.awaiting = null;
    this.wrote(running, ready);
    this.finishReady(running, ready, sentFirst);
    this.drain(running);
  }

  /** Power failure: volatile state and unsynced writes are gone. */
  crash(): void {
    if (this.running === null) return;
    this.running = null;
    this.unsynced = [];
    this.effects.crashed = true;
  }

  /**
   * Start from the disk: the core from the durable hard state, snapshot and
   * log; the state machine from the snapshot (§7), or empty; the committed
   * entries after it replay into it.
   */
  restart(): void {
    assert(this.running === null, `restart of ${this.id}, which is running`);
    const snapshot = this.durable.snapshot;
    const stored: StoredState = { hardState: this.durable.hardState, entries: this.durable.entries, snapshot: snapshot?.meta ?? null };
    const core = new RaftNode(this.config, stored, fixedTimeouts);
    const kv = new KvStateMachine(quietKv);
    if (snapshot !== null) {
      const restored = kv.restoreSnapshot(snapshot.data);
      assert(restored.ok && kv.lastApplied === snapshot.meta.index, `${this.id}: its durable snapshot does not restore`);
    }
    this.running = {
      core,
      kv,
      awaiting: null,
      lastLogIndex: core.status().lastLogIndex,
      writes: [],
      reads: [],
      lastRole: 'follower',
      snapshotSave: null,
      staged: [],
      streamer: null,
      assembler: null,
    };
    this.transferParts(this.running, [], { staging: null, finished: null });
    this.effects.started = stored;
  }

  /**
   * Disk damage on a node that is down (issue 15 defect 4: a follower whose
   * log lost its tail): the last `count` durable entries vanish.
   */
  loseLogTail(count: number): void {
    assert(this.running === null, `disk damage on ${this.id} while it runs`);
    const keep = Math.max(0, this.durable.entries.length - count);
    this.durable = { ...this.durable, entries: this.durable.entries.slice(0, keep) };
  }

  /** A client request arrives (node/host.ts `onClientRequest`); answers go to `ref`. */
  clientRequest(ref: ClientOpRef, request: ClientRequest): void {
    const running = this.mustRun('clientRequest');
    const op = request.op;
    const mode = request.session;
    if (op.type === 'get' && mode !== 'open') {
      this.read(running, ref, op.key);
      return;
    }
    const session = running.kv.sessionCheck(request.clientId, request.instance, request.seq, new LazyDigest(op), mode);
    switch (session.kind) {
      case 'new':
      case 'expired': // only the apply decides (host.ts)
        break;
      case 'duplicate':
        this.reply(ref, session.result);
        return;
      case 'stale':
      case 'conflict':
        this.reply(ref, sessionRejection(request.clientId, request.seq, session));
        return;
      default:
        assertNever(session, 'session check');
    }
    const role = running.core.status().role;
    const pendingAt = running.writes.findIndex((w) => w.clientId === request.clientId);
    const pending = running.writes[pendingAt];
    if (pending !== undefined && pending.instance === request.instance && pending.seq === request.seq && role === 'leader') {
      running.writes[pendingAt] = { ...pending, ref }; // already proposed here: answer this attempt when it applies
      return;
    }
    const result = running.core.propose(
      encodeCommand({
        clientId: request.clientId,
        instance: request.instance,
        seq: request.seq,
        op,
        ...(mode === undefined ? {} : { session: mode }),
      }),
    );
    if (!result.ok) {
      this.reply(
        ref,
        result.reason === 'not_leader'
          ? { status: 'not_leader', leaderHint: result.leaderHint }
          : { status: 'unavailable', reason: result.reason },
      );
      return;
    }
    if (pending !== undefined) running.writes.splice(pendingAt, 1);
    running.writes.push({ ref, clientId: request.clientId, instance: request.instance, seq: request.seq, index: result.index });
    running.writes.sort((a, b) => a.index - b.index);
    this.drain(running);
  }

  // ---------------------------------------------------------------- the host's effect loop

  private mustRun(what: string): MutableRunning {
    const running = this.running;
    assert(running !== null, `${what} on ${this.id}, which is down`);
    return running;
  }

  private read(running: MutableRunning, ref: ClientOpRef, key: string): void {
    if (this.unsafe.localReads) {
      const value = running.kv.read(key);
      this.effects.served.push({ ref, key, value, lastApplied: running.kv.lastApplied });
      this.reply(ref, { status: 'ok', value });
      return;
    }
    const soft = running.core.status();
    if (soft.role !== 'leader') {
      this.reply(ref, { status: 'not_leader', leaderHint: soft.leaderId });
      return;
    }
    const requestId = `o${ref.op}.${ref.attempt}`;
    running.reads.push({ ref, requestId, key, readIndex: null });
    running.core.readIndex(requestId);
    this.drain(running);
  }

  private drain(running: MutableRunning): void {
    while (running.awaiting === null && running.core.hasReady() && this.running === running) {
      const ready = running.core.ready();
      this.effects.readies++;
      const sentFirst = ready.hardState === null && ready.softState.role === 'leader';
      if (sentFirst) this.send(ready.messages);
      if (ready.hardState !== null || ready.entriesToAppend.length > 0 || ready.snapshotToInstall !== null) {
        this.write({
          snapshot: ready.snapshotToInstall === null ? null : this.stagedFor(running, ready.snapshotToInstall),
          hardState:
            this.unsafe.noPersistVote && ready.hardState !== null
              ? { currentTerm: ready.hardState.currentTerm, votedFor: null }
              : ready.hardState,
          entries: ready.entriesToAppend,
        });
        if (!this.unsafe.memoryLog && !this.unsafe.ackBeforeFsync) {
          running.awaiting = { ready, sentFirst };
          return; // the host waits for the fsync
        }
        this.wrote(running, ready);
      }
      this.finishReady(running, ready, sentFirst);
    }
  }

  /** What the host's `lastLogIndex` becomes once `ready`'s write is done (node/host.ts persist). */
  private wrote(running: MutableRunning, ready: Ready): void {
    if (ready.snapshotToInstall !== null) running.lastLogIndex = ready.snapshotToInstall.index;
    const last = ready.entriesToAppend[ready.entriesToAppend.length - 1];
    if (last !== undefined) running.lastLogIndex = last.index;
  }

  private stagedFor(running: MutableRunning, meta: SnapshotMeta): SnapshotData {
    const staged = running.staged.find((s) => s.meta.index === meta.index && s.meta.term === meta.term);
    if (staged === undefined)
      assertionFailed(`${this.id}: the core installs snapshot ${meta.index}@${meta.term}, which this host never staged`);
    return staged;
  }

  private write(write: DiskWrite): void {
    if (this.unsafe.memoryLog) return; // --unsafe-memory-log: nothing reaches the disk
    this.unsynced.push(write);
  }

  /** node/host.ts `finishReady`, step by step (the Ready contract, node/raft/types.ts). */
  private finishReady(running: MutableRunning, ready: Ready, sentFirst: boolean): void {
    running.core.persisted(running.lastLogIndex);
    if (!sentFirst) this.send(ready.messages);
    for (const install of ready.snapshotsToSend) this.startStream(running, install);
    if (ready.snapshotToInstall !== null) {
      // Step 3: the staged state machine replaces ours (host.ts restoreInstalled).
      const staged = this.stagedFor(running, ready.snapshotToInstall);
      running.staged = running.staged.filter((s) => s !== staged);
      const kv = new KvStateMachine(quietKv);
      const restored = kv.restoreSnapshot(staged.data);
      assert(restored.ok, `${this.id}: a staged snapshot stopped decoding`);
      running.kv = kv;
      this.effects.snapshotSaved = staged.meta;
    }
    this.apply(running, ready.committedEntries);
    for (const state of ready.readStates) {
      const at = running.reads.findIndex((read) => read.requestId === state.requestId);
      const read = running.reads[at];
      if (read !== undefined) running.reads[at] = { ...read, readIndex: state.readIndex };
    }
    for (const rejection of ready.readRejections) {
      const at = running.reads.findIndex((read) => read.requestId === rejection.requestId);
      const read = running.reads[at];
      if (read === undefined) continue;
      running.reads.splice(at, 1);
      this.reply(
        read.ref,
        rejection.reason === 'not_leader'
          ? { status: 'not_leader', leaderHint: rejection.leaderHint }
          : { status: 'unavailable', reason: rejection.reason },
      );
    }
    this.serveReads(running);
    if (ready.snapshotRequest !== null) {
      // Step 5 (host.ts takeSnapshot): serialised now, saved by the `snapshot` input.
      const request = ready.snapshotRequest;
      assert(
        running.kv.lastApplied === request.index,
        `${this.id}: snapshot requested at ${request.index}, the state machine stands at ${running.kv.lastApplied}`,
      );
      running.snapshotSave = { meta: request, data: running.kv.encodeSnapshot() };
      this.effects.snapshotSerialised = request;
    }
    if (ready.discardEntriesBefore !== null) {
      // Step 6: a durable snapshot covers what the core dropped; the stored log drops it too.
      const before = ready.discardEntriesBefore;
      this.durable = { ...this.durable, entries: this.durable.entries.filter((e) => e.index >= before) };
    }
    const role = ready.softState.role;
    // host.ts observe: a stream staged from an older term can no longer be installed; a deposed leader's streams end.
    running.assembler?.onTerm(ready.softState.currentTerm);
    if (running.lastRole === 'leader' && role !== 'leader') {
      this.failPendingOnStepDown(running, ready.softState.leaderId);
      running.streamer?.abortAll('no longer leader');
    }
    running.lastRole = role;
  }

  /**
   * Step 2 for an InstallSnapshot (host.ts startStream): the newest durable
   * snapshot goes to the follower. With chunked snapshots the streamer
   * streams it and reports the end to the core. Without, as one message,
   * and the stream is reported finished at once, so the core probes again
   * after the follower's next answer (a lost snapshot is resent after a
   * heartbeat round, as after a failed stream). A core that names a
   * snapshot other than the durable one gets `failed`, as from the host.
   */
  private startStream(running: MutableRunning, install: InstallSnapshot): void {
    const latest = this.durable.snapshot;
    if (latest === null || latest.meta.index !== install.snapshot.index || latest.meta.term !== install.snapshot.term) {
      running.core.reportSnapshot(install.to, 'failed');
      return;
    }
    if (running.streamer !== null) {
      running.streamer.start(install, snapshotBytes(latest.meta, Buffer.from(latest.data, 'utf8')));
      return;
    }
    this.effects.messages.push({ ...install, data: latest.data });
    running.core.reportSnapshot(install.to, 'finished');
  }

  private apply(running: MutableRunning, entries: readonly Entry[]): void {
    for (const entry of entries) {
      const applied = running.kv.apply(entry);
      this.effects.applied.push({ entry, result: applied });
      const pendingAt = running.writes.findIndex((w) => w.index === entry.index);
      const pending = running.writes[pendingAt];
      if (pending !== undefined) running.writes.splice(pendingAt, 1);
      const answer = applied === null ? null : answerOf(applied);
      if (applied !== null && answer !== null) {
        // Whoever waits for this (clientId, seq), whichever index it landed at.
        const waitingAt = running.writes.findIndex((w) => waitsFor(w, applied));
        const target = pending !== undefined && waitsFor(pending, applied) ? pending : running.writes[waitingAt];
        if (target !== undefined) {
          if (target !== pending) running.writes.splice(waitingAt, 1);
          this.reply(target.ref, answer);
        }
      }
      if (
        pending !== undefined &&
        (applied === null || applied.clientId !== pending.clientId || applied.seq !== pending.seq || answer === null)
      ) {
        // Another leader's entry took this index (§5.3): the client retries.
        this.reply(pending.ref, { status: 'unavailable', reason: 'entry_replaced' });
      }
    }
    this.serveReads(running);
  }

  /** Thesis §6.4 step 4: a confirmed read is served once lastApplied reaches its readIndex. */
  private serveReads(running: MutableRunning): void {
    for (let i = 0; i < running.reads.length;) {
      const read = running.reads[i]!;
      if (read.readIndex === null || running.kv.lastApplied < read.readIndex) {
        i++;
        continue;
      }
      running.reads.splice(i, 1);
      const value = running.kv.read(read.key);
      this.effects.served.push({ ref: read.ref, key: read.key, value, lastApplied: running.kv.lastApplied });
      this.reply(read.ref, { status: 'ok', value });
    }
  }

  private failPendingOnStepDown(running: MutableRunning, leaderHint: NodeId | null): void {
    for (const read of running.reads) this.reply(read.ref, { status: 'not_leader', leaderHint });
    running.reads = [];
    for (const write of running.writes) this.reply(write.ref, { status: 'unavailable', reason: 'leadership_lost' });
    running.writes = [];
  }

  private send(messages: readonly SteppedMessage[]): void {
    for (const message of messages) this.effects.messages.push(message);
  }

  private reply(ref: ClientOpRef, outcome: ClientOutcome): void {
    this.effects.replies.push({ ref, outcome });
  }
}

/** node/host.ts `answerOf`: what the client that sent an applied entry hears; null for a stale retry nobody waits on. */
function answerOf(applied: ApplyResult): ClientOutcome | null {
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

/** node/host.ts `waitsFor`: same client and seq and, for a refusal, the same instance. */
function waitsFor(pending: PendingWriteState, applied: ApplyResult): boolean {
  if (pending.clientId !== applied.clientId || pending.seq !== applied.seq) return false;
  return (applied.kind !== 'conflict' && applied.kind !== 'expired') || pending.instance === applied.instance;
}

/**
 * The disk after one persist (node/raft/types.ts Ready step 1: an installed
 * snapshot replaces the stored one and empties the log; then truncate a
 * conflicting suffix and append).
 */
export function applyWrite(durable: DurableState, write: DiskWrite): DurableState {
  let entries = durable.entries;
  let snapshot = durable.snapshot;
  if (write.snapshot !== null) {
    snapshot = write.snapshot;
    entries = [];
  }
  const first = write.entries[0];
  if (first !== undefined) entries = [...entries.filter((e) => e.index < first.index), ...write.entries];
  return { hardState: write.hardState ?? durable.hardState, entries, snapshot };
}

/** A log with its compacted start: entries from prevIndex + 1 on; (prevIndex, prevTerm) the entry just before (0, 0: none compacted). */
export interface CompactedLog {
  readonly prevIndex: number;
  readonly prevTerm: number;
  readonly entries: readonly Entry[];
}

/** The log a restart would rebuild from `durable` (RaftNode's logFromStorage, §7), without building a core. */
export function durableLog(durable: DurableState): CompactedLog {
  const entries = durable.entries;
  const snapshot = durable.snapshot?.meta ?? null;
  if (snapshot === null) return { prevIndex: 0, prevTerm: 0, entries };
  const first = entries[0];
  const last = entries[entries.length - 1];
  const bare = { prevIndex: snapshot.index, prevTerm: snapshot.term, entries: [] };
  if (first === undefined || last === undefined || last.index < snapshot.index) return bare;
  const atSnapshot = snapshot.index >= first.index ? entries[snapshot.index - first.index] : undefined;
  if (atSnapshot !== undefined && atSnapshot.term !== snapshot.term) return bare;
  if (first.index === snapshot.index + 1) return { prevIndex: snapshot.index, prevTerm: snapshot.term, entries };
  return { prevIndex: first.index, prevTerm: first.term, entries: entries.slice(1) };
}
