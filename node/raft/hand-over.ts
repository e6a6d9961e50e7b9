/**
 * Whom a leader asked to remove itself hands leadership to first (thesis
 * §3.10, leadership transfer; §4.2.2: a leader that commits its own removal
 * and steps down leaves the cluster without a leader for an election
 * timeout): the other voter of its configuration with the highest
 * matchIndex, so the transfer completes soonest. Null when it is the only
 * voter. One rule for the host (node/host.ts) and the model checker's
 * stepped node (sim/stepped/node.ts).
 */
import type { Configuration, NodeId } from './types.js';

export function handOverTarget(self: NodeId, configuration: Configuration, matchIndexOf: (id: NodeId) => number): NodeId | null {
  let best: { id: NodeId; matchIndex: number } | null = null;
  for (const id of configuration.voters) {
    if (id === self) continue;
    const matchIndex = matchIndexOf(id);
    if (best === null || matchIndex > best.matchIndex) best = { id, matchIndex };
  }
  return best === null ? null : best.id;
}
