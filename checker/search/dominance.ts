// Dominance memo: configurations that were fully explored and have no
// completion, keyed by their ok ops other than pure observers (the "exact"
// set) and their state, each with the pure observers (ok reads, ok cas
// [a, a]) it had linearized and the unknown-outcome ops it had used. A new
// configuration with the same exact set and state that has linearized a
// subset of some failed one's observers and used a superset of its unknown
// ops fails too, so it is not explored.
//
// Proof: let F = (exact E, observers O, unknown U, state s) have no
// completion and N = (E, O', U', s) with O' ⊆ O and U' ⊇ U. Take a
// completion σ of N and drop from it the observers in O \ O' (removing ops
// keeps real time, and observers leave the state alone, so the rest sees
// the same states). From F the result is legal: F has linearized every op N
// has except unknown ones, and unknown ops return after everything, so F's
// first pending return is no earlier than N's and every op σ places is a
// candidate in F when it is in N; it starts from the same state; the unknown
// ops in U' \ U that F still has left go at the end, where any order of
// unknown ops is legal (a model step with an unknown outcome is total). So F
// would have a completion: contradiction.
// Only finished configurations are recorded, never one still being
// explored, so the argument needs nothing about the search's own order.
//
// Storage mirrors ConfigCache: parallel typed arrays and a pool of trimmed
// bitsets (LinearizedSet), chained per hash bucket (several entries share a
// key: same ok set and state, different unknown sets).
import type { LinearizedSet } from './linearized-set.js';
import type { MemoryBudget } from './memory.js';

const BYTES_PER_ENTRY = 52;
/**
 * Most entries of one key compared per lookup, newest first. Missing a
 * dominating entry only costs a re-exploration (the exact cache still
 * catches equal configurations), while scanning a long chain of entries
 * that differ only in their observers costs on every lookup.
 */
const MAX_SCAN = 8;

export class DominanceMemo {
  size = 0;
  private mask = 1023;
  private heads = new Int32Array(1024).fill(-1);
  private capacity = 256;
  private nextOf: Int32Array = new Int32Array(this.capacity);
  private hashOf: Int32Array = new Int32Array(this.capacity);
  private stateOf: Int32Array = new Int32Array(this.capacity);
  private okLo: Int32Array = new Int32Array(this.capacity);
  private okLen: Int32Array = new Int32Array(this.capacity);
  private unkLo: Int32Array = new Int32Array(this.capacity);
  private unkLen: Int32Array = new Int32Array(this.capacity);
  private obsLo: Int32Array = new Int32Array(this.capacity);
  private obsLen: Int32Array = new Int32Array(this.capacity);
  private off: Float64Array = new Float64Array(this.capacity);
  private pool = new Uint32Array(1024);
  private poolUsed = 0;

  constructor(private readonly memory: MemoryBudget) {}

  bytes(): number {
    return this.pool.byteLength + this.heads.byteLength + this.capacity * BYTES_PER_ENTRY;
  }

  private static hash(ok: LinearizedSet, state: number): number {
    let h = ok.hash ^ Math.imul(state + 1, 0x9e3779b1);
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    return h;
  }

  /** Whether a recorded failed configuration dominates (exact, observers, unknown, state). */
  dominated(ok: LinearizedSet, observers: LinearizedSet, unknown: LinearizedSet, state: number): boolean {
    const h = DominanceMemo.hash(ok, state);
    const lo = ok.lo;
    const len = ok.hi > ok.lo ? ok.hi - ok.lo : 0;
    const pool = this.pool;
    let scanned = 0;
    for (let e = this.heads[h & this.mask]!; e >= 0 && scanned < MAX_SCAN; e = this.nextOf[e]!) {
      if (this.hashOf[e] !== h || this.stateOf[e] !== state || this.okLo[e] !== lo || this.okLen[e] !== len) continue;
      scanned++;
      let off = this.off[e]!;
      let k = 0;
      while (k < len && pool[off + k] === ok.words[lo + k]) k++;
      if (k < len) continue;
      off += len;
      // The recorded unknown set (all ones below its lo, its words, zeros above) within the current one.
      const ulo = this.unkLo[e]!;
      if (unknown.lo < ulo) continue;
      const ulen = this.unkLen[e]!;
      let sub = true;
      for (let j = 0; j < ulen; j++) {
        if ((pool[off + j]! & ~unknown.words[ulo + j]!) !== 0) {
          sub = false;
          break;
        }
      }
      if (!sub) continue;
      off += ulen;
      // The current observers within the recorded ones.
      const olo = this.obsLo[e]!;
      const olen = this.obsLen[e]!;
      if (observers.hi > olo + olen) continue;
      for (let j = 0; j < olen; j++) {
        if ((observers.words[olo + j]! & ~pool[off + j]!) !== 0) {
          sub = false;
          break;
        }
      }
      if (sub) return true;
    }
    return false;
  }

