// The search: Wing & Gong's backtracking linearizability check with Lowe's
// memoisation of visited configurations ("Testing for linearizability",
// 2017), as in Porcupine's checker.go. The history is a doubly linked list of
// call/return events (EventList). At a call the op is tried as the next
// linearization point; at a return nothing further right may go first, so
// the search backtracks. A configuration is (LinearizedSet, model state); one
// already explored (ConfigCache) is never explored again.
//
// Differences from Porcupine, for speed in JavaScript and on long histories:
// - states are interned to small integers by the caller (`step` maps a state
//   id and an op to a state id, or -1 when illegal);
// - the linearized set's hash is a Zobrist hash kept up to date in O(1) per
//   step, and the cache stores only its trimmed word range (LinearizedSet).
//
// Optional reductions, each sound because it only skips branches that
// cannot contain the only completion (the "candidates" of a configuration C
// are the pending ops whose call precedes C's first pending return; any op
// that returned before a candidate's call is already linearized in C):
//
// 1. Pure observers (`observer`: ok reads, ok cas [a, a]). A candidate R that is legal in
//    C's state and leaves it unchanged is linearized next without trying
//    anything else. Proof: take any completion L of C and move R to its
//    front. R is legal there (C's state) and changes nothing, so every other
//    step sees the same state as in L. Real time: R now precedes ops Y that
//    preceded it in L; Y is pending in C, so Y did not return before R's call
//    (else Y would be linearized). Hence if C+R has no completion, neither
//    has C: the search backtracks past C at once.
// 2. Symmetry (`classOf`: ops in one class have the same step function, e.g.
//    two writes of the same value). Among candidates of one class only the
//    one whose return comes first is tried. Proof (exchange): let L be a
//    completion of C beginning with B, and A a candidate of B's class with
//    an earlier return, placed later in L. Swap A and B: the states are
//    unchanged (same step). A moves earlier: the ops it now precedes are
//    pending in C, and A is a candidate, so none returned before A's call.
//    B moves later, to A's old place: every op X that B now follows was
//    before A in L, so X was invoked before A returned, hence before B
//    returned. So the swapped order is a completion beginning with A.
// 3. A pruner (model-specific, see checker/fast/) that declares a
//    configuration dead when no completion can exist (e.g. a read still
//    needs a value no remaining op can produce). Dead configurations are
//    treated as illegal steps.
// 4. Finish early (`mustHappen`: 1 for ok ops): once every ok op is
//    linearized, the configuration has a completion. The rest are
//    unknown-outcome ops: all still pending (they return after everything),
//    so no real-time order binds them, and a model step with an unknown
//    outcome is total (Model.step), so any order of them is legal. The
//    linearization reported leaves them out (they never took effect).
// 5. Lazy unknown ops (`lazy`, for models where an op's effect is a state
//    that later ops observe, like a register). An unknown-outcome op X is
//    linearized only where it changes the state, and then the next op must
//    observe the new state (an op whose legality or effect depends on being
//    in exactly that state). Proof: normalise any completion L. If X has no
//    effect where it is, move it to the end (it returns after everything,
//    and from 4 the end takes anything). Else let Y follow X. If Y does not
//    observe X's state v, then Y is a write (it ignores the state: move X
//    to the end, Y sees another state but does the same) or an unknown op
//    without effect in v (move Y to the end). Each move sends an unknown op
//    to the end, so this stops, and ok ops keep their order: every unknown
//    op not at the end changes the state and is followed by an observer.
//    Configurations carry the obligation (the cache keys it with the
//    state), and the other reductions keep it: the normalisation only moves
//    unknown ops, so it keeps what (1) and (2) put first (an observer; the
//    earliest-returning op of a class, ok ops of a class returning before
//    unknown ones), and under an obligation ops of one class observe alike.
// Order (`late`: 1 for unknown-outcome ops): a configuration's candidates
// are tried ok ops first, then the late ones. Unknown ops pile up (they stay
// pending to the end) and, tried first, lead the search deep into placing
// optional ops. With `earliestReturnFirst` the ok candidates are tried in
// the order of their returns (the op that must be placed soonest first), as
// a scheduler meets deadlines, instead of call order; on histories with
// many overlapping ops of few values that is the order real executions
// follow, and call order can send the search down a wrong branch that
// takes millions of configurations to refute. The order changes how soon a
// completion is found, never whether one is.
// 6. Dominance (with `mustHappen`, when there are pure observers or
//    unknown-outcome ops): beside the exact cache, a memo of failed
//    configurations by (ok ops that are not observers, state) with the
//    observers each had placed and the unknown ops each had used; a
//    configuration that has placed fewer of those observers and used more
//    of those unknown ops fails too (proof in dominance.ts). This keeps the
//    search from re-exploring one frontier once per subset of reads it
//    happened to place (small value domains) or per way of spending the
//    unknown ops (info storms).
// Each reduction only decides which branches are explored from a
// configuration, never whether a configuration has a completion, so the
// cache stays exact: a configuration found there was fully explored (under
// the reductions, which are complete) and has no completion.
import { CacheAdd, ConfigCache } from './config-cache.js';
import { DominanceMemo } from './dominance.js';
import { EventList, isCall, NIL, opOf } from './event-list.js';
import { LinearizedSet } from './linearized-set.js';
import { UNBOUNDED_MEMORY, type MemoryBudget } from './memory.js';

