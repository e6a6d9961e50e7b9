/**
 * The userspace UDP relay (default network mode, no root needed).
 *
 * One socket per directed link i→j, bound on 127.0.0.1. Node i's config routes
 * its datagrams for j to that socket. A datagram arriving on link (i→j) is sent
 * to node j's real port FROM the link socket (j→i), so the source address j sees
 * is exactly the address j itself uses to reach i: replies to the source go back
 * through the relay too.
 *
 * Per link: blocked (partition; or votes only, into one node: onlyVotesTo),
 * loss, delay + jitter (jitter reorders), and duplication (the copy leaves
 * after a small random extra delay, so duplicates can arrive reordered as
 * well). All randomness comes from a seeded PRNG.
 * Delayed datagrams wait in one bounded min-heap with one timer.
 *
 * A replay stage (replay-stage.ts), once a replay fault has started, holds
 * back or copies AppendEntries and gives them back to deliver later, across
 * terms. Every counter is kept per link too (linkStats: what each fault did
 * to which link, for the run's per-fault evidence).
 *
 * Every datagram that arrives from its link's sender is also shown to the
 * wire invariant monitor (monitor.ts), before any fault drops it. The monitor
 * needs the peer secret, which exists only after the relay's addresses are
 * in the config, so until `attachMonitor` the relay keeps the first datagrams
 * (bounded) and replays them to the monitor when it is attached: the first
 * election is judged too.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { Rng } from '../rng.js';
import { DelayQueue } from './delay-queue.js';
import type { GrantedVote, RaftWireMonitor } from './monitor.js';
import { peekAppendEntries, peekIsVote } from '../../node/transport/peek.js';
import { ReplayStage, type ReleasedDatagram, type ReplaySettings } from './replay-stage.js';
import {
  grudgeToBlockedLinks,
  linkKey,
  validatePacketFaults,
  zeroLinkCounters,
  type Grudge,
  type LinkCounters,
  type NetStats,
  type NetworkControl,
  type PacketFaults,
  type WireMonitorReport,
} from './types.js';

export interface RelayNode {
  readonly id: string;
  readonly host: string;
  readonly port: number;
}

export interface RelayOptions {
  readonly nodes: readonly RelayNode[];
  readonly seed: number;
  /** Where the link sockets bind. Default 127.0.0.1. */
  readonly host?: string;
  /** Bound on datagrams waiting in the delay queue; beyond it they are dropped (counted as overflow). Default 10,000. */
  readonly maxDelayed?: number;
  /** Datagrams kept for a monitor attached later (default 4,096); beyond it they are not shown to it (counted). */
  readonly maxBeforeMonitor?: number;
}

/** `forwarded` counts every datagram sent on to its destination, duplicate copies included. */
export interface RelayStats extends NetStats {
  /** Datagrams received on link sockets from the expected sender. */
  received: number;
  /** Dropped because the link was partitioned (on arrival or at delayed delivery). */
  blocked: number;
  /** Dropped by random loss. */
  lost: number;
  /** Dropped because the delay queue was full. */
  overflow: number;
  /** Datagrams from an unexpected source address (not the link's sender): dropped. */
  foreign: number;
  /** send() callbacks that reported an error. */
  sendErrors: number;
}

interface Link {
  readonly from: RelayNode;
  readonly to: RelayNode;
  readonly socket: Socket;
  lossRate: number;
  delayMs: number;
  jitterMs: number;
  duplicateRate: number;
  readonly counters: LinkCounters;
}

function bindSocket(host: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket({ type: 'udp4', recvBufferSize: 1 << 20, sendBufferSize: 1 << 20 });
    socket.once('error', reject);
    socket.bind(0, host, () => {
      socket.off('error', reject);
      resolve(socket);
    });
  });
}

