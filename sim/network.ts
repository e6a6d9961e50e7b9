/**
 * The simulated network. Every datagram is real bytes: senders encode with
 * the real `encodeEnvelope` (HMAC included) and receivers decode with the
 * real `decodeEnvelope`, so codec and validation bugs show up here too.
 *
 * Per directed link: delay (uniform in [delayMsMin, delayMsMax], plus with
 * `longDelayRate` an extra delay up to `longDelayMsMax`: reordering), loss,
 * duplication. Partitions are sets of blocked directed node-to-node links
 * (symmetric or one-way), checked when a datagram is sent and again when it
 * arrives. Client-to-node links are never partitioned (clients reach every
 * node, as in Jepsen) but suffer the same delay, loss and duplication.
 *
 * Each link draws from its own random stream, so a change on one link does
 * not reshuffle the others (see streams.ts).
 */
import { assert } from '../node/util/assert.js';
import { QueuedEvent, type EventQueue } from './event-queue.js';
import { Stream } from './streams.js';

export interface NetworkProfile {
  readonly name: string;
  readonly delayMsMin: number;
  readonly delayMsMax: number;
  readonly lossRate: number;
  readonly duplicateRate: number;
  readonly longDelayRate: number;
  readonly longDelayMsMax: number;
}

export const networkProfiles = {
  reliable: { name: 'reliable', delayMsMin: 1, delayMsMax: 5, lossRate: 0, duplicateRate: 0, longDelayRate: 0, longDelayMsMax: 0 },
  /** labrpc's "unreliable": short delays, 10% loss. */
  lossy: { name: 'lossy', delayMsMin: 0, delayMsMax: 27, lossRate: 0.1, duplicateRate: 0.02, longDelayRate: 0, longDelayMsMax: 0 },
  /** labrpc's long reordering: some datagrams arrive hundreds of ms late. */
  reorder: { name: 'reorder', delayMsMin: 1, delayMsMax: 20, lossRate: 0.02, duplicateRate: 0.02, longDelayRate: 0.15, longDelayMsMax: 600 },
  duplicate: { name: 'duplicate', delayMsMin: 1, delayMsMax: 10, lossRate: 0, duplicateRate: 0.3, longDelayRate: 0.05, longDelayMsMax: 200 },
} as const satisfies Record<string, NetworkProfile>;

export type NetworkProfileName = keyof typeof networkProfiles;

export interface NetworkStats {
  sent: number;
  delivered: number;
  lost: number;
  duplicated: number;
  partitioned: number;
  overflow: number;
}

export type Deliver = (to: string, from: string, datagram: Buffer) => void;

/** One directed link: its random stream and whether a partition cuts it. */
interface Link {
  readonly stream: Stream;
  blocked: boolean;
}

export class SimNetwork {
  private profile: NetworkProfile = networkProfiles.reliable;
  /** Links by sender, then receiver; made on first use (each link's stream is seeded by its name, so the order does not matter). */
  private readonly links = new Map<string, Map<string, Link>>();
  /** Blocked directed links "from>to" (node ids only), for reports. */
  private readonly blocked = new Set<string>();
  private inFlight = 0;
  readonly stats: NetworkStats = { sent: 0, delivered: 0, lost: 0, duplicated: 0, partitioned: 0, overflow: 0 };

  constructor(
    private readonly queue: EventQueue,
    private readonly seed: number,
    private readonly deliver: Deliver,
    /** Bound on datagrams in flight (TigerStyle: a limit on everything); past it, new ones are dropped. */
    private readonly maxInFlight = 50_000,
  ) {}

  setProfile(profile: NetworkProfile): void {
    this.profile = profile;
  }

  get profileName(): string {
    return this.profile.name;
  }

  block(from: string, to: string): void {
    assert(from !== to, 'a node is never partitioned from itself');
    this.blocked.add(`${from}>${to}`);
    this.link(from, to).blocked = true;
  }

  healPartitions(): void {
    for (const key of this.blocked) {
      const [from, to] = key.split('>') as [string, string];
      this.link(from, to).blocked = false;
    }
    this.blocked.clear();
  }

  isBlocked(from: string, to: string): boolean {
    return this.blocked.has(`${from}>${to}`);
  }

  blockedLinks(): string[] {
    return [...this.blocked].sort();
  }

  send(from: string, to: string, datagram: Buffer): void {
    this.stats.sent++;
    const link = this.link(from, to);
    if (link.blocked) {
      this.stats.partitioned++;
      return;
    }
    const stream = link.stream;
    const p = this.profile;
    if (stream.chance(p.lossRate)) {
      this.stats.lost++;
      return;
    }
    const copies = stream.chance(p.duplicateRate) ? 2 : 1;
    if (copies === 2) this.stats.duplicated++;
    for (let c = 0; c < copies; c++) {
      if (this.inFlight >= this.maxInFlight) {
        this.stats.overflow++;
        return;
      }
      let delay = p.delayMsMin + stream.float() * (p.delayMsMax - p.delayMsMin);
      if (stream.chance(p.longDelayRate)) delay += stream.float() * p.longDelayMsMax;
      this.inFlight++;
      // Both copies share the bytes: the receiver decodes each delivery itself.
      this.queue.enqueue(new Arrival(this, link, from, to, datagram), delay);
    }
  }

  /** A datagram reaches the end of its link (unless a partition cut the link meanwhile). */
  arrive(link: Link, from: string, to: string, datagram: Buffer): void {
    this.inFlight--;
    if (link.blocked) {
      this.stats.partitioned++;
      return;
    }
    this.stats.delivered++;
    this.deliver(to, from, datagram);
  }

  private link(from: string, to: string): Link {
    let byTo = this.links.get(from);
    if (byTo === undefined) {
      byTo = new Map();
      this.links.set(from, byTo);
    }
    let link = byTo.get(to);
    if (link === undefined) {
      link = { stream: new Stream(this.seed, `net:${from}>${to}`), blocked: false };
      byTo.set(to, link);
    }
    return link;
  }
}

/** One datagram in flight: the most frequent event, so a single object rather than a closure and an event. */
class Arrival extends QueuedEvent {
  constructor(
    private readonly network: SimNetwork,
    private readonly link: Link,
    private readonly from: string,
    private readonly to: string,
    private readonly datagram: Buffer,
  ) {
    super();
  }

  run(): void {
    this.network.arrive(this.link, this.from, this.to, this.datagram);
  }
}
