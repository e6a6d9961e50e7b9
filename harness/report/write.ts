// Writing report.html: for a run directory (history.jsonl, results.json,
// test.json), and for any history file with a CheckResult in hand (the
// checker CLI's `--html OUT`).
import { rename, writeFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { checkHistoryAsync } from '../../checker/check.js';
import type { CheckResult, HistoryOp } from '../../checker/types.js';
import { renderReport } from './render.js';
import { checkResultOf, readHistoryLenient, readJsonObject, runPaths } from './run-files.js';

/** Budget for re-checking a run whose results.json has no check result. */
const RECHECK_TIME_LIMIT_MS = 60_000;

/** Writes via a temporary file and a rename, so a reader never sees half a page. */
async function writeAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  await writeFile(tmp, text, 'utf8');
  await rename(tmp, path);
}

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
  let check = checkResultOf(await readJsonObject(p.results));
  let checkSource: WriteReportResult['checkSource'] = 'results.json';
  if (check === null) {
    check = await recheck(ops);
    checkSource = check === null ? 'none' : 'rechecked';
  }
  const input: Parameters<typeof renderReport>[0] = { title: titleOf(test, basename(resolve(runDir))), history: ops, check };
  if (test !== null) input.test = skippedLines > 0 ? { ...test, reportSkippedHistoryLines: skippedLines } : test;
  else if (skippedLines > 0) input.test = { reportSkippedHistoryLines: skippedLines };
  const html = renderReport(input);
  await writeAtomic(p.report, html);
  return { path: p.report, checkSource, skippedLines, bytes: Buffer.byteLength(html) };
}

/**
 * The report for any history file (JSON Lines or EDN) and the checker's
 * result on it. Used by `npm run check -- FILE --html OUT`.
 */
export async function writeReportForHistory(
  historyPath: string,
  check: CheckResult | null,
  outPath: string,
  opts: { title?: string; test?: Record<string, unknown> } = {},
): Promise<void> {
  const { ops, skippedLines } = await readHistoryLenient(historyPath);
  const test: Record<string, unknown> = { history: resolve(historyPath), ...(opts.test ?? {}) };
  if (skippedLines > 0) test['reportSkippedHistoryLines'] = skippedLines;
  const html = renderReport({ title: opts.title ?? basename(historyPath), history: ops, check, test });
  await writeAtomic(resolve(dirname(outPath), basename(outPath)), html);
}
