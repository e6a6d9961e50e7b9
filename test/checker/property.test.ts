// Property test: the WGL checker agrees with a brute-force reference checker
// (written here, independently of checker/models) on random small histories
// of both models, with fail and info ops and ops that never complete.
// Histories come from simulating the sequential model with random overlaps
// (always linearizable), then sometimes corrupting a read's result so both
// verdicts occur. fast-check prints the seed and path of any counterexample
// and shrinks it.
import { KEY_NAMES } from './simulate.js';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { checkHistory, type HistoryOp } from '../../checker/index.js';

type ModelKind = 'cas-register' | 'kv';

// ---------- reference checker: enumerate orders respecting real time ----------

interface RefOp {
  f: string;
  input: unknown;
  output: unknown; // undefined: unknown outcome
  invokeAt: number;
  completeAt: number; // Infinity for info / no completion
  mustHappen: boolean; // ok ops must be linearized; info ops may be left out
}

function refStep(model: ModelKind, state: unknown, op: RefOp): { ok: boolean; next: unknown } {
  const eq = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  if (model === 'cas-register') {
    if (op.f === 'read') return { ok: op.output === undefined || eq(state, op.output), next: state };
    if (op.f === 'write') return { ok: true, next: op.input };
    const [a, b] = op.input as [unknown, unknown];
    // An op that happens must succeed; an info cas that did not match is modelled by leaving it out.
    return eq(state, a) ? { ok: true, next: b } : { ok: false, next: state };
  }
  const s = state as string;
  if (op.f === 'get') return { ok: op.output === undefined || s === ((op.output as string | null) ?? ''), next: s };
  if (op.f === 'put') return { ok: true, next: op.input };
  return { ok: true, next: s + (op.input as string) };
}

function refOps(history: readonly HistoryOp[]): Map<string, RefOp[]> {
  const byKey = new Map<string, RefOp[]>();
  const open = new Map<number | string, { op: HistoryOp; at: number }>();
  const out: { inv: HistoryOp; at: number; comp?: HistoryOp; compAt?: number }[] = [];
  history.forEach((o, at) => {
    if (typeof o.process !== 'number') return;
    if (o.type === 'invoke') {
      open.set(o.process, { op: o, at });
      out.push({ inv: o, at });
    } else {
      const rec = out.find((r) => r.inv === open.get(o.process)!.op)!;
      rec.comp = o;
      rec.compAt = at;
      open.delete(o.process);
    }
  });
  for (const r of out) {
    if (r.comp?.type === 'fail') continue;
    const ok = r.comp?.type === 'ok';
    const k = String(r.inv.key ?? '');
    const list = byKey.get(k) ?? [];
    list.push({
      f: r.inv.f,
      input: r.inv.value,
      output: ok ? r.comp!.value : undefined,
      invokeAt: r.at,
      completeAt: ok ? r.compAt! : Infinity,
      mustHappen: ok,
    });
    byKey.set(k, list);
  }
  return byKey;
}

function refKeyLinearizable(model: ModelKind, ops: RefOp[]): boolean {
  const n = ops.length;
  const seen = new Set<string>();
  const dfs = (done: number, skipped: number, state: unknown): boolean => {
    const key = `${done}/${skipped}/${JSON.stringify(state)}`;
    if (seen.has(key)) return false;
    seen.add(key);
    // Finished when every op that must happen has happened.
    if (ops.every((o, i) => !o.mustHappen || (done & (1 << i)) !== 0)) return true;
    for (let i = 0; i < n; i++) {
      if ((done | skipped) & (1 << i)) continue;
      const o = ops[i]!;
      // Real-time order: every op completed before o's invoke must be done (or skipped, if info).
      let minimal = true;
      for (let j = 0; j < n; j++) {
        if (j !== i && !((done | skipped) & (1 << j)) && ops[j]!.completeAt < o.invokeAt) minimal = false;
      }
      if (!minimal) continue;
      const r = refStep(model, state, o);
      if (r.ok && dfs(done | (1 << i), skipped, r.next)) return true;
      // An info op may never happen.
      if (!o.mustHappen && dfs(done, skipped | (1 << i), state)) return true;
    }
    return false;
  };
  return dfs(0, 0, model === 'cas-register' ? null : '');
}

function refLinearizable(model: ModelKind, history: readonly HistoryOp[]): boolean {
  for (const ops of refOps(history).values()) if (!refKeyLinearizable(model, ops)) return false;
  return true;
}

// ---------- generator: simulate the model with random overlaps ----------

interface Action {
  proc: number;
  choice: number; // what the process does next
  f: number;
  v: number;
  key: number;
  corrupt: number;
}

