/**
 * results.json: everything the run found, in one file beside the history
 * (the verdict and exit code, every analysis, the checker's and the
 * monitor's full results, counts, availability, final reads, timings), and
 * report.html drawn from it. Written for every run that has a directory,
 * crashed or interrupted ones included.
 */
import { join } from 'node:path';
import type { CheckResult } from '../../checker/types.js';
import type { WireMonitorReport } from '../net/types.js';
import type { StatsSnapshot } from '../progress.js';
import { updateLatest, writeJsonAtomic } from '../store.js';
import type { FaultEvidence, ProgressAvailability } from '../../report/evidence.js';
import type { Analysis } from './analysis.js';
import { clusterLeader } from './cluster-watch.js';
import type { CatchUp, FinalReads, RunContext, Timings } from './context.js';
import { historyPaths } from './recorder.js';
import { messageOf } from './scope.js';
import { exitCodeFor, verdictOf, type RunEnd, type RunVerdict } from './verdict.js';

export interface ResultsJson {
  /** Top-level verdict as the checker gave it (null when no check ran). */
  valid: true | false | 'unknown' | null;
  /** The run's verdict: every analysis merged (false beats unknown beats true), or how it ended without one. */
  verdict: RunVerdict;
  exitCode: number;
  testName: string;
  seed: number;
  runDir: string;
  error: string | null;
  /** Every analysis of the run with its verdict and findings (null when none ran). */
  analyses: readonly Analysis[] | null;
  /** The checker's full result: per-key results, counterexamples, timings. */
  checker: CheckResult | null;
  /**
   * The wire invariant monitor (harness/net/monitor.ts): Election Safety and
   * one vote per term, judged from the peer datagrams. Any violation makes the
   * run invalid whatever the checker says. Null without a relay (--net netns).
   */
  monitor: WireMonitorReport | null;
  /** When the run's first finding became observable (ms since the history began), from the analyses that decided an invalid verdict; null when valid. */
  detectedAtMs: number | null;
  /** The first failing key's counterexample, for a quick look. */
  counterexample: CheckResult['keys'][string]['counterexample'] | null;
  /**
   * Why there is no monitor report, when there is none ("not run: --net
   * netns ..."); null when the monitor ran.
   */
  monitorNotRun: string | null;
  counts: { byType: StatsSnapshot['byType']; byF: StatsSnapshot['byF'] };
  /**
   * The op ratios (answered / ops, overall and per phase) and, beside them,
   * availability over time: the longest gap without an ok op and the share
   * of the workload's time with progress (null when no analysis ran).
   */
  availability: { overall: StatsSnapshot['overall']; progress: ProgressAvailability | null } & StatsSnapshot['phases'];
  /** What each fault did (harness/run/evidence.ts); empty when no analysis ran. */
  faults: readonly FaultEvidence[];
  /**
   * Whether the machine starved the run (starvation.ts): the harness's event
   * loop stalls (the relay forwards nothing meanwhile) and the nodes' share of
   * time spent waiting for a CPU. Null when the workload never started.
   */
  machine: { harnessStalledMs: number; longestHarnessStallMs: number; nodeWaitShare: number | null } | null;
  /** Who led when, as the cluster watch sampled it: each change of the cluster's leader (ms since the history began). */
  leaders: readonly { atMs: number; leader: string | null; term: number | null }[];
  finalReads: FinalReads | null;
  /** After the final reads: the leader's commit index and the nodes that never reached it (null: not checked). */
  catchUp: CatchUp | null;
  nemesis: { kinds: readonly string[]; scheduled: number; actions: number };
  history: { lines: number; jsonl: string; txt: string };
  timings: Timings;
}