  /** Records a failed configuration; false when the memory budget forbids it (the search then stops). */
  add(ok: LinearizedSet, observers: LinearizedSet, unknown: LinearizedSet, state: number): boolean {
    const len = ok.hi > ok.lo ? ok.hi - ok.lo : 0;
    const ulen = unknown.hi > unknown.lo ? unknown.hi - unknown.lo : 0;
    const olen = observers.hi > observers.lo ? observers.hi - observers.lo : 0;
    const words = len + ulen + olen;
    if (this.size === this.capacity) {
      if (!this.memory.allows(this.capacity * BYTES_PER_ENTRY * 2)) return false;
      this.grow();
    }
    if (this.poolUsed + words > this.pool.length) {
      let size = this.pool.length * 2;
      while (this.poolUsed + words > size) size *= 2;
      if (!this.memory.allows(size * 4)) return false;
      const p = new Uint32Array(size);
      p.set(this.pool.subarray(0, this.poolUsed));
      this.pool = p;
    }
    if (this.size * 2 > this.mask) {
      if (!this.memory.allows(this.heads.byteLength * 2)) return false;
      this.rehash();
    }
    const e = this.size++;
    const h = DominanceMemo.hash(ok, state);
    this.hashOf[e] = h;
    this.stateOf[e] = state;
    this.okLo[e] = ok.lo;
    this.okLen[e] = len;
    this.unkLo[e] = unknown.lo;
    this.unkLen[e] = ulen;
    this.obsLo[e] = observers.lo;
    this.obsLen[e] = olen;
    this.off[e] = this.poolUsed;
    for (let k = 0; k < len; k++) this.pool[this.poolUsed++] = ok.words[ok.lo + k]!;
    for (let k = 0; k < ulen; k++) this.pool[this.poolUsed++] = unknown.words[unknown.lo + k]!;
    for (let k = 0; k < olen; k++) this.pool[this.poolUsed++] = observers.words[observers.lo + k]!;
    const b = h & this.mask;
    this.nextOf[e] = this.heads[b]!;
    this.heads[b] = e;
    return true;
  }

  private grow(): void {
    const cap = this.capacity * 2;
    const i32 = (a: Int32Array): Int32Array => {
      const b = new Int32Array(cap);
      b.set(a);
      return b;
    };
    this.nextOf = i32(this.nextOf);
    this.hashOf = i32(this.hashOf);
    this.stateOf = i32(this.stateOf);
    this.okLo = i32(this.okLo);
    this.okLen = i32(this.okLen);
    this.unkLo = i32(this.unkLo);
    this.unkLen = i32(this.unkLen);
    this.obsLo = i32(this.obsLo);
    this.obsLen = i32(this.obsLen);
    const o = new Float64Array(cap);
    o.set(this.off);
    this.off = o;
    this.capacity = cap;
  }

  private rehash(): void {
    const size = (this.mask + 1) * 2;
    this.mask = size - 1;
    this.heads = new Int32Array(size).fill(-1);
    for (let e = 0; e < this.size; e++) {
      const b = this.hashOf[e]! & this.mask;
      this.nextOf[e] = this.heads[b]!;
      this.heads[b] = e;
    }
  }
}
