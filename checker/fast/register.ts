// Fast paths for the cas-register model (read, write, cas [a, b]).
//
// Terms: an op *observes* value v when its legality depends on the state
// being v: an ok read of v, a cas (ok or unknown) expecting v. An op
// *produces* v when it can set the state to v: a write of v, a cas [_, v].
// An unknown-outcome ("info") op may take effect at any point after its
// invoke, or never; in the search it returns after everything else, so
// "never" is "last".
import { valueKey } from '../models/cas-register.js';
import type { ModelOp } from '../models/model.js';
import type { PreparedOp } from '../history.js';
import type { Goals, LazyUnknowns, Pruner } from '../search/wgl.js';
import { intervals, type ModelFastPaths, type Refutation, type StateIds } from './fast-paths.js';

type Key = string | number | boolean | null;

function casValues(op: ModelOp): [unknown, unknown] {
  return op.input as [unknown, unknown];
}

/** Count of observers per value (ok reads and every cas's expected value). */
function observerCounts(ops: readonly PreparedOp[], keep: readonly boolean[]): Map<Key, number> {
  const obs = new Map<Key, number>();
  const bump = (v: unknown): void => {
    const k = valueKey(v);
    obs.set(k, (obs.get(k) ?? 0) + 1);
  };
  ops.forEach((p, i) => {
    if (!keep[i]) return;
    const op = p.modelOp;
    if (op.f === 'read' && op.output !== undefined) bump(op.output);
    else if (op.f === 'cas') bump(casValues(op)[0]);
  });
  return obs;
}

/** The value an op produces (write, cas), or undefined for a read. */
function produced(op: ModelOp): { v: unknown } | undefined {
  if (op.f === 'write') return { v: op.input };
  if (op.f === 'cas') return { v: casValues(op)[1] };
  return undefined;
}

/**
 * Unobserved unknown writes. An info write or cas X producing v, where no
 * other op observes v, can be removed: the history is linearizable iff it is
 * without X.
 * (⇐) Append X at the end of a linearization without it: X's call precedes
 *     the end and it returns after everything, a write is always legal and
 *     an unknown cas is total.
 * (⇒) Take a linearization L with X at position i. If X had no effect (an
 *     unknown cas that did not match) drop it. Else the state after X is v.
 *     Until the next op that sets the state, every op runs in state v: no ok
 *     read (none reads v) and no ok cas (none expects v) can be there; an
 *     unknown cas there does not match (none but X expects v), so it had no
 *     effect. Drop X and move those unknown cas ops to the end (they return
 *     after everything, so real time still holds; at the end they are total
 *     and nothing follows). The next setter is a write (a cas would have to
 *     expect v), which sets the state regardless, so every later op sees
 *     the same state as in L.
 * Removing an info cas removes an observer of its expected value, so this
 * runs to a fixpoint.
 */
function needed(ops: readonly PreparedOp[]): boolean[] {
  const keep = ops.map(() => true);
  const obs = observerCounts(ops, keep);
  const producersOf = new Map<Key, number[]>();
  ops.forEach((p, i) => {
    if (p.outcome === 'ok') return;
    const pr = produced(p.modelOp);
    if (pr === undefined) return;
    const k = valueKey(pr.v);
    let list = producersOf.get(k);
    if (list === undefined) producersOf.set(k, (list = []));
    list.push(i);
  });
  const selfObserved = (op: ModelOp): number => (op.f === 'cas' && valueKey(casValues(op)[0]) === valueKey(casValues(op)[1]) ? 1 : 0);
  const work: Key[] = [...producersOf.keys()];
  while (work.length > 0) {
    const k = work.pop()!;
    for (const i of producersOf.get(k) ?? []) {
      if (!keep[i]) continue;
      const op = ops[i]!.modelOp;
      if ((obs.get(k) ?? 0) - selfObserved(op) > 0) continue;
      keep[i] = false;
      if (op.f === 'cas') {
        const a = valueKey(casValues(op)[0]);
        const left = (obs.get(a) ?? 0) - 1;
        obs.set(a, left);
        if (left === 0) work.push(a);
      }
    }
  }
  return keep;
}

