/**
 * The analysis phase (Jepsen's analyze!), after the workload scope closed
 * the history: every analysis of the run, in a fixed order (the
 * linearizability checker first: the summary names it beside a verdict
 * another analysis decided; then the wire monitor where there is one, the
 * replicas, disk recovery where the disk nemesis ran, how nodes took a full
 * disk where the disk-full nemesis ran, then progress).
 * Their merged verdict is the run's (verdict.ts). Beside the verdict: what
 * each fault did (evidence.ts) and availability over time
 * (availability.ts), from the same history.
 */
import { writeCheckArtifacts } from '../../checker/run-artifacts.js';
import { readHistoryLenient } from '../../report/read-history.js';
import { pairClientOps } from '../../report/ops.js';
import type { Analysis } from './analysis.js';
import { progressAvailability, stallThresholdMs } from './availability.js';
import type { RunContext } from './context.js';
import { buildEvidence, okTimesMs } from './evidence.js';
import { CATCH_UP_MS, FINAL_READS_MS } from './heal.js';
import { checkLinearizable, linearizabilityAnalysis } from './linearizability.js';
import { healedStretches, progressAnalysis, recoveryBound } from './progress-analysis.js';
import { historyPaths } from './recorder.js';
import type { RunEnd } from './verdict.js';
import { wireMonitorAnalysis } from './wire-monitor.js';
import { replicaAnalysis } from './replicas.js';
import { diskRecoveryAnalysis } from './disk-recovery.js';
import { diskFullAnalysis, unreadableLogs } from './disk-full-analysis.js';
import { nodeErrorsAnalysis } from './node-errors.js';
import { join } from 'node:path';

export async function analyze(run: RunContext, runDir: string): Promise<Extract<RunEnd, { kind: 'analysed' }>> {
  const { options } = run;
  const checkStart = performance.now();
  run.log.line(`checking ${run.history.lines} history lines (cas-register, budget ${options.checkTimeLimitS} s)...`);
  const checker = await checkLinearizable(historyPaths(runDir).jsonl, Math.round(options.checkTimeLimitS * 1000));
  run.facts.timings.checkMs = run.msSince(checkStart);
  // history.edn (Jepsen's store form) and certificate.json (re-checked by `npm run check -- --verify`) beside results.json.
  await writeCheckArtifacts(runDir, historyPaths(runDir).jsonl, checker, 'cas-register', (l) => run.log.line(l));
  const analyses: Analysis[] = [linearizabilityAnalysis(checker)];
  const monitor = run.facts.wire?.() ?? null;
  if (monitor !== null) {
    analyses.push(wireMonitorAnalysis(monitor));
    if (monitor.violations.length > 0) {
      run.log.line(`monitor: ${monitor.violations.length} violation(s): ${monitor.violations.map((v) => v.message).join('; ')}`);
    }
  }

  if (run.facts.replicas !== null) analyses.push(replicaAnalysis(run.facts.replicas));
  // rift's own report of a message it could not send (etcd's logs speak another language).
  const nodeErrors = options.db === 'rift' ? nodeErrorsAnalysis(join(runDir, 'nodes')) : null;
  if (nodeErrors !== null) analyses.push(nodeErrors);

  // Disk recovery, progress, availability over time and the per-fault evidence, all from the history as written.
  const { ops: history } = await readHistoryLenient(historyPaths(runDir).jsonl);
  const disk = diskRecoveryAnalysis(history);
  if (disk !== null) analyses.push(disk);
  // rift's data directories on this machine (kept in the run directory once the cluster stopped).
  const unreadable = options.db === 'rift' && options.hosts === null ? await unreadableLogs(history, (id) => join(runDir, 'data', id)) : [];
  const full = diskFullAnalysis(history, unreadable);
  if (full !== null) analyses.push(full);
  const paired = pairClientOps(history);
  const oks = okTimesMs(paired.ops);
  const electionTimeoutMaxMs = options.electionTimeoutMs[1];
  const stallMs = stallThresholdMs(electionTimeoutMaxMs, options.rate);
  const watch = run.facts.watch;
  const evidence = buildEvidence({
    history,
    ops: paired.ops,
    samples: watch?.samples() ?? [],
    netAt: (i) => watch?.netAt(i) ?? null,
    countsLinks: watch?.countsLinks ?? false,
    nodeIds: Array.from({ length: options.nodes }, (_, i) => `n${i + 1}`),
    pollMs: watch?.pollMs ?? 100,
    electionTimeoutMaxMs,
    stallMs,
    overloaded: (fromMs, toMs) => run.facts.starvation?.overloaded(fromMs, toMs) ?? null,
  });
  const workloadEndMs = run.facts.workloadEndMs ?? paired.tEnd / 1e6;
  const availability = progressAvailability(oks, workloadEndMs, stallMs);
  const heal = run.facts.heal;
  const firstFinalOk = heal === null ? null : (oks.find((t) => t >= heal.endedAtMs) ?? null);
  analyses.push(
    progressAnalysis({
      bound: recoveryBound(electionTimeoutMaxMs, options.opTimeoutMs, options.rate),
      oks,
      healedStretches: healedStretches(evidence, workloadEndMs),
      heal,
      finalReads: run.facts.finalReads,
      firstFinalOkMs: firstFinalOk,
      finalReadsBudgetMs: FINAL_READS_MS,
      catchUp: run.facts.catchUp === null ? null : { ...run.facts.catchUp, waitedMs: CATCH_UP_MS },
      overloaded: (fromMs, toMs) => run.facts.starvation?.overloaded(fromMs, toMs) ?? null,
    }),
  );
  return { kind: 'analysed', analyses, checker, monitor, evidence, availability };
}
