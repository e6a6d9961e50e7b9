/**
 * Acknowledgements vouch only for what was checked (§5.3, Figure 13; issue
 * 18), judged from the wire. A leader counts a follower's successful
 * AppendEntries response with matchIndex m as "its log matches mine through
 * m" (commit counts, §5.3-5.4, rest on it), so a follower may say m only
 * when it knows it:
 *
 * - answering an AppendEntries (prevLogIndex p, n entries): it just matched
 *   entry p and holds the n entries, so m <= p + n;
 * - answering an InstallSnapshot (its chunks carry the snapshot's index i):
 *   it installed the snapshot, or already held its last entry, so m <= i;
 * - either, when the request is older than its commit index: its committed
 *   prefix is in every later leader's log (Leader Completeness, §5.4), so
 *   m <= its commitIndex is true too (node/raft/raft.ts answers so).
 *
 * A follower that answers more (the classic snapshot mistake: keeping the log
 * after a snapshot's index unchecked and acknowledging it,
 * `--unsafe-keep-log-on-install`) hands the leader a count it has not earned;
 * whether the entries it named happen to match the leader's is luck, which
 * the next leader's log need not repeat. The check is on what the follower
 * SAID, as the one-vote-per-term check is: it fires even when no wrong commit
 * follows, and a correct node never trips it.
 *
 * The follower's commitIndex is not on the wire; an upper bound is: a
 * follower learns commits only from what is sent to it (min(leaderCommit,
 * p + n) of an AppendEntries it appends, Figure 2; a snapshot's index), and
 * a leader commits only what a majority acknowledged, each acknowledgement
 * seen on its way to it (or, alone, what it then advertises). A restarted
 * node starts from a snapshot it took at a commit it had. Every message is
 * observed before it can be delivered (the relay sees a request before its
 * answer exists), so the bound is never below the truth.
 *
 * A response whose request the ledger never saw (attached late, or evicted:
 * at most `maxRequests` are kept, oldest first) is not judged.
 *
 * Pure: no clock, no IO; bounded. The message shapes are spelled here
 * structurally (node/raft/types.ts and node/protocol.ts fit them).
 */

/** The fields of an AppendEntries this ledger reads. */
export interface AckAppend {
  readonly term: number;
  readonly from: string;
  readonly to: string;
  readonly prevLogIndex: number;
  readonly entries: { readonly length: number };
  readonly leaderCommit: number;
  readonly seq: number;
}

/** The fields of a snapshot chunk (an InstallSnapshot in pieces) this ledger reads. */
export interface AckSnapshotChunk {
  readonly term: number;
  readonly from: string;
  readonly to: string;
  readonly seq: number;
  readonly snapshot: { readonly index: number };
}

/** The fields of an AppendEntries response this ledger reads. */
export interface AckResponse {
  readonly term: number;
  readonly from: string;
  readonly to: string;
  readonly success: boolean;
  readonly matchIndex: number;
  readonly seq: number;
}

export interface UnfoundedAckViolation {
  /** The follower that answered, and the leader it answered. */
  readonly follower: string;
  readonly leader: string;
  readonly term: number;
  readonly seq: number;
  readonly matchIndex: number;
  readonly request: 'append_entries' | 'install_snapshot';
  /** How far the answered request reached (prevLogIndex + entries, or the snapshot's index). */
  readonly reach: number;
  /** The highest commit index the follower can have learnt when it answered. */
  readonly commitBound: number;
  readonly message: string;
}

interface Request {
  readonly kind: 'append_entries' | 'install_snapshot';
  readonly to: string;
  readonly reach: number;
}

export interface AckLedgerOptions {
  /** Requests remembered (default 65,536): an answer to an older one is not judged. */
  readonly maxRequests?: number;
}

/**
 * A request's key among its leader's: a number for the (term, seq) pairs real runs have (unique: term below 2^21, seq
 * below 2^32), else the pair as text (never equal to a number).
 */
function requestKey(term: number, seq: number): number | string {
  if (Number.isInteger(term) && Number.isInteger(seq) && term >= 0 && seq >= 0 && term < 2 ** 21 && seq < 2 ** 32)
    return term * 2 ** 32 + seq;
  return `${term} ${seq}`;
}

export class AckLedger {
  private readonly maxRequests: number;
  /**
   * leader -> requestKey(term, seq) -> what the request reached. Keyed per leader by a number, not by a string built
   * per message: this runs for every AppendEntries and every answer (the simulator's profile showed the key strings).
   */
  private readonly requests = new Map<string, Map<number | string, Request>>();
  /** The requests remembered, in the order first seen (the oldest goes first past maxRequests): their leader's map and key. */
  private orderMaps: Map<number | string, Request>[] = [];
  private orderKeys: (number | string)[] = [];
  /** Index of the oldest remembered request in orderMaps/orderKeys. */
  private orderHead = 0;
  /** node -> the highest commit index it can know (see the header). */
  private readonly commitBound = new Map<string, number>();
  /** `${follower} ${leader} ${term}` already reported: one violation each (bounded like the requests). */
  private readonly reported = new Set<string>();
  /** Successful answers judged, and successful answers whose request was not seen. */
  readonly counts = { judged: 0, unknownRequest: 0 };

