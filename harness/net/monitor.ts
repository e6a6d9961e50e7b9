/**
 * A wire-level Raft invariant monitor: it watches the peer datagrams the UDP
 * relay carries and judges what the nodes SAID, independently of the client
 * history (a check beyond Jepsen's: a history can be linearizable by luck
 * while the protocol is already broken).
 *
 * Invariants from the Raft paper (the first two judged by the
 * ledgers shared with the simulator, checker/raft-invariants.ts):
 *
 * - Election Safety (§5.2, Figure 3): at most one leader per term. A node that
 *   sends AppendEntries in term T claims to be T's leader, so two different
 *   senders of AppendEntries in one term violate it.
 * - One vote per term (§5.2, Figure 2 "votedFor"): a node grants at most one
 *   (non-pre) vote per term. A granted RequestVote response for candidate B
 *   after one for candidate A in the same term is the double vote that a lost
 *   votedFor causes, even if no second leader comes of it. Pre-votes (thesis
 *   §9.6) are hypothetical and never recorded, so they are not counted.
 *
 * - A vote survives a crash (Figure 2: votedFor is persistent state, written
 *   before the vote is answered): when a node that granted its term-T vote
 *   is crashed and restarted (the `voter` kill target) and reports term T
 *   again, it must report the same votedFor. A node that forgot the vote is
 *   one RequestVote away from the double vote above; this catches the cause
 *   even when no second candidate of that term happens to ask.
 *
 * - Commit quorums follow the configuration (dissertation §4.1, issue 18):
 *   a leader advertises a commit index only once a majority of the voters
 *   of the configuration in effect on it (the latest configuration entry in
 *   its log, committed or not) acknowledged it. The configurations come
 *   from the config entries the AppendEntries carry, not from a fixed
 *   member set (checker/commit-quorum.ts says how the window of possible
 *   configurations is drawn so that a correct leader is never reported);
 *   likewise a leader's election: the votes it was seen granted make a
 *   majority of a configuration it may have held.
 *
 * - Acknowledgements vouch only for what was checked (§5.3, Figure 13):
 *   a successful AppendEntries response names no matchIndex past the
 *   request it answers (prevLogIndex + entries, or an InstallSnapshot's
 *   snapshot index) unless the follower can know it committed
 *   (checker/ack-bound.ts); on with the commit quorums, which count them.
 *
 * Observed on arrival at the relay, before partitions or loss drop anything:
 * a message that was sent shows what its sender believed, delivered or not.
 *
 * Cheap: only the payload's first byte (binary kind) or first bytes (JSON) are
 * looked at for the body type; only `request_vote_response`,
 * `append_entries` and `append_entries_response` go further. With the commit
 * quorum check off (the default), an AppendEntries whose (term,
 * sender) pair was already verified is counted from its unauthenticated
 * header without decoding; anything that can add a fact is fully decoded
 * and its HMAC verified first, so forged or corrupt bytes can never create
 * a violation.
 */
import { decodeEnvelope, payloadBounds } from '../../node/transport/codec.js';
import { KeyRing } from '../../node/transport/keys.js';
import { isBinaryKind, peekBinaryHeader } from '../../node/transport/raft-binary.js';
import { LeaderLedger, VoteLedger, defaultMaxTerms, grantedVote, type GrantedVote } from '../../checker/raft-invariants.js';
import {
  CommitQuorumLedger,
  type CommitQuorumViolation,
  type ElectionQuorumViolation,
  type WireConfiguration,
} from '../../checker/commit-quorum.js';
import { AE_HEAD, PREFIX_BYTES, TYPE_AE } from '../../node/transport/peek.js';
import { isSnapshotKind, SNAPSHOT_CHUNK_KIND } from '../../node/transport/snapshot-binary.js';
import { AckLedger, type UnfoundedAckViolation } from '../../checker/ack-bound.js';

export type { GrantedVote };

