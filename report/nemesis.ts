// Fault intervals from the nemesis's ops, for shading the timeline and the
// charts and for splitting availability by phase (Jepsen's perf graphs shade
// nemesis activity the same way). A fault op may be logged as an invoke+info
// pair or as a single info line; both count once.
//
// What an op's f means comes from the run's nemesis catalogue when it has one
// (a rift run writes its harness's table of fault kinds into test.json: faults
// are data, and report/ may not import the harness), else from generic rules
// that also read Jepsen's histories: a start-X is paired with the next stop-X
// (or the end of the history), kill with start, pause with resume, any
// clock-* with reset-clock.
import type { HistoryOp } from '../checker/types.js';
import { isClient, timeOf } from './ops.js';

export interface FaultInterval {
  /** Fault family: partition, kill, pause, clock, loss, delay, duplicate, fault (Jepsen's bare start/stop)... */
  kind: string;
  /** What the report calls it: the catalogue's label, else the kind. */
  label: string;
  /** The f that opened it, e.g. `start-partition`. */
  startF: string;
  /** The f that closed it, or null when the history ended first. */
  stopF: string | null;
  start: number;
  end: number;
  /** True when no stop was seen: the interval runs to the end of the history. */
  open: boolean;
  /** Index of the op that opened it and of the one that closed it. */
  startIndex: number;
  endIndex: number | null;
  /** What the nemesis did: the value of each start op folded into this interval. */
  values: unknown[];
}

/** A nemesis op that neither opens nor closes an interval (an unpaired stop, an unknown f). */
export interface NemesisMarker {
  f: string;
  time: number;
  index: number;
  value: unknown;
}

export interface NemesisTimeline {
  intervals: FaultInterval[];
  markers: NemesisMarker[];
}

/**
 * One fault kind of the tool that wrote the history (Jepsen's perf specs:
 * name, start fs, stop f): the harness's kinds, as data.
 */
export interface NemesisCatalogueEntry {
  readonly kind: string;
  readonly label: string;
  readonly startFs: readonly string[];
  readonly stopF: string;
}

export type NemesisCatalogue = readonly NemesisCatalogueEntry[];

/** A catalogue read from JSON (test.json's `nemesisCatalogue`), or null when absent or malformed. */
export function readNemesisCatalogue(value: unknown): NemesisCatalogue | null {
  if (!Array.isArray(value) || value.length === 0) return null;
  const out: NemesisCatalogueEntry[] = [];
  const isString = (x: unknown): x is string => typeof x === 'string' && x !== '';
  for (const e of value as unknown[]) {
    if (typeof e !== 'object' || e === null) return null;
    const { kind, label, startFs, stopF } = e as Record<string, unknown>;
    if (
      !isString(kind) ||
      !isString(label) ||
      !isString(stopF) ||
      !Array.isArray(startFs) ||
      startFs.length === 0 ||
      !startFs.every(isString)
    )
      return null;
    out.push({ kind, label, startFs: [...startFs], stopF });
  }
  return out;
}

type Role = { kind: string; role: 'start' | 'stop' } | { kind: '*'; role: 'heal' };

/**
 * Which interval an f opens or closes. `open` tells whether a kill is open
 * (f `start` then means restart). With a catalogue, its fs mean what it says
 * (a `start` is always a restart there); other fs fall to the generic rules.
 */
export function classifyNemesisF(f: string, open: ReadonlySet<string>, catalogue?: NemesisCatalogue | null): Role | null {
  const entry = catalogueRole(f, catalogue);
  if (entry !== null) return entry;
  switch (f) {
    case 'kill':
      return { kind: 'kill', role: 'start' };
    case 'start':
      // Our harness: kill → start (restart). Jepsen's classic partitioner: start → stop.
      return open.has('kill') ? { kind: 'kill', role: 'stop' } : { kind: 'fault', role: 'start' };
    case 'stop':
      return { kind: 'fault', role: 'stop' };
    case 'pause':
      return { kind: 'pause', role: 'start' };
    case 'resume':
      return { kind: 'pause', role: 'stop' };
    case 'reset-clock':
    case 'clock-reset':
      return { kind: 'clock', role: 'stop' };
    case 'heal':
    case 'stop-all':
      return { kind: '*', role: 'heal' };
    default:
      break;
  }
  if (f.startsWith('clock-')) return { kind: 'clock', role: 'start' };
  const m = /^(start|stop)-(.+)$/.exec(f);
  if (m !== null) return { kind: m[2]!, role: m[1] as 'start' | 'stop' };
  return null;
}

function catalogueRole(f: string, catalogue: NemesisCatalogue | null | undefined): Role | null {
  if (catalogue === undefined || catalogue === null) return null;
  for (const e of catalogue) {
    if (e.startFs.includes(f)) return { kind: e.kind, role: 'start' };
    if (e.stopF === f) return { kind: e.kind, role: 'stop' };
  }
  return null;
}

