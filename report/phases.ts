// Counts and availability per phase: all, faults active, healed, and per
// fault kind. An op belongs to the phase its invoke falls in (a client sees
// the system as it is when it asks). Availability is Maelstrom's ok-fraction:
// ok / (ok + fail + info), with never-completed ops counted as info.
import type { ClientOp, Outcome } from './ops.js';
import { inSegments, unionSegments, type FaultInterval } from './nemesis.js';

export interface PhaseRow {
  phase: string;
  /** Total length of the phase on the report's clock (ns or op indices). */
  duration: number;
  ops: number;
  ok: number;
  fail: number;
  info: number;
  /** ok / ops, or null when the phase has no ops. */
  availability: number | null;
  /** ok ops per second (null when the clock is op indices or the phase is empty). */
  okPerSec: number | null;
}

function emptyRow(phase: string, duration: number): PhaseRow {
  return { phase, duration, ops: 0, ok: 0, fail: 0, info: 0, availability: null, okPerSec: null };
}

function count(row: PhaseRow, outcome: Outcome): void {
  row.ops++;
  if (outcome === 'ok') row.ok++;
  else if (outcome === 'fail') row.fail++;
  else row.info++;
}

function finish(row: PhaseRow, timeUnit: 'ns' | 'index'): PhaseRow {
  row.availability = row.ops === 0 ? null : row.ok / row.ops;
  row.okPerSec = timeUnit === 'ns' && row.duration > 0 ? row.ok / (row.duration / 1e9) : null;
  return row;
}

function length(segments: readonly [number, number][]): number {
  let n = 0;
  for (const [a, b] of segments) n += b - a;
  return n;
}

export function phaseStats(
  ops: readonly ClientOp[],
  intervals: readonly FaultInterval[],
  t0: number,
  tEnd: number,
  timeUnit: 'ns' | 'index',
): PhaseRow[] {
  const total = Math.max(0, tEnd - t0);
  const faulty = unionSegments(intervals);
  const faultyLen = length(faulty);
  const all = emptyRow('whole test', total);
  const active = emptyRow('faults active', faultyLen);
  const healed = emptyRow('healed (no fault active)', Math.max(0, total - faultyLen));
  const kinds = [...new Set(intervals.map((i) => i.kind))];
  const perKind = kinds.map((k) => {
    const segs = unionSegments(intervals.filter((i) => i.kind === k));
    return { segs, row: emptyRow(`during ${k}`, length(segs)) };
  });
  for (const op of ops) {
    count(all, op.outcome);
    count(inSegments(faulty, op.start) ? active : healed, op.outcome);
    for (const k of perKind) if (inSegments(k.segs, op.start)) count(k.row, op.outcome);
  }
  const rows = [all];
  if (intervals.length > 0) rows.push(active, healed, ...perKind.map((k) => k.row));
  return rows.map((r) => finish(r, timeUnit));
}

export interface FCountRow {
  f: string;
  ok: number;
  fail: number;
  info: number;
  pending: number;
  total: number;
}

/** Counts by f and outcome (Jepsen's stats checker), f names sorted, plus a total row. */
export function countsByF(ops: readonly ClientOp[]): FCountRow[] {
  const byF = new Map<string, FCountRow>();
  const total: FCountRow = { f: 'all', ok: 0, fail: 0, info: 0, pending: 0, total: 0 };
  for (const op of ops) {
    let row = byF.get(op.f);
    if (row === undefined) byF.set(op.f, (row = { f: op.f, ok: 0, fail: 0, info: 0, pending: 0, total: 0 }));
    for (const r of [row, total]) {
      r[op.outcome]++;
      r.total++;
    }
  }
  return [...[...byF.values()].sort((a, b) => (a.f < b.f ? -1 : a.f > b.f ? 1 : 0)), total];
}

/** Throughput per bucket by outcome: completions per second, bucketed by completion time (Jepsen's rate graph). */
export interface Throughput {
  bucketSec: number;
  /** Bucket start, seconds since the start of the test. */
  t: number[];
  ok: number[];
  fail: number[];
  info: number[];
}

export function throughput(ops: readonly ClientOp[], t0: number, tEnd: number, bucketNs = 1e9): Throughput {
  const n = Math.max(1, Math.ceil((tEnd - t0) / bucketNs));
  const cap = Math.min(n, 100_000); // bound the arrays even for an absurd time span
  const width = (tEnd - t0) / cap > bucketNs ? (tEnd - t0) / cap : bucketNs;
  const out: Throughput = {
    bucketSec: width / 1e9,
    t: Array.from({ length: cap }, (_, i) => (i * width) / 1e9),
    ok: new Array<number>(cap).fill(0),
    fail: new Array<number>(cap).fill(0),
    info: new Array<number>(cap).fill(0),
  };
  for (const op of ops) {
    if (op.end === null || op.outcome === 'pending') continue;
    const b = Math.min(cap - 1, Math.max(0, Math.floor((op.end - t0) / width)));
    out[op.outcome][b]!++;
  }
  // Per second, so a partial last bucket and a wider bucket read the same way.
  const sec = width / 1e9;
  for (const k of ['ok', 'fail', 'info'] as const) out[k] = out[k].map((c) => c / sec);
  return out;
}
