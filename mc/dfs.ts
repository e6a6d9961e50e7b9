/**
 * Depth-first search and iterative deepening (`--mode dfs`, `--mode
 * iddfs`): for bounds whose BFS levels would not fit in memory. A DFS
 * holds only its current path (one World and the enabled events per
 * level), so its memory is the visited set's 16 bytes a state; iterative
 * deepening (Korf 1985) runs it with a depth limit of `step`, 2 x `step`,
 * ... and so still finds a shortest counterexample (to within `step`) as
 * BFS does, paying for the shallow levels again on each round (with
 * levels that grow geometrically, a small factor).
 *
 * With a depth limit, a state first met deep in the tree and later at a
 * smaller depth must be expanded again (its successors may then fit under
 * the limit): the visited set keeps the smallest depth each state was
 * expanded at (`VisitedSet.addAtDepth`), as TLC's depth-first mode does.
 * Without a limit this never happens (the state graph has no cycles:
 * every event uses up a message or a budget), so `dfs` with
 * `--max-depth 0` covers the bounded space exactly once.
 *
 * A violation's trace is the current path (no parent chain needed); under
 * a depth limit a round is exhaustive when no state was cut off by the
 * limit.
 */
import { lanes } from './hash.js';
import { LivenessChecker } from './liveness.js';
import type { Action, Model, World } from './model.js';
import { newStats, type Finding, type Progress, type SearchResult, type SearchStats, type StopReason } from './search.js';
import type { VisitedSet } from './visited.js';

export interface DfsOptions {
  /** Events per path; 0: no limit. */
  readonly maxDepth: number;
  readonly liveness: boolean;
  readonly progressMs: number;
  readonly onProgress: Progress | null;
}

interface Frame {
  readonly world: World;
  readonly actions: Action[];
  next: number;
  hi: number;
  lo: number;
}

interface RoundResult {
  readonly finding: Finding | null;
  readonly full: boolean;
  /** Some state at the depth limit had enabled events (not expanded). */
  readonly cut: boolean;
}

/** One depth-first search from the initial state, `limit` events deep at most (0: no limit); counts into `stats`. */
function dfsRound(
  model: Model,
  visited: VisitedSet,
  liveness: LivenessChecker | null,
  limit: number,
  stats: SearchStats,
  tick: (depth: number) => void,
): RoundResult {
  const frames: Frame[] = [];
  const frameAt = (d: number): Frame => {
    let f = frames[d];
    if (f === undefined) {
      f = { world: new Int32Array(model.layout.size), actions: [], next: 0, hi: 0, lo: 0 };
      frames[d] = f;
    }
    return f;
  };
  const initial = model.initial();
  model.fingerprint(initial);
  const root = frameAt(0);
  root.world.set(initial);
  root.hi = lanes[0]!;
  root.lo = lanes[1]!;
  visited.addAtDepth(root.hi, root.lo, 0);
  let cut = false;
  let depth = 0;
  let sinceTick = 0;
  const path = (upTo: number): Action[] => {
    const walk: Action[] = [];
    for (let d = 0; d < upTo; d++) walk.push(frames[d]!.actions[frames[d]!.next - 1]!);
    return walk;
  };
  // Expand the root, then loop: take the next event of the deepest frame, or pop it.
  const open = (f: Frame, d: number): Finding | null => {
    model.actions(f.world, f.actions);
    f.next = 0;
    if (f.actions.length === 0) {
      stats.terminal++;
      if (liveness !== null) {
        const heal = liveness.check(f.world);
        if (!heal.ok)
          return { violation: { property: 'liveness', message: heal.detail }, depth: d, from: null, walk: path(d), action: null };
      }
    } else if (limit > 0 && d >= limit) {
      cut = true;
      f.actions.length = 0;
    }
    return null;
  };
  const first = open(root, 0);
  if (first !== null) return { finding: first, full: false, cut };
  while (depth >= 0) {
    const f = frames[depth]!;
    if (f.next >= f.actions.length) {
      depth--;
      continue;
    }
    const action = f.actions[f.next++]!;
    stats.transitions++;
    const child = frameAt(depth + 1);
    const result = model.step(f.world, action, child.world);
    if (result.violation !== null)
      return { finding: { violation: result.violation, depth: depth + 1, from: null, walk: path(depth + 1), action }, full: false, cut };
    if (!result.inBounds) {
      stats.outOfBounds++;
      continue;
    }
    model.fingerprint(child.world);
    if (!visited.addAtDepth(lanes[0]!, lanes[1]!, depth + 1)) {
      if (visited.full) return { finding: null, full: true, cut };
      continue;
    }
    child.hi = lanes[0]!;
    child.lo = lanes[1]!;
    depth++;
    if (depth > stats.maxDepth) stats.maxDepth = depth;
    const finding = open(child, depth);
    if (finding !== null) return { finding, full: false, cut };
    if (++sinceTick === 256) {
      sinceTick = 0;
      stats.queue = depth;
      tick(depth);
    }
  }
  return { finding: null, full: false, cut };
}

/** `--mode dfs`: one depth-first search, to `maxDepth` events at most (0: the whole bounded space). */
export function dfs(model: Model, visited: VisitedSet, options: DfsOptions): SearchResult {
  return iterativeDeepening(model, visited, { ...options, step: options.maxDepth, firstLimit: options.maxDepth });
}

export interface IterativeDeepeningOptions extends DfsOptions {
  /** The depth limit grows by this much a round. */
  readonly step: number;
  /** The first round's limit (0: no limit: one plain DFS). */
  readonly firstLimit?: number;
}

/**
 * `--mode iddfs`: depth-first searches with the depth limit `step`,
 * 2 x `step`, ... up to `maxDepth` (0: until a round cuts nothing off, i.e.
 * the bounded space is covered). The visited set is cleared between
 * rounds; `distinct` is the last round's (the states within its limit),
 * `transitions` the sum over rounds.
 */
export function iterativeDeepening(model: Model, visited: VisitedSet, options: IterativeDeepeningOptions): SearchResult {
  const started = performance.now();
  const stats = newStats();
  const liveness = options.liveness ? new LivenessChecker(model) : null;
  let lastProgress = started;
  let limit = options.firstLimit ?? options.step;
  for (;;) {
    if (options.maxDepth > 0 && limit > options.maxDepth) limit = options.maxDepth;
    visited.clear();
    stats.maxDepth = 0;
    const round = dfsRound(model, visited, liveness, limit, stats, (depth) => {
      if (options.onProgress === null) return;
      const now = performance.now();
      if (now - lastProgress < options.progressMs) return;
      lastProgress = now;
      stats.distinct = visited.size;
      options.onProgress(stats, limit > 0 ? limit : depth);
    });
    stats.walks++;
    if (round.finding !== null) return finish('violation', round.finding);
    if (round.full) return finish('visited-full', null);
    if (!round.cut) return finish('exhausted', null);
    if (options.maxDepth > 0 && limit >= options.maxDepth) return finish('max-depth', null);
    limit += options.step;
  }

  function finish(stopped: StopReason, finding: Finding | null): SearchResult {
    stats.distinct = visited.size;
    stats.queue = 0;
    return { stopped, finding, stats, wallMs: performance.now() - started };
  }
}
