/**
 * The visited set: 64-bit state fingerprints in an open-addressing hash
 * table of fixed capacity, each with the fingerprint of the state it was
 * first reached from (its BFS parent), as TLC's fingerprint set and
 * Stateright's `generated` map keep them. A shortest counterexample is
 * rebuilt by walking the parents back to the initial state and replaying
 * forward (mc/trace.ts), so no state itself is ever stored here: 16 bytes
 * a slot (`--max-states` sets the capacity; the memory bound of the
 * search).
 *
 * In one thread the table starts small and doubles (rehashing) as it
 * fills, up to the capacity: the first write to each page of a fresh
 * buffer costs a page fault, and a 256 MB table allocated up front cost
 * more (kernel) time than a run of a few hundred thousand states spent on
 * everything else (mc/README.md, "Measured").
 *
 * The table lives in a SharedArrayBuffer so worker threads (mc/parallel.ts)
 * share it. Insertion is lock-free: a slot is claimed by a compare-exchange
 * of its high word from 0 to the fingerprint's (never 0: a zero high word
 * is remapped), then its low word and parent are written; a reader that
 * finds a claimed slot whose low word is not written yet waits for it (the
 * writer is between two stores).
 */

const WORDS = 4; // hi, lo, parentHi, parentLo
/** Fill factor at which the table counts as full (linear probing degrades beyond it). */
const MAX_LOAD = 0.75;

/** Slots a growing (one-thread) table starts with: 1 MB. */
const INITIAL_SLOTS = 1 << 16;

export class VisitedSet {
  private table: Int32Array;
  private mask: number;
  private readonly counter: Int32Array;
  readonly capacity: number;
  private readonly shared: boolean;
  private localSize = 0;

  /** `maxStates` distinct states fit; `shared` builds it on memory other threads can be given (`fromShared`). */
  constructor(maxStates: number, shared = false, buffers: { table: SharedArrayBuffer; counter: SharedArrayBuffer } | null = null) {
    let slots = 1024;
    while (slots * MAX_LOAD < maxStates) slots *= 2;
    this.maxSlots = slots;
    if (buffers !== null) {
      this.table = new Int32Array(buffers.table);
      this.counter = new Int32Array(buffers.counter);
    } else if (shared) {
      this.table = new Int32Array(new SharedArrayBuffer(slots * WORDS * 4));
      this.counter = new Int32Array(new SharedArrayBuffer(4));
    } else {
      this.table = new Int32Array(Math.min(slots, INITIAL_SLOTS) * WORDS);
      this.counter = new Int32Array(1);
    }
    this.mask = this.table.length / WORDS - 1;
    this.capacity = Math.floor(slots * MAX_LOAD);
    this.shared = this.table.buffer instanceof SharedArrayBuffer;
  }

  /** Slots of the table at its full size. */
  private readonly maxSlots: number;

  /** One thread: doubles the table (up to maxSlots), re-inserting every entry. */
  private grow(): void {
    const old = this.table;
    const slots = (2 * old.length) / WORDS;
    const t = new Int32Array(slots * WORDS);
    const mask = slots - 1;
    for (let at = 0; at < old.length; at += WORDS) {
      const hi = old[at]!;
      if (hi === 0) continue;
      const lo = old[at + 1]!;
      let slot = (Math.imul(hi ^ lo, 0x9e3779b1) >>> 0) & mask;
      while (t[slot * WORDS] !== 0) slot = (slot + 1) & mask;
      t.set(old.subarray(at, at + WORDS), slot * WORDS);
    }
    this.table = t;
    this.mask = mask;
  }

  /** The shared memory, to hand to worker threads. */
  buffers(): { table: SharedArrayBuffer; counter: SharedArrayBuffer } {
    if (!(this.table.buffer instanceof SharedArrayBuffer) || !(this.counter.buffer instanceof SharedArrayBuffer))
      throw new Error('mc: visited set is not shared');
    return { table: this.table.buffer, counter: this.counter.buffer };
  }

  static fromShared(maxStates: number, buffers: { table: SharedArrayBuffer; counter: SharedArrayBuffer }): VisitedSet {
    return new VisitedSet(maxStates, true, buffers);
  }

  get size(): number {
    return this.shared ? Atomics.load(this.counter, 0) : this.localSize;
  }

  get full(): boolean {
    return this.size >= this.capacity;
  }

  /** Bytes the table occupies at its full size. */
  get maxBytes(): number {
    return this.maxSlots * WORDS * 4;
  }

  /** Bytes the table occupies now (one thread: it grows up to maxStates' size). */
  get bytes(): number {
    return this.table.byteLength;
  }