export type MonitorViolation =
  | {
      readonly kind: 'election-safety';
      readonly term: number;
      readonly leaders: readonly [string, string];
      readonly atMs: number;
      readonly message: string;
    }
  | {
      readonly kind: 'double-vote';
      readonly term: number;
      readonly voter: string;
      readonly candidates: readonly [string, string];
      readonly atMs: number;
      readonly message: string;
    }
  | ({ readonly kind: 'commit-quorum'; readonly atMs: number } & CommitQuorumViolation)
  | ({ readonly kind: 'election-quorum'; readonly atMs: number } & ElectionQuorumViolation)
  | ({ readonly kind: 'unfounded-ack'; readonly atMs: number } & UnfoundedAckViolation)
  | {
      readonly kind: 'lost-vote';
      readonly term: number;
      readonly voter: string;
      readonly candidate: string;
      readonly votedFor: string | null;
      readonly atMs: number;
      readonly message: string;
    };

export interface MonitorCounts {
  /** Datagrams looked at. */
  datagrams: number;
  /** AppendEntries seen (heartbeats included). */
  appendEntries: number;
  /** Granted non-pre votes seen. */
  votesGranted: number;
  /** Datagrams fully decoded (MAC checked, JSON parsed). */
  decoded: number;
  /** Datagrams of interest that failed to decode (bad MAC, malformed): ignored. */
  undecodable: number;
  /** Violations beyond maxViolations: counted, not kept. */
  violationsDropped: number;
  /** Successful acknowledgements judged against the request they answer (checker/ack-bound.ts; 0 with the check off). */
  acksJudged: number;
  /** Acknowledgements whose request was not seen (evicted, or sent before the monitor): not judged. */
  acksUnmatched: number;
}

export interface MonitorReport {
  readonly violations: readonly MonitorViolation[];
  readonly counts: MonitorCounts;
  /** Highest term in which a leader was seen sending AppendEntries (0 if none). */
  readonly maxLeaderTerm: number;
  /** Leaders seen per term, for the highest terms (at most 50 entries). */
  readonly leadersByTerm: Readonly<Record<string, readonly string[]>>;
}

export interface MonitorOptions {
  /** The peer secret (ClusterConfig.peerSecret): the monitor verifies each peer's MAC like a node does. */
  readonly peerSecret: string;
  /** The cluster's node ids: whose peer keys the monitor derives (the bootstrap nodes and any spare identities). */
  readonly nodeIds: readonly string[];
  /**
   * The bootstrap configuration (the config file's `nodes`, all voters), the
   * commit quorum check's starting point; default: every id of `nodeIds`.
   */
  readonly bootstrapVoters?: readonly string[];
  /**
   * Judge commit quorums against the configurations on the wire, and the
   * acknowledgements they count (the harness's runs turn it on:
   * run/wire-monitor.ts). It decodes every AppendEntries, response and
   * snapshot chunk, so off by default for the cheap fast path.
   */
  readonly commitQuorum?: boolean;
  /** The cluster name (ClusterConfig.cluster). */
  readonly cluster: string;
  /** Violations kept (default 100); later ones are only counted. */
  readonly maxViolations?: number;
  /** Terms remembered (default 100,000); the oldest are forgotten beyond it. */
  readonly maxTerms?: number;
  /** Called once per new violation (e.g. to log it or write it into the history). */
  readonly onViolation?: (v: MonitorViolation) => void;
  /** Milliseconds for `atMs` (default performance.now()). */
  readonly nowMs?: () => number;
}

const TYPE_RVR = Buffer.from('"type":"request_vote_response"', 'utf8');
const TYPE_AER = Buffer.from('"type":"append_entries_response"', 'utf8');
/** Any body type at all; absent from the prefix means an unexpected field order: decode fully. */
const TYPE_ANY = Buffer.from('"body":{"type":"', 'utf8');

export class RaftWireMonitor {
  private readonly keys: KeyRing;
  private readonly maxViolations: number;
  private readonly nowMs: () => number;
  private readonly kept: MonitorViolation[] = [];
  /** term → leaders seen sending AppendEntries (normally exactly one). */
  private readonly leaders: LeaderLedger;
  /** Granted votes by voter and term. */
  private readonly votes: VoteLedger;
  /** Commit quorums over the configurations seen (null: off). */
  private readonly quorums: CommitQuorumLedger | null;
  /** What each acknowledgement may vouch for (on with the commit quorums; null: off). */
  private readonly acks: AckLedger | null;
  /** Lost votes already reported (`${voter} ${term}`). */
  private readonly reportedLost = new Set<string>();
  private readonly voteListeners = new Set<(vote: GrantedVote) => void>();
  private readonly counters: MonitorCounts = {
    datagrams: 0,
    appendEntries: 0,
    votesGranted: 0,
    decoded: 0,
    undecodable: 0,
    violationsDropped: 0,
    acksJudged: 0,
    acksUnmatched: 0,
  };

