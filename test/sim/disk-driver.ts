// Test helpers: run a simulated disk's event queue until a promise settles.
import type { EventQueue } from '../../sim/event-queue.js';

/** One macrotask turn: every pending microtask (promise continuation) runs first. */
export const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Runs `queue`'s events (simulated fsyncs, timers) one at a time, letting
 * promise continuations run between them, until `promise` settles. Throws
 * when the queue runs dry first (the promise would never settle).
 */
export async function drive<T>(queue: EventQueue, promise: Promise<T>): Promise<T> {
  let settled = false;
  promise.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  for (;;) {
    await turn();
    if (settled) return promise;
    const event = queue.next();
    if (event === null) throw new Error('drive: the event queue ran dry before the promise settled');
    event.run();
  }
}

/** Runs every queued event (and the continuations between them). */
export async function runAll(queue: EventQueue): Promise<void> {
  for (;;) {
    await turn();
    const event = queue.next();
    if (event === null) return;
    event.run();
  }
}
