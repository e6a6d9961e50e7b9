/**
 * Commit quorums judged from the wire, following the configurations the
 * wire carries (issue 18; dissertation §4.1): a leader may advertise a
 * commit index c (AppendEntries.leaderCommit) only once a majority of the
 * voters of the configuration in effect on it holds c, and the
 * configuration in effect is the LATEST configuration entry in its log,
 * committed or not. A fixed member set cannot judge this: a 3-node cluster
 * grown to 5 commits with majorities the first 3 do not form, and a leader
 * that still counts the configuration its new entry replaced (an old voter's
 * ack, a learner's) commits with a set that is no majority at all.
 *
 * What the wire shows, per leader L and term T:
 * - the configuration entries L sends (each `config` entry carries the whole
 *   configuration: `{change, voters, learners}`, node/raft/configuration.ts);
 * - the acknowledgements: a successful AppendEntries response of term T
 *   from F to L with matchIndex m says F's log matches L's through m;
 * - L's commit index: every AppendEntries carries leaderCommit <= L's
 *   commitIndex, exactly it when the message carries entries or
 *   leaderCommit < prevLogIndex (a heartbeat's is capped at prevLogIndex);
 * - `seq`, L's count of AppendEntries in T: the order L sent them in, across
 *   links (the relay may take datagrams of two links in either order).
 *
 * The judgement, for each new highest leaderCommit c that L advertises in T
 * (at seq s) above what any earlier term advertised (a new leader starts
 * with the commit index it learnt before: committed by someone else):
 * L raised its commitIndex to >= c after its last exact advertisement of a
 * lower value (seq s0) and before s. The configurations in effect on L in
 * that window are: the newest one L had sent by s0 (or, before L sent any,
 * what it may have inherited: every configuration at or after the newest
 * one known committed), those L sent between s0 and s, and, leniently, those
 * it sends within `graceSeqs` after s (a leader that appends a configuration
 * and commits with its new majority in one step sends the commit before the
 * entry). c is supported when for one of them, L (if a voter) plus the
 * voters whose acknowledgements seen BEFORE the advertisement reach c are a
 * majority. The relay sees each acknowledgement before L does, so what L
 * counted is a subset of what the monitor saw: a correct leader is never
 * reported. Judgement waits until L's seq has passed s + 2 * graceSeqs (or
 * its term ended, or the run did), so reordering between links is settled.
 *
 * The same for elections (§4.1, §4.2.2): a leader of term T won the
 * granted (non-pre) votes of a majority of the voters of its latest
 * configuration, its own counting only if it is one of them. When L is first
 * seen leading T, the votes seen granted to it in T (every vote sent, so a
 * superset of those it counted) must make a majority of one configuration
 * it may have held: the newest known committed in an earlier term (a
 * legitimate leader holds it, §5.4) or one of an earlier term at a higher
 * index (uncommitted entries it may hold). A term in which no vote at all
 * was seen is not judged (the monitor did not see that election).
 *
 * Pure: no clock, no IO; bounded (leader-terms and records per leader-term).
 */

/** A configuration as a config entry carries it (node/raft/types.ts Configuration fits). */
export interface WireConfiguration {
  readonly voters: readonly string[];
  readonly learners: readonly string[];
}

/** The fields of an entry this ledger reads (node/raft/types.ts Entry fits). */
export interface WireEntry {
  readonly index: number;
  readonly term: number;
  readonly type: string;
  readonly data: string;
}

/** The fields of an AppendEntries this ledger reads. */
export interface WireAppend {
  readonly term: number;
  readonly from: string;
  readonly to: string;
  readonly prevLogIndex: number;
  readonly entries: readonly WireEntry[];
  readonly leaderCommit: number;
  readonly seq: number;
}

/** The fields of an AppendEntries response this ledger reads. */
export interface WireAppendResponse {
  readonly term: number;
  readonly from: string;
  readonly to: string;
  readonly success: boolean;
  readonly matchIndex: number;
}

/** A granted non-pre vote (raft-invariants.ts GrantedVote fits). */
export interface WireVote {
  readonly voter: string;
  readonly candidate: string;
  readonly term: number;
}

