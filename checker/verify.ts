// The independent verifier of certified verdicts (`npm run check -- --verify
// CERT`). It shares nothing with the search (checker/search/, check-key.ts,
// checker/fast/) nor with the models (checker/models/): it pairs ops, states
// the two models' rules and checks a certificate (checker/certificate.ts)
// against the history on its own, so a bug in the search cannot vouch for
// itself. Only reading the history file is shared (checker/read.ts).
//
// - A valid key's certificate is a linearization (invoke indices in order).
//   Linear time: every ok op exactly once, no failed op, unknown ops at most
//   once; real time (each op returns after every op before it was invoked);
//   the model accepts each step.
// - An invalid key's certificate is a sub-history: some ops removed, some
//   completions dropped. It is accepted when (a) every change weakens (a
//   removed op is a read, a failed op, or a writer whose value no remaining
//   op can observe; dropping a completion only makes an op's outcome
//   unknown), so the sub-history failing proves the key fails; and (b) an
//   exhaustive search of its orders finds no linearization.
import type { HistoryOp } from './types.js';

export type VerifyModel = 'cas-register' | 'kv';

/** One op of a key as the verifier sees it: positions are line order in the history. */
interface Op {
  index: number;
  f: string;
  input: unknown;
  /** 'ok' | 'fail' | 'unknown' (info or never completed). */
  outcome: 'ok' | 'fail' | 'unknown';
  output: unknown;
  call: number;
  /** Position of the completion; Infinity unless ok. */
  ret: number;
}

export interface KeyVerdict {
  key: string;
  verified: boolean;
  message: string;
}

/** JSON text with object members sorted: objects are unordered, `{"a":1,"b":2}` and `{"b":2,"a":1}` are one value. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return '[' + v.map(canonical).join(',') + ']';
  if (v === null || v === undefined || typeof v !== 'object') return JSON.stringify(v ?? null);
  const o = v as Record<string, unknown>;
  const members = Object.keys(o).sort();
  return '{' + members.map((k) => JSON.stringify(k) + ':' + canonical(o[k])).join(',') + '}';
}

const same = (a: unknown, b: unknown): boolean => canonical(a) === canonical(b);

/** The model's one step: the next state, or undefined when illegal. An op of unknown outcome never fails (a cas that does not match has no effect). */
function apply(model: VerifyModel, state: unknown, op: Op): { s: unknown } | undefined {
  const known = op.outcome === 'ok';
  if (model === 'cas-register') {
    if (op.f === 'read') return !known || same(state, op.output) ? { s: state } : undefined;
    if (op.f === 'write') return { s: op.input };
    const [a, b] = op.input as [unknown, unknown];
    return same(state, a) ? { s: b } : known ? undefined : { s: state };
  }
  if (op.f === 'get') return !known || state === ((op.output as string | null) ?? '') ? { s: state } : undefined;
  if (op.f === 'put') return { s: op.input };
  return { s: (state as string) + (op.input as string) };
}

const initial = (model: VerifyModel): unknown => (model === 'cas-register' ? null : '');
const isRead = (op: Op): boolean => op.f === 'read' || op.f === 'get';

/** Client ops per key, with their outcomes and positions. */
export function opsByKey(history: readonly HistoryOp[]): Map<string, Op[]> {
  const byKey = new Map<string, Op[]>();
  const open = new Map<number, Op>();
  history.forEach((h, pos) => {
    if (typeof h.process !== 'number') return;
    if (h.type === 'invoke') {
      const op: Op = { index: h.index, f: h.f, input: h.value, outcome: 'unknown', output: undefined, call: pos, ret: Infinity };
      open.set(h.process, op);
      const k = h.key === undefined || h.key === null ? '' : String(h.key);
      let list = byKey.get(k);
      if (list === undefined) byKey.set(k, (list = []));
      list.push(op);
      return;
    }
    const op = open.get(h.process);
    if (op === undefined) return;
    open.delete(h.process);
    if (h.type === 'ok') {
      op.outcome = 'ok';
      op.output = h.value;
      op.ret = pos;
    } else if (h.type === 'fail') op.outcome = 'fail';
  });
  return byKey;
}

/**
 * The key's ops by invoke `index`, or why they cannot be: a certificate names ops by index, and the readers do not
 * require indices to be unique. With two ops of one index, the later hid the earlier: the earlier was never replayed
 * and counted as placed, so a forged certificate of an invalid history was CONFIRMED (found by
 * test/checker/metamorphic.test.ts, which saw a right one rejected).
 */
function indexed(ops: readonly Op[]): Map<number, Op> | string {
  const byIndex = new Map<number, Op>();
  for (const o of ops) {
    if (byIndex.has(o.index)) return `two ops of this key have the index ${o.index}, so a certificate cannot name them`;
    byIndex.set(o.index, o);
  }
  return byIndex;
}

