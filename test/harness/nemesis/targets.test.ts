/**
 * Target resolution (harness/nemesis/targets.ts) against an in-memory
 * cluster: each target names the nodes it promises, among the running and
 * unpaused ones. 'follower' never names the leader (the gate's
 * lost-follower-log cell relies on the leadership staying put).
 */
import { describe, expect, it } from 'vitest';
import type { NemesisContext } from '../../../harness/nemesis/context.js';
import { resolveTarget } from '../../../harness/nemesis/targets.js';
import { FakeCluster, fakeContext } from './fake-cluster.js';

const contextOf = (cluster: FakeCluster, seed: number): NemesisContext => fakeContext(cluster, seed);

describe('resolveTarget', () => {
  const seed = Date.now() % 1_000_000;
  it(`follower: one running, unpaused node that is not the leader, whoever leads (seed ${seed})`, async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const cluster = new FakeCluster(5);
      cluster.leaderId = `n${(i % 5) + 1}`;
      if (i % 3 === 0) cluster.paused.add(`n${((i + 1) % 5) + 1}`);
      if (i % 7 === 0) cluster.alive.delete(`n${((i + 2) % 5) + 1}`);
      const { nodes, leader } = await resolveTarget(contextOf(cluster, seed + i), 'follower');
      expect(leader, `run ${i}`).toBe(cluster.leaderId);
      expect(nodes, `run ${i}`).toHaveLength(1);
      const [node] = nodes;
      expect(node, `run ${i}`).not.toBe(cluster.leaderId);
      expect(cluster.isAlive(node!) && !cluster.isPaused(node!), `run ${i}: ${node} runs`).toBe(true);
      seen.add(node!);
    }
    expect(seen.size).toBe(5); // every node is a follower sometimes
  });

  it('follower: nothing when the leader is the only node running', async () => {
    const cluster = new FakeCluster(3);
    cluster.alive.delete('n2');
    cluster.paused.add('n3');
    expect((await resolveTarget(contextOf(cluster, 1), 'follower')).nodes).toEqual([]);
  });
});
