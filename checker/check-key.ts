// Checks one key's sub-history: interns model states to small integers,
// memoises transitions, runs the WGL search and, when the key is not
// linearizable, turns the search's deepest configuration into a
// Counterexample a person can read.
import type { Model } from './models/model.js';
import type { KeyHistory, PreparedOp } from './history.js';
import { wglSearchSteps, type SearchOutcome } from './search/wgl.js';
import type { CheckedOp, Counterexample, KeyResult, UnknownReason } from './types.js';

export interface KeyLimits {
  deadlineMs: number;
  maxCacheEntries: number;
  maxCacheBytes: number;
}

export const DEFAULT_MAX_CACHE_ENTRIES = 4_000_000;
export const DEFAULT_MAX_CACHE_BYTES = 512 * 1024 * 1024;

/**
 * How the search evaluates one op on interned state ids (the model's OpShape
 * with its states interned): a plain number per op in a Uint8Array, so the
 * hot `step` is one switch without calling the model.
 */
const OpCode = {
  /** Call the model's `step` (memoised). */
  general: 0,
  /** Legal iff the state is `require`; the state is unchanged (a read). */
  guard: 1,
  /** Always legal; the state becomes `to` (a write). */
  set: 2,
  /** Legal iff the state is `require`; it becomes `to` (a cas that returned ok). */
  guardSet: 3,
} as const;
type OpCode = (typeof OpCode)[keyof typeof OpCode];

/** Interned states and a memo of transitions (state id, op) → state id. */
class StateSpace {
  readonly states: unknown[] = [];
  /** hash → state id, or ids when several states share a hash. */
  private readonly byHash = new Map<number, number | number[]>();
  private readonly memo = new Map<number, number>();
  /** Per op: its OpCode, with the interned ids it needs in `req` / `to`. */
  private readonly code: Uint8Array;
  private readonly req: Int32Array;
  private readonly to: Int32Array;

  constructor(
    private readonly model: Model<unknown>,
    private readonly ops: readonly PreparedOp[],
  ) {
    const n = ops.length;
    this.code = new Uint8Array(n);
    this.req = new Int32Array(n);
    this.to = new Int32Array(n);
    if (model.shape === undefined) return;
    for (let i = 0; i < n; i++) {
      const sh = model.shape(ops[i]!.modelOp);
      switch (sh.kind) {
        case 'general':
          this.code[i] = OpCode.general;
          break;
        case 'guard':
          this.code[i] = OpCode.guard;
          this.req[i] = this.intern(sh.require);
          break;
        case 'set':
          this.code[i] = OpCode.set;
          this.to[i] = this.intern(sh.to);
          break;
        case 'guard-set':
          this.code[i] = OpCode.guardSet;
          this.req[i] = this.intern(sh.require);
          this.to[i] = this.intern(sh.to);
          break;
      }
    }
  }

  intern(s: unknown): number {
    const h = this.model.hash(s);
    const found = this.byHash.get(h);
    if (found !== undefined) {
      if (typeof found === 'number') {
        if (this.model.equal(this.states[found], s)) return found;
      } else {
        for (const id of found) if (this.model.equal(this.states[id], s)) return id;
      }
    }
    const id = this.states.length;
    this.states.push(s);
    if (found === undefined) this.byHash.set(h, id);
    else if (typeof found === 'number') this.byHash.set(h, [found, id]);
    else found.push(id);
    return id;
  }

  step = (state: number, op: number): number => {
    switch (this.code[op] as OpCode) {
      case OpCode.guard:
        return state === this.req[op] ? state : -1;
      case OpCode.set:
        return this.to[op]!;
      case OpCode.guardSet:
        return state === this.req[op] ? this.to[op]! : -1;
      case OpCode.general:
        break;
    }
    const mk = state * this.ops.length + op;
    const m = this.memo.get(mk);
    if (m !== undefined) return m;
    const before = this.states[state];
    const ns = this.model.step(before, this.ops[op]!.modelOp);
    // A step that returns its input (a read) keeps the id without rehashing.
    const id = ns === undefined ? -1 : ns === before ? state : this.intern(ns);
    this.memo.set(mk, id);
    return id;
  };

  /** Rough bytes: memo entries, state records (strings are counted by the model's share of them, approximately). */
  bytes = (): number => this.memo.size * 40 + this.states.length * 96;
}

export function checkedOp(model: Model<unknown>, p: PreparedOp): CheckedOp {
  const c: CheckedOp = { invoke: p.invoke, outcome: p.outcome === 'ok' ? 'ok' : 'info', description: model.describeOp(p.modelOp) };
  if (p.completion !== undefined) c.completion = p.completion;
  return c;
}

/** Iterations per slice when several keys' searches are interleaved. */
export const SLICE_ITERATIONS = 20_000;

/** One key's search, resumable slice by slice. */
export class KeySearch {
  readonly key: string;
  /** Estimated bytes held by the search at its last pause. */
  bytes = 0;
  private searchMs = 0;
  private readonly space: StateSpace;
  private readonly init: number;
  private readonly gen: Generator<number, SearchOutcome, void>;