/**
 * Values nobody observes are merged into one state. Two states u, u' that no
 * op observes are bisimilar: every op behaves alike in both (reads of them
 * do not exist, no cas expects them, writes and the other cas ops ignore the
 * old value), so a sequence of ops is legal from u iff it is from u', and it
 * reaches equal states from both. Hence mapping every unobserved value
 * (including the initial null when nobody reads it) to one sentinel keeps
 * the verdict, and any linearization found stays legal with the real values.
 * What it buys: writes of distinct unobserved values become writes of one
 * value, so the symmetry reduction treats them as interchangeable, and the
 * cache merges configurations that differ only in such a value.
 */
function searchOps(ops: readonly PreparedOp[], init: unknown): { ops: ModelOp[]; init: unknown } {
  const obs = observerCounts(
    ops,
    ops.map(() => true),
  );
  const observed = (v: unknown): boolean => (obs.get(valueKey(v)) ?? 0) > 0;
  let junk = 'rift:unobserved';
  const used = new Set<Key>();
  for (const p of ops) {
    const pr = produced(p.modelOp);
    if (pr !== undefined) used.add(valueKey(pr.v));
  }
  while (used.has(valueKey(junk)) || obs.has(valueKey(junk))) junk += '\u0000';
  const out = ops.map((p): ModelOp => {
    const op = p.modelOp;
    if (op.f === 'write' && !observed(op.input)) return { f: 'write', input: junk, output: op.output === undefined ? undefined : junk };
    if (op.f === 'cas') {
      const [a, b] = casValues(op);
      if (!observed(b)) return { f: 'cas', input: [a, junk], output: op.output === undefined ? undefined : [a, junk] };
    }
    return op;
  });
  return { ops: out, init: observed(init) ? init : junk };
}

/**
 * Visits. Configuration C is dead when some value x cannot be visited often
 * enough, or in time, by the ops still to linearize. Each ok cas [x, y] with
 * y != x must run while the state is x and leaves it, so each needs a visit
 * of its own; an ok read of x (or ok cas [x, x]) needs some visit. A visit
 * is the current state (once) or an arrival: an op still to linearize that
 * can set the state to x from another value (a write of x, a cas [a, x] with
 * a != x, ok or unknown; each runs at most once). And an arrival can serve
 * an op R only if it was invoked before R returned (else real time puts it
 * after R). So C is dead if for some x
 *   departures(x) > arrivals(x) + [x is C's state], or
 *   x is not C's state, and the earliest-returning op still needing x
 *   returned before every arrival at x still left was invoked (or none is
 *   left).
 * And for the few most urgent pending ops needing some x (the earliest
 * returns), an arrival that is a cas [a, x] counts only if it can still
 * fire: the state is a, or some op left can set a (one level of the chain
 * a write of a, then the cas, then the read; with unique values, once the
 * state has left a for good the cas is useless).
 * And, for a value x with several ok cas [x, y] still to run (departures),
 * sorted by return d1, d2, ...: each departure needs a visit of its own
 * (after a departure the state is y != x, so the next one needs a new
 * arrival), and an arrival A can be the visit of departure D only if A was
 * invoked before D returned (else real time puts D before A). The sets of
 * usable arrivals are nested (a later return admits more), so by Hall's
 * theorem distinct visits exist iff for every k
 *   [x is C's state] + #(arrivals at x left, invoked before dk returned) >= k;
 * C is dead when this fails for some k (checked for the first
 * HALL_DEPARTURES departures). With writes taking effect late over few
 * values this cuts, at once, a branch that left x while two cas ops still
 * needed it and only one arrival comes in time; the degree count sees
 * enough arrivals, just too late, and the search finds out only when the
 * second cas's return is reached, dozens of ops deeper.
 * The first is Euler's degree condition on the cas ops as edges, with
 * writes as jumps: with few values it cuts the branches that strand a cas.
 * The second cuts, as soon as it happens, every branch that used up or
 * overwrote the last write a pending read could have seen; plain WGL finds
 * out only when it reaches that read's return, after trying every order of
 * the ops in between.
 * Kept in O(1) amortised per step: per state id the counts, the needers by
 * return and the arrivals by call with a pointer to the first one still
 * pending, and how many ids are bad when not the state.
 */
