// Reading a run directory's files for the run's report and the results browser,
// tolerantly: a run killed half-way leaves a truncated history, no results
// or a corrupt test.json, and the page must still show what there is.
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { CheckResult } from '../../checker/types.js';

export const HISTORY_FILE = 'history.jsonl';
export const RESULTS_FILE = 'results.json';
export const TEST_FILE = 'test.json';
export const REPORT_FILE = 'report.html';

/** Reads a JSON object file; null when missing, unreadable or not an object. */
export async function readJsonObject(path: string): Promise<Record<string, unknown> | null> {
  try {
    const v: unknown = JSON.parse(await readFile(path, 'utf8'));
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function looksLikeCheckResult(v: unknown): v is CheckResult {
  if (v === null || typeof v !== 'object') return false;
  const o = v as Record<string, unknown>;
  const valid = o['valid'];
  return (
    (valid === true || valid === false || valid === 'unknown') &&
    o['keys'] !== null &&
    typeof o['keys'] === 'object' &&
    Array.isArray(o['failures']) &&
    typeof o['model'] === 'string'
  );
}

/**
 * The CheckResult inside a results.json: its `check` or `checker` field, or
 * the object itself. Missing fields a renderer needs are filled in; null
 * when there is no recognisable result.
 */
export function checkResultOf(results: Record<string, unknown> | null): CheckResult | null {
  if (results === null) return null;
  for (const cand of [results['check'], results['checker'], results['linearizable'], results]) {
    if (looksLikeCheckResult(cand)) {
      const c = cand as CheckResult & Partial<Record<string, unknown>>;
      return {
        ...c,
        opCount: typeof c.opCount === 'number' ? c.opCount : 0,
        clientOpCount: typeof c.clientOpCount === 'number' ? c.clientOpCount : 0,
        keyCount: typeof c.keyCount === 'number' ? c.keyCount : Object.keys(c.keys).length,
        searchMs: typeof c.searchMs === 'number' ? c.searchMs : 0,
        unknownKeys: Array.isArray(c.unknownKeys) ? c.unknownKeys : [],
      };
    }
  }
  return null;
}

export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

export function runPaths(runDir: string): { history: string; results: string; test: string; report: string } {
  return {
    history: join(runDir, HISTORY_FILE),
    results: join(runDir, RESULTS_FILE),
    test: join(runDir, TEST_FILE),
    report: join(runDir, REPORT_FILE),
  };
}
