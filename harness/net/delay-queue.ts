/**
 * A bounded min-heap of datagrams waiting to be delivered, keyed by due time,
 * driven by ONE timer armed for the earliest entry (a per-packet setTimeout
 * would cost a timer per datagram at tens of thousands per second).
 * Entries with equal due times leave in insertion order.
 */
export interface DelayedItem {
  readonly dueMs: number;
  readonly seq: number;
  readonly deliver: () => void;
}

export class DelayQueue {
  private readonly heap: DelayedItem[] = [];
  private seq = 0;
  private timer: NodeJS.Timeout | null = null;
  private timerDueMs = Infinity;
  private closed = false;

  constructor(
    readonly capacity: number,
    private readonly nowMs: () => number = () => performance.now(),
  ) {}

  get size(): number {
    return this.heap.length;
  }

  /** Schedules `deliver` at `dueMs`; false (nothing scheduled) when the queue is full or closed. */
  push(dueMs: number, deliver: () => void): boolean {
    if (this.closed || this.heap.length >= this.capacity) return false;
    this.heap.push({ dueMs, seq: this.seq++, deliver });
    this.siftUp(this.heap.length - 1);
    this.arm();
    return true;
  }

  /** Drops everything still queued and disarms the timer. */
  close(): void {
    this.closed = true;
    this.heap.length = 0;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private arm(): void {
    const first = this.heap[0];
    if (first === undefined) return;
    if (this.timer !== null && this.timerDueMs <= first.dueMs) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timerDueMs = first.dueMs;
    this.timer = setTimeout(() => this.fire(), Math.max(0, first.dueMs - this.nowMs()));
  }

  private fire(): void {
    this.timer = null;
    this.timerDueMs = Infinity;
    // Deliver everything due now (plus a 1 ms slack: setTimeout granularity).
    const limit = this.nowMs() + 1;
    let first = this.heap[0];
    while (first !== undefined && first.dueMs <= limit) {
      this.pop();
      try {
        first.deliver();
      } catch {
        // A delivery failure must not stop the queue; the caller counts its own errors.
      }
      first = this.heap[0];
    }
    this.arm();
  }

  private less(a: DelayedItem, b: DelayedItem): boolean {
    return a.dueMs < b.dueMs || (a.dueMs === b.dueMs && a.seq < b.seq);
  }

  private pop(): void {
    const last = this.heap.pop();
    if (last === undefined || this.heap.length === 0) return;
    this.heap[0] = last;
    let i = 0;
    const n = this.heap.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && this.less(this.heap[l]!, this.heap[m]!)) m = l;
      if (r < n && this.less(this.heap[r]!, this.heap[m]!)) m = r;
      if (m === i) return;
      [this.heap[i], this.heap[m]] = [this.heap[m]!, this.heap[i]!];
      i = m;
    }
  }

  private siftUp(index: number): void {
    let i = index;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(this.heap[i]!, this.heap[p]!)) return;
      [this.heap[i], this.heap[p]] = [this.heap[p]!, this.heap[i]!];
      i = p;
    }
  }
}
