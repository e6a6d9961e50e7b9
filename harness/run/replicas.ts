/**
 * Replica agreement at the end of a run: every node that applied the same
 * entries must hold the same state (State Machine Safety, Raft Figure 3).
 * After the final reads and the catch-up, the harness asks each node for a
 * digest of its whole replicated state (the KV store and the session table,
 * protocol.ts StateDigest) and compares nodes at equal applied indexes.
 *
 * Why beside the linearizability checker: the checker judges what clients
 * saw, and a replica whose state went wrong (a corrupt snapshot restored, an
 * entry applied that was never committed and later replaced, a log that
 * kept entries it should have dropped) serves nobody until it leads, which
 * may never happen within a run; its divergence is silent in the history but
 * certain on disk. Clients stopped before this phase, so applied indexes
 * converge once the nodes caught up; nodes left at different indexes are
 * compared within each index only.
 */
import type { DbCluster } from '../db/cluster.js';
import type { Analysis } from './analysis.js';
import { boundFindings } from './analysis.js';

export interface ReplicaDigest {
  readonly node: string;
  readonly appliedIndex: number;
  readonly sha256: string;
}

export interface ReplicaComparison {
  /** The nodes that answered, at their last answer. */
  readonly digests: readonly ReplicaDigest[];
  /** Nodes that never answered (down, paused, silent). */
  readonly silent: readonly string[];
  /** Per applied index shared by two or more nodes whose digests differ: which nodes hold which digest. */
  readonly divergences: readonly { readonly appliedIndex: number; readonly nodesByDigest: Readonly<Record<string, readonly string[]>> }[];
  /** Whether every node that answered reached one applied index. */
  readonly converged: boolean;
  readonly waitedMs: number;
}

/** How long the nodes get to reach one applied index before they are compared as they are. */
export const REPLICAS_WAIT_MS = 10_000;
/**
 * The same when the catch-up already found laggards: they did not reach the
 * leader's commit index in CATCH_UP_MS, so waiting for them again only
 * stretched every such run by 10 s (the nodes that share an index are
 * compared all the same).
 */
export const REPLICAS_WAIT_AFTER_LAGGARDS_MS = 1_000;

/** Groups digests by applied index; an index where nodes disagree is a divergence. Pure. */
export function divergencesOf(digests: readonly ReplicaDigest[]): ReplicaComparison['divergences'] {
  const byIndex = new Map<number, ReplicaDigest[]>();
  for (const d of digests) byIndex.set(d.appliedIndex, [...(byIndex.get(d.appliedIndex) ?? []), d]);
  const out: { appliedIndex: number; nodesByDigest: Record<string, string[]> }[] = [];
  for (const [appliedIndex, group] of [...byIndex].sort((a, b) => a[0] - b[0])) {
    const nodesByDigest: Record<string, string[]> = {};
    for (const d of group) (nodesByDigest[d.sha256] ??= []).push(d.node);
    if (Object.keys(nodesByDigest).length > 1) {
      for (const nodes of Object.values(nodesByDigest)) nodes.sort();
      out.push({ appliedIndex, nodesByDigest });
    }
  }
  return out;
}

/**
 * Asks every node for its digest until all that answer share one applied
 * index (or the deadline passes), then compares. Null when the system offers
 * no digests (Db.stateDigest).
 */
export async function compareReplicas(
  cluster: Pick<DbCluster, 'nodeIds' | 'digestsState' | 'stateDigest'>,
  deadlineMs: number,
  signal: AbortSignal,
): Promise<ReplicaComparison | null> {
  if (!cluster.digestsState) return null;
  const started = performance.now();
  const deadline = started + deadlineMs;
  const last = new Map<string, ReplicaDigest>();
  for (;;) {
    const answers = await Promise.all(cluster.nodeIds.map(async (node) => [node, await cluster.stateDigest(node)] as const));
    for (const [node, d] of answers) if (d !== null) last.set(node, { node, appliedIndex: d.appliedIndex, sha256: d.sha256 });
    const indexes = new Set([...last.values()].map((d) => d.appliedIndex));
    const converged = indexes.size <= 1 && answers.every(([, d]) => d !== null);
    if (converged || performance.now() >= deadline || signal.aborted) {
      const digests = [...last.values()].sort((a, b) => (a.node < b.node ? -1 : 1));
      return {
        digests,
        silent: cluster.nodeIds.filter((n) => !last.has(n)),
        divergences: divergencesOf(digests),
        converged: indexes.size <= 1,
        waitedMs: Math.round(performance.now() - started),
      };
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The comparison as an analysis of the run (analysis.ts): a divergence makes the run invalid. */
export function replicaAnalysis(c: ReplicaComparison): Analysis {
  if (c.divergences.length > 0) {
    const lines = c.divergences.map(
      (d) =>
        `at applied index ${d.appliedIndex} the replicas hold different states: ` +
        Object.entries(d.nodesByDigest)
          .map(([digest, nodes]) => `${nodes.join(', ')} ${digest.slice(0, 12)}`)
          .join(' vs '),
    );
    return {
      name: 'replicas',
      valid: false,
      conclusion: `replicas diverged (${lines[0]})`,
      brief: 'replicas: diverged',
      findings: boundFindings(lines, (n) => `... ${n} more`),
    };
  }
  const indexes = [...new Set(c.digests.map((d) => d.appliedIndex))].sort((a, b) => a - b);
  const where = indexes.length === 1 ? `at applied index ${indexes[0]}` : `within each applied index (${indexes.join(', ')})`;
  const silent = c.silent.length > 0 ? `; not compared: ${c.silent.join(', ')}` : '';
  return {
    name: 'replicas',
    valid: true,
    conclusion: `the ${c.digests.length} replicas that answered agree ${where}${silent}`,
    brief: 'replicas: agree',
    findings: [],
  };
}