export interface ElectionQuorumViolation {
  readonly leader: string;
  readonly term: number;
  /** The voters seen granting it their term-T vote. */
  readonly votes: readonly string[];
  readonly configurations: readonly WireConfiguration[];
  readonly message: string;
}

export interface CommitQuorumViolation {
  readonly leader: string;
  readonly term: number;
  readonly commitIndex: number;
  readonly seq: number;
  /** The highest index each node had acknowledged to the leader in this term when it advertised the commit. */
  readonly acked: Readonly<Record<string, number>>;
  /** The configurations that could have been in effect on the leader (none has a majority behind the commit). */
  readonly configurations: readonly WireConfiguration[];
  /** The seq of the leader's last exact advertisement of a lower commit index before this one (null: none this term). */
  readonly sinceSeq: number | null;
  /** The configuration entries the leader sent this term: [seq first seen, index]. */
  readonly sent: readonly (readonly [number, number])[];
  readonly message: string;
}

/** The configuration a `config` entry's data carries, or null when it is not one (checked structurally; never throws). */
export function configurationOfEntryData(data: string): WireConfiguration | null {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const { voters, learners } = value as Record<string, unknown>;
  const ids = (x: unknown): x is string[] => Array.isArray(x) && x.every((id) => typeof id === 'string');
  if (!ids(voters) || !ids(learners) || voters.length === 0) return null;
  return { voters: [...voters].sort(), learners: [...learners].sort() };
}

/** Whether `leader` plus the voters of `configuration` whose acknowledgements reach `index` are a majority of its voters (§4.1). */
export function majorityHolds(
  configuration: WireConfiguration,
  leader: string,
  acked: ReadonlyMap<string, number>,
  index: number,
): boolean {
  let holding = 0;
  for (const voter of configuration.voters) if (voter === leader || (acked.get(voter) ?? 0) >= index) holding++;
  return holding >= Math.floor(configuration.voters.length / 2) + 1;
}

export function describeWireConfiguration(c: WireConfiguration): string {
  return `voters=[${c.voters.join(',')}]${c.learners.length > 0 ? ` learners=[${c.learners.join(',')}]` : ''}`;
}

function sameConfiguration(a: WireConfiguration, b: WireConfiguration): boolean {
  const same = (x: readonly string[], y: readonly string[]): boolean => x.length === y.length && x.every((id, i) => id === y[i]);
  return same(a.voters, b.voters) && same(a.learners, b.learners);
}

interface SentConfig {
  readonly seq: number;
  readonly index: number;
  readonly entryTerm: number;
  readonly configuration: WireConfiguration;
}

interface PendingCheck {
  readonly commit: number;
  readonly seq: number;
  readonly acked: ReadonlyMap<string, number>;
}

/** What one leader said and heard in one term. */
interface LeaderTerm {
  readonly leader: string;
  readonly term: number;
  readonly acked: Map<string, number>;
  readonly sent: SentConfig[];
  /** Exact commit advertisements (seq, commitIndex), in seq order as far as seen; bounded. */
  readonly exact: { seq: number; commit: number }[];
  readonly pending: PendingCheck[];
  maxCommit: number;
  maxSeq: number;
}

export interface CommitQuorumOptions {
  /** How many of the leader's AppendEntries after an advertisement may still carry a configuration it was committed under (default 64). */
  readonly graceSeqs?: number;
  /** Leader-terms remembered (default 1,000): the oldest are judged and forgotten beyond it. */
  readonly maxLeaderTerms?: number;
}

/** Bound on the configurations and exact advertisements kept per leader-term. */
const maxRecords = 4096;

