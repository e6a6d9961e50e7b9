/**
 * A tiny in-test network for RaftNode unit tests (etcd-io/raft's `network`
 * in raft_test.go): it plays the driver, honouring the Ready contract
 * (install a snapshot, persist hardState and entries, then send, then
 * restore and apply, then take a requested snapshot and drop what the core
 * discarded), and routes messages between cores with crash, isolate, cut
 * and per-message filters. Persistence is an in-memory "disk" per node
 * (disk.ts), so crash/restart rebuilds a core from exactly what it had
 * persisted.
 *
 * InstallSnapshot streams (Ready.snapshotsToSend) wait in their own queue
 * with the sender's snapshot contents; delivering one stages the contents
 * at the receiver and steps the message (the stream arrived whole), then
 * reports `finished` to the sender; dropping one reports `failed`.
 */
import { expect } from 'vitest';
import { createPrng } from '../../../node/raft/prng.js';
import { RaftNode } from '../../../node/raft/raft.js';
import {
  safeCoreFlags,
  type Entry,
  type HardState,
  type InstallSnapshot,
  type NodeId,
  type RaftConfig,
  type RaftMessage,
  type ReadRejection,
  type ReadState,
  type Ready,
  type SnapshotMeta,
} from '../../../node/raft/types.js';
import { applyReady, discardEntries, persistReady, saveSnapshot, storedState, type Disk } from './disk.js';

export type ConfigOverrides = Partial<Omit<RaftConfig, 'id' | 'peers'>>;

export function makeConfig(id: NodeId, peers: readonly NodeId[], overrides: ConfigOverrides = {}): RaftConfig {
  return {
    id,
    peers,
    electionTimeoutTicksMin: 10,
    electionTimeoutTicksMax: 19,
    heartbeatIntervalTicks: 2,
    preVote: false,
    checkQuorum: false,
    maxAppendBytes: 64 * 1024,
    maxInflightAppends: 256,
    maxUncommittedBytes: 1 << 30,
    maxPendingReads: 1024,
    leaseTicks: null,
    unsafe: safeCoreFlags,
    ...overrides,
  };
}

export function ids(count: number): NodeId[] {
  return Array.from({ length: count }, (_, i) => `n${i + 1}`);
}

/** Entries with the given terms at indices 1..n (commands "t<term>i<index>"). */
export function entriesOfTerms(terms: readonly number[]): Entry[] {
  return terms.map((term, i) => ({ term, index: i + 1, type: 'command', data: `t${term}i${i + 1}` }));
}

export function termsOf(entries: readonly Entry[]): number[] {
  return entries.map((entry) => entry.term);
}

/** An InstallSnapshot stream in flight, with the contents it carries (the sender's snapshot when it started). */
export interface SnapshotStream {
  readonly message: InstallSnapshot;
  readonly contents: readonly Entry[];
}

export class Network {
  private readonly members: NodeId[];
  readonly nodes = new Map<NodeId, RaftNode>();
  readonly disks = new Map<NodeId, Disk>();
  /**
   * Each node's state machine: the entries it applied, entry i at position
   * i - 1. A restart rebuilds it from the snapshot's contents (or from
   * nothing) and the entries applied after.
   */
  readonly applied = new Map<NodeId, Entry[]>();
  readonly readStates = new Map<NodeId, ReadState[]>();
  readonly readRejections = new Map<NodeId, ReadRejection[]>();
  /** Messages sent and not yet delivered or dropped, FIFO. */
  queue: RaftMessage[] = [];
  /** InstallSnapshot streams started and not yet delivered or dropped, FIFO. */
  snapshotQueue: SnapshotStream[] = [];
  /** Snapshot contents staged at a receiver while its core decides (Ready.snapshotToInstall). */
  private readonly staged = new Map<NodeId, readonly Entry[]>();
  /** Counters: snapshots taken (snapshotRequest honoured) and installed, for tests that must not be vacuous. */
  readonly snapshotCounts = { taken: 0, installed: 0, streamsDelivered: 0, streamsFailed: 0 };
  /** Every message any node sent, in order (for counting in tests). */
  readonly sent: RaftMessage[] = [];
  /** Delivery filter: return false to drop a message. */
  filter: ((message: RaftMessage) => boolean) | null = null;
  private readonly down = new Set<NodeId>();
  private readonly cuts = new Set<string>();
  private readonly configs = new Map<NodeId, RaftConfig>();
  private restarts = 0;
  private readonly seed: number;

