/**
 * One test run, end to end, along the seams of Jepsen's core/run! (§1.2 of
 * the notes), each resource in exactly one scope:
 *
 *   withRun           the run's context; harness.log, closed after the summary
 *     openRunDir      run directory, latest, test.json (the nemesis schedule)
 *     withCluster     nodes up, wire monitor attached, a leader (cluster-scope.ts)
 *       Workload.with history, clients, nemesis, status line (workload.ts)
 *         runForTimeLimit, then healAndFinalReads (heal.ts)
 *     analyze         the checker and the wire monitor, as analyses (analyze.ts)
 *   settle            a crash or a Ctrl-C anywhere above ends the run without a verdict
 *   conclude          results.json, report.html, the summary
 *   KeptCluster       --leave-running: the cluster stays up until Ctrl-C
 *
 * Teardown always happens (each scope releases what it acquired); Ctrl-C
 * stops the run, keeps the history and skips the check (exit 255: no verdict
 * was reached). The history is written as ops happen, so even a crashed run
 * leaves one to re-check.
 */
import type { JepsenOptions } from '../options.js';
import { analyze } from './analyze.js';
import { withCluster } from './cluster-scope.js';
import { Interrupted, withRun, type RunContext, type RunIO } from './context.js';
import { healAndFinalReads } from './heal.js';
import { KeptCluster } from './leave-running.js';
import { historyPaths } from './recorder.js';
import { monitorNotRun, resultsOf, writeResults, type ResultsJson } from './results.js';
import { openRunDir } from './run-dir.js';
import { formatSummary } from './summary.js';
import { exitCodeFor, verdictOf, type RunEnd, type RunVerdict } from './verdict.js';
import { Workload } from './workload.js';

export interface RunOutcome {
  readonly verdict: RunVerdict;
  readonly exitCode: number;
  readonly runDir: string | null;
  readonly results: ResultsJson | null;
}

export async function runTest(options: JepsenOptions, seed: number, io: RunIO): Promise<RunOutcome> {
  const kept = new KeptCluster();
  const outcome = await withRun(options, seed, io, async (run) => {
    const end = await settle(run, async () => {
      const runDir = openRunDir(run);
      await withCluster(run, runDir, kept, (system, leader) =>
        Workload.with(run, runDir, system, leader, async (w) => {
          await w.runForTimeLimit();
          await healAndFinalReads(run, system.cluster, w);
        }),
      );
      return analyze(run, runDir);
    });
    // A run without a verdict keeps no cluster up, --leave-running or not.
    if (end.kind !== 'analysed') await kept.stop(run.log);
    return conclude(run, end);
  });
  await kept.holdUntilInterrupted(io);
  return outcome;
}

/** How the run ended: analysed, or crashed or interrupted (after every scope released what it held). */
async function settle(run: RunContext, body: () => Promise<RunEnd>): Promise<RunEnd> {
  try {
    return await body();
  } catch (err) {
    if (err instanceof Interrupted || run.interrupted) return { kind: 'interrupted', error: 'interrupted (Ctrl-C)' };
    run.log.line(`CRASH: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    return { kind: 'crashed', error: err instanceof Error ? err.message : String(err) };
  }
}

/** results.json and report.html (when the run has a directory), then the summary: harness.log, then the terminal. */
async function conclude(run: RunContext, end: RunEnd): Promise<RunOutcome> {
  const { options, io, facts } = run;
  facts.timings.totalMs = run.msSince(run.originMs);
  const verdict = verdictOf(end);
  const snapshot = run.stats.snapshot();
  const runDir = facts.runDir;
  let results: ResultsJson | null = null;
  if (runDir !== null) {
    results = resultsOf(run, runDir, end, snapshot);
    await writeResults(run, runDir, results);
  }
  const summary = (colour: boolean): string =>
    formatSummary(
      {
        end,
        seed: run.seed,
        testName: options.testName,
        runDir: runDir ?? '(none)',
        historyPath: historyPaths(runDir ?? '.').jsonl,
        stats: snapshot,
        checkMs: facts.timings.checkMs,
        finalReadsMissing: facts.finalReads?.missing ?? [],
        wallMs: facts.timings.totalMs,
        evidence: end.kind === 'analysed' ? end.evidence : [],
        progress: end.kind === 'analysed' ? end.availability : null,
        monitorNotRun: monitorNotRun(run),
        machine: results?.machine ?? null,
      },
      colour,
    );
  run.log.appendToFile(summary(false));
  if (options.json) {
    // One run: results.json as is. Several (--test-count): one compact line per run (JSON Lines).
    io.stdout.write((options.testCount > 1 ? JSON.stringify(results) : JSON.stringify(results, null, 2)) + '\n');
    io.stderr.write(summary(io.stderr.isTTY === true) + '\n');
  } else {
    io.stdout.write(summary(io.stdout.isTTY === true) + '\n');
  }
  return { verdict, exitCode: exitCodeFor(verdict), runDir, results };
}