export type SearchOutcome =
  | { kind: 'ok'; cacheEntries: number; linearization: Int32Array }
  | { kind: 'illegal'; cacheEntries: number; bestOps: Int32Array; bestState: number }
  | { kind: 'unknown'; reason: 'time_limit' | 'memory_limit' | 'budget'; cacheEntries: number };

export interface SearchLimits {
  /** performance.now() deadline; Infinity for none. */
  deadlineMs: number;
  maxCacheEntries: number;
  /** The RSS cap (checked before the cache grows and every MEMORY_CHECK_MASK + 1 iterations). */
  memory?: MemoryBudget;
  /** Bytes held outside the search (interned states, transition memo), for the estimate yielded between slices. */
  auxBytes?: () => number;
  /** Give up (reason 'budget') after about this many iterations (checked with the deadline). */
  iterationBudget?: number;
}

/** Decides that a configuration has no completion; kept in step with the linearized set. */
export interface Pruner {
  linearize(op: number): void;
  undo(op: number): void;
  /** True when no completion exists from the current linearized set with model state `state`. */
  dead(state: number): boolean;
}

/** See reduction 5. */
export interface LazyUnknowns {
  /** Per op, 1 for an unknown-outcome op that can change the state. */
  lazy: Uint8Array;
  /** Whether `op`'s legality or effect depends on the state being exactly `state`. */
  observes: (op: number, state: number) => boolean;
}

export interface SearchInput {
  nOps: number;
  events: Int32Array;
  initState: number;
  /** State id after applying `op` in state `state`, or -1 when illegal. */
  step: (state: number, op: number) => number;
  /** Per op, its symmetry class (ops of one class have the same step function), or -1. */
  classOf?: Int32Array | undefined;
  /** Per op, 1 when it is a pure observer: whenever legal it leaves the state unchanged. */
  observer?: Uint8Array | undefined;
  pruner?: Pruner | undefined;
  /** Per op, 1 when it must be linearized (an ok op); enables reduction 4. */
  mustHappen?: Uint8Array | undefined;
  lazyUnknowns?: LazyUnknowns | undefined;
  /** Per op, 1 to try it after the others at each configuration (unknown-outcome ops). */
  late?: Uint8Array | undefined;
  /** Try the (not late) candidates in the order of their returns, not of their calls. */
  earliestReturnFirst?: boolean | undefined;
  /** With earliestReturnFirst: rank candidates by the urgency of the value they set (see Goals). */
  goals?: Goals | undefined;
}

/**
 * Goal-directed order (an order only: it changes how soon a completion is
 * found, never whether one is). Per op, the state id it needs to be legal
 * (an ok read of x, an ok cas expecting x; -1: none) and the one it can
 * set (-1: none), with the state it must set it from (-1: any). At each
 * configuration, the most urgent need of a value x (the earliest return
 * among pending ops needing x != the state) ranks every candidate that can
 * set x from the current state as if it returned then, when that is sooner
 * than its own return. Earliest-return order alone tries the writes in the
 * order they return, however late the values they set are needed; with
 * many overlapping writes of few values (writes taking effect late, reads
 * early) that sends it down a wrong subtree that takes millions of
 * configurations to refute, where heading for the value the most urgent
 * read waits for is what the execution did.
 */
