/**
 * Grudge functions (Jepsen's `jepsen.nemesis`): each returns
 * grudge[a] = the nodes whose packets a drops. Every node appears as a key.
 */
import type { Grudge } from '../net/types.js';
import type { Rng } from '../rng.js';

export type MutableGrudge = Record<string, string[]>;

export function majority(n: number): number {
  return Math.floor(n / 2) + 1;
}

/** Every node drops every node outside its own component (a symmetric cut). */
export function completeGrudge(components: readonly (readonly string[])[]): MutableGrudge {
  const all = components.flat();
  const grudge: MutableGrudge = {};
  for (const component of components) {
    const inside = new Set(component);
    for (const a of component) grudge[a] = all.filter((b) => !inside.has(b));
  }
  return grudge;
}

/** Isolates `target` from everyone else (Jepsen's split-one). */
export function isolate(nodes: readonly string[], target: string): MutableGrudge {
  if (!nodes.includes(target)) throw new Error(`isolate: unknown node ${target}`);
  return completeGrudge([[target], nodes.filter((n) => n !== target)]);
}

/** `partition-random-node`: isolate one random node. */
export function oneGrudge(nodes: readonly string[], rng: Rng): MutableGrudge {
  return isolate(nodes, rng.pick(nodes));
}

/** Jepsen's bisect: the smaller half first (for an odd count the first half is a minority). */
export function bisect<T>(items: readonly T[]): [T[], T[]] {
  const cut = Math.floor(items.length / 2);
  return [items.slice(0, cut), items.slice(cut)];
}

/** `partition-random-halves`: random halves, the smaller one a minority. */
export function halvesGrudge(nodes: readonly string[], rng: Rng): MutableGrudge {
  return completeGrudge(bisect(rng.shuffle(nodes)));
}

/**
 * `leader-minority`: the leader and random others, a minority in all, cut
 * from the rest (Jepsen's random halves with the primary on the small side):
 * the leader loses its quorum while keeping company, and the majority side
 * must elect without it: the largest such minority whose complement is a
 * majority (2 of 5, 2 of 6); with 1-2 nodes the leader alone.
 */
export function leaderMinorityGrudge(nodes: readonly string[], leader: string, rng: Rng): MutableGrudge {
  if (!nodes.includes(leader)) throw new Error(`leaderMinorityGrudge: unknown node ${leader}`);
  // The largest minority whose complement still holds a majority (2 of 5, 2 of 6, 3 of 7).
  const size = Math.max(1, nodes.length - majority(nodes.length));
  const others = rng.shuffle(nodes.filter((n) => n !== leader));
  const minority = [leader, ...others.slice(0, size - 1)];
  return completeGrudge([minority, nodes.filter((n) => !minority.includes(n))]);
}

/**
 * `bridge`: two halves plus one bridge node (the first node of the larger half)
 * that talks to both sides; the halves cannot talk to each other directly.
 */
export function bridgeGrudge(nodes: readonly string[], rng: Rng): { grudge: MutableGrudge; bridge: string } {
  const [left, right] = bisect(rng.shuffle(nodes));
  const bridge = right[0]!;
  const rest = right.slice(1);
  const grudge = completeGrudge([left, rest]);
  grudge[bridge] = [];
  return { grudge, bridge };
}

/**
 * `partition-majorities-ring`: every node sees a majority (itself included),
 * but no two nodes see the same majority. For ≤5 nodes Jepsen's exact ring:
 * shuffle, take the cyclic windows of size majority, and each window's middle
 * node drops everyone outside its window. For more nodes, a random symmetric
 * graph: repeatedly connect the least-connected node to the least-connected
 * node it is not yet connected to, until every node's degree (with itself)
 * reaches a majority.
 */
export function majoritiesRingGrudge(nodes: readonly string[], rng: Rng): MutableGrudge {
  const n = nodes.length;
  const m = majority(n);
  const shuffled = rng.shuffle(nodes);
  const grudge: MutableGrudge = {};
  if (n <= 5) {
    for (let i = 0; i < n; i++) {
      const window = new Set<string>();
      for (let k = 0; k < m; k++) window.add(shuffled[(i + k) % n]!);
      const middle = shuffled[(i + Math.floor(m / 2)) % n]!;
      grudge[middle] = nodes.filter((b) => !window.has(b));
    }
    return grudge;
  }
  const seen = new Map<string, Set<string>>(shuffled.map((a) => [a, new Set([a])]));
  const degree = (a: string): number => seen.get(a)!.size;
  for (;;) {
    const lacking = shuffled.filter((a) => degree(a) < m);
    if (lacking.length === 0) break;
    const minDeg = Math.min(...lacking.map(degree));
    const u = rng.pick(lacking.filter((a) => degree(a) === minDeg));
    const candidates = shuffled.filter((b) => !seen.get(u)!.has(b));
    const minCand = Math.min(...candidates.map(degree));
    const v = rng.pick(candidates.filter((b) => degree(b) === minCand));
    seen.get(u)!.add(v);
    seen.get(v)!.add(u);
  }
  for (const a of nodes) grudge[a] = nodes.filter((b) => !seen.get(a)!.has(b));
  return grudge;
}

/** The set of nodes a sees (does not drop), itself included. */
export function sees(grudge: Grudge, nodes: readonly string[], a: string): Set<string> {
  const drops = new Set(grudge[a] ?? []);
  return new Set(nodes.filter((b) => !drops.has(b)));
}

/** A short human description for logs: "n1 n2 | n3 n4 n5" for complete grudges. */
export function describeGrudge(grudge: Grudge): string {
  return Object.entries(grudge)
    .filter(([, froms]) => froms.length > 0)
    .map(([a, froms]) => `${a}✕{${froms.join(',')}}`)
    .join(' ');
}