/** Checks a linearization of one key. */
export function verifyLinearization(model: VerifyModel, ops: readonly Op[], order: readonly number[]): string | null {
  const byIndex = indexed(ops);
  if (typeof byIndex === 'string') return byIndex;
  const seen = new Set<number>();
  let state = initial(model);
  let latestCall = -1;
  for (const i of order) {
    const op = byIndex.get(i);
    if (op === undefined) return `op ${i} is not an op of this key`;
    if (seen.has(i)) return `op ${i} appears twice`;
    seen.add(i);
    if (op.outcome === 'fail') return `op ${i} failed, so it cannot take effect`;
    if (op.ret < latestCall) return `op ${i} returned before an op placed earlier was invoked`;
    latestCall = Math.max(latestCall, op.call);
    const next = apply(model, state, op);
    if (next === undefined) return `op ${i} (${op.f} ${JSON.stringify(op.input)}) is illegal in state ${JSON.stringify(state)}`;
    state = next.s;
  }
  for (const o of ops) if (o.outcome === 'ok' && !seen.has(o.index)) return `ok op ${o.index} is missing`;
  return null;
}

/** Whether the writer `w` is observed by an op of `ops` (other than itself). */
function observed(model: VerifyModel, w: Op, ops: readonly Op[]): boolean {
  if (model === 'cas-register') {
    const v = w.f === 'write' ? w.input : (w.input as unknown[])[1];
    return ops.some(
      (o) =>
        o !== w && ((o.f === 'read' && o.outcome === 'ok' && same(o.output, v)) || (o.f === 'cas' && same((o.input as unknown[])[0], v))),
    );
  }
  const t = w.input as string;
  const gets = ops.filter((o) => o.f === 'get' && o.outcome === 'ok').map((o) => (o.output as string | null) ?? '');
  return w.f === 'append' ? t.length > 0 && gets.some((g) => g.includes(t)) : gets.some((g) => g.startsWith(t));
}

/** Checks that `sub` weakens `ops` (see the file comment); returns the sub-history's ops, or a reason. */
export function weakenedSubHistory(
  model: VerifyModel,
  ops: readonly Op[],
  sub: readonly { index: number; completion: 'kept' | 'dropped' }[],
): Op[] | string {
  const byIndex = indexed(ops);
  if (typeof byIndex === 'string') return byIndex;
  const kept: Op[] = [];
  const listed = new Set<number>();
  for (const s of sub) {
    const op = byIndex.get(s.index);
    if (op === undefined) return `op ${s.index} is not an op of this key`;
    if (listed.has(s.index)) return `op ${s.index} is listed twice`;
    listed.add(s.index);
    kept.push(s.completion === 'dropped' ? { ...op, outcome: 'unknown', output: undefined, ret: Infinity } : op);
  }
  // Removed writers, as unknown ops, must go one by one, each unobserved by what is left.
  let writers = ops
    .filter((o) => !listed.has(o.index) && !isRead(o) && o.outcome !== 'fail')
    .map((o): Op => ({ ...o, outcome: 'unknown', output: undefined, ret: Infinity }));
  for (let progress = true; progress && writers.length > 0;) {
    progress = false;
    for (const w of writers) {
      if (observed(model, w, [...kept, ...writers])) continue;
      writers = writers.filter((x) => x !== w);
      progress = true;
      break;
    }
  }
  if (writers.length > 0) return `removing op ${writers[0]!.index} is not a weakening: a remaining op observes its value`;
  return kept.filter((o) => o.outcome !== 'fail');
}

/**
 * Exhaustive search for a linearization of `ops` (unknown ops optional),
 * memoised on (ops done, state). For kv without puts left, a state that is
 * not a prefix of every pending ok get is abandoned (strings only grow).
 * Returns true / false, or null when `maxNodes` is exceeded.
 */
export function hasLinearization(model: VerifyModel, ops: readonly Op[], maxNodes = 2_000_000): boolean | null {
  const n = ops.length;
  const seen = new Set<string>();
  const done = new Uint8Array(n);
  let nodes = 0;
  const dfs = (state: unknown, okLeft: number): boolean | null => {
    if (okLeft === 0) return true;
    const key = `${done.join('')}|${JSON.stringify(state)}`;
    if (seen.has(key)) return false;
    seen.add(key);
    if (++nodes > maxNodes) return null;
    // Real time: an op may go next only if no pending op returned before it was invoked.
    let firstReturn = Infinity;
    let putsLeft = false;
    for (let j = 0; j < n; j++) {
      if (done[j] === 1) continue;
      firstReturn = Math.min(firstReturn, ops[j]!.ret);
      if (ops[j]!.f === 'put') putsLeft = true;
    }
    if (model === 'kv' && !putsLeft) {
      const s = state as string;
      for (let j = 0; j < n; j++) {
        const o = ops[j]!;
        if (done[j] === 0 && o.f === 'get' && o.outcome === 'ok' && !((o.output as string | null) ?? '').startsWith(s)) return false;
      }
    }
    for (let i = 0; i < n; i++) {
      const op = ops[i]!;
      if (done[i] === 1 || op.call > firstReturn) continue;
      const next = apply(model, state, op);
      if (next === undefined) continue;
      done[i] = 1;
      const r = dfs(next.s, okLeft - (op.outcome === 'ok' ? 1 : 0));
      done[i] = 0;
      if (r !== false) return r;
    }
    return false;
  };
  return dfs(initial(model), ops.filter((o) => o.outcome === 'ok').length);
}
