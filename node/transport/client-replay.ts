/**
 * Replay protection for client datagrams, on the receiving node.
 *
 * Clients are many, short-lived and unknown in advance, so their state must
 * be bounded, and a client instance cannot persist anything. Each client
 * datagram carries, under its MAC, the client's instance (a random number
 * drawn once per client object), a counter from 1 per instance, and the
 * client's system clock. A node accepts it only if:
 *
 * 1. its timestamp is within ±freshnessMs (W) of the node's own system clock,
 *    so anything captured more than W ago is refused outright; and
 * 2. its counter passes the sliding window of its (sender, instance), so
 *    nothing is accepted twice while it is fresh.
 *
 * The windows live in a table bounded to `maxClients`, least recently used
 * first. An entry is evicted only once everything it accepted has gone
 * stale: a datagram accepted at node time t carried a timestamp of at most
 * t + W, so it is stale after t + 2W. An entry younger than that is never
 * evicted (eviction would re-open a replay); a new client arriving at a full
 * table of such entries is refused instead (`client_table_full`), which only
 * happens when more than `maxClients` client instances spoke in 2W.
 *
 * This needs loosely synchronized clocks between clients and nodes (within
 * W, default 30 s; `ClusterConfig.clientFreshnessMs`); a client whose clock
 * is further off is refused (`stale_timestamp`) until it is fixed.
 */
import { ReplayWindow } from './replay-window.js';

/** A client has one request outstanding, so its datagrams arrive nearly in order: a small window suffices. */
export const CLIENT_WINDOW_SIZE = 64;
export const DEFAULT_MAX_CLIENTS = 65_536;

export type ClientDropReason = 'stale_timestamp' | 'replayed' | 'replay_too_old' | 'client_table_full';

export type ClientVerdict =
  { readonly kind: 'accept' } | { readonly kind: 'drop'; readonly reason: ClientDropReason; readonly detail: string };

interface ClientEntry {
  readonly window: ReplayWindow;
  /** Node clock when this entry last accepted a datagram. */
  lastAcceptedAtMs: number;
}

export interface ClientReplayOptions {
  readonly freshnessMs: number;
  readonly maxClients?: number;
}

const ACCEPT: ClientVerdict = { kind: 'accept' };

export class ClientReplayGuard {
  /** By `${instance}:${sender}`, least recently accepted first (a Map keeps insertion order). */
  private readonly entries = new Map<string, ClientEntry>();
  readonly freshnessMs: number;
  readonly maxClients: number;

  constructor(opts: ClientReplayOptions) {
    this.freshnessMs = opts.freshnessMs;
    this.maxClients = opts.maxClients ?? DEFAULT_MAX_CLIENTS;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Judges an authenticated client datagram at node time `nowMs` and records it if accepted. */
  judge(sender: string, instance: number, counter: number, sentAtMs: number, nowMs: number): ClientVerdict {
    const skewMs = sentAtMs - nowMs;
    if (skewMs > this.freshnessMs || skewMs < -this.freshnessMs) {
      return {
        kind: 'drop',
        reason: 'stale_timestamp',
        detail: `sent at ${sentAtMs}, ${Math.round(skewMs)} ms from this node's clock; the limit is ±${this.freshnessMs} ms (clocks must agree within it)`,
      };
    }
    const key = `${instance}:${sender}`;
    let entry = this.entries.get(key);
    if (entry === undefined) {
      if (this.entries.size >= this.maxClients && !this.evictOldest(nowMs)) {
        return {
          kind: 'drop',
          reason: 'client_table_full',
          detail: `${this.maxClients} client instances spoke within ${2 * this.freshnessMs} ms`,
        };
      }
      entry = { window: new ReplayWindow(CLIENT_WINDOW_SIZE), lastAcceptedAtMs: nowMs };
    }
    const verdict = entry.window.accept(counter);
    if (verdict === 'duplicate')
      return { kind: 'drop', reason: 'replayed', detail: `${sender} instance ${instance} counter ${counter} was already accepted` };
    if (verdict === 'too_old')
      return {
        kind: 'drop',
        reason: 'replay_too_old',
        detail: `${sender} instance ${instance} counter ${counter} is below the window (highest ${entry.window.highest})`,
      };
    entry.lastAcceptedAtMs = nowMs;
    this.entries.delete(key);
    this.entries.set(key, entry);
    return ACCEPT;
  }

  /** Evicts the least recently used entry if everything it accepted is stale by now. */
  private evictOldest(nowMs: number): boolean {
    const oldest = this.entries.entries().next();
    if (oldest.done === true) return false;
    const [key, entry] = oldest.value;
    if (nowMs - entry.lastAcceptedAtMs <= 2 * this.freshnessMs) return false;
    this.entries.delete(key);
    return true;
  }
}
