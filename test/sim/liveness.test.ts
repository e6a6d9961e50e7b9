/**
 * The post-heal liveness judgements (sim/liveness.ts): bounds in election
 * timeouts, the leader a cluster must have, and the catch-up of every
 * running node to what that leader had committed.
 */
import { describe, expect, it } from 'vitest';
import { currentLeader, judgeCatchUp, judgeClientsAtEnd, livenessPlan, majorityCanRun, type NodeSnapshot } from '../../sim/liveness.js';
import { defaultSimOptions } from '../../sim/scenario.js';

function node(id: string, over: Partial<NodeSnapshot> = {}): NodeSnapshot {
  return {
    id,
    running: true,
    refused: false,
    voters: null,
    role: 'follower',
    currentTerm: 2,
    commitIndex: 10,
    lastLogIndex: 10,
    ...over,
  };
}

describe('liveness after the heal', () => {
  it('states its bounds in election timeouts (electionTimeoutMsMax)', () => {
    const plan = livenessPlan({
      ...defaultSimOptions,
      faultWindowMs: 4000,
      electionTimeoutMsMax: 300,
      livenessLeaderElectionTimeouts: 3,
      livenessOpElectionTimeouts: 3,
      catchUpElectionTimeouts: 8,
    });
    expect(plan).toEqual({ healMs: 4000, livenessFromMs: 4900, opTimeoutMs: 900, catchUpByMs: 6400 });
  });

  it('a leader is the running leader of the highest term; a candidate in a later term means there is none yet', () => {
    expect(currentLeader([node('n1', { role: 'leader' }), node('n2')])?.id).toBe('n1');
    expect(currentLeader([node('n1', { role: 'leader' }), node('n2', { role: 'candidate', currentTerm: 3 })])).toBeNull();
    expect(currentLeader([node('n1', { role: 'leader', running: false }), node('n2')])).toBeNull();
    expect(currentLeader([node('n1', { role: 'leader', currentTerm: 1 }), node('n2', { role: 'leader', currentTerm: 2 })])?.id).toBe('n2');
  });

  it('asks for a leader only when a majority can run (storage refusals stay down)', () => {
    expect(majorityCanRun([node('n1', { refused: true }), node('n2'), node('n3')])).toBe(true);
    expect(majorityCanRun([node('n1', { refused: true }), node('n2', { refused: true }), node('n3')])).toBe(false);
  });

  it('with membership changes, a majority of every running configuration must be able to run', () => {
    // n2 was removed ({n1,n3}) and n1 refused to start: n3 alone cannot be elected, though 2 of the 3 nodes run.
    const shrunk = ['n1', 'n3'];
    expect(majorityCanRun([node('n1', { refused: true, running: false }), node('n2'), node('n3', { voters: shrunk })])).toBe(false);
    expect(
      majorityCanRun([node('n1', { voters: shrunk }), node('n2', { refused: true, running: false }), node('n3', { voters: shrunk })]),
    ).toBe(true);
    // A removed node still running with the old configuration changes nothing when that one has a usable majority too.
    expect(
      majorityCanRun([node('n1', { voters: shrunk }), node('n2', { voters: ['n1', 'n2', 'n3'] }), node('n3', { voters: shrunk })]),
    ).toBe(true);
  });

  it('catch-up: names every running node still below the target, and ignores nodes that are down', () => {
    const plan = livenessPlan(defaultSimOptions);
    const nodes = [
      node('n1', { role: 'leader', commitIndex: 40 }),
      node('n2', { commitIndex: 0, lastLogIndex: 30 }),
      node('n3', { running: false, commitIndex: 0 }),
    ];
    const message = judgeCatchUp(nodes, 'n1', 40, plan, 8);
    expect(message).toMatch(
      /^catch-up: 8 election timeouts after the heal .* n2 \(commit 0, last 30\) still below commit 40, what leader n1 had committed/,
    );
    expect(message).not.toMatch(/n3 \(commit/);
    expect(judgeCatchUp([node('n1', { commitIndex: 40 }), node('n2', { commitIndex: 41 })], 'n1', 40, plan, 8)).toBeNull();
  });
});

describe('the end of a run (judgeClientsAtEnd)', () => {
  const opTimeoutMs = 900;
  it('flags a client with work left that got no answer in the last liveness op timeout, or never', () => {
    expect(
      judgeClientsAtEnd(
        [
          { slot: 0, done: false, lastAnsweredMs: 13_000 },
          { slot: 1, done: false, lastAnsweredMs: -1 },
        ],
        14_000,
        opTimeoutMs,
      ),
    ).toEqual([
      'liveness: client slot 0 still had work at the end of the run (14000 ms), last answered at 13000 ms',
      'liveness: client slot 1 still had work at the end of the run (14000 ms), never answered',
    ]);
  });
  it('passes a client that is done, or still answered within the timeout (a workload longer than the run)', () => {
    expect(
      judgeClientsAtEnd(
        [
          { slot: 0, done: true, lastAnsweredMs: 2_000 },
          { slot: 1, done: false, lastAnsweredMs: 13_990 },
          { slot: 2, done: false, lastAnsweredMs: 14_000 - opTimeoutMs },
        ],
        14_000,
        opTimeoutMs,
      ),
    ).toEqual([]);
  });
});
