// worker_threads entry: checks a share of a big history's keys and posts one
// message per key, so the main thread can stop everyone at the first invalid
// key. Loaded only from compiled JS (dist/checker/worker.js).
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { checkKeys, type KeyOptions } from './check-key.js';
import { MemoryBudget } from './search/memory.js';
import type { KeyHistory } from './history.js';
import { MODELS } from './models/registry.js';
import type { KeyResult, ModelName } from './types.js';

export interface WorkerRequest {
  model: ModelName;
  keys: KeyHistory[];
  /** Date.now()-based deadline (performance.now() origins differ between threads), or null. */
  deadlineEpochMs: number | null;
  maxCacheEntries: number;
  maxCacheBytes: number;
  allKeys: boolean;
  keyOptions: KeyOptions;
}

export type WorkerResponse = { kind: 'key'; key: string; result: KeyResult } | { kind: 'done' } | { kind: 'error'; message: string };

function run(req: WorkerRequest, post: (m: WorkerResponse) => void): void {
  const model = MODELS[req.model];
  const deadlineMs = req.deadlineEpochMs === null ? Infinity : performance.now() + (req.deadlineEpochMs - Date.now());
  const limits = { deadlineMs, maxCacheEntries: req.maxCacheEntries, memory: new MemoryBudget(req.maxCacheBytes) };
  checkKeys(model, req.keys, limits, req.allKeys, (key, result) => post({ kind: 'key', key, result }), req.keyOptions);
  post({ kind: 'done' });
}

if (!isMainThread && parentPort !== null) {
  const port = parentPort;
  try {
    run(workerData as WorkerRequest, (m) => port.postMessage(m));
  } catch (e) {
    port.postMessage({ kind: 'error', message: e instanceof Error ? (e.stack ?? e.message) : String(e) } satisfies WorkerResponse);
  }
}
