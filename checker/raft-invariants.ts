/**
 * Two Raft safety invariants judged from outside the nodes, pure, shared by
 * both places that watch a cluster: the wire monitor on the real harness's
 * UDP relay (harness/net/monitor.ts) and the simulator's invariant checker
 * (sim/invariants.ts).
 *
 * - Election Safety (§5.2, Figure 3): at most one leader per term.
 * - One vote per term (§5.2, Figure 2 "votedFor"): a server grants at most
 *   one (non-pre) vote per term. Pre-votes (thesis §9.6) are hypothetical,
 *   never recorded by the voter, so they are not counted.
 *
 * Each ledger reports a violation once: the first time a second leader of a
 * term, or a second candidate of a voter's term, is seen, naming the first
 * one. Both keep at most `maxTerms` terms (respectively voter-terms),
 * forgetting the oldest first; terms arrive in nearly increasing order.
 *
 * The checker imports nothing outside checker/, so the message shape is
 * spelled here structurally: node/raft/types.ts `RaftMessage` fits it.
 */

/** The fields of a peer message these invariants read. */
export interface WireMessage {
  readonly type: string;
  readonly term: number;
  readonly from: string;
  readonly to: string;
  readonly voteGranted?: boolean;
  readonly preVote?: boolean;
}

export interface GrantedVote {
  readonly voter: string;
  readonly candidate: string;
  readonly term: number;
}

/** Default bound on the terms a ledger remembers. */
export const defaultMaxTerms = 100_000;

/** The vote a message grants: a granted, non-pre-vote RequestVote response from `from` to `to`; null for anything else. */
export function grantedVote(message: WireMessage): GrantedVote | null {
  if (message.type !== 'request_vote_response' || message.voteGranted !== true || message.preVote === true) return null;
  return { voter: message.from, candidate: message.to, term: message.term };
}

/** One vote per term per voter. */
export class VoteLedger {
  /** `${voter} ${term}` -> the candidates granted, the first being the vote (normally exactly one). */
  private readonly granted = new Map<string, string[]>();

  constructor(private readonly maxTerms = defaultMaxTerms) {}

  /**
   * Records a granted vote. Returns the candidate the voter first granted
   * this term's vote to when `vote` names another candidate not seen before
   * for this voter and term (a double vote, reported once); null otherwise.
   */
  grant(vote: GrantedVote): string | null {
    const key = `${vote.voter} ${vote.term}`;
    const candidates = this.granted.get(key);
    if (candidates === undefined) {
      this.granted.set(key, [vote.candidate]);
      if (this.granted.size > this.maxTerms) this.forgetOldest();
      return null;
    }
    if (candidates.includes(vote.candidate)) return null; // a repeated answer to the same candidate (§5.2 allows it)
    candidates.push(vote.candidate);
    return candidates[0]!;
  }

  /** The candidate `voter` first granted its term-`term` vote to, if seen. */
  votedFor(voter: string, term: number): string | undefined {
    return this.granted.get(`${voter} ${term}`)?.[0];
  }

  private forgetOldest(): void {
    const oldest = this.granted.keys().next();
    if (oldest.done !== true) this.granted.delete(oldest.value);
  }
}

/** One leader per term. */
export class LeaderLedger {
  /** term -> the nodes seen acting as its leader, in order (normally exactly one). */
  private readonly leaders = new Map<number, string[]>();

  constructor(private readonly maxTerms = defaultMaxTerms) {}

  /**
   * Records that `leader` acts as leader of `term`. Returns the term's first
   * leader when `leader` is another one, seen for the first time (an
   * Election Safety violation, reported once); null otherwise.
   */
  claim(term: number, leader: string): string | null {
    let seen = this.leaders.get(term);
    if (seen === undefined) {
      seen = [];
      this.leaders.set(term, seen);
      if (this.leaders.size > this.maxTerms) this.forgetOldest();
    }
    if (seen.includes(leader)) return null;
    seen.push(leader);
    return seen.length > 1 ? seen[0]! : null;
  }

  /** True when `leader` was already seen leading `term` (a claim would add nothing). */
  has(term: number, leader: string): boolean {
    return this.leaders.get(term)?.includes(leader) === true;
  }

  /** The leaders seen in `term`, first first. */
  leadersOf(term: number): readonly string[] {
    return this.leaders.get(term) ?? [];
  }

  /** The remembered terms that had a leader, in the order first seen. */
  terms(): number[] {
    return [...this.leaders.keys()];
  }

  /** How many remembered terms had a leader. */
  get size(): number {
    return this.leaders.size;
  }

  private forgetOldest(): void {
    const oldest = this.leaders.keys().next();
    if (oldest.done !== true) this.leaders.delete(oldest.value);
  }
}