  /**
   * Adds fingerprint (hi, lo) with its parent; returns true when it was new.
   * When the table is full, returns false for new fingerprints too (check `full`).
   */
  add(hi: number, lo: number, parentHi: number, parentLo: number): boolean {
    if (hi === 0) hi = 0x5bd1e995; // 0 marks an empty slot
    if (lo === 0) lo = 0x1b873593; // 0 marks a low word not yet written
    if (!this.shared) return this.addLocal(hi, lo, parentHi, parentLo);
    const t = this.table;
    let slot = (Math.imul(hi ^ lo, 0x9e3779b1) >>> 0) & this.mask;
    for (;;) {
      const at = slot * WORDS;
      let seen = Atomics.load(t, at);
      if (seen === 0) {
        if (this.full) return false;
        seen = Atomics.compareExchange(t, at, 0, hi);
        if (seen === 0) {
          t[at + 2] = parentHi;
          t[at + 3] = parentLo;
          Atomics.store(t, at + 1, lo);
          Atomics.add(this.counter, 0, 1);
          return true;
        }
      }
      if (seen === hi) {
        let low = Atomics.load(t, at + 1);
        while (low === 0) low = Atomics.load(t, at + 1);
        if (low === lo) return false;
      }
      slot = (slot + 1) & this.mask;
    }
  }

  /** `add` for a table no other thread sees: plain loads and stores. */
  private addLocal(hi: number, lo: number, parentHi: number, parentLo: number): boolean {
    if (this.localSize >= (this.mask + 1) * MAX_LOAD && this.mask + 1 < this.maxSlots) this.grow();
    const t = this.table;
    let slot = (Math.imul(hi ^ lo, 0x9e3779b1) >>> 0) & this.mask;
    for (;;) {
      const at = slot * WORDS;
      const seen = t[at]!;
      if (seen === 0) {
        if (this.localSize >= this.capacity) return false;
        t[at] = hi;
        t[at + 1] = lo;
        t[at + 2] = parentHi;
        t[at + 3] = parentLo;
        this.localSize++;
        return true;
      }
      if (seen === hi && t[at + 1] === lo) return false;
      slot = (slot + 1) & this.mask;
    }
  }

  /**
   * Depth-first search (mc/dfs.ts): the parent words hold the smallest
   * depth the state was expanded at. True when (hi, lo) is new, or was
   * expanded deeper than `depth` before (it must be expanded again: under a
   * depth limit its successors may now fit); false otherwise, and for new
   * fingerprints when the table is full (check `full`). One thread only.
   */
  addAtDepth(hi: number, lo: number, depth: number): boolean {
    if (this.shared) throw new Error('mc: a depth-first search runs in one thread');
    if (hi === 0) hi = 0x5bd1e995;
    if (lo === 0) lo = 0x1b873593;
    if (this.localSize >= (this.mask + 1) * MAX_LOAD && this.mask + 1 < this.maxSlots) this.grow();
    const t = this.table;
    let slot = (Math.imul(hi ^ lo, 0x9e3779b1) >>> 0) & this.mask;
    for (;;) {
      const at = slot * WORDS;
      const seen = t[at]!;
      if (seen === 0) {
        if (this.localSize >= this.capacity) return false;
        t[at] = hi;
        t[at + 1] = lo;
        t[at + 2] = depth;
        t[at + 3] = 0;
        this.localSize++;
        return true;
      }
      if (seen === hi && t[at + 1] === lo) {
        if (t[at + 2]! <= depth) return false;
        t[at + 2] = depth;
        return true;
      }
      slot = (slot + 1) & this.mask;
    }
  }

  /** Empties the table (one thread; it shrinks back to its first size). */
  clear(): void {
    if (this.shared) throw new Error('mc: a shared visited set is not cleared');
    this.table = new Int32Array(Math.min(this.maxSlots, INITIAL_SLOTS) * WORDS);
    this.mask = this.table.length / WORDS - 1;
    this.localSize = 0;
  }

  /** The parent recorded for (hi, lo), or null when absent; into `out` as [hi, lo]. */
  parentOf(hi: number, lo: number, out: Int32Array): boolean {
    if (hi === 0) hi = 0x5bd1e995;
    if (lo === 0) lo = 0x1b873593;
    const t = this.table;
    let slot = (Math.imul(hi ^ lo, 0x9e3779b1) >>> 0) & this.mask;
    for (;;) {
      const at = slot * WORDS;
      const seen = Atomics.load(t, at);
      if (seen === 0) return false;
      if (seen === hi && Atomics.load(t, at + 1) === lo) {
        out[0] = t[at + 2]!;
        out[1] = t[at + 3]!;
        return true;
      }
      slot = (slot + 1) & this.mask;
    }
  }
}

/** Normalises a fingerprint the way the table stores it (so chains compare equal). */
export function storedForm(hi: number, lo: number, out: Int32Array): void {
  out[0] = hi === 0 ? 0x5bd1e995 : hi;
  out[1] = lo === 0 ? 0x1b873593 : lo;
}
