/**
 * A campaign spread over worker threads, one fast-check campaign per worker
 * (FoundationDB and TigerBeetle run their simulators the same way: many
 * independent seeds at once, one per core).
 *
 * Worker 0 uses the campaign seed itself and worker w a seed derived from it,
 * so `--workers 1` is exactly the single-threaded campaign, and a failure is
 * reported with the seed of the worker that found it: `--seed S --path P`
 * replays it in one thread like any other. The first worker to fail keeps
 * running to shrink its counterexample; the others are stopped at once.
 *
 * Every worker runs whole simulations, so nothing about a run depends on how
 * many workers there are; only which scenarios get drawn does.
 */
import { Worker } from 'node:worker_threads';
import type { ScenarioShape } from './arbitraries.js';
import { addTotals, emptyTotals, type CampaignResult, type RunFigures } from './property.js';
import type { SimOptions } from './scenario.js';

/** What a worker is asked to do (structured-cloned to it). */
export interface WorkerTask {
  readonly options: SimOptions;
  readonly numRuns: number;
  readonly seed: number;
  readonly maxShrinks: number;
  readonly shape: ScenarioShape;
}

/** One finished run, as a worker reports it (progress lines and totals). */
export interface RunReport extends RunFigures {
  readonly seed: number;
  readonly checkerUnknown: boolean;
  readonly violation: string | null;
}

export type WorkerMessage =
  | { readonly type: 'run'; readonly run: RunReport }
  | { readonly type: 'failing' }
  | { readonly type: 'done'; readonly result: CampaignResult }
  | { readonly type: 'error'; readonly message: string };

/** Worker w's fast-check seed: the campaign's own for w = 0, spread by a golden-ratio step otherwise. */
export function workerSeed(seed: number, w: number): number {
  return (seed + Math.imul(w, 0x9e3779b9)) >>> 0;
}

/** Runs per worker: an even split, the remainder to the first workers. */
export function splitRuns(numRuns: number, workers: number): number[] {
  return Array.from({ length: workers }, (_, w) => Math.floor(numRuns / workers) + (w < numRuns % workers ? 1 : 0));
}

export interface ParallelOptions {
  readonly workers: number;
  readonly numRuns: number;
  readonly seed: number;
  readonly maxShrinks: number;
  readonly shape: ScenarioShape;
  readonly onRun?: (run: RunReport, worker: number, total: number) => void;
}

export interface ParallelResult extends CampaignResult {
  readonly workers: number;
  /** Wall time of the whole campaign (all workers, checker and generation included). */
  readonly elapsedMs: number;
}

const workerUrl = new URL('./campaign-worker.js', import.meta.url);

export async function parallelCampaign(options: SimOptions, opts: ParallelOptions): Promise<ParallelResult> {
  if (!Number.isInteger(opts.workers) || opts.workers < 1) throw new Error(`workers must be a positive integer, got ${opts.workers}`);
  const started = performance.now();
  const shares = splitRuns(opts.numRuns, opts.workers).filter((n) => n > 0);
  const workers: Worker[] = [];
  let totalRuns = 0;
  const totals = emptyTotals();
  let failingWorker: number | null = null;
  let runsBeforeFailure: number | null = null;

  const results = await new Promise<(CampaignResult | null)[]>((resolve, reject) => {
    const results: (CampaignResult | null)[] = shares.map(() => null);
    let open = shares.length;
    const finish = (): void => {
      open--;
      if (open === 0) resolve(results);
    };
    shares.forEach((numRuns, w) => {
      const task: WorkerTask = { options, numRuns, seed: workerSeed(opts.seed, w), maxShrinks: opts.maxShrinks, shape: opts.shape };
      const worker = new Worker(workerUrl, { workerData: task });
      workers.push(worker);
      let settled = false;
      worker.on('message', (message: WorkerMessage) => {
        switch (message.type) {
          case 'run': {
            totalRuns++;
            const r = message.run;
            addTotals(totals, r, r.checkerUnknown);
            opts.onRun?.(r, w, totalRuns);
            break;
          }
          case 'failing':
            if (failingWorker === null) {
              failingWorker = w;
              runsBeforeFailure = totalRuns;
              // Only the first failure is shrunk and reported; the rest stop now.
              workers.forEach((other, i) => {
                if (i !== w) void other.terminate();
              });
            }
            break;
          case 'done':
            results[w] = message.result;
            settled = true;
            finish();
            break;
          case 'error':
            reject(new Error(`simulation worker ${w}: ${message.message}`));
            break;
        }
      });
      worker.on('error', (error) => reject(error));
      worker.on('exit', () => {
        if (!settled) {
          settled = true;
          finish(); // terminated because another worker failed
        }
      });
    });
  }).finally(() => {
    for (const worker of workers) void worker.terminate();
  });

  let shrinks = 0;
  for (const r of results) shrinks += r?.shrinks ?? 0;
  const failed = failingWorker !== null ? (results[failingWorker] ?? null) : null;
  const elapsedMs = performance.now() - started;
  if (failed !== null && failed.failed) {
    return { ...failed, runs: totalRuns, shrinks, runsToFailure: runsBeforeFailure, totals, workers: shares.length, elapsedMs };
  }
  const first = results[0];
  return {
    failed: false,
    seed: first?.seed ?? opts.seed,
    path: null,
    runsToFailure: null,
    runs: totalRuns,
    shrinks,
    counterexample: null,
    totals,
    report: '',
    workers: shares.length,
    elapsedMs,
  };
}
