/**
 * worker_threads entry of the parallel BFS (mc/parallel.ts): one model (its
 * own interned states and transition memo), its share of the current BFS
 * level, and the visited set shared with every other worker. Driven level
 * by level by the main thread; loaded only from compiled JS
 * (dist/mc/worker.js).
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { lanes } from './hash.js';
import { LivenessChecker } from './liveness.js';
import { Model, type WorldBatch } from './model.js';
import { deserializeOptions, type SerializedOptions } from './options.js';
import { LevelExpander, newLevel, newStats, type Finding, type SearchStats } from './search.js';
import { VisitedSet } from './visited.js';

export interface WorkerSetup {
  readonly options: SerializedOptions;
  readonly buffers: { table: SharedArrayBuffer; counter: SharedArrayBuffer };
  readonly index: number;
}

export type ToWorker =
  | { readonly type: 'seed' }
  | { readonly type: 'expand'; readonly depth: number }
  | { readonly type: 'export'; readonly count: number }
  | { readonly type: 'import'; readonly batch: WorldBatch }
  | { readonly type: 'stop' };

export type FromWorker =
  | { readonly type: 'ready' }
  | {
      readonly type: 'level';
      readonly next: number;
      readonly stats: SearchStats;
      readonly finding: Finding | null;
      readonly full: boolean;
      readonly netOverflows: number;
    }
  | { readonly type: 'progress'; readonly stats: SearchStats; readonly remaining: number }
  | { readonly type: 'exported'; readonly batch: WorldBatch }
  | { readonly type: 'imported' }
  | { readonly type: 'error'; readonly message: string };

function run(
  setup: WorkerSetup,
  post: (m: FromWorker, transfer?: ArrayBuffer[]) => void,
  on: (handler: (m: ToWorker) => void) => void,
): void {
  const options = deserializeOptions(setup.options);
  const model = new Model(options);
  const visited = VisitedSet.fromShared(options.maxStates, setup.buffers);
  const stats = newStats();
  const level = new LevelExpander(model, options.properties.has('liveness') ? new LivenessChecker(model) : null, visited, stats);
  let current = newLevel(model);
  on((m) => {
    switch (m.type) {
      case 'seed': {
        const initial = model.initial();
        model.fingerprint(initial);
        if (visited.add(lanes[0]!, lanes[1]!, 0, 0)) current.push(initial, lanes[0]!, lanes[1]!);
        post({ type: 'ready' });
        return;
      }
      case 'expand': {
        const next = newLevel(model);
        let last = performance.now();
        const outcome = level.run(current, next, m.depth, (done) => {
          const now = performance.now();
          if (now - last < options.progressMs / 2) return;
          last = now;
          post({ type: 'progress', stats: { ...stats }, remaining: current.length - done + next.length });
        });
        current = next;
        post({
          type: 'level',
          next: next.length,
          stats: { ...stats },
          finding: outcome === 'full' ? null : outcome,
          full: outcome === 'full',
          netOverflows: model.stats.netOverflows,
        });
        return;
      }
      case 'export': {
        const { worlds, fps } = current.popWorlds(m.count);
        const batch = model.exportWorlds(worlds, fps);
        post({ type: 'exported', batch }, [batch.worlds.buffer as ArrayBuffer, batch.fps.buffer as ArrayBuffer]);
        return;
      }
      case 'import':
        model.importWorlds(m.batch, (w, hi, lo) => current.push(w, hi, lo));
        post({ type: 'imported' });
        return;
      case 'stop':
        process.exit(0);
    }
  });
}

if (!isMainThread && parentPort !== null) {
  const port = parentPort;
  try {
    run(
      workerData as WorkerSetup,
      (m, transfer) => port.postMessage(m, transfer ?? []),
      (handler) =>
        port.on('message', (m: ToWorker) => {
          try {
            handler(m);
          } catch (error) {
            port.postMessage({
              type: 'error',
              message: error instanceof Error ? (error.stack ?? error.message) : String(error),
            } satisfies FromWorker);
          }
        }),
    );
  } catch (error) {
    port.postMessage({
      type: 'error',
      message: error instanceof Error ? (error.stack ?? error.message) : String(error),
    } satisfies FromWorker);
  }
}
