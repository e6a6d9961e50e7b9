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
import { ConfigCache } from './config-cache.js';
import { EventList, isCall, NIL, opOf } from './event-list.js';
import { LinearizedSet } from './linearized-set.js';

export type SearchOutcome =
  | { kind: 'ok'; cacheEntries: number }
  | { kind: 'illegal'; cacheEntries: number; bestOps: Int32Array; bestState: number }
  | { kind: 'unknown'; reason: 'time_limit' | 'memory_limit'; cacheEntries: number };

export interface SearchLimits {
  /** performance.now() deadline; Infinity for none. */
  deadlineMs: number;
  maxCacheEntries: number;
  maxBytes: number;
  /** Bytes held outside the search (interned states, transition memo), polled now and then. */
  auxBytes?: () => number;
}

export interface SearchInput {
  nOps: number;
  events: Int32Array;
  initState: number;
  /** State id after applying `op` in state `state`, or -1 when illegal. */
  step: (state: number, op: number) => number;
}

/** Iterations between deadline checks (a power of two minus one, as a mask). */
const DEADLINE_CHECK_MASK = 1023;
/** Iterations between memory checks (mask). */
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
  depth = 0;
  readonly bestOps: Int32Array;
  bestDepth = 0;
  bestState: number;
  private lowWater = 0;

  constructor(nOps: number, initState: number) {
    this.ops = new Int32Array(nOps);
    this.stateBefore = new Int32Array(nOps);
    this.bestOps = new Int32Array(nOps);
    this.bestState = initState;
  }

  push(op: number, state: number): void {
    this.ops[this.depth] = op;
    this.stateBefore[this.depth] = state;
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

  /** Pops the top; returns its op (its state before is stateBefore[depth]). */
  pop(): number {
    this.depth--;
    if (this.depth < this.lowWater) this.lowWater = this.depth;
    return this.ops[this.depth]!;
  }
}

/**
 * The search as a generator that pauses every `sliceIterations` iterations,
 * yielding its estimated memory use in bytes. Lets the caller interleave the
 * searches of several keys (as Porcupine's goroutines run concurrently), so
 * one easy invalid key is found without first exhausting a hard one.
 */
export function* wglSearchSteps(input: SearchInput, limits: SearchLimits, sliceIterations: number): Generator<number, SearchOutcome, void> {
  const { nOps, events, step } = input;
  const list = new EventList(nOps, events);
  const linearized = new LinearizedSet(nOps);
  const cache = new ConfigCache();
  const stack = new LinearizationStack(nOps, input.initState);

  let state = input.initState;
  const maxEntries = limits.maxCacheEntries;
  const deadline = limits.deadlineMs;
  const hasDeadline = deadline !== Infinity;
  let iterations = 0;
  let nextPause = sliceIterations;

  const bytesUsed = (): number => cache.bytes() + (limits.auxBytes ? limits.auxBytes() : 0) + events.length * 8;

  let entry = list.first();
  while (entry !== NIL) {
    if ((++iterations & DEADLINE_CHECK_MASK) === 0) {
      if (hasDeadline && performance.now() > deadline) return { kind: 'unknown', reason: 'time_limit', cacheEntries: cache.size };
      if ((iterations & MEMORY_CHECK_MASK) === 0 && bytesUsed() > limits.maxBytes) {
        return { kind: 'unknown', reason: 'memory_limit', cacheEntries: cache.size };
      }
      if (iterations >= nextPause) {
        nextPause = iterations + sliceIterations;
        yield bytesUsed();
      }
    }
    const ev = events[entry]!;
    if (isCall(ev)) {
      // Try this op as the next linearization point.
      const op = opOf(ev);
      const after = step(state, op);
      if (after >= 0) {
        linearized.add(op);
        if (cache.add(linearized, after)) {
          if (cache.size > maxEntries) return { kind: 'unknown', reason: 'memory_limit', cacheEntries: cache.size };
          stack.push(op, state);
          state = after;
          list.lift(op);
          entry = list.first();
          continue;
        }
        // Seen before: explored already from this configuration.
        linearized.remove(op);
      }
      entry = list.next[entry]!;
    } else {
      // A return: the op it ends is still pending, so nothing to its right may
      // be linearized first. Backtrack.
      if (stack.depth === 0) {
        return { kind: 'illegal', cacheEntries: cache.size, bestOps: stack.bestOps.slice(0, stack.bestDepth), bestState: stack.bestState };
      }
      stack.noteDepth(state);
      const op = stack.pop();
      state = stack.stateBefore[stack.depth]!;
      linearized.remove(op);
      list.unlift(op);
      entry = list.next[list.callAt[op]!]!;
    }
  }
  return { kind: 'ok', cacheEntries: cache.size };
}