const actionArb = fc.record({
  proc: fc.nat(3),
  choice: fc.nat(9),
  f: fc.nat(2),
  v: fc.nat(2),
  key: fc.nat(1),
  corrupt: fc.nat(11),
});

interface Pending {
  op: HistoryOp;
  fate: 'ok' | 'fail' | 'info-applied' | 'info-skipped';
  applied: boolean;
  result?: unknown;
}

function simulate(model: ModelKind, actions: Action[], maxOps: number): { history: HistoryOp[]; corrupted: boolean } {
  const history: HistoryOp[] = [];
  const state = new Map<string, unknown>();
  const pending = new Map<number, Pending>();
  const procId = [0, 1, 2, 3]; // a process retired after info is replaced by a fresh id
  let invoked = 0;
  let corrupted = false;
  const emit = (o: Omit<HistoryOp, 'index' | 'line'>): HistoryOp => {
    const op: HistoryOp = { ...o, index: history.length, line: history.length + 1 };
    history.push(op);
    return op;
  };
  const fsOf = model === 'cas-register' ? ['read', 'write', 'cas'] : ['get', 'put', 'append'];
  for (const a of actions) {
    const p = procId[a.proc]!;
    const cur = pending.get(p);
    if (cur === undefined) {
      if (invoked >= maxOps) continue;
      invoked++;
      const f = fsOf[a.f]!;
      const key = KEY_NAMES[a.key]!;
      const value =
        f === 'read' || f === 'get' ? null : f === 'cas' ? [a.v === 0 ? null : a.v - 1, a.v + 1] : model === 'kv' ? 'abc'[a.v]! : a.v;
      const fate = a.choice === 0 ? 'fail' : a.choice === 1 ? 'info-applied' : a.choice === 2 ? 'info-skipped' : 'ok';
      pending.set(p, { op: emit({ process: p, type: 'invoke', f, key, value }), fate, applied: false });
      continue;
    }
    const key = String(cur.op.key);
    if (!cur.applied && cur.fate !== 'fail' && cur.fate !== 'info-skipped') {
      // The op takes effect now (its linearization point).
      const s = state.get(key) ?? (model === 'cas-register' ? null : '');
      const f = cur.op.f;
      if (f === 'read' || f === 'get') cur.result = s;
      else if (f === 'write' || f === 'put') state.set(key, cur.op.value);
      else if (f === 'append') state.set(key, (s as string) + (cur.op.value as string));
      else {
        const [exp, nv] = cur.op.value as [unknown, unknown];
        if (s === exp) state.set(key, nv);
        else if (cur.fate === 'ok') cur.fate = 'fail'; // a cas that did not match fails
      }
      cur.applied = true;
      if (a.choice < 8) continue; // usually leave a gap before the completion
    }
    const base = { process: p, f: cur.op.f, key: cur.op.key! };
    if (cur.fate === 'ok') {
      let value = cur.result !== undefined ? cur.result : cur.op.value;
      if ((cur.op.f === 'read' || cur.op.f === 'get') && a.corrupt < 5) {
        value = model === 'kv' ? ((value as string) + 'x').slice(1) : ((value as number | null) ?? 0) + 1;
        corrupted = true;
      }
      emit({ ...base, type: 'ok', value });
    } else if (cur.fate === 'fail') {
      emit({ ...base, type: 'fail', value: cur.op.value });
    } else {
      if (a.choice % 2 === 0) emit({ ...base, type: 'info', value: cur.op.value }); // else: never completes
      procId[a.proc]! += 4;
    }
    pending.delete(p);
  }
  return { history, corrupted };
}

// ---------- the properties ----------

describe('WGL agrees with a brute-force reference', () => {
  for (const model of ['cas-register', 'kv'] as const) {
    test(`${model}: random histories`, () => {
      let valid = 0;
      let invalid = 0;
      fc.assert(
        fc.property(fc.array(actionArb, { minLength: 12, maxLength: 40 }), (actions) => {
          const { history, corrupted } = simulate(model, actions, 9);
          const expected = refLinearizable(model, history);
          if (!corrupted) expect(expected).toBe(true); // a simulated run is linearizable by construction
          const r = checkHistory(history, { model, allKeys: true });
          expect(r.valid).toBe(expected);
          if (expected) valid++;
          else {
            invalid++;
            const ce = r.keys[r.failures[0]!]!.counterexample!;
            expect(ce.candidates.some((c) => c.op.invoke === ce.op.invoke)).toBe(true);
          }
        }),
        { numRuns: 400 },
      );
      // Both verdicts must actually have been exercised.
      console.log(`${model}: ${valid} linearizable, ${invalid} not`);
      expect(valid).toBeGreaterThan(20);
      expect(invalid).toBeGreaterThan(20);
    });
  }
});
