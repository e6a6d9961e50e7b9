/**
 * The simulator's trace kinds enter every run's trace hash, so each keeps its
 * number: renumbering one would silently change every recorded hash.
 */
import { describe, expect, it } from 'vitest';
import { TraceKind } from '../../sim/trace-kind.js';

describe('TraceKind', () => {
  it('names distinct numbers, fixed as recorded trace hashes know them', () => {
    const values = Object.values(TraceKind);
    expect(new Set(values).size).toBe(values.length);
    expect(TraceKind).toEqual({
      peerDelivery: 1,
      timer: 2,
      clientDelivery: 4,
      fault: 5,
      refusedStart: 6,
      log: 7,
      start: 8,
      crash: 9,
      corrupt: 10,
      violation: 11,
      pause: 12,
      resume: 13,
      replay: 14,
      liveness: 15,
      diskError: 16,
    });
  });
});
