/**
 * Breadth-first search over worker threads (`--workers N`). The visited set
 * is one shared table (mc/visited.ts); each worker keeps the states it
 * discovered as its share of the next level and expands them. The main
 * thread runs the levels in lockstep (every worker finishes level d before
 * any starts d+1, so the first violation found is still at the lowest
 * depth) and, between levels, moves states from the busiest workers to the
 * idlest (Model.exportWorlds/importWorlds) so they stay evenly loaded: at
 * the start only worker 0 has anything.
 */
import { Worker } from 'node:worker_threads';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { McOptions } from './options.js';
import { serializeOptions } from './options.js';
import { newStats, type Finding, type Progress, type SearchResult, type SearchStats } from './search.js';
import type { VisitedSet } from './visited.js';
import type { FromWorker, ToWorker, WorkerSetup } from './worker.js';

/**
 * The worker's compiled entry. Run from the sources (vitest loads mc/*.ts
 * through its own transform, which a worker thread does not have) it is
 * the built copy under dist/ (`npm run build`; the test setup builds it).
 */
function workerScript(): string {
  const here = fileURLToPath(import.meta.url);
  if (!here.endsWith('.ts')) return join(dirname(here), 'worker.js');
  return join(dirname(here), '..', 'dist', 'mc', 'worker.js');
}

interface Handle {
  readonly worker: Worker;
  /** States in its current level. */
  size: number;
  stats: SearchStats;
  waiting: ((m: FromWorker) => void) | null;
}

export async function parallelBfs(o: McOptions, visited: VisitedSet, progress: Progress): Promise<SearchResult & { netOverflows: number }> {
  const started = performance.now();
  const script = workerScript();
  const handles: Handle[] = [];
  let failure: Error | null = null;
  let overflows = 0;
  let progressAt = started;
  let depth = 0;
  const total = (): SearchStats => {
    const sum = newStats();
    for (const h of handles) {
      sum.transitions += h.stats.transitions;
      sum.outOfBounds += h.stats.outOfBounds;
      sum.terminal += h.stats.terminal;
    }
    sum.distinct = visited.size;
    sum.maxDepth = depth;
    return sum;
  };
  for (let index = 0; index < o.workers; index++) {
    const setup: WorkerSetup = { options: serializeOptions(o), buffers: visited.buffers(), index };
    const handle: Handle = { worker: new Worker(script, { workerData: setup }), size: 0, stats: newStats(), waiting: null };
    handle.worker.on('message', (m: FromWorker) => {
      if (m.type === 'error') {
        failure = new Error(`mc worker ${index}: ${m.message}`);
        handle.waiting?.(m);
        return;
      }
      if (m.type === 'progress') {
        handle.stats = m.stats;
        const now = performance.now();
        if (now - progressAt >= o.progressMs) {
          progressAt = now;
          const sum = total();
          sum.queue = handles.reduce((a, h) => a + (h === handle ? m.remaining : h.size), 0);
          progress(sum, depth);
        }
        return;
      }
      const waiting = handle.waiting;
      handle.waiting = null;
      waiting?.(m);
    });
    handle.worker.on('error', (error) => {
      failure = error;
      handle.waiting?.({ type: 'error', message: error.message });
    });
    handles.push(handle);
  }
  const ask = (h: Handle, m: ToWorker): Promise<FromWorker> =>
    new Promise((resolve) => {
      h.waiting = resolve;
      h.worker.postMessage(m);
    });
  const check = (): void => {
    if (failure !== null) throw failure;
  };
  try {
    await ask(handles[0]!, { type: 'seed' });
    check();
    handles[0]!.size = 1;
    for (;;) {
      if (handles.every((h) => h.size === 0)) return finish('exhausted', null);
      if (o.bounds.maxDepth > 0 && depth >= o.bounds.maxDepth) return finish('max-depth', null);
      const replies = await Promise.all(handles.map((h) => ask(h, { type: 'expand', depth })));
      check();
      let finding: Finding | null = null;
      let full = false;
      replies.forEach((m, i) => {
        if (m.type !== 'level') return;
        const h = handles[i]!;
        h.size = m.next;
        h.stats = m.stats;
        overflows = Math.max(overflows, m.netOverflows);
        finding ??= m.finding;
        full ||= m.full;
      });
      if (finding !== null) return finish('violation', finding);
      if (full) return finish('visited-full', null);
      depth++;
      await balance();
      check();
    }
  } finally {
    for (const h of handles) h.worker.postMessage({ type: 'stop' } satisfies ToWorker);
  }

  /** Moves states from the fullest worker to the emptiest until they are within 25% (or 64 states) of even. */
  async function balance(): Promise<void> {
    const sum = handles.reduce((a, h) => a + h.size, 0);
    const even = Math.ceil(sum / handles.length);
    for (let round = 0; round < handles.length * 2; round++) {
      const sorted = [...handles].sort((a, b) => b.size - a.size);
      const big = sorted[0]!;
      const small = sorted[sorted.length - 1]!;
      if (big.size - small.size <= Math.max(64, even / 4)) return;
      const count = Math.min(big.size - even, even - small.size);
      if (count <= 0) return;
      const exported = await ask(big, { type: 'export', count });
      if (exported.type !== 'exported') return;
      await ask(small, { type: 'import', batch: exported.batch });
      big.size -= count;
      small.size += count;
    }
  }

  function finish(stopped: SearchResult['stopped'], finding: Finding | null): SearchResult & { netOverflows: number } {
    const stats = total();
    stats.maxDepth = Math.max(0, depth - (stopped === 'exhausted' ? 1 : 0));
    return { stopped, finding, stats, wallMs: performance.now() - started, netOverflows: overflows };
  }
}
