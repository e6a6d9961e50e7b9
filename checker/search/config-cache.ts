// Lowe's memo of visited WGL configurations (linearized set, model state): a
// configuration already explored is never explored again ("Testing for
// linearizability", 2017; Porcupine's `cache`). Open addressing over entry
// ids; the entries live in parallel typed arrays and their trimmed bitsets
// (see LinearizedSet) in one pooled Uint32Array, so an entry costs ~24 bytes
// plus its few trimmed words and nothing is allocated per lookup. It starts
// small (a history with many keys has one cache per key) and doubles, asking
// the MemoryBudget first.
import type { LinearizedSet } from './linearized-set.js';
import type { MemoryBudget } from './memory.js';

/** Table slot value meaning "empty"; occupied slots hold entry id + 1. */
const EMPTY_SLOT = 0;
/** Bytes per entry in the parallel arrays (hash, state, lo, len: 4 each; pool offset: 8). */
const BYTES_PER_ENTRY = 24;
const INITIAL_TABLE_SLOTS = 64;
const INITIAL_ENTRIES = 32;
const INITIAL_POOL_WORDS = 64;

/** Result of ConfigCache.add. */
export const CacheAdd = {
  /** The configuration was new and is now stored. */
  added: 1,
  /** Already stored: explored before. */
  present: 0,
  /** New, but storing it would pass the memory budget. */
  full: -1,
} as const;
export type CacheAdd = (typeof CacheAdd)[keyof typeof CacheAdd];

export class ConfigCache {
  /** Entries stored. */
  size = 0;
  private tableMask = INITIAL_TABLE_SLOTS - 1;
  private table = new Int32Array(INITIAL_TABLE_SLOTS);
  private capacity = INITIAL_ENTRIES;
  private entHash = new Int32Array(INITIAL_ENTRIES);
  private entState = new Int32Array(INITIAL_ENTRIES);
  private entLo = new Int32Array(INITIAL_ENTRIES);
  private entLen = new Int32Array(INITIAL_ENTRIES);
  private entOff = new Float64Array(INITIAL_ENTRIES);
  private pool = new Uint32Array(INITIAL_POOL_WORDS);
  private poolUsed = 0;

  constructor(private readonly memory: MemoryBudget) {}

  /** Estimated bytes held (table, entries, pool). */
  bytes(): number {
    return this.pool.byteLength + this.table.byteLength + this.capacity * BYTES_PER_ENTRY;
  }

  /** Adds the configuration (set, state) unless present (or the memory budget forbids it). */
  add(set: LinearizedSet, state: number): CacheAdd {
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
        if (k === len) return CacheAdd.present;
      }
      slot = (slot + 1) & mask;
    }
    if (!this.makeRoom(len)) return CacheAdd.full;
    this.insert(h, set, state, lo, len);
    return CacheAdd.added;
  }

  /** Grows whatever one more entry of `len` words needs, if the budget allows. */
  private makeRoom(len: number): boolean {
    if (this.size === this.capacity) {
      if (!this.memory.allows(this.capacity * BYTES_PER_ENTRY * 2)) return false;
      this.grow();
    }
    if (this.poolUsed + len > this.pool.length) {
      let size = this.pool.length * 2;
      while (this.poolUsed + len > size) size *= 2;
      if (!this.memory.allows(size * 4)) return false;
      const p = new Uint32Array(size);
      p.set(this.pool.subarray(0, this.poolUsed));
      this.pool = p;
    }
    if ((this.size + 1) * 2 > this.tableMask) {
      if (!this.memory.allows(this.table.byteLength * 2)) return false;
      this.rehash();
    }
    return true;
  }

  private insert(h: number, set: LinearizedSet, state: number, lo: number, len: number): void {
    const i = this.size;
    const words = set.words;
    for (let k = 0; k < len; k++) this.pool[this.poolUsed + k] = words[lo + k]!;
    this.entHash[i] = h;
    this.entState[i] = state;
    this.entLo[i] = lo;
    this.entLen[i] = len;
    this.entOff[i] = this.poolUsed;
    this.poolUsed += len;
    let slot = h & this.tableMask;
    while (this.table[slot] !== EMPTY_SLOT) slot = (slot + 1) & this.tableMask;
    this.table[slot] = ++this.size;
  }

  private grow(): void {
    const cap = this.capacity * 2;
    const h = new Int32Array(cap);
    h.set(this.entHash);
    this.entHash = h;
    const s = new Int32Array(cap);
    s.set(this.entState);
    this.entState = s;
    const l = new Int32Array(cap);
    l.set(this.entLo);
    this.entLo = l;
    const n = new Int32Array(cap);
    n.set(this.entLen);
    this.entLen = n;
    const o = new Float64Array(cap);
    o.set(this.entOff);
    this.entOff = o;
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
