// Small random histories for the differential tests: processes run a model
// (cas-register or kv) with random overlaps, each op taking effect at a
// random moment between its invoke and its completion, so a history is
// linearizable by construction unless a fault is drawn: a read that returns
// a wrong (often stale) value, or an acknowledged write whose effect is lost.
// Ops may fail (did not happen) or end `info` / without completion (may or
// may not have happened; the process retires, as in Jepsen).
import fc from 'fast-check';
import type { HistoryOp } from '../../checker/index.js';

/**
 * The keys histories use, by number: names of Object.prototype among them, since a history's keys are any string
 * (results for the key `__proto__` were once lost from the verdict: checker/types.ts keyedRecord).
 */
export const KEY_NAMES = ['k0', '__proto__', 'constructor', 'k3'] as const;

export type SimModel = 'cas-register' | 'kv';

export interface Shape {
  model: SimModel;
  /** 0: every written value / appended token is fresh; else the number of distinct values. */
  values: number;
  /** Share of cas (register) or put (kv) among the writes, in [0, 1]. */
  casShare: number;
  keys: number;
}

export interface Action {
  proc: number;
  /** What the process does next: 0 fail, 1 info and applied, 2 info not applied, 3 never completes, 4+ ok. */
  fate: number;
  kind: number;
  v: number;
  /** 0: a fault on this op (a wrong read value, a lost write), else none. */
  fault: number;
  pick: number;
  key: number;
  gap: boolean;
}

export const actionArb: fc.Arbitrary<Action> = fc.record({
  proc: fc.nat(4),
  fate: fc.nat(12),
  kind: fc.nat(9),
  v: fc.nat(5),
  fault: fc.nat(14),
  pick: fc.nat(1000),
  key: fc.nat(3),
  gap: fc.boolean(),
});

interface Pending {
  op: HistoryOp;
  fate: 'ok' | 'fail' | 'info-applied' | 'info-skipped' | 'none-applied' | 'none-skipped';
  applied: boolean;
  lost: boolean;
  wrongRead: boolean;
  result?: unknown;
}

/** Builds a history from actions; `processes` ≤ 5. `faulty` says whether a fault was drawn. */
export function simulate(
  shape: Shape,
  actions: readonly Action[],
  processes: number,
  maxOps: number,
): { history: HistoryOp[]; faulty: boolean } {
  const history: HistoryOp[] = [];
  const state = new Map<string, unknown>();
  const written = new Map<string, unknown[]>();
  const pending = new Map<number, Pending>();
  const procId = Array.from({ length: processes }, (_, i) => i);
  let fresh = 1;
  let invoked = 0;
  let faulty = false;
  const emit = (o: Omit<HistoryOp, 'index' | 'line'>): HistoryOp => {
    const op: HistoryOp = { ...o, index: history.length, line: history.length + 1 };
    history.push(op);
    return op;
  };
  const init = shape.model === 'cas-register' ? null : '';
  const value = (a: Action): unknown => {
    if (shape.model === 'kv') return shape.values === 0 ? `t${fresh++};` : 'abcdef'[a.v % shape.values]!;
    return shape.values === 0 ? fresh++ : a.v % shape.values;
  };
  for (const a of actions) {
    const slot = a.proc % processes;
    const p = procId[slot]!;
    const cur = pending.get(p);
    const key = KEY_NAMES[a.key % shape.keys]!;
    if (cur === undefined) {
      if (invoked >= maxOps) continue;
      invoked++;
      const isRead = a.kind < 4;
      const isCasOrPut = !isRead && a.pick / 1000 < shape.casShare;
      let f: string;
      let v: unknown;
      if (shape.model === 'cas-register') {
        f = isRead ? 'read' : isCasOrPut ? 'cas' : 'write';
        if (f === 'cas') {
          const seen = written.get(key) ?? [];
          const expected = a.v % 2 === 0 ? (state.get(key) ?? init) : seen.length > 0 ? seen[a.pick % seen.length] : init;
          v = [expected, value(a)];
        } else v = f === 'write' ? value(a) : null;
      } else {
        f = isRead ? 'get' : isCasOrPut ? 'put' : 'append';
        v = isRead ? null : value(a);
      }
      const fate =
        a.fate === 0
          ? 'fail'
          : a.fate === 1
            ? 'info-applied'
            : a.fate === 2
              ? 'info-skipped'
              : a.fate === 3
                ? a.gap
                  ? 'none-applied'
                  : 'none-skipped'
                : 'ok';
      pending.set(p, { op: emit({ process: p, type: 'invoke', f, key, value: v }), fate, applied: false, lost: false, wrongRead: false });
      continue;
    }
    const k = String(cur.op.key);
    const skipped = cur.fate === 'fail' || cur.fate === 'info-skipped' || cur.fate === 'none-skipped';
    if (!cur.applied && !skipped) {
      // The op takes effect now (its linearization point), unless its acknowledged effect is lost.
      const s = state.has(k) ? state.get(k) : init;
      const f = cur.op.f;
      const lose = a.fault === 0 && cur.fate === 'ok' && f !== 'read' && f !== 'get';
      if (f === 'read' || f === 'get') cur.result = s;
      else if (lose) {
        cur.lost = true;
        faulty = true;
        if (f === 'cas') cur.result = JSON.stringify(s) === JSON.stringify((cur.op.value as unknown[])[0]);
      } else if (f === 'write' || f === 'put') state.set(k, cur.op.value);
      else if (f === 'append') state.set(k, (s as string) + (cur.op.value as string));
      else {
        const [exp, nv] = cur.op.value as [unknown, unknown];
        const match = JSON.stringify(s) === JSON.stringify(exp);
        if (match) state.set(k, nv);
        else if (cur.fate === 'ok') cur.fate = 'fail';
        cur.result = match;
      }
      if (f !== 'read' && f !== 'get') {
        const w = written.get(k) ?? [];
        w.push(f === 'cas' ? (cur.op.value as unknown[])[1] : cur.op.value);
        written.set(k, w);
      }
      cur.applied = true;
      if (a.gap) continue;
    }
    const base = { process: p, f: cur.op.f, key: cur.op.key! };
    if (cur.fate === 'ok') {
      let out = cur.result !== undefined && (cur.op.f === 'read' || cur.op.f === 'get') ? cur.result : cur.op.value;
      if ((cur.op.f === 'read' || cur.op.f === 'get') && a.fault === 1) {
        // A wrong read: a value written earlier (often stale), or one nobody wrote.
        const w = written.get(k) ?? [];
        out = a.pick % 3 === 0 || w.length === 0 ? (shape.model === 'kv' ? 'zz' : 99) : w[a.pick % w.length];
        if (shape.model === 'kv' && a.pick % 3 === 1)
          out = (cur.result as string).slice(0, Math.max(0, (cur.result as string).length - 1 - (a.pick % 2)));
        faulty = true;
      }
      emit({ ...base, type: 'ok', value: out });
    } else if (cur.fate === 'fail') {
      emit({ ...base, type: 'fail', value: cur.op.value });
    } else {
      if (cur.fate === 'info-applied' || cur.fate === 'info-skipped') emit({ ...base, type: 'info', value: cur.op.value });
      procId[slot]! += processes;
    }
    pending.delete(p);
  }
  return { history, faulty };
}