  constructor(
    idsOrCount: readonly NodeId[] | number,
    overrides: ConfigOverrides | ((id: NodeId) => ConfigOverrides) = {},
    seed = 1,
    stored: (id: NodeId) => { hardState: HardState; entries: Entry[]; snapshot?: SnapshotMeta | null; snapshotData?: Entry[] } = () => ({
      hardState: { currentTerm: 0, votedFor: null },
      entries: [],
    }),
  ) {
    this.members = [...(typeof idsOrCount === 'number' ? ids(idsOrCount) : idsOrCount)];
    this.seed = seed;
    for (const [i, id] of this.members.entries()) {
      const nodeOverrides = typeof overrides === 'function' ? overrides(id) : overrides;
      this.configs.set(id, makeConfig(id, [...this.members], nodeOverrides));
      const disk = stored(id);
      const snapshot = disk.snapshot ?? null;
      // Without given contents, a stored snapshot stands for noops (what the test does not care about).
      const snapshotData =
        disk.snapshotData ??
        (snapshot === null
          ? []
          : Array.from({ length: snapshot.index }, (_, k): Entry => ({ term: 1, index: k + 1, type: 'noop', data: '' })));
      this.disks.set(id, { hardState: disk.hardState, entries: [...disk.entries], snapshot, snapshotData });
      this.start(id, seed * 1000 + i);
    }
  }

  /** Every node, in the order they were created (the initial ones, then those added). */
  get ids(): readonly NodeId[] {
    return this.members;
  }

  /**
   * A new server joining the cluster (dissertation §4.2.1): it starts empty,
   * with no configuration of its own (`joining`), and learns the cluster's
   * from the leader once a leader adds it (proposeConfChange add_learner).
   */
  addNode(id: NodeId, overrides: ConfigOverrides = {}): void {
    if (this.nodes.has(id)) throw new Error(`node ${id} exists`);
    this.members.push(id);
    this.configs.set(id, makeConfig(id, [...this.members], { joining: true, ...overrides }));
    this.disks.set(id, { hardState: { currentTerm: 0, votedFor: null }, entries: [], snapshot: null, snapshotData: [] });
    this.start(id, this.seed * 1000 + this.members.length - 1);
  }

  node(id: NodeId): RaftNode {
    const node = this.nodes.get(id);
    if (node === undefined) throw new Error(`no node ${id}`);
    return node;
  }

  private start(id: NodeId, seed: number): void {
    const disk = this.disks.get(id);
    const config = this.configs.get(id);
    if (disk === undefined || config === undefined) throw new Error(`no node ${id}`);
    this.nodes.set(id, new RaftNode(config, storedState(disk), createPrng(seed)));
    this.staged.delete(id);
    // The state machine restarts from the snapshot (§7) and reapplies what follows.
    this.applied.set(id, [...disk.snapshotData]);
    this.readStates.set(id, []);
    this.readRejections.set(id, []);
  }

  /** Play the driver for one node: persist, send, apply (the Ready contract). */
  processReady(id: NodeId): Ready | null {
    const node = this.node(id);
    if (!node.hasReady()) return null;
    const ready = node.ready();
    const disk = this.disks.get(id);
    if (disk === undefined) throw new Error(`no disk ${id}`);
    const staged = ready.snapshotToInstall === null ? null : (this.staged.get(id) ?? null);
    // 1. Durable first: the snapshot to install (and the emptied log), the hard state, the entries.
    persistReady(disk, ready, staged);
    // 2. Send.
    if (!this.down.has(id)) {
      for (const message of ready.messages) {
        this.sent.push(message);
        this.queue.push(message);
      }
      for (const message of ready.snapshotsToSend) {
        expect(disk.snapshot?.index, `${id} streams the snapshot it has`).toBe(message.snapshot.index);
        this.snapshotQueue.push({ message, contents: [...disk.snapshotData] });
      }
    }
    // 3. Restore, apply; 4. reads.
    const applied = this.applied.get(id) ?? [];
    applyReady(applied, ready, staged, id);
    if (ready.snapshotToInstall !== null) {
      this.snapshotCounts.installed++;
      this.staged.delete(id);
    }
    this.readStates.get(id)?.push(...ready.readStates);
    this.readRejections.get(id)?.push(...ready.readRejections);
    // 5. A requested snapshot, taken at once; 6. drop what the core discarded.
    if (ready.snapshotRequest !== null) {
      expect(applied.length, `${id} is at the requested snapshot index`).toBe(ready.snapshotRequest.index);
      saveSnapshot(disk, ready.snapshotRequest, applied);
      node.snapshotTaken(ready.snapshotRequest);
      this.snapshotCounts.taken++;
    }
    if (ready.discardEntriesBefore !== null) discardEntries(disk, ready.discardEntriesBefore);
    // The report usually makes the core compact: handle that Ready now (the driver's drain loop would).
    if (ready.snapshotRequest !== null) this.processReady(id);
    return ready;
  }

  /** The driver takes a snapshot on its own at the node's applied index (not requested by the core). */
  snapshotNow(id: NodeId): SnapshotMeta | null {
    const node = this.node(id);
    const disk = this.disks.get(id);
    const applied = this.applied.get(id) ?? [];
    const meta = node.snapshotMetaAt(applied.length);
    if (disk === undefined || meta === null) return null;
    saveSnapshot(disk, meta, applied);
    node.snapshotTaken(meta);
    this.snapshotCounts.taken++;
    this.processReady(id);
    return meta;
  }