  constructor(private readonly opts: MonitorOptions) {
    if (typeof opts.peerSecret !== 'string' || opts.peerSecret.length === 0)
      throw new Error('monitor: peerSecret must be a non-empty string');
    this.keys = KeyRing.forPeerObserver(opts.peerSecret, opts.nodeIds);
    this.maxViolations = opts.maxViolations ?? 100;
    this.leaders = new LeaderLedger(opts.maxTerms ?? defaultMaxTerms);
    this.votes = new VoteLedger(opts.maxTerms ?? defaultMaxTerms);
    this.nowMs = opts.nowMs ?? (() => performance.now());
    const bootstrap: WireConfiguration = { voters: [...(opts.bootstrapVoters ?? opts.nodeIds)], learners: [] };
    this.quorums = opts.commitQuorum === true ? new CommitQuorumLedger(bootstrap) : null;
    this.acks = opts.commitQuorum === true ? new AckLedger() : null;
  }

  /** Looks at one peer datagram. Never throws. */
  observe(datagram: Uint8Array): void {
    this.counters.datagrams++;
    const bounds = payloadBounds(datagram);
    if (bounds === null) return;
    const buf = Buffer.isBuffer(datagram) ? datagram : Buffer.from(datagram.buffer, datagram.byteOffset, datagram.length);
    if (isBinaryKind(buf[bounds.start])) {
      const head = peekBinaryHeader(buf, bounds.start);
      if (head?.kind === 'append_entries') {
        this.counters.appendEntries++;
        if (this.quorums === null && this.leaders.has(head.term, head.from)) return;
        this.decodeAndRecord(buf);
      } else if (
        head === null ||
        head.kind === 'request_vote_response' ||
        (this.quorums !== null && head.kind === 'append_entries_response')
      ) {
        this.decodeAndRecord(buf);
      }
      return;
    }
    if (isSnapshotKind(buf[bounds.start])) {
      // Snapshot chunks (binary only) say what an InstallSnapshot's answer may vouch for; their acks say nothing.
      if (this.acks !== null && buf[bounds.start] === SNAPSHOT_CHUNK_KIND) this.decodeAndRecord(buf);
      return;
    }
    // The JSON form (any body may travel as JSON).
    const prefix = buf.subarray(bounds.start, Math.min(bounds.end, bounds.start + PREFIX_BYTES));
    if (prefix.indexOf(TYPE_AE) >= 0) {
      this.counters.appendEntries++;
      // Fast path: a (term, sender) already verified adds nothing new.
      const head = this.quorums === null ? AE_HEAD.exec(prefix.toString('latin1')) : null;
      if (head !== null && this.leaders.has(Number(head[1]), head[2]!)) return;
      this.decodeAndRecord(buf);
      return;
    }
    if (prefix.indexOf(TYPE_RVR) >= 0 || prefix.indexOf(TYPE_ANY) < 0 || (this.quorums !== null && prefix.indexOf(TYPE_AER) >= 0))
      this.decodeAndRecord(buf);
  }

  /**
   * Calls `listener` for every granted (non-pre) vote seen from now on, as
   * soon as it is seen (authenticated): what the `voter` nemesis target
   * uses to crash a node right after it voted. Returns an unsubscribe.
   */
  addVoteListener(listener: (vote: GrantedVote) => void): () => void {
    this.voteListeners.add(listener);
    return () => this.voteListeners.delete(listener);
  }

