/**
 * The searches: breadth-first over the whole bounded space (every state at
 * depth d before any at d+1, so the first violation found has a shortest
 * trace), and random walks for depths BFS cannot reach. Both check every
 * property on every transition and the liveness property at the end of
 * every path (a state where nothing can happen any more within the bounds).
 *
 * The BFS here runs in one thread; mc/parallel.ts runs the same level loop
 * over worker threads with the visited set shared.
 */
import { getHeapStatistics } from 'node:v8';
import { SplitMix32 } from '../node/raft/prng.js';
import { lanes } from './hash.js';
import { LivenessChecker } from './liveness.js';
import type { WalkGuide } from './guided.js';
import type { Action, Model, Violation, World } from './model.js';
import { SwarmProfile } from './swarm.js';
import { WorldQueue } from './queue.js';
import type { VisitedSet } from './visited.js';

export type StopReason = 'exhausted' | 'violation' | 'visited-full' | 'max-depth' | 'walks-done';

/** Where a violation was found: after `path` (fingerprints from the initial state, BFS) or `actions` (random walk), by `action` (null: at the end of the path, liveness). */
export interface Finding {
  readonly violation: Violation;
  readonly depth: number;
  /** BFS: the fingerprint of the state the violating step starts from. */
  readonly from: readonly [number, number] | null;
  /** Random walk: the events of the walk, in order, up to and including the violating one. */
  readonly walk: readonly Action[] | null;
  readonly action: Action | null;
}

export interface SearchStats {
  distinct: number;
  transitions: number;
  /** Successors beyond a bound (checked, not expanded). */
  outOfBounds: number;
  terminal: number;
  /** Successors not inserted because a commuting order inserts them (--sleep; mc/model.ts sleeps). */
  slept: number;
  maxDepth: number;
  queue: number;
  walks: number;
  /** Random and swarm walks: how often the model was built afresh to bound memory (WALK_HEAP_BYTES). */
  renewals: number;
}

export interface SearchResult {
  readonly stopped: StopReason;
  readonly finding: Finding | null;
  readonly stats: SearchStats;
  readonly wallMs: number;
}

/** Random and swarm walks rebuild the model (interned states, memos) between walks once the heap is this large. */
export const WALK_HEAP_BYTES = 1024 * 1024 * 1024;
/**
 * Walks between a rebuild and the next look at the heap: the discarded model stays in the heap until V8 collects
 * it, and looking at once rebuilt the model before every walk (912 times in a 570 s hunt, each a cold memo).
 */
export const WALK_RENEW_COOLDOWN = 1000;
/**
 * Within the cooldown the heap is still looked at every 16 walks, and past this many times the bound the model is
 * rebuilt anyway: long walks (a guided hunt on keep-log-on-install's bounds, 150 events each) grew the heap to 2.2 GB
 * within one cooldown, against the process's 4 GB.
 */
export const WALK_HEAP_CEILING_FACTOR = 2.5;

export type Progress = (stats: SearchStats, depth: number) => void;

export function newStats(): SearchStats {
  return { distinct: 0, transitions: 0, outOfBounds: 0, terminal: 0, slept: 0, maxDepth: 0, queue: 0, walks: 0, renewals: 0 };
}

/** Expands one state: returns a finding or null; new successors go to `push`. */
export function expand(
  model: Model,
  liveness: LivenessChecker | null,
  visited: VisitedSet,
  world: World,
  hi: number,
  lo: number,
  depth: number,
  actions: Action[],
  stats: SearchStats,
  /** Receives each new successor in a scratch World that is reused right after: copy it to keep it. */
  push: (world: World, hi: number, lo: number) => void,
  scratch: World,
): Finding | null {
  model.actions(world, actions);
  if (actions.length === 0) {
    stats.terminal++;
    if (liveness !== null) {
      const heal = liveness.check(world);
      if (!heal.ok) return { violation: { property: 'liveness', message: heal.detail }, depth, from: [hi, lo], walk: null, action: null };
    }
    return null;
  }
  for (const action of actions) {
    stats.transitions++;
    const result = model.step(world, action, scratch);
    if (result.violation !== null) return { violation: result.violation, depth: depth + 1, from: [hi, lo], walk: null, action };
    if (!result.inBounds) {
      stats.outOfBounds++;
      continue;
    }
    if (model.sleeps(world, action, result.world)) {
      stats.slept++;
      continue;
    }
    model.fingerprint(result.world);
    const h = lanes[0]!;
    const l = lanes[1]!;
    if (visited.add(h, l, hi, lo)) push(result.world, h, l);
  }
  return null;
}