class VisitPruner implements Pruner {
  private readonly departures: Int32Array;
  private readonly arrivals: Int32Array;
  /** Per id: ops needing it (ok reads, ok cas expecting it), by return; ops arriving at it, by call. */
  private readonly needers: number[][];
  private readonly arrivers: number[][];
  /** Per id: index of the first needer / arriver still pending. */
  private readonly firstNeeder: Int32Array;
  private readonly firstArriver: Int32Array;
  private readonly done: Uint8Array;
  /** Ids that are bad when they are not the state. */
  private bad = 0;
  /** All needing ops by return, and the first still pending. */
  private readonly neededBy: number[] = [];
  private firstNeeded = 0;
  /** Per id: its departures (ok cas leaving it) by return; the ids with two or more (the Hall check's). */
  private readonly departers: number[][];
  private readonly multiDeparture: number[] = [];

  constructor(
    /** Per op: the id it departs from (-1: none), that it needs (-1), that it can arrive at (-1). */
    private readonly departOf: Int32Array,
    private readonly needOf: Int32Array,
    private readonly arriveOf: Int32Array,
    /** Per op: for a cas [a, x] arriving at x, a (-1: an unconditional arrival). */
    private readonly arriveFrom: Int32Array,
    private readonly callAt: Int32Array,
    private readonly returnAt: Int32Array,
    nStates: number,
  ) {
    this.departures = new Int32Array(nStates);
    this.arrivals = new Int32Array(nStates);
    this.needers = Array.from({ length: nStates }, () => []);
    this.arrivers = Array.from({ length: nStates }, () => []);
    this.firstNeeder = new Int32Array(nStates);
    this.firstArriver = new Int32Array(nStates);
    this.done = new Uint8Array(departOf.length);
    for (let i = 0; i < departOf.length; i++) {
      if (departOf[i]! >= 0) this.departures[departOf[i]!]!++;
      if (arriveOf[i]! >= 0) {
        this.arrivals[arriveOf[i]!]!++;
        this.arrivers[arriveOf[i]!]!.push(i);
      }
      if (needOf[i]! >= 0) {
        this.needers[needOf[i]!]!.push(i);
        this.neededBy.push(i);
      }
    }
    this.neededBy.sort((a, b) => returnAt[a]! - returnAt[b]!);
    this.departers = Array.from({ length: nStates }, () => []);
    for (let i = 0; i < departOf.length; i++) if (departOf[i]! >= 0) this.departers[departOf[i]!]!.push(i);
    for (let x = 0; x < nStates; x++) {
      this.departers[x]!.sort((a, b) => returnAt[a]! - returnAt[b]!);
      if (this.departers[x]!.length >= 2) this.multiDeparture.push(x);
      this.needers[x]!.sort((a, b) => returnAt[a]! - returnAt[b]!);
      this.arrivers[x]!.sort((a, b) => callAt[a]! - callAt[b]!);
      if (this.badAway(x)) this.bad++;
    }
  }

  private badAway(x: number): boolean {
    if (this.departures[x]! > this.arrivals[x]!) return true;
    const needers = this.needers[x]!;
    const n = this.firstNeeder[x]!;
    if (n >= needers.length) return false;
    const arrivers = this.arrivers[x]!;
    const a = this.firstArriver[x]!;
    return a >= arrivers.length || this.callAt[arrivers[a]!]! > this.returnAt[needers[n]!]!;
  }

  private badAt(x: number): boolean {
    return this.departures[x]! > this.arrivals[x]! + 1;
  }

