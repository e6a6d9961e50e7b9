// Well-formedness and preparation: pairs each client invoke with its
// completion, checks the rules of the format (one outstanding op per process,
// no completion without an invoke, value shapes per model) with the line of
// every error, and splits the history by key (P-compositionality: Horn &
// Kroening, FORTE 2015 — a history of independent registers is linearizable
// iff each register's sub-history is).
import type { Model, ModelOp } from './models/model.js';
import { MODELS, inferModel } from './models/registry.js';
import { HistoryFormatError, type HistoryOp, type ModelName } from './types.js';

/** A client op with its completion; `outcome` `info` also covers "never completed". */
export interface PreparedOp {
  invoke: HistoryOp;
  completion?: HistoryOp;
  outcome: 'ok' | 'info' | 'fail';
  modelOp: ModelOp;
}

/**
 * One key's sub-history, ready for the search. `ops` are the ops that reach
 * the search (fail ops and unknown-outcome reads dropped), numbered 0..n-1;
 * `events` is the real-time order of their call/return events, encoded as
 * `op * 2` (call) and `op * 2 + 1` (return). Ops with an unknown outcome
 * return after every other event (Porcupine's encoding of a crashed op).
 */
export interface KeyHistory {
  key: string;
  ops: PreparedOp[];
  events: Int32Array;
}

export interface PreparedHistory {
  model: ModelName;
  opCount: number;
  clientOpCount: number;
  keys: KeyHistory[];
}

function keyOf(op: HistoryOp): string {
  return op.key === undefined || op.key === null ? '' : String(op.key);
}

function lineOf(op: HistoryOp): number {
  return op.line ?? op.index + 1;
}

/** Checks well-formedness and splits by key. Throws HistoryFormatError. */
export function prepareHistory(ops: readonly HistoryOp[], modelName?: ModelName): PreparedHistory {
  let name = modelName;
  if (name === undefined) {
    const fs = new Set<string>();
    for (const o of ops) if (typeof o.process === 'number') fs.add(o.f);
    const inferred = inferModel(fs);
    if (inferred === null) {
      throw new HistoryFormatError(0, `cannot infer the model from the f names {${[...fs].join(', ')}}; pass --model cas-register|kv`);
    }
    name = inferred;
  }
  const model: Model<unknown> = MODELS[name];
  const fs = new Set(model.fs);
  const readOnly = new Set(model.readOnlyFs);

  // Per key, the client lines in order: the op record and whether it is the return.
  const perKey = new Map<string, { p: PreparedOp; ret: boolean }[]>();
  const outstanding = new Map<number, PreparedOp>();
  let clientOpCount = 0;

  for (const o of ops) {
    if (typeof o.process !== 'number') continue; // nemesis and other non-client ops
    const line = lineOf(o);
    if (!fs.has(o.f)) {
      throw new HistoryFormatError(line, `unknown f ${JSON.stringify(o.f)} for model ${name} (expected ${model.fs.join(', ')})`);
    }
    const shape = model.validate(o.f, o.type, o.value);
    if (shape !== null) throw new HistoryFormatError(line, shape);
    if (o.type === 'invoke') {
      const busy = outstanding.get(o.process);
      if (busy !== undefined) {
        throw new HistoryFormatError(line, `process ${o.process} invokes ${o.f} while its ${busy.invoke.f} from line ${lineOf(busy.invoke)} is still outstanding`);
      }
      const p: PreparedOp = { invoke: o, outcome: 'info', modelOp: { f: o.f, input: o.value, output: undefined } };
      outstanding.set(o.process, p);
      clientOpCount++;
      const k = keyOf(o);
      let list = perKey.get(k);
      if (list === undefined) perKey.set(k, (list = []));
      list.push({ p, ret: false });
      continue;
    }
    const p = outstanding.get(o.process);
    if (p === undefined) throw new HistoryFormatError(line, `${o.type} ${o.f} by process ${o.process} without an invoke`);
    if (p.invoke.f !== o.f) {
      throw new HistoryFormatError(line, `completion f ${JSON.stringify(o.f)} does not match the invoke's ${JSON.stringify(p.invoke.f)} (line ${lineOf(p.invoke)})`);
    }
    if (o.key !== undefined && o.key !== null && keyOf(o) !== keyOf(p.invoke)) {
      throw new HistoryFormatError(line, `completion key ${JSON.stringify(o.key)} does not match the invoke's ${JSON.stringify(p.invoke.key)} (line ${lineOf(p.invoke)})`);
    }
    outstanding.delete(o.process);
    p.completion = o;
    p.outcome = o.type;
    if (o.type === 'ok') p.modelOp = { f: p.invoke.f, input: p.invoke.value, output: o.value };
    if (o.type === 'ok') perKey.get(keyOf(p.invoke))!.push({ p, ret: true });
  }

  const keys: KeyHistory[] = [];
  for (const [key, lines] of perKey) {
    const kept: PreparedOp[] = [];
    const id = new Map<PreparedOp, number>();
    for (const { p, ret } of lines) {
      if (ret) continue;
      // fail: did not happen. Unknown read: no effect, can always be left out.
      if (p.outcome === 'fail' || (p.outcome === 'info' && readOnly.has(p.invoke.f))) continue;
      id.set(p, kept.length);
      kept.push(p);
    }
    const events = new Int32Array(kept.length * 2);
    let e = 0;
    for (const { p, ret } of lines) {
      const i = id.get(p);
      if (i === undefined) continue;
      if (!ret) events[e++] = i * 2;
      else events[e++] = i * 2 + 1;
    }
    for (let i = 0; i < kept.length; i++) if (kept[i]!.outcome !== 'ok') events[e++] = i * 2 + 1;
    keys.push({ key, ops: kept, events });
  }
  return { model: name, opCount: ops.length, clientOpCount, keys };
}
