/**
 * A cooperative skewed clock for the real node: the harness changes its
 * offset and rate at run time over the control channel, without libfaketime
 * (which cannot change a rate live without a jump and breaks libuv timers
 * when it fakes the monotonic clock).
 *
 *   nowMs() = baseFakeMs + (real() - baseRealMs) * rate + offsetMs
 *
 * `real` is `performance.now()` (monotonic). Every adjustment first rebases
 * (baseFakeMs absorbs the time elapsed at the old rate, baseRealMs = real()),
 * so a rate change alters the slope but never jumps the clock. An offset
 * (or bump) jumps `nowMs()` but does not move timers: timers measure elapsed
 * time at the clock's rate, like timers on a monotonic clock that runs fast
 * or slow. On a rate change every pending timer is rescheduled so the rest of
 * its logical delay elapses at the new rate.
 *
 * Lease reads (thesis §6.4.1) are only safe while rates stay within
 * `clockDriftBound` of each other; the harness uses this clock to violate
 * that on purpose.
 */
import { assert, assertionFailed } from '../util/assert.js';
import type { Clock, ClockState, TimerId } from './clock.js';

export const MAX_CLOCK_RATE = 100;

/** Real-time timer primitives; injectable so unit tests need no real sleeps. */
export interface Scheduler {
  setTimeout(fn: () => void, delayMs: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface AdjustableClockOptions {
  /** Monotonic real time in ms. Default `performance.now()`. */
  readonly realNowMs?: () => number;
  readonly scheduler?: Scheduler;
  readonly offsetMs?: number;
  readonly rate?: number;
}

export interface ClockAdjustment {
  /** Sets the offset (an absolute skew, jumps the clock). */
  readonly offsetMs?: number;
  /** Sets the rate: logical ms per real ms, in (0, 100]. */
  readonly rate?: number;
  /** Adds to the offset (a relative jump). Applied after `offsetMs`. */
  readonly bumpMs?: number;
}

export type AdjustResult = { readonly ok: true; readonly state: ClockState } | { readonly ok: false; readonly error: string };

interface PendingTimer {
  readonly fn: () => void;
  /** Due time on the rate-scaled, offset-free timeline (see `elapsedMs`). */
  readonly dueElapsedMs: number;
  handle: unknown;
  /** The real delay was capped at MAX_REAL_DELAY_MS; on firing, check whether it is really due. */
  capped: boolean;
}

/** setTimeout fires at once (after 1 ms) for delays above 2^31-1 ms; a slow rate could ask for that. */
const MAX_REAL_DELAY_MS = 2_147_483_647;

const realScheduler: Scheduler = {
  setTimeout: (fn, delayMs) => setTimeout(fn, delayMs),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export class AdjustableClock implements Clock {
  private readonly realNowMs: () => number;
  private readonly scheduler: Scheduler;
  private baseRealMs: number;
  private baseFakeMs: number;
  private offsetMs: number;
  private rate: number;
  private nextTimerId = 1;
  private readonly timers = new Map<TimerId, PendingTimer>();

  constructor(opts: AdjustableClockOptions = {}) {
    this.realNowMs = opts.realNowMs ?? (() => performance.now());
    this.scheduler = opts.scheduler ?? realScheduler;
    this.baseRealMs = this.realNowMs();
    this.baseFakeMs = this.baseRealMs;
    this.offsetMs = 0;
    this.rate = 1;
    const init = validateAdjustment({ offsetMs: opts.offsetMs ?? 0, rate: opts.rate ?? 1 });
    assert(init === null, `AdjustableClock options: ${init}`);
    this.offsetMs = opts.offsetMs ?? 0;
    this.rate = opts.rate ?? 1;
  }

  nowMs(): number {
    return this.elapsedMs() + this.offsetMs;
  }

  state(): ClockState {
    return { nowMs: this.nowMs(), offsetMs: this.offsetMs, rate: this.rate };
  }

  /** Bad values (a rate of 0, NaN) are a typed error and change nothing. */
  adjust(adj: ClockAdjustment): AdjustResult {
    const problem = validateAdjustment(adj);
    if (problem !== null) return { ok: false, error: problem };
    if (adj.rate !== undefined && adj.rate !== this.rate) {
      // Rebase: the time elapsed so far counts at the old rate, so nowMs() is continuous.
      const real = this.realNowMs();
      this.baseFakeMs += (real - this.baseRealMs) * this.rate;
      this.baseRealMs = real;
      this.rate = adj.rate;
      this.rescheduleAll();
    }
    if (adj.offsetMs !== undefined) this.offsetMs = adj.offsetMs;
    if (adj.bumpMs !== undefined) this.offsetMs += adj.bumpMs;
    return { ok: true, state: this.state() };
  }

  setTimer(fn: () => void, delayMs: number): TimerId {
    if (!Number.isFinite(delayMs)) assertionFailed(`timer delay must be finite, got ${delayMs}`);
    const delay = Math.max(0, delayMs);
    const id = this.nextTimerId++;
    const timer: PendingTimer = { fn, dueElapsedMs: this.elapsedMs() + delay, handle: undefined, capped: false };
    this.timers.set(id, timer);
    this.schedule(id, timer, delay);
    return id;
  }

  clearTimer(id: TimerId): void {
    const t = this.timers.get(id);
    if (t === undefined) return;
    this.scheduler.clearTimeout(t.handle);
    this.timers.delete(id);
  }

  /** Cancels every pending timer (shutdown). */
  clearAll(): void {
    for (const id of [...this.timers.keys()]) this.clearTimer(id);
  }

  pendingTimers(): number {
    return this.timers.size;
  }

  monotonicMs(): number {
    return this.elapsedMs();
  }

  /** Rate-scaled time since construction's base, without the offset: the timeline timers run on. */
  private elapsedMs(): number {
    return this.baseFakeMs + (this.realNowMs() - this.baseRealMs) * this.rate;
  }

  private schedule(id: TimerId, t: PendingTimer, logicalDelayMs: number): void {
    const realDelayMs = logicalDelayMs / this.rate;
    t.capped = realDelayMs > MAX_REAL_DELAY_MS;
    t.handle = this.scheduler.setTimeout(() => this.fire(id), Math.min(realDelayMs, MAX_REAL_DELAY_MS));
  }

  private fire(id: TimerId): void {
    const t = this.timers.get(id);
    if (t === undefined) return;
    if (t.capped) {
      const remainingMs = t.dueElapsedMs - this.elapsedMs();
      if (remainingMs > 0) {
        this.schedule(id, t, remainingMs);
        return;
      }
    }
    this.timers.delete(id);
    t.fn();
  }

  private rescheduleAll(): void {
    const now = this.elapsedMs();
    for (const [id, t] of this.timers) {
      this.scheduler.clearTimeout(t.handle);
      this.schedule(id, t, Math.max(0, t.dueElapsedMs - now));
    }
  }
}

function validateAdjustment(adj: ClockAdjustment): string | null {
  if (
    adj.rate !== undefined &&
    !(typeof adj.rate === 'number' && Number.isFinite(adj.rate) && adj.rate > 0 && adj.rate <= MAX_CLOCK_RATE)
  ) {
    return `rate must be a number in (0, ${MAX_CLOCK_RATE}], got ${String(adj.rate)}`;
  }
  if (adj.offsetMs !== undefined && !(typeof adj.offsetMs === 'number' && Number.isFinite(adj.offsetMs))) {
    return `offsetMs must be a finite number, got ${String(adj.offsetMs)}`;
  }
  if (adj.bumpMs !== undefined && !(typeof adj.bumpMs === 'number' && Number.isFinite(adj.bumpMs))) {
    return `bumpMs must be a finite number, got ${String(adj.bumpMs)}`;
  }
  return null;
}
