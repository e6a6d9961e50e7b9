// The checker's entry points: check an in-memory history, or stream one from
// a file. Keys are checked independently (P-compositionality) and the verdict
// is their conjunction; the first invalid key stops the check unless
// `allKeys`. Big multi-key histories are spread over worker_threads.
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import {
  checkKeys,
  DEFAULT_KEY_OPTIONS,
  DEFAULT_MAX_CACHE_BYTES,
  DEFAULT_MAX_CACHE_ENTRIES,
  type KeyLimits,
  type KeyOptions,
} from './check-key.js';
import { MemoryBudget } from './search/memory.js';
import { prepareHistory, type KeyHistory, type PreparedHistory } from './history.js';
import { MODELS } from './models/registry.js';
import { readHistoryFile } from './read.js';
import { keyedRecord, type CheckOptions, type CheckResult, type HistoryOp, type KeyResult, type UnknownReason } from './types.js';
import type { WorkerRequest, WorkerResponse } from './worker.js';

// Measured (npm run bench -- checker): on easy histories the structured
// clone of the ops to the workers costs far more than the search itself
// (100,000 ops: ~85 ms in-thread vs ~750 ms wall on 2 workers), so workers
// are only the default for very big histories, where hard keys are likely.
const DEFAULT_WORKER_MIN_OPS = 500_000;
const MAX_WORKERS = 4;

function limitsFor(opts: CheckOptions, startMs: number): KeyLimits {
  return {
    deadlineMs: opts.timeLimitMs !== undefined ? startMs + opts.timeLimitMs : Infinity,
    maxCacheEntries: opts.maxCacheEntries ?? DEFAULT_MAX_CACHE_ENTRIES,
    memory: new MemoryBudget(opts.maxCacheBytes ?? DEFAULT_MAX_CACHE_BYTES),
  };
}

/** The per-key options a CheckOptions asks for. */
export function keyOptionsFor(opts: CheckOptions): KeyOptions {
  return {
    fastPaths: opts.fastPaths ?? DEFAULT_KEY_OPTIONS.fastPaths,
    witness: opts.witness ?? DEFAULT_KEY_OPTIONS.witness,
    minimizeMs: opts.minimizeMs ?? DEFAULT_KEY_OPTIONS.minimizeMs,
    plainFirst: opts.plainFirst !== false,
  };
}

/** Combines per-key results into the history's verdict. */
function summarize(h: PreparedHistory, keys: Record<string, KeyResult>, searchMs: number, workers: number): CheckResult {
  const failures: string[] = [];
  const unknownKeys: string[] = [];
  let unknownReason: UnknownReason | undefined;
  for (const [k, r] of Object.entries(keys)) {
    if (r.valid === false) failures.push(k);
    else if (r.valid === 'unknown') {
      unknownKeys.push(k);
      unknownReason ??= r.unknownReason;
    }
  }
  const result: CheckResult = {
    valid: failures.length > 0 ? false : unknownKeys.length > 0 ? 'unknown' : true,
    model: h.model,
    opCount: h.opCount,
    clientOpCount: h.clientOpCount,
    keyCount: h.keys.length,
    searchMs,
    workers,
    keys,
    failures,
    unknownKeys,
  };
  if (unknownReason !== undefined && failures.length === 0) result.unknownReason = unknownReason;
  return result;
}

/** The results in the key order of the history. */
function inHistoryOrder(h: PreparedHistory, found: Record<string, KeyResult>): Record<string, KeyResult> {
  const ordered = keyedRecord<KeyResult>();
  for (const kh of h.keys) {
    const r = found[kh.key];
    if (r !== undefined) ordered[kh.key] = r;
  }
  return ordered;
}

/** Searches a prepared history in this thread. */
export function checkPrepared(h: PreparedHistory, opts: CheckOptions = {}): CheckResult {
  const t0 = performance.now();
  const limits = limitsFor(opts, t0);
  const model = MODELS[h.model];
  const found = keyedRecord<KeyResult>();
  checkKeys(
    model,
    h.keys,
    limits,
    opts.allKeys === true,
    (k, r) => {
      found[k] = r;
    },
    keyOptionsFor(opts),
  );
  return summarize(h, inHistoryOrder(h, found), performance.now() - t0, 0);
}

/**
 * Checks an in-memory history (in this thread). Throws HistoryFormatError
 * for a malformed history.
 */
