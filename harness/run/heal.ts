/**
 * The final phase of the workload (Jepsen's final generator): heal every
 * fault, wait for a leader, then read every key ever used until each read is
 * ok once or the budget runs out. A key never read ok is a finding for the
 * analyses (its last write may be lost), not a crash.
 */
import type { Cluster } from '../cluster.js';
import { LEADER_WAIT_MS } from './cluster-scope.js';
import type { RunContext } from './context.js';
import type { Workload } from './workload.js';

/** Budget for the final reads (every key read ok once). */
export const FINAL_READS_MS = 20_000;

export async function healAndFinalReads(run: RunContext, cluster: Cluster, w: Workload): Promise<void> {
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
  run.log.line(w.leader === null
    ? `no leader ${LEADER_WAIT_MS / 1000} s after the heal; final reads will likely fail`
    : `healed; leader ${w.leader}`);
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
  w.phaseName = 'stopping';
}
