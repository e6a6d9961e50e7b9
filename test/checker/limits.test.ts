// Bounds: a hard history under a time limit or a cache cap yields 'unknown'
// (never a crash), and a generous limit still decides easy histories.
import { describe, expect, test } from 'vitest';
import { checkHistory, type HistoryOp } from '../../checker/index.js';
import { hist, type Row } from './helpers.js';

/**
 * 40 crashed writes of distinct values, then a read of a value nobody wrote:
 * not linearizable, but proving it means trying every subset of the crashed
 * writes (about 2^40 configurations).
 */
function hardHistory(): HistoryOp[] {
  const rows: Row[] = [];
  for (let p = 0; p < 40; p++) rows.push([p, 'invoke', 'write', p]);
  rows.push([100, 'invoke', 'read', null], [100, 'ok', 'read', 999]);
  return hist(rows);
}

describe('limits', () => {
  test('time limit turns a hard history into unknown', () => {
    const r = checkHistory(hardHistory(), { timeLimitMs: 200 });
    expect(r.valid).toBe('unknown');
    expect(r.unknownReason).toBe('time_limit');
    expect(r.unknownKeys).toEqual(['']);
    expect(r.keys['']!.unknownReason).toBe('time_limit');
  });

  test('cache entry cap turns a hard history into unknown', () => {
    const r = checkHistory(hardHistory(), { maxCacheEntries: 5000 });
    expect(r.valid).toBe('unknown');
    expect(r.unknownReason).toBe('memory_limit');
  });

  test('cache byte cap turns a hard history into unknown', () => {
    const r = checkHistory(hardHistory(), { maxCacheBytes: 2 * 1024 * 1024 });
    expect(r.valid).toBe('unknown');
    expect(r.unknownReason).toBe('memory_limit');
  });

  test('an invalid key beats an unknown one', () => {
    const rows = hardHistory().map((o) => ({ ...o, key: 'hard' }));
    rows.push({ index: 100, process: 200, type: 'invoke', f: 'read', value: null, key: 'easy', line: 100 });
    rows.push({ index: 101, process: 200, type: 'ok', f: 'read', value: 1, key: 'easy', line: 101 });
    const r = checkHistory(rows, { timeLimitMs: 5000 });
    expect(r.valid).toBe(false);
    expect(r.failures).toEqual(['easy']);
  });

  test('a limit does not disturb an easy history', () => {
    const r = checkHistory(hist([[0, 'invoke', 'write', 1], [0, 'ok', 'write', 1]]), { timeLimitMs: 10_000, maxCacheEntries: 10 });
    expect(r.valid).toBe(true);
  });
});
