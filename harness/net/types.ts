/**
 * What the nemesis and the run need from a network fault layer, whichever
 * mechanism implements it (the userspace relay or network namespaces + nftables).
 */
import type { GrantedVote, MonitorReport, RaftWireMonitor } from './monitor.js';
import type { ReplaySettings } from './replay-stage.js';

/** Jepsen's grudge: grudge[a] = the nodes whose packets a drops. */
export type Grudge = Readonly<Record<string, readonly string[]>>;

export interface PacketFaults {
  /** Probability in [0, 1] that a datagram on the link is dropped. */
  lossRate?: number;
  /** Fixed delay added to every datagram on the link. */
  delayMs?: number;
  /** Extra uniform random delay in [0, jitterMs): datagrams overtake each other (reordering). */
  jitterMs?: number;
  /** Probability in [0, 1] that a datagram is delivered twice. */
  duplicateRate?: number;
}

/** The wire monitor's report as the fault layer gives it: plus the datagrams it never saw. */
export type WireMonitorReport = MonitorReport & { readonly unmonitored: number };

export interface NetStats {
  forwarded: number;
  dropped: number;
  duplicated: number;
  delayed: number;
}

/** What a fault layer that carries the datagrams (the relay) counts on one directed link. */
export interface LinkCounters {
  /** Arrived from the link's sender. */
  received: number;
  /** Sent on to the receiver (duplicates, late and replayed copies included). */
  forwarded: number;
  /** Dropped by a partition. */
  blocked: number;
  /** Dropped by random loss. */
  lost: number;
  /** Dropped because the delay queue was full. */
  overflow: number;
  /** Delayed (delay faults, duplicate copies). */
  delayed: number;
  /** Delivered twice. */
  duplicated: number;
  /** Held back by the replay fault (hold mode) and delivered once, late. */
  held: number;
  /** Old copies sent again by the replay fault (replay mode): always to a sender's later term. */
  replayed: number;
  /** Held datagrams delivered because their sender led a later term on the link: across terms, the case the fault is for. */
  heldAcrossTerms: number;
  /** send() errors. */
  sendErrors: number;
}

export function zeroLinkCounters(): LinkCounters {
  return {
    received: 0,
    forwarded: 0,
    blocked: 0,
    lost: 0,
    overflow: 0,
    delayed: 0,
    duplicated: 0,
    held: 0,
    replayed: 0,
    heldAcrossTerms: 0,
    sendErrors: 0,
  };
}

export interface NetworkControl {
  /** grudge[a] = nodes whose packets a drops (Jepsen's grudge). Replaces the current partition. */
  partition(grudge: Grudge): Promise<void>;
  /** Removes partitions (packet faults stay). */
  heal(): Promise<void>;
  /**
   * Packet faults on the given directed links [from, to] (default: all links).
   * Fields given replace the link's current value; fields left out keep theirs,
   * so loss, delay and duplication can be started and stopped independently.
   */
  setFaults(faults: PacketFaults, links?: readonly (readonly [string, string])[]): Promise<void>;
  /** Removes every packet fault on every link (partitions stay). */
  clearFaults(): Promise<void>;
  stats(): NetStats;
  /**
   * Per-link counters since the start, by link key ("n1>n2"), where the
   * fault layer carries the datagrams itself (the relay); absent where the
   * kernel does (netns: its counters are not read).
   */
  linkStats?(): Record<string, LinkCounters>;
  /**
   * The replay fault (replay-stage.ts), where the fault layer carries the
   * datagrams (the relay); null stops it (held datagrams still arrive late,
   * each at its own time, unless `flush` delivers them now).
   */
  setReplay?(settings: ReplaySettings | null, flush?: boolean): Promise<void>;
  /**
   * Holds every AppendEntries `node` sends from now on, on every link, each
   * delivered once, late (when `node` leads a later term on that link, or
   * maxAgeMs after it was held); null stops holding (what is held stays).
   * Where the fault layer carries the datagrams (the relay).
   */
  holdAllFrom?(node: string | null, maxAgeMs?: number): Promise<void>;
  /**
   * From now on `node` hears only votes: every datagram to it that is not a
   * RequestVote or its answer (pre-votes included) is dropped, on every link
   * into it, so it still elects while it never hears a leader's
   * AppendEntries (or InstallSnapshot, TimeoutNow); null stops it. Where the
   * fault layer carries the datagrams (the relay): what the change-race kind
   * needs (kinds/change-race.ts), which no partition can do, since a vote
   * and the winner's first AppendEntries are milliseconds apart.
   */
  onlyVotesTo?(node: string | null): Promise<void>;
  /*
   * The wire invariant monitor (monitor.ts) is a capability of the fault
   * layer: one that sees the peer datagrams (the relay) implements the four
   * members below, one that does not (netns, direct) none of them. The runner
   * and the nemesis ask for them here, never for a concrete class.
   */
  /**
   * Shows every peer datagram to `monitor` from now on (the relay also
   * replays the ones it kept since it started, so the first election is
   * judged too). One monitor per fault layer.
   */
  attachMonitor?(monitor: RaftWireMonitor): void;
  /** The attached monitor's findings; null while none is attached. */
  monitorReport?(): WireMonitorReport | null;
  /**
   * Subscribes to granted votes as the monitor sees them (the relay with a
   * monitor attached); returns an unsubscribe. Absent where the fault layer
   * does not see peer datagrams.
   */
  onVoteGranted?(listener: (vote: GrantedVote) => void): () => void;
  /** Hands the monitor what a restarted voter reports about itself (RaftWireMonitor.checkRestartedVoter). */
  checkRestartedVoter?(vote: GrantedVote, status: { readonly currentTerm: number; readonly votedFor: string | null }): void;
}

export function validatePacketFaults(faults: PacketFaults): void {
  const rate = (name: string, v: number | undefined): void => {
    if (v !== undefined && !(Number.isFinite(v) && v >= 0 && v <= 1)) throw new Error(`${name} must be a number in [0, 1], got ${v}`);
  };
  const ms = (name: string, v: number | undefined): void => {
    if (v !== undefined && !(Number.isFinite(v) && v >= 0 && v <= 60_000))
      throw new Error(`${name} must be a number of ms in [0, 60000], got ${v}`);
  };
  rate('lossRate', faults.lossRate);
  rate('duplicateRate', faults.duplicateRate);
  ms('delayMs', faults.delayMs);
  ms('jitterMs', faults.jitterMs);
}

/** Checks a grudge names only known nodes; returns the set of blocked directed links "from>to". */
export function grudgeToBlockedLinks(grudge: Grudge, nodeIds: readonly string[]): Set<string> {
  const known = new Set(nodeIds);
  const blocked = new Set<string>();
  for (const [a, froms] of Object.entries(grudge)) {
    if (!known.has(a)) throw new Error(`partition: unknown node "${a}" (known: ${nodeIds.join(', ')})`);
    for (const b of froms) {
      if (!known.has(b)) throw new Error(`partition: unknown node "${b}" in the grudge of ${a}`);
      if (b !== a) blocked.add(linkKey(b, a)); // a drops packets from b: the link b→a is cut
    }
  }
  return blocked;
}

export function linkKey(from: string, to: string): string {
  return `${from}>${to}`;
}
