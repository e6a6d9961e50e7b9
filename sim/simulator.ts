/**
 * The deterministic simulator: a cluster of real `NodeHost`s (the real Raft
 * core, KV state machine and client sessions) over a simulated network,
 * disk and clocks, driven by one event queue over simulated time.
 *
 * Determinism. Everything random draws from named streams of one seed
 * (streams.ts); time is the event queue's; nothing touches real IO, timers
 * or `Math.random`. The one subtle part is promises: the host awaits
 * `storage.persist`, so after an event that left a host busy the simulator
 * lets the hosts' pending microtasks run to quiescence before the next event
 * (`settle`): a host is busy while its effect loop is active
 * (`NodeHost.busy()`) and it is not waiting on the disk. Most events (ticks,
 * heartbeats and their answers) leave every host idle and cost no await. Nothing else in the process is asynchronous,
 * so the interleaving is a pure function of the event order, and a run's
 * trace hash is the same on every replay (the determinism self-test).
 *
 * After every event the Raft invariants are checked on the nodes that
 * produced a Ready in it (invariants.ts); clients record a history for the
 * linearizability checker (client.ts, property.ts), and every read they get
 * an answer to is judged against the commits the simulator saw
 * (read-safety.ts). After the heal, liveness is judged with bounds in
 * election timeouts (liveness.ts).
 *
 * Faults besides crashes, partitions, clocks and disks: the network holds
 * datagrams for seconds and delivers them late (network.ts), an adversary
 * below the transport re-sends recorded messages (adversary.ts), and a
 * process can stop and resume with its timers overdue and a socket buffer
 * of old input (pause.ts).
 */
import { validateConfig } from '../node/config.js';
import { assertNever } from '../node/util/assert.js';
import type { ClusterConfig } from '../node/config-types.js';
import { defaultRetryPolicy } from '../node/client-retry.js';
import { NodeHost, type HostIo } from '../node/host.js';
import type { ClientMessage } from '../node/protocol.js';
import { describeMessage, describeReadyLines } from '../node/raft/describe.js';
import type { NodeId, RaftMessage, Ready, StoredState } from '../node/raft/types.js';
import type { RaftStorage } from '../node/storage/storage.js';
import { isRaftMessage } from '../node/transport/codec.js';
import type { AdjustableClock } from '../node/clock/adjustable-clock.js';
import type { HistoryOp } from '../checker/types.js';
import { MessageRecorder } from './adversary.js';
import { SimClient } from './client.js';
import { createSimClock } from './clock.js';
import { SimDisk, defaultDiskOptions, type DiskMode } from './disk.js';
import { EventQueue } from './event-queue.js';
import { History } from './history.js';
import { InvariantChecker } from './invariants.js';
import { currentLeader, judgeCatchUp, livenessPlan, majorityCanRun, describeNodes, type LivenessPlan, type NodeSnapshot } from './liveness.js';
import { SimNetwork, networkProfiles } from './network.js';
import { PausedProcess } from './pause.js';
import { ReadSafety } from './read-safety.js';
import type { Fault, LinkDirection, Scenario, SimOptions } from './scenario.js';
import { Stream, mix } from './streams.js';
import { TraceKind } from './trace-kind.js';
import { describeClientMessage, simDescribeOptions } from './trace-text.js';
import { SIM_CLUSTER, SIM_SECRET, SimWire } from './wire.js';

export type ViolationKind = 'invariant' | 'node_error' | 'liveness' | 'linearizability' | 'read_safety';

export interface Violation {
  readonly kind: ViolationKind;
  readonly atMs: number;
  readonly message: string;
}

export interface SimStats {
  simMs: number;
  wallMs: number;
  events: number;
  invariantChecks: number;
  datagrams: number;
  delivered: number;
  crashes: number;
  restarts: number;
  storageRefusals: number;
  tornTailBytes: number;
  leaderTerms: number;
  committed: number;
  opsOk: number;
  opsFail: number;
  opsInfo: number;
  maxTerm: number;
  /** Datagrams the network held back and delivered late (hold faults). */
  held: number;
  /** Recorded messages the adversary re-sent (replay faults). */
  replayed: number;
  pauses: number;
  /** Datagrams dropped because a paused process's socket buffer was full. */
  socketDrops: number;
  /** Reads judged by the read-safety check. */
  readsChecked: number;
  /** Time from the heal until a leader first existed (liveness.ts), or -1 if none did. */
  leaderAfterHealMs: number;
  /** Time from the heal until every running node reached the catch-up target (liveness.ts), or -1. */
  catchUpAfterHealMs: number;
  /** The longest an op invoked in the liveness phase took to complete (ms), or -1 if none completed. */
  livenessOpMaxMs: number;
}

export interface SimResult {
  readonly seed: number;
  readonly violations: readonly Violation[];
  readonly history: readonly HistoryOp[];
  /** Hex hash of every event (time, kind, target, datagram MAC) and the final node states. */
  readonly traceHash: string;
  /** One line per event when options.traceLines, else empty. */
  readonly trace: readonly string[];
  readonly stats: SimStats;
}

