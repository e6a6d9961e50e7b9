/**
 * One BFS level, compressed: the states of a level are mostly siblings
 * (the successors of one state, pushed one after the other) and cousins,
 * which differ from the state pushed before them in a few words: the node
 * that moved, a budget, a client operation. So each state is stored as the
 * words that differ from the previous one (`prefixWords`: the fixed part
 * of a World), and the rest (the network: a sorted list of message ids) as
 * the differences between consecutive words, trailing zeros left out, all
 * as variable-length integers (zigzag LEB128, as protobuf's sint32). Every
 * KEYFRAME-th state is stored against an all-zero state, so any state can
 * be decoded from the keyframe before it; in-order reading (what a BFS
 * level does) decodes each record once.
 *
 * What this buys: a World is ~160 words (640 bytes) of which a state uses
 * ~70; the previous packing (up to the last non-zero word) stored ~300
 * bytes a state, this ~30-50 (measured in mc/README.md). A level of
 * millions of states is the largest thing a BFS holds, so this is what
 * bounds the spaces that fit in memory. The fingerprints (8 bytes,
 * incompressible) stay with each state: they are the parents of its
 * successors in the visited set.
 *
 * Records never span chunks (a chunk's used length is kept); chunks are
 * freed as a level is read (`release`), and the last states can be popped
 * (another worker thread's share, mc/parallel.ts).
 */

/** Every KEYFRAME-th record is encoded against zeros (random access cost: at most KEYFRAME - 1 records decoded). */
const KEYFRAME = 64;
const CHUNK_BYTES = 4 << 20;
const EMPTY = new Uint8Array(0);

export class WorldQueue {
  private readonly chunks: Uint8Array[] = [];
  /** Bytes used in each chunk. */
  private readonly chunkEnds: number[] = [];
  private readonly chunkBytes: number;
  /** Where record k * KEYFRAME starts: chunk * chunkBytes + offset. */
  private keyStarts = new Float64Array(256);
  private writeChunk = -1;
  private writeAt = 0;
  /** The last record pushed (the base of the next one). */
  private readonly last: Int32Array;
  /** Sequential reading: the record `cursor` starts at `cursorPos`; `decoded` holds record cursor - 1. */
  private cursor = -1;
  private cursorPos = 0;
  private readonly decoded: Int32Array;
  length = 0;

  /**
   * `prefixWords`: the words stored as differences from the previous
   * state (the rest as a list of small steps); default all of them.
   */
  constructor(
    readonly worldSize: number,
    private readonly prefixWords: number = worldSize,
  ) {
    if (prefixWords > worldSize) throw new Error('mc: queue prefix longer than a world');
    // The largest record: fingerprint, every prefix word changed (gap + value, 5 bytes each), terminator, count, every tail word.
    const worst = 8 + 10 * prefixWords + 1 + 5 + 5 * (worldSize - prefixWords);
    this.chunkBytes = Math.max(CHUNK_BYTES, 4 * worst);
    this.last = new Int32Array(worldSize);
    this.decoded = new Int32Array(worldSize);
    this.worst = worst;
  }

  private readonly worst: number;

  push(world: Int32Array, hi: number, lo: number): void {
    if (this.writeChunk < 0 || this.writeAt + this.worst > this.chunkBytes) this.newChunk();
    const keyframe = this.length % KEYFRAME === 0;
    if (keyframe) {
      const k = this.length / KEYFRAME;
      if (k === this.keyStarts.length) {
        const grown = new Float64Array(this.keyStarts.length * 2);
        grown.set(this.keyStarts);
        this.keyStarts = grown;
      }
      this.keyStarts[k] = this.writeChunk * this.chunkBytes + this.writeAt;
    }
    const buf = this.chunks[this.writeChunk]!;
    let at = this.writeAt;
    const last = this.last;
    buf[at] = hi;
    buf[at + 1] = hi >>> 8;
    buf[at + 2] = hi >>> 16;
    buf[at + 3] = hi >>> 24;
    buf[at + 4] = lo;
    buf[at + 5] = lo >>> 8;
    buf[at + 6] = lo >>> 16;
    buf[at + 7] = lo >>> 24;
    at += 8;
    // The prefix: (gap, value) for each word that differs from the base; gap 0 ends it.
    let previous = -1;
    for (let j = 0; j < this.prefixWords; j++) {
      const v = world[j]!;
      if (keyframe ? v === 0 : v === last[j]) continue;
      at = writeVarint(buf, at, j - previous);
      at = writeVarint(buf, at, zigzag(v));
      previous = j;
      last[j] = v;
    }
    buf[at++] = 0;
    if (keyframe) for (let j = 0; j < this.prefixWords; j++) last[j] = world[j]!;
    // The tail: its length up to the last non-zero word, then each word minus the one before it.
    let used = this.worldSize;
    while (used > this.prefixWords && world[used - 1] === 0) used--;
    at = writeVarint(buf, at, used - this.prefixWords);
    let before = 0;
    for (let j = this.prefixWords; j < used; j++) {
      const v = world[j]!;
      at = writeVarint(buf, at, zigzag((v - before) | 0));
      before = v;
    }
    this.writeAt = at;
    this.chunkEnds[this.writeChunk] = at;
    this.length++;
    this.cursor = -1; // a push after a pop may overwrite where the cursor was
  }

