// Bounds: a hard history under a time limit or a cache cap yields 'unknown'
// (never a crash), and a generous limit still decides easy histories.
import { describe, expect, test } from 'vitest';
import { checkHistory, type HistoryOp } from '../../checker/index.js';
import { hardCasRows, hist } from './helpers.js';

/**
 * Not linearizable, but proving it takes exponential work even with the
 * checker's fast paths (see hardCasRows). (Until issue 17 this was 40
 * crashed writes and a read of a value nobody wrote, which the fast paths
 * now refute at once: the writes are unobserved, the read has no producer.)
 */
function hardHistory(): HistoryOp[] {
  return hist(hardCasRows());
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
    const n = rows.length; // indexes are unique: a certificate names ops by them
    rows.push({ index: n, process: 200, type: 'invoke', f: 'read', value: null, key: 'easy', line: n + 1 });
    rows.push({ index: n + 1, process: 200, type: 'ok', f: 'read', value: 1, key: 'easy', line: n + 2 });
    const r = checkHistory(rows, { timeLimitMs: 5000 });
    expect(r.valid).toBe(false);
    expect(r.failures).toEqual(['easy']);
  });

  test('a limit does not disturb an easy history', () => {
    const r = checkHistory(
      hist([
        [0, 'invoke', 'write', 1],
        [0, 'ok', 'write', 1],
      ]),
      { timeLimitMs: 10_000, maxCacheEntries: 10 },
    );
    expect(r.valid).toBe(true);
  });
});