export class CommitQuorumLedger {
  private readonly graceSeqs: number;
  private readonly maxLeaderTerms: number;
  /** `${leader} ${term}` -> its record, in the order first seen. */
  private readonly byLeaderTerm = new Map<string, LeaderTerm>();
  /** Config entries seen on the wire: index -> entry term -> configuration. */
  private readonly configs = new Map<number, Map<number, WireConfiguration>>();
  /**
   * Config entries known committed: sent by a leader that then advertised a
   * commit at or past them in its term. A leader of a later term holds each
   * (Leader Completeness, §5.4), so its configuration is at least that new.
   * The bootstrap configuration is the one at index 0.
   */
  private readonly committedConfigs: { readonly index: number; readonly term: number; readonly configuration: WireConfiguration }[] = [];
  /** term -> the highest leaderCommit advertised in it. */
  private readonly commitByTerm = new Map<number, number>();
  /** The highest term any leader was seen in. */
  private maxTerm = 0;
  /** The commits of terms folded out of commitByTerm (foldOldestTerm). */
  private foldedCeiling = 0;
  /** `${candidate} ${term}` -> the voters seen granting it their vote (bounded like the leader-terms). */
  private readonly votes = new Map<string, Set<string>>();
  /** Terms in which some granted vote was seen (an election the monitor saw). */
  private readonly voteTerms = new Set<number>();
  /** Election violations found when a leader-term was first seen, for the caller to collect (electionViolations()). */
  private readonly elections: ElectionQuorumViolation[] = [];

  constructor(bootstrap: WireConfiguration, opts: CommitQuorumOptions = {}) {
    this.graceSeqs = opts.graceSeqs ?? 64;
    this.maxLeaderTerms = opts.maxLeaderTerms ?? 1000;
    this.committedConfigs.push({
      index: 0,
      term: 0,
      configuration: { voters: [...bootstrap.voters].sort(), learners: [...bootstrap.learners].sort() },
    });
  }

  /** A granted (non-pre) vote seen on the wire. */
  vote(v: WireVote): void {
    this.voteTerms.add(v.term);
    if (this.voteTerms.size > this.maxLeaderTerms * 4) this.voteTerms.delete(this.voteTerms.values().next().value!);
    const key = `${v.candidate} ${v.term}`;
    let voters = this.votes.get(key);
    if (voters === undefined) {
      this.votes.set(key, (voters = new Set()));
      if (this.votes.size > this.maxLeaderTerms * 4) this.votes.delete(this.votes.keys().next().value!);
    }
    voters.add(v.voter);
  }

  /** The election violations judged since the last call (each leader-term is judged once, when first seen leading). */
  electionViolations(): ElectionQuorumViolation[] {
    return this.elections.splice(0);
  }

  /** An acknowledgement seen on the wire. */
  appendResponse(m: WireAppendResponse): void {
    if (!m.success) return;
    const lt = this.byLeaderTerm.get(`${m.to} ${m.term}`);
    // A response to a leader-term never seen sending: nothing of it to judge (its AppendEntries come first).
    if (lt === undefined) return;
    if (m.matchIndex > (lt.acked.get(m.from) ?? 0)) lt.acked.set(m.from, m.matchIndex);
  }

  /** An AppendEntries seen on the wire; returns the violations judged because of it. */
  append(m: WireAppend): CommitQuorumViolation[] {
    const found: CommitQuorumViolation[] = [];
    const lt = this.leaderTerm(m.from, m.term, found);
    for (const e of m.entries) {
      if (e.type !== 'config') continue;
      const configuration = configurationOfEntryData(e.data);
      if (configuration === null) continue;
      let atIndex = this.configs.get(e.index);
      if (atIndex === undefined) this.configs.set(e.index, (atIndex = new Map()));
      if (!atIndex.has(e.term)) atIndex.set(e.term, configuration);
      if (!lt.sent.some((s) => s.index === e.index) && lt.sent.length < maxRecords)
        lt.sent.push({ seq: m.seq, index: e.index, entryTerm: e.term, configuration });
    }
    lt.maxSeq = Math.max(lt.maxSeq, m.seq);
    const exact = m.entries.length > 0 || m.leaderCommit < m.prevLogIndex;
    if (exact && lt.exact.length < maxRecords) lt.exact.push({ seq: m.seq, commit: m.leaderCommit });
    this.commitByTerm.set(m.term, Math.max(this.commitByTerm.get(m.term) ?? 0, m.leaderCommit));
    if (m.leaderCommit > lt.maxCommit) {
      lt.maxCommit = m.leaderCommit;
      lt.pending.push({ commit: m.leaderCommit, seq: m.seq, acked: new Map(lt.acked) });
    }
    // What it sent and then advertised committed in its term is committed (and in every later leader's log, §5.4).
    for (const s of lt.sent) {
      if (s.index > lt.maxCommit || this.committedConfigs.some((c) => c.index === s.index && c.term === lt.term)) continue;
      this.committedConfigs.push({ index: s.index, term: lt.term, configuration: s.configuration });
      if (this.committedConfigs.length > maxRecords) this.committedConfigs.splice(1, 1); // the bootstrap stays
    }
    if (this.configs.size > maxRecords) this.configs.delete(Math.min(...this.configs.keys()));
    if (this.commitByTerm.size > maxRecords) this.foldOldestTerm();
    this.settle(lt, lt.maxSeq - 2 * this.graceSeqs, found);
    return found;
  }

