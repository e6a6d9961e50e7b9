// Synthetic histories for the report tests: a linearizable cas-register
// store simulated with real-time intervals (each op takes effect at a point
// between its invoke and its completion), with fault intervals from a
// nemesis, failed and unknown (info) ops, and optionally one corrupted read
// that makes a key non-linearizable. Deterministic from `seed`.
import type { HistoryOp } from '../../checker/types.js';

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface SynthOptions {
  seed: number;
  ops: number;
  processes: number;
  keys: number;
  /** Mean time between a process's ops, ms. */
  gapMs?: number;
  faults?: boolean;
  /** Change one read's result so that its key is not linearizable. */
  corrupt?: boolean;
}

interface Rec {
  process: number;
  f: 'read' | 'write' | 'cas';
  key: number;
  input: unknown;
  output: unknown;
  invokeNs: number;
  linNs: number;
  doneNs: number;
  outcome: 'ok' | 'fail' | 'info';
  applies: boolean;
  error?: string;
}

export interface Synth {
  history: HistoryOp[];
  /** Index of the corrupted read's invoke, when `corrupt`. */
  corruptedInvokeIndex: number | null;
  corruptedKey: string | null;
  faultWindows: [number, number][];
}

export function synthHistory(o: SynthOptions): Synth {
  const rnd = mulberry32(o.seed);
  const gapNs = (o.gapMs ?? 4) * 1e6;
  const perProc = Math.ceil(o.ops / o.processes);
  const approxEndNs = perProc * (gapNs / 2 + 1.6e6);
  const faultWindows: [number, number][] = [];
  if (o.faults === true) {
    for (let t = approxEndNs * 0.15; t < approxEndNs * 0.9; t += approxEndNs * 0.3) faultWindows.push([t, t + approxEndNs * 0.12]);
  }
  const inFault = (t: number): boolean => faultWindows.some(([a, b]) => t >= a && t <= b);
  const recs: Rec[] = [];
  for (let p0 = 0; p0 < o.processes; p0++) {
    let p = p0;
    let t = rnd() * gapNs;
    for (let i = 0; i < perProc && recs.length < o.ops; i++) {
      const faulty = inFault(t);
      const lat = (0.2 + rnd() * (faulty ? 8 : 2.5)) * 1e6;
      const r = rnd();
      const f: Rec['f'] = r < 0.5 ? 'read' : r < 0.8 ? 'write' : 'cas';
      const key = Math.floor(rnd() * o.keys);
      const x = rnd();
      const outcome: Rec['outcome'] = faulty
        ? x < 0.25
          ? 'fail'
          : x < 0.33
            ? 'info'
            : 'ok'
        : x < 0.01
          ? 'fail'
          : x < 0.012
            ? 'info'
            : 'ok';
      const input = f === 'read' ? null : f === 'write' ? Math.floor(rnd() * 5) : [Math.floor(rnd() * 5), Math.floor(rnd() * 5)];
      const rec: Rec = {
        process: p,
        f,
        key,
        input,
        output: undefined,
        invokeNs: t,
        linNs: t + rnd() * lat,
        doneNs: t + lat,
        outcome,
        applies: outcome === 'ok' || (outcome === 'info' && rnd() < 0.5),
      };
      if (outcome === 'fail') rec.error = 'timeout';
      if (outcome === 'info') rec.error = 'indeterminate: no reply';
      recs.push(rec);
      t = rec.doneNs + rnd() * gapNs;
      if (outcome === 'info') p += o.processes; // Jepsen: after info, process p becomes p + concurrency
    }
  }
  // Apply effects in linearization order.
  const state = new Map<number, unknown>();
  for (const r of [...recs].sort((a, b) => a.linNs - b.linNs)) {
    if (!r.applies) continue;
    const cur = state.has(r.key) ? state.get(r.key) : null;
    if (r.f === 'read') r.output = cur;
    else if (r.f === 'write') {
      state.set(r.key, r.input);
      r.output = r.input;
    } else {
      const [a, b] = r.input as [number, number];
      if (cur === a) {
        state.set(r.key, b);
        r.output = r.input;
      } else if (r.outcome === 'ok') {
        r.outcome = 'fail';
        r.error = 'cas mismatch';
      }
    }
  }
  let corruptedRec: Rec | null = null;
  if (o.corrupt === true) {
    const reads = recs.filter((r) => r.f === 'read' && r.outcome === 'ok').sort((a, b) => a.invokeNs - b.invokeNs);
    corruptedRec = reads[Math.floor(reads.length / 2)] ?? null;
    if (corruptedRec !== null) corruptedRec.output = 777; // never written
  }
  // Events in time order.
  type Ev = { t: number; seq: number; op: Omit<HistoryOp, 'index'>; rec?: Rec; invoke?: boolean };
  const evs: Ev[] = [];
  let seq = 0;
  for (const r of recs) {
    evs.push({
      t: r.invokeNs,
      seq: seq++,
      op: { time: 0, process: r.process, type: 'invoke', f: r.f, key: r.key, value: r.input },
      rec: r,
      invoke: true,
    });
    const done: Omit<HistoryOp, 'index'> = {
      time: 0,
      process: r.process,
      type: r.outcome,
      f: r.f,
      key: r.key,
      value: r.outcome === 'ok' ? (r.f === 'read' ? r.output : r.input) : r.input,
    };
    if (r.error !== undefined) done.error = r.error;
    evs.push({ t: r.doneNs, seq: seq++, op: done });
  }
  faultWindows.forEach(([a, b], i) => {
    const nodes = { nodes: [`n${(i % 5) + 1}`] };
    if (i % 2 === 0) {
      evs.push({ t: a, seq: seq++, op: { time: 0, process: 'nemesis', type: 'invoke', f: 'start-partition', value: null } });
      evs.push({
        t: a + 1e5,
        seq: seq++,
        op: { time: 0, process: 'nemesis', type: 'info', f: 'start-partition', value: { isolated: nodes.nodes } },
      });
      evs.push({ t: b, seq: seq++, op: { time: 0, process: 'nemesis', type: 'invoke', f: 'stop-partition', value: null } });
      evs.push({ t: b + 1e5, seq: seq++, op: { time: 0, process: 'nemesis', type: 'info', f: 'stop-partition', value: null } });
    } else {
      evs.push({ t: a, seq: seq++, op: { time: 0, process: 'nemesis', type: 'info', f: 'kill', value: nodes } });
      evs.push({ t: b, seq: seq++, op: { time: 0, process: 'nemesis', type: 'info', f: 'start', value: nodes } });
    }
  });
  evs.sort((a, b) => a.t - b.t || a.seq - b.seq);
  let corruptedInvokeIndex: number | null = null;
  const history: HistoryOp[] = evs.map((e, index) => {
    if (e.invoke === true && e.rec === corruptedRec) corruptedInvokeIndex = index;
    return { index, ...e.op, time: Math.round(e.t) };
  });
  return {
    history,
    corruptedInvokeIndex,
    corruptedKey: corruptedRec === null ? null : String(corruptedRec.key),
    faultWindows,
  };
}