interface SimNode {
  readonly id: NodeId;
  readonly index: number;
  readonly disk: SimDisk;
  readonly seeds: Stream;
  host: NodeHost | null;
  clock: AdjustableClock | null;
  /** Bumped on every start and crash; events of older incarnations are ignored. */
  incarnation: number;
  clockRate: number;
  clockOffsetMs: number;
  /** Non-null when the node refused to start (storage corruption detected): it stays down. */
  refused: string | null;
  /** Non-null while the node's process is stopped (pause.ts). */
  pause: PausedProcess | null;
}

const CLIENT_PREFIX = 'client-';
const maxTraceLines = 200_000;

export function simClusterConfig(options: SimOptions): ClusterConfig {
  const nodes = Array.from({ length: options.nodeCount }, (_, i) => ({ id: `n${i + 1}`, host: 'sim', port: 7001 + i }));
  return validateConfig(
    {
      cluster: SIM_CLUSTER,
      secret: SIM_SECRET,
      dataDir: '/nonexistent/sim',
      electionTimeoutMsMin: options.electionTimeoutMsMin,
      electionTimeoutMsMax: options.electionTimeoutMsMax,
      heartbeatIntervalMs: options.heartbeatIntervalMs,
      tickMs: options.tickMs,
      nodes,
      readMode: options.readMode,
      clockDriftBound: options.clockDriftBound,
    },
    '/',
  );
}

function diskModeFor(options: SimOptions): DiskMode {
  if (options.unsafe.memoryLog) return 'memory';
  if (options.unsafe.ackBeforeFsync) return 'ack_before_fsync';
  return 'fsync';
}

export class Simulation {
  private readonly queue = new EventQueue();
  private readonly config: ClusterConfig;
  private readonly wire = new SimWire();
  private readonly nodes: SimNode[];
  private readonly byId = new Map<NodeId, SimNode>();
  private readonly network: SimNetwork;
  private readonly history: History;
  private readonly checker: InvariantChecker;
  private readonly readSafety: ReadSafety;
  /** Records peer messages for `replay` faults; null in runs without one (no cost). */
  private readonly recorder: MessageRecorder | null;
  private readonly plan: LivenessPlan;
  /** What the leader had committed at the start of the liveness phase (the catch-up target), once judged. */
  private catchUpTarget: { readonly leader: NodeId; readonly commitIndex: number } | null = null;
  private catchUpJudged = false;
  /** A majority refused to start (damaged storage): nothing can be asked of the cluster after the heal. */
  private livenessExempt = false;
  /** `clientId#seq@node` -> the node's lastApplied when it sent an ok answer (read-safety.ts, index form). */
  private readonly servedAt = new Map<string, number>();
  private readonly clients: SimClient[] = [];
  private readonly violations: Violation[] = [];
  private readonly trace: string[] = [];
  private readonly touched = new Set<SimNode>();
  private hash = 0x2545f491;
  private nextValue = 1;
  private nextProcess = 0;
  private clientsDone = 0;
  private healed = false;
  private readonly stats: SimStats = {
    simMs: 0, wallMs: 0, events: 0, invariantChecks: 0, datagrams: 0, delivered: 0, crashes: 0, restarts: 0,
    storageRefusals: 0, tornTailBytes: 0, leaderTerms: 0, committed: 0, opsOk: 0, opsFail: 0, opsInfo: 0, maxTerm: 0,
    held: 0, replayed: 0, pauses: 0, socketDrops: 0, readsChecked: 0, leaderAfterHealMs: -1, catchUpAfterHealMs: -1, livenessOpMaxMs: -1,
  };

