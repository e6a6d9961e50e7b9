/**
 * The workload: read / write / cas over a rotating set of keys (Jepsen's
 * linearizable-register workload over `independent` keys, with the tutorial's
 * --ops-per-key), plus the global rate limiter (Jepsen's `stagger`).
 *
 * Why keys rotate: checking cost grows like n! in the ops concurrent on one
 * key, and every indeterminate (info) op stays concurrent with everything
 * after it (Jepsen tutorial 06/07). Bounding the ops per key bounds that.
 *
 * Determinism: ops come from one global sequence drawn from fast-check
 * arbitraries seeded by --seed, and the sequence does not depend on outcomes
 * (cas's expected value is drawn from the values recently *issued* for the
 * key). Same seed, same op sequence in issue order; which worker issues which
 * op depends on real timing.
 *
 * Values are unique per key (a per-key counter), so a read names the one
 * write (or cas) it observed.
 */
import fc from 'fast-check';
import { Rng } from './rng.js';

export type PlannedOp =
  | { readonly f: 'read'; readonly key: string; readonly value: null }
  | { readonly f: 'write'; readonly key: string; readonly value: number }
  | { readonly f: 'cas'; readonly key: string; readonly value: readonly [number | null, number] };

/** One random draw; the generator turns it into an op against its key state. */
export interface OpDraw {
  /** 0..99: picks the op kind by the mix. */
  readonly pct: number;
  /** Which live key slot. */
  readonly slot: number;
  /** Picks cas's expected value among the key's recent values. */
  readonly pick: number;
}

export interface OpMix {
  /** Percentages, summing to 100. */
  readonly read: number;
  readonly write: number;
  readonly cas: number;
}

export const defaultMix: OpMix = { read: 45, write: 35, cas: 20 };

export interface GeneratorOptions {
  readonly seed: number;
  /** Keys live at once. */
  readonly keys: number;
  /** A key retires after this many ops. */
  readonly opsPerKey: number;
  readonly mix?: OpMix;
  /** How many of a key's latest issued values cas may expect (default 3). */
  readonly recentValues?: number;
}

export function opDrawArbitrary(keys: number): fc.Arbitrary<OpDraw> {
  return fc.record({
    pct: fc.integer({ min: 0, max: 99 }),
    slot: fc.integer({ min: 0, max: keys - 1 }),
    pick: fc.integer({ min: 0, max: 0x3fff_ffff }),
  });
}

const BLOCK = 512;

/** An endless, seeded stream of draws: blocks of fc.sample, each block with a seed derived from (seed, block number). */
export function seededDraws(seed: number, keys: number): () => OpDraw {
  const arb = fc.array(opDrawArbitrary(keys), { minLength: BLOCK, maxLength: BLOCK });
  let block: OpDraw[] = [];
  let blockNo = 0;
  let i = 0;
  return () => {
    if (i >= block.length) {
      const blockSeed = (seed + Math.imul(blockNo, 0x9e37_79b1)) | 0;
      const [drawn] = fc.sample(arb, { seed: blockSeed, numRuns: 1, unbiased: true });
      if (drawn === undefined) throw new Error('seededDraws: fast-check produced no sample');
      block = drawn;
      blockNo++;
      i = 0;
    }
    return block[i++]!;
  };
}

interface KeySlot {
  key: string;
  issued: number;
  nextValue: number;
  recent: number[];
}

export class OpGenerator {
  private readonly slots: KeySlot[];
  private readonly used: string[] = [];
  private nextKeyId = 0;
  private readonly mix: OpMix;
  private readonly recentValues: number;
  private issued = 0;

  private readonly draws: () => OpDraw;

  /** `draws` defaults to the seeded stream; tests pass their own. */
  constructor(
    private readonly opts: GeneratorOptions,
    draws?: () => OpDraw,
  ) {
    if (!Number.isInteger(opts.keys) || opts.keys < 1) throw new Error(`keys must be a positive integer, got ${opts.keys}`);
    if (!Number.isInteger(opts.opsPerKey) || opts.opsPerKey < 1)
      throw new Error(`opsPerKey must be a positive integer, got ${opts.opsPerKey}`);
    this.draws = draws ?? seededDraws(opts.seed, opts.keys);
    this.mix = opts.mix ?? defaultMix;
    if (this.mix.read + this.mix.write + this.mix.cas !== 100 || [this.mix.read, this.mix.write, this.mix.cas].some((p) => p < 0)) {
      throw new Error(`op mix must be non-negative percentages summing to 100, got ${JSON.stringify(this.mix)}`);
    }
    this.recentValues = opts.recentValues ?? 3;
    this.slots = Array.from({ length: opts.keys }, () => this.freshSlot());
  }

  private freshSlot(): KeySlot {
    const key = `k${this.nextKeyId++}`;
    this.used.push(key);
    return { key, issued: 0, nextValue: 1, recent: [] };
  }

  /** Every key handed out so far, in order (the final reads read them all). */
  keysUsed(): readonly string[] {
    return this.used;
  }

  get opsIssued(): number {
    return this.issued;
  }

  next(): PlannedOp {
    const d = this.draws();
    const slotIndex = ((d.slot % this.slots.length) + this.slots.length) % this.slots.length;
    const slot = this.slots[slotIndex]!;
    const op = this.opFor(slot, d);
    slot.issued++;
    this.issued++;
    // Retire the key once it has had its ops; a fresh key takes the slot.
    if (slot.issued >= this.opts.opsPerKey) this.slots[slotIndex] = this.freshSlot();
    return op;
  }

  private newValue(slot: KeySlot): number {
    const v = slot.nextValue++;
    slot.recent.push(v);
    if (slot.recent.length > this.recentValues) slot.recent.shift();
    return v;
  }

  private opFor(slot: KeySlot, d: OpDraw): PlannedOp {
    const pct = ((d.pct % 100) + 100) % 100;
    if (pct < this.mix.read) return { f: 'read', key: slot.key, value: null };
    if (pct < this.mix.read + this.mix.write) return { f: 'write', key: slot.key, value: this.newValue(slot) };
    // Expected: one of the latest issued values (so cas sometimes succeeds), or null on a fresh key (cas on absent).
    const expected = slot.recent.length === 0 ? null : slot.recent[Math.abs(d.pick) % slot.recent.length]!;
    return { f: 'cas', key: slot.key, value: [expected, this.newValue(slot)] };
  }
}

/**
 * Global rate limiter, Jepsen's `stagger`: each op starts a uniformly random
 * 0..2/rate seconds after the previous one (mean 1/rate), so the total rate is
 * --rate with jitter and no lock-step. If every worker is busy (ops timing
 * out) the schedule does not bank the missed slots: no burst afterwards.
 */
export class Stagger {
  private nextAtMs = -Infinity;
  private readonly meanGapMs: number;
  private readonly rng: Rng;

  constructor(ratePerS: number, seed: number) {
    if (!(ratePerS > 0)) throw new Error(`rate must be positive, got ${ratePerS}`);
    this.meanGapMs = 1000 / ratePerS;
    this.rng = new Rng(seed);
  }

  /** Reserves the next start slot; returns how long to wait from `nowMs` (>= 0). */
  reserve(nowMs: number): number {
    const at = Math.max(this.nextAtMs, nowMs);
    this.nextAtMs = at + this.rng.float() * 2 * this.meanGapMs;
    return at - nowMs;
  }
}
