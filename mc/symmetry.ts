/**
 * Symmetry over node ids (a model checker's symmetry set, as TLC's
 * SYMMETRY and Stateright's `Representative`): the nodes of a cluster are
 * interchangeable, so a state and the same state with its node ids
 * relabelled are explored once. A state's fingerprint is the smallest
 * fingerprint among its relabellings; only relabellings that order the
 * nodes by an id-blind signature are tried (`candidatePermutations`),
 * which gives the same minimum for every member of the orbit.
 *
 * How exact it is: the core visits its peers in sorted id order, so within
 * one Ready a leader numbers its AppendEntries (`seq`) in id order, and a
 * relabelled state's future numbers them the other way round. Every
 * comparison the core makes on seq is per peer (increasing) or against a
 * value taken between two batches (a read round's first seq, the newest
 * seq when an ack arrived), so these orders give the same decisions; and
 * which message a full network loses on sending differs, as any loss is a
 * behaviour the model has anyway. Pruning never reports a violation that is
 * not real (every explored state is reached by real steps, and every
 * counterexample replays in the simulator); `--no-symmetry` turns it off,
 * and test/mc/ checks that both give the same verdicts on small bounds.
 *
 * Membership (issue 18): a spare identity starts outside every
 * configuration (RaftConfig.joining) while a bootstrap voter starts in it,
 * and a node restarted on an empty disk builds its core from that per-id
 * setting, which is not part of the state. So the ids fall into blocks, the
 * bootstrap voters and the spares, and only relabellings that keep each
 * block (a product of symmetric groups) are used; within a block the nodes
 * are interchangeable once everything in the state that names a node is
 * relabelled with it (mc/intern.ts: configurations, config entries in logs
 * and messages).
 */
import type { NodeId } from '../node/raft/types.js';

export interface Permutations {
  readonly nodeCount: number;
  /** perms[p][i]: the index node i becomes under permutation p; perms[0] is the identity. */
  readonly perms: readonly Int8Array[];
  /** idMaps[p]: node id -> its image under p. */
  readonly idMaps: readonly ReadonlyMap<NodeId, NodeId>[];
  /** inverse[p][j]: the node that becomes j. */
  readonly inverse: readonly Int8Array[];
  /** blockOf[i]: the block of node i (0: bootstrap voters, 1: spares); every permutation maps each block onto itself. */
  readonly blockOf: Int8Array;
}

export function nodeIdOf(index: number): NodeId {
  return `n${index + 1}`;
}

/** Index of a node id n1..n9; -1 for anything else. */
export function indexOfId(id: string): number {
  if (id.length !== 2 || id.charCodeAt(0) !== 110) return -1;
  const digit = id.charCodeAt(1) - 49;
  return digit >= 0 && digit <= 8 ? digit : -1;
}

/** The relabellings of `nodeCount` ids that keep the first `voterCount` (the bootstrap voters) among themselves (default: all). */
export function allPermutations(nodeCount: number, voterCount = nodeCount): Permutations {
  const blockOf = Int8Array.from({ length: nodeCount }, (_, i) => (i < voterCount ? 0 : 1));
  const perms: Int8Array[] = [];
  const build = (prefix: number[], rest: number[]): void => {
    if (rest.length === 0) {
      perms.push(Int8Array.from(prefix));
      return;
    }
    rest.forEach((x, i) => {
      if (blockOf[x] === blockOf[prefix.length]) build([...prefix, x], [...rest.slice(0, i), ...rest.slice(i + 1)]);
    });
  };
  build(
    [],
    Array.from({ length: nodeCount }, (_, i) => i),
  );
  const inverse = perms.map((p) => {
    const inv = new Int8Array(nodeCount);
    p.forEach((image, i) => {
      inv[image] = i;
    });
    return inv;
  });
  const idMaps = perms.map((p) => new Map(Array.from(p, (image, i) => [nodeIdOf(i), nodeIdOf(image)] as const)));
  return { nodeCount, perms, idMaps, inverse, blockOf };
}

/**
 * The permutations that sort nodes by `signature` (id-blind, so it moves
 * with the node under relabelling) within each block: node i goes to
 * position rank(i) among its block's positions; nodes with equal signatures
 * are tried in every order among their positions.
 */
export function candidatePermutations(set: Permutations, signatures: ArrayLike<number>, out: number[]): void {
  out.length = 0;
  const n = set.nodeCount;
  // Without ties the candidate is the one permutation that sorts: find it directly.
  let ties = false;
  for (let a = 0; a < n && !ties; a++) for (let b = a + 1; b < n; b++) if (signatures[a] === signatures[b]) ties = true;
  if (!ties) {
    for (let p = 0; p < set.perms.length; p++) {
      const inv = set.inverse[p]!;
      let sorted = true;
      for (let k = 1; k < n && sorted; k++)
        if (set.blockOf[k] === set.blockOf[k - 1] && signatures[inv[k]!]! < signatures[inv[k - 1]!]!) sorted = false;
      if (sorted) {
        out.push(p);
        return;
      }
    }
  }
  for (let p = 0; p < set.perms.length; p++) {
    // p is a candidate when it maps nodes to positions in signature order.
    const inv = set.inverse[p]!;
    let ok = true;
    for (let k = 1; k < n && ok; k++)
      if (set.blockOf[k] === set.blockOf[k - 1] && signatures[inv[k]!]! < signatures[inv[k - 1]!]!) ok = false;
    if (ok) out.push(p);
  }
}
