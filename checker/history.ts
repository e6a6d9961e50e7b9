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

  // Per key, its ops in invoke order and its client lines as numbers:
  // local op index * 2 (invoke) or * 2 + 1 (ok completion).
  interface KeyLines {
    ops: PreparedOp[];
    lines: number[];
    /**
     * The type the key came as first, and where: keys are named by their
     * text, so the number 1 and the string "1" would otherwise be one
     * register, and two registers merged can hide a violation on either.
     */
    readonly keyType: 'string' | 'number' | 'absent';
    readonly keyLine: number;
  }
  const perKey = new Map<string, KeyLines>();
  /** Per process, its outstanding op: the op, its key's lines and its local index there. */
  const outstanding = new Map<number, { p: PreparedOp; acc: KeyLines; local: number }>();
  let clientOpCount = 0;
  /**
   * Each client invoke's line, by its index: a certificate (--witness) names ops by the invoke's index, so two invokes
   * of one index made a certificate that `--verify` refused (and let a forged one name the wrong op), though the
   * verdict itself was right. Jepsen gives every op its own `:index`; completions are not named, so only invokes count.
   */
  const invokeLineByIndex = new Map<number, number>();

  for (const o of ops) {
    if (typeof o.process !== 'number') {
      // Non-client ops (the nemesis) are skipped; an op of the model's own kinds under a name instead of a number is a
      // client whose ops would all be skipped (a history of them was VALID with 0 client ops; found by a probe).
      if (fs.has(o.f) && o.type !== 'info') {
        throw new HistoryFormatError(
          lineOf(o),
          `process ${JSON.stringify(o.process)} ${o.type}s ${o.f}, an op of the model, but only integer processes are clients: ` +
            'its ops would be skipped as a nemesis; number the client processes',
        );
      }
      continue;
    }
    if (!fs.has(o.f)) {
      throw new HistoryFormatError(lineOf(o), `unknown f ${JSON.stringify(o.f)} for model ${name} (expected ${model.fs.join(', ')})`);
    }
    const shape = model.validate(o.f, o.type, o.value);
    if (shape !== null) throw new HistoryFormatError(lineOf(o), shape);
    if (o.type === 'invoke') {
      const busy = outstanding.get(o.process);
      if (busy !== undefined) {
        throw new HistoryFormatError(
          lineOf(o),
          `process ${o.process} invokes ${o.f} while its ${busy.p.invoke.f} from line ${lineOf(busy.p.invoke)} is still outstanding`,
        );
      }
      const sameIndex = invokeLineByIndex.get(o.index);
      if (sameIndex !== undefined) {
        throw new HistoryFormatError(
          lineOf(o),
          `index ${o.index} is also the index of the invoke at line ${sameIndex}: ops are named by their index (in a ` +
            'certificate, in the report), so each invoke needs its own; give every op a distinct index, or none',
        );
      }
      invokeLineByIndex.set(o.index, lineOf(o));
      const p: PreparedOp = { invoke: o, outcome: 'info', modelOp: { f: o.f, input: o.value, output: undefined } };
      const k = keyOf(o);
      const type = o.key === undefined || o.key === null ? 'absent' : typeof o.key === 'number' ? 'number' : 'string';
      let acc = perKey.get(k);
      if (acc === undefined) perKey.set(k, (acc = { ops: [], lines: [], keyType: type, keyLine: lineOf(o) }));
      else if (acc.keyType !== type) {
        const as = (t: KeyLines['keyType']): string => (t === 'absent' ? 'absent' : `a ${t}`);
        throw new HistoryFormatError(
          lineOf(o),
          `key ${JSON.stringify(o.key ?? null)} is ${as(type)} here and ${as(acc.keyType)} at line ${acc.keyLine}: keys are named ` +
            'by their text, so the two would be checked as one register; give distinct keys distinct text',
        );
      }
      const local = acc.ops.length;
      acc.ops.push(p);
      acc.lines.push(local * 2);
      outstanding.set(o.process, { p, acc, local });
      clientOpCount++;
      continue;
    }
    const open = outstanding.get(o.process);
    if (open === undefined) throw new HistoryFormatError(lineOf(o), `${o.type} ${o.f} by process ${o.process} without an invoke`);
    const p = open.p;
    if (p.invoke.f !== o.f) {
      throw new HistoryFormatError(
        lineOf(o),
        `completion f ${JSON.stringify(o.f)} does not match the invoke's ${JSON.stringify(p.invoke.f)} (line ${lineOf(p.invoke)})`,
      );
    }
    if (o.key !== undefined && o.key !== null && keyOf(o) !== keyOf(p.invoke)) {
      throw new HistoryFormatError(
        lineOf(o),
        `completion key ${JSON.stringify(o.key)} does not match the invoke's ${JSON.stringify(p.invoke.key)} (line ${lineOf(p.invoke)})`,
      );
    }
    outstanding.delete(o.process);
    p.completion = o;
    p.outcome = o.type;
    if (o.type === 'ok') {
      p.modelOp = { f: p.invoke.f, input: p.invoke.value, output: o.value };
      open.acc.lines.push(open.local * 2 + 1);
    }
  }

  const keys: KeyHistory[] = [];
  for (const [key, acc] of perKey) {
    // fail: did not happen. Unknown read: no effect, can always be left out.
    const id = new Int32Array(acc.ops.length).fill(-1);
    const kept: PreparedOp[] = [];
    acc.ops.forEach((p, i) => {
      if (p.outcome === 'fail' || (p.outcome === 'info' && readOnly.has(p.invoke.f))) return;
      id[i] = kept.length;
      kept.push(p);
    });
    const events = new Int32Array(kept.length * 2);
    let e = 0;
    for (const line of acc.lines) {
      const i = id[line >> 1]!;
      if (i >= 0) events[e++] = i * 2 + (line & 1);
    }
    for (let i = 0; i < kept.length; i++) if (kept[i]!.outcome !== 'ok') events[e++] = i * 2 + 1;
    keys.push({ key, ops: kept, events });
  }
  return { model: name, opCount: ops.length, clientOpCount, keys };
}
