// Fast paths for the kv model (get, put, append over one string per key).
//
// Without a put, the string only grows: every state is a prefix of every
// later one. The fast paths lean on that.
import type { ModelOp } from '../models/model.js';
import type { PreparedOp } from '../history.js';
import { kvHashBase, type KvState } from '../models/kv.js';
import type { Pruner } from '../search/wgl.js';
import { intervals, type ModelFastPaths, type Refutation, type StateIds } from './fast-paths.js';

function getValue(op: ModelOp): string {
  return (op.output as string | null) ?? '';
}

/** A value for a message: long strings are elided in the middle. */
function shown(v: string): string {
  return JSON.stringify(v.length <= 60 ? v : `${v.slice(0, 28)}…${v.slice(-28)} (${v.length} chars)`);
}

/**
 * Unobserved unknown appends and puts. An info append of t, where no ok get
 * returns a string containing t, or an info put of v, where no ok get
 * returns a string starting with v, can be removed: the history is
 * linearizable iff it is without it.
 * (⇐) Append it at the end of a linearization without it (puts and appends
 *     are always legal; it returns after everything).
 * (⇒) In a linearization L, after the append the state is s + t, and until
 *     the next put every state extends s + t (appends only extend), so an ok
 *     get there would return a string containing t: there is none. The same
 *     for a put of v (every state until the next put starts with v). So
 *     between it and the next put there are only appends and unknown gets
 *     (dropped already): drop it, and the states there change but nobody
 *     looks at them; the next put sets the state regardless.
 * The ok gets' values are joined with NUL so each token is one substring
 * search; a token containing NUL might match across two values, which only
 * keeps an op that could have gone (safe).
 */
function needed(ops: readonly PreparedOp[]): boolean[] {
  const keep = ops.map(() => true);
  if (!ops.some((p) => p.outcome !== 'ok' && p.modelOp.f !== 'get')) return keep;
  // Only the maximal values matter: a token in a prefix of v is in v.
  const distinct = new Set<string>();
  for (const p of ops) if (p.modelOp.f === 'get' && p.modelOp.output !== undefined) distinct.add(getValue(p.modelOp));
  const values: string[] = [];
  for (const v of [...distinct].sort((a, b) => b.length - a.length)) if (!values.some((w) => w.startsWith(v))) values.push(v);
  const joined = '\u0000' + values.join('\u0000');
  // Puts: a value starting with v may be a prefix of a maximal value only, so look in every distinct value.
  const starts = '\u0000' + [...distinct].join('\u0000');
  const seen = new Map<string, boolean>();
  ops.forEach((p, i) => {
    if (p.outcome === 'ok') return;
    const op = p.modelOp;
    const v = op.input as string;
    if (op.f === 'append') {
      if (v.length === 0) {
        keep[i] = false; // appends nothing: no effect at all
        return;
      }
      let found = seen.get(v);
      if (found === undefined) seen.set(v, (found = joined.includes(v)));
      keep[i] = found;
    } else if (op.f === 'put') {
      keep[i] = starts.includes('\u0000' + v);
    }
  });
  return keep;
}

function searchOps(ops: readonly PreparedOp[], init: unknown): { ops: ModelOp[]; init: unknown } {
  return { ops: ops.map((p) => p.modelOp), init };
}

/**
 * Prefix pruning. Configuration C is dead if a pending ok get (every ok op
 * must be placed; checked for the PENDING_GETS_CHECKED earliest-returning
 * ones) can no longer see its value V. From C on, appends only extend the string and a put resets it
 * to its value, after which appends extend that. So when the get is placed,
 * the string is C's string plus appends, or, if some put is placed before
 * it, the value of the last such put plus appends: V must extend C's string
 * or extend the value of a put still pending (unplaced; a placed put is in
 * C's past). If neither holds, no continuation of C places the get: dead.
 * With unique appended tokens this makes the order of appends between two
 * gets forced, instead of one of their n! orders; with puts (Porcupine's
 * c50 histories: 12 puts among 109 appends on a key, 50 clients) a branch
 * that placed the put a get's value starts with too early, or a put too
 * late, ends at once instead of after the appends it would still try.
 */
