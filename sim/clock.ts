/**
 * Simulated per-node clocks. The real node's `AdjustableClock` (offset and
 * rate, timers that run at the clock's rate) is reused as is; only its two
 * injection points change: "real" time is simulated time, and its timers
 * become events on the simulator's queue. So skew and drift behave in the
 * simulator exactly as the harness's clock nemesis makes them behave in a
 * real node process.
 */
import { AdjustableClock } from '../node/clock/adjustable-clock.js';
import type { EventQueue, SimEvent } from './event-queue.js';

/**
 * `wrap` lets the simulator run each firing inside its own bookkeeping
 * (which node the event touched, invariant checks, microtask drain).
 */
export function createSimClock(queue: EventQueue, wrap: (fn: () => void) => () => void, offsetMs = 0, rate = 1): AdjustableClock {
  return new AdjustableClock({
    realNowMs: () => queue.now,
    scheduler: {
      setTimeout: (fn, delayMs) => queue.schedule(delayMs, wrap(fn)),
      clearTimeout: (handle) => {
        if (handle !== undefined) (handle as SimEvent).cancelled = true;
      },
    },
    offsetMs,
    rate,
  });
}