  private newChunk(): void {
    this.writeChunk++;
    if (this.chunks[this.writeChunk] === undefined || this.chunks[this.writeChunk] === EMPTY)
      this.chunks[this.writeChunk] = new Uint8Array(this.chunkBytes);
    this.chunkEnds[this.writeChunk] = 0;
    this.writeAt = 0;
  }

  /** Copies state `i` into `into` (a World of worldSize) and returns its fingerprint lanes in `fp`. */
  read(i: number, into: Int32Array, fp: Int32Array): void {
    if (i < 0 || i >= this.length) throw new Error(`mc: queue has no state ${i}`);
    if (this.cursor < 0 || i < this.cursor || i >= this.cursor + KEYFRAME) {
      const k = Math.floor(i / KEYFRAME);
      this.cursor = k * KEYFRAME;
      this.cursorPos = this.keyStarts[k]!;
    }
    while (this.cursor <= i) this.decodeNext(fp);
    into.set(this.decoded);
  }

  /** Decodes record `cursor` into `decoded` (its fingerprint into `fp`) and moves past it. */
  private decodeNext(fp: Int32Array): void {
    let c = Math.floor(this.cursorPos / this.chunkBytes);
    let at = this.cursorPos - c * this.chunkBytes;
    if (at >= this.chunkEnds[c]!) {
      c++;
      at = 0;
    }
    const buf = this.chunks[c]!;
    if (buf === EMPTY) throw new Error('mc: queue read after release');
    const w = this.decoded;
    fp[0] = buf[at]! | (buf[at + 1]! << 8) | (buf[at + 2]! << 16) | (buf[at + 3]! << 24);
    fp[1] = buf[at + 4]! | (buf[at + 5]! << 8) | (buf[at + 6]! << 16) | (buf[at + 7]! << 24);
    at += 8;
    if (this.cursor % KEYFRAME === 0) w.fill(0, 0, this.prefixWords);
    let j = -1;
    for (;;) {
      const gap = readVarint(buf, at);
      at = varintEnd;
      if (gap === 0) break;
      j += gap;
      w[j] = unzigzag(readVarint(buf, at));
      at = varintEnd;
    }
    const count = readVarint(buf, at);
    at = varintEnd;
    let before = 0;
    const end = this.prefixWords + count;
    for (let k = this.prefixWords; k < end; k++) {
      before = (before + unzigzag(readVarint(buf, at))) | 0;
      at = varintEnd;
      w[k] = before;
    }
    w.fill(0, end);
    this.cursorPos = c * this.chunkBytes + at;
    this.cursor++;
  }

  /** Removes the last `count` states (for another thread): the worlds, and their fingerprints as pairs. */
  popWorlds(count: number): { worlds: Int32Array[]; fps: Int32Array } {
    const take = Math.min(count, this.length);
    const worlds: Int32Array[] = [];
    const fps = new Int32Array(2 * take);
    const fp = new Int32Array(2);
    for (let k = 0; k < take; k++) {
      const w = new Int32Array(this.worldSize);
      this.read(this.length - take + k, w, fp);
      worlds.push(w);
      fps[2 * k] = fp[0]!;
      fps[2 * k + 1] = fp[1]!;
    }
    const kept = this.length - take;
    if (kept === 0) {
      this.length = 0;
      this.writeChunk = -1;
      this.writeAt = 0;
      this.cursor = -1;
      return { worlds, fps };
    }
    if (take > 0) {
      // The next push goes where the first popped record was, against the last record kept.
      this.read(kept - 1, this.last, fp);
      let c = Math.floor(this.cursorPos / this.chunkBytes);
      let at = this.cursorPos - c * this.chunkBytes;
      if (at >= this.chunkEnds[c]!) {
        c++;
        at = 0;
        if (this.chunks[c] === undefined || this.chunks[c] === EMPTY) this.chunks[c] = new Uint8Array(this.chunkBytes);
      }
      this.writeChunk = c;
      this.writeAt = at;
      this.chunkEnds[c] = at;
      this.length = kept;
      this.cursor = -1;
    }
    return { worlds, fps };
  }

  /** Frees the chunks wholly before state `i` (read in order: nothing before it is read again). */
  release(i: number): void {
    if (i >= this.length) return;
    const done = Math.floor(this.keyStarts[Math.floor(i / KEYFRAME)]! / this.chunkBytes);
    for (let c = 0; c < done; c++) this.chunks[c] = EMPTY;
  }

  get bytes(): number {
    return this.chunks.reduce((sum, c) => sum + c.byteLength, 0) + this.keyStarts.byteLength;
  }

  /** Bytes the records occupy (without the unused end of the last chunk). */
  get usedBytes(): number {
    let sum = 0;
    for (let c = 0; c <= this.writeChunk; c++) sum += this.chunkEnds[c] ?? 0;
    return sum;
  }
}

function zigzag(v: number): number {
  return ((v << 1) ^ (v >> 31)) >>> 0;
}

function unzigzag(z: number): number {
  return (z >>> 1) ^ -(z & 1);
}

function writeVarint(buf: Uint8Array, at: number, v: number): number {
  while (v >= 0x80) {
    buf[at++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[at++] = v;
  return at;
}

/** Where the last readVarint ended (no allocation for a pair). */
let varintEnd = 0;

function readVarint(buf: Uint8Array, at: number): number {
  let b = buf[at++]!;
  let v = b & 0x7f;
  let shift = 7;
  while (b >= 0x80) {
    b = buf[at++]!;
    v |= (b & 0x7f) << shift;
    shift += 7;
  }
  varintEnd = at;
  return v >>> 0;
}
