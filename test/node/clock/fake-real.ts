/**
 * A fake real-time source and scheduler for AdjustableClock in tests:
 * time only moves when told. `advance` fires due callbacks in time order;
 * `jump` moves time without firing anything (a paused process).
 */
import type { Scheduler } from '../../../node/clock/adjustable-clock.js';

export class FakeReal implements Scheduler {
  /** Callbacks ever scheduled (a count of wake-ups requested). */
  timersSet = 0;
  private nextHandle = 1;
  private readonly pending = new Map<number, { fn: () => void; dueMs: number }>();

  constructor(public nowMs = 0) {}

  setTimeout(fn: () => void, delayMs: number): unknown {
    this.timersSet++;
    const handle = this.nextHandle++;
    this.pending.set(handle, { fn, dueMs: this.nowMs + delayMs });
    return handle;
  }

  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }

  get scheduled(): number {
    return this.pending.size;
  }

  advance(ms: number): void {
    const end = this.nowMs + ms;
    for (;;) {
      let next: [number, { fn: () => void; dueMs: number }] | undefined;
      for (const e of this.pending) if (e[1].dueMs <= end && (next === undefined || e[1].dueMs < next[1].dueMs)) next = e;
      if (next === undefined) break;
      this.pending.delete(next[0]);
      this.nowMs = Math.max(this.nowMs, next[1].dueMs);
      next[1].fn();
    }
    this.nowMs = end;
  }

  jump(ms: number): void {
    this.nowMs += ms;
  }
}
