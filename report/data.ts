// The data the report page's script draws from, in a compact columnar shape
// (100,000 ops stay a few MB of JSON and parse in tens of milliseconds).
// Times are seconds since the start of the test, rounded to microseconds, or
// op indices when the history has no times.
import type { CheckResult } from '../checker/types.js';
import { opValueText, showValue, type ClientOp, type PairedHistory } from './ops.js';
import type { NemesisTimeline } from './nemesis.js';
import type { Throughput } from './phases.js';

export const OUTCOME_CODES = { ok: 0, fail: 1, info: 2, pending: 3 } as const;

export interface PageData {
  title: string;
  timeUnit: 'ns' | 'index';
  /** Length of the history on the display clock (seconds or op indices). */
  span: number;
  /**
   * `process`: one lane per process. `thread`: Jepsen renumbers a client
   * after an info op (process p becomes p + concurrency), so lanes are
   * threads (process mod concurrency), the way the client workers ran.
   */
  laneMode: 'process' | 'thread';
  /** Lane labels, lane order: `p3` (process) or `t3` (thread). */
  lanes: string[];
  /** Ops of lane i are at positions laneOff[i] .. laneOff[i+1]-1, sorted by start. */
  laneOff: number[];
  fs: string[];
  keys: string[];
  op: {
    s: number[];
    /** null: never completed. */
    e: (number | null)[];
    /** OUTCOME_CODES. */
    o: number[];
    f: number[];
    k: number[];
    /** Process of each op. */
    p: number[];
    /** Invoke index and completion index (-1 when none). */
    i: number[];
    c: number[];
    v: string[];
    err: string[];
  };
  faults: { kind: string; label: string; startF: string; stopF: string | null; s: number; e: number; open: boolean; what: string }[];
  markers: { f: string; t: number; index: number; what: string }[];
  throughput: Throughput | null;
  /** Invoke indices of the ops each counterexample could not place. */
  failing: { key: string; index: number }[];
}

export function toDisplayTime(t: number, paired: PairedHistory): number {
  const rel = t - paired.t0;
  return paired.timeUnit === 'ns' ? Math.round(rel / 1e3) / 1e6 : rel;
}

/**
 * The number of client threads when the history follows Jepsen's process
 * renumbering (processes 0..c-1 start; after an info op process p is
 * replaced by p + c, which starts only after that info), else null.
 */
export function inferThreads(ops: readonly ClientOp[]): number | null {
  if (ops.length === 0) return null;
  let infoAt = Infinity;
  for (const o of ops) if (o.outcome === 'info' && o.end !== null && o.end < infoAt) infoAt = o.end;
  if (infoAt === Infinity) return null; // nobody was renumbered: lanes per process are the same thing
  const byProcess = new Map<number, ClientOp[]>();
  for (const o of ops) {
    let l = byProcess.get(o.process);
    if (l === undefined) byProcess.set(o.process, (l = []));
    l.push(o);
  }
  // Processes seen before the first info op completed are the initial ones.
  let c = 0;
  for (const [p, l] of byProcess) if (l[0]!.start <= infoAt && p >= 0) c = Math.max(c, p + 1);
  if (c === 0 || byProcess.size <= c) return null;
  for (const [p, l] of byProcess) {
    if (p < 0 || !Number.isInteger(p)) return null;
    if (p < c) continue;
    const prev = byProcess.get(p - c);
    if (prev === undefined) return null;
    const last = prev[prev.length - 1]!;
    if (last.outcome !== 'info') return null;
    if (last.end === null || l[0]!.start < last.end) return null;
  }
  return c;
}

export function buildPageData(
  title: string,
  paired: PairedHistory,
  nemesis: NemesisTimeline,
  tp: Throughput | null,
  check: CheckResult | null,
): PageData {
  const threads = inferThreads(paired.ops);
  const laneKey = (p: number): number => (threads === null ? p : p % threads);
  const laneKeys = [...new Set(paired.ops.map((o) => laneKey(o.process)))].sort((a, b) => a - b);
  const laneOf = new Map(laneKeys.map((p, i) => [p, i]));
  const byLane: ClientOp[][] = laneKeys.map(() => []);
  for (const op of paired.ops) byLane[laneOf.get(laneKey(op.process))!]!.push(op);
  const fs: string[] = [];
  const fIdx = new Map<string, number>();
  const keys: string[] = [];
  const kIdx = new Map<string, number>();
  const intern = (m: Map<string, number>, list: string[], s: string): number => {
    let i = m.get(s);
    if (i === undefined) {
      i = list.length;
      list.push(s);
      m.set(s, i);
    }
    return i;
  };
  const op: PageData['op'] = { s: [], e: [], o: [], f: [], k: [], p: [], i: [], c: [], v: [], err: [] };
  const laneOff: number[] = [0];
  const t = (x: number): number => toDisplayTime(x, paired);
  for (const lane of byLane) {
    lane.sort((a, b) => a.start - b.start || a.invoke.index - b.invoke.index);
    for (const o of lane) {
      op.s.push(t(o.start));
      op.e.push(o.end === null ? null : t(o.end));
      op.o.push(OUTCOME_CODES[o.outcome]);
      op.f.push(intern(fIdx, fs, o.f));
      op.k.push(intern(kIdx, keys, o.key));
      op.p.push(o.process);
      op.i.push(o.invoke.index);
      op.c.push(o.completion?.index ?? -1);
      op.v.push(opValueText(o));
      const err = o.completion?.error;
      op.err.push(err === undefined || err === null ? '' : showValue(err, 160));
    }
    laneOff.push(op.s.length);
  }
  const failing: PageData['failing'] = [];
  if (check !== null) {
    for (const k of check.failures) {
      const index = check.keys[k]?.counterexample?.op?.invoke?.index;
      if (typeof index === 'number') failing.push({ key: k, index });
    }
  }
  return {
    title,
    timeUnit: paired.timeUnit,
    span: t(paired.tEnd),
    laneMode: threads === null ? 'process' : 'thread',
    lanes: laneKeys.map((k) => (threads === null ? `p${k}` : `t${k}`)),
    laneOff,
    fs,
    keys,
    op,
    faults: nemesis.intervals.map((iv) => ({
      kind: iv.kind,
      label: iv.label,
      startF: iv.startF,
      stopF: iv.stopF,
      s: t(iv.start),
      e: t(iv.end),
      open: iv.open,
      what: iv.values.map((v) => showValue(v, 100)).join('; '),
    })),
    markers: nemesis.markers.map((m) => ({ f: m.f, t: t(m.time), index: m.index, what: showValue(m.value, 100) })),
    throughput: tp,
    failing,
  };
}