export class UdpRelay implements NetworkControl {
  private readonly links = new Map<string, Link>();
  private blocked = new Set<string>();
  private readonly rng: Rng;
  private readonly queue: DelayQueue;
  private closed = false;
  private monitor: RaftWireMonitor | null = null;
  /** Datagrams seen before a monitor was attached (null once attached or full). */
  private beforeMonitor: Buffer[] | null = [];
  private readonly maxBeforeMonitor: number;
  /** Datagrams the monitor never saw (arrived while the pre-monitor buffer was full). */
  private unmonitored = 0;
  private readonly counters: RelayStats = {
    forwarded: 0,
    dropped: 0,
    duplicated: 0,
    delayed: 0,
    received: 0,
    blocked: 0,
    lost: 0,
    overflow: 0,
    foreign: 0,
    sendErrors: 0,
  };
  /** Created by the first replay fault (until then no datagram is peeked at or kept). */
  private replay: ReplayStage | null = null;
  private replayTimer: NodeJS.Timeout | null = null;
  /** The node that hears only votes (onlyVotesTo), or null. */
  private votesOnlyTo: string | null = null;

  private constructor(
    readonly nodes: readonly RelayNode[],
    seed: number,
    maxDelayed: number,
    maxBeforeMonitor: number,
  ) {
    this.rng = new Rng(seed);
    this.queue = new DelayQueue(maxDelayed);
    this.maxBeforeMonitor = maxBeforeMonitor;
  }

  static async start(opts: RelayOptions): Promise<UdpRelay> {
    const ids = new Set(opts.nodes.map((n) => n.id));
    if (ids.size !== opts.nodes.length) throw new Error('relay: duplicate node ids');
    const relay = new UdpRelay(opts.nodes, opts.seed, opts.maxDelayed ?? 10_000, opts.maxBeforeMonitor ?? 4096);
    const host = opts.host ?? '127.0.0.1';
    try {
      for (const from of opts.nodes) {
        for (const to of opts.nodes) {
          if (from.id === to.id) continue;
          const socket = await bindSocket(host);
          const link: Link = { from, to, socket, lossRate: 0, delayMs: 0, jitterMs: 0, duplicateRate: 0, counters: zeroLinkCounters() };
          // A UDP socket error (e.g. ICMP-induced on some platforms) must never crash the harness.
          socket.on('error', () => {
            relay.counters.sendErrors++;
          });
          socket.on('message', (msg, rinfo) => relay.onDatagram(link, msg, rinfo));
          relay.links.set(linkKey(from.id, to.id), link);
        }
      }
    } catch (err) {
      relay.close();
      throw err;
    }
    return relay;
  }

  /** The address node `from` must send to in order to reach `to` through the relay. */
  linkAddress(from: string, to: string): { host: string; port: number } {
    const link = this.links.get(linkKey(from, to));
    if (link === undefined) throw new Error(`relay: no link ${from}→${to}`);
    const a = link.socket.address();
    return { host: a.address, port: a.port };
  }

  /** ClusterConfig.routes: every directed peer link points at its relay socket. */
  routes(): Record<string, Record<string, string>> {
    const routes: Record<string, Record<string, string>> = {};
    for (const link of this.links.values()) {
      const a = link.socket.address();
      (routes[link.from.id] ??= {})[link.to.id] = `${a.address}:${a.port}`;
    }
    return routes;
  }

  async partition(grudge: Grudge): Promise<void> {
    this.blocked = grudgeToBlockedLinks(
      grudge,
      this.nodes.map((n) => n.id),
    );
  }

  async heal(): Promise<void> {
    this.blocked = new Set();
  }

  /** Directed links currently cut, as [from, to]. */
  blockedLinks(): [string, string][] {
    return [...this.blocked].map((k) => k.split('>') as [string, string]);
  }

  async setFaults(faults: PacketFaults, links?: readonly (readonly [string, string])[]): Promise<void> {
    validatePacketFaults(faults);
    const targets =
      links === undefined
        ? [...this.links.values()]
        : links.map(([f, t]) => {
            const link = this.links.get(linkKey(f, t));
            if (link === undefined) throw new Error(`setFaults: no link ${f}→${t}`);
            return link;
          });
    for (const link of targets) {
      if (faults.lossRate !== undefined) link.lossRate = faults.lossRate;
      if (faults.delayMs !== undefined) link.delayMs = faults.delayMs;
      if (faults.jitterMs !== undefined) link.jitterMs = faults.jitterMs;
      if (faults.duplicateRate !== undefined) link.duplicateRate = faults.duplicateRate;
    }
  }