  /** Moves a pointer past the done entries. */
  private advance(list: number[], from: number): number {
    let i = from;
    while (i < list.length && this.done[list[i]!] === 1) i++;
    return i;
  }

  /** Applies op's change (done or not), keeping `bad` right for each id it touches once. */
  private change(op: number, isDone: boolean): void {
    const d = this.departOf[op]!;
    const o = this.needOf[op]!;
    const a = this.arriveOf[op]!;
    const o2 = o === d ? -1 : o;
    const a2 = a === d || a === o ? -1 : a;
    if (d >= 0 && this.badAway(d)) this.bad--;
    if (o2 >= 0 && this.badAway(o2)) this.bad--;
    if (a2 >= 0 && this.badAway(a2)) this.bad--;
    const delta = isDone ? -1 : 1;
    this.done[op] = isDone ? 1 : 0;
    if (d >= 0) this.departures[d]! += delta;
    if (a >= 0) {
      this.arrivals[a]! += delta;
      this.firstArriver[a] = isDone
        ? this.advance(this.arrivers[a]!, this.firstArriver[a]!)
        : this.rewind(this.arrivers[a]!, this.firstArriver[a]!, op, this.callAt);
    }
    if (o >= 0) {
      this.firstNeeder[o] = isDone
        ? this.advance(this.needers[o]!, this.firstNeeder[o]!)
        : this.rewind(this.needers[o]!, this.firstNeeder[o]!, op, this.returnAt);
      this.firstNeeded = isDone
        ? this.advance(this.neededBy, this.firstNeeded)
        : this.rewind(this.neededBy, this.firstNeeded, op, this.returnAt);
    }
    if (d >= 0 && this.badAway(d)) this.bad++;
    if (o2 >= 0 && this.badAway(o2)) this.bad++;
    if (a2 >= 0 && this.badAway(a2)) this.bad++;
  }

  /** The pointer after `op` is pending again: it is op's place if that comes first. */
  private rewind(list: number[], from: number, op: number, key: Int32Array): number {
    if (from < list.length && key[list[from]!]! < key[op]!) return from;
    if (from < list.length && list[from] === op) return from;
    // op sorts at or before the current first pending entry: find its place.
    let lo = 0;
    let hi = Math.min(from, list.length);
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (key[list[mid]!]! < key[op]!) lo = mid + 1;
      else hi = mid;
    }
    while (lo < list.length && list[lo] !== op) lo++;
    return Math.min(lo, from);
  }

  linearize(op: number): void {
    this.change(op, true);
  }

  undo(op: number): void {
    this.change(op, false);
  }

  dead(state: number): boolean {
    if (state >= this.departures.length) return this.bad > 0;
    if (this.bad - (this.badAway(state) ? 1 : 0) + (this.badAt(state) ? 1 : 0) > 0) return true;
    for (const x of this.multiDeparture) if (this.departures[x]! >= 2 && !this.hallHolds(x, state)) return true;
    // The most urgent needs: is there an arrival in time that can still fire?
    let looked = 0;
    for (let i = this.firstNeeded; i < this.neededBy.length && looked < URGENT_NEEDS; i++) {
      const r = this.neededBy[i]!;
      if (this.done[r] === 1) continue;
      looked++;
      const x = this.needOf[r]!;
      if (x !== state && !this.canArrive(x, this.returnAt[r]!, state)) return true;
    }
    return false;
  }

  /** Hall's condition for x's first HALL_DEPARTURES pending departures (see the class comment). */
  private hallHolds(x: number, state: number): boolean {
    const departers = this.departers[x]!;
    const arrivers = this.arrivers[x]!;
    let visits = x === state ? 1 : 0;
    let a = this.firstArriver[x]!;
    let k = 0;
    for (let j = 0; j < departers.length && k < HALL_DEPARTURES; j++) {
      const d = departers[j]!;
      if (this.done[d] === 1) continue;
      k++;
      const deadline = this.returnAt[d]!;
      while (visits < k) {
        while (a < arrivers.length && this.done[arrivers[a]!] === 1) a++;
        if (a >= arrivers.length || this.callAt[arrivers[a]!]! > deadline) return false;
        visits++;
        a++;
      }
    }
    return true;
  }

  /** Whether a pending arrival at x invoked before `deadline` can still fire from `state`. */
  private canArrive(x: number, deadline: number, state: number): boolean {
    const arrivers = this.arrivers[x]!;
    for (let j = this.firstArriver[x]!; j < arrivers.length; j++) {
      const p = arrivers[j]!;
      if (this.done[p] === 1) continue;
      if (this.callAt[p]! > deadline) return false;
      const from = this.arriveFrom[p]!;
      if (from < 0 || from === state || this.arrivals[from]! > 0) return true;
    }
    return false;
  }
}

