import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ClientReplayGuard } from '../../../node/transport/client-replay.js';

const W = 30_000;
const T0 = 1_700_000_000_000;

describe('ClientReplayGuard', () => {
  it('refuses a datagram stamped more than W from the node clock, either way', () => {
    const g = new ClientReplayGuard({ freshnessMs: W });
    expect(g.judge('c', 1, 1, T0 - W - 1, T0)).toMatchObject({ kind: 'drop', reason: 'stale_timestamp' });
    expect(g.judge('c', 1, 2, T0 + W + 1, T0)).toMatchObject({ kind: 'drop', reason: 'stale_timestamp' });
    expect(g.judge('c', 1, 3, T0 - W, T0)).toEqual({ kind: 'accept' });
    expect(g.judge('c', 1, 4, T0 + W, T0)).toEqual({ kind: 'accept' });
  });

  it('keeps one window per (sender, instance): another instance of the same sender has its own counters', () => {
    const g = new ClientReplayGuard({ freshnessMs: W });
    expect(g.judge('c', 1, 1, T0, T0)).toEqual({ kind: 'accept' });
    expect(g.judge('c', 1, 1, T0, T0)).toMatchObject({ kind: 'drop', reason: 'replayed' });
    expect(g.judge('c', 2, 1, T0, T0)).toEqual({ kind: 'accept' });
    expect(g.judge('d', 1, 1, T0, T0)).toEqual({ kind: 'accept' });
    expect(g.size).toBe(3);
  });

  it('is bounded, and never evicts an entry that could still see a replay: a new client waits instead', () => {
    const g = new ClientReplayGuard({ freshnessMs: W, maxClients: 3 });
    for (let i = 0; i < 3; i++) expect(g.judge(`c${i}`, 1, 1, T0 + i, T0 + i)).toEqual({ kind: 'accept' });
    // Full, and c0 accepted a datagram stamped up to T0 + W, which stays fresh until T0 + 2W.
    expect(g.judge('new', 1, 1, T0 + 2 * W, T0 + 2 * W)).toMatchObject({ kind: 'drop', reason: 'client_table_full' });
    expect(g.size).toBe(3);
    // Past 2W after c0's last acceptance, c0 may go: nothing it accepted can be fresh any more.
    expect(g.judge('new', 1, 1, T0 + 2 * W + 1, T0 + 2 * W + 1)).toEqual({ kind: 'accept' });
    expect(g.size).toBe(3);
    // c0's old datagram, replayed now, is stale: eviction did not re-open it.
    expect(g.judge('c0', 1, 1, T0, T0 + 2 * W + 1)).toMatchObject({ kind: 'drop', reason: 'stale_timestamp' });
  });

  it('property: with any arrivals, clocks and a small bound, no (sender, instance, counter) is ever accepted twice', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            sender: fc.constantFrom('a', 'b', 'c', 'd', 'e'),
            instance: fc.integer({ min: 1, max: 2 }),
            counter: fc.integer({ min: 1, max: 40 }),
            skewMs: fc.integer({ min: -2 * W, max: 2 * W }),
            advanceMs: fc.integer({ min: 0, max: W }),
          }),
          { maxLength: 300 },
        ),
        fc.integer({ min: 1, max: 6 }),
        (arrivals, maxClients) => {
          const g = new ClientReplayGuard({ freshnessMs: W, maxClients });
          const accepted = new Set<string>();
          // Every datagram is sent once (its stamp fixed at first sight), and may be replayed later.
          const stamps = new Map<string, number>();
          let now = T0;
          const twice: string[] = [];
          for (const a of arrivals) {
            now += a.advanceMs;
            const id = `${a.sender}/${a.instance}/${a.counter}`;
            const sentAt = stamps.get(id) ?? now + a.skewMs;
            stamps.set(id, sentAt);
            const verdict = g.judge(a.sender, a.instance, a.counter, sentAt, now);
            if (verdict.kind === 'accept') {
              if (accepted.has(id)) twice.push(id);
              accepted.add(id);
            }
            if (g.size > maxClients) twice.push(`size ${g.size}`);
          }
          expect(twice).toEqual([]);
        },
      ),
      { numRuns: 400 },
    );
  });
});