  /** Judges everything still pending (the run is over). */
  finish(): CommitQuorumViolation[] {
    const found: CommitQuorumViolation[] = [];
    for (const lt of this.byLeaderTerm.values()) this.settle(lt, Number.POSITIVE_INFINITY, found);
    return found;
  }

  private leaderTerm(leader: string, term: number, found: CommitQuorumViolation[]): LeaderTerm {
    const key = `${leader} ${term}`;
    let lt = this.byLeaderTerm.get(key);
    if (lt !== undefined) return lt;
    lt = { leader, term, acked: new Map(), sent: [], exact: [], pending: [], maxCommit: 0, maxSeq: 0 };
    this.byLeaderTerm.set(key, lt);
    const election = this.judgeElection(leader, term);
    if (election !== null) this.elections.push(election);
    if (term > this.maxTerm) {
      // A newer term: the older leaders' terms are over; judge what they left pending.
      this.maxTerm = term;
      for (const other of this.byLeaderTerm.values()) if (other.term < term) this.settle(other, Number.POSITIVE_INFINITY, found);
    }
    while (this.byLeaderTerm.size > this.maxLeaderTerms) {
      const oldest = this.byLeaderTerm.values().next().value!;
      this.settle(oldest, Number.POSITIVE_INFINITY, found);
      this.byLeaderTerm.delete(`${oldest.leader} ${oldest.term}`);
    }
    return lt;
  }

  /** Judges the pending checks of `lt` advertised at seq <= upToSeq. */
  private settle(lt: LeaderTerm, upToSeq: number, found: CommitQuorumViolation[]): void {
    if (lt.pending.length === 0) return;
    const keep: PendingCheck[] = [];
    for (const p of lt.pending) {
      if (p.seq > upToSeq) keep.push(p);
      else {
        const v = this.judge(lt, p);
        if (v !== null) found.push(v);
      }
    }
    lt.pending.splice(0, lt.pending.length, ...keep);
  }

  private judge(lt: LeaderTerm, p: PendingCheck): CommitQuorumViolation | null {
    // Learnt before this term: some earlier leader advertised it (its own check was that leader's).
    if (p.commit <= this.ceilingBefore(lt.term)) return null;
    const { since, candidates } = this.candidates(lt, p);
    if (candidates.some((c) => majorityHolds(c, lt.leader, p.acked, p.commit))) return null;
    const acked: Record<string, number> = {};
    for (const [node, index] of [...p.acked].sort(([a], [b]) => a.localeCompare(b))) acked[node] = index;
    const holders = (c: WireConfiguration): string =>
      c.voters.filter((v) => v === lt.leader || (p.acked.get(v) ?? 0) >= p.commit).join(',') || 'none';
    return {
      leader: lt.leader,
      term: lt.term,
      commitIndex: p.commit,
      seq: p.seq,
      acked,
      configurations: candidates,
      sinceSeq: Number.isFinite(since) ? since : null,
      sent: lt.sent.map((x) => [x.seq, x.index] as const),
      message:
        `commit quorum violated: ${lt.leader} advertised commit index ${p.commit} in term ${lt.term} held by no majority of its ` +
        `configuration (${candidates.map((c) => `${describeWireConfiguration(c)}: held by ${holders(c)}`).join('; ')}; ` +
        `the configuration in effect is the latest in the leader's log, committed or not, dissertation §4.1)`,
    };
  }

