// Writing report.html for any history file (JSON Lines or EDN) and the
// checker's result on it: `npm run check -- FILE --html OUT`, and the
// harness's per-run report (harness/results/run-report.ts).
import { rename, writeFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import type { CheckResult } from '../checker/types.js';
import { readHistoryLenient } from './read-history.js';
import { renderReport, type ReportInput } from './render.js';

/** Writes via a temporary file and a rename, so a reader never sees half a page. */
export async function writeAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  await writeFile(tmp, text, 'utf8');
  await rename(tmp, path);
}

/** Renders `input` and writes it to `outPath` atomically; returns the page's size in bytes. */
export async function writeReportPage(outPath: string, input: ReportInput): Promise<number> {
  const html = renderReport(input);
  await writeAtomic(resolve(dirname(outPath), basename(outPath)), html);
  return Buffer.byteLength(html);
}

/** The report for any history file and the checker's result on it. */
export async function writeReportForHistory(
  historyPath: string,
  check: CheckResult | null,
  outPath: string,
  opts: { title?: string; test?: Record<string, unknown> } = {},
): Promise<void> {
  const { ops, skippedLines } = await readHistoryLenient(historyPath);
  const test: Record<string, unknown> = { history: resolve(historyPath), ...(opts.test ?? {}) };
  if (skippedLines > 0) test['reportSkippedHistoryLines'] = skippedLines;
  await writeReportPage(outPath, { title: opts.title ?? basename(historyPath), history: ops, check, test });
}
