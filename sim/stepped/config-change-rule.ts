/**
 * The single-server change rule (dissertation §4.1, with the correction
 * Ongaro published in 2015; issue 18): a leader appends a configuration
 * entry only once (a) an entry of its own term is committed, and (b) the
 * configuration entry before it in its log is committed. Without (a) a new
 * leader can start a change while an uncommitted change of an earlier term
 * may still commit elsewhere: two changes, each a single-server step from a
 * common configuration, commit with majorities that share no node. Without
 * (b) two changes overlap. Judged where the mistake is made, when the entry
 * is appended, as the commit rule of Figure 8 is (a leader commits only
 * entries of its own term by counting replicas); what it breaks later (two
 * leaders of one term, a lost commit) takes a long path to show. The model
 * checker and the stepped replay judge it from the leader's own log.
 */
import type { Entry, NodeId } from '../../node/raft/types.js';

/** What the rule reads of the leader before and after the event that appended `appended`. */
export interface ConfigAppend {
  readonly leader: NodeId;
  readonly term: number;
  /** Entries the leader appended in the event, in index order. */
  readonly appended: readonly Entry[];
  /** Its commit index before the event. */
  readonly commitIndexBefore: number;
  /** The term of its entry at commitIndexBefore (its compaction point's term if compacted there; null if unknown). */
  readonly termAtCommit: number | null;
  /** The index of the newest configuration entry before the first appended one in its log (0: none since its snapshot). */
  readonly previousConfigIndex: number;
}

/** Null when every configuration entry in `a.appended` keeps the rule; else what is wrong. */
export function configChangeProblem(a: ConfigAppend): string | null {
  let previous = a.previousConfigIndex;
  for (const entry of a.appended) {
    if (entry.type !== 'config' || entry.term !== a.term) continue;
    // A leader commits only entries of its own term (Figure 8), so its commit index lands on one once any is committed.
    if (a.termAtCommit !== a.term) {
      return (
        `config change rule: ${a.leader}, leader of term ${a.term}, appended configuration entry ${entry.index} with commit index ` +
        `${a.commitIndexBefore} (term ${a.termAtCommit ?? '?'}): no entry of its term committed yet (Ongaro 2015: a leader commits ` +
        `an entry of its term before it changes the configuration)`
      );
    }
    if (previous > a.commitIndexBefore) {
      return (
        `config change rule: ${a.leader}, leader of term ${a.term}, appended configuration entry ${entry.index} while configuration ` +
        `entry ${previous} is uncommitted (commit index ${a.commitIndexBefore}; §4.1: one change at a time)`
      );
    }
    previous = entry.index;
  }
  return null;
}