  async clearFaults(): Promise<void> {
    for (const link of this.links.values()) {
      link.lossRate = 0;
      link.delayMs = 0;
      link.jitterMs = 0;
      link.duplicateRate = 0;
    }
  }

  /** The current packet faults of one link. */
  faults(from: string, to: string): Required<PacketFaults> {
    const link = this.links.get(linkKey(from, to));
    if (link === undefined) throw new Error(`relay: no link ${from}→${to}`);
    return { lossRate: link.lossRate, delayMs: link.delayMs, jitterMs: link.jitterMs, duplicateRate: link.duplicateRate };
  }

  /**
   * Shows every peer datagram to `monitor` from now on, after replaying the
   * ones kept since the relay started. One monitor per relay.
   */
  attachMonitor(monitor: RaftWireMonitor): void {
    if (this.monitor !== null) throw new Error('relay: a monitor is already attached');
    this.monitor = monitor;
    for (const msg of this.beforeMonitor ?? []) monitor.observe(msg);
    this.beforeMonitor = null;
  }

  onVoteGranted(listener: (vote: GrantedVote) => void): () => void {
    if (this.monitor === null) throw new Error('relay: no monitor attached, so no votes are seen');
    return this.monitor.addVoteListener(listener);
  }

  checkRestartedVoter(vote: GrantedVote, status: { readonly currentTerm: number; readonly votedFor: string | null }): void {
    this.monitor?.checkRestartedVoter(vote, status);
  }

  /** The monitor's findings, or null when none is attached. */
  monitorReport(): WireMonitorReport | null {
    return this.monitor === null ? null : { ...this.monitor.report(), unmonitored: this.unmonitored };
  }

  stats(): RelayStats {
    const c = this.counters;
    return { ...c, dropped: c.blocked + c.lost + c.overflow + c.foreign };
  }

  /** Every link's counters since the relay started, by link key ("n1>n2"). */
  linkStats(): Record<string, LinkCounters> {
    const out: Record<string, LinkCounters> = {};
    for (const [key, link] of this.links) out[key] = { ...link.counters };
    return out;
  }

  /**
   * Starts (settings) or stops (null) the replay fault. Stopping holds no new
   * datagram; those held still arrive late, each at its own time, unless
   * `flush` delivers them all now (the final heal).
   */
  async setReplay(settings: ReplaySettings | null, flush = false): Promise<void> {
    if (settings === null && this.replay === null) return;
    this.replay ??= new ReplayStage();
    this.replay.set(settings);
    if (flush) this.releaseLater(this.replay.releaseAllHeld(), performance.now());
    this.armReplayTimer();
  }

  /**
   * Holds every AppendEntries `node` sends from now on (null: no longer),
   * each delivered once, late: when `node` leads a later term on that link,
   * or maxAgeMs after it was held (ReplayStage.holdAllFrom).
   */
  async holdAllFrom(node: string | null, maxAgeMs?: number): Promise<void> {
    if (node === null && this.replay === null) return;
    if (node !== null && !this.nodes.some((n) => n.id === node)) throw new Error(`relay: unknown node ${node}`);
    this.replay ??= new ReplayStage();
    this.replay.holdAllFrom(node, maxAgeMs);
  }

  async onlyVotesTo(node: string | null): Promise<void> {
    if (node !== null && !this.nodes.some((n) => n.id === node)) throw new Error(`relay: unknown node ${node}`);
    this.votesOnlyTo = node;
  }

  /** While anything is held: deliver each held datagram when its time is up. */
  private armReplayTimer(): void {
    if (this.replayTimer !== null || this.replay === null || this.replay.holding === 0 || this.closed) return;
    this.replayTimer = setInterval(() => {
      const stage = this.replay;
      if (stage === null) return;
      const now = performance.now();
      this.releaseLater(stage.expire(now), now);
      if (stage.holding === 0 && this.replayTimer !== null) {
        clearInterval(this.replayTimer);
        this.replayTimer = null;
      }
    }, 50);
    this.replayTimer.unref();
  }

  /** Datagrams held back by the replay stage now. */
  get holding(): number {
    return this.replay?.holding ?? 0;
  }

