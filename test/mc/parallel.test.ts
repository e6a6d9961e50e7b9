/**
 * `--workers N` (mc/parallel.ts, mc/worker.ts): BFS over worker threads
 * with one shared visited set gives the one-thread search's results: the
 * same number of distinct states when the state space has no symmetry
 * pruning (whose representatives depend on which relabelling is met
 * first), the same violated property and a counterexample of the same
 * (shortest) length, replayed by the simulator. Needs dist/ (the workers
 * load dist/mc/worker.js; the test setup builds it).
 */
import { describe, expect, it } from 'vitest';
import { check, flags, LEADER_PUT_CRASH_TIMER, LEADER_PUT_READ } from './helpers.js';

describe('parallel BFS over worker threads', () => {
  it('exhausts the same space as one thread', async () => {
    const bounds = ['--no-symmetry', ...flags({ ...LEADER_PUT_READ, crashes: 1 })];
    const one = await check(bounds);
    const two = await check([...bounds, '--workers', '2']);
    expect(one.result.stopped).toBe('exhausted');
    expect(two.result.stopped).toBe('exhausted');
    expect(two.result.finding).toBeNull();
    expect(two.result.stats.distinct).toBe(one.result.stats.distinct);
    expect(two.result.stats.transitions).toBe(one.result.stats.transitions);
    expect(two.result.stats.maxDepth).toBe(one.result.stats.maxDepth);
    expect(one.result.stats.distinct).toBeGreaterThan(100);
  });

  it('finds the same shortest counterexample length as one thread', async () => {
    const bounds = ['--unsafe', 'memory-log', ...flags(LEADER_PUT_CRASH_TIMER)];
    const one = await check(bounds);
    const two = await check([...bounds, '--workers', '2']);
    expect(two.result.finding?.violation.property).toBe(one.result.finding?.violation.property);
    expect(two.counterexampleEvents).toBe(one.counterexampleEvents);
    expect(two.replayConfirmed).toBe(true);
  });
});
