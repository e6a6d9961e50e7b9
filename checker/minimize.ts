// Shrinks an invalid key to a minimal failing sub-history (Zeller & Hildebrandt's
// delta debugging, "Simplifying and isolating failure-inducing input", TSE
// 2002): ops are removed in chunks, then one by one, while the rest stays not
// linearizable; then completions are dropped one by one the same way. A
// person then reads a handful of ops instead of thousands.
//
// Only *weakening* changes are made, so the sub-history failing proves the
// whole key fails (if the key had a linearization, so would every sub-history
// made this way):
// - removing a read (a linearization of the key without it is one of the rest);
// - dropping a completion (the op becomes "outcome unknown": the key's
//   linearization still places it after its invoke, which is all an unknown
//   op needs);
// - removing an op that changes the state, only when its completion could be
//   dropped and the model's fast path then proves it unobserved
//   (checker/fast/: an unknown op whose effect no remaining op can observe
//   leaves the verdict unchanged).
// checker/verify.ts re-checks the derivation and the failure independently.
import type { Model } from './models/model.js';
import type { KeyHistory, PreparedOp } from './history.js';
import { FAST_PATHS } from './fast/registry.js';
import { checkedOp, KeySearch, type KeyLimits } from './check-key.js';
import type { MinimalCounterexample, ModelName } from './types.js';

/** What happens to each op of the key in a sub-history. */
export const OpFate = {
  removed: 0,
  kept: 1,
  /** Kept, with its completion dropped (outcome unknown). */
  completionDropped: 2,
} as const;
export type OpFate = (typeof OpFate)[keyof typeof OpFate];

function weakened(p: PreparedOp): PreparedOp {
  return { invoke: p.invoke, outcome: 'info', modelOp: { f: p.modelOp.f, input: p.modelOp.input, output: undefined } };
}

/** The sub-history of `kh` given each op's fate (unknown-outcome ops return after everything, as in prepareHistory). */
export function subKeyHistory(kh: KeyHistory, fate: Uint8Array): KeyHistory {
  const id = new Int32Array(kh.ops.length).fill(-1);
  const ops: PreparedOp[] = [];
  kh.ops.forEach((p, i) => {
    if (fate[i] === OpFate.removed) return;
    id[i] = ops.length;
    ops.push(fate[i] === OpFate.completionDropped ? weakened(p) : p);
  });
  const events = new Int32Array(ops.length * 2);
  let e = 0;
  const late: number[] = [];
  for (const ev of kh.events) {
    const i = ev >> 1;
    const j = id[i]!;
    if (j < 0) continue;
    if ((ev & 1) === 1 && fate[i] === OpFate.completionDropped && kh.ops[i]!.outcome === 'ok') late.push(j);
    else events[e++] = (j << 1) | (ev & 1);
  }
  // Returns of dropped completions go last, after the unknown ops' returns already there (order among them is free).
  for (const j of late) events[e++] = (j << 1) | 1;
  return { key: kh.key, ops, events };
}

/**
 * Whether the removals in `fate` are weakenings: every removed op that is
 * not a read must be provably unobserved once all removed ops are unknown.
 */
export function removalsAreSound(model: Model<unknown>, kh: KeyHistory, fate: Uint8Array): boolean {
  return unsoundRemovals(model, kh, fate).length === 0;
}

/** The removed ops (indices in `kh.ops`) that break the rule of removalsAreSound. */
function unsoundRemovals(model: Model<unknown>, kh: KeyHistory, fate: Uint8Array): number[] {
  const readOnly = new Set(model.readOnlyFs);
  const ops: PreparedOp[] = [];
  const removedWriters: [number, number][] = [];
  kh.ops.forEach((p, i) => {
    if (fate[i] === OpFate.removed) {
      if (readOnly.has(p.modelOp.f)) return;
      removedWriters.push([ops.length, i]);
      ops.push(weakened(p));
    } else ops.push(fate[i] === OpFate.completionDropped ? weakened(p) : p);
  });
  if (removedWriters.length === 0) return [];
  const needed = FAST_PATHS[model.name as ModelName].needed(ops);
  return removedWriters.filter(([j]) => needed[j]).map(([, i]) => i);
}

