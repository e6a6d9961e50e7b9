// Client ops for the report: each client invoke paired with its completion
// (ok / fail / info), or marked `pending` when the history ended first (which
// means the same as info: it may have taken effect at any later point).
// Unlike the checker this never rejects a history: a report must render even
// for a malformed one, so oddities (a completion without an invoke, a second
// invoke while one is outstanding) are counted, not thrown.
import type { HistoryOp } from '../checker/types.js';

export type Outcome = 'ok' | 'fail' | 'info' | 'pending';

export interface ClientOp {
  process: number;
  f: string;
  /** `''` when the op has no key (a single register). */
  key: string;
  invoke: HistoryOp;
  completion?: HistoryOp;
  outcome: Outcome;
  /** Invoke time on the report's clock (see `timeOf`). */
  start: number;
  /** Completion time, or null when the op never completed. */
  end: number | null;
}

export interface PairedHistory {
  ops: ClientOp[];
  /** Completions with no outstanding invoke, and invokes that replaced an outstanding one. */
  anomalies: number;
  /** Time unit of `start`/`end`: nanoseconds when every op has `time`, else the op index. */
  timeUnit: 'ns' | 'index';
  /** First and last time in the history (all processes). */
  t0: number;
  tEnd: number;
}

export function keyOf(op: HistoryOp): string {
  return op.key === undefined || op.key === null ? '' : String(op.key);
}

export function isClient(op: HistoryOp): op is HistoryOp & { process: number } {
  return typeof op.process === 'number';
}

/**
 * The clock the report draws on: `time` (ns) when every op carries one, else
 * the op's index (histories converted from Knossos often have no times; the
 * line order is still real-time order, so indices are an honest axis).
 */
export function timeUnitOf(history: readonly HistoryOp[]): 'ns' | 'index' {
  if (history.length === 0) return 'ns';
  for (const o of history) if (typeof o.time !== 'number' || !Number.isFinite(o.time)) return 'index';
  return 'ns';
}

export function timeOf(op: HistoryOp, unit: 'ns' | 'index'): number {
  return unit === 'ns' ? (op.time as number) : op.index;
}

export function pairClientOps(history: readonly HistoryOp[]): PairedHistory {
  const timeUnit = timeUnitOf(history);
  const ops: ClientOp[] = [];
  const outstanding = new Map<number, ClientOp>();
  let anomalies = 0;
  let t0 = Infinity;
  let tEnd = -Infinity;
  for (const o of history) {
    const t = timeOf(o, timeUnit);
    if (t < t0) t0 = t;
    if (t > tEnd) tEnd = t;
    if (!isClient(o)) continue;
    if (o.type === 'invoke') {
      if (outstanding.has(o.process)) anomalies++;
      const op: ClientOp = { process: o.process, f: o.f, key: keyOf(o), invoke: o, outcome: 'pending', start: t, end: null };
      outstanding.set(o.process, op);
      ops.push(op);
      continue;
    }
    const op = outstanding.get(o.process);
    if (op === undefined) {
      anomalies++;
      continue;
    }
    outstanding.delete(o.process);
    op.completion = o;
    op.outcome = o.type;
    op.end = t;
  }
  if (t0 === Infinity) {
    t0 = 0;
    tEnd = 0;
  }
  return { ops, anomalies, timeUnit, t0, tEnd };
}

/** Short text for a value in tooltips and tables. */
export function showValue(v: unknown, max = 80): string {
  let s: string;
  if (v === undefined) s = '';
  else if (typeof v === 'string') s = JSON.stringify(v);
  else s = JSON.stringify(v) ?? String(v);
  return s.length > max ? s.slice(0, max - 1) + '…' : s;
}

/** Display value of an op: the invoke's argument, and the result when it says more (a read's value). */
export function opValueText(op: ClientOp): string {
  const input = op.invoke.value;
  const out = op.completion?.value;
  const hasIn = input !== null && input !== undefined;
  const hasOut = op.outcome === 'ok' && out !== undefined && (out !== null || !hasIn) && showValue(out) !== showValue(input);
  if (hasIn && hasOut) return `${showValue(input, 60)} → ${showValue(out, 60)}`;
  if (hasOut) return showValue(out);
  return hasIn ? showValue(input) : op.outcome === 'ok' ? 'null' : '';
}