/**
 * How many pending ok gets (earliest return first) a configuration is
 * checked against: every one must still see its value, not only the next.
 * Porcupine's c50-bad key 0 (230 ops, 50 clients, 12 puts) ran out of the
 * memory cap checking only the next get and is refuted in 2.4 s checking 64;
 * the bound keeps a step's cost constant on read-heavy keys.
 */
const PENDING_GETS_CHECKED = 64;

class PrefixPruner implements Pruner {
  /** Ok gets by return position, and their rank per op (-1: not an ok get). */
  private readonly gets: number[];
  private readonly rankOf: Int32Array;
  private readonly done: Uint8Array;
  /** Per get rank, the polynomial hashes of its value's prefixes (computed on first use). */
  private readonly prefixHashes: (Int32Array | undefined)[];
  /** Per get rank, the puts whose value V starts with (computed on first use). */
  private readonly basePuts: (Int32Array | undefined)[];
  private readonly puts: number[] = [];
  private firstPending = 0;

  constructor(
    private readonly ops: readonly ModelOp[],
    events: Int32Array,
    private readonly states: StateIds,
  ) {
    const n = ops.length;
    this.rankOf = new Int32Array(n).fill(-1);
    this.done = new Uint8Array(n);
    this.gets = [];
    for (const ev of events) {
      if ((ev & 1) === 0) continue;
      const op = ev >> 1;
      const o = ops[op]!;
      if (o.f === 'get' && o.output !== undefined) {
        this.rankOf[op] = this.gets.length;
        this.gets.push(op);
      }
    }
    this.prefixHashes = new Array<Int32Array | undefined>(this.gets.length);
    this.basePuts = new Array<Int32Array | undefined>(this.gets.length);
    ops.forEach((o, i) => {
      if (o.f === 'put') this.puts.push(i);
    });
  }

  linearize(op: number): void {
    this.done[op] = 1;
    const r = this.rankOf[op]!;
    if (r === this.firstPending) {
      while (this.firstPending < this.gets.length && this.done[this.gets[this.firstPending]!] === 1) this.firstPending++;
    }
  }

  undo(op: number): void {
    this.done[op] = 0;
    const r = this.rankOf[op]!;
    if (r >= 0 && r < this.firstPending) this.firstPending = r;
  }

  /**
   * Compares the state's hash with the hash of the get value's prefix of
   * the same length (O(1), no string is touched): different hashes prove
   * "not a prefix"; equal ones are taken as "prefix" (a collision only
   * misses a prune, it never prunes wrongly).
   */
  dead(state: number): boolean {
    if (this.firstPending >= this.gets.length) return false;
    const s = this.states.stateOf(state) as KvState;
    let checked = 0;
    for (let r = this.firstPending; r < this.gets.length && checked < PENDING_GETS_CHECKED; r++) {
      if (this.done[this.gets[r]!] === 1) continue;
      checked++;
      if (this.unreachable(r, s)) return true;
    }
    return false;
  }

  /** Whether the ok get of rank `r` can no longer see its value from state `s` (see the class comment). */
  private unreachable(r: number, s: KvState): boolean {
    let ph = this.prefixHashes[r];
    if (ph === undefined) {
      const g = getValue(this.ops[this.gets[r]!]!);
      ph = new Int32Array(g.length + 1);
      let h = 0;
      for (let i = 0; i < g.length; i++) {
        h = (Math.imul(h, kvHashBase) + g.charCodeAt(i)) | 0;
        ph[i + 1] = h;
      }
      this.prefixHashes[r] = ph;
    }
    const len = s.v.length;
    if (len < ph.length && ph[len] === s.h) return false; // V extends C's string
    if (this.puts.length === 0) return true;
    let bases = this.basePuts[r];
    if (bases === undefined) {
      // Exact, not hashed: a put wrongly left out here would prune wrongly.
      const g = getValue(this.ops[this.gets[r]!]!);
      bases = Int32Array.from(this.puts.filter((p) => g.startsWith((this.ops[p]!.input as string | null) ?? '')));
      this.basePuts[r] = bases;
    }
    for (const p of bases) if (this.done[p] === 0) return false; // V may extend that put's value
    return true;
  }
}

