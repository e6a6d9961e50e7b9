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
 * linearizability checker (client.ts, property.ts).
 */
import { validateConfig } from '../node/config.js';
import { assertNever } from '../node/util/assert.js';
import type { ClusterConfig } from '../node/config-types.js';
import { defaultRetryPolicy } from '../node/client-retry.js';
import { NodeHost, type HostIo } from '../node/host.js';
import type { ClientMessage } from '../node/protocol.js';
import type { NodeId, RaftMessage, StoredState } from '../node/raft/types.js';
import { hash } from 'node:crypto';
import { MAC_BYTES } from '../node/transport/codec.js';
import { ClientEndpoint } from '../node/transport/client-endpoint.js';
import { KeyRing } from '../node/transport/keys.js';
import { NodeEndpoint, type ReplyAddress } from '../node/transport/node-endpoint.js';
import type { AdjustableClock } from '../node/clock/adjustable-clock.js';
import type { HistoryOp } from '../checker/types.js';
import { SimClient } from './client.js';
import { createSimClock } from './clock.js';
import { SimDisk, defaultDiskOptions, type DiskMode, type OpenResult } from './disk.js';
import { EventQueue } from './event-queue.js';
import { History } from './history.js';
import { InvariantChecker } from './invariants.js';
import { SimNetwork, networkProfiles } from './network.js';
import type { Fault, LinkDirection, Scenario, SimOptions } from './scenario.js';
import { Stream, mix } from './streams.js';
import { TraceKind } from './trace-kind.js';

export type ViolationKind = 'invariant' | 'node_error' | 'liveness' | 'linearizability';

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
  /** The node's real wire endpoint (replay defences, address validation), one per start. */
  endpoint: NodeEndpoint | null;
  clock: AdjustableClock | null;
  /** Bumped on every start and crash; events of older incarnations are ignored. */
  incarnation: number;
  clockRate: number;
  clockOffsetMs: number;
  /** Non-null when the node refused to start (storage corruption detected): it stays down until the heal repairs its disk. */
  refused: string | null;
  /** True while its storage opens (recovery on the simulated disk takes simulated time). */
  opening: boolean;
}

const PEER_SECRET = 'rift-simulation-peer-secret-0123456789';
const CLIENT_SECRET = 'rift-simulation-client-secret-0123456789';
const CLUSTER = 'sim';
const CLIENT_PREFIX = 'client-';
const maxTraceLines = 200_000;
/** The key rings, derived once per process and cluster size (HKDF costs more than a short run's first events). */
const cachedRings = new Map<string, { readonly node: KeyRing; readonly client: KeyRing }>();
function simKeys(nodeIds: readonly string[]): { readonly node: KeyRing; readonly client: KeyRing } {
  const id = nodeIds.join(',');
  let rings = cachedRings.get(id);
  if (rings === undefined) {
    rings = { node: KeyRing.forNode(PEER_SECRET, CLIENT_SECRET, nodeIds), client: KeyRing.forClient(CLIENT_SECRET) };
    cachedRings.set(id, rings);
  }
  return rings;
}


