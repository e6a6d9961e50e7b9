/**
 * 64-bit fingerprints as two independent 32-bit lanes (a model checker's
 * state fingerprint, as TLC's and Stateright's are 64-bit): murmur3-style
 * mixing of 32-bit words with different seeds and constants per lane, and
 * murmur3's finaliser. Integer arithmetic only (Math.imul), no allocation
 * on the hot path: results land in `lanes`, read right after the call.
 *
 * With 10 million states the chance that two distinct states share a
 * 64-bit fingerprint is about n^2 / 2^65, i.e. 3 in a million; a collision
 * would hide one state (and what only it leads to), never report a false
 * violation.
 */

/** The result of the last `finish` / `hashString`: [hi, lo]. */
export const lanes = new Int32Array(2);

function rotl(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}

/** Accumulates 32-bit words into both lanes. */
export class Hasher {
  private a = 0x2545f491;
  private b = 0x6a09e667;
  private n = 0;

  reset(seed = 0): this {
    this.a = 0x2545f491 ^ seed;
    this.b = 0x6a09e667 ^ Math.imul(seed, 0x9e3779b1);
    this.n = 0;
    return this;
  }

  word(x: number): this {
    let k = Math.imul(x | 0, 0xcc9e2d51);
    k = rotl(k, 15);
    k = Math.imul(k, 0x1b873593);
    this.a = Math.imul(rotl(this.a ^ k, 13), 5) + 0xe6546b64;
    let j = Math.imul(x | 0, 0x85ebca77);
    j = rotl(j, 17);
    j = Math.imul(j, 0xc2b2ae3d);
    this.b = Math.imul(rotl(this.b ^ j, 11), 9) + 0x27d4eb2f;
    this.n++;
    return this;
  }

  /** Two words (e.g. another fingerprint's lanes). */
  pair(hi: number, lo: number): this {
    return this.word(hi).word(lo);
  }

  /** Writes the fingerprint into `lanes`. */
  finish(): void {
    lanes[0] = fmix(this.a ^ this.n);
    lanes[1] = fmix(this.b ^ Math.imul(this.n, 0x27d4eb2f));
  }
}

const stringHasher = new Hasher();

/** Fingerprint of a string (two UTF-16 code units per word) into `lanes`. */
export function hashString(text: string): void {
  const h = stringHasher.reset(text.length);
  let i = 0;
  for (; i + 1 < text.length; i += 2) h.word(text.charCodeAt(i) | (text.charCodeAt(i + 1) << 16));
  if (i < text.length) h.word(text.charCodeAt(i));
  h.finish();
}

/** A fingerprint as 16 hex digits (for printing and tests). */
export function hex(hi: number, lo: number): string {
  return (hi >>> 0).toString(16).padStart(8, '0') + (lo >>> 0).toString(16).padStart(8, '0');
}
