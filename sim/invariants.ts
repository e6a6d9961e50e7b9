/**
 * The Raft safety invariants (Figure 3 of the paper), checked from outside
 * the nodes after every simulated event:
 *
 * - Election Safety: at most one leader per term (§5.2);
 * - Leader Append-Only: a leader never overwrites or deletes its own entries (§5.3);
 * - Log Matching: same index and term => same entry and same prefix (§5.3).
 *   Checked entry by entry: if every (index, term) carries the same data and
 *   the same previous term on every node, the prefixes are equal by induction;
 * - Leader Completeness: a new leader holds every entry committed in an
 *   earlier term (§5.4), and an entry that commits is held by every leader
 *   of a later term already elected. A leader of an old term (a candidate
 *   that was paused or cut off while its votes came in, elected after later
 *   terms committed) owes nothing to later terms: it can commit nothing either;
 * - State Machine Safety: no two nodes apply different entries at one index
 *   (§5.4.3), observed at the moment of application;
 * - the leader commit rule (Figure 2, §5.4.2): a leader's commitIndex only
 *   advances to an entry of its current term (Figure 8's old-term commit);
 * - plus: within one incarnation currentTerm and commitIndex never decrease,
 *   and an entry at or below commitIndex never changes; across a restart the
 *   recovered currentTerm is at least every term the node already sent in a
 *   message, and a vote it granted in its recovered term is remembered
 *   (Figure 2: "updated on stable storage before responding to RPCs").
 *   The restart checks are off for the unsafe storage flags (memoryLog,
 *   ackBeforeFsync), which must then be caught by their consequences: two
 *   vote grants by one node in one term seen on the wire (§5.2, always
 *   checked), two leaders, a changed committed entry, a non-linearizable
 *   history.
 *
 * Election Safety and one vote per term are judged by the ledgers shared
 * with the real harness's wire monitor (checker/raft-invariants.ts), each
 * violation reported once; so is the bound on what an acknowledgement may
 * vouch for (checker/ack-bound.ts: no matchIndex past the AppendEntries or
 * InstallSnapshot it answers unless the follower can know it committed).
 *
 * The checker keeps only what the invariants need; the per-node work after an
 * event is proportional to what changed (log changes are found by object
 * identity, since the core never mutates an Entry).
 */
import type { RaftNode } from '../node/raft/raft.js';
import type { Entry, NodeId, RaftMessage, StoredState } from '../node/raft/types.js';
import { LeaderLedger, VoteLedger, grantedVote } from '../checker/raft-invariants.js';
import { AckLedger, type AckSnapshotChunk } from '../checker/ack-bound.js';

interface Incarnation {
  lastTerm: number;
  lastCommit: number;
  wasLeaderInTerm: number | null;
  /** Copy of the log (same Entry objects) as of the last check: this checker's own array, updated in place (copyInto). */
  log: Entry[];
  /** Index of log[0], and the log's last index (a compacted log starts after 1; an empty one after its snapshot). */
  logFirst: number;
  logLast: number;
}

interface EntryId {
  readonly term: number;
  readonly data: string;
  readonly type: Entry['type'];
}

export type ViolationSink = (message: string) => void;

export class InvariantChecker {
  /** Who led each term (Election Safety). */
  private readonly leaders = new LeaderLedger();
  /** (index:term) -> what every log holding it must agree on. */
  private readonly entries = new Map<string, { readonly data: string; prevTerm: number | null }>();
  /**
   * index -> the committed entry (from any node's commitIndex), with the term
   * of the node that first reported it committed: the committing leader's
   * term, since a leader's commitIndex moves (and is checked) first.
   */
  private readonly committed = new Map<number, EntryId & { readonly commitTerm: number }>();
  private committedMax = 0;
  /** index -> the entry the first node to apply it applied. */
  private readonly applied = new Map<number, EntryId & { readonly node: NodeId }>();
  private readonly incarnations = new Map<NodeId, Incarnation>();
  /** Highest term each node has sent in a non-pre-vote message (it must be durable). */
  private readonly termSent = new Map<NodeId, number>();
  /** Votes each node granted, by term (one vote per term). */
  private readonly votes = new VoteLedger();
  /** What each acknowledgement may vouch for. */
  private readonly acks = new AckLedger();
  checks = 0;

