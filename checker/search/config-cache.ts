// Lowe's memo of visited WGL configurations (linearized set, model state): a
// configuration already explored is never explored again ("Testing for
// linearizability", 2017; Porcupine's `cache`). Open addressing over entry
// ids; the entries live in parallel typed arrays and their trimmed bitsets
// (see LinearizedSet) in one pooled Uint32Array, so an entry costs ~24 bytes
// plus its few trimmed words and nothing is allocated per lookup.
import type { LinearizedSet } from './linearized-set.js';

/** Table slot value meaning "empty"; occupied slots hold entry id + 1. */
const EMPTY_SLOT = 0;
/** Bytes per entry in the parallel arrays (hash, state, lo, len: 4 each; pool offset: 8). */
const BYTES_PER_ENTRY = 24;

export class ConfigCache {
  /** Entries stored. */
  size = 0;
  private tableMask = (1 << 12) - 1;
  private table = new Int32Array(this.tableMask + 1);
  private capacity = 1024;
  private entHash = new Int32Array(this.capacity);
  private entState = new Int32Array(this.capacity);
  private entLo = new Int32Array(this.capacity);
  private entLen = new Int32Array(this.capacity);
  private entOff = new Float64Array(this.capacity);
  private pool = new Uint32Array(4096);
  private poolUsed = 0;

  /** Estimated bytes held (table, entries, pool). */
  bytes(): number {
    return this.pool.byteLength + this.table.byteLength + this.capacity * BYTES_PER_ENTRY;
  }

  /** Adds the configuration (set, state); false when it was already present. */
  add(set: LinearizedSet, state: number): boolean {
    let h = set.hash ^ Math.imul(state + 1, 0x9e3779b1);
    // MurmurHash3's 32-bit finalizer: spreads the Zobrist XOR over the table bits.
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    const lo = set.lo;
    const hi = set.hi;
    const len = hi > lo ? hi - lo : 0;
    const words = set.words;
    const pool = this.pool;
    const table = this.table;
    const mask = this.tableMask;
    const entHash = this.entHash;
    const entState = this.entState;
    const entLo = this.entLo;
    const entLen = this.entLen;
    let slot = h & mask;
    for (;;) {
      const t = table[slot]!;
      if (t === EMPTY_SLOT) break;
      const i = t - 1;
      if (entHash[i] === h && entState[i] === state && entLo[i] === lo && entLen[i] === len) {
        const off = this.entOff[i]!;
        let k = 0;
        while (k < len && pool[off + k] === words[lo + k]) k++;
        if (k === len) return false;
      }
      slot = (slot + 1) & mask;
    }
    this.insertAt(slot, h, set, state, lo, len);
    return true;
  }

  private insertAt(slot: number, h: number, set: LinearizedSet, state: number, lo: number, len: number): void {
    const i = this.size;
    if (i === this.capacity) this.grow();
    if (this.poolUsed + len > this.pool.length) {
      let size = this.pool.length * 2;
      while (this.poolUsed + len > size) size *= 2;
      const p = new Uint32Array(size);
      p.set(this.pool.subarray(0, this.poolUsed));
      this.pool = p;
    }
    const words = set.words;
    for (let k = 0; k < len; k++) this.pool[this.poolUsed + k] = words[lo + k]!;
    this.entHash[i] = h;
    this.entState[i] = state;
    this.entLo[i] = lo;
    this.entLen[i] = len;
    this.entOff[i] = this.poolUsed;
    this.poolUsed += len;
    this.table[slot] = ++this.size;
    if (this.size * 2 > this.tableMask) this.rehash();
  }

  private grow(): void {
    const cap = this.capacity * 2;
    const h = new Int32Array(cap); h.set(this.entHash); this.entHash = h;
    const s = new Int32Array(cap); s.set(this.entState); this.entState = s;
    const l = new Int32Array(cap); l.set(this.entLo); this.entLo = l;
    const n = new Int32Array(cap); n.set(this.entLen); this.entLen = n;
    const o = new Float64Array(cap); o.set(this.entOff); this.entOff = o;
    this.capacity = cap;
  }

  private rehash(): void {
    const size = (this.tableMask + 1) * 2;
    this.tableMask = size - 1;
    this.table = new Int32Array(size);
    for (let i = 0; i < this.size; i++) {
      let slot = this.entHash[i]! & this.tableMask;
      while (this.table[slot] !== EMPTY_SLOT) slot = (slot + 1) & this.tableMask;
      this.table[slot] = i + 1;
    }
  }
}