  constructor(
    private readonly model: Model<unknown>,
    private readonly kh: KeyHistory,
    private readonly limits: KeyLimits,
    sliceIterations: number,
  ) {
    this.key = kh.key;
    this.space = new StateSpace(model, kh.ops);
    this.init = this.space.intern(model.init());
    this.gen = wglSearchSteps(
      { nOps: kh.ops.length, events: kh.events, initState: this.init, step: this.space.step },
      { deadlineMs: limits.deadlineMs, maxCacheEntries: limits.maxCacheEntries, maxBytes: limits.maxCacheBytes, auxBytes: this.space.bytes },
      sliceIterations,
    );
  }

  /** Runs one slice. Returns the key's result when the search has ended, else null. */
  advance(): KeyResult | null {
    const t0 = performance.now();
    if (t0 > this.limits.deadlineMs) return this.stop('time_limit');
    const r = this.gen.next();
    this.searchMs += performance.now() - t0;
    if (r.done !== true) {
      this.bytes = r.value;
      return null;
    }
    return this.finish(r.value);
  }

  /** Abandons the search with an unknown verdict (used by the global memory bound). */
  stop(reason: UnknownReason): KeyResult {
    this.gen.return({ kind: 'unknown', reason, cacheEntries: 0 });
    return { valid: 'unknown', unknownReason: reason, opCount: this.kh.ops.length, searchMs: this.searchMs, cacheEntries: 0 };
  }

  private finish(outcome: SearchOutcome): KeyResult {
    const base = { opCount: this.kh.ops.length, searchMs: this.searchMs, cacheEntries: outcome.cacheEntries };
    switch (outcome.kind) {
      case 'ok':
        return { valid: true, ...base };
      case 'unknown':
        return { valid: 'unknown', unknownReason: outcome.reason, ...base };
      case 'illegal':
        return { valid: false, ...base, counterexample: counterexample(this.model, this.kh, this.space, this.init, outcome.bestOps) };
    }
  }
}

/** Checks one key to the end. */
export function checkKey(model: Model<unknown>, kh: KeyHistory, limits: KeyLimits): KeyResult {
  const s = new KeySearch(model, kh, limits, Infinity);
  for (;;) {
    const r = s.advance();
    if (r !== null) return r;
  }
}

/** At most this many keys' searches are live at once (bounds memory; small keys finish in one slice anyway). */
const MAX_ACTIVE_KEYS = 32;

/**
 * Checks several keys, interleaving their searches slice by slice (as
 * Porcupine's per-partition goroutines run concurrently), so an easy invalid
 * key ends the check without first exhausting a hard one. The memory bound
 * `maxCacheBytes` applies to all live searches together: when exceeded, the
 * biggest is stopped with an unknown verdict. Calls `onResult` as each key
 * ends; stops at the first invalid key unless `allKeys`.
 */
export function checkKeys(
  model: Model<unknown>,
  khs: readonly KeyHistory[],
  limits: KeyLimits,
  allKeys: boolean,
  onResult: (key: string, r: KeyResult) => void,
): void {
  let nextKey = 0;
  const active: KeySearch[] = [];
  for (;;) {
    while (active.length < MAX_ACTIVE_KEYS && nextKey < khs.length) {
      active.push(new KeySearch(model, khs[nextKey++]!, limits, SLICE_ITERATIONS));
    }
    if (active.length === 0) return;
    let total = 0;
    for (let i = 0; i < active.length; ) {
      const s = active[i]!;
      const r = s.advance();
      if (r === null) {
        total += s.bytes;
        i++;
        continue;
      }
      active.splice(i, 1);
      onResult(s.key, r);
      if (r.valid === false && !allKeys) {
        for (const other of active) other.stop('time_limit');
        return;
      }
    }
    if (total > limits.maxCacheBytes && active.length > 0) {
      let big = 0;
      for (let i = 1; i < active.length; i++) if (active[i]!.bytes > active[big]!.bytes) big = i;
      const s = active.splice(big, 1)[0]!;
      onResult(s.key, s.stop('memory_limit'));
    }
  }
}

/**
 * Rebuilds the deepest configuration: the prefix `bestOps` linearized, the
 * remaining events in real-time order. The first remaining return is the op
 * that could not be linearized; the calls before it were the candidates.
 */
function counterexample(
  model: Model<unknown>,
  kh: KeyHistory,
  space: StateSpace,
  init: number,
  bestOps: Int32Array,
): Counterexample {
  const linearized: Counterexample['linearized'] = [];
  const done = new Uint8Array(kh.ops.length);
  let s = init;
  for (const op of bestOps) {
    s = space.step(s, op);
    done[op] = 1;
    linearized.push({ op: checkedOp(model, kh.ops[op]!), stateAfter: model.describeState(space.states[s]) });
  }
  const candidates: Counterexample['candidates'] = [];
  let blocked = -1;
  for (const ev of kh.events) {
    const op = ev >> 1;
    if (done[op] === 1) continue;
    if ((ev & 1) === 1) {
      blocked = op;
      break;
    }
    const p = kh.ops[op]!;
    const ns = space.step(s, op);
    const reason =
      ns < 0
        ? model.explainIllegal(space.states[s], p.modelOp)
        : `could take effect here (state becomes ${JSON.stringify(model.describeState(space.states[ns]))}), but no linearization of the remaining ops follows`;
    candidates.push({ op: checkedOp(model, p), reason });
  }
  // The search only reports illegal at a return, so `blocked` is always found.
  const blockedOp = kh.ops[blocked < 0 ? 0 : blocked]!;
  return {
    key: kh.key,
    op: checkedOp(model, blockedOp),
    linearized,
    stateBefore: model.describeState(space.states[s]),
    candidates,
  };
}