export interface Minimized {
  result: MinimalCounterexample;
  subHistory: KeyHistory;
}

/**
 * Shrinks `kh` (known not linearizable) within `limits.deadlineMs`. `seeds`
 * are guesses of small failing sets of ops (e.g. the ops a static refutation
 * names): the first that fails is where delta debugging starts.
 */
export function minimizeKey(
  model: Model<unknown>,
  kh: KeyHistory,
  limits: KeyLimits,
  fastPaths: boolean,
  seeds: readonly (readonly PreparedOp[])[] = [],
): Minimized {
  const n = kh.ops.length;
  const fate = new Uint8Array(n).fill(OpFate.kept);
  let checks = 0;
  let outOfTime = false;
  /** Whether the sub-history `fate` is (still) not linearizable; unknown counts as no. */
  const fails = (): boolean => {
    if (performance.now() > limits.deadlineMs) {
      outOfTime = true;
      return false;
    }
    if (!removalsAreSound(model, kh, fate)) return false;
    checks++;
    const s = new KeySearch(model, subKeyHistory(kh, fate), limits, Infinity, { fastPaths, witness: false, minimizeMs: 0 });
    const v = s.verdictOnly();
    if (v === 'unknown') outOfTime = true;
    return v === false;
  };

  // 0. Try the seeds.
  const indexOf = new Map<PreparedOp, number>(kh.ops.map((p, i) => [p, i]));
  for (const seed of seeds) {
    const keep = new Set<number>();
    for (const p of seed) {
      const i = indexOf.get(p);
      if (i !== undefined) keep.add(i);
    }
    if (keep.size === 0 || keep.size === n) continue;
    for (let i = 0; i < n; i++) fate[i] = keep.has(i) ? OpFate.kept : OpFate.removed;
    // Close the seed: put back the removed ops that kept ones still observe.
    for (let round = 0; round < n; round++) {
      const back = unsoundRemovals(model, kh, fate);
      if (back.length === 0) break;
      for (const i of back) fate[i] = OpFate.kept;
    }
    if (fails()) break;
    fate.fill(OpFate.kept);
  }

  /**
   * Delta debugging over `units`: applies `to` to chunks of them (halving
   * the chunk size when no chunk can change) while the sub-history keeps
   * failing; returns the units left unchanged. Ends 1-minimal (no single
   * unit can change) unless out of time.
   */
  const ddmin = (start: number[], to: OpFate): number[] => {
    let units = start;
    let parts = Math.min(2, units.length);
    while (units.length > 0 && !outOfTime) {
      const size = Math.ceil(units.length / parts);
      let changed = false;
      for (let first = 0; first < units.length && !outOfTime; first += size) {
        const chunk = units.slice(first, first + size);
        const before = chunk.map((i) => fate[i]!);
        for (const i of chunk) fate[i] = to;
        if (fails()) {
          const gone = new Set(chunk);
          units = units.filter((i) => !gone.has(i));
          parts = Math.max(parts - 1, Math.min(2, units.length));
          changed = true;
          break;
        }
        chunk.forEach((i, k) => (fate[i] = before[k]! as OpFate));
      }
      if (changed) continue;
      if (size === 1) break;
      parts = Math.min(parts * 2, units.length);
    }
    return units;
  };

  // 1. Remove ops.
  const kept = ddmin(
    Array.from({ length: n }, (_, i) => i).filter((i) => fate[i] !== OpFate.removed),
    OpFate.removed,
  );
  // 2. Drop completions (dropping more only allows more, so removals stay impossible).
  const readOnly = new Set(model.readOnlyFs);
  ddmin(
    kept.filter((i) => kh.ops[i]!.outcome === 'ok' && !readOnly.has(kh.ops[i]!.modelOp.f)),
    OpFate.completionDropped,
  );

  const ops: MinimalCounterexample['ops'] = [];
  kh.ops.forEach((p, i) => {
    if (fate[i] !== OpFate.removed) ops.push({ op: checkedOp(model, p), completionDropped: fate[i] === OpFate.completionDropped });
  });
  return { result: { ops, oneMinimal: !outOfTime, checks }, subHistory: subKeyHistory(kh, fate) };
}