  processAll(): void {
    for (const id of this.ids) this.processReady(id);
  }

  private deliverable(message: RaftMessage | InstallSnapshot): boolean {
    if (this.down.has(message.from) || this.down.has(message.to)) return false;
    if (this.cuts.has(`${message.from}->${message.to}`)) return false;
    return message.type === 'install_snapshot' || this.filter === null || this.filter(message);
  }

  /** Deliver one message (already removed from the queue) and let its receiver react. */
  deliver(message: RaftMessage): void {
    if (!this.deliverable(message)) return;
    this.node(message.to).step(message);
    this.processReady(message.to);
  }

  /**
   * Deliver one InstallSnapshot stream (already removed from its queue): the
   * receiver stages the contents and steps the message; the sender hears
   * `finished`. An undeliverable stream is reported `failed`.
   */
  deliverSnapshot(stream: SnapshotStream): void {
    const { message } = stream;
    if (!this.deliverable(message)) {
      this.dropSnapshot(stream);
      return;
    }
    this.staged.set(message.to, stream.contents);
    this.node(message.to).step(message);
    this.processReady(message.to);
    this.staged.delete(message.to);
    this.snapshotCounts.streamsDelivered++;
    this.report(message, 'finished');
  }

  /** A stream that will never arrive: its driver gives up and reports it (the Ready contract's step 2). */
  dropSnapshot(stream: SnapshotStream): void {
    this.snapshotCounts.streamsFailed++;
    this.report(stream.message, 'failed');
  }

  private report(message: InstallSnapshot, outcome: 'finished' | 'failed'): void {
    if (this.down.has(message.from)) return;
    this.node(message.from).reportSnapshot(message.to, outcome);
    this.processReady(message.from);
  }

  /** Process every Ready and deliver every message (snapshot streams once datagrams are through) until the network is quiet. */
  stabilize(maxMessages = 100_000): void {
    this.processAll();
    let delivered = 0;
    while (this.queue.length > 0 || this.snapshotQueue.length > 0) {
      const message = this.queue.shift();
      if (message !== undefined) this.deliver(message);
      else {
        const stream = this.snapshotQueue.shift();
        if (stream !== undefined) this.deliverSnapshot(stream);
      }
      delivered++;
      if (delivered > maxMessages) throw new Error('network did not stabilize');
    }
  }

  /** Tick nodes (all live ones by default) `times` times, stabilizing after each round. */
  tick(times = 1, which: readonly NodeId[] = this.ids): void {
    for (let t = 0; t < times; t++) {
      for (const id of which) if (!this.down.has(id)) this.node(id).tick();
      this.stabilize();
    }
  }

  campaign(id: NodeId): void {
    this.node(id).campaign();
    this.stabilize();
  }

  propose(id: NodeId, data: string): void {
    const result = this.node(id).propose(data);
    expect(result.ok, `propose on ${id}`).toBe(true);
    this.stabilize();
  }

  isolate(id: NodeId): void {
    for (const other of this.ids) {
      if (other === id) continue;
      this.cuts.add(`${id}->${other}`);
      this.cuts.add(`${other}->${id}`);
    }
  }

  cut(a: NodeId, b: NodeId): void {
    this.cuts.add(`${a}->${b}`);
    this.cuts.add(`${b}->${a}`);
  }

  heal(): void {
    this.cuts.clear();
    this.filter = null;
  }

  /** Stop a node: it keeps its disk; nothing to or from it is delivered. */
  crash(id: NodeId): void {
    this.down.add(id);
  }

  /** Restart a crashed node from its disk (volatile state lost, as after a real crash). */
  restart(id: NodeId): void {
    this.down.delete(id);
    this.restarts++;
    this.start(id, this.seed * 1000 + 500 + this.restarts);
  }

  isDown(id: NodeId): boolean {
    return this.down.has(id);
  }

  /** The live leader with the highest term, or null. */
  leader(): NodeId | null {
    let best: NodeId | null = null;
    let bestTerm = -1;
    for (const id of this.ids) {
      if (this.down.has(id)) continue;
      const status = this.node(id).status();
      if (status.role === 'leader' && status.currentTerm > bestTerm) {
        best = id;
        bestTerm = status.currentTerm;
      }
    }
    return best;
  }

  /** Tick everyone until some live node leads (bounded). */
  waitForLeader(maxTicks = 500): NodeId {
    for (let t = 0; t < maxTicks; t++) {
      const leader = this.leader();
      if (leader !== null) return leader;
      this.tick(1);
    }
    throw new Error(`no leader within ${maxTicks} ticks`);
  }
}
