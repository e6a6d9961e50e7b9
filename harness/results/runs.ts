// The runs in a store (histories/), summarised for the results browser:
// test name, time, nemesis, verdict and op count, read from each run's
// test.json and results.json. Missing or corrupt files give "?", never an
// error. A run is any directory holding history.jsonl, test.json or
// results.json, at most MAX_DEPTH levels below the store (Jepsen's
// <test>/<time>/ layout, or a flat <time>-<test>/).
import { lstat, readdir, realpath, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { Verdict } from '../../checker/types.js';
import { checkResultOf, HISTORY_FILE, readJsonObject, RESULTS_FILE, TEST_FILE } from './run-files.js';

const MAX_DEPTH = 3;
/** Bound on directories visited per scan, so a huge store cannot stall the server. */
const MAX_DIRS_VISITED = 20_000;

export interface RunSummary {
  /** Path relative to the store, with `/` separators. */
  rel: string;
  name: string | null;
  /** Start time as ms since the epoch (test.json, else the directory's mtime). */
  timeMs: number;
  timeText: string | null;
  nemesis: string | null;
  verdict: Verdict | null;
  opCount: number | null;
  hasHistory: boolean;
  hasReport: boolean;
}

function str(v: unknown): string | null {
  if (typeof v === 'string' && v !== '') return v;
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v.length === 0 ? 'none' : v.join(',');
  return null;
}

function startOf(test: Record<string, unknown> | null): { ms: number; text: string } | null {
  if (test === null) return null;
  for (const k of ['startTime', 'start', 'time', 'startedAt']) {
    const v = test[k];
    if (typeof v === 'string') {
      const ms = Date.parse(v);
      if (Number.isFinite(ms)) return { ms, text: v };
    }
    if (typeof v === 'number' && Number.isFinite(v) && v > 1e11) return { ms: v, text: new Date(v).toISOString() };
  }
  return null;
}

function optionsOf(test: Record<string, unknown> | null): Record<string, unknown> | null {
  const o = test?.['options'];
  return o !== null && typeof o === 'object' && !Array.isArray(o) ? (o as Record<string, unknown>) : null;
}

export async function summarizeRun(store: string, dir: string): Promise<RunSummary> {
  const test = await readJsonObject(join(dir, TEST_FILE));
  const results = await readJsonObject(join(dir, RESULTS_FILE));
  const check = checkResultOf(results);
  const opts = optionsOf(test);
  let verdict: Verdict | null = check?.valid ?? null;
  if (verdict === null && results !== null) {
    const v = results['valid'];
    if (v === true || v === false || v === 'unknown') verdict = v;
  }
  const start = startOf(test);
  let timeMs = start?.ms ?? 0;
  if (start === null) {
    try {
      timeMs = (await stat(dir)).mtimeMs;
    } catch {
      timeMs = 0;
    }
  }
  const countFrom = (o: Record<string, unknown> | null, k: string): number | null => {
    const v = o?.[k];
    return typeof v === 'number' && Number.isFinite(v) ? v : null;
  };
  const opCount =
    (check !== null && check.clientOpCount > 0 ? check.clientOpCount : null) ??
    countFrom(results, 'clientOpCount') ??
    countFrom(results, 'opCount') ??
    countFrom(test, 'opCount') ??
    (check !== null && check.opCount > 0 ? check.opCount : null);
  const has = async (f: string): Promise<boolean> => {
    try {
      await stat(join(dir, f));
      return true;
    } catch {
      return false;
    }
  };
  return {
    rel: relative(store, dir).split(sep).join('/'),
    name: str(test?.['name']) ?? str(opts?.['name']) ?? str(test?.['workload']),
    timeMs,
    timeText: start?.text ?? null,
    nemesis: str(opts?.['nemesis']) ?? str(test?.['nemesis']),
    verdict,
    opCount,
    hasHistory: await has(HISTORY_FILE),
    hasReport: await has('report.html'),
  };
}

/** Every run under the store, newest first. */
export async function listRuns(store: string): Promise<RunSummary[]> {
  const root = await realpath(store);
  const found: string[] = [];
  const seen = new Set<string>();
  let visited = 0;
  const walk = async (dir: string, depth: number): Promise<void> => {
    if (visited++ > MAX_DIRS_VISITED) return;
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    const names = new Set(entries.map((e) => e.name));
    if (depth > 0 && (names.has(HISTORY_FILE) || names.has(TEST_FILE) || names.has(RESULTS_FILE))) {
      found.push(dir);
      return;
    }
    if (depth >= MAX_DEPTH) return;
    for (const e of entries) {
      if (!e.isDirectory()) continue; // symlinks (Jepsen's `latest`) are skipped: their targets are listed anyway
      const child = join(dir, e.name);
      try {
        if ((await lstat(child)).isSymbolicLink()) continue;
      } catch {
        continue;
      }
      if (seen.has(child)) continue;
      seen.add(child);
      await walk(child, depth + 1);
    }
  };
  await walk(root, 0);
  const runs = await Promise.all(found.map((d) => summarizeRun(root, d)));
  return runs.sort((a, b) => b.timeMs - a.timeMs || (a.rel < b.rel ? 1 : a.rel > b.rel ? -1 : 0));
}