/** results.json of a run that ended with `end` in `runDir`. */
export function resultsOf(run: RunContext, runDir: string, end: RunEnd, snapshot: StatsSnapshot): ResultsJson {
  const verdict = verdictOf(end);
  const checker = end.kind === 'analysed' ? end.checker : null;
  const firstFailure = checker?.failures[0];
  const paths = historyPaths(runDir);
  return {
    valid: checker?.valid ?? null,
    verdict,
    exitCode: exitCodeFor(verdict),
    testName: run.options.testName,
    seed: run.seed,
    runDir,
    error: end.kind === 'analysed' ? null : end.error,
    analyses: end.kind === 'analysed' ? end.analyses : null,
    checker,
    // A run that crashed or was interrupted still reports what the monitor saw.
    monitor: end.kind === 'analysed' ? end.monitor : (run.facts.wire?.() ?? null),
    monitorNotRun: monitorNotRun(run),
    detectedAtMs: end.kind === 'analysed' ? detectedAt(end.analyses) : null,
    counterexample: firstFailure !== undefined ? (checker?.keys[firstFailure]?.counterexample ?? null) : null,
    counts: { byType: snapshot.byType, byF: snapshot.byF },
    availability: { overall: snapshot.overall, progress: end.kind === 'analysed' ? end.availability : null, ...snapshot.phases },
    faults: end.kind === 'analysed' ? end.evidence : [],
    leaders: leaderChanges(run),
    machine: run.facts.starvation?.summary(run.facts.workloadEndMs ?? run.history.nowMs()) ?? null,
    finalReads: run.facts.finalReads,
    catchUp: run.facts.catchUp,
    nemesis: { kinds: run.options.nemesis, scheduled: run.facts.schedule.length, actions: run.facts.nemesisActions },
    history: { lines: run.history.lines, jsonl: paths.jsonl, txt: paths.txt },
    timings: run.facts.timings,
  };
}

function detectedAt(analyses: readonly Analysis[]): number | null {
  const times = analyses.filter((a) => a.valid === false && a.firstFindingAtMs !== undefined).map((a) => a.firstFindingAtMs!);
  return times.length === 0 ? null : Math.round(Math.min(...times));
}

/** Why the wire monitor did not run (the summary says so too), or null when it did. */
export function monitorNotRun(run: RunContext): string | null {
  if (run.facts.wire !== null) return null;
  return run.facts.wireNotRun ?? 'not run: the run ended before the cluster was up';
}

/** The cluster watch's samples as the changes of the cluster's leader. */
function leaderChanges(run: RunContext): { atMs: number; leader: string | null; term: number | null }[] {
  const out: { atMs: number; leader: string | null; term: number | null }[] = [];
  for (const s of run.facts.watch?.samples() ?? []) {
    const l = clusterLeader(s.nodes);
    const last = out[out.length - 1];
    if (last !== undefined && last.leader === (l?.id ?? null) && last.term === (l?.term ?? null)) continue;
    out.push({ atMs: Math.round(s.atMs), leader: l?.id ?? null, term: l?.term ?? null });
  }
  return out;
}

/** Writes results.json (and points `latest` at the run again), then report.html; failures are logged, never fatal. */
export async function writeResults(run: RunContext, runDir: string, results: ResultsJson): Promise<void> {
  try {
    writeJsonAtomic(join(runDir, 'results.json'), results);
    updateLatest(run.options.store, runDir);
  } catch (e) {
    run.log.line(`writing results.json failed: ${messageOf(e)}`);
  }
  await writeHtmlReport(runDir, (l) => run.log.line(l));
}

/**
 * report.html beside the history (report/, through harness/results/run-report.ts): best
 * effort, loaded lazily, never allowed to change the run's outcome.
 */
async function writeHtmlReport(runDir: string, log: (l: string) => void): Promise<void> {
  try {
    const mod = (await import('../results/run-report.js')) as { writeReport?: (dir: string) => Promise<unknown> };
    if (typeof mod.writeReport !== 'function') return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('timed out after 30 s')), 30_000);
    });
    try {
      await Promise.race([mod.writeReport(runDir), timeout]);
    } finally {
      clearTimeout(timer);
    }
  } catch (e) {
    log(`report.html not written: ${messageOf(e)}`);
  }
}
