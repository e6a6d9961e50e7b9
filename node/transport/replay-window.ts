/**
 * An anti-replay sliding window over one sender's datagram counters, as
 * IPsec ESP (RFC 4303 §3.4.3) and DTLS (RFC 6347 §4.1.2.6) keep one.
 *
 * The window remembers the highest counter accepted and, as a bitmap, which
 * of the `size` counters up to it were seen. A counter is accepted at most
 * once: above the highest it is new (the window slides up), inside the
 * window it is new if its bit is clear, and below the window it is refused,
 * since whether it was seen is no longer known. So datagrams reordered by
 * fewer than `size` positions are all accepted, once each; a duplicate or a
 * replay never is.
 *
 * The caller updates the window only for datagrams whose MAC verified, so an
 * attacker cannot slide it with forged counters.
 */
import { assert } from '../util/assert.js';

export type WindowVerdict = 'accept' | 'duplicate' | 'too_old';

export class ReplayWindow {
  /** The highest counter accepted (0: none yet; counters start at 1). */
  private highestCounter = 0;
  private readonly bits: Uint32Array;

  constructor(readonly size: number) {
    assert(Number.isSafeInteger(size) && size >= 32 && size % 32 === 0, `window size must be a positive multiple of 32, got ${size}`);
    this.bits = new Uint32Array(size / 32);
  }

  get highest(): number {
    return this.highestCounter;
  }

  /** What `accept` would answer, without changing anything. */
  check(counter: number): WindowVerdict {
    if (!(Number.isSafeInteger(counter) && counter >= 1)) return 'too_old';
    if (counter > this.highestCounter) return 'accept';
    if (counter <= this.highestCounter - this.size) return 'too_old';
    return this.isSet(counter) ? 'duplicate' : 'accept';
  }

  /** Judges `counter` and, if it is accepted, records it. */
  accept(counter: number): WindowVerdict {
    const verdict = this.check(counter);
    if (verdict !== 'accept') return verdict;
    if (counter > this.highestCounter) this.slideTo(counter);
    this.set(counter);
    return 'accept';
  }

  /** Forgets everything (a new sender incarnation starts its counters again at 1). */
  reset(): void {
    this.highestCounter = 0;
    this.bits.fill(0);
  }

  /** Moves the top of the window to `counter`, clearing the bits of the counters it passes. */
  private slideTo(counter: number): void {
    const gap = counter - this.highestCounter;
    if (gap >= this.size) {
      this.bits.fill(0);
    } else {
      for (let c = this.highestCounter + 1; c <= counter; c++) this.clear(c);
    }
    this.highestCounter = counter;
  }

  private isSet(counter: number): boolean {
    const bit = counter % this.size;
    return (this.bits[bit >>> 5]! & (1 << (bit & 31))) !== 0;
  }

  private set(counter: number): void {
    const bit = counter % this.size;
    this.bits[bit >>> 5] = this.bits[bit >>> 5]! | (1 << (bit & 31));
  }

  private clear(counter: number): void {
    const bit = counter % this.size;
    this.bits[bit >>> 5] = this.bits[bit >>> 5]! & ~(1 << (bit & 31));
  }
}
