/**
 * Commit quorums across configurations (dissertation §4.1; issue 18): a
 * leader may advance its commit index to an entry only once a majority of
 * the voters of the configuration in effect on it hold that entry, and the
 * configuration in effect is the newest in its log, committed or not. The
 * wire monitor judges the same from datagrams (checker/commit-quorum.ts);
 * here the model checker and the stepped replay judge it from the nodes'
 * own logs at the moment of the commit. With a fixed membership it follows
 * from Figure 3; with changes it is what a leader that counts an older
 * configuration (`--unsafe-config-on-commit`) breaks first.
 */
import { describeConfiguration } from '../../node/raft/configuration.js';
import type { Configuration, NodeId } from '../../node/raft/types.js';

/** Null when a majority of `configuration`'s voters hold entry `index`@`term` (`holds`); else what is wrong. */
export function commitQuorumProblem(
  leader: NodeId,
  configuration: Configuration,
  index: number,
  term: number,
  holds: (id: NodeId) => boolean,
): string | null {
  const holders = configuration.voters.filter(holds);
  if (holders.length * 2 > configuration.voters.length) return null;
  return (
    `commit quorum: ${leader} committed ${index}@${term}, which only [${holders.join(',')}] of the voters of its configuration ` +
    `${describeConfiguration(configuration)} hold: not a majority (§4.1: the configuration in effect is the newest in the log)`
  );
}