  constructor(opts: AckLedgerOptions = {}) {
    this.maxRequests = opts.maxRequests ?? 65_536;
  }

  /** An AppendEntries seen on the wire. */
  append(m: AckAppend): void {
    const reach = m.prevLogIndex + m.entries.length;
    this.remember(m.from, m.term, m.seq, { kind: 'append_entries', to: m.to, reach });
    // The receiver may commit min(leaderCommit, index of last new entry) (Figure 2); the sender had committed leaderCommit.
    this.raise(m.to, Math.min(m.leaderCommit, reach));
    this.raise(m.from, m.leaderCommit);
  }

  /** A snapshot chunk seen on the wire: every chunk of one InstallSnapshot carries its seq and the snapshot. */
  snapshotChunk(m: AckSnapshotChunk): void {
    this.remember(m.from, m.term, m.seq, { kind: 'install_snapshot', to: m.to, reach: m.snapshot.index });
    // A snapshot holds committed entries only: its receiver learns them committed, and its sender had.
    this.raise(m.to, m.snapshot.index);
    this.raise(m.from, m.snapshot.index);
  }

  /** An AppendEntries response seen on the wire; a violation when it vouches for more than it can know. */
  response(m: AckResponse): UnfoundedAckViolation | null {
    if (!m.success) return null;
    // A leader commits what its acknowledgements reach (judged here first, so a bound no earlier than them).
    const request = this.requests.get(m.to)?.get(requestKey(m.term, m.seq));
    let violation: UnfoundedAckViolation | null = null;
    if (request === undefined || request.to !== m.from) this.counts.unknownRequest++;
    else {
      this.counts.judged++;
      const bound = this.commitBound.get(m.from) ?? 0;
      if (m.matchIndex > request.reach && m.matchIndex > bound) violation = this.report(m, request, bound);
    }
    this.raise(m.to, m.matchIndex);
    return violation;
  }

  private report(m: AckResponse, request: Request, bound: number): UnfoundedAckViolation | null {
    const key = `${m.from} ${m.to} ${m.term}`;
    if (this.reported.has(key)) return null;
    this.reported.add(key);
    if (this.reported.size > this.maxRequests) this.reported.delete(this.reported.values().next().value!);
    const what =
      request.kind === 'append_entries'
        ? `its AppendEntries (seq ${m.seq}) reaching index ${request.reach}`
        : `its InstallSnapshot (seq ${m.seq}) of a snapshot through index ${request.reach}`;
    return {
      follower: m.from,
      leader: m.to,
      term: m.term,
      seq: m.seq,
      matchIndex: m.matchIndex,
      request: request.kind,
      reach: request.reach,
      commitBound: bound,
      message:
        `unfounded acknowledgement: ${m.from} answered ${what} from ${m.to} in term ${m.term} with matchIndex ${m.matchIndex}, ` +
        `past the request and past any commit index it can have learnt (${bound}): a follower vouches only for the entries it ` +
        `matched and appended (§5.3), the snapshot it installed (Figure 13) or its committed prefix, and the leader counts the ` +
        `answer toward commits`,
    };
  }

  private remember(leader: string, term: number, seq: number, request: Request): void {
    let byKey = this.requests.get(leader);
    if (byKey === undefined) {
      byKey = new Map();
      this.requests.set(leader, byKey);
    }
    const key = requestKey(term, seq);
    if (byKey.has(key)) return;
    byKey.set(key, request);
    this.orderMaps.push(byKey);
    this.orderKeys.push(key);
    if (this.orderMaps.length - this.orderHead > this.maxRequests) {
      this.orderMaps[this.orderHead]!.delete(this.orderKeys[this.orderHead]!);
      this.orderHead++;
      if (this.orderHead >= 4096 && this.orderHead * 2 >= this.orderMaps.length) {
        // Drop the evicted prefix of the order lists (amortised: at most as often as half of them was evicted).
        this.orderMaps = this.orderMaps.slice(this.orderHead);
        this.orderKeys = this.orderKeys.slice(this.orderHead);
        this.orderHead = 0;
      }
    }
  }

  private raise(node: string, index: number): void {
    if (index > (this.commitBound.get(node) ?? 0)) this.commitBound.set(node, index);
  }
}