export function checkHistory(ops: readonly HistoryOp[], opts: CheckOptions = {}): CheckResult {
  return checkPrepared(prepareHistory(ops, opts.model), opts);
}

function workerScript(): string | null {
  const url = new URL('./worker.js', import.meta.url);
  if (url.protocol !== 'file:') return null;
  const path = fileURLToPath(url);
  return existsSync(path) ? path : null;
}

/** Whether a prepared history is big enough for workers to pay off. */
function useWorkers(h: PreparedHistory, opts: CheckOptions): number {
  if (opts.workers === false) return 0;
  const cores = availableParallelism();
  if (cores < 2 || h.keys.length < 2) return 0;
  let searched = 0;
  for (const k of h.keys) searched += k.ops.length;
  if (searched < (opts.workerMinOps ?? DEFAULT_WORKER_MIN_OPS)) return 0;
  if (workerScript() === null) return 0; // running from TypeScript sources (tests): stay in-thread
  return Math.min(cores, MAX_WORKERS, h.keys.length);
}

/** Searches a prepared history, over worker threads when that pays off. */
export async function checkPreparedAsync(h: PreparedHistory, opts: CheckOptions = {}): Promise<CheckResult> {
  const n = useWorkers(h, opts);
  if (n === 0) return checkPrepared(h, opts);
  const t0 = performance.now();
  // Longest-processing-time-first assignment of keys to workers, by op count.
  const buckets: KeyHistory[][] = Array.from({ length: n }, () => []);
  const load = new Array<number>(n).fill(0);
  for (const kh of [...h.keys].sort((a, b) => b.ops.length - a.ops.length)) {
    let best = 0;
    for (let i = 1; i < n; i++) if (load[i]! < load[best]!) best = i;
    buckets[best]!.push(kh);
    load[best]! += kh.ops.length;
  }
  const deadlineEpochMs = opts.timeLimitMs !== undefined ? Date.now() + opts.timeLimitMs : null;
  const keys = keyedRecord<KeyResult>();
  const script = workerScript()!;
  const workers: Worker[] = [];
  await new Promise<void>((resolve, reject) => {
    let running = n;
    let settled = false;
    const finish = (err?: Error): void => {
      if (settled) return;
      settled = true;
      for (const w of workers) void w.terminate();
      if (err) reject(err);
      else resolve();
    };
    for (const bucket of buckets) {
      const req: WorkerRequest = {
        model: h.model,
        keys: bucket,
        deadlineEpochMs,
        maxCacheEntries: opts.maxCacheEntries ?? DEFAULT_MAX_CACHE_ENTRIES,
        // The bound is on the process's RSS, which every worker measures whole.
        maxCacheBytes: opts.maxCacheBytes ?? DEFAULT_MAX_CACHE_BYTES,
        allKeys: opts.allKeys === true,
        keyOptions: keyOptionsFor(opts),
      };
      const w = new Worker(script, { workerData: req });
      workers.push(w);
      w.on('message', (m: WorkerResponse) => {
        if (m.kind === 'key') {
          keys[m.key] = m.result;
          if (m.result.valid === false && opts.allKeys !== true) finish();
        } else if (m.kind === 'done') {
          if (--running === 0) finish();
        } else {
          finish(new Error(`checker worker failed: ${m.message}`));
        }
      });
      w.on('error', (e) => finish(e));
      w.on('exit', (code) => {
        if (code !== 0 && !settled) finish(new Error(`checker worker exited with code ${code}`));
      });
    }
  });
  return summarize(h, inHistoryOrder(h, keys), performance.now() - t0, n);
}

/** Like checkHistory, but may use worker threads for big histories. */
export async function checkHistoryAsync(ops: readonly HistoryOp[], opts: CheckOptions = {}): Promise<CheckResult> {
  return checkPreparedAsync(prepareHistory(ops, opts.model), opts);
}

/**
 * Streams a history file (JSONL or EDN, by extension or content) and checks
 * it. Throws HistoryFormatError for malformed input and the fs error for an
 * unreadable file.
 */
export async function checkFile(path: string, opts: CheckOptions = {}): Promise<CheckResult> {
  const ops = await readHistoryFile(path, opts.independent ?? 'auto');
  return checkHistoryAsync(ops, opts);
}