  /** Bounds commitByTerm: the lowest term's commit folds into a ceiling every term counts (more lenient, never less). */
  private foldOldestTerm(): void {
    const oldest = Math.min(...this.commitByTerm.keys());
    this.foldedCeiling = Math.max(this.foldedCeiling, this.commitByTerm.get(oldest) ?? 0);
    this.commitByTerm.delete(oldest);
  }

  /** The configurations a candidate of `term` may have held: see the header. */
  private electionCandidates(term: number): WireConfiguration[] {
    let inherited = this.committedConfigs[0]!;
    for (const c of this.committedConfigs) if (c.term < term && c.index > inherited.index) inherited = c;
    const out: WireConfiguration[] = [inherited.configuration];
    for (const [index, byTerm] of this.configs) {
      if (index <= inherited.index) continue;
      for (const [entryTerm, c] of byTerm) if (entryTerm < term && !out.some((o) => sameConfiguration(o, c))) out.push(c);
    }
    return out;
  }

  private judgeElection(leader: string, term: number): ElectionQuorumViolation | null {
    // No vote of this term seen at all: the monitor did not see this election (attached late, or a hand-made
    // stream), so it cannot judge it. A real election among several voters always shows granted votes.
    if (!this.voteTerms.has(term)) return null;
    const voters = this.votes.get(`${leader} ${term}`) ?? new Set<string>();
    const granted = new Map([...voters].map((v): [string, number] => [v, 1]));
    const candidates = this.electionCandidates(term);
    // majorityHolds counts the leader itself when it is a voter: its own vote (never on the wire).
    if (candidates.some((c) => majorityHolds(c, leader, granted, 1))) return null;
    const votes = [...voters].sort();
    return {
      leader,
      term,
      votes,
      configurations: candidates,
      message:
        `election quorum violated: ${leader} led term ${term} with the votes of ${[leader, ...votes].join(', ')}, no majority of ` +
        `any configuration it may have held (${candidates.map(describeWireConfiguration).join('; ')}; §4.1: votes are counted ` +
        `in the latest configuration in the candidate's log)`,
    };
  }

  /** The highest commit index advertised in any term before `term`. */
  private ceilingBefore(term: number): number {
    let ceiling = this.foldedCeiling;
    for (const [t, commit] of this.commitByTerm) if (t < term && commit > ceiling) ceiling = commit;
    return ceiling;
  }

  /** The configurations that may have been in effect on the leader when it raised its commit index to p.commit. */
  private candidates(lt: LeaderTerm, p: PendingCheck): { since: number; candidates: WireConfiguration[] } {
    // Its last exact advertisement of a lower commit index before p: it raised the index after that.
    let since = Number.NEGATIVE_INFINITY;
    for (const e of lt.exact) if (e.seq < p.seq && e.commit < p.commit && e.seq > since) since = e.seq;
    const out: WireConfiguration[] = [];
    const add = (c: WireConfiguration): void => {
      if (!out.some((o) => sameConfiguration(o, c))) out.push(c);
    };
    // In effect at `since`: the newest it had sent by then...
    let newest: SentConfig | null = null;
    for (const s of lt.sent) if (s.seq <= since && (newest === null || s.index > newest.index)) newest = s;
    // ...or, before it sent any, the newest committed in an earlier term (it holds that one, §5.4)...
    let inherited = this.committedConfigs[0]!;
    for (const c of this.committedConfigs) if (c.term < lt.term && c.index > inherited.index) inherited = c;
    // ...or a newer one of an earlier term it inherited and had not yet sent (entries of its own term it sends when it appends them).
    const floor = newest?.index ?? inherited.index;
    add(newest?.configuration ?? inherited.configuration);
    for (const [index, byTerm] of this.configs) {
      if (index <= floor) continue;
      for (const [entryTerm, c] of byTerm) if (entryTerm < lt.term) add(c);
    }
    // Appended in the window (or just before p and sent just after it).
    for (const s of lt.sent) if (s.seq > since && s.seq <= p.seq + this.graceSeqs) add(s.configuration);
    return { since, candidates: out };
  }
}