  /** Datagrams waiting in the delay queue. */
  get queued(): number {
    return this.queue.size;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.replayTimer !== null) clearInterval(this.replayTimer);
    this.replayTimer = null;
    this.queue.close();
    this.beforeMonitor = null;
    for (const link of this.links.values()) {
      try {
        link.socket.close();
      } catch {
        // already closed
      }
    }
  }

  /** Whether a partition cuts the link, or its receiver hears only votes and this is none. */
  private cut(key: string, link: Link, msg: Buffer): boolean {
    return this.blocked.has(key) || (this.votesOnlyTo === link.to.id && !peekIsVote(msg));
  }

  private random(): number {
    return this.rng.float();
  }

  private onDatagram(link: Link, msg: Buffer, rinfo: RemoteInfo): void {
    if (this.closed) return;
    if (rinfo.port !== link.from.port || rinfo.address !== link.from.host) {
      this.counters.foreign++;
      return;
    }
    this.count(link, 'received');
    if (this.monitor !== null) this.monitor.observe(msg);
    else if (this.beforeMonitor !== null && this.beforeMonitor.length < this.maxBeforeMonitor) this.beforeMonitor.push(msg);
    else this.unmonitored++;
    const key = linkKey(link.from.id, link.to.id);
    if (this.cut(key, link, msg)) {
      this.count(link, 'blocked');
      return;
    }
    if (link.lossRate > 0 && this.random() < link.lossRate) {
      this.count(link, 'lost');
      return;
    }
    const now = performance.now();
    if (this.replay !== null) {
      const ae = peekAppendEntries(msg);
      if (ae !== null && ae.from === link.from.id) {
        const { hold, release } = this.replay.onAppendEntries(key, ae.term, msg, now, () => this.random());
        this.releaseLater(release, now);
        if (hold) {
          this.count(link, 'held');
          this.armReplayTimer();
          return;
        }
      }
    }
    const delay = link.delayMs + (link.jitterMs > 0 ? this.random() * link.jitterMs : 0);
    if (delay > 0) this.enqueue(now + delay, key, link, msg);
    else this.deliver(key, link, msg);
    if (link.duplicateRate > 0 && this.random() < link.duplicateRate) {
      this.count(link, 'duplicated');
      // The copy trails the original by a small random gap (up to 5 ms, or the
      // jitter if larger), so it can also be overtaken by later datagrams.
      const gap = 0.1 + this.random() * Math.max(5, link.jitterMs);
      this.enqueue(now + delay + gap, key, link, msg);
    }
  }

  /** Delivers what the replay stage released, releaseGapMs from now (after the datagram that triggered it). */
  private releaseLater(released: readonly ReleasedDatagram[], nowMs: number): void {
    if (released.length === 0 || this.replay === null) return;
    for (const r of released) {
      const link = this.links.get(r.link);
      if (link === undefined) continue;
      if (r.how === 'replayed') this.count(link, 'replayed');
      if (r.how === 'held' && r.acrossTerms) this.count(link, 'heldAcrossTerms');
      if (!this.queue.push(nowMs + this.replay.releaseGapMs, () => this.deliver(r.link, link, r.msg))) this.count(link, 'overflow');
    }
  }

  private count(link: Link, what: (keyof LinkCounters & keyof RelayStats) | 'held' | 'replayed' | 'heldAcrossTerms'): void {
    link.counters[what]++;
    if (what !== 'held' && what !== 'replayed' && what !== 'heldAcrossTerms') this.counters[what]++;
  }

  private enqueue(dueMs: number, key: string, link: Link, msg: Buffer): void {
    if (this.queue.push(dueMs, () => this.deliver(key, link, msg))) this.count(link, 'delayed');
    else this.count(link, 'overflow');
  }

  private deliver(key: string, link: Link, msg: Buffer): void {
    if (this.closed) return;
    // A partition that started while the datagram was delayed drops it too
    // (Jepsen drops on the receiver's INPUT chain: in-flight packets die).
    if (this.cut(key, link, msg)) {
      this.count(link, 'blocked');
      return;
    }
    const reverse = this.links.get(linkKey(link.to.id, link.from.id));
    if (reverse === undefined) return; // impossible: links are created in pairs
    this.count(link, 'forwarded');
    reverse.socket.send(msg, link.to.port, link.to.host, (err) => {
      if (err) this.count(link, 'sendErrors');
    });
  }
}
