/**
 * What the cluster looked like while the faults ran: the evidence beside the
 * history that says whether each fault took effect (issue 20). Two records,
 * both stamped on the history's clock (HistoryRecorder.nowMs) so they line
 * up with the ops:
 *
 * - node observations: every `pollMs` each node is asked for its status
 *   (role, term, leader), or noted down (not running), paused (SIGSTOPped by
 *   the nemesis) or silent (no answer in time). Only changes are kept, so a
 *   long quiet run costs little; bounded by `maxSamples`.
 * - the network's per-link counters (where the fault layer keeps them: the
 *   relay), read at every nemesis op, keyed by the op's history index: what
 *   each fault did to each link is the difference between its start and its
 *   stop.
 *
 * Sampled, not exact: an election shorter than the poll interval can be
 * seen as a direct handover. The evidence states the interval.
 */
import type { NodeView } from '../db/db.js';
import type { LinkCounters, NetworkControl } from '../net/types.js';
import type { ClientLinkControl } from '../net/client-relay.js';

export type NodeObs =
  | { readonly kind: 'down' }
  | { readonly kind: 'paused' }
  | { readonly kind: 'silent' }
  | { readonly kind: 'up'; readonly role: NodeView['role']; readonly term: number; readonly leaderId: string | null };

export interface WatchSample {
  /** Milliseconds since the history's time zero. */
  readonly atMs: number;
  readonly nodes: Readonly<Record<string, NodeObs>>;
}

/** The leader the cluster as a whole follows at one sample (see clusterLeader). */
export interface LeaderObs {
  readonly id: string;
  readonly term: number;
}

export interface NetSnapshot {
  readonly atMs: number;
  readonly links: Readonly<Record<string, LinkCounters>>;
}

/** What the watch needs of a cluster (db/cluster.ts DbCluster provides it). */
export interface WatchedCluster {
  readonly nodeIds: readonly string[];
  readonly net: NetworkControl;
  /** The client links' relay, where clients go through one (client-loss): its counters join the peer links'. */
  readonly clientNet?: ClientLinkControl | null;
  isAlive(id: string): boolean;
  isPaused(id: string): boolean;
  status(id: string, timeoutMs?: number): Promise<NodeView | null>;
}

export interface ClusterWatchOptions {
  /** The history's clock (ms since its time zero). */
  readonly nowMs: () => number;
  /** Default 100 ms. */
  readonly pollMs?: number;
  /** Changed samples kept (default 20,000); later ones are counted, not kept. */
  readonly maxSamples?: number;
  /**
   * Called after every poll (the starvation monitor reads the nodes' run-queue waits then), with the run-queue waits
   * (ms, by node id) the nodes reported in the statuses of this poll.
   */
  readonly afterPoll?: (reportedWaitMs: ReadonlyMap<string, number>) => void;
}

/**
 * The leader the cluster follows: a node that says it leads in the highest
 * term any answering node reports. A deposed leader cut off from the others
 * still claims its old term, but once a candidate has moved on to a higher
 * one it no longer counts; mid-election there is none (null).
 */
export function clusterLeader(nodes: Readonly<Record<string, NodeObs>>): LeaderObs | null {
  let maxTerm = -1;
  for (const o of Object.values(nodes)) if (o.kind === 'up' && o.term > maxTerm) maxTerm = o.term;
  for (const [id, o] of Object.entries(nodes))
    if (o.kind === 'up' && o.role === 'leader' && o.term === maxTerm) return { id, term: o.term };
  return null;
}

function sameObs(a: NodeObs | undefined, b: NodeObs): boolean {
  if (a === undefined || a.kind !== b.kind) return false;
  if (a.kind !== 'up' || b.kind !== 'up') return true;
  return a.role === b.role && a.term === b.term && a.leaderId === b.leaderId;
}

