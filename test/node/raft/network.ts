/**
 * A tiny in-test network for RaftNode unit tests (etcd-io/raft's `network`
 * in raft_test.go): it plays the driver, honouring the Ready contract
 * (persist hardState and entries, then send, then apply), and routes
 * messages between cores with crash, isolate, cut and per-message filters.
 * Persistence is an in-memory "disk" per node, so crash/restart rebuilds a
 * core from exactly what it had persisted.
 */
import { expect } from 'vitest';
import { createPrng } from '../../../node/raft/prng.js';
import { RaftNode } from '../../../node/raft/raft.js';
import {
  safeCoreFlags,
  type Entry,
  type HardState,
  type NodeId,
  type RaftConfig,
  type RaftMessage,
  type ReadRejection,
  type ReadState,
  type Ready,
} from '../../../node/raft/types.js';

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

interface Disk {
  hardState: HardState;
  entries: Entry[];
}

export class Network {
  readonly ids: readonly NodeId[];
  readonly nodes = new Map<NodeId, RaftNode>();
  readonly disks = new Map<NodeId, Disk>();
  /** Entries applied by each node's state machine since its last (re)start, in order. */
  readonly applied = new Map<NodeId, Entry[]>();
  readonly readStates = new Map<NodeId, ReadState[]>();
  readonly readRejections = new Map<NodeId, ReadRejection[]>();
  /** Messages sent and not yet delivered or dropped, FIFO. */
  queue: RaftMessage[] = [];
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
    stored: (id: NodeId) => { hardState: HardState; entries: Entry[] } = () => ({ hardState: { currentTerm: 0, votedFor: null }, entries: [] }),
  ) {
    this.ids = typeof idsOrCount === 'number' ? ids(idsOrCount) : idsOrCount;
    this.seed = seed;
    for (const [i, id] of this.ids.entries()) {
      const nodeOverrides = typeof overrides === 'function' ? overrides(id) : overrides;
      this.configs.set(id, makeConfig(id, this.ids, nodeOverrides));
      const disk = stored(id);
      this.disks.set(id, { hardState: disk.hardState, entries: [...disk.entries] });
      this.start(id, seed * 1000 + i);
    }
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
    this.nodes.set(id, new RaftNode(config, { hardState: disk.hardState, entries: [...disk.entries] }, createPrng(seed)));
    this.applied.set(id, []);
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
    if (ready.hardState !== null) disk.hardState = ready.hardState;
    const first = ready.entriesToAppend[0];
    if (first !== undefined) {
      expect(first.index, 'entriesToAppend starts within or right after the stored log').toBeLessThanOrEqual(disk.entries.length + 1);
      disk.entries.length = first.index - 1;
      disk.entries.push(...ready.entriesToAppend);
    }
    if (!this.down.has(id)) {
      for (const message of ready.messages) {
        this.sent.push(message);
        this.queue.push(message);
      }
    }
    const applied = this.applied.get(id) ?? [];
    for (const entry of ready.committedEntries) {
      expect(entry.index, `${id} applies entries in order`).toBe(applied.length + 1);
      applied.push(entry);
    }
    this.readStates.get(id)?.push(...ready.readStates);
    this.readRejections.get(id)?.push(...ready.readRejections);
    return ready;
  }

  processAll(): void {
    for (const id of this.ids) this.processReady(id);
  }

  private deliverable(message: RaftMessage): boolean {
    if (this.down.has(message.from) || this.down.has(message.to)) return false;
    if (this.cuts.has(`${message.from}->${message.to}`)) return false;
    return this.filter === null || this.filter(message);
  }

  /** Deliver one message (already removed from the queue) and let its receiver react. */
  deliver(message: RaftMessage): void {
    if (!this.deliverable(message)) return;
    this.node(message.to).step(message);
    this.processReady(message.to);
  }

  /** Process every Ready and deliver every message until the network is quiet. */
  stabilize(maxMessages = 100_000): void {
    this.processAll();
    let delivered = 0;
    while (this.queue.length > 0) {
      const message = this.queue.shift();
      if (message === undefined) break;
      this.deliver(message);
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
