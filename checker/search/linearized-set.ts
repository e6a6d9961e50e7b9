// The set of ops linearized so far, one of the two halves of a WGL
// configuration (the other is the model state). A bitset over op indices,
// plus what the configuration cache needs to store and compare it cheaply:
//
// - a Zobrist hash (XOR of a fixed random word per op in the set), kept up to
//   date in O(1) per add/remove instead of rehashing n/32 words per lookup;
// - the trimmed word range [lo, hi): `lo` is the first word that is not all
//   ones, `hi` one past the last non-zero word. Words outside the range are
//   known (all ones below, all zeros above), so two sets are equal iff their
//   ranges and the words inside are equal. On a long history whose prefix is
//   settled the range is a few words, not n/32.

/** Deterministic xorshift32 stream: one Zobrist word per op. */
function zobristTable(nOps: number): Int32Array {
  const z = new Int32Array(nOps);
  let x = 0x9e3779b9 | 0;
  for (let i = 0; i < nOps; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    z[i] = x;
  }
  return z;
}

const ALL_ONES = 0xffffffff;

export class LinearizedSet {
  /** The bitset: bit `op & 31` of word `op >>> 5`. One spare word so `lo` may equal `wordCount`. */
  readonly words: Uint32Array;
  readonly wordCount: number;
  /** First word that is not all ones (`wordCount` when every op is in the set). */
  lo = 0;
  /** One past the last non-zero word (0 when the set is empty). */
  hi = 0;
  /** Zobrist hash of the set. */
  hash = 0;
  private readonly zobrist: Int32Array;

  constructor(nOps: number) {
    this.wordCount = (nOps + 31) >>> 5;
    this.words = new Uint32Array(this.wordCount + 1);
    this.zobrist = zobristTable(nOps);
  }

  /** Number of words in the trimmed range. */
  get trimmedLength(): number {
    return this.hi > this.lo ? this.hi - this.lo : 0;
  }

  has(op: number): boolean {
    return (this.words[op >>> 5]! & (1 << (op & 31))) !== 0;
  }

  add(op: number): void {
    const w = op >>> 5;
    this.words[w] = (this.words[w]! | (1 << (op & 31))) >>> 0;
    this.hash ^= this.zobrist[op]!;
    if (w >= this.hi) this.hi = w + 1;
    if (w === this.lo) while (this.lo < this.wordCount && this.words[this.lo] === ALL_ONES) this.lo++;
  }

  remove(op: number): void {
    const w = op >>> 5;
    const v = (this.words[w]! & ~(1 << (op & 31))) >>> 0;
    this.words[w] = v;
    this.hash ^= this.zobrist[op]!;
    if (w < this.lo) this.lo = w;
    if (w === this.hi - 1 && v === 0) while (this.hi > 0 && this.words[this.hi - 1] === 0) this.hi--;
  }
}
