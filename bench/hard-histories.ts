// Generators of the hard history families of issue 17 (each deterministic
// from its seed). A family is a simulation of overlapping clients on one key:
// every op gets an invoke time, a duration and a moment inside its interval
// where it takes effect (writes late, reads early, as the issue asks); the
// model is applied in the order of those moments, so the history is
// linearizable by construction unless a fault is injected on purpose (a stale
// read, a lost append). An op whose outcome is lost (`info`) retires its
// process, as in Jepsen; it takes effect or not at random, and its
// completion line is written or left out at random (both mean the same).
import type { HistoryOp } from '../checker/index.js';

/** Deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Fault = 'none' | 'stale-read' | 'lost-append';

export interface FamilyParams {
  model: 'cas-register' | 'kv';
  ops: number;
  processes: number;
  /** Shares of reads / writes (put for kv: unused) / cas (register) or appends (kv); normalised. */
  mix: { read: number; write: number; cas: number };
  /** Share of writes/cas/appends whose outcome is lost (info). */
  infoRate: number;
  /** Share of reads whose outcome is lost (reads that time out). */
  readInfoRate?: number;
  /** Distinct values written (0: every write a fresh value / token). */
  values: number;
  /** Op duration in time units: uniform in [min, max]. */
  durationMin: number;
  durationMax: number;
  /** Think time between a process's ops: uniform in [0, think]. */
  think: number;
  fault: Fault;
  seed: number;
}

interface SimOp {
  process: number;
  f: string;
  input: unknown;
  output: unknown;
  invokeAt: number;
  effectAt: number;
  returnAt: number;
  /** 'ok' | 'fail' | 'info' (info: completion written) | 'pending' (no completion line). */
  fate: 'ok' | 'fail' | 'info' | 'pending';
  /** Takes effect (false for info ops that never happen and lost appends). */
  applied: boolean;
}

/** Simulates one key's history; see the file comment. */
export function generateFamily(p: FamilyParams): HistoryOp[] {
  const rand = rng(p.seed);
  const total = p.mix.read + p.mix.write + p.mix.cas;
  let fresh = 1;
  const value = (): number | string => {
    if (p.model === 'kv') return p.values === 0 ? `x${fresh++} ` : 'abcdefghij'[Math.floor(rand() * p.values)]!;
    return p.values === 0 ? fresh++ : Math.floor(rand() * p.values);
  };
  // 1. Plan ops per process on a timeline.
  const ops: SimOp[] = [];
  const nextFree: number[] = Array.from({ length: p.processes }, () => rand() * p.think);
  const procId: number[] = Array.from({ length: p.processes }, (_, i) => i);
  let nextProc = p.processes;
  for (let i = 0; i < p.ops; i++) {
    // The thread that is free first issues the next op.
    let t = 0;
    for (let j = 1; j < p.processes; j++) if (nextFree[j]! < nextFree[t]!) t = j;
    const invokeAt = nextFree[t]!;
    const duration = p.durationMin + rand() * (p.durationMax - p.durationMin);
    const returnAt = invokeAt + duration;
    const x = rand() * total;
    const kind = x < p.mix.read ? 'read' : x < p.mix.read + p.mix.write ? 'write' : 'cas';
    const isRead = kind === 'read';
    // Reads take effect early in their interval, writes late.
    const effectAt = invokeAt + duration * (isRead ? rand() * 0.3 : 0.7 + rand() * 0.3);
    const f = p.model === 'kv' ? (isRead ? 'get' : kind === 'write' ? 'put' : 'append') : kind;
    const lost = isRead ? rand() < (p.readInfoRate ?? 0) : rand() < p.infoRate;
    const fate: SimOp['fate'] = lost ? (rand() < 0.5 ? 'info' : 'pending') : 'ok';
    ops.push({
      process: procId[t]!,
      f,
      input: isRead ? null : kind === 'cas' && p.model === 'cas-register' ? [null, value()] : value(),
      output: undefined,
      invokeAt,
      effectAt,
      returnAt,
      fate,
      applied: !lost || rand() < 0.5,
    });
    nextFree[t] = returnAt + rand() * p.think;
    if (lost) procId[t] = nextProc++;
  }
  // 2. Apply in effect order; cas expects the current value half of the time.
  const byEffect = [...ops].sort((a, b) => a.effectAt - b.effectAt);
  let state: unknown = p.model === 'kv' ? '' : null;
  const recent: unknown[] = [];
  for (const o of byEffect) {
    if (o.f === 'cas') {
      const expected = rand() < 0.5 || recent.length === 0 ? state : recent[Math.floor(rand() * recent.length)];
      o.input = [expected, (o.input as unknown[])[1]];
    }
    if (!o.applied) continue;
    switch (o.f) {
      case 'read':
      case 'get':
        o.output = state;
        break;
      case 'write':
      case 'put':
        state = o.input;
        break;
      case 'append':
        state = (state as string) + (o.input as string);
        break;
      case 'cas': {
        const [a, b] = o.input as [unknown, unknown];
        if (a === state) state = b;
        else if (o.fate === 'ok') o.fate = 'fail';
        break;
      }
    }
    recent.push(state);
    if (recent.length > 5) recent.shift();
  }
  injectFault(p, ops, rand);
  // 3. Emit invoke and completion lines in time order.
  const lines: { at: number; op: SimOp; invoke: boolean }[] = [];
  for (const o of ops) {
    lines.push({ at: o.invokeAt, op: o, invoke: true });
    if (o.fate !== 'pending') lines.push({ at: o.returnAt, op: o, invoke: false });
  }
  lines.sort((a, b) => a.at - b.at || (a.invoke ? 1 : 0) - (b.invoke ? 1 : 0));
  return lines.map(({ op, invoke }, index): HistoryOp => {
    const isRead = op.f === 'read' || op.f === 'get';
    if (invoke) return { index, process: op.process, type: 'invoke', f: op.f, value: isRead ? null : op.input };
    const type = op.fate === 'pending' ? 'info' : op.fate;
    return { index, process: op.process, type, f: op.f, value: isRead ? (type === 'ok' ? op.output : null) : op.input };
  });
}

