// Checks one key's sub-history: prepares what the search sees (the model's
// fast paths: unobserved unknown ops left out, values merged, a pruner, a
// static refutation; checker/fast/), interns model states to small integers,
// memoises transitions, runs the WGL search and, when the key is not
// linearizable, shrinks it to a minimal failing sub-history
// (checker/minimize.ts) and explains that in a Counterexample a person can
// read.
import type { Model, ModelOp } from './models/model.js';
import type { KeyHistory, PreparedOp } from './history.js';
import { FAST_PATHS } from './fast/registry.js';
import type { Refutation, StateIds } from './fast/fast-paths.js';
import { wglSearchSteps, type SearchInput, type SearchOutcome } from './search/wgl.js';
import type { MemoryBudget } from './search/memory.js';
import type { CheckedOp, Counterexample, KeyResult, ModelName, UnknownReason } from './types.js';
import { minimizeKey } from './minimize.js';

export interface KeyLimits {
  deadlineMs: number;
  maxCacheEntries: number;
  memory: MemoryBudget;
}

export interface KeyOptions {
  /** Use checker/fast/ (default true). */
  fastPaths: boolean;
  /** Try the static refutations (default true; off when an explanation needs the search's deepest configuration). */
  refute?: boolean;
  /** Record the linearization of a valid key. */
  witness: boolean;
  /** Budget for shrinking an invalid key (0: none). */
  minimizeMs: number;
  /** Try the plain search briefly before setting up the fast paths (default true). */
  plainFirst?: boolean;
}

