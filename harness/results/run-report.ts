// report.html for a run directory (history.jsonl, results.json, test.json):
// the drawing is report/'s; this part knows the store's file layout and
// re-checks a run whose results.json has no verdict.
import { basename, resolve } from 'node:path';
import { checkHistoryAsync } from '../../checker/check.js';
import type { CheckResult, HistoryOp } from '../../checker/types.js';
import { readHistoryLenient } from '../../report/read-history.js';
import type { ReportInput, RunConclusion } from '../../report/render.js';
import { writeReportPage } from '../../report/write.js';
import { checkResultOf, readJsonObject, runPaths } from './run-files.js';

/** Budget for re-checking a run whose results.json has no check result. */
const RECHECK_TIME_LIMIT_MS = 60_000;

function titleOf(test: Record<string, unknown> | null, fallback: string): string {
  const name = test?.['name'];
  const start = test?.['startTime'] ?? test?.['start'] ?? test?.['time'];
  const n = typeof name === 'string' && name !== '' ? name : fallback;
  return typeof start === 'string' ? `${n} · ${start}` : n;
}

async function recheck(history: readonly HistoryOp[]): Promise<CheckResult | null> {
  try {
    return await checkHistoryAsync(history, { timeLimitMs: RECHECK_TIME_LIMIT_MS });
  } catch {
    return null; // a history the checker rejects still gets its timeline
  }
}

/**
 * The run's own conclusion from its results.json (verdict over every
 * analysis, per-fault evidence, availability over time), or null for a
 * results.json without one (an older run, a crashed one, a plain check).
 */
export function runConclusionOf(results: Record<string, unknown> | null): RunConclusion | null {
  if (results === null) return null;
  const verdict = results['verdict'];
  const analyses = results['analyses'];
  if (!(verdict === true || verdict === false || verdict === 'unknown') || !Array.isArray(analyses)) return null;
  const availability = results['availability'] as { progress?: unknown } | undefined;
  return {
    verdict,
    analyses: analyses as RunConclusion['analyses'],
    faults: Array.isArray(results['faults']) ? (results['faults'] as RunConclusion['faults']) : [],
    progress: (availability?.progress ?? null) as RunConclusion['progress'],
    monitorNotRun: typeof results['monitorNotRun'] === 'string' ? results['monitorNotRun'] : null,
  };
}

export interface WriteReportResult {
  path: string;
  /** How the verdict was obtained. */
  checkSource: 'results.json' | 'rechecked' | 'none';
  skippedLines: number;
  bytes: number;
}

/**
 * Reads <runDir>/history.jsonl, results.json (its `check`/`checker` field;
 * when absent the checker is run on the history) and test.json, and writes
 * <runDir>/report.html. Throws only when the history cannot be read at all.
 */
export async function writeReport(runDir: string): Promise<WriteReportResult> {
  const p = runPaths(runDir);
  const { ops, skippedLines } = await readHistoryLenient(p.history);
  const test = await readJsonObject(p.test);
  const results = await readJsonObject(p.results);
  let check = checkResultOf(results);
  let checkSource: WriteReportResult['checkSource'] = 'results.json';
  if (check === null) {
    check = await recheck(ops);
    checkSource = check === null ? 'none' : 'rechecked';
  }
  const input: ReportInput = { title: titleOf(test, basename(resolve(runDir))), history: ops, check };
  const run = runConclusionOf(results);
  if (run !== null) input.run = run;
  if (test !== null) input.test = skippedLines > 0 ? { ...test, reportSkippedHistoryLines: skippedLines } : test;
  else if (skippedLines > 0) input.test = { reportSkippedHistoryLines: skippedLines };
  const bytes = await writeReportPage(p.report, input);
  return { path: p.report, checkSource, skippedLines, bytes };
}