  /**
   * Judges what a node that granted `vote` says about itself after it was
   * crashed and restarted: in the same term, its votedFor must still be the
   * candidate; an earlier term means it lost the term it had persisted
   * before voting (and the vote with it). A later term says nothing (the
   * vote was legitimately reset).
   */
  checkRestartedVoter(vote: GrantedVote, status: { readonly currentTerm: number; readonly votedFor: string | null }): void {
    if (status.currentTerm > vote.term || (status.currentTerm === vote.term && status.votedFor === vote.candidate)) return;
    const dedupe = `${vote.voter} ${vote.term}`;
    if (this.reportedLost.has(dedupe)) return;
    this.reportedLost.add(dedupe);
    this.violate({
      kind: 'lost-vote',
      term: vote.term,
      voter: vote.voter,
      candidate: vote.candidate,
      votedFor: status.votedFor,
      atMs: this.nowMs(),
      message:
        `vote durability violated: ${vote.voter} granted its term-${vote.term} vote to ${vote.candidate}, crashed, and came back in term ` +
        `${status.currentTerm} with votedFor ${status.votedFor ?? 'null'} (currentTerm and votedFor must be on stable storage before the vote is answered, Figure 2)`,
    });
  }

  violations(): readonly MonitorViolation[] {
    return this.kept;
  }

  report(): MonitorReport {
    // The run is over: what was waiting for later datagrams is judged now (once; later calls find nothing pending).
    if (this.quorums !== null) for (const v of this.quorums.finish()) this.commitQuorumViolated(v);
    const terms = this.leaders.terms().sort((a, b) => b - a);
    const leadersByTerm: Record<string, string[]> = {};
    for (const t of terms.slice(0, 50)) leadersByTerm[String(t)] = [...this.leaders.leadersOf(t)];
    const counts = { ...this.counters, acksJudged: this.acks?.counts.judged ?? 0, acksUnmatched: this.acks?.counts.unknownRequest ?? 0 };
    return { violations: [...this.kept], counts, maxLeaderTerm: terms[0] ?? 0, leadersByTerm };
  }

  private decodeAndRecord(buf: Buffer): void {
    const decoded = decodeEnvelope(buf, this.keys, this.opts.cluster);
    if (!decoded.ok) {
      this.counters.undecodable++;
      return;
    }
    this.counters.decoded++;
    const body = decoded.envelope.body;
    if (body.type === 'append_entries') {
      this.recordLeader(body.term, body.from);
      this.acks?.append(body);
      if (this.quorums !== null) {
        for (const v of this.quorums.append(body)) this.commitQuorumViolated(v);
        for (const v of this.quorums.electionViolations()) this.violate({ kind: 'election-quorum', atMs: this.nowMs(), ...v });
      }
    } else if (body.type === 'append_entries_response') {
      const unfounded = this.acks?.response(body) ?? null;
      if (unfounded !== null) this.violate({ kind: 'unfounded-ack', atMs: this.nowMs(), ...unfounded });
      this.quorums?.appendResponse(body);
    } else if (body.type === 'snapshot_chunk') {
      this.acks?.snapshotChunk(body);
    } else if (body.type === 'request_vote_response') {
      const vote = grantedVote(body);
      if (vote !== null) this.recordVote(vote);
    }
  }

  private recordLeader(term: number, leader: string): void {
    const first = this.leaders.claim(term, leader);
    if (first !== null) {
      const pair = [first, leader].sort() as [string, string];
      this.violate({
        kind: 'election-safety',
        term,
        leaders: pair,
        atMs: this.nowMs(),
        message: `election safety violated: ${pair[0]} and ${pair[1]} both led term ${term}`,
      });
    }
  }

  private commitQuorumViolated(v: CommitQuorumViolation): void {
    this.violate({ kind: 'commit-quorum', atMs: this.nowMs(), ...v });
  }

  private recordVote(vote: GrantedVote): void {
    this.counters.votesGranted++;
    this.quorums?.vote(vote);
    for (const listener of this.voteListeners) {
      try {
        listener(vote);
      } catch {
        // A listener's failure is its own; the monitor goes on judging.
      }
    }
    const earlier = this.votes.grant(vote);
    if (earlier === null) return;
    const { voter, candidate, term } = vote;
    this.violate({
      kind: 'double-vote',
      term,
      voter,
      candidates: [earlier, candidate],
      atMs: this.nowMs(),
      message: `vote safety violated: ${voter} granted its term-${term} vote to both ${earlier} and ${candidate}`,
    });
  }

  private violate(v: MonitorViolation): void {
    if (this.kept.length >= this.maxViolations) {
      this.counters.violationsDropped++;
      return;
    }
    this.kept.push(v);
    try {
      this.opts.onViolation?.(v);
    } catch {
      // a faulty callback must not take the relay down
    }
  }
}