export const DEFAULT_KEY_OPTIONS: KeyOptions = { fastPaths: true, witness: false, minimizeMs: 2000 };

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
class StateSpace implements StateIds {
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
    private readonly ops: readonly ModelOp[],
  ) {
    const n = ops.length;
    this.code = new Uint8Array(n);
    this.req = new Int32Array(n);
    this.to = new Int32Array(n);
    if (model.shape === undefined) return;
    for (let i = 0; i < n; i++) {
      const sh = model.shape(ops[i]!);
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

  stateOf(id: number): unknown {
    return this.states[id];
  }

  /**
   * Per op, 1 when it is a pure observer: legal only in one state, which it
   * leaves unchanged (a read; an ok cas [a, a]). See the search's observer
   * reduction.
   */
  observers(): Uint8Array {
    const out = new Uint8Array(this.ops.length);
    for (let i = 0; i < out.length; i++) {
      const c = this.code[i] as OpCode;
      if (c === OpCode.guard || (c === OpCode.guardSet && this.req[i] === this.to[i])) out[i] = 1;
    }
    return out;
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
    const ns = this.model.step(before, this.ops[op]!);
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

/** What the search is given for one key. */
interface KeyPlan {
  /** The ops the search sees (a subset of the key's), numbered 0..n-1. */
  ops: PreparedOp[];
  events: Int32Array;
  /** The model ops the search steps (the fast paths may rewrite values). */
  searchOps: ModelOp[];
  init: unknown;
  /** Unknown-outcome ops left out. */
  unobserved: number;
  /** A static refutation, or null. */
  refutation: Refutation | null;
}

/** The events of `kh` restricted to the ops with `keep[i]`, renumbered. */
export function restrictEvents(kh: KeyHistory, keep: readonly boolean[]): { ops: PreparedOp[]; events: Int32Array } {
  const id = new Int32Array(kh.ops.length).fill(-1);
  const ops: PreparedOp[] = [];
  kh.ops.forEach((p, i) => {
    if (keep[i]) {
      id[i] = ops.length;
      ops.push(p);
    }
  });
  const events = new Int32Array(ops.length * 2);
  let e = 0;
  for (const ev of kh.events) {
    const j = id[ev >> 1]!;
    if (j >= 0) events[e++] = (j << 1) | (ev & 1);
  }
  return { ops, events };
}

function planKey(model: Model<unknown>, kh: KeyHistory, fastPaths: boolean, refute: boolean): KeyPlan {
  const fast = fastPaths ? FAST_PATHS[model.name as ModelName] : undefined;
  if (fast === undefined) {
    return { ops: kh.ops, events: kh.events, searchOps: kh.ops.map((p) => p.modelOp), init: model.init(), unobserved: 0, refutation: null };
  }
  const keep = fast.needed(kh.ops);
  const unobserved = keep.filter((k) => !k).length;
  const { ops, events } = unobserved > 0 ? restrictEvents(kh, keep) : { ops: kh.ops, events: kh.events };
  const refutation = refute ? (fast.refute?.(ops, events) ?? null) : null;
  const s = fast.searchOps(ops, model.init());
  return { ops, events, searchOps: s.ops, init: s.init, unobserved, refutation };
}

/**
 * Per op, the id of its symmetry class (ops with one model stepKey; with
 * `splitUnknown`, ok and unknown ops apart), or undefined when the model has
 * none.
 */
function symmetryClasses(model: Model<unknown>, ops: readonly ModelOp[], splitUnknown: boolean): Int32Array | undefined {
  if (model.stepKey === undefined) return undefined;
  const ids = new Map<string, number>();
  const classOf = new Int32Array(ops.length);
  ops.forEach((op, i) => {
    const k = model.stepKey!(op) + (splitUnknown && op.output === undefined ? '?' : '');
    let c = ids.get(k);
    if (c === undefined) ids.set(k, (c = ids.size));
    classOf[i] = c;
  });
  return ids.size < ops.length ? classOf : undefined;
}

/** Iterations per slice when several keys' searches are interleaved. */
export const SLICE_ITERATIONS = 20_000;
/** Iterations per turn of the fast searches' portfolio. */
const PORTFOLIO_SLICE = 4096;
/** Turns of the portfolio before the goal-directed member joins it (about 100,000 iterations). */
const GOAL_JOIN_TURNS = 24;

/**
 * Iterations of the plain search tried before the fast paths are set up.
 * Most keys of an easy history (a few dozen ops, a handful in flight) are
 * decided in far fewer; for them the fast paths' preparation (O(n) maps,
 * refutations, classes) would cost more than the search. A hard key loses
 * under a millisecond to this.
 */
const PLAIN_FIRST_ITERATIONS = 4096;

/** One key's search, resumable slice by slice. */
export class KeySearch {
  readonly key: string;
  /** Estimated bytes held by the search at its last pause. */
  bytes = 0;
  private searchMs = 0;
  /** The plan of the search that ended (the plain plan, or the fast paths'). */
  plan: KeyPlan;
  /** The searches taking turns (the first one's turn is next); empty when a static refutation decided. */
  private members: { gen: Generator<number, SearchOutcome, void>; plan: KeyPlan }[] = [];
  /** True until the plain search first pauses and the fast searches join it. */
  private plainPhase: boolean;
  private space: StateSpace | null = null;
  private spacePlan: KeyPlan | null = null;
  /** The plain search's plan (null when the fast paths started at once). */
  private plainPlan: KeyPlan | null = null;
  /** The goal-directed member, until it joins (after GOAL_JOIN_TURNS turns), and the turns taken. */
  private lateMember: (() => { gen: Generator<number, SearchOutcome, void>; plan: KeyPlan }) | null = null;
  private turns = 0;

  constructor(
    private readonly model: Model<unknown>,
    private readonly kh: KeyHistory,
    private readonly limits: KeyLimits,
    private readonly sliceIterations: number,
    private readonly options: KeyOptions = DEFAULT_KEY_OPTIONS,
  ) {
    this.key = kh.key;
    const t0 = performance.now();
    this.plainPhase = options.fastPaths && options.plainFirst !== false;
    if (this.plainPhase || !options.fastPaths) {
      this.plan = planKey(model, kh, false, false);
      this.plainPlan = this.plan;
      this.members = [
        { gen: this.start(this.plan, false, true, this.plainPhase ? PLAIN_FIRST_ITERATIONS : sliceIterations), plan: this.plan },
      ];
    } else {
      this.plan = planKey(model, kh, true, options.refute !== false);
      this.members = this.fastMembers(this.plan);
    }
    this.searchMs += performance.now() - t0;
  }

  /** A search on `plan`, with the fast paths or plain, pausing every `slice` iterations. */
  private start(
    plan: KeyPlan,
    fastPaths: boolean,
    earliestReturnFirst: boolean,
    slice: number,
    goalDirected = false,
  ): Generator<number, SearchOutcome, void> {
    const fast = fastPaths ? FAST_PATHS[this.model.name as ModelName] : undefined;
    // One state space per plan: searches on one plan share its interned states and transition memo.
    if (this.space === null || this.spacePlan !== plan) {
      this.space = new StateSpace(this.model, plan.searchOps);
      this.spacePlan = plan;
    }
    const space = this.space;
    const init = space.intern(plan.init);
    let input: SearchInput = { nOps: plan.ops.length, events: plan.events, initState: init, step: space.step };
    if (fast !== undefined) {
      const lazyUnknowns = fast.lazyUnknowns?.(plan.searchOps, space);
      input = {
        ...input,
        classOf: symmetryClasses(this.model, plan.searchOps, false),
        observer: space.observers(),
        pruner: fast.pruner?.(plan.searchOps, plan.events, space),
        mustHappen: Uint8Array.from(plan.ops, (p) => (p.outcome === 'ok' ? 1 : 0)),
        lazyUnknowns,
        late: Uint8Array.from(plan.ops, (p) => (p.outcome === 'ok' ? 0 : 1)),
        earliestReturnFirst,
        goals: goalDirected ? fast.goals?.(plan.searchOps, space) : undefined,
      };
    }
    return wglSearchSteps(
      input,
      {
        deadlineMs: this.limits.deadlineMs,
        maxCacheEntries: this.limits.maxCacheEntries,
        memory: this.limits.memory,
        auxBytes: space.bytes,
      },
      slice,
    );
  }

  /**
   * The fast searches, as a portfolio taking turns slice by slice (as
   * Knossos's competition runs its two algorithms): candidates in order of
   * return, and in order of call. Each is complete, so the first to end
   * gives the verdict; which finds a linearization sooner depends on the
   * history (return order on cas-heavy ones, call order on some with few
   * written values). For models with goals (the register), a third joins
   * after GOAL_JOIN_TURNS turns: return order heading for the value the
   * most urgent pending read needs (Goals in search/wgl.ts; writes late and
   * reads early over few values); it joins late because the others decide
   * most keys before, and a turn of it costs more (it scans the pending
   * needs at every configuration). None when a static refutation decided.
   */
  private fastMembers(plan: KeyPlan): { gen: Generator<number, SearchOutcome, void>; plan: KeyPlan }[] {
    if (plan.refutation !== null) return [];
    const slice = Math.min(this.sliceIterations, PORTFOLIO_SLICE);
    const members = [
      { gen: this.start(plan, true, true, slice), plan },
      { gen: this.start(plan, true, false, slice), plan },
    ];
    if (FAST_PATHS[this.model.name as ModelName]?.goals !== undefined)
      this.lateMember = () => ({ gen: this.start(plan, true, true, slice, true), plan });
    return members;
  }

  /**
   * The next step of the searches, in turns. The plain search runs alone
   * until it first pauses (most keys of an easy history end before); then
   * the fast searches join it, and it stays in the portfolio: on some
   * histories (puts and appends) the reductions buy nothing and the plain
   * search, cheapest per step, ends first.
   */
  private nextStep(): IteratorResult<number, SearchOutcome> | null {
    for (;;) {
      const m = this.members[0];
      if (m === undefined) return null;
      const r = m.gen.next();
      if (r.done !== true) {
        if (this.plainPhase) {
          this.plainPhase = false;
          const fastPlan = planKey(this.model, this.kh, true, this.options.refute !== false);
          if (fastPlan.refutation !== null) {
            m.gen.return({ kind: 'unknown', reason: 'time_limit', cacheEntries: 0 });
            this.plan = fastPlan;
            this.members = [];
            return null;
          }
          this.members.push(...this.fastMembers(fastPlan));
        }
        // Paused: the next search's turn.
        this.members.push(this.members.shift()!);
        if (this.lateMember !== null && ++this.turns >= GOAL_JOIN_TURNS) {
          this.members.push(this.lateMember());
          this.lateMember = null;
        }
        return r;
      }
      if (r.value.kind === 'unknown' && r.value.reason === 'memory_limit' && this.members.length > 1) {
        // Out of memory: the others go on.
        this.members.shift();
        continue;
      }
      this.plan = m.plan;
      for (const o of this.members.slice(1)) o.gen.return({ kind: 'unknown', reason: 'time_limit', cacheEntries: 0 });
      this.lateMember = null;
      this.members = [m];
      return r;
    }
  }

  /** Runs one slice. Returns the key's result when the search has ended, else null. */
  advance(): KeyResult | null {
    const t0 = performance.now();
    if (this.members.length === 0) return this.refuted();
    if (t0 > this.limits.deadlineMs) return this.stop('time_limit');
    const r = this.nextStep();
    this.searchMs += performance.now() - t0;
    if (r === null) return this.refuted();
    if (r.done !== true) {
      this.bytes = r.value;
      return null;
    }
    return this.finish(r.value);
  }

  /** Abandons the search with an unknown verdict (used by the global memory bound). */
  stop(reason: UnknownReason): KeyResult {
    for (const m of this.members) m.gen.return({ kind: 'unknown', reason, cacheEntries: 0 });
    this.members = [];
    this.lateMember = null;
    return { valid: 'unknown', unknownReason: reason, opCount: this.kh.ops.length, searchMs: this.searchMs, cacheEntries: 0 };
  }

  /** Runs the search to its end without shrinking or explaining; null when a static refutation decided (invalid). */
  runSearch(): SearchOutcome | null {
    for (;;) {
      const r = this.nextStep();
      if (r === null) return null;
      if (r.done === true) return r.value;
    }
  }

  /** Only the verdict (what minimizeKey asks). */
  verdictOnly(): KeyResult['valid'] {
    const o = this.runSearch();
    return o === null || o.kind === 'illegal' ? false : o.kind === 'ok' ? true : 'unknown';
  }

  private base(cacheEntries: number): Pick<KeyResult, 'opCount' | 'searchMs' | 'cacheEntries' | 'unobservedInfoOps'> {
    const b: Pick<KeyResult, 'opCount' | 'searchMs' | 'cacheEntries' | 'unobservedInfoOps'> = {
      opCount: this.kh.ops.length,
      searchMs: this.searchMs,
      cacheEntries,
    };
    if (this.plan.unobserved > 0) b.unobservedInfoOps = this.plan.unobserved;
    return b;
  }

  private refuted(): KeyResult {
    const r: KeyResult = { valid: false, ...this.base(0), refutation: this.plan.refutation!.reason };
    this.explain(r, null);
    return r;
  }

  private finish(outcome: SearchOutcome): KeyResult {
    switch (outcome.kind) {
      case 'ok': {
        const r: KeyResult = { valid: true, ...this.base(outcome.cacheEntries) };
        if (this.options.witness) r.linearization = Array.from(outcome.linearization, (op) => this.plan.ops[op]!.invoke.index);
        return r;
      }
      case 'unknown':
        return {
          valid: 'unknown',
          unknownReason: outcome.reason === 'memory_limit' ? 'memory_limit' : 'time_limit',
          ...this.base(outcome.cacheEntries),
        };
      case 'illegal': {
        const r: KeyResult = { valid: false, ...this.base(outcome.cacheEntries) };
        this.explain(r, outcome.bestOps);
        return r;
      }
    }
  }

  /**
   * Fills in the minimal failing sub-history and the counterexample. The
   * counterexample is Knossos-style: the deepest configuration of the plain
   * search (no reductions, so the blamed op is the one real time blocks) on
   * the whole key when it is small, else on the minimal sub-history, else
   * the fast search's deepest configuration.
   */
  private explain(r: KeyResult, bestOps: Int32Array | null): void {
    const t0 = performance.now();
    let minimal: KeyHistory | null = null;
    if (this.options.minimizeMs > 0) {
      // Seeds: the ops a static refutation names, or the ops called before the blocked op returned.
      const seeds: PreparedOp[][] = [];
      if (this.plan.refutation !== null) seeds.push(this.plan.refutation.ops.map((i) => this.plan.ops[i]!));
      if (bestOps !== null) {
        const done = new Set(bestOps);
        const firstPendingReturn = this.plan.events.findIndex((ev) => (ev & 1) === 1 && !done.has(ev >> 1));
        if (firstPendingReturn >= 0)
          seeds.push(
            Array.from(this.plan.events.subarray(0, firstPendingReturn + 1))
              .filter((ev) => (ev & 1) === 0)
              .map((ev) => this.plan.ops[ev >> 1]!),
          );
      }
      const m = minimizeKey(
        this.model,
        this.kh,
        { ...this.limits, deadlineMs: Math.min(this.limits.deadlineMs, t0 + this.options.minimizeMs) },
        this.options.fastPaths,
        seeds,
      );
      r.minimal = m.result;
      minimal = m.subHistory;
    }
    const quick = (): KeyLimits => ({
      deadlineMs: Math.min(this.limits.deadlineMs, performance.now() + EXPLAIN_BUDGET_MS),
      maxCacheEntries: Math.min(this.limits.maxCacheEntries, EXPLAIN_MAX_CACHE_ENTRIES),
      memory: this.limits.memory,
    });
    const small = (kh: KeyHistory): boolean => kh.ops.length <= EXPLAIN_MAX_PLAIN_OPS;
    // The plain search on the whole key only when it decided the key itself (or the key is tiny): else it is the hard way round.
    const plainDecided = !this.options.fastPaths || this.plan === this.plainPlan || this.kh.ops.length <= EXPLAIN_TINY_OPS;
    const ce =
      (plainDecided && small(this.kh) ? deepestConfiguration(this.model, this.kh, quick(), false) : null) ??
      (minimal !== null && small(minimal) ? deepestConfiguration(this.model, minimal, quick(), false) : null) ??
      (bestOps !== null ? counterexample(this.model, this.kh.key, this.plan.ops, this.plan.events, bestOps) : null) ??
      (minimal !== null ? deepestConfiguration(this.model, minimal, quick(), true) : null);
    if (ce !== null) r.counterexample = ce;
    r.searchMs += performance.now() - t0;
  }
}

/** Budget of one explanatory search (the verdict is known; this only draws it). */
const EXPLAIN_BUDGET_MS = 300;
const EXPLAIN_MAX_CACHE_ENTRIES = 50_000;
/** Keys this small are explained on the whole key by the plain search whatever decided them. */
const EXPLAIN_TINY_OPS = 60;
/** Up to this many ops the plain search explains the whole key (its deepest configuration names the op real time blocks); beyond, the minimal sub-history or the fast search's. */
const EXPLAIN_MAX_PLAIN_OPS = 200;

/** Runs the search on `kh` and explains its deepest configuration, or null when it is not refuted in time. */
function deepestConfiguration(model: Model<unknown>, kh: KeyHistory, limits: KeyLimits, fastPaths: boolean): Counterexample | null {
  const s = new KeySearch(model, kh, limits, Infinity, { fastPaths, refute: false, witness: false, minimizeMs: 0 });
  const o = s.runSearch();
  if (o === null || o.kind !== 'illegal') return null;
  return counterexample(model, kh.key, s.plan.ops, s.plan.events, o.bestOps);
}

/** Checks one key to the end. */
export function checkKey(model: Model<unknown>, kh: KeyHistory, limits: KeyLimits, options: KeyOptions = DEFAULT_KEY_OPTIONS): KeyResult {
  const s = new KeySearch(model, kh, limits, Infinity, options);
  for (;;) {
    const r = s.advance();
    if (r !== null) return r;
  }
}

/** Rounds of slices between two RSS polls in checkKeys. */
const RSS_POLL_ROUNDS = 16;

/** At most this many keys' searches are live at once (bounds memory; small keys finish in one slice anyway). */
const MAX_ACTIVE_KEYS = 32;

/**
 * Checks several keys, interleaving their searches slice by slice (as
 * Porcupine's per-partition goroutines run concurrently), so an easy invalid
 * key ends the check without first exhausting a hard one. The memory bound
 * applies to the whole process: when the RSS passes it between slices, the
 * biggest live search is stopped with an unknown verdict. Calls `onResult`
 * as each key ends; stops at the first invalid key unless `allKeys`.
 */
export function checkKeys(
  model: Model<unknown>,
  khs: readonly KeyHistory[],
  limits: KeyLimits,
  allKeys: boolean,
  onResult: (key: string, r: KeyResult) => void,
  options: KeyOptions = DEFAULT_KEY_OPTIONS,
): void {
  let nextKey = 0;
  let rounds = 0;
  const active: KeySearch[] = [];
  for (;;) {
    while (active.length < MAX_ACTIVE_KEYS && nextKey < khs.length) {
      active.push(new KeySearch(model, khs[nextKey++]!, limits, SLICE_ITERATIONS, options));
    }
    if (active.length === 0) return;
    let paused = 0;
    for (let i = 0; i < active.length;) {
      const s = active[i]!;
      const r = s.advance();
      if (r === null) {
        paused++;
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
    // Only searches that paused mid-way can have grown: poll the RSS then,
    // every so many rounds (a poll reads /proc; the searches also check
    // before every large allocation and every MEMORY_CHECK_MASK + 1 steps).
    if (paused > 0 && ++rounds % RSS_POLL_ROUNDS === 0 && active.length > 0 && !limits.memory.ok()) {
      let big = 0;
      for (let i = 1; i < active.length; i++) if (active[i]!.bytes > active[big]!.bytes) big = i;
      const s = active.splice(big, 1)[0]!;
      onResult(s.key, s.stop('memory_limit'));
    }
  }
}

/**
 * Rebuilds a deepest configuration: the prefix `bestOps` (op numbers in
 * `ops`) linearized, the remaining events in real-time order, replayed with
 * the model itself. The first remaining return is the op that could not be
 * linearized; the calls before it were the candidates.
 */
function counterexample(
  model: Model<unknown>,
  key: string,
  ops: readonly PreparedOp[],
  events: Int32Array,
  bestOps: Int32Array,
): Counterexample {
  const linearized: Counterexample['linearized'] = [];
  const done = new Uint8Array(ops.length);
  let s = model.init();
  for (const op of bestOps) {
    // The prefix was legal for the search's ops, hence for the real ones (checker/fast/ keeps legality).
    s = model.step(s, ops[op]!.modelOp) ?? s;
    done[op] = 1;
    linearized.push({ op: checkedOp(model, ops[op]!), stateAfter: model.describeState(s) });
  }
  const candidates: Counterexample['candidates'] = [];
  let blocked = -1;
  for (const ev of events) {
    const op = ev >> 1;
    if (done[op] === 1) continue;
    if ((ev & 1) === 1) {
      blocked = op;
      break;
    }
    const p = ops[op]!;
    const ns = model.step(s, p.modelOp);
    const reason =
      ns === undefined
        ? model.explainIllegal(s, p.modelOp)
        : `could take effect here (state becomes ${JSON.stringify(model.describeState(ns))}), but no linearization of the remaining ops follows`;
    candidates.push({ op: checkedOp(model, p), reason });
  }
  // The search only reports illegal at a return, so `blocked` is always found.
  const blockedOp = ops[blocked < 0 ? 0 : blocked]!;
  return {
    key,
    op: checkedOp(model, blockedOp),
    linearized,
    stateBefore: model.describeState(s),
    candidates,
  };
}