/**
 * Pairs the nemesis's ops into fault intervals. `timeUnit` must be the one
 * the client ops use; `tEnd` closes intervals left open; `catalogue` is the
 * run's own account of its fault kinds, when it has one.
 */
export function nemesisIntervals(
  history: readonly HistoryOp[],
  timeUnit: 'ns' | 'index',
  tEnd: number,
  catalogue?: NemesisCatalogue | null,
): NemesisTimeline {
  const intervals: FaultInterval[] = [];
  const markers: NemesisMarker[] = [];
  const openByKind = new Map<string, FaultInterval>();
  // An invoke waiting for its info, per (process, f): the pair is one event
  // that starts at the invoke (the fault may already be in effect) and, for
  // a stop, ends at the completion (it may be in effect until then).
  const pendingInvoke = new Map<string, HistoryOp>();

  // Old Jepsen nemeses log both halves of an op as `info` lines (the first
  // with a nil value): a stop right after the stop that closed an interval
  // is that same stop, so it extends the interval instead of standing alone.
  // A catalogued f is not: that tool logs each op once (an invoke and its
  // info), and a second stop is a second op (e.g. the final heal's).
  let justClosed: FaultInterval | null = null;
  const labels = new Map((catalogue ?? []).map((e) => [e.kind, e.label]));
  const catalogued = new Set((catalogue ?? []).flatMap((e) => [...e.startFs, e.stopF]));

  const apply = (f: string, first: HistoryOp, last: HistoryOp): void => {
    const role = classifyNemesisF(f, new Set(openByKind.keys()), catalogue);
    const value = last.value ?? first.value;
    const prevClosed = justClosed;
    justClosed = null;
    if (
      role !== null &&
      role.role === 'stop' &&
      prevClosed !== null &&
      !catalogued.has(f) &&
      prevClosed.kind === role.kind &&
      prevClosed.stopF === f &&
      !openByKind.has(role.kind)
    ) {
      prevClosed.end = Math.max(prevClosed.end, timeOf(last, timeUnit));
      prevClosed.endIndex = last.index;
      justClosed = prevClosed;
      return;
    }
    if (role === null) {
      markers.push({ f, time: timeOf(first, timeUnit), index: first.index, value });
      return;
    }
    if (role.role === 'heal') {
      for (const iv of openByKind.values()) close(iv, f, last);
      openByKind.clear();
      return;
    }
    const cur = openByKind.get(role.kind);
    if (role.role === 'start') {
      if (cur !== undefined) {
        if (value !== null && value !== undefined) cur.values.push(value); // a second start of an active fault extends it
        return;
      }
      const iv: FaultInterval = {
        kind: role.kind,
        label: labels.get(role.kind) ?? role.kind,
        startF: f,
        stopF: null,
        start: timeOf(first, timeUnit),
        end: tEnd,
        open: true,
        startIndex: first.index,
        endIndex: null,
        values: value === null || value === undefined ? [] : [value],
      };
      openByKind.set(role.kind, iv);
      intervals.push(iv);
      return;
    }
    if (cur === undefined) {
      markers.push({ f, time: timeOf(first, timeUnit), index: first.index, value });
      return;
    }
    close(cur, f, last);
    openByKind.delete(role.kind);
    justClosed = cur;
  };

  const close = (iv: FaultInterval, f: string, last: HistoryOp): void => {
    iv.stopF = f;
    iv.end = Math.max(iv.start, timeOf(last, timeUnit));
    iv.open = false;
    iv.endIndex = last.index;
  };

  for (const o of history) {
    if (isClient(o)) continue;
    const slot = `${String(o.process)}\u0000${o.f}`;
    if (o.type === 'invoke') {
      const prev = pendingInvoke.get(slot);
      if (prev !== undefined) apply(prev.f, prev, prev); // an invoke that never completed still happened
      pendingInvoke.set(slot, o);
      continue;
    }
    const inv = pendingInvoke.get(slot);
    pendingInvoke.delete(slot);
    apply(o.f, inv ?? o, o);
  }
  const leftovers = [...pendingInvoke.values()].sort((a, b) => a.index - b.index);
  for (const inv of leftovers) apply(inv.f, inv, inv);
  intervals.sort((a, b) => a.start - b.start || a.startIndex - b.startIndex);
  return { intervals, markers };
}

/** The union of the intervals as disjoint, sorted [start, end] segments. */
export function unionSegments(intervals: readonly { start: number; end: number }[]): [number, number][] {
  const sorted = [...intervals].sort((a, b) => a.start - b.start);
  const out: [number, number][] = [];
  for (const iv of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && iv.start <= last[1]) last[1] = Math.max(last[1], iv.end);
    else out.push([iv.start, iv.end]);
  }
  return out;
}

/** Whether `t` lies in one of the disjoint sorted segments (binary search). */
export function inSegments(segments: readonly [number, number][], t: number): boolean {
  let lo = 0;
  let hi = segments.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const s = segments[mid]!;
    if (t < s[0]) hi = mid - 1;
    else if (t > s[1]) lo = mid + 1;
    else return true;
  }
  return false;
}