/** Expands every state of one BFS level into the next (shared by the one-thread BFS and the workers). */
export class LevelExpander {
  private readonly actions: Action[] = [];
  private readonly world: World;
  private readonly fp = new Int32Array(2);

  constructor(
    private readonly model: Model,
    private readonly liveness: LivenessChecker | null,
    private readonly visited: VisitedSet,
    private readonly stats: SearchStats,
  ) {
    this.world = new Int32Array(model.layout.size);
    this.scratch = new Int32Array(model.layout.size);
  }

  private readonly scratch: World;

  /** A finding, 'full' (the visited set filled up), or null when the level is done; `tick(done)` every 256 states. */
  run(current: WorldQueue, next: WorldQueue, depth: number, tick: (done: number) => void): Finding | 'full' | null {
    const push = (w: World, h: number, l: number): void => next.push(w, h, l);
    for (let i = 0; i < current.length; i++) {
      current.read(i, this.world, this.fp);
      if ((i & 4095) === 0) current.release(i);
      const finding = expand(
        this.model,
        this.liveness,
        this.visited,
        this.world,
        this.fp[0]!,
        this.fp[1]!,
        depth,
        this.actions,
        this.stats,
        push,
        this.scratch,
      );
      if (finding !== null) return finding;
      if (this.visited.full) return 'full';
      if ((i & 255) === 0) tick(i);
    }
    return null;
  }
}

export interface BfsOptions {
  readonly maxDepth: number;
  readonly liveness: boolean;
  readonly progressMs: number;
  readonly onProgress: Progress | null;
}

/** An empty BFS level for `model`'s worlds: the fixed part delta-coded, the network as a list. */
export function newLevel(model: Model): WorldQueue {
  return new WorldQueue(model.layout.size, model.layout.net);
}

export function bfs(model: Model, visited: VisitedSet, options: BfsOptions): SearchResult {
  const started = performance.now();
  const stats = newStats();
  const liveness = options.liveness ? new LivenessChecker(model) : null;
  const initial = model.initial();
  model.fingerprint(initial);
  const initHi = lanes[0]!;
  const initLo = lanes[1]!;
  visited.add(initHi, initLo, 0, 0);
  stats.distinct = 1;
  let frontier = newLevel(model);
  frontier.push(initial, initHi, initLo);
  const level = new LevelExpander(model, liveness, visited, stats);
  let lastProgress = started;
  let depth = 0;
  for (;;) {
    if (frontier.length === 0) return finish('exhausted', null);
    if (options.maxDepth > 0 && depth >= options.maxDepth) return finish('max-depth', null);
    const next = newLevel(model);
    const outcome = level.run(frontier, next, depth, (done) => {
      if (options.onProgress === null) return;
      const now = performance.now();
      if (now - lastProgress < options.progressMs) return;
      lastProgress = now;
      stats.distinct = visited.size;
      stats.queue = frontier.length - done + next.length;
      options.onProgress(stats, depth);
    });
    if (outcome === 'full') return finish('visited-full', null);
    if (outcome !== null) return finish('violation', outcome);
    frontier = next;
    depth++;
    if (next.length > 0) stats.maxDepth = depth;
  }

  function finish(stopped: StopReason, finding: Finding | null): SearchResult {
    stats.distinct = visited.size;
    stats.queue = 0;
    return { stopped, finding, stats, wallMs: performance.now() - started };
  }
}

export interface WalkOptions {
  readonly walks: number;
  readonly maxDepth: number;
  readonly seed: number;
  readonly liveness: boolean;
  readonly progressMs: number;
  readonly onProgress: Progress | null;
  /** Each walk draws a swarm profile (mc/swarm.ts) and picks events by its weights; false: uniformly. */
  readonly swarm: boolean;
  /** Rebuild the model between walks once the heap is larger than this (default WALK_HEAP_BYTES). */
  readonly renewHeapBytes?: number;
  /** Walks after a rebuild before the heap is looked at again (default WALK_RENEW_COOLDOWN). */
  readonly renewCooldownWalks?: number;
  /** Called with the profile of the walk that found a violation (--mode swarm). */
  readonly onFindingProfile?: (profile: SwarmProfile) => void;
  /** --mode guided: walks start where the guide says and tell it what they reach (mc/guided.ts). */
  readonly guide?: (model: Model, random: SplitMix32) => WalkGuide;
}