export interface Goals {
  needOf: Int32Array;
  arriveOf: Int32Array;
  arriveFrom: Int32Array;
}

/** Pending events scanned for the most urgent needs (a window: ops further right are needed later). */
const GOAL_SCAN_EVENTS = 64;

/** Cache key bit for "the next op must observe the state" (reduction 5); state ids stay below it. */
const OBLIGED = 1 << 30;

/** Iterations between deadline checks (a power of two minus one, as a mask). */
const DEADLINE_CHECK_MASK = 1023;
/** Iterations between RSS checks (mask). */
const MEMORY_CHECK_MASK = 16383;

/**
 * Runs the search to the end. See wglSearchSteps for the resumable form.
 */
export function wglSearch(input: SearchInput, limits: SearchLimits): SearchOutcome {
  const gen = wglSearchSteps(input, limits, Infinity);
  for (;;) {
    const r = gen.next();
    if (r.done === true) return r.value;
  }
}

/**
 * The undo stack of linearized ops, and the deepest stack seen (the longest
 * linearizable prefix, reported as the counterexample when no linearization
 * exists). `lowWater` is how far the stack has been unwound since the deepest
 * copy was taken, so a new deepest copy only rewrites what changed.
 */
class LinearizationStack {
  readonly ops: Int32Array;
  /** Model state before each op. */
  readonly stateBefore: Int32Array;
  /** 1 when the op was linearized as a pure observer: no alternative to it needs trying. */
  readonly forced: Uint8Array;
  /** 1 when the configuration before the op was under reduction 5's obligation. */
  readonly obligedBefore: Uint8Array;
  depth = 0;
  readonly bestOps: Int32Array;
  bestDepth = 0;
  bestState: number;
  private lowWater = 0;

  constructor(nOps: number, initState: number) {
    this.ops = new Int32Array(nOps);
    this.stateBefore = new Int32Array(nOps);
    this.forced = new Uint8Array(nOps);
    this.obligedBefore = new Uint8Array(nOps);
    this.bestOps = new Int32Array(nOps);
    this.bestState = initState;
  }

  push(op: number, state: number, forced: boolean, obliged: boolean): void {
    this.ops[this.depth] = op;
    this.stateBefore[this.depth] = state;
    this.forced[this.depth] = forced ? 1 : 0;
    this.obligedBefore[this.depth] = obliged ? 1 : 0;
    this.depth++;
  }

  /** Records the current stack as the deepest if it is (call before pop, with the state reached). */
  noteDepth(state: number): void {
    if (this.depth <= this.bestDepth) return;
    for (let k = this.lowWater; k < this.depth; k++) this.bestOps[k] = this.ops[k]!;
    this.bestDepth = this.depth;
    this.bestState = state;
    this.lowWater = this.depth;
  }

  /** Pops the top; returns its op (its state before is stateBefore[depth], its flag forced[depth]). */
  pop(): number {
    this.depth--;
    if (this.depth < this.lowWater) this.lowWater = this.depth;
    return this.ops[this.depth]!;
  }
}

/**
 * For each op of a symmetry class, the op of the same class whose return
 * comes just before its own (-1 for the first), from the events in position
 * order. Null when there are no classes.
 */
function classPredecessors(nOps: number, events: Int32Array, classOf: Int32Array | undefined): Int32Array | null {
  if (classOf === undefined) return null;
  const prevInClass = new Int32Array(nOps).fill(-1);
  const lastOfClass = new Map<number, number>();
  let any = false;
  for (const ev of events) {
    if (isCall(ev)) continue;
    const op = opOf(ev);
    const c = classOf[op]!;
    if (c < 0) continue;
    const last = lastOfClass.get(c);
    if (last !== undefined) {
      prevInClass[op] = last;
      any = true;
    }
    lastOfClass.set(c, op);
  }
  return any ? prevInClass : null;
}

/**
 * The search as a generator that pauses every `sliceIterations` iterations,
 * yielding its estimated memory use in bytes. Lets the caller interleave the
 * searches of several keys (as Porcupine's goroutines run concurrently), so
 * one easy invalid key is found without first exhausting a hard one.
 */
