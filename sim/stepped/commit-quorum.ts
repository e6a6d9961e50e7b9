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

/**
 * "A snapshot never contains uncommitted state" (§7) across configurations:
 * null when the entry `index`@`term` that node `id` serialised its state
 * machine at is held by a majority of the voters of one of `configurations`
 * (the callers pass the snapshot's own, the configuration at its index; the
 * one in effect on the node; and each leader's newest: an entry commits
 * under its leader's newest configuration, which may come after the entry,
 * as sim/simulator.ts checkSnapshotCommitted explains); else what is wrong,
 * counted against the first. Lenient by design: with several changes in
 * between it may pass a snapshot a stricter check would not, never the other
 * way. With a fixed membership every configuration is the whole cluster, so
 * this is "a majority of the nodes hold it".
 */
export function uncommittedSnapshotProblem(
  id: NodeId,
  index: number,
  term: number,
  configurations: readonly Configuration[],
  holds: (id: NodeId) => boolean,
): string | null {
  let first: { holders: number; voters: number } | null = null;
  for (const configuration of configurations) {
    const holders = configuration.voters.filter(holds).length;
    if (configuration.voters.length > 0 && holders * 2 > configuration.voters.length) return null;
    first ??= { holders, voters: configuration.voters.length };
  }
  return (
    `snapshot: ${id} snapshotted its state machine at index ${index} (term ${term}), an entry only ${first?.holders ?? 0} of ` +
    `${first?.voters ?? 0} voters hold: uncommitted state in a snapshot (§7)`
  );
}