  constructor(
    private readonly violation: ViolationSink,
    private readonly durabilityChecks: boolean,
    /** Each newly committed index, once, in index order (the read-safety check's view of commits). */
    private readonly onCommitted: (entry: Entry) => void = () => undefined,
    /** Judge what acknowledgements vouch for (SimOptions.checkAcknowledgements). */
    private readonly checkAcknowledgements = true,
  ) {}

  /** A node (re)starts from `stored`. */
  onStart(id: NodeId, stored: StoredState): void {
    if (this.durabilityChecks) {
      const sent = this.termSent.get(id) ?? 0;
      const { currentTerm, votedFor } = stored.hardState;
      if (currentTerm < sent) {
        this.violation(
          `durability: ${id} restarted with currentTerm ${currentTerm}, but it had already sent messages in term ${sent} (Figure 2: currentTerm on stable storage before responding)`,
        );
      }
      const vote = this.votes.votedFor(id, currentTerm);
      if (vote !== undefined && votedFor !== vote) {
        this.violation(
          `durability: ${id} granted its vote in term ${currentTerm} to ${vote} but restarted with votedFor=${votedFor ?? 'null'} (§5.2: one vote per term, persisted)`,
        );
      }
    }
    const first = stored.entries[0]?.index ?? 1;
    this.incarnations.set(id, {
      lastTerm: stored.hardState.currentTerm,
      lastCommit: 0,
      wasLeaderInTerm: null,
      log: stored.entries.slice(),
      logFirst: first,
      logLast: first + stored.entries.length - 1,
    });
    this.checkNewEntries(id, stored.entries, 0);
  }

  onStop(id: NodeId): void {
    this.incarnations.delete(id);
  }

  /** Every message a node sends (after its Ready was persisted). */
  onSend(id: NodeId, message: RaftMessage): void {
    const preVote = (message.type === 'request_vote' || message.type === 'request_vote_response') && message.preVote;
    if (preVote) return; // a pre-vote carries the term the sender *would* use (§9.6)
    if (message.term > (this.termSent.get(id) ?? 0)) this.termSent.set(id, message.term);
    if (this.checkAcknowledgements) this.judgeAcknowledgement(message);
    const vote = grantedVote(message);
    if (vote === null) return;
    // The voter is the sender `id`, whatever the message says.
    const earlier = this.votes.grant({ voter: id, candidate: vote.candidate, term: vote.term });
    if (earlier !== null) {
      this.violation(`election: ${id} granted two votes in term ${vote.term}: to ${earlier} and to ${vote.candidate} (§5.2)`);
    }
  }

  /** Every snapshot chunk a node sends: what the answer to its InstallSnapshot may vouch for. */
  onSnapshotChunk(chunk: AckSnapshotChunk): void {
    if (this.checkAcknowledgements) this.acks.snapshotChunk(chunk);
  }

  private judgeAcknowledgement(message: RaftMessage): void {
    if (message.type === 'append_entries') this.acks.append(message);
    else if (message.type === 'append_entries_response') {
      const unfounded = this.acks.response(message);
      if (unfounded !== null) this.violation(unfounded.message);
    }
  }

  /** State Machine Safety, at the moment of application. */
  onApply(id: NodeId, entry: Entry): void {
    const first = this.applied.get(entry.index);
    if (first === undefined) {
      this.applied.set(entry.index, { term: entry.term, data: entry.data, type: entry.type, node: id });
      return;
    }
    if (first.term !== entry.term || first.data !== entry.data || first.type !== entry.type) {
      this.violation(
        `state machine safety: ${id} applied ${describe(entry)} at index ${entry.index}, but ${first.node} applied ${describe({ ...first, index: entry.index })} there (§5.4.3)`,
      );
    }
  }