/**
 * Makes the history not linearizable in one place.
 * - stale-read: a read (ok) late in the history returns a value that an op
 *   completed before the read was invoked had already overwritten, and that
 *   was never written again.
 * - lost-append: an ok append far from the end is dropped from every get
 *   that took effect after it (the service acknowledged it and lost it).
 */
function injectFault(p: FamilyParams, ops: SimOp[], rand: () => number): void {
  if (p.fault === 'none') return;
  if (p.fault === 'stale-read') {
    // Candidates: ok reads invoked after some other value's write completed.
    const reads = ops.filter((o) => o.f === 'read' && o.fate === 'ok');
    const writes = ops.filter((o) => (o.f === 'write' || (o.f === 'cas' && o.fate === 'ok')) && o.fate === 'ok' && o.applied);
    for (let attempt = 0; attempt < 1000; attempt++) {
      const r = reads[Math.floor(reads.length * (0.5 + rand() * 0.5))]!;
      // An overwritten value: written by w1, then w2 (another value) completed before r's invoke.
      const before = writes.filter((w) => w.returnAt < r.invokeAt);
      if (before.length < 3) continue;
      const w1 = before[Math.floor(rand() * (before.length - 2))]!;
      const v = w1.f === 'cas' ? (w1.input as unknown[])[1] : w1.input;
      const rewritten = ops.some(
        (o) => o !== w1 && (o.f === 'write' ? o.input === v : o.f === 'cas' && (o.input as unknown[])[1] === v) && o.invokeAt > w1.returnAt,
      );
      const overwritten = writes.some(
        (w2) => w2.invokeAt > w1.returnAt && w2.returnAt < r.invokeAt && (w2.f === 'cas' ? (w2.input as unknown[])[1] : w2.input) !== v,
      );
      if (rewritten || !overwritten || r.output === v) continue;
      r.output = v;
      return;
    }
    throw new Error('stale-read: no place to inject (history too small)');
  }
  // lost-append
  const appends = ops.filter((o) => o.f === 'append' && o.fate === 'ok');
  const x = appends[Math.floor(appends.length * (0.3 + rand() * 0.3))]!;
  const token = x.input as string;
  let hit = false;
  for (const o of ops) {
    if (o.f === 'get' && o.output !== undefined && o.effectAt > x.effectAt) {
      const s = o.output as string;
      const i = s.indexOf(token);
      if (i >= 0) {
        o.output = s.slice(0, i) + s.slice(i + token.length);
        if (o.invokeAt > x.returnAt && o.fate === 'ok') hit = true;
      }
    }
  }
  if (!hit) throw new Error('lost-append: no get after the lost append (history too small)');
}

/** One named instance of a family, as the bench and the tests run them. */
export interface FamilyCase {
  name: string;
  family: string;
  params: FamilyParams;
  expected: 'valid' | 'invalid';
}

const base = { model: 'cas-register', infoRate: 0, values: 0, durationMin: 1, durationMax: 3, think: 0.2, fault: 'none' } as const;

/**
 * The families of issue 17, at the sizes it names. `scale` < 1 shrinks op
 * counts (tests use it to stay quick); processes and in-flight stay.
 */
