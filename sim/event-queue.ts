/**
 * The simulator's event queue: a binary min-heap keyed by (time, seq).
 * `seq` is a global insertion counter, so events at the same simulated time
 * run in the order they were scheduled: a total, reproducible order (no
 * ties left to the heap's shape). Time jumps straight to the next event.
 */
import { assert, assertionFailed } from '../node/util/assert.js';

export interface SimEvent {
  readonly timeMs: number;
  readonly seq: number;
  run(): void;
  /** Cancelled events stay in the heap and are skipped when popped (cheaper than removal). */
  cancelled: boolean;
}

/**
 * An event that is its own record: a subclass carries its data in fields
 * and implements `run`, so a frequent event (a datagram in flight) costs one
 * object instead of a closure plus an event. Queue it with `enqueue`.
 */
export abstract class QueuedEvent implements SimEvent {
  timeMs = 0;
  seq = 0;
  cancelled = false;
  abstract run(): void;
}

class CallbackEvent extends QueuedEvent {
  constructor(private readonly fn: () => void) {
    super();
  }

  run(): void {
    this.fn();
  }
}

export class EventQueue {
  private readonly heap: SimEvent[] = [];
  private nextSeq = 0;
  private nowMs = 0;

  constructor(private readonly maxEvents = 2_000_000) {}

  get now(): number {
    return this.nowMs;
  }

  get size(): number {
    return this.heap.length;
  }

  /** Schedules `run` at now + delayMs (delay clamped at 0). Throws past `maxEvents` queued (a runaway simulation is a bug). */
  schedule(delayMs: number, run: () => void): SimEvent {
    return this.enqueue(new CallbackEvent(run), delayMs);
  }

  /** Queues `event` (not in the queue: fresh, or one that already ran and is reused) at now + delayMs (delay clamped at 0). */
  enqueue<E extends QueuedEvent>(event: E, delayMs: number): E {
    if (!Number.isFinite(delayMs)) assertionFailed(`event delay must be finite, got ${delayMs}`);
    if (this.heap.length >= this.maxEvents) assertionFailed(`event queue over its bound of ${this.maxEvents} events`);
    event.timeMs = this.nowMs + Math.max(0, delayMs);
    event.seq = this.nextSeq++;
    this.push(event);
    return event;
  }

  /** Time of the next live event, or null when none is left. */
  peekTime(): number | null {
    while (this.heap.length > 0 && this.heap[0]!.cancelled) this.pop();
    return this.heap[0]?.timeMs ?? null;
  }

  /** Removes the next live event and advances the clock to it (never backwards). */
  next(): SimEvent | null {
    for (;;) {
      const event = this.pop();
      if (event === undefined) return null;
      if (event.cancelled) continue;
      assert(event.timeMs >= this.nowMs, 'simulated time never goes backwards');
      this.nowMs = event.timeMs;
      return event;
    }
  }

  // Sift with a hole instead of swaps: the simulator pushes and pops one event per step.
  private push(event: SimEvent): void {
    const heap = this.heap;
    let i = heap.length;
    heap.push(event);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent]!;
      if (!before(event, p)) break;
      heap[i] = p;
      i = parent;
    }
    heap[i] = event;
  }

  private pop(): SimEvent | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (top === undefined || last === undefined || heap.length === 0) return top;
    const n = heap.length;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let child = l;
      let c = heap[l]!;
      if (r < n && before(heap[r]!, c)) {
        child = r;
        c = heap[r]!;
      }
      if (!before(c, last)) break;
      heap[i] = c;
      i = child;
    }
    heap[i] = last;
    return top;
  }
}

/** The queue's total order: time, then scheduling order. */
function before(a: SimEvent, b: SimEvent): boolean {
  return a.timeMs < b.timeMs || (a.timeMs === b.timeMs && a.seq < b.seq);
}