  /** All checks on one live node after an event that touched it. */
  checkNode(id: NodeId, core: RaftNode): void {
    this.checks++;
    const inc = this.incarnations.get(id);
    if (inc === undefined) return;
    // Not core.status(): this runs after every event, and a status object per node per event showed in the profile.
    const st = { currentTerm: core.term(), commitIndex: core.committedIndex(), lastLogIndex: core.lastLogIndex() };
    const leads = core.isLeader();
    if (st.currentTerm < inc.lastTerm) this.violation(`term: ${id} currentTerm went down from ${inc.lastTerm} to ${st.currentTerm}`);
    if (st.commitIndex < inc.lastCommit) this.violation(`commit: ${id} commitIndex went down from ${inc.lastCommit} to ${st.commitIndex}`);

    // Logs are compared by index: a compacted log (§7) starts after index 1, and
    // dropping a prefix that a snapshot covers is not a change.
    const log = core.log();
    const prev = inc.log;
    const first = log[0]?.index ?? st.lastLogIndex + 1;
    const lastIndex = st.lastLogIndex;
    const entryAt = (i: number): Entry | undefined => (i >= first ? log[i - first] : undefined);
    const last = log[log.length - 1];
    if (first !== inc.logFirst || lastIndex !== inc.logLast || last !== prev[prev.length - 1]) {
      // The first index, among those both copies hold, where the log differs; or where it got shorter.
      // Raft changes a log only at its end (§5.3), so walk back from the end of what both hold.
      let changedIndex: number | null = null;
      const from = Math.max(first, inc.logFirst);
      const to = Math.min(lastIndex, inc.logLast);
      let same = to;
      while (same >= from && entryAt(same) !== prev[same - inc.logFirst]) same--;
      if (same < to) changedIndex = same + 1;
      else if (lastIndex < inc.logLast) changedIndex = lastIndex + 1;
      if (changedIndex !== null) {
        if (changedIndex <= inc.lastCommit) {
          this.violation(
            `committed entry overwritten: ${id} changed its log at index ${changedIndex}, at or below its commitIndex ${inc.lastCommit}`,
          );
        }
        if (leads && inc.wasLeaderInTerm === st.currentTerm) {
          this.violation(
            `leader append-only: leader ${id} of term ${st.currentTerm} removed or replaced its entries from index ${changedIndex} (§5.3)`,
          );
        }
      }
      // New entries: from the first changed index, or past the last one checked.
      const newFrom = changedIndex ?? inc.logLast + 1;
      this.checkNewEntries(id, log, Math.max(0, newFrom - first));
      copyInto(inc.log, log);
      inc.logFirst = first;
      inc.logLast = lastIndex;
    }

    if (leads) {
      const other = this.leaders.claim(st.currentTerm, id);
      if (other !== null) this.violation(`election safety: two leaders in term ${st.currentTerm}: ${other} and ${id} (§5.2)`);
      if (inc.wasLeaderInTerm !== st.currentTerm) {
        // Leader Completeness (§5.4): every entry committed in an earlier term is in the new leader's log.
        // Below the leader's log start its snapshot holds the entries (taken of committed state, checked when taken).
        for (let i = Math.max(1, first); i <= this.committedMax; i++) {
          const c = this.committed.get(i);
          const e = entryAt(i);
          if (c !== undefined && c.commitTerm < st.currentTerm && (e === undefined || e.term !== c.term || e.data !== c.data)) {
            this.violation(
              `leader completeness: ${id} became leader of term ${st.currentTerm} without committed entry ${i} (term ${c.term})`,
            );
            break;
          }
        }
      }
      if (inc.wasLeaderInTerm === st.currentTerm && st.commitIndex > inc.lastCommit) {
        // Leader commit rule (Figure 2, §5.4.2): a leader advances commitIndex
        // by counting replicas only to an entry of its current term; older
        // entries commit with it. Counting an old-term entry is the Figure 8
        // bug: another candidate with a later-term entry at that index may
        // still win and overwrite it (the overwrite itself needs a long,
        // precisely timed fault chain; the rule shows the bug when it happens).
        const top = entryAt(st.commitIndex);
        if (top !== undefined && top.term !== st.currentTerm) {
          this.violation(
            `leader commit rule: leader ${id} of term ${st.currentTerm} advanced commitIndex from ${inc.lastCommit} to ${st.commitIndex}, an entry of term ${top.term}, by counting replicas (§5.4.2, Figure 8)`,
          );
        }
      }
      inc.wasLeaderInTerm = st.currentTerm;
    } else {
      inc.wasLeaderInTerm = null;
    }

    // Indices below the log's start were committed under a snapshot (an install, or a restart from one).
    for (let i = Math.max(inc.lastCommit + 1, first); i <= st.commitIndex; i++) {
      const e = entryAt(i);
      if (e === undefined) {
        this.violation(`commit: ${id} has commitIndex ${st.commitIndex} beyond its log (${log.length} entries)`);
        break;
      }
      const c = this.committed.get(i);
      if (c === undefined) {
        this.committed.set(i, { term: e.term, data: e.data, type: e.type, commitTerm: st.currentTerm });
        if (i > this.committedMax) this.committedMax = i;
        this.onCommitted(e);
        // Leader Completeness (§5.4) also binds leaders elected before the entry committed: a leader of a
        // later term must hold it too (a follower that forgot its term, e.g. acking before fsync, lets an
        // old leader commit behind a newer leader's back; checking only at election time misses that).
        for (const [other, o] of this.incarnations) {
          // Below that leader's log start its snapshot holds the entry (as at election time, above); its log is
          // indexed from its start (a compacted log's first index is past 1: a hunt's false alarm, 2026-12-06).
          if (o.wasLeaderInTerm === null || o.wasLeaderInTerm <= st.currentTerm || i < o.logFirst) continue;
          const held = o.log[i - o.logFirst];
          if (held === undefined || held.term !== e.term || held.data !== e.data) {
            this.violation(
              `leader completeness: ${other} leads term ${o.wasLeaderInTerm} without entry ${i} (term ${e.term}), committed in term ${st.currentTerm} (§5.4)`,
            );
            break;
          }
        }
      } else if (c.term !== e.term || c.data !== e.data) {
        this.violation(
          `committed entry changed: ${id} committed ${describe(e)} at index ${i}, but ${describe({ ...c, index: i })} was committed there before`,
        );
      }
    }
    inc.lastTerm = st.currentTerm;
    inc.lastCommit = st.commitIndex;
  }

