// The search: Wing & Gong's backtracking linearizability check with Lowe's
// memoisation of visited configurations ("Testing for linearizability",
// 2017), as in Porcupine's checker.go. The history is a doubly linked list of
// call/return events (typed arrays, O(1) lift/unlift). At a call the op is
// tried as the next linearization point; at a return nothing further right
// may go first, so the search backtracks. A configuration is (set of
// linearized ops, model state); one already explored is never explored again.
//
// Differences from Porcupine, for speed in JavaScript and on long histories:
// - states are interned to small integers by the caller (`step` maps a state
//   id and an op to a state id, or -1 when illegal);
// - the linearized set's hash is a Zobrist hash kept up to date in O(1) per
//   step (XOR of a random word per op), instead of rehashing the bitset;
// - cache entries store the bitset trimmed to the words between the first
//   word that is not all ones and the last non-zero word (canonical, so
//   equality is exact), in one pooled Uint32Array: long histories whose
//   prefix is settled cost a few words per entry, not n/32.

export type SearchOutcome =
  | { kind: 'ok'; cacheEntries: number }
  | { kind: 'illegal'; cacheEntries: number; bestOps: Int32Array; bestState: number }
  | { kind: 'unknown'; reason: 'time_limit' | 'memory_limit'; cacheEntries: number };

export interface SearchLimits {
  /** performance.now() deadline; Infinity for none. */
  deadlineMs: number;
  maxCacheEntries: number;
  maxBytes: number;
  /** Bytes held outside the search (interned states, transition memo), polled now and then. */
  auxBytes?: () => number;
}

export interface SearchInput {
  nOps: number;
  events: Int32Array;
  initState: number;
  /** State id after applying `op` in state `state`, or -1 when illegal. */
  step: (state: number, op: number) => number;
}

const EMPTY_HASH_SLOT = 0;

/** Deterministic xorshift32 stream for the Zobrist table. */
function zobristTable(n: number): Int32Array {
  const z = new Int32Array(n);
  let x = 0x9e3779b9 | 0;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    z[i] = x;
  }
  return z;
}

/**
 * Runs the search to the end. See wglSearchSteps for the resumable form.
 */
export function wglSearch(input: SearchInput, limits: SearchLimits): SearchOutcome {
  const gen = wglSearchSteps(input, limits, Infinity);
  for (;;) {
    const r = gen.next();
    if (r.done === true) return r.value;
  }
}

/**
 * The search as a generator that pauses every `sliceIterations` iterations,
 * yielding its estimated memory use in bytes. Lets the caller interleave the
 * searches of several keys (as Porcupine's goroutines run concurrently), so
 * one easy invalid key is found without first exhausting a hard one.
 */
