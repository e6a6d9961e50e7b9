/**
 * The final phase of the workload (Jepsen's final generator): heal every
 * fault, wait for a leader, then read every key ever used until each read is
 * ok once or the budget runs out. A key never read ok is a finding for the
 * analyses (its last write may be lost), not a crash.
 */
import type { DbCluster } from '../db/cluster.js';
import { LEADER_WAIT_MS } from './cluster-scope.js';
import type { CatchUp, RunContext } from './context.js';
import type { Workload } from './workload.js';
import { compareReplicas, replicaAnalysis, REPLICAS_WAIT_AFTER_LAGGARDS_MS, REPLICAS_WAIT_MS } from './replicas.js';

/** Budget for the final reads (every key read ok once). */
export const FINAL_READS_MS = 20_000;

export async function healAndFinalReads(run: RunContext, cluster: DbCluster, w: Workload): Promise<void> {
  const { timings } = run.facts;
  w.phaseName = 'heal';
  const healStart = performance.now();
  if (w.nemesis !== null) await w.nemesis.healAll();
  const healEndedAtMs = run.history.nowMs();
  w.enterFinalPhase();
  w.leader = await cluster.waitForLeader(LEADER_WAIT_MS);
  // No leader this long after every fault healed is a finding of the progress analysis, not a crash.
  run.facts.heal = { endedAtMs: healEndedAtMs, leader: w.leader, leaderWaitMs: LEADER_WAIT_MS };
  timings.healMs = run.msSince(healStart);
  run.log.line(
    w.leader === null ? `no leader ${LEADER_WAIT_MS / 1000} s after the heal; final reads will likely fail` : `healed; leader ${w.leader}`,
  );
  run.throwIfInterrupted();

  w.phaseName = 'final reads';
  const readsStart = performance.now();
  const keys = w.generator.keysUsed();
  const reads = await w.pool.finalReads(keys, performance.now() + FINAL_READS_MS, run.io.signal);
  run.facts.finalReads = { keys: keys.length, ok: reads.ok, missing: reads.missing };
  timings.finalReadsMs = run.msSince(readsStart);
  const never = reads.missing.length > 0 ? `; never read ok: ${reads.missing.join(', ')}` : '';
  run.log.line(`final reads: ${reads.ok}/${keys.length} keys read${never}`);
  run.throwIfInterrupted();

  // Every node must catch up with what the leader committed (a follower that lost its log's
  // tail must be brought back: issue 15 defect 4); a laggard is a finding of the progress analysis.
  w.phaseName = 'catch-up';
  const catchUpStart = performance.now();
  run.facts.catchUp = await waitForCatchUp(cluster, CATCH_UP_MS, run.io.signal);
  const c = run.facts.catchUp;
  run.log.line(
    c.laggards.length === 0
      ? `every node caught up with commit index ${c.target} in ${run.msSince(catchUpStart)} ms`
      : `not caught up ${CATCH_UP_MS / 1000} s after the final reads: ${c.laggards.map((l) => `${l.node} at ${l.commitIndex ?? 'no answer'}`).join(', ')} (leader at ${c.target})`,
  );

  // Replicas that applied the same entries hold the same state (Figure 3): compared now that clients stopped.
  w.phaseName = 'replicas';
  const replicas = await compareReplicas(
    cluster,
    c.laggards.length === 0 ? REPLICAS_WAIT_MS : REPLICAS_WAIT_AFTER_LAGGARDS_MS,
    run.io.signal,
  );
  run.facts.replicas = replicas;
  if (replicas !== null) run.log.line(`replicas: ${replicaAnalysis(replicas).conclusion} (${replicas.waitedMs} ms)`);
  w.phaseName = 'stopping';
}

/** How long every node gets to reach the leader's commit index after the final reads. */
export const CATCH_UP_MS = 15_000;

/**
 * Waits until every node reports a commit index at least the leader's as
 * it was when the wait began; returns the nodes still behind at the deadline.
 */
export async function waitForCatchUp(cluster: DbCluster, deadlineMs: number, signal: AbortSignal): Promise<CatchUp> {
  const leader = await cluster.waitForLeader(LEADER_WAIT_MS);
  const target = leader === null ? null : ((await cluster.status(leader))?.commitIndex ?? null);
  if (target === null) return { target: null, laggards: [] }; // no leader: already a finding of its own
  const deadline = performance.now() + deadlineMs;
  // Each node's commit index at its first answer: a laggard still there at the deadline never moved (stuck, not slow).
  const start = new Map<string, number | null>();
  for (;;) {
    const statuses = await Promise.all(cluster.nodeIds.map(async (id) => [id, await cluster.status(id)] as const));
    for (const [id, s] of statuses) if (!start.has(id) || start.get(id) === null) start.set(id, s?.commitIndex ?? null);
    const laggards = statuses
      .filter(([, s]) => s === null || s.commitIndex < target)
      .map(([node, s]) => ({ node, commitIndex: s?.commitIndex ?? null, startCommitIndex: start.get(node) ?? null }));
    if (laggards.length === 0 || performance.now() >= deadline || signal.aborted) return { target, laggards };
    await new Promise((r) => setTimeout(r, 100));
  }
}
