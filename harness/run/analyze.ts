/**
 * The analysis phase (Jepsen's analyze!), after the workload scope closed
 * the history: every analysis of the run, in a fixed order (the
 * linearizability checker first: the summary names it beside a verdict
 * another analysis decided). Their merged verdict is the run's (verdict.ts).
 */
import type { Analysis } from './analysis.js';
import type { RunContext } from './context.js';
import { checkLinearizable, linearizabilityAnalysis } from './linearizability.js';
import { historyPaths } from './recorder.js';
import type { RunEnd } from './verdict.js';
import { wireMonitorAnalysis } from './wire-monitor.js';

export async function analyze(run: RunContext, runDir: string): Promise<Extract<RunEnd, { kind: 'analysed' }>> {
  const checkStart = performance.now();
  run.log.line(`checking ${run.history.lines} history lines (cas-register, budget ${run.options.checkTimeLimitS} s)...`);
  const checker = await checkLinearizable(historyPaths(runDir).jsonl, Math.round(run.options.checkTimeLimitS * 1000));
  run.facts.timings.checkMs = run.msSince(checkStart);
  const analyses: Analysis[] = [linearizabilityAnalysis(checker)];
  const monitor = run.facts.wire?.() ?? null;
  if (monitor !== null) {
    analyses.push(wireMonitorAnalysis(monitor));
    if (monitor.violations.length > 0) {
      run.log.line(`monitor: ${monitor.violations.length} violation(s): ${monitor.violations.map((v) => v.message).join('; ')}`);
    }
  }
  return { kind: 'analysed', analyses, checker, monitor };
}