function pruner(ops: readonly ModelOp[], events: Int32Array, states: StateIds): Pruner | undefined {
  if (!ops.some((o) => o.f === 'get' && o.output !== undefined)) return undefined;
  return new PrefixPruner(ops, events, states);
}

/**
 * Static refutations for a key without puts (the string only grows), with
 * "X < Y" meaning X returned before Y was invoked:
 * 1. For ok gets G1 < G2, G1's value is a prefix of G2's (checked against
 *    the longest value among the gets that returned before G2 was invoked).
 * 2. For an ok append A < G (an ok get), G's value contains A's token: after
 *    A the string holds the token and only grows (checked against the
 *    shortest value among the gets invoked after A returned).
 */
function refute(ops: readonly PreparedOp[], events: Int32Array): Refutation | null {
  if (ops.some((p) => p.modelOp.f === 'put')) return null;
  const { inv, ret } = intervals(ops, events);
  const gets: number[] = [];
  ops.forEach((p, i) => {
    if (p.modelOp.f === 'get' && p.outcome === 'ok') gets.push(i);
  });
  if (gets.length === 0) return null;
  const line = (i: number): string => String(ops[i]!.invoke.line ?? ops[i]!.invoke.index);
  // 1. Walk gets by call position; the ones returned before it are merged by return position.
  const byInv = [...gets].sort((a, b) => inv[a]! - inv[b]!);
  const byRet = [...gets].sort((a, b) => ret[a]! - ret[b]!);
  let k = 0;
  let longest = -1;
  for (const g of byInv) {
    while (k < byRet.length && ret[byRet[k]!]! < inv[g]!) {
      const h = byRet[k++]!;
      if (longest < 0 || getValue(ops[h]!.modelOp).length > getValue(ops[longest]!.modelOp).length) longest = h;
    }
    if (longest >= 0 && !getValue(ops[g]!.modelOp).startsWith(getValue(ops[longest]!.modelOp))) {
      return {
        reason: `get (line ${line(g)}) returned ${shown(getValue(ops[g]!.modelOp))}, which does not extend ${shown(getValue(ops[longest]!.modelOp))} returned earlier (line ${line(longest)})`,
        ops: [longest, g],
      };
    }
  }
  // 2. For each ok append, the shortest get invoked after it returned (suffix minimum by call position).
  const shortestFrom = new Int32Array(byInv.length + 1).fill(-1);
  for (let j = byInv.length - 1; j >= 0; j--) {
    const g = byInv[j]!;
    const best = shortestFrom[j + 1]!;
    shortestFrom[j] = best < 0 || getValue(ops[g]!.modelOp).length < getValue(ops[best]!.modelOp).length ? g : best;
  }
  for (let i = 0; i < ops.length; i++) {
    const p = ops[i]!;
    if (p.modelOp.f !== 'append' || p.outcome !== 'ok') continue;
    let lo = 0;
    let hi = byInv.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (inv[byInv[mid]!]! > ret[i]!) hi = mid;
      else lo = mid + 1;
    }
    const g = shortestFrom[lo]!;
    const t = p.modelOp.input as string;
    if (g >= 0 && !getValue(ops[g]!.modelOp).includes(t)) {
      return {
        reason: `append ${shown(t)} (line ${line(i)}) returned before the get at line ${line(g)} began, which returned ${shown(getValue(ops[g]!.modelOp))} without it`,
        ops: [i, g],
      };
    }
  }
  return null;
}

export const kvFastPaths: ModelFastPaths = { needed, searchOps, pruner, refute };