/** How many of the earliest-returning pending needs VisitPruner.dead checks for an arrival that can fire. */
const URGENT_NEEDS = 8;
/** How many of a value's earliest-returning pending departures VisitPruner's Hall check covers. */
const HALL_DEPARTURES = 8;

/** Per op: the state id it departs from, that it needs, that it can arrive at, and (for a cas) the one it arrives from; -1 for none. */
function roles(
  ops: readonly ModelOp[],
  states: StateIds,
): { departOf: Int32Array; needOf: Int32Array; arriveOf: Int32Array; arriveFrom: Int32Array; maxId: number } {
  const n = ops.length;
  const departOf = new Int32Array(n).fill(-1);
  const needOf = new Int32Array(n).fill(-1);
  const arriveOf = new Int32Array(n).fill(-1);
  const arriveFrom = new Int32Array(n).fill(-1);
  let maxId = 0;
  ops.forEach((op, i) => {
    const ok = op.output !== undefined;
    if (op.f === 'read') {
      if (ok) needOf[i] = states.intern(op.output);
    } else if (op.f === 'write') {
      arriveOf[i] = states.intern(op.input);
    } else if (op.f === 'cas') {
      const a = states.intern(casValues(op)[0]);
      const b = states.intern(casValues(op)[1]);
      if (ok) needOf[i] = a;
      if (a !== b) {
        if (ok) departOf[i] = a;
        arriveOf[i] = b;
        arriveFrom[i] = a;
      }
    }
    maxId = Math.max(maxId, departOf[i]!, needOf[i]!, arriveOf[i]!);
  });
  return { departOf, needOf, arriveOf, arriveFrom, maxId };
}

function pruner(ops: readonly ModelOp[], events: Int32Array, states: StateIds): Pruner {
  const n = ops.length;
  const { departOf, needOf, arriveOf, arriveFrom, maxId } = roles(ops, states);
  const callAt = new Int32Array(n);
  const returnAt = new Int32Array(n);
  events.forEach((ev, pos) => {
    if ((ev & 1) === 0) callAt[ev >> 1] = pos;
    else returnAt[ev >> 1] = pos;
  });
  return new VisitPruner(departOf, needOf, arriveOf, arriveFrom, callAt, returnAt, maxId + 1);
}

/** The search's goal-directed order (Goals in search/wgl.ts): an ok read or ok cas needs its value; a write or cas can set its new value. */
function goals(ops: readonly ModelOp[], states: StateIds): Goals {
  const { needOf, arriveOf, arriveFrom } = roles(ops, states);
  return { needOf, arriveOf, arriveFrom };
}

/**
 * Unknown writes and cas are lazy (reduction 5 of the search): in a register
 * an op observes state v when it is an ok read of v or a cas (ok or not)
 * expecting v; a write observes nothing.
 */
function lazyUnknowns(ops: readonly ModelOp[], states: StateIds): LazyUnknowns {
  const n = ops.length;
  const lazy = new Uint8Array(n);
  const observed = new Int32Array(n).fill(-1);
  ops.forEach((op, i) => {
    if (op.output === undefined && (op.f === 'write' || op.f === 'cas')) lazy[i] = 1;
    if (op.f === 'read' && op.output !== undefined) observed[i] = states.intern(op.output);
    if (op.f === 'cas') observed[i] = states.intern(casValues(op)[0]);
  });
  return { lazy, observes: (op, state) => observed[op] === state };
}