  constructor(
    private readonly scenario: Scenario,
    private readonly options: SimOptions,
  ) {
    this.config = simClusterConfig(options);
    this.plan = livenessPlan(options);
    if (this.plan.catchUpByMs > options.faultWindowMs + options.settleMs || this.plan.livenessFromMs > this.plan.catchUpByMs) {
      throw new Error(`sim options: the liveness checks (${this.plan.livenessFromMs} ms, ${this.plan.catchUpByMs} ms) must fall in order before the end of the run (${options.faultWindowMs + options.settleMs} ms)`);
    }
    const seed = scenario.seed;
    this.readSafety = new ReadSafety((message) => this.violate('read_safety', message));
    this.history = new History(undefined, (op, timeMs) => this.readSafety.onHistoryOp(op, timeMs));
    // memoryLog and ackBeforeFsync must be caught by their consequences (two leaders, a lost
    // committed entry, a stale read), so the restart-durability checks are off for them. A
    // forgotten vote (noPersistVote) only elects a second leader if the voter crashes between
    // granting its vote and receiving the new leader's noop: that is caught by the durability check.
    const durability = !(options.unsafe.memoryLog || options.unsafe.ackBeforeFsync);
    this.checker = new InvariantChecker(
      (message) => this.violate('invariant', message),
      durability,
      (entry) => this.readSafety.onCommitted(entry, this.queue.now),
    );
    this.recorder = scenario.faults.some((f) => f.fault.kind === 'replay' || f.fault.kind === 'replay_leader') ? new MessageRecorder() : null;
    this.network = new SimNetwork(this.queue, seed, (to, from, datagram) => this.deliver(to, from, datagram));
    const diskOptions = { ...defaultDiskOptions, mode: diskModeFor(options), tornTailAlwaysDropped: options.unsafe.tornTailDropped };
    this.nodes = this.config.nodes.map((n, index) => ({
      id: n.id,
      index,
      disk: new SimDisk(n.id, this.queue, new Stream(seed, `disk:${n.id}`), diskOptions),
      seeds: new Stream(seed, `node:${n.id}`),
      host: null,
      clock: null,
      incarnation: 0,
      clockRate: 1,
      clockOffsetMs: 0,
      refused: null,
      pause: null,
    }));
    for (const node of this.nodes) this.byId.set(node.id, node);
  }

  async run(): Promise<SimResult> {
    const started = performance.now();
    const opts = this.options;
    for (const node of this.nodes) this.startNode(node);
    const faults = this.scenario.faults
      .map((f, i) => ({ ...f, i }))
      .sort((a, b) => Math.min(a.atMs, opts.faultWindowMs) - Math.min(b.atMs, opts.faultWindowMs) || a.i - b.i);
    for (const f of faults) {
      this.queue.schedule(Math.min(Math.max(0, f.atMs), opts.faultWindowMs), () => this.applyFault(f.fault, f.i));
    }
    this.queue.schedule(opts.faultWindowMs, () => this.healAll());
    this.queue.schedule(this.plan.livenessFromMs, () => this.judgeLeaderAfterHeal());
    this.queue.schedule(this.plan.catchUpByMs, () => this.judgeCatchUp());
    this.startClients();

    const endMs = opts.faultWindowMs + opts.settleMs;
    for (;;) {
      const nextTime = this.queue.peekTime();
      if (nextTime === null || nextTime > endMs) break;
      const event = this.queue.next()!;
      this.stats.events++;
      event.run();
      if (this.anyHostBusy()) await this.settle();
      for (const node of this.touched) {
        if (node.host !== null) this.checker.checkNode(node.id, node.host.raft());
      }
      if (this.healed && this.touched.size > 0) {
        if (this.stats.leaderAfterHealMs < 0) this.noteLeaderAfterHeal();
        else if (this.catchUpTarget !== null && this.stats.catchUpAfterHealMs < 0) this.noteCatchUp(this.catchUpTarget.commitIndex);
      }
      this.touched.clear();
      if (this.violations.length > 0 && opts.stopOnViolation) break;
      if (this.healed && this.catchUpJudged && this.clientsDone === this.clients.length) break;
    }
    if ((this.violations.length === 0 || !opts.stopOnViolation) && !this.livenessExempt) {
      for (const client of this.clients) {
        if (!client.done) this.violate('liveness', `liveness: client slot ${client.slot} still had work at the end of the run (${endMs} ms)`);
      }
    }
    return this.finish(started);
  }

  // ------------------------------------------------------------ nodes

  private startNode(node: SimNode): void {
    if (node.host !== null || node.refused !== null) return;
    const recovered = node.disk.recover();
    if (!recovered.ok) {
      node.refused = recovered.error.message;
      this.stats.storageRefusals++;
      this.note(TraceKind.refusedStart, node.index, () => `${node.id} refuses to start: ${recovered.error.message}`);
      return;
    }
    this.stats.tornTailBytes += recovered.tornBytes;
    if (node.incarnation > 0) this.stats.restarts++;
    node.incarnation++;
    const stored: StoredState = recovered.stored;
    this.checker.onStart(node.id, stored);
    const incarnation = node.incarnation;
    const wrap = (fn: () => void): (() => void) => {
      const fire = (): void => {
        if (node.incarnation !== incarnation || node.host === null) return;
        if (node.pause !== null) {
          node.pause.dueTimers.push(fire); // a stopped process's timer fires when it resumes, late
          return;
        }
        this.mixEvent(TraceKind.timer, node.index, 0);
        this.guard(node, fn);
      };
      return fire;
    };
    const clock = createSimClock(this.queue, wrap, node.clockOffsetMs, node.clockRate);
    const disk = node.disk.storage();
    // A stopped process does not see its fsync complete until it resumes.
    const storage: RaftStorage = {
      persist: (hardState, entries) => disk.persist(hardState, entries).then(() => this.resumed(node)),
      close: () => disk.close(),
    };
    const io: HostIo = {
      storage,
      clock,
      sendPeer: (to, message) => this.sendPeer(node, to, message),
      sendClient: (to, message) => this.sendToClient(node, to.port, message),
      log: (line) => this.note(TraceKind.log, node.index, () => `${node.id}: ${line}`, false),
      droppedCounts: () => ({}),
      observe: {
        // A node's state only becomes visible through a Ready (messages, persisted
        // state, applied entries), so the invariants are checked after every
        // event in which the node produced one, rather than after every tick.
        ready: (ready) => {
          this.touched.add(node);
          if (this.options.traceLines) this.traceReady(node, ready);
        },
        // State Machine Safety (§5.4.3), at the moment of application.
        applied: (entry) => this.checker.onApply(node.id, entry),
      },
    };
    const host = new NodeHost({
      id: node.id,
      config: this.config,
      unsafe: this.options.unsafe,
      stored,
      seed: node.seeds.uint32(),
      io,
      ...(this.options.skipReadQuorum ? { coreUnsafe: { skipReadQuorum: true } } : {}),
    });
    host.onFatal = (error) => {
      if (node.host !== host) return;
      this.violate('node_error', `${node.id} stopped on a fatal error: ${errorText(error)}`);
      this.crashNode(node);
    };
    node.host = host;
    node.clock = clock;
    this.note(TraceKind.start, node.index, () => `${node.id} starts (incarnation ${incarnation}, term ${stored.hardState.currentTerm}, ${stored.entries.length} entries, clock rate ${node.clockRate})`);
    host.start();
    this.touched.add(node);
  }

