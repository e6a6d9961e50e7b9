// What a model contributes to one key's check before and during the WGL
// search (each file in this folder is one model's; checker/fast/registry.ts
// maps model names to them). Every step here is sound: it never changes the
// verdict, only how fast it is reached. Each carries its proof sketch, and
// test/checker/differential.test.ts compares the checker with them against
// the plain search on thousands of generated histories.
import type { ModelOp } from '../models/model.js';
import type { PreparedOp } from '../history.js';
import type { Goals, LazyUnknowns, Pruner } from '../search/wgl.js';

/** A static refutation: the reason, and the ops (indices into the ops given) it names. */
export interface Refutation {
  reason: string;
  ops: number[];
}

/** Interned state ids, as the search sees them. */
export interface StateIds {
  intern(state: unknown): number;
  stateOf(id: number): unknown;
}

export interface ModelFastPaths {
  /**
   * Which ops the search needs: false for an op of unknown outcome that can
   * be treated as never having happened without changing the verdict.
   */
  needed(ops: readonly PreparedOp[]): boolean[];
  /**
   * The ops as the search steps them, and the initial state: the same
   * verdict as the ops' own model ops (e.g. values nobody observes merged
   * into one state).
   */
  searchOps(ops: readonly PreparedOp[], init: unknown): { ops: ModelOp[]; init: unknown };
  /** A pruner over the search ops (see Pruner), or undefined. */
  pruner?(ops: readonly ModelOp[], events: Int32Array, states: StateIds): Pruner | undefined;
  /** What each op needs and can set, for the goal-directed search order (Goals in search/wgl.ts), or undefined. */
  goals?(ops: readonly ModelOp[], states: StateIds): Goals;
  /**
   * Reduction 5 of the search (checker/search/wgl.ts), for models where an
   * unknown op's effect matters only to an op that observes it right after.
   */
  lazyUnknowns?(ops: readonly ModelOp[], states: StateIds): LazyUnknowns;
  /**
   * A necessary condition checked in near-linear time before the search:
   * why no linearization exists (and the few ops that show it), or null
   * when the condition holds (the search decides).
   */
  refute?(ops: readonly PreparedOp[], events: Int32Array): Refutation | null;
}

/** Each op's call position and return position in `events` (Infinity for an op of unknown outcome: it may take effect any time after its call). */
export function intervals(ops: readonly PreparedOp[], events: Int32Array): { inv: Float64Array; ret: Float64Array } {
  const inv = new Float64Array(ops.length);
  const ret = new Float64Array(ops.length);
  events.forEach((ev, pos) => {
    const op = ev >> 1;
    if ((ev & 1) === 0) inv[op] = pos;
    else ret[op] = ops[op]!.outcome === 'ok' ? pos : Infinity;
  });
  return { inv, ret };
}