/**
 * Static refutations, in O(n log n), before any search. With R an ok op
 * observing v (an ok read of v, an ok cas expecting v), "X < Y" meaning X
 * returned before Y was invoked (so X precedes Y in every linearization):
 * 1. Read from the future: every producer of v was invoked after R
 *    returned, and v is not the initial value. Nothing can set v before R.
 * 2. Overwritten for good: v has one producer P (v not initial), and some
 *    ok op X that sets another value has P < X < R. Every linearization
 *    has P, X, R in that order; after X the state is not v, and only P
 *    could make it v again, but P is before X.
 * (The stale read Jepsen users hunt for is 2.)
 */
function refute(ops: readonly PreparedOp[], events: Int32Array): Refutation | null {
  const { inv, ret } = intervals(ops, events);
  const initKey = valueKey(null);
  const producers = new Map<Key, number[]>();
  const observers = new Map<Key, number[]>();
  const setters: number[] = [];
  ops.forEach((p, i) => {
    const op = p.modelOp;
    const pr = produced(op);
    if (pr !== undefined) {
      const k = valueKey(pr.v);
      let list = producers.get(k);
      if (list === undefined) producers.set(k, (list = []));
      list.push(i);
      if (p.outcome === 'ok') setters.push(i);
    }
    if (p.outcome === 'ok' && (op.f === 'read' || op.f === 'cas')) {
      const k = valueKey(op.f === 'read' ? op.output : casValues(op)[0]);
      let list = observers.get(k);
      if (list === undefined) observers.set(k, (list = []));
      list.push(i);
    }
  });
  // Setters by call position, with the least return among those called at or after each.
  setters.sort((a, b) => inv[a]! - inv[b]!);
  const setterInv = Float64Array.from(setters, (i) => inv[i]!);
  const minRetFrom = new Float64Array(setters.length + 1).fill(Infinity);
  const argMinRetFrom = new Int32Array(setters.length + 1).fill(-1);
  for (let j = setters.length - 1; j >= 0; j--) {
    const r = ret[setters[j]!]!;
    if (r < minRetFrom[j + 1]!) {
      minRetFrom[j] = r;
      argMinRetFrom[j] = setters[j]!;
    } else {
      minRetFrom[j] = minRetFrom[j + 1]!;
      argMinRetFrom[j] = argMinRetFrom[j + 1]!;
    }
  }
  const firstSetterCalledAfter = (pos: number): number => {
    let lo = 0;
    let hi = setterInv.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (setterInv[mid]! > pos) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };
  const describe = (i: number): string => {
    const o = ops[i]!.invoke;
    return `${ops[i]!.modelOp.f} ${JSON.stringify(ops[i]!.modelOp.f === 'read' ? ops[i]!.modelOp.output : o.value)} (line ${o.line ?? o.index})`;
  };
  for (const [k, obs] of observers) {
    if (k === initKey) continue;
    const prods = producers.get(k) ?? [];
    let latest = obs[0]!;
    for (const r of obs) if (inv[r]! > inv[latest]!) latest = r;
    for (const r of obs) {
      if (prods.every((p) => inv[p]! > ret[r]!))
        return { reason: `${describe(r)} observes a value no op could have written before it returned`, ops: [r] };
    }
    if (prods.length !== 1) continue;
    const p = prods[0]!;
    if (ret[p] === Infinity) continue;
    const j = firstSetterCalledAfter(ret[p]!);
    if (minRetFrom[j]! < inv[latest]!) {
      const x = argMinRetFrom[j]!;
      return {
        reason: `${describe(latest)} observes the value written by ${describe(p)}, but ${describe(x)} overwrote it in between (in real time) and nothing writes it again`,
        ops: [p, x, latest],
      };
    }
  }
  return null;
}

export const registerFastPaths: ModelFastPaths = { needed, searchOps, pruner, goals, lazyUnknowns, refute };