  private crashNode(node: SimNode): void {
    const host = node.host;
    if (host === null) return;
    host.stop();
    node.clock?.clearAll();
    node.host = null;
    node.clock = null;
    node.incarnation++;
    node.pause = null; // the stopped process dies with its socket buffer and overdue timers
    this.checker.onStop(node.id);
    const fate = node.disk.crash();
    this.stats.crashes++;
    this.note(TraceKind.crash, node.index, () => `${node.id} crashes (unsynced writes: ${fate ?? 'none'})`);
  }

  private guard(node: SimNode, fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.hostThrew(node, error);
    }
  }

  private hostThrew(node: SimNode, error: unknown): void {
    this.violate('node_error', `${node.id} threw: ${errorText(error)}`);
    this.crashNode(node);
  }

  /** Lets the hosts' promise continuations run until every host is idle or waiting on its disk. */
  private async settle(): Promise<void> {
    let spins = 0;
    while (this.anyHostBusy()) {
      spins++;
      if (spins > 100_000) throw new Error('simulator: a host never settled (a microtask loop?)');
      await Promise.resolve();
    }
  }

  private anyHostBusy(): boolean {
    for (const node of this.nodes) {
      const host = node.host;
      if (host === null || node.pause !== null) continue; // a stopped process waits for its resume
      if (host.busy() && !node.disk.hostWaiting) return true;
    }
    return false;
  }

  // ------------------------------------------------------------ process pauses

  /** Resolves at once for a running process; for a stopped one, when it resumes. */
  private resumed(node: SimNode): Promise<void> | undefined {
    const pause = node.pause;
    if (pause === null) return undefined;
    return new Promise<void>((resolve) => pause.storageDone.push(resolve));
  }

  private pauseNode(node: SimNode, forMs: number): void {
    if (node.host === null) return;
    const untilMs = this.queue.now + forMs;
    if (node.pause === null) node.pause = new PausedProcess(untilMs, this.options.socketBufferBytes);
    else node.pause.untilMs = Math.max(node.pause.untilMs, untilMs);
    this.stats.pauses++;
    this.note(TraceKind.pause, node.index, () => `${node.id} stops (process paused until ${node.pause?.untilMs.toFixed(0)} ms)`);
    this.queue.schedule(forMs, () => {
      const pause = node.pause;
      if (pause !== null && this.queue.now >= pause.untilMs) this.resume(node);
    });
  }

  /**
   * The process runs again: first the fsync completions it missed (the host
   * waits on nothing else, so the simulator can settle), then what waited in
   * its socket buffer, in arrival order (the event loop polls a readable
   * socket before it runs timers), then its overdue timers. Each datagram is
   * its own event, so invariants are checked between them.
   */
  private resume(node: SimNode): void {
    const pause = node.pause;
    if (pause === null) return;
    node.pause = null;
    this.stats.socketDrops += pause.dropped;
    this.note(TraceKind.resume, node.index, () => `${node.id} resumes: ${pause.buffered.length} datagrams buffered, ${pause.dropped} dropped (socket buffer full), ${pause.dueTimers.length} timers overdue`);
    const incarnation = node.incarnation;
    this.touched.add(node);
    for (const done of pause.storageDone) done();
    for (const { from, datagram } of pause.buffered) {
      this.queue.schedule(0, () => {
        if (node.incarnation !== incarnation) return;
        if (node.pause !== null) node.pause.receive(from, datagram);
        else this.deliverToHost(node, from, datagram);
      });
    }
    this.queue.schedule(0, () => {
      if (node.pause !== null) {
        node.pause.dueTimers.push(...pause.dueTimers);
        return;
      }
      this.touched.add(node);
      for (const fire of pause.dueTimers) fire();
    });
  }

  // ------------------------------------------------------------ network

  private sendPeer(node: SimNode, to: NodeId, message: RaftMessage): void {
    this.checker.onSend(node.id, message);
    if (message.term > this.stats.maxTerm) this.stats.maxTerm = message.term;
    this.recorder?.record(this.queue.now, node.id, to, message);
    const encoded = this.wire.sealPeer(node.id, to, message);
    if (!encoded.ok) {
      this.violate('node_error', `${node.id} produced an unsendable ${message.type} to ${to}: ${encoded.detail}`);
      return;
    }
    this.stats.datagrams++;
    this.network.send(node.id, to, encoded.datagram);
  }

  private sendToClient(node: SimNode, slot: number, message: ClientMessage): void {
    if (message.type === 'client_response' && message.outcome.status === 'ok' && node.host !== null) {
      // The state a read (or write) was answered from, for the read-safety check at delivery.
      this.servedAt.set(`${message.clientId}#${message.seq}@${node.id}`, node.host.stateMachine().lastApplied);
    }
    const encoded = this.wire.sealToClient(node.id, message);
    if (!encoded.ok) {
      this.violate('node_error', `${node.id} produced an unsendable ${message.type}: ${encoded.detail}`);
      return;
    }
    this.stats.datagrams++;
    this.network.send(node.id, `${CLIENT_PREFIX}${slot}`, encoded.datagram);
  }

  private deliver(to: string, from: string, datagram: Buffer): void {
    this.stats.delivered++;
    if (to.startsWith(CLIENT_PREFIX)) {
      const slot = Number(to.slice(CLIENT_PREFIX.length));
      this.mixEvent(TraceKind.clientDelivery, slot, this.wire.traceWord(datagram));
      const decoded = this.wire.open(to, datagram);
      if (!decoded.ok) return;
      const body = decoded.envelope.body;
      if (this.options.traceLines && !isRaftMessage(body)) this.note(TraceKind.log, slot, () => describeClientMessage(decoded.envelope.from, `c${slot}`, body), false);
      if (body.type === 'client_response') {
        const appliedIndex = this.servedAt.get(`${body.clientId}#${body.seq}@${decoded.envelope.from}`);
        this.readSafety.served = appliedIndex === undefined ? null : { node: decoded.envelope.from, appliedIndex };
        this.clients[slot]?.onResponse(body.clientId, body.seq, body.outcome);
        this.readSafety.served = null;
      }
      return;
    }
    const node = this.byId.get(to);
    if (node === undefined || node.host === null) return; // down: the datagram is lost
    if (node.pause !== null) {
      // Stopped: the datagram waits in the socket buffer, or is dropped when it is full.
      this.mixEvent(TraceKind.pause, node.index, this.wire.traceWord(datagram));
      node.pause.receive(from, datagram);
      return;
    }
    this.deliverToHost(node, from, datagram);
  }

  private deliverToHost(node: SimNode, from: string, datagram: Buffer): void {
    const host = node.host;
    if (host === null) return;
    this.mixEvent(TraceKind.peerDelivery, node.index, this.wire.traceWord(datagram));
    const decoded = this.wire.open(node.id, datagram);
    if (!decoded.ok) return;
    const body = decoded.envelope.body;
    if (this.options.traceLines) this.traceDelivery(node, decoded.envelope.from, body);
    // guard() inlined: this runs for every datagram, and a closure per delivery shows in the profile.
    try {
      if (isRaftMessage(body)) host.onPeerMessage(body);
      else host.onClientMessage(body, { host: 'sim', port: from.startsWith(CLIENT_PREFIX) ? Number(from.slice(CLIENT_PREFIX.length)) : -1 });
    } catch (error) {
      this.hostThrew(node, error);
    }
  }

  // ------------------------------------------------------------ clients

  private startClients(): void {
    const livenessFromMs = this.plan.livenessFromMs;
    this.scenario.clients.forEach((ops, slot) => {
      const client = new SimClient(slot, ops, {
        queue: this.queue,
        history: this.history,
        stream: new Stream(this.scenario.seed, `client:${slot}`),
        nodeIds: this.nodes.map((n) => n.id),
        keys: this.options.keys,
        opTimeoutMs: this.options.opTimeoutMs,
        retry: defaultRetryPolicy(this.options.opTimeoutMs),
        livenessFromMs,
        livenessOpTimeoutMs: this.plan.opTimeoutMs,
        send: (s, to, request) => {
          const encoded = this.wire.sealRequest(`c${s}`, to, request);
          if (encoded.ok) this.network.send(`${CLIENT_PREFIX}${s}`, to, encoded.datagram);
        },
        nextValue: () => this.nextValue++,
        nextProcess: () => this.nextProcess++,
        onLivenessViolation: (message) => {
          if (!this.livenessExempt) this.violate('liveness', message);
        },
        onDone: () => {
          this.clientsDone++;
        },
      });
      this.clients.push(client);
    });
    for (const client of this.clients) client.start();
  }

  // ------------------------------------------------------------ faults

  private applyFault(fault: Fault, i: number): void {
    const n = this.nodes.length;
    const nodeAt = (k: number): SimNode => this.nodes[((k % n) + n) % n]!;
    this.mixEvent(TraceKind.fault, i, 0);
    for (const node of this.nodes) this.touched.add(node);
    this.history.add({ process: 'nemesis', type: 'info', f: fault.kind, value: fault }, this.queue.now);
    this.note(TraceKind.fault, i, () => `fault ${JSON.stringify(fault)}`);
    switch (fault.kind) {
      case 'crash':
        this.crashNode(nodeAt(fault.node));
        return;
      case 'crash_leader': {
        const leader = this.currentLeader();
        if (leader !== null) this.crashNode(leader);
        return;
      }
      case 'restart':
        this.startNode(nodeAt(fault.node));
        return;
      case 'restart_all':
        for (const node of this.nodes) this.startNode(node);
        return;
      case 'partition': {
        this.network.healPartitions();
        const groupOf = (node: SimNode): number => fault.groups[node.index % Math.max(1, fault.groups.length)] ?? 0;
        for (const a of this.nodes) {
          for (const b of this.nodes) {
            if (a !== b && groupOf(a) !== groupOf(b)) this.network.block(a.id, b.id);
          }
        }
        return;
      }
      case 'isolate':
        this.isolate(nodeAt(fault.node), fault.direction);
        return;
      case 'isolate_leader': {
        const leader = this.currentLeader();
        if (leader !== null) this.isolate(leader, fault.direction);
        return;
      }
      case 'heal':
        this.network.healPartitions();
        return;
      case 'clock':
        this.setClock(nodeAt(fault.node), fault.rate, fault.offsetMs);
        return;
      case 'clock_leader': {
        const leader = this.currentLeader();
        if (leader !== null) this.setClock(leader, fault.rate, fault.offsetMs);
        return;
      }
      case 'network':
        this.network.setProfile(networkProfiles[fault.profile]);
        return;
      case 'corrupt': {
        const node = nodeAt(fault.node);
        const at = node.disk.corruptDurable();
        this.note(TraceKind.corrupt, node.index, () => `${node.id} disk byte ${at ?? '-'} flipped`);
        return;
      }
      case 'cut_leader': {
        const leader = this.currentLeader();
        if (leader === null) return;
        const others = this.nodes.filter((node) => node !== leader);
        const other = others[fault.other % others.length]!;
        this.network.block(leader.id, other.id);
        this.network.block(other.id, leader.id);
        return;
      }
      case 'reboot': {
        const node = nodeAt(fault.node);
        if (node.host === null) return;
        this.crashNode(node);
        const incarnation = node.incarnation;
        this.queue.schedule(fault.downMs, () => {
          if (node.incarnation !== incarnation || this.healed) return; // restarted (or crashed again) meanwhile
          this.touched.add(node);
          this.startNode(node);
        });
        return;
      }
      case 'split_leader': {
        const leader = this.currentLeader();
        if (leader !== null) this.splitLeader(leader, fault.companion);
        return;
      }
      case 'hold':
        this.holdLinks(nodeAt(fault.node), fault.direction, fault.rate, fault.holdMs, fault.forMs);
        return;
      case 'hold_leader': {
        const leader = this.currentLeader();
        if (leader !== null) this.holdLinks(leader, fault.direction, fault.rate, fault.holdMs, fault.forMs);
        return;
      }
      case 'replay':
        this.replay(fault.count, fault.minAgeMs, i, null);
        return;
      case 'replay_leader': {
        const leader = this.currentLeader();
        if (leader !== null) this.replay(fault.count, fault.minAgeMs, i, leader.id);
        return;
      }
      case 'pause':
        this.pauseNode(nodeAt(fault.node), fault.forMs);
        return;
      case 'pause_leader': {
        const leader = this.currentLeader();
        if (leader !== null) this.pauseNode(leader, fault.forMs);
        return;
      }
      default:
        assertNever(fault, 'fault');
    }
  }

  /** The leader and floor((n-1)/2) - 1 companions against the rest (a fresh partition: earlier cuts heal). */
  private splitLeader(leader: SimNode, companion: number): void {
    const others = this.nodes.filter((node) => node !== leader);
    const minority = new Set<SimNode>([leader]);
    const size = Math.floor((this.nodes.length - 1) / 2);
    for (let k = 0; minority.size < size && k < others.length; k++) minority.add(others[(companion + k) % others.length]!);
    this.network.healPartitions();
    for (const a of this.nodes) {
      for (const b of this.nodes) {
        if (a !== b && minority.has(a) !== minority.has(b)) this.network.block(a.id, b.id);
      }
    }
  }

  /** The network holds some of the node's peer datagrams (network.ts `hold`). */
  private holdLinks(node: SimNode, direction: LinkDirection, rate: number, holdMs: number, forMs: number): void {
    for (const other of this.nodes) {
      if (other === node) continue;
      if (direction !== 'in') this.network.hold(node.id, other.id, rate, holdMs, forMs);
      if (direction !== 'out') this.network.hold(other.id, node.id, rate, holdMs, forMs);
    }
  }

  /** The adversary re-sends, re-sealed, recorded messages at least `minAgeMs` old (adversary.ts). */
  private replay(count: number, minAgeMs: number, i: number, from: NodeId | null): void {
    if (this.recorder === null) return;
    const picked = this.recorder.pick(count, this.queue.now - minAgeMs, new Stream(this.scenario.seed, `replay:${i}`), from);
    picked.forEach((recorded, k) => {
      const sealed = this.wire.sealPeer(recorded.from, recorded.to, recorded.message);
      if (!sealed.ok) return;
      this.stats.replayed++;
      this.note(TraceKind.replay, i, () => `adversary replays (sent at ${recorded.atMs.toFixed(3)}) ${describeMessage(recorded.message, simDescribeOptions)}`);
      this.network.inject(recorded.from, recorded.to, sealed.datagram, 1 + k);
    });
  }

  private setClock(node: SimNode, rate: number, offsetMs: number): void {
    node.clockRate = rate;
    node.clockOffsetMs = offsetMs;
    node.clock?.adjust({ rate, offsetMs });
  }

  private isolate(node: SimNode, direction: LinkDirection): void {
    for (const other of this.nodes) {
      if (other === node) continue;
      if (direction !== 'out') this.network.block(other.id, node.id);
      if (direction !== 'in') this.network.block(node.id, other.id);
    }
  }

  /** The live leader with the highest term, if any (what a leader-targeting nemesis would pick). */
  private currentLeader(): SimNode | null {
    let best: SimNode | null = null;
    let bestTerm = -1;
    for (const node of this.nodes) {
      const st = node.host?.raft().status();
      if (st !== undefined && st.role === 'leader' && st.currentTerm > bestTerm) {
        best = node;
        bestTerm = st.currentTerm;
      }
    }
    return best;
  }

  /** End of the fault window: restart everyone, resume paused processes, heal the network, let clocks run at rate 1 again. */
  private healAll(): void {
    this.healed = true;
    this.mixEvent(TraceKind.fault, 0xffff, 0);
    this.history.add({ process: 'nemesis', type: 'info', f: 'heal_all', value: null }, this.queue.now);
    this.note(TraceKind.fault, 0xffff, () => 'heal all: partitions healed, no new holds, network reliable, clock rates 1, paused processes resume, crashed nodes restart');
    this.network.healPartitions();
    this.network.endHolds();
    this.network.setProfile(networkProfiles.reliable);
    for (const node of this.nodes) {
      node.clockRate = 1;
      node.clock?.adjust({ rate: 1 });
      this.resume(node);
      this.startNode(node);
      this.touched.add(node);
    }
  }

  // ------------------------------------------------------------ liveness after the heal

  private snapshots(): NodeSnapshot[] {
    return this.nodes.map((node) => {
      const st = node.host?.raft().status();
      return {
        id: node.id,
        running: node.host !== null,
        refused: node.refused !== null,
        role: st?.role ?? null,
        currentTerm: st?.currentTerm ?? 0,
        commitIndex: st?.commitIndex ?? 0,
        lastLogIndex: st?.lastLogIndex ?? 0,
      };
    });
  }

  /** After an event that changed some node, once the heal has happened and no leader was seen yet since. */
  private noteLeaderAfterHeal(): void {
    if (currentLeader(this.snapshots()) !== null) this.stats.leaderAfterHealMs = this.queue.now - this.plan.healMs;
  }

  private noteCatchUp(target: number): void {
    for (const node of this.nodes) {
      const st = node.host?.raft().status();
      if (st !== undefined && st.commitIndex < target) return;
    }
    this.stats.catchUpAfterHealMs = this.queue.now - this.plan.healMs;
  }

  /** Liveness check 1 (liveness.ts): a leader by the start of the liveness phase; its commitIndex is the catch-up target. */
  private judgeLeaderAfterHeal(): void {
    const nodes = this.snapshots();
    const k = this.options.livenessLeaderElectionTimeouts;
    this.note(TraceKind.liveness, 1, () => `liveness phase starts (${k} election timeouts after the heal): ${describeNodes(nodes)}`);
    if (!majorityCanRun(nodes)) {
      this.livenessExempt = true; // a majority refused to start (damaged storage): nothing can be asked of the rest
      return;
    }
    const leader = currentLeader(nodes);
    if (leader === null) {
      this.violate('liveness', `liveness: no leader ${k} election timeouts (${this.plan.livenessFromMs - this.plan.healMs} ms) after the heal; nodes: ${describeNodes(nodes)}`);
      return;
    }
    this.catchUpTarget = { leader: leader.id, commitIndex: leader.commitIndex };
    this.noteCatchUp(leader.commitIndex);
  }

  /** Liveness check 3: every running node caught up with the leader's commit. */
  private judgeCatchUp(): void {
    this.catchUpJudged = true;
    const target = this.catchUpTarget;
    if (target === null) return;
    const nodes = this.snapshots();
    this.note(TraceKind.liveness, 3, () => `catch-up check (target commit ${target.commitIndex} of ${target.leader}): ${describeNodes(nodes)}`);
    const problem = judgeCatchUp(nodes, target.leader, target.commitIndex, this.plan, this.options.catchUpElectionTimeouts);
    if (problem !== null) this.violate('liveness', problem);
  }

  // ------------------------------------------------------------ trace text

  /** A delivered message, as the core's transcripts print it (node/raft/describe.ts). */
  private traceDelivery(node: SimNode, from: string, body: RaftMessage | ClientMessage): void {
    this.note(TraceKind.log, node.index, () => (isRaftMessage(body) ? `deliver ${describeMessage(body, simDescribeOptions)}` : `deliver ${describeClientMessage(from, node.id, body)}`), false);
  }

  /** A Ready a node took from its core, one field per line, indented under the node. */
  private traceReady(node: SimNode, ready: Ready): void {
    const lines = describeReadyLines(ready, simDescribeOptions);
    this.note(TraceKind.log, node.index, () => `${node.id} Ready ${lines[0]}`, false);
    for (const line of lines.slice(1)) this.note(TraceKind.log, node.index, () => `${' '.repeat(node.id.length)}   ${line}`, false);
  }

  // ------------------------------------------------------------ bookkeeping

  private violate(kind: ViolationKind, message: string): void {
    if (this.violations.length >= 50) return;
    this.violations.push({ kind, atMs: this.queue.now, message });
    this.note(TraceKind.violation, this.violations.length, () => `VIOLATION (${kind}): ${message}`);
  }

  private mixEvent(kind: TraceKind, target: number, word: number): void {
    let h = mix(this.hash, Math.round(this.queue.now * 1000));
    h = mix(h, (kind << 16) | (target & 0xffff));
    this.hash = mix(h, word);
  }

  /** A trace line (built only when lines are kept); `hashed` lines also enter the trace hash. */
  private note(kind: TraceKind, target: number, line: () => string, hashed = true): void {
    if (hashed) this.mixEvent(kind, target, 0);
    if (this.options.traceLines && this.trace.length < maxTraceLines) this.trace.push(`${this.queue.now.toFixed(3).padStart(10)} ${line()}`);
  }

  private finish(started: number): SimResult {
    let h = this.hash;
    for (const node of this.nodes) {
      const st = node.host?.raft().status();
      h = mix(h, st === undefined ? -1 : st.currentTerm);
      h = mix(h, st === undefined ? -1 : st.commitIndex);
      h = mix(h, st === undefined ? -1 : st.lastLogIndex);
      h = mix(h, node.host?.stateMachine().lastApplied ?? -1);
    }
    h = mix(h, this.history.ops.length);
    const invokedNs = new Map<number, number>();
    const livenessFromNs = this.plan.livenessFromMs * 1e6;
    for (const op of this.history.ops) {
      if (typeof op.process !== 'number') continue;
      if (op.type === 'invoke') {
        invokedNs.set(op.process, op.time ?? 0);
        continue;
      }
      if (op.type === 'ok') this.stats.opsOk++;
      else if (op.type === 'fail') this.stats.opsFail++;
      else this.stats.opsInfo++;
      const invoked = invokedNs.get(op.process);
      if (invoked !== undefined && invoked >= livenessFromNs) {
        this.stats.livenessOpMaxMs = Math.max(this.stats.livenessOpMaxMs, ((op.time ?? 0) - invoked) / 1e6);
      }
    }
    for (const node of this.nodes) node.host?.stop();
    this.stats.held = this.network.stats.held;
    this.stats.readsChecked = this.readSafety.checked;
    this.stats.simMs = this.queue.now;
    this.stats.wallMs = performance.now() - started;
    this.stats.invariantChecks = this.checker.checks;
    this.stats.leaderTerms = this.checker.termsWithLeader;
    this.stats.committed = this.checker.committedCount;
    return {
      seed: this.scenario.seed,
      violations: this.violations,
      history: this.history.ops,
      traceHash: (h >>> 0).toString(16).padStart(8, '0'),
      trace: this.trace,
      stats: this.stats,
    };
  }
}

export function runSimulation(scenario: Scenario, options: SimOptions): Promise<SimResult> {
  return new Simulation(scenario, options).run();
}

function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