export function* wglSearchSteps(input: SearchInput, limits: SearchLimits, sliceIterations: number): Generator<number, SearchOutcome, void> {
  const { nOps, events, step } = input;
  const E = events.length;
  const HEAD = E;
  const next = new Int32Array(E + 1);
  const prev = new Int32Array(E + 1);
  const callNode = new Int32Array(nOps);
  const retNode = new Int32Array(nOps);
  for (let e = 0; e < E; e++) {
    const ev = events[e]!;
    if ((ev & 1) === 0) callNode[ev >> 1] = e;
    else retNode[ev >> 1] = e;
    next[e] = e + 1 < E ? e + 1 : -1;
    prev[e] = e === 0 ? HEAD : e - 1;
  }
  next[HEAD] = E > 0 ? 0 : -1;
  prev[HEAD] = -1;

  // Linearized set: bitset plus trimmed range [lo, hi) and Zobrist hash.
  const W = (nOps + 31) >>> 5;
  const bits = new Uint32Array(W + 1);
  let lo = 0; // first word that is not all ones (W when all are)
  let hi = 0; // one past the last non-zero word
  let zob = 0;
  const zobrist = zobristTable(nOps);

  // Cache: open addressing over entry ids; entries in parallel typed arrays.
  let tableMask = (1 << 12) - 1;
  let table = new Int32Array(tableMask + 1);
  let entCap = 1024;
  let entHash = new Int32Array(entCap);
  let entState = new Int32Array(entCap);
  let entLo = new Int32Array(entCap);
  let entLen = new Int32Array(entCap);
  let entOff = new Float64Array(entCap);
  let pool = new Uint32Array(4096);
  let poolUsed = 0;
  let entries = 0;

  // Undo stack and the deepest configuration seen (for counterexamples).
  const stackOp = new Int32Array(nOps);
  const stackState = new Int32Array(nOps);
  let depth = 0;
  const bestOps = new Int32Array(nOps);
  let bestDepth = 0;
  let bestState = input.initState;
  let lowWater = 0;

  let state = input.initState;
  const maxEntries = limits.maxCacheEntries;
  const deadline = limits.deadlineMs;
  const hasDeadline = deadline !== Infinity;
  let iterations = 0;
  let nextPause = sliceIterations;

  const bytesUsed = (): number =>
    pool.byteLength + table.byteLength + entCap * 24 + (limits.auxBytes ? limits.auxBytes() : 0) + E * 8;

  const grow = (): void => {
    const cap = entCap * 2;
    const h = new Int32Array(cap); h.set(entHash); entHash = h;
    const s = new Int32Array(cap); s.set(entState); entState = s;
    const l = new Int32Array(cap); l.set(entLo); entLo = l;
    const n = new Int32Array(cap); n.set(entLen); entLen = n;
    const o = new Float64Array(cap); o.set(entOff); entOff = o;
    entCap = cap;
  };
  const rehash = (): void => {
    const size = (tableMask + 1) * 2;
    tableMask = size - 1;
    table = new Int32Array(size);
    for (let i = 0; i < entries; i++) {
      let slot = entHash[i]! & tableMask;
      while (table[slot] !== EMPTY_HASH_SLOT) slot = (slot + 1) & tableMask;
      table[slot] = i + 1;
    }
  };

  /** Adds (bits, s) to the cache; false when already present. */
  const cacheAdd = (s: number): boolean => {
    let h = zob ^ Math.imul(s + 1, 0x9e3779b1);
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    const len = hi > lo ? hi - lo : 0;
    let slot = h & tableMask;
    for (;;) {
      const t = table[slot]!;
      if (t === EMPTY_HASH_SLOT) break;
      const i = t - 1;
      if (entHash[i] === h && entState[i] === s && entLo[i] === lo && entLen[i] === len) {
        const off = entOff[i]!;
        let k = 0;
        while (k < len && pool[off + k] === bits[lo + k]) k++;
        if (k === len) return false;
      }
      slot = (slot + 1) & tableMask;
    }
    if (entries === entCap) grow();
    if (poolUsed + len > pool.length) {
      let size = pool.length * 2;
      while (poolUsed + len > size) size *= 2;
      const p = new Uint32Array(size);
      p.set(pool.subarray(0, poolUsed));
      pool = p;
    }
    for (let k = 0; k < len; k++) pool[poolUsed + k] = bits[lo + k]!;
    entHash[entries] = h;
    entState[entries] = s;
    entLo[entries] = lo;
    entLen[entries] = len;
    entOff[entries] = poolUsed;
    poolUsed += len;
    table[slot] = ++entries;
    if (entries * 2 > tableMask) rehash();
    return true;
  };

  const setBit = (op: number): void => {
    const w = op >>> 5;
    const v = (bits[w]! | (1 << (op & 31))) >>> 0;
    bits[w] = v;
    zob ^= zobrist[op]!;
    if (w >= hi) hi = w + 1;
    if (w === lo) while (lo < W && bits[lo] === 0xffffffff) lo++;
  };
  const clearBit = (op: number): void => {
    const w = op >>> 5;
    const v = (bits[w]! & ~(1 << (op & 31))) >>> 0;
    bits[w] = v;
    zob ^= zobrist[op]!;
    if (w < lo) lo = w;
    if (w === hi - 1 && v === 0) while (hi > 0 && bits[hi - 1] === 0) hi--;
  };

  let entry = next[HEAD]!;
  while (entry !== -1) {
    if ((++iterations & 1023) === 0) {
      if (hasDeadline && performance.now() > deadline) return { kind: 'unknown', reason: 'time_limit', cacheEntries: entries };
      if ((iterations & 16383) === 0 && bytesUsed() > limits.maxBytes) {
        return { kind: 'unknown', reason: 'memory_limit', cacheEntries: entries };
      }
      if (iterations >= nextPause) {
        nextPause = iterations + sliceIterations;
        yield bytesUsed();
      }
    }
    const ev = events[entry]!;
    if ((ev & 1) === 0) {
      const op = ev >> 1;
      const ns = step(state, op);
      if (ns >= 0) {
        setBit(op);
        if (cacheAdd(ns)) {
          if (entries > maxEntries) return { kind: 'unknown', reason: 'memory_limit', cacheEntries: entries };
          stackOp[depth] = op;
          stackState[depth] = state;
          depth++;
          state = ns;
          // lift: unlink the call and its return.
          const r = retNode[op]!;
          let p = prev[entry]!, q = next[entry]!;
          next[p] = q;
          if (q !== -1) prev[q] = p;
          p = prev[r]!; q = next[r]!;
          next[p] = q;
          if (q !== -1) prev[q] = p;
          entry = next[HEAD]!;
          continue;
        }
        clearBit(op);
      }
      entry = next[entry]!;
    } else {
      if (depth === 0) {
        return { kind: 'illegal', cacheEntries: entries, bestOps: bestOps.slice(0, bestDepth), bestState };
      }
      if (depth > bestDepth) {
        for (let k = lowWater; k < depth; k++) bestOps[k] = stackOp[k]!;
        bestDepth = depth;
        bestState = state;
        lowWater = depth;
      }
      depth--;
      if (depth < lowWater) lowWater = depth;
      const op = stackOp[depth]!;
      state = stackState[depth]!;
      clearBit(op);
      // unlift: relink the return, then the call (reverse order of lift).
      const c = callNode[op]!;
      const r = retNode[op]!;
      let q = next[r]!;
      next[prev[r]!] = r;
      if (q !== -1) prev[q] = r;
      q = next[c]!;
      next[prev[c]!] = c;
      if (q !== -1) prev[q] = c;
      entry = next[c]!;
    }
  }
  return { kind: 'ok', cacheEntries: entries };
}
