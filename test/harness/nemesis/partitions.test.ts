import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import {
  bridgeGrudge,
  completeGrudge,
  halvesGrudge,
  isolate,
  leaderMinorityGrudge,
  majoritiesRingGrudge,
  majority,
  oneGrudge,
  sees,
} from '../../../harness/nemesis/partitions.js';
import { Rng } from '../../../harness/rng.js';
import type { Grudge } from '../../../harness/net/types.js';

const nodesArb = fc.integer({ min: 3, max: 9 }).map((n) => Array.from({ length: n }, (_, i) => `n${i + 1}`));
const seedArb = fc.integer({ min: 0, max: 0x7fffffff });

function symmetric(grudge: Grudge, nodes: readonly string[]): boolean {
  return nodes.every((a) => (grudge[a] ?? []).every((b) => (grudge[b] ?? []).includes(a)));
}
function wellFormed(grudge: Grudge, nodes: readonly string[]): void {
  expect(Object.keys(grudge).sort()).toEqual([...nodes].sort());
  for (const a of nodes) {
    expect(grudge[a]).not.toContain(a);
    for (const b of grudge[a]!) expect(nodes).toContain(b);
  }
}

describe('grudge functions (fast-check, 3–9 nodes)', () => {
  test.prop([nodesArb, seedArb])('one: a symmetric cut isolating exactly one node', (nodes, seed) => {
    const g = oneGrudge(nodes, new Rng(seed));
    wellFormed(g, nodes);
    expect(symmetric(g, nodes)).toBe(true);
    const isolated = nodes.filter((a) => sees(g, nodes, a).size === 1);
    expect(isolated).toHaveLength(1);
    for (const a of nodes) if (a !== isolated[0]) expect(sees(g, nodes, a).size).toBe(nodes.length - 1);
  });

  test.prop([nodesArb, seedArb])('halves: symmetric, two components of floor/ceil size, the smaller a minority', (nodes, seed) => {
    const g = halvesGrudge(nodes, new Rng(seed));
    wellFormed(g, nodes);
    expect(symmetric(g, nodes)).toBe(true);
    const sizes = [...new Set(nodes.map((a) => [...sees(g, nodes, a)].sort().join(',')))]
      .map((c) => c.split(',').length)
      .sort((a, b) => a - b);
    expect(sizes).toEqual([Math.floor(nodes.length / 2), Math.ceil(nodes.length / 2)]);
    expect(sizes[0]!).toBeLessThan(majority(nodes.length));
  });

  test.prop([nodesArb, seedArb, fc.nat()])(
    'leader-minority: the leader and others, the largest minority whose complement is a majority, cut from the rest',
    (nodes, seed, pick) => {
      const leader = nodes[pick % nodes.length]!;
      const g = leaderMinorityGrudge(nodes, leader, new Rng(seed));
      wellFormed(g, nodes);
      expect(symmetric(g, nodes)).toBe(true);
      const side = sees(g, nodes, leader);
      expect(side.size).toBe(nodes.length - majority(nodes.length));
      expect(side.size).toBeLessThan(majority(nodes.length)); // the leader lost its quorum
      const rest = nodes.filter((a) => !side.has(a));
      for (const a of rest) expect(sees(g, nodes, a).size).toBe(rest.length);
      expect(rest.length).toBeGreaterThanOrEqual(majority(nodes.length)); // the others can elect
    },
  );

  test.prop([nodesArb, seedArb])('majorities-ring: every node sees a majority; distinct views for ≤5 nodes', (nodes, seed) => {
    const g = majoritiesRingGrudge(nodes, new Rng(seed));
    wellFormed(g, nodes);
    const m = majority(nodes.length);
    const views = nodes.map((a) => sees(g, nodes, a));
    for (const v of views) expect(v.size).toBeGreaterThanOrEqual(m);
    // Not everyone sees everyone (otherwise it is no partition).
    expect(views.some((v) => v.size < nodes.length)).toBe(true);
    if (nodes.length <= 5) {
      expect(new Set(views.map((v) => [...v].sort().join(','))).size).toBe(nodes.length);
      for (const v of views) expect(v.size).toBe(m);
    } else {
      expect(symmetric(g, nodes)).toBe(true);
    }
  });

  test.prop([nodesArb, seedArb])('bridge: the bridge sees all; the halves are cut from each other', (nodes, seed) => {
    const { grudge: g, bridge } = bridgeGrudge(nodes, new Rng(seed));
    wellFormed(g, nodes);
    expect(symmetric(g, nodes)).toBe(true);
    expect(g[bridge]).toEqual([]);
    for (const a of nodes) expect(sees(g, nodes, a).has(bridge)).toBe(true);
    const others = nodes.filter((a) => a !== bridge);
    // Group the non-bridge nodes by what they see: exactly two sides.
    const sides = new Map<string, string[]>();
    for (const a of others) {
      const key = [...sees(g, nodes, a)].sort().join(',');
      sides.set(key, [...(sides.get(key) ?? []), a]);
    }
    const groups = [...sides.values()].sort((x, y) => x.length - y.length);
    expect(groups.map((x) => x.length)).toEqual([Math.ceil(nodes.length / 2) - 1, Math.floor(nodes.length / 2)].sort((x, y) => x - y));
    const [left, right] = groups as [string[], string[]];
    for (const a of left)
      for (const b of right) {
        expect(g[a]).toContain(b);
        expect(g[b]).toContain(a);
      }
    for (const a of others) expect(sees(g, nodes, a).size).toBeLessThan(nodes.length);
  });

  test.prop([nodesArb, seedArb])('same seed, same grudge', (nodes, seed) => {
    expect(majoritiesRingGrudge(nodes, new Rng(seed))).toEqual(majoritiesRingGrudge(nodes, new Rng(seed)));
    expect(halvesGrudge(nodes, new Rng(seed))).toEqual(halvesGrudge(nodes, new Rng(seed)));
  });
});

describe('completeGrudge / isolate', () => {
  test('complete grudge of three components', () => {
    expect(completeGrudge([['a'], ['b', 'c'], ['d']])).toEqual({ a: ['b', 'c', 'd'], b: ['a', 'd'], c: ['a', 'd'], d: ['a', 'b', 'c'] });
  });
  test('isolate an unknown node is an error', () => {
    expect(() => isolate(['n1', 'n2'], 'n3')).toThrow(/unknown node n3/);
  });
});