export function hardFamilies(seed: number, scale = 1): FamilyCase[] {
  const n = (ops: number): number => Math.max(60, Math.round(ops * scale));
  const cases: FamilyCase[] = [];
  const add = (name: string, family: string, params: Omit<FamilyParams, 'seed'>, expected: 'valid' | 'invalid'): void => {
    cases.push({ name, family, params: { ...params, seed: seed + cases.length }, expected });
  };
  for (const processes of [8, 20, 50]) {
    add(
      `register-late-${processes}p`,
      'register: writes late, reads early, 2% info',
      { ...base, ops: n(processes === 50 ? 5000 : 2000), processes, mix: { read: 50, write: 40, cas: 10 }, infoRate: 0.02 },
      'valid',
    );
  }
  // Jepsen's lin-kv draws values from 0-4: the same, with 5 values.
  add(
    'register-late-50p-5-values',
    'register: writes late, reads early, 2% info, 5 values',
    { ...base, ops: n(5000), processes: 50, mix: { read: 50, write: 40, cas: 10 }, infoRate: 0.02, values: 5 },
    'valid',
  );
  add(
    'info-storm-unique',
    'info storm: 30% of writes/cas lost, unique values',
    { ...base, ops: n(2000), processes: 20, mix: { read: 40, write: 40, cas: 20 }, infoRate: 0.3 },
    'valid',
  );
  add(
    'info-storm-5-values',
    'info storm: 30% of writes/cas lost, 5 values',
    { ...base, ops: n(2000), processes: 20, mix: { read: 40, write: 40, cas: 20 }, infoRate: 0.3, values: 5 },
    'valid',
  );
  add(
    'cas-3-values-50p',
    'cas-heavy on 3 values, 50 processes',
    { ...base, ops: n(2000), processes: 50, mix: { read: 20, write: 10, cas: 70 }, values: 3 },
    'valid',
  );
  add(
    'kv-append-48-in-flight',
    'kv appends, ~48 in flight between rare gets',
    { ...base, model: 'kv', ops: n(3000), processes: 50, mix: { read: 4, write: 0, cas: 96 } },
    'valid',
  );
  add(
    'kv-append-2-tokens-info',
    'kv appends of 2 tokens, 10% info',
    { ...base, model: 'kv', ops: n(1000), processes: 20, mix: { read: 10, write: 0, cas: 90 }, values: 2, infoRate: 0.1 },
    'valid',
  );
  add(
    'read-heavy-long-5000',
    'read-heavy, very long intervals',
    { ...base, ops: n(5000), processes: 50, mix: { read: 90, write: 10, cas: 0 }, durationMin: 1, durationMax: 20, think: 0.1 },
    'valid',
  );
  add(
    'stale-read-50p',
    'one stale read, 50 processes',
    { ...base, ops: n(2000), processes: 50, mix: { read: 50, write: 40, cas: 10 }, fault: 'stale-read' },
    'invalid',
  );
  add(
    'lost-append-50p',
    'one lost append, 50 processes',
    { ...base, model: 'kv', ops: n(2000), processes: 50, mix: { read: 10, write: 0, cas: 90 }, fault: 'lost-append' },
    'invalid',
  );
  for (const [processes, ops] of [
    [2, 95],
    [4, 85],
    [7, 76],
  ] as const) {
    add(
      `kv-short-info-${processes}p`,
      'short kv appends, 30% info (unique tokens)',
      { ...base, model: 'kv', ops, processes, mix: { read: 30, write: 0, cas: 70 }, readInfoRate: 0.3, infoRate: 0.3 },
      'valid',
    );
    add(
      `kv-short-info-abc-${processes}p`,
      'short kv appends, 30% info (tokens a, b, c)',
      { ...base, model: 'kv', ops, processes, mix: { read: 30, write: 0, cas: 70 }, readInfoRate: 0.3, infoRate: 0.3, values: 3 },
      'valid',
    );
  }
  return cases;
}

/** Peak number of ops in flight (info ops count until the end) and the info share. */
export function historyShape(ops: readonly HistoryOp[]): { inFlight: number; infoShare: number; clientOps: number } {
  let open = 0;
  let peak = 0;
  let invokes = 0;
  let info = 0;
  const pending = new Map<number | string, HistoryOp>();
  for (const o of ops) {
    if (typeof o.process !== 'number') continue;
    if (o.type === 'invoke') {
      invokes++;
      open++;
      pending.set(o.process, o);
      peak = Math.max(peak, open);
    } else {
      pending.delete(o.process);
      if (o.type === 'info') info++;
      else open--;
    }
  }
  info += pending.size;
  return { inFlight: peak, infoShare: invokes === 0 ? 0 : info / invokes, clientOps: invokes };
}