export class ClusterWatch {
  readonly pollMs: number;
  private readonly maxSamples: number;
  private readonly kept: WatchSample[] = [];
  private droppedSamples = 0;
  private readonly snapshots = new Map<number, NetSnapshot>();
  /** The run-queue waits the nodes reported in the last poll's statuses (NodeStatus.runQueueWaitMs). */
  private reportedWaitMs = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private polling: Promise<void> | null = null;
  private last: Record<string, NodeObs> = {};

  constructor(
    private readonly cluster: WatchedCluster,
    private readonly opts: ClusterWatchOptions,
  ) {
    this.pollMs = opts.pollMs ?? 100;
    this.maxSamples = opts.maxSamples ?? 20_000;
  }

  /** Starts polling (a first sample at once). */
  start(): void {
    if (this.timer !== null) return;
    void this.poll();
    this.timer = setInterval(() => void this.poll(), this.pollMs);
    this.timer.unref();
  }

  /** Stops polling; waits for a poll in flight. Idempotent. */
  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await this.polling;
  }

  /** Takes one sample now (also used at moments that matter: the end of the heal). */
  poll(): Promise<void> {
    if (this.polling !== null) return this.polling;
    this.polling = this.sample().finally(() => {
      this.polling = null;
      this.opts.afterPoll?.(this.reportedWaitMs);
    });
    return this.polling;
  }

  /** The network's per-link counters now, kept under a nemesis op's history index (no-op where not counted). */
  snapshotNet(historyIndex: number): void {
    const peers = this.cluster.net.linkStats?.();
    // The client links (client-loss) are counted beside the peer links, under keys of their own (clients>n1, n1>clients).
    const clients = this.cluster.clientNet?.linkStats() ?? undefined;
    if (peers === undefined && clients === undefined) return;
    this.snapshots.set(historyIndex, { atMs: this.opts.nowMs(), links: { ...peers, ...clients } });
  }

  /** Whether the network's links are counted at all (the relay: yes; netns: no). */
  get countsLinks(): boolean {
    return this.cluster.net.linkStats !== undefined || (this.cluster.clientNet ?? null) !== null;
  }

  netAt(historyIndex: number): NetSnapshot | null {
    return this.snapshots.get(historyIndex) ?? null;
  }

  /** The kept samples (changes only), in time order. */
  samples(): readonly WatchSample[] {
    return this.kept;
  }

  /** Samples that changed something but were not kept (beyond maxSamples). */
  get dropped(): number {
    return this.droppedSamples;
  }

  /** The leader as last observed (the status line). */
  currentLeader(): string | null {
    return clusterLeader(this.last)?.id ?? null;
  }

  private async sample(): Promise<void> {
    const { cluster } = this;
    const timeoutMs = Math.max(50, Math.min(300, 3 * this.pollMs));
    const reported = new Map<string, number>();
    const entries = await Promise.all(
      cluster.nodeIds.map(async (id): Promise<[string, NodeObs]> => {
        if (!cluster.isAlive(id)) return [id, { kind: 'down' }];
        if (cluster.isPaused(id)) return [id, { kind: 'paused' }];
        const s = await cluster.status(id, timeoutMs).catch(() => null);
        // Asked while running, answered null: it died, was paused meanwhile, or is too slow to answer.
        if (s === null)
          return [id, !cluster.isAlive(id) ? { kind: 'down' } : cluster.isPaused(id) ? { kind: 'paused' } : { kind: 'silent' }];
        if (s.runQueueWaitMs !== undefined) reported.set(id, s.runQueueWaitMs);
        return [id, { kind: 'up', role: s.role, term: s.currentTerm, leaderId: s.leaderId }];
      }),
    );
    this.reportedWaitMs = reported;
    const atMs = this.opts.nowMs();
    const nodes = Object.fromEntries(entries);
    const changed = this.kept.length === 0 || entries.some(([id, o]) => !sameObs(this.last[id], o));
    this.last = nodes;
    if (!changed) return;
    if (this.kept.length >= this.maxSamples) {
      this.droppedSamples++;
      return;
    }
    this.kept.push({ atMs, nodes });
  }
}
