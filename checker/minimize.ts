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
export function minimizeKey(model: Model<unknown>, kh: KeyHistory, limits: KeyLimits, fastPaths: boolean, seeds: readonly (readonly PreparedOp[])[] = []): Minimized {
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

  // 1. Remove chunks, halving their size when no chunk can go (ddmin).
  let units = Array.from({ length: n }, (_, i) => i).filter((i) => fate[i] !== OpFate.removed);
  let parts = 2;
  while (units.length >= 2 && !outOfTime) {
    const size = Math.ceil(units.length / parts);
    let removedChunk = false;
    for (let start = 0; start < units.length && !outOfTime; start += size) {
      const chunk = units.slice(start, start + size);
      for (const i of chunk) fate[i] = OpFate.removed;
      if (fails()) {
        const gone = new Set(chunk);
        units = units.filter((i) => !gone.has(i));
        parts = Math.max(parts - 1, 2);
        removedChunk = true;
        break;
      }
      for (const i of chunk) fate[i] = OpFate.kept;
    }
    if (removedChunk) continue;
    if (size === 1) break;
    parts = Math.min(parts * 2, units.length);
  }

  // 2. Drop completions one by one (dropping more only allows more, so one pass is final).
  for (const i of units) {
    if (outOfTime) break;
    if (kh.ops[i]!.outcome !== 'ok' || model.readOnlyFs.includes(kh.ops[i]!.modelOp.f)) continue;
    fate[i] = OpFate.completionDropped;
    if (!fails()) fate[i] = OpFate.kept;
  }

  const ops: MinimalCounterexample['ops'] = [];
  kh.ops.forEach((p, i) => {
    if (fate[i] !== OpFate.removed) ops.push({ op: checkedOp(model, p), completionDropped: fate[i] === OpFate.completionDropped });
  });
  return { result: { ops, oneMinimal: !outOfTime, checks }, subHistory: subKeyHistory(kh, fate) };
}
