/**
 * Replica agreement at the end of a run (harness/run/replicas.ts): digests
 * compared within each applied index, the wait for the nodes to converge,
 * and the analysis a divergence turns into. A fake cluster of digests here;
 * the real nodes' digests: test/node/host-state-digest.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { StateDigest } from '../../../node/protocol.js';
import { compareReplicas, divergencesOf, replicaAnalysis, type ReplicaDigest } from '../../../harness/run/replicas.js';

const d = (node: string, appliedIndex: number, sha256: string): ReplicaDigest => ({ node, appliedIndex, sha256 });

/** Each call to stateDigest(node) returns the next digest of that node's script (the last one repeats); null = silent. */
function fakeCluster(script: Record<string, (StateDigest | null)[]>, digestsState = true) {
  const calls = new Map<string, number>();
  return {
    nodeIds: Object.keys(script),
    digestsState,
    stateDigest: (node: string): Promise<StateDigest | null> => {
      const i = calls.get(node) ?? 0;
      calls.set(node, i + 1);
      const answers = script[node]!;
      return Promise.resolve(answers[Math.min(i, answers.length - 1)] ?? null);
    },
  };
}

describe('divergencesOf', () => {
  it('finds nodes that disagree at one applied index, and only there', () => {
    expect(divergencesOf([d('n1', 10, 'aa'), d('n2', 10, 'aa'), d('n3', 10, 'aa')])).toEqual([]);
    // Different indexes are not compared with each other.
    expect(divergencesOf([d('n1', 10, 'aa'), d('n2', 11, 'bb')])).toEqual([]);
    expect(divergencesOf([d('n3', 10, 'bb'), d('n1', 10, 'aa'), d('n2', 10, 'aa'), d('n4', 12, 'cc'), d('n5', 12, 'cc')])).toEqual([
      { appliedIndex: 10, nodesByDigest: { bb: ['n3'], aa: ['n1', 'n2'] } },
    ]);
  });
});

describe('compareReplicas', () => {
  const never = new AbortController().signal;

  it('waits for the nodes to reach one applied index, then compares', async () => {
    const c = await compareReplicas(
      fakeCluster({
        n1: [
          { appliedIndex: 5, sha256: 'x' },
          { appliedIndex: 7, sha256: 'a' },
        ],
        n2: [{ appliedIndex: 7, sha256: 'a' }],
        n3: [null, { appliedIndex: 7, sha256: 'a' }],
      }),
      5_000,
      never,
    );
    expect(c).toMatchObject({ converged: true, silent: [], divergences: [] });
    expect(c!.digests.map((x) => [x.node, x.appliedIndex])).toEqual([
      ['n1', 7],
      ['n2', 7],
      ['n3', 7],
    ]);
    expect(replicaAnalysis(c!)).toMatchObject({
      name: 'replicas',
      valid: true,
      conclusion: 'the 3 replicas that answered agree at applied index 7',
    });
  });

  it('a divergence at one index makes the analysis invalid and names the nodes', async () => {
    const c = await compareReplicas(
      fakeCluster({
        n1: [{ appliedIndex: 9, sha256: 'aaaaaaaaaaaaaaaa' }],
        n2: [{ appliedIndex: 9, sha256: 'bbbbbbbbbbbbbbbb' }],
        n3: [{ appliedIndex: 9, sha256: 'aaaaaaaaaaaaaaaa' }],
      }),
      5_000,
      never,
    );
    const analysis = replicaAnalysis(c!);
    expect(analysis.valid).toBe(false);
    expect(analysis.brief).toBe('replicas: diverged');
    expect(analysis.findings).toEqual(['at applied index 9 the replicas hold different states: n1, n3 aaaaaaaaaaaa vs n2 bbbbbbbbbbbb']);
  });

  it('at the deadline, compares what it has: a silent node is named, different indexes are not a divergence', async () => {
    const c = await compareReplicas(
      fakeCluster({ n1: [{ appliedIndex: 3, sha256: 'a' }], n2: [{ appliedIndex: 4, sha256: 'b' }], n3: [null] }),
      300,
      never,
    );
    expect(c).toMatchObject({ converged: false, silent: ['n3'], divergences: [] });
    expect(replicaAnalysis(c!).conclusion).toBe('the 2 replicas that answered agree within each applied index (3, 4); not compared: n3');
  });

  it('a system without digests is not compared', async () => {
    expect(await compareReplicas(fakeCluster({ n1: [null] }, false), 1_000, never)).toBeNull();
  });
});
