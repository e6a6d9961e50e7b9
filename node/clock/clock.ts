/**
 * The only way rift code reads time or waits. The real binary uses
 * `AdjustableClock` (so the harness can skew and drift each node's clock
 * through the control channel); the deterministic simulator supplies its own
 * virtual implementation.
 */
export type TimerId = number;

export interface Clock {
  /** Milliseconds on this node's (possibly skewed and drifting) clock. Monotonic unless an offset is moved backwards. */
  nowMs(): number;
  /**
   * Milliseconds on the timeline timers run on: this clock's rate, but no
   * offset, so it never jumps or goes backwards. Code that schedules by due
   * times (the host's ticks) reads this, not nowMs().
   */
  monotonicMs(): number;
  /** Calls `fn` once after `delayMs` milliseconds of this clock's time (offset changes do not move timers; rate changes do). */
  setTimer(fn: () => void, delayMs: number): TimerId;
  /** Cancels a pending timer; unknown or already-fired ids are ignored. */
  clearTimer(id: TimerId): void;
}

export interface ClockState {
  readonly nowMs: number;
  readonly offsetMs: number;
  readonly rate: number;
}
