/**
 * Named random streams for the simulator. One run seed; every concern
 * (network link, disk, client, a node's election jitter, ...) draws from its
 * own stream, seeded by hashing (seed, name). Removing one fault or one
 * client op while fast-check shrinks a schedule then perturbs only the
 * streams that fault or op touches, instead of reshuffling every later draw
 * (the "butterfly effect" that makes shrinking useless; notes §3.4 item 3).
 */
import { SplitMix32 } from '../node/raft/prng.js';

const TWO_POW_32 = 0x1_0000_0000;

/** 32-bit FNV-1a of a string, finished with a murmur3 avalanche so nearby names give unrelated seeds. */
export function hashString(text: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return avalanche(h);
}

export function avalanche(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Folds a 32-bit word into a running hash (used for the trace hash). */
export function mix(h: number, x: number): number {
  return avalanche((Math.imul(h ^ (x | 0), 0x9e3779b1) + 0x7f4a7c15) | 0);
}

/** The seed of stream `name` under run seed `seed`. */
export function streamSeed(seed: number, name: string): number {
  return hashString(name, avalanche(seed ^ 0x5bd1e995));
}

export class Stream {
  private readonly inner: SplitMix32;

  constructor(
    private readonly seed: number,
    readonly name: string,
  ) {
    this.inner = new SplitMix32(streamSeed(seed, name));
  }

  /** The stream `name` of the same run seed: new draws that leave this stream's as they were. */
  sibling(name: string): Stream {
    return new Stream(this.seed, name);
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.inner.nextUint32() / TWO_POW_32;
  }

  /** Uniform integer in [min, max], both inclusive. */
  int(min: number, max: number): number {
    return this.inner.nextInt(min, max);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return p > 0 && this.float() < p;
  }

  /** A fresh 32-bit integer (e.g. a seed for a node's core). */
  uint32(): number {
    return this.inner.nextUint32();
  }
}