export function simClusterConfig(options: SimOptions): ClusterConfig {
  const nodes = Array.from({ length: options.nodeCount }, (_, i) => ({ id: `n${i + 1}`, host: 'sim', port: 7001 + i }));
  return validateConfig(
    {
      cluster: CLUSTER,
      peerSecret: PEER_SECRET,
      clientSecret: CLIENT_SECRET,
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
  private readonly keys: { readonly node: KeyRing; readonly client: KeyRing };
  /** One client endpoint per client slot (its sender id `c<slot>`, instance slot + 1). */
  private readonly clientEndpoints: ClientEndpoint[] = [];
  private readonly nodes: SimNode[];
  private readonly byId = new Map<NodeId, SimNode>();
  private readonly network: SimNetwork;
  private readonly history = new History();
  private readonly checker: InvariantChecker;
  private readonly clients: SimClient[] = [];
  private readonly violations: Violation[] = [];
  private readonly trace: string[] = [];
  private readonly touched = new Set<SimNode>();
  private hash = 0x2545f491;
  private nextValue = 1;
  private nextProcess = 0;
  private clientsDone = 0;
  private healed = false;
  /**
   * Set by a `lose_tail` fault: the run then also requires, after the heal
   * and the workload, that every running node catch up with the leader (a
   * follower that lost entries must be caught up, issue 15 defect 4).
   */
  private convergenceRequired = false;
  private convergenceDeadlineMs: number | null = null;
  private readonly stats: SimStats = {
    simMs: 0, wallMs: 0, events: 0, invariantChecks: 0, datagrams: 0, delivered: 0, crashes: 0, restarts: 0,
    storageRefusals: 0, tornTailBytes: 0, leaderTerms: 0, committed: 0, opsOk: 0, opsFail: 0, opsInfo: 0, maxTerm: 0,
  };

  constructor(
    private readonly scenario: Scenario,
    private readonly options: SimOptions,
  ) {
    this.config = simClusterConfig(options);
    this.keys = simKeys(this.config.nodes.map((n) => n.id));
    const seed = scenario.seed;
    // memoryLog and ackBeforeFsync must be caught by their consequences (two leaders, a lost
    // committed entry, a stale read), so the restart-durability checks are off for them. A
    // forgotten vote (noPersistVote) only elects a second leader if the voter crashes between
    // granting its vote and receiving the new leader's noop: that is caught by the durability check.
    const durability = !(options.unsafe.memoryLog || options.unsafe.ackBeforeFsync);
    this.checker = new InvariantChecker((message) => this.violate('invariant', message), durability);
    this.network = new SimNetwork(this.queue, seed, (to, from, datagram) => this.deliver(to, from, datagram));
    const diskOptions = { ...defaultDiskOptions, mode: diskModeFor(options), tornTailAlwaysDropped: options.unsafe.tornTailDropped };
    this.nodes = this.config.nodes.map((n, index) => ({
      id: n.id,
      index,
      disk: new SimDisk(n.id, this.queue, new Stream(seed, `disk:${n.id}`), diskOptions),
      seeds: new Stream(seed, `node:${n.id}`),
      host: null,
      endpoint: null,
      clock: null,
      incarnation: 0,
      clockRate: 1,
      clockOffsetMs: 0,
      refused: null,
      opening: false,
    }));
    for (const node of this.nodes) this.byId.set(node.id, node);
  }

  async run(): Promise<SimResult> {
    const started = performance.now();
    const opts = this.options;
    for (const node of this.nodes) this.startNode(node);
    await this.settle();
    const faults = this.scenario.faults
      .map((f, i) => ({ ...f, i }))
      .sort((a, b) => Math.min(a.atMs, opts.faultWindowMs) - Math.min(b.atMs, opts.faultWindowMs) || a.i - b.i);
    for (const f of faults) {
      this.queue.schedule(Math.min(Math.max(0, f.atMs), opts.faultWindowMs), () => this.applyFault(f.fault, f.i));
    }
    this.queue.schedule(opts.faultWindowMs, () => this.healAll());
    this.startClients();

    const endMs = opts.faultWindowMs + opts.settleMs;
    for (;;) {
      const nextTime = this.queue.peekTime();
      if (nextTime === null || nextTime > endMs) break;
      const event = this.queue.next()!;
      this.stats.events++;
      event.run();
      await this.settleDisks();
      if (this.anyHostBusy()) await this.settle();
      for (const node of this.touched) {
        if (node.host !== null) this.checker.checkNode(node.id, node.host.raft());
      }
      this.touched.clear();
      if (this.violations.length > 0 && opts.stopOnViolation) break;
      if (this.healed && this.clientsDone === this.clients.length && this.converged()) break;
    }
    if (this.convergenceDeadlineMs !== null && (this.violations.length === 0 || !opts.stopOnViolation)) {
      const lag = this.lagging();
      if (lag !== null) this.violate('liveness', `liveness: after the heal and the workload, ${lag}`);
    }
    if (this.violations.length === 0 || !opts.stopOnViolation) {
      for (const client of this.clients) {
        if (!client.done) this.violate('liveness', `liveness: client slot ${client.slot} still had work at the end of the run (${endMs} ms)`);
      }
    }
    return this.finish(started);
  }

  // ------------------------------------------------------------ nodes

  /**
   * (Re)starts a node: its storage opens with the real recovery on its
   * simulated disk (which takes simulated time: fsyncs), then the host
   * starts. A crash before the open completes abandons it.
   */
  private startNode(node: SimNode): void {
    if (node.host !== null || node.refused !== null || node.opening) return;
    node.opening = true;
    const incarnation = node.incarnation;
    node.disk.open((line) => this.note(TraceKind.log, node.index, () => `${node.id}: ${line}`, false)).then(
      (opened) => {
        if (node.incarnation !== incarnation) return; // crashed while opening
        node.opening = false;
        this.launch(node, opened);
      },
      (error: unknown) => {
        if (node.incarnation !== incarnation) return;
        node.opening = false;
        this.violate('node_error', `${node.id} could not open its storage: ${errorText(error)}`);
      },
    );
  }

  private launch(node: SimNode, opened: OpenResult): void {
    if (!opened.ok) {
      node.refused = opened.error.message;
      this.stats.storageRefusals++;
      this.note(TraceKind.refusedStart, node.index, () => `${node.id} refuses to start: ${opened.error.message}`);
      return;
    }
    this.stats.tornTailBytes += opened.recovery?.tornTail?.bytesDropped ?? 0;
    if (node.incarnation > 0) this.stats.restarts++;
    node.incarnation++;
    const stored: StoredState = opened.stored;
    this.checker.onStart(node.id, stored);
    const incarnation = node.incarnation;
    const wrap = (fn: () => void) => () => {
      if (node.incarnation !== incarnation || node.host === null) return;
      this.mixEvent(TraceKind.timer, node.index, 0);
      this.guard(node, fn);
    };
    const clock = createSimClock(this.queue, wrap, node.clockOffsetMs, node.clockRate);
    const endpoint = this.endpointFor(node, incarnation);
    const io: HostIo = {
      storage: opened.storage,
      clock,
      sendPeer: (to, message) => this.sendPeer(node, endpoint, to, message),
      sendClient: (to, message) => this.sendToClient(node, endpoint, to, message),
      log: (line) => this.note(TraceKind.log, node.index, () => `${node.id}: ${line}`, false),
      droppedCounts: () => endpoint.droppedCounts(),
      observe: {
        // A node's state only becomes visible through a Ready (messages, persisted
        // state, applied entries), so the invariants are checked after every
        // event in which the node produced one, rather than after every tick.
        ready: () => {
          this.touched.add(node);
        },
        // State Machine Safety (§5.4.3), at the moment of application.
        applied: (entry) => this.checker.onApply(node.id, entry),
      },
    };
    const host = new NodeHost({ id: node.id, config: this.config, unsafe: this.options.unsafe, stored, seed: node.seeds.uint32(), io });
    host.onFatal = (error) => {
      if (node.host !== host) return;
      this.violate('node_error', `${node.id} stopped on a fatal error: ${errorText(error)}`);
      this.crashNode(node);
    };
    node.host = host;
    node.endpoint = endpoint;
    node.clock = clock;
    this.note(TraceKind.start, node.index, () => `${node.id} starts (incarnation ${incarnation}, term ${stored.hardState.currentTerm}, ${stored.entries.length} entries, clock rate ${node.clockRate})`);
    host.start();
    endpoint.start();
    this.touched.add(node);
  }

  /**
   * The node's wire endpoint for this start: the real one, over the simulated
   * network and the simulation's clock (its incarnations grow with every
   * start, as the persisted ones do; its token key is a function of the seed).
   */
  private endpointFor(node: SimNode, incarnation: number): NodeEndpoint {
    return new NodeEndpoint({
      id: node.id,
      cluster: CLUSTER,
      nodeIds: this.config.nodes.map((n) => n.id),
      keys: this.keys.node,
      incarnation,
      clientFreshnessMs: this.config.clientFreshnessMs,
      tokenKey: hash('sha256', `sim token key ${this.scenario.seed} ${node.id} ${incarnation}`, 'buffer'),
      wallClockMs: () => this.queue.now,
      toPeer: (to, datagram) => {
        this.stats.datagrams++;
        this.network.send(node.id, to, datagram);
      },
      toAddress: (_host, port, datagram) => {
        this.stats.datagrams++;
        this.network.send(node.id, `${CLIENT_PREFIX}${port}`, datagram);
      },
      onPeerMessage: (message) => node.host?.onPeerMessage(message),
      onClientMessage: (message, replyTo) => node.host?.onClientMessage(message, replyTo),
      redirect: (request) => node.host?.redirectOf(request) ?? null,
      log: (line) => this.note(TraceKind.log, node.index, () => `${node.id}: ${line}`, false),
    });
  }

  private crashNode(node: SimNode): void {
    const host = node.host;
    if (host === null) {
      if (!node.opening) return;
      // Power failure during recovery: the open is abandoned, its unsynced writes meet their fate.
      node.opening = false;
      node.incarnation++;
      const fate = node.disk.crash();
      this.stats.crashes++;
      this.note(TraceKind.crash, node.index, () => `${node.id} crashes while opening its storage (unsynced writes: ${fate ?? 'none'})`);
      return;
    }
    host.stop();
    node.clock?.clearAll();
    node.host = null;
    node.endpoint = null;
    node.clock = null;
    node.incarnation++;
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

  /**
   * After lazy mode's background flush fired, lets the storage's write
   * queue reach its write and fsync (a few microtasks; 16 is ample) before
   * the next event.
   */
  private async settleDisks(): Promise<void> {
    let kicked = false;
    for (const node of this.nodes) {
      if (node.disk.kicked) {
        node.disk.kicked = false;
        kicked = true;
      }
    }
    if (!kicked) return;
    for (let i = 0; i < 16; i++) await Promise.resolve();
  }

  /** Lets the hosts' and opening storages' promise continuations run until each is idle or waiting on its disk. */
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
      if (host === null) {
        if (node.opening && !node.disk.ioWaiting) return true;
        continue;
      }
      if (host.busy() && !node.disk.hostWaiting) return true;
    }
    return false;
  }

  // ------------------------------------------------------------ network

  private sendPeer(node: SimNode, endpoint: NodeEndpoint, to: NodeId, message: RaftMessage): void {
    this.checker.onSend(node.id, message);
    if (message.term > this.stats.maxTerm) this.stats.maxTerm = message.term;
    const encoded = endpoint.sendPeer(to, message);
    if (!encoded.ok) this.violate('node_error', `${node.id} produced an unsendable ${message.type} to ${to}: ${encoded.detail}`);
  }

  private sendToClient(node: SimNode, endpoint: NodeEndpoint, to: ReplyAddress, message: ClientMessage): void {
    const encoded = endpoint.sendClient(to, message);
    if (encoded !== null && !encoded.ok) this.violate('node_error', `${node.id} produced an unsendable ${message.type}: ${encoded.detail}`);
  }

  private deliver(to: string, from: string, datagram: Buffer): void {
    this.stats.delivered++;
    // A trace ingredient per datagram: the first bytes of its MAC.
    const mac = datagram.length >= MAC_BYTES ? datagram.readUInt32LE(datagram.length - MAC_BYTES) : 0;
    if (to.startsWith(CLIENT_PREFIX)) {
      const slot = Number(to.slice(CLIENT_PREFIX.length));
      this.mixEvent(TraceKind.clientDelivery, slot, mac);
      const opened = this.clientEndpoints[slot]?.open(datagram);
      if (opened === undefined || !opened.ok) return;
      const body = opened.message;
      if (body.type === 'client_response') this.clients[slot]?.onResponse(body.clientId, body.seq, body.outcome);
      else if (body.type === 'retry') this.clients[slot]?.onRetry(opened.from);
      return;
    }
    const node = this.byId.get(to);
    if (node === undefined || node.host === null || node.endpoint === null) return; // down: the datagram is lost
    this.mixEvent(TraceKind.peerDelivery, node.index, mac);
    // guard() inlined: this runs for every datagram, and a closure per delivery shows in the profile.
    try {
      node.endpoint.receive(datagram, 'sim', from.startsWith(CLIENT_PREFIX) ? Number(from.slice(CLIENT_PREFIX.length)) : -1);
    } catch (error) {
      this.hostThrew(node, error);
    }
  }

  // ------------------------------------------------------------ clients

  private startClients(): void {
    const livenessFromMs = this.options.faultWindowMs + this.options.livenessGraceMs;
    this.scenario.clients.forEach((ops, slot) => {
      this.clientEndpoints.push(new ClientEndpoint({
        cluster: CLUSTER, sender: `c${slot}`, instance: slot + 1, keys: this.keys.client,
        freshnessMs: this.config.clientFreshnessMs, wallClockMs: () => this.queue.now,
      }));
      const client = new SimClient(slot, ops, {
        queue: this.queue,
        history: this.history,
        stream: new Stream(this.scenario.seed, `client:${slot}`),
        nodeIds: this.nodes.map((n) => n.id),
        keys: this.options.keys,
        opTimeoutMs: this.options.opTimeoutMs,
        retry: defaultRetryPolicy(this.options.opTimeoutMs),
        livenessFromMs,
        send: (s, to, request) => {
          const encoded = this.clientEndpoints[s]?.seal(to, request);
          if (encoded?.ok === true) this.network.send(`${CLIENT_PREFIX}${s}`, to, encoded.datagram);
        },
        nextValue: () => this.nextValue++,
        nextProcess: () => this.nextProcess++,
        onLivenessViolation: (message) => this.violate('liveness', message),
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
      case 'corrupt_last_frame': {
        const node = nodeAt(fault.node);
        this.crashNode(node);
        const at = node.disk.corruptLastFrame();
        this.note(TraceKind.corrupt, node.index, () => `${node.id} power failure; a bit of its last durable frame flipped (byte ${at ?? '-'}); it restarts`);
        this.startNode(node);
        return;
      }
      case 'lose_tail': {
        const node = this.follower(fault.node);
        if (node === null) return;
        this.crashNode(node);
        const lost = node.disk.loseTail(this.tailHeldElsewhere(node, fault.entries));
        if (lost > 0) this.convergenceRequired = true;
        this.note(TraceKind.corrupt, node.index, () => `${node.id} power failure; its disk lost the last ${lost} entries of its log (term and vote kept); it restarts`);
        this.startNode(node);
        return;
      }
      default:
        assertNever(fault, 'fault');
    }
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

  /**
   * How many of the last `count` entries of `node`'s disk every other
   * node's disk also holds (same index and term): what `node` may lose while
   * each entry it loses stays on every other disk. A committed entry then
   * stays on a majority, so the fault cannot break a correct node's safety
   * (only its liveness, if the leader never catches the follower up: issue
   * 15 defect 4); losing more would be a test of the fault, not of the node.
   */
  private tailHeldElsewhere(node: SimNode, count: number): number {
    const own = node.disk.durableState()?.entries ?? [];
    const others = this.nodes.filter((n) => n !== node).map((n) => n.disk.durableState()?.entries ?? []);
    let k = 0;
    while (k < Math.min(count, own.length)) {
      const e = own[own.length - 1 - k]!;
      if (!others.every((log) => log[e.index - 1]?.term === e.term)) break;
      k++;
    }
    return k;
  }

  /** The k-th (mod their count) running node that is not the current leader, or null. */
  private follower(k: number): SimNode | null {
    const leader = this.currentLeader();
    const followers = this.nodes.filter((n) => n.host !== null && n !== leader);
    return followers.length === 0 ? null : followers[((k % followers.length) + followers.length) % followers.length]!;
  }

  /**
   * With `convergenceRequired`: true once every running node holds the
   * leader's log up to its commitIndex, or once the time allowed for it
   * (two maximum election timeouts after the workload ended) is over.
   */
  private converged(): boolean {
    if (!this.convergenceRequired) return true;
    this.convergenceDeadlineMs ??= this.queue.now + 2 * this.options.electionTimeoutMsMax;
    return this.lagging() === null || this.queue.now >= this.convergenceDeadlineMs;
  }

  /** Which running node has not caught up with the leader, or null when all have. */
  private lagging(): string | null {
    const leader = this.currentLeader();
    if (leader === null) return 'no node leads';
    const target = leader.host!.raft().status();
    for (const node of this.nodes) {
      const st = node.host?.raft().status();
      if (st === undefined || node === leader) continue;
      if (st.commitIndex < target.commitIndex || st.lastLogIndex < target.commitIndex) {
        return `${node.id} never caught up with leader ${leader.id} (term ${target.currentTerm}, commitIndex ${target.commitIndex}): ` +
          `its lastLogIndex is ${st.lastLogIndex} and commitIndex ${st.commitIndex}`;
      }
    }
    return null;
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

  /** End of the fault window: restart everyone, heal the network, let clocks run at rate 1 again. */
  private healAll(): void {
    this.healed = true;
    this.mixEvent(TraceKind.fault, 0xffff, 0);
    this.history.add({ process: 'nemesis', type: 'info', f: 'heal_all', value: null }, this.queue.now);
    this.note(TraceKind.fault, 0xffff, () => 'heal all: partitions healed, network reliable, clock rates 1, crashed nodes restart');
    this.network.healPartitions();
    this.network.setProfile(networkProfiles.reliable);
    for (const node of this.nodes) {
      node.clockRate = 1;
      node.clock?.adjust({ rate: 1 });
      // A node that refused to start on injected damage gets its own data back (undone flips), as an operator restores a backup.
      if (node.refused !== null && node.disk.repair()) {
        node.refused = null;
        this.note(TraceKind.corrupt, node.index, () => `${node.id} disk repaired (injected bit flips undone)`);
      }
      this.startNode(node);
      this.touched.add(node);
    }
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
    for (const op of this.history.ops) {
      if (op.type === 'ok') this.stats.opsOk++;
      else if (op.type === 'fail') this.stats.opsFail++;
      else if (op.type === 'info' && typeof op.process === 'number') this.stats.opsInfo++;
    }
    for (const node of this.nodes) node.host?.stop();
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
