/**
 * The reductions (symmetry over node ids, mc/symmetry.ts; the
 * partial-order reduction over quiet nodes, Model.actions) prune states but
 * never change a verdict: on small bounds every combination of them
 * exhausts the correct core's space and catches the same unsafe flag with
 * the same property, and each reduction explores fewer states than none.
 */
import { describe, expect, it } from 'vitest';
import { check } from './helpers.js';

// Both reductions, symmetry off, POR off, neither (the partial-order reduction is opt-in: --por).
const combos: readonly (readonly string[])[] = [['--por'], ['--no-symmetry', '--por'], [], ['--no-symmetry']];

describe('reductions keep the verdict', () => {
  it('the correct core: exhausted with no violation under every combination; each reduction explores fewer states', async () => {
    const bounds = [
      '--start',
      'leader',
      '--writes',
      '1',
      '--reads',
      '1',
      '--crashes',
      '0',
      '--drops',
      '0',
      '--dups',
      '0',
      '--timeouts',
      '0',
    ];
    const distinct: number[] = [];
    for (const combo of combos) {
      const r = await check([...bounds, ...combo]);
      expect(r.result.finding).toBeNull();
      expect(r.result.stopped).toBe('exhausted');
      distinct.push(r.result.stats.distinct);
    }
    const [both, noSymmetry, noPor, none] = distinct as [number, number, number, number];
    expect(both).toBeLessThanOrEqual(noSymmetry);
    expect(noPor).toBeLessThanOrEqual(none);
    expect(both).toBeLessThan(noPor);
    expect(noSymmetry).toBeLessThan(none);
  });

  it('--unsafe memory-log: the same violated property under every combination, the shortest trace no longer without them', async () => {
    const bounds = [
      '--unsafe',
      'memory-log',
      '--start',
      'leader',
      '--writes',
      '1',
      '--reads',
      '0',
      '--crashes',
      '1',
      '--drops',
      '0',
      '--dups',
      '0',
      '--timeouts',
      '1',
    ];
    const lengths: number[] = [];
    for (const combo of combos) {
      const r = await check([...bounds, ...combo]);
      expect(r.result.stopped).toBe('violation');
      expect(r.result.finding?.violation.property).toBe('election-safety');
      expect(r.replayConfirmed).toBe(true);
      lengths.push(r.counterexampleEvents!);
    }
    // BFS without the partial-order reduction finds a shortest trace of the full graph.
    expect(lengths[3]).toBeLessThanOrEqual(lengths[0]!);
  });
});