  /** Number of distinct committed indices seen (coverage). */
  get committedCount(): number {
    return this.committedMax;
  }

  get termsWithLeader(): number {
    return this.leaders.size;
  }

  /** Log Matching for entries [from, log.length) (0-based positions; log[0] may be past index 1 in a compacted log). */
  private checkNewEntries(id: NodeId, log: readonly Entry[], from: number): void {
    const first = log[0]?.index ?? 1;
    for (let i = from; i < log.length; i++) {
      const e = log[i]!;
      // The term before a compacted log's first entry is under the snapshot: unknown here.
      const prevTerm = i === 0 ? (first === 1 ? 0 : null) : log[i - 1]!.term;
      if (e.index !== first + i) {
        this.violation(`log: ${id} holds index ${e.index} at position ${i + 1} of a log starting at ${first}`);
        return;
      }
      const key = `${e.index}:${e.term}`;
      const known = this.entries.get(key);
      if (known === undefined) this.entries.set(key, { data: e.data, prevTerm });
      else if (known.prevTerm === null && prevTerm !== null && known.data === e.data) known.prevTerm = prevTerm;
      else if (known.data !== e.data || (known.prevTerm !== null && prevTerm !== null && known.prevTerm !== prevTerm)) {
        this.violation(`log matching: ${id} has a different entry or prefix at index ${e.index} term ${e.term} than another node (§5.3)`);
        return;
      }
    }
  }
}

/**
 * Makes `copy` hold exactly `log`'s elements: what `log.slice()` would give, without a new array per change (a node's
 * log changes at most events, and a fresh copy per change was a large share of the checker's allocations).
 */
function copyInto(copy: Entry[], log: readonly Entry[]): void {
  for (let i = 0; i < log.length; i++) copy[i] = log[i]!;
  copy.length = log.length;
}

function describe(e: EntryId & { readonly index: number }): string {
  return e.type === 'noop' ? `noop(term ${e.term})` : `${e.data.slice(0, 120)} (term ${e.term})`;
}
