import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { EventQueue } from '../../sim/event-queue.js';

describe('EventQueue', () => {
  it('runs events in (time, insertion) order and jumps time to each', () => {
    const q = new EventQueue();
    const seen: string[] = [];
    q.schedule(5, () => seen.push('b'));
    q.schedule(1, () => seen.push('a'));
    q.schedule(5, () => seen.push('c'));
    const cancelled = q.schedule(3, () => seen.push('x'));
    cancelled.cancelled = true;
    const times: number[] = [];
    for (let e = q.next(); e !== null; e = q.next()) {
      times.push(q.now);
      e.run();
    }
    expect(seen).toEqual(['a', 'b', 'c']);
    expect(times).toEqual([1, 5, 5]);
  });

  it('pops any schedule sorted by time, ties by scheduling order (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat({ max: 50 }), fc.boolean()), { maxLength: 200 }), (items) => {
        const q = new EventQueue();
        const order: number[] = [];
        items.forEach(([delay, cancel], i) => {
          const e = q.schedule(delay, () => order.push(i));
          if (cancel) e.cancelled = true;
        });
        for (let e = q.next(); e !== null; e = q.next()) e.run();
        const expected = items
          .map(([delay, cancel], i) => ({ delay, cancel, i }))
          .filter((x) => !x.cancel)
          .sort((a, b) => a.delay - b.delay || a.i - b.i)
          .map((x) => x.i);
        expect(order).toEqual(expected);
      }),
    );
  });
});
