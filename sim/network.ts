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
 * A hold (the `hold` fault) makes a link keep some of its datagrams for
 * seconds, several election timeouts, and deliver each once, late, with its
 * original bytes: a route flap or a congested queue, not an attacker. Held
 * datagrams cross terms: a leader's old AppendEntries reach a follower after
 * it has re-elected that leader (issue 15, defect 1). Copies of datagrams
 * (an on-path attacker's replays) are the adversary's job (adversary.ts).
 *
 * Each link draws from its own random stream, so a change on one link does
 * not reshuffle the others (see streams.ts).
 */
import { peekIsVote } from '../node/transport/peek.js';
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
  reorder: {
    name: 'reorder',
    delayMsMin: 1,
    delayMsMax: 20,
    lossRate: 0.02,
    duplicateRate: 0.02,
    longDelayRate: 0.15,
    longDelayMsMax: 600,
  },
  duplicate: {
    name: 'duplicate',
    delayMsMin: 1,
    delayMsMax: 10,
    lossRate: 0,
    duplicateRate: 0.3,
    longDelayRate: 0.05,
    longDelayMsMax: 200,
  },
  /** Stragglers: a few datagrams arrive seconds late (up to many election timeouts), across terms. */
  stragglers: {
    name: 'stragglers',
    delayMsMin: 1,
    delayMsMax: 10,
    lossRate: 0,
    duplicateRate: 0.02,
    longDelayRate: 0.05,
    longDelayMsMax: 5000,
  },
} as const satisfies Record<string, NetworkProfile>;

export type NetworkProfileName = keyof typeof networkProfiles;

export interface NetworkStats {
  sent: number;
  delivered: number;
  lost: number;
  duplicated: number;
  partitioned: number;
  overflow: number;
  /** Datagrams a hold kept back (each delivered once, late). */
  held: number;
  /** Recorded datagrams an adversary put back on the wire, byte for byte (adversary.ts). */
  injected: number;
  /** Datagrams held until their sender led again in a later term (holdAcross), and of those, released so. */
  heldAcross: number;
  releasedAcross: number;
}

export type Deliver = (to: string, from: string, datagram: Buffer) => void;

/** One directed link: its random stream, whether a partition cuts it, and its hold. */
interface Link {
  readonly stream: Stream;
  blocked: boolean;
  /** A datagram sent before this time is held with probability holdRate, for holdMs. */
  holdUntilMs: number;
  holdRate: number;
  holdMs: number;
  /** A datagram sent before this time is held across terms with probability acrossRate (holdAcross). */
  acrossUntilMs: number;
  acrossRate: number;
}

/** A datagram held until its sender leads again in a later term than `term`, the one it had when it sent it. */
interface HeldAcross {
  readonly link: Link;
  readonly from: string;
  readonly to: string;
  readonly datagram: Buffer;
  readonly term: number;
}

/** Bound on datagrams held across terms; past it, new ones go through untouched. */
export const maxHeldAcross = 4096;

export class SimNetwork {
  private profile: NetworkProfile = networkProfiles.reliable;
  /** Links by sender, then receiver; made on first use (each link's stream is seeded by its name, so the order does not matter). */
  private readonly links = new Map<string, Map<string, Link>>();
  /** Blocked directed links "from>to" (node ids only), for reports. */
  private readonly blocked = new Set<string>();
  private inFlight = 0;
  readonly stats: NetworkStats = {
    sent: 0,
    delivered: 0,
    lost: 0,
    duplicated: 0,
    partitioned: 0,
    overflow: 0,
    held: 0,
    injected: 0,
    heldAcross: 0,
    releasedAcross: 0,
  };
  /** The adversary's own path to a receiver (adversary.ts): no partition cuts it. */
  private readonly adversaryLink: Link = newLink(new Stream(0, 'net:adversary'));
  /** Held across terms, in send order. */
  private heldAcross: HeldAcross[] = [];
  /** When the last datagram a `hold` delayed lands (0: none held): one held before the heal may land long after it. */
  lastHeldArrivalMs = 0;
  private readonly spentArrivals: Arrival[] = [];
  /** A sender's current term (the simulator sets it): what the adversary reads from a datagram's body. */
  termOf: (node: string) => number = () => 0;

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

  /** From now until now + forMs, the link from > to holds each datagram with probability `rate` for `holdMs`. */
  hold(from: string, to: string, rate: number, holdMs: number, forMs: number): void {
    assert(from !== to, 'a node has no link to itself');
    assert(rate >= 0 && rate <= 1 && holdMs >= 0 && forMs >= 0, `hold: bad parameters rate=${rate} holdMs=${holdMs} forMs=${forMs}`);
    const link = this.link(from, to);
    link.holdUntilMs = this.queue.now + forMs;
    link.holdRate = rate;
    link.holdMs = holdMs;
  }

  /** From now until now + forMs, every link out of `from` holds each datagram with probability `rate` until `from` leads a later term. */
  holdAcross(from: string, others: readonly string[], rate: number, forMs: number): void {
    assert(rate >= 0 && rate <= 1 && forMs >= 0, `holdAcross: bad parameters rate=${rate} forMs=${forMs}`);
    for (const to of others) {
      if (to === from) continue;
      const link = this.link(from, to);
      link.acrossUntilMs = this.queue.now + forMs;
      link.acrossRate = rate;
    }
  }

  /** `leader` now leads `term`: what it sent in earlier terms and the adversary held goes back on the wire. Returns how many. */
  releaseAcross(leader: string, term: number): number {
    if (this.heldAcross.length === 0) return 0;
    const keep: HeldAcross[] = [];
    let released = 0;
    for (const held of this.heldAcross) {
      if (held.from === leader && held.term < term) {
        this.release(held);
        released++;
      } else keep.push(held);
    }
    this.heldAcross = keep;
    this.stats.releasedAcross += released;
    return released;
  }

