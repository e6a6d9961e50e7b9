/**
 * --fault-budgets (mc/model.ts allActions): with `node` every node may
 * crash --crashes times; with `cluster` the budget is shared, so after one
 * crash no node may crash again, and the space shrinks with the same
 * verdicts.
 */
import { describe, expect, it } from 'vitest';
import { Model, type Action } from '../../mc/model.js';
import { defaultOptions } from '../../mc/options.js';
import { check, flags, LEADER_PUT_CRASH } from './helpers.js';

function crashable(scope: 'node' | 'cluster'): number[] {
  const model = new Model(
    defaultOptions({
      faultBudgets: scope,
      start: 'leader',
      bounds: { writes: 0, reads: 0, crashes: 1, drops: 0, dups: 0, timeouts: 0 },
    }),
  );
  const actions: Action[] = [];
  const w0 = model.initial();
  model.actions(w0, actions);
  const crash = actions.find((a) => a.kind === 'crash' && a.node === 1);
  expect(crash).toBeDefined();
  const w1 = model.step(w0, crash!).world;
  model.actions(w1, actions);
  return actions.flatMap((a) => (a.kind === 'crash' ? [a.node] : []));
}

describe('--fault-budgets', () => {
  it('node: after n2 crashes, n1 and n3 may still crash; cluster: no node may', () => {
    expect(crashable('node').sort()).toEqual([0, 2]);
    expect(crashable('cluster')).toEqual([]);
  });

  it('cluster: a smaller space, exhausted with no violation like the per-node one', async () => {
    const bounds = flags(LEADER_PUT_CRASH);
    const perNode = await check(bounds);
    const cluster = await check(['--fault-budgets', 'cluster', ...bounds]);
    for (const r of [perNode, cluster]) {
      expect(r.result.stopped).toBe('exhausted');
      expect(r.result.finding).toBeNull();
    }
    expect(cluster.result.stats.distinct).toBeLessThan(perNode.result.stats.distinct);
  });
});