export function* wglSearchSteps(input: SearchInput, limits: SearchLimits, sliceIterations: number): Generator<number, SearchOutcome, void> {
  const { nOps, events, step, observer, pruner, mustHappen } = input;
  const lazy = input.lazyUnknowns?.lazy;
  const observes = input.lazyUnknowns?.observes;
  let mustLeft = 0;
  if (mustHappen !== undefined) for (let i = 0; i < nOps; i++) mustLeft += mustHappen[i]!;
  const memory = limits.memory ?? UNBOUNDED_MEMORY;
  const late = input.late;
  const list = new EventList(nOps, events, late);
  const next = list.next;
  const lateNext = list.lateNext;
  const linearized = new LinearizedSet(nOps);
  const cache = new ConfigCache(memory);
  // Reduction 6: the ok ops that are not pure observers, the pure
  // observers, and the unknown ops in three sets of their own, and the
  // dominance memo (when there are observers or unknown ops to dominate by).
  const SUBSET_EXACT = 0;
  const SUBSET_OBSERVER = 1;
  const SUBSET_UNKNOWN = 2;
  const subsetOf = new Uint8Array(mustHappen !== undefined ? nOps : 0);
  const subIndex = new Int32Array(mustHappen !== undefined ? nOps : 0);
  const subCount = [0, 0, 0];
  if (mustHappen !== undefined) {
    for (let i = 0; i < nOps; i++) {
      const k = mustHappen[i] === 0 ? SUBSET_UNKNOWN : observer !== undefined && observer[i] === 1 ? SUBSET_OBSERVER : SUBSET_EXACT;
      subsetOf[i] = k;
      subIndex[i] = subCount[k]!++;
    }
  }
  const dominance = mustHappen !== undefined && subCount[SUBSET_EXACT]! < nOps ? new DominanceMemo(memory) : null;
  const subsets = dominance !== null ? subCount.map((c) => new LinearizedSet(c)) : [];
  const exactSet = subsets[SUBSET_EXACT] ?? null;
  const observerSet = subsets[SUBSET_OBSERVER] ?? null;
  const unknownSet = subsets[SUBSET_UNKNOWN] ?? null;
  const addToSubsets = (op: number): void => subsets[subsetOf[op]!]!.add(subIndex[op]!);
  const removeFromSubsets = (op: number): void => subsets[subsetOf[op]!]!.remove(subIndex[op]!);
  const entries = (): number => cache.size;
  const stack = new LinearizationStack(nOps, input.initState);
  const prevInClass = classPredecessors(nOps, events, input.classOf);

  /** Symmetry: whether a candidate of `op`'s class with an earlier return is pending (then `op` need not be tried). */
  const twinComesFirst = (op: number): boolean => {
    const firstReturn = list.firstReturn();
    // Ops whose return precedes the first pending return are all linearized.
    for (let b = prevInClass![op]!; b >= 0 && list.returnAt[b]! >= firstReturn; b = prevInClass![b]!) {
      if (!linearized.has(b) && list.callAt[b]! < firstReturn) return true;
    }
    return false;
  };

  let state = input.initState;
  /** Reduction 5: the last op was a lazy unknown op, so the next must observe `state`. */
  let obliged = false;
  const maxEntries = limits.maxCacheEntries;
  const iterationBudget = limits.iterationBudget ?? Infinity;
  const deadline = limits.deadlineMs;
  const hasDeadline = deadline !== Infinity;
  let iterations = 0;
  let nextPause = sliceIterations;

  const bytesUsed = (): number => cache.bytes() + (dominance?.bytes() ?? 0) + (limits.auxBytes ? limits.auxBytes() : 0) + events.length * 8;
  const illegal = (): SearchOutcome => ({
    kind: 'illegal',
    cacheEntries: entries(),
    bestOps: stack.bestOps.slice(0, stack.bestDepth),
    bestState: stack.bestState,
  });

  // With reduction 4 this returns right after the last ok op: unknown ops not on the stack never took effect.
  const ok = (): SearchOutcome => ({ kind: 'ok', cacheEntries: entries(), linearization: stack.ops.slice(0, stack.depth) });

  if (pruner !== undefined && pruner.dead(state)) return illegal();
  if (mustHappen !== undefined && mustLeft === 0) return ok();
  // Earliest-return-first: per stack depth, the main list's candidates
  // sorted by return (built when the configuration is entered), and how far
  // they have been tried.
  const edf = input.earliestReturnFirst === true;
  let candBuf = new Int32Array(edf ? 256 : 0);
  const candStart = new Int32Array(edf ? nOps + 1 : 0);
  const candCount = new Int32Array(edf ? nOps + 1 : 0);
  const candPos = new Int32Array(edf ? nOps + 1 : 0);
  const returnAt = list.returnAt;
  // Goal-directed order: per state id, the earliest return needing it at this configuration (valid when stamped).
  const goals = edf ? input.goals : undefined;
  let goalIds = 0;
  if (goals !== undefined) for (let i = 0; i < nOps; i++) goalIds = Math.max(goalIds, goals.needOf[i]! + 1, goals.arriveOf[i]! + 1);
  const urgentAt = new Int32Array(goalIds);
  const urgentStamp = new Int32Array(goalIds);
  let stamp = 0;
  let keyBuf = new Int32Array(candBuf.length);
  /** The rank of candidate `op` (its return, or sooner: see Goals). */
  const rankOf = (op: number): number => {
    const r = returnAt[op]!;
    if (goals === undefined) return r;
    const x = goals.arriveOf[op]!;
    if (x < 0 || urgentStamp[x] !== stamp) return r;
    const from = goals.arriveFrom[op]!;
    return (from < 0 || from === state) && urgentAt[x]! < r ? urgentAt[x]! : r;
  };
  /** Collects the candidates of the configuration at the current depth. */
  const buildCandidates = (): void => {
    const d = stack.depth;
    const start = d === 0 ? 0 : candStart[d - 1]! + candCount[d - 1]!;
    if (goals !== undefined) {
      stamp++;
      let scanned = 0;
      for (let e = list.first(); e !== NIL && scanned < GOAL_SCAN_EVENTS; e = next[e]!, scanned++) {
        const ev = events[e]!;
        if (!isCall(ev)) continue;
        const op = opOf(ev);
        const x = goals.needOf[op]!;
        if (x < 0 || x === state) continue;
        if (urgentStamp[x] !== stamp || returnAt[op]! < urgentAt[x]!) {
          urgentStamp[x] = stamp;
          urgentAt[x] = returnAt[op]!;
        }
      }
    }
    let n = 0;
    for (let e = list.first(); e !== NIL; e = next[e]!) {
      const ev = events[e]!;
      if (!isCall(ev)) break;
      if (start + n >= candBuf.length) {
        const b = new Int32Array(candBuf.length * 2);
        b.set(candBuf);
        candBuf = b;
        const k = new Int32Array(candBuf.length);
        k.set(keyBuf);
        keyBuf = k;
      }
      // Insertion by rank (windows are small).
      const op = opOf(ev);
      const r = rankOf(op);
      let i = start + n;
      while (i > start && keyBuf[i - 1]! > r) {
        candBuf[i] = candBuf[i - 1]!;
        keyBuf[i] = keyBuf[i - 1]!;
        i--;
      }
      candBuf[i] = op;
      keyBuf[i] = r;
      n++;
    }
    candStart[d] = start;
    candCount[d] = n;
    candPos[d] = 0;
  };

  if (edf) buildCandidates();
  let entry = list.first();
  /** Scanning the late list (the main list's candidates are done). */
  let inLate = false;
  for (;;) {
    if (!inLate && entry === NIL) break; // every op linearized
    if ((++iterations & DEADLINE_CHECK_MASK) === 0) {
      if (hasDeadline && performance.now() > deadline) return { kind: 'unknown', reason: 'time_limit', cacheEntries: entries() };
      if (iterations > iterationBudget) return { kind: 'unknown', reason: 'budget', cacheEntries: entries() };
      if ((iterations & MEMORY_CHECK_MASK) === 0 && !memory.ok())
        return { kind: 'unknown', reason: 'memory_limit', cacheEntries: entries() };
      if (iterations >= nextPause) {
        nextPause = iterations + sliceIterations;
        yield bytesUsed();
      }
    }
    let backtrack: boolean;
    let edfOp = -1;
    if (edf && !inLate) {
      const d = stack.depth;
      if (candPos[d]! < candCount[d]!) {
        edfOp = candBuf[candStart[d]! + candPos[d]!]!;
        candPos[d]!++;
        backtrack = false;
      } else if (late !== undefined) {
        inLate = true;
        entry = list.firstLate();
        continue;
      } else backtrack = true;
    } else if (!inLate) {
      const ev = events[entry]!;
      if (!isCall(ev) && late !== undefined) {
        // The first pending return ends the main candidates: the late ones next.
        inLate = true;
        entry = list.firstLate();
        continue;
      }
      backtrack = !isCall(ev);
    } else {
      backtrack = entry === NIL || entry > list.firstReturn();
    }
    if (!backtrack) {
      // A call: try this op as the next linearization point.
      const op = edfOp >= 0 ? edfOp : opOf(events[entry]!);
      const nextEntry = edfOp >= 0 ? entry : inLate ? lateNext[entry]! : next[entry]!;
      if ((obliged && !observes!(op, state)) || (prevInClass !== null && prevInClass[op]! >= 0 && twinComesFirst(op))) {
        entry = nextEntry;
        continue;
      }
      const after = step(state, op);
      const isLazy = lazy !== undefined && lazy[op] === 1;
      // Reduction 5: a lazy op is only placed where it changes the state.
      if (after < 0 || (isLazy && after === state)) {
        entry = nextEntry;
        continue;
      }
      const forced = observer !== undefined && observer[op] === 1;
      linearized.add(op);
      pruner?.linearize(op);
      if (dominance !== null) addToSubsets(op);
      if (pruner === undefined || !pruner.dead(after)) {
        const keyState = isLazy ? after | OBLIGED : after;
        // The exact cache always (O(1) per lookup); with dominance, also the failed configurations that dominate this one.
        let added = cache.add(linearized, keyState);
        if (added === CacheAdd.added && dominance !== null && dominance.dominated(exactSet!, observerSet!, unknownSet!, keyState))
          added = CacheAdd.present;
        if (added === CacheAdd.added) {
          if (entries() > maxEntries) return { kind: 'unknown', reason: 'memory_limit', cacheEntries: entries() };
          stack.push(op, state, forced, obliged);
          state = after;
          obliged = isLazy;
          list.lift(op);
          if (mustHappen !== undefined && mustHappen[op] === 1 && --mustLeft === 0) return ok();
          inLate = false;
          entry = list.first();
          if (edf) buildCandidates();
          continue;
        }
        if (added === CacheAdd.full) return { kind: 'unknown', reason: 'memory_limit', cacheEntries: entries() };
      }
      // Dead, or explored before (or dominated by a failed configuration).
      pruner?.undo(op);
      linearized.remove(op);
      if (dominance !== null) removeFromSubsets(op);
      if (!forced) {
        entry = nextEntry;
        continue;
      }
      // A forced observer leads nowhere: neither does this configuration.
    }
    // A return (the op it ends is still pending, so nothing to its right may
    // be linearized first), or a dead end: backtrack, past forced steps too.
    stack.noteDepth(state);
    for (;;) {
      if (stack.depth === 0) return illegal();
      // This configuration is fully explored and has no completion.
      if (dominance !== null && !dominance.add(exactSet!, observerSet!, unknownSet!, obliged ? state | OBLIGED : state)) {
        return { kind: 'unknown', reason: 'memory_limit', cacheEntries: entries() };
      }
      const op = stack.pop();
      state = stack.stateBefore[stack.depth]!;
      obliged = stack.obligedBefore[stack.depth] === 1;
      linearized.remove(op);
      if (dominance !== null) removeFromSubsets(op);
      pruner?.undo(op);
      list.unlift(op);
      if (mustHappen !== undefined && mustHappen[op] === 1) mustLeft++;
      if (stack.forced[stack.depth] === 0) {
        inLate = late !== undefined && late[op] === 1;
        // With earliest-return-first the main candidates resume at candPos.
        entry = inLate ? lateNext[list.callAt[op]!]! : next[list.callAt[op]!]!;
        break;
      }
    }
  }
  return ok();
}