/** A walk search's result and the model its finding's actions refer to (see WALK_HEAP_BYTES). */
export interface WalkResult extends SearchResult {
  readonly model: Model;
}

/**
 * Random walks from the initial state (or, with a `guide`, from a state an
 * earlier walk reached: mc/guided.ts): each step picks one enabled event
 * uniformly (or, with `swarm`, by the walk's own swarm profile); a walk ends at a violation, at the end of the path (liveness
 * is checked there), beyond a bound, or at the depth bound. The visited set
 * only counts distinct states seen (coverage); walks do not avoid them.
 */
export function randomWalks(newModel: () => Model, visited: VisitedSet, options: WalkOptions): WalkResult {
  const started = performance.now();
  const stats = newStats();
  const random = new SplitMix32(options.seed);
  let model = newModel();
  let liveness = options.liveness ? new LivenessChecker(model) : null;
  const actions: Action[] = [];
  let initial = model.initial();
  const guide = options.guide?.(model, random) ?? null;
  let lastProgress = started;
  let nextHeapCheck = 0;
  for (let walk = 0; walk < options.walks; walk++) {
    stats.walks++;
    // A walk keeps no world of an earlier one, so the interned states and memos (which only grow) can start
    // afresh; fingerprints hash contents, not interned ids, so the visited set stays valid.
    // After a rebuild the old model's garbage still counts until V8 collects it: check again only some walks later,
    // unless the heap passes the ceiling.
    const bound = options.renewHeapBytes ?? WALK_HEAP_BYTES;
    const look = walk >= nextHeapCheck || (walk & 15) === 0;
    const used = look ? getHeapStatistics().used_heap_size : 0;
    if (look && (used > WALK_HEAP_CEILING_FACTOR * bound || (walk >= nextHeapCheck && used > bound))) {
      nextHeapCheck = walk + (options.renewCooldownWalks ?? WALK_RENEW_COOLDOWN);
      model = newModel();
      liveness = options.liveness ? new LivenessChecker(model) : null;
      initial = model.initial();
      guide?.reset(model);
      stats.renewals++;
    }
    const start = guide === null ? null : guide.start(initial, random);
    let world = start === null ? initial : start.world;
    const path: Action[] = start === null ? [] : start.path.slice();
    // From a kept state, half the walks go on with the profile that reached it (its slow links and held messages
    // are what made it reachable; after a model rebuild it holds other messages: it names them by interned id),
    // half draw a new one.
    const profile = !options.swarm
      ? null
      : start !== null && start.profile !== null && random.nextInt(0, 1) === 0
        ? start.profile
        : SwarmProfile.draw(random, model.layout.n, model.layout.opCount);
    for (let depth = path.length; depth < options.maxDepth; depth++) {
      model.fingerprint(world);
      visited.add(lanes[0]!, lanes[1]!, 0, 0);
      model.actions(world, actions);
      if (actions.length === 0) {
        stats.terminal++;
        if (liveness !== null) {
          const heal = liveness.check(world);
          if (!heal.ok && profile !== null) options.onFindingProfile?.(profile);
          if (!heal.ok)
            return finish('violation', {
              violation: { property: 'liveness', message: heal.detail },
              depth,
              from: null,
              walk: path,
              action: null,
            });
        }
        break;
      }
      const action = actions[profile === null ? random.nextInt(0, actions.length - 1) : profile.pick(model, actions, random)]!;
      path.push(action);
      stats.transitions++;
      const result = model.step(world, action);
      if (result.violation !== null) {
        if (profile !== null) options.onFindingProfile?.(profile);
        return finish('violation', { violation: result.violation, depth: depth + 1, from: null, walk: path, action });
      }
      if (depth + 1 > stats.maxDepth) stats.maxDepth = depth + 1;
      if (!result.inBounds) {
        stats.outOfBounds++;
        break;
      }
      world = result.world;
      guide?.reached(world, path, profile);
    }
    if (options.onProgress !== null && (walk & 63) === 0) {
      const now = performance.now();
      if (now - lastProgress >= options.progressMs) {
        lastProgress = now;
        stats.distinct = visited.size;
        options.onProgress(stats, stats.maxDepth);
      }
    }
    // A full visited set only stops the coverage count (add returns false): the walks go on.
  }
  return finish('walks-done', null);

  function finish(stopped: StopReason, finding: Finding | null): WalkResult {
    stats.distinct = visited.size;
    return { stopped, finding, stats, wallMs: performance.now() - started, model };
  }
}