  /** No link holds new datagrams any more; those held across terms are let go (late: the end of the fault window). */
  endHolds(): void {
    for (const byTo of this.links.values()) {
      for (const link of byTo.values()) {
        link.holdUntilMs = 0;
        link.acrossUntilMs = 0;
      }
    }
    for (const held of this.heldAcross) this.release(held);
    this.heldAcross = [];
  }

  private release(held: HeldAcross): void {
    const p = this.profile;
    this.inFlight++;
    this.queue.enqueue(
      this.arrival(held.link, held.from, held.to, held.datagram),
      p.delayMsMin + held.link.stream.float() * (p.delayMsMax - p.delayMsMin),
    );
  }

  /** An adversary's datagram, arriving at `to` after `delayMs` whatever the partitions (it sits on the receiver's link). */
  inject(from: string, to: string, datagram: Buffer, delayMs: number): void {
    this.stats.injected++;
    this.inFlight++;
    this.queue.enqueue(this.arrival(this.adversaryLink, from, to, datagram), delayMs);
  }

  isBlocked(from: string, to: string): boolean {
    return this.blocked.has(`${from}>${to}`);
  }

  blockedLinks(): string[] {
    return [...this.blocked].sort();
  }

  /** The nodes that hear only votes (onlyVotesTo). */
  private votesOnly: ReadonlySet<string> = new Set();

  /**
   * From now on `nodes` hear only RequestVote and its answers (pre-votes
   * too): every other datagram to them is dropped as if partitioned, in
   * flight too; an empty list ends it. The change-race fault's voter that
   * elects a leader but never hears it (sim/change-race.ts; the relay does
   * the same, harness/net/relay.ts), and the divergent-install fault's
   * minority leader that nobody hears (sim/divergent-install.ts).
   */
  onlyVotesTo(nodes: readonly string[]): void {
    this.votesOnly = new Set(nodes);
  }

  private deaf(to: string, datagram: Buffer): boolean {
    return this.votesOnly.size > 0 && this.votesOnly.has(to) && !peekIsVote(datagram);
  }

  send(from: string, to: string, datagram: Buffer): void {
    this.stats.sent++;
    const link = this.link(from, to);
    if (link.blocked || this.deaf(to, datagram)) {
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
      // Draws only while a hold across terms is on, so a run without one draws exactly as before.
      if (link.acrossUntilMs > this.queue.now && stream.chance(link.acrossRate) && this.heldAcross.length < maxHeldAcross) {
        this.stats.heldAcross++;
        this.heldAcross.push({ link, from, to, datagram, term: this.termOf(from) });
        continue;
      }
      if (this.inFlight >= this.maxInFlight) {
        this.stats.overflow++;
        return;
      }
      let delay = p.delayMsMin + stream.float() * (p.delayMsMax - p.delayMsMin);
      if (stream.chance(p.longDelayRate)) delay += stream.float() * p.longDelayMsMax;
      // Draws only while a hold is on, so a run without holds draws exactly as before.
      if (link.holdUntilMs > this.queue.now && stream.chance(link.holdRate)) {
        this.stats.held++;
        delay += link.holdMs;
        this.lastHeldArrivalMs = Math.max(this.lastHeldArrivalMs, this.queue.now + delay);
      }
      this.inFlight++;
      // Both copies share the bytes: the receiver decodes each delivery itself.
      this.queue.enqueue(this.arrival(link, from, to, datagram), delay);
    }
  }

  /** An Arrival for a datagram about to be queued: a spent one if there is one (a datagram in flight is the most frequent event). */
  private arrival(link: Link, from: string, to: string, datagram: Buffer): Arrival {
    const spent = this.spentArrivals.pop();
    if (spent === undefined) return new Arrival(this, link, from, to, datagram);
    spent.reuse(link, from, to, datagram);
    return spent;
  }

  /** An Arrival that ran (it is out of the queue and nothing else holds it): kept for reuse. */
  recycle(arrival: Arrival): void {
    if (this.spentArrivals.length < maxSpentArrivals) this.spentArrivals.push(arrival);
  }

  /** A datagram reaches the end of its link (unless a partition cut the link meanwhile). */
  arrive(link: Link, from: string, to: string, datagram: Buffer): void {
    this.inFlight--;
    if (link.blocked || this.deaf(to, datagram)) {
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
      link = newLink(new Stream(this.seed, `net:${from}>${to}`));
      byTo.set(to, link);
    }
    return link;
  }
}

function newLink(stream: Stream): Link {
  return { stream, blocked: false, holdUntilMs: 0, holdRate: 0, holdMs: 0, acrossUntilMs: 0, acrossRate: 0 };
}

/** Spent Arrivals kept for reuse: about as many as are in flight at once in a busy run. */
const maxSpentArrivals = 1024;

/**
 * One datagram in flight: the most frequent event, so a single object rather
 * than a closure and an event, and reused once it ran (SimNetwork.recycle).
 */
class Arrival extends QueuedEvent {
  constructor(
    private readonly network: SimNetwork,
    private link: Link,
    private from: string,
    private to: string,
    private datagram: Buffer | null,
  ) {
    super();
  }

  reuse(link: Link, from: string, to: string, datagram: Buffer): void {
    this.link = link;
    this.from = from;
    this.to = to;
    this.datagram = datagram;
    this.cancelled = false;
  }

  run(): void {
    const { link, from, to } = this;
    const datagram = this.datagram!;
    this.datagram = null; // not kept alive by a spent Arrival
    // Popped from the queue, and nothing else holds an Arrival: free for the next datagram before this one is handled.
    this.network.recycle(this);
    this.network.arrive(link, from, to, datagram);
  }
}
