/**
 * The progress analysis (harness/run/progress-analysis.ts): a run whose
 * cluster stopped serving is invalid, whatever the checker says; a stall
 * the machine caused is unknown; and the starvation monitor's measurement
 * of a real stall of this process's event loop.
 */
import { describe, expect, it } from 'vitest';
import {
  healedStretches,
  progressAnalysis,
  recoveryBound,
  STUCK_EXCUSE_RUNNING_MS,
  type ProgressInput,
} from '../../../harness/run/progress-analysis.js';
import { nodeWaits, StarvationMonitor } from '../../../harness/run/starvation.js';
import { waitFor } from '../wait.js';

const bound = recoveryBound(300, 1500, 100);
/** ok ops every 10 ms over [fromMs, toMs). */
const steady = (fromMs: number, toMs: number): number[] =>
  Array.from({ length: Math.floor((toMs - fromMs) / 10) }, (_, i) => fromMs + i * 10);
const base = (over: Partial<ProgressInput> = {}): ProgressInput => ({
  bound,
  oks: [...steady(0, 30_000), ...steady(31_000, 31_100)],
  healedStretches: [
    [0, 4000],
    [8000, 12_000],
    [16_000, 30_000],
  ],
  heal: { endedAtMs: 30_500, leader: 'n2', leaderWaitMs: 15_000 },
  finalReads: { keys: 3, ok: 3, missing: [] },
  firstFinalOkMs: 31_000,
  finalReadsBudgetMs: 20_000,
  overloaded: () => null,
  ...over,
});

describe('recoveryBound', () => {
  it('ten election timeouts, at least two op timeouts and ten inter-op intervals', () => {
    expect(bound).toMatchObject({ ms: 3000, text: '3.00 s (10 election timeouts of 300 ms)' });
    expect(recoveryBound(100, 1500, 100)).toMatchObject({
      ms: 3000,
      text: '3.00 s (30.0 election timeouts, set by two client op timeouts)',
    });
    expect(recoveryBound(300, 1500, 1).ms).toBe(10_000);
  });
});

describe('healedStretches', () => {
  it('the workload minus the (overlapping) faults', () => {
    expect(
      healedStretches(
        [
          { fromMs: 4000, toMs: 8000 },
          { fromMs: 6000, toMs: 9000 },
          { fromMs: 20_000, toMs: 40_000 },
        ],
        30_000,
      ),
    ).toEqual([
      [0, 4000],
      [9000, 20_000],
    ]);
    expect(healedStretches([], 5000)).toEqual([[0, 5000]]);
  });
});

describe('progressAnalysis', () => {
  it('a cluster that served whenever no fault was in force: valid', () => {
    expect(progressAnalysis(base())).toMatchObject({ name: 'progress', valid: true, findings: [] });
  });

  it('a cluster that stopped serving after its first fault: invalid, with the stretch and the bound in election timeouts', () => {
    const a = progressAnalysis(base({ oks: steady(0, 4000) }));
    expect(a.valid).toBe(false);
    expect(a.findings[0]).toBe(
      'progress: no ok op for 4.00 s (13.3 election timeouts) from 8.00 s while no fault was in force (8.00 s-12.0 s), over the bound of 3.00 s (10 election timeouts of 300 ms)',
    );
    expect(a.findings).toHaveLength(2);
  });

  it('a stall just inside the bound is not a finding; just over it is', () => {
    const hole = (ms: number): number[] => [...steady(0, 9000), ...steady(9000 + ms, 30_000)];
    expect(progressAnalysis(base({ oks: hole(2990) })).valid).toBe(true);
    expect(progressAnalysis(base({ oks: hole(3100) })).valid).toBe(false);
  });

  it('no leader after the heal, a key never read, a late first read: each invalid', () => {
    expect(progressAnalysis(base({ heal: { endedAtMs: 30_500, leader: null, leaderWaitMs: 15_000 } })).findings).toEqual([
      'progress: no leader within 15.0 s (50.0 election timeouts) of the final heal',
    ]);
    expect(progressAnalysis(base({ finalReads: { keys: 3, ok: 2, missing: ['k7'] } })).findings).toEqual([
      'progress: 1 key(s) never read ok in the 20.0 s after the heal: k7',
    ]);
    expect(progressAnalysis(base({ firstFinalOkMs: 34_000 })).findings).toEqual([
      'progress: the first final read completed 3.50 s (11.7 election timeouts) after the heal, over the bound of 3.00 s (10 election timeouts of 300 ms)',
    ]);
  });

  it('a node that never caught up with the leader after the heal (a follower that lost its log tail, never repaired): invalid', () => {
    expect(progressAnalysis(base({ catchUp: { target: 321, laggards: [], waitedMs: 15_000 } })).valid).toBe(true);
    const a = progressAnalysis(base({ catchUp: { target: 321, laggards: [{ node: 'n4', commitIndex: 0 }], waitedMs: 15_000 } }));
    expect(a.valid).toBe(false);
    expect(a.findings).toEqual([
      "progress: n4 (commit index 0) never caught up with the leader's commit index 321 in the 15.0 s after the final reads",
    ]);
  });

  it('a laggard whose commit index never moved is stuck: a starved machine excuses it only if the harness (the relay) hardly ran', () => {
    const stuck = { target: 187, laggards: [{ node: 'n4', commitIndex: 0, startCommitIndex: 0 }], waitedMs: 15_000 };
    const nodesWaited = progressAnalysis(base({ catchUp: stuck, overloaded: () => ({ harnessStalledMs: 1360, nodeWaitShare: 0.26 }) }));
    expect(nodesWaited.valid).toBe(false);
    expect(nodesWaited.findings).toEqual([
      "progress: n4 (commit index 0) never caught up with the leader's commit index 187 in the 15.0 s after the final reads (its commit index did not move)",
    ]);
    // The relay ran 2.4 s of the 15 s: enough to repair a follower many times over.
    const mostlyStalled = progressAnalysis(base({ catchUp: stuck, overloaded: () => ({ harnessStalledMs: 12_600, nodeWaitShare: 0.47 }) }));
    expect(mostlyStalled.valid).toBe(false);
    // It ran 1 s: too little to tell stuck from starved.
    const relayStalled = progressAnalysis(
      base({ catchUp: stuck, overloaded: () => ({ harnessStalledMs: 15_000 - STUCK_EXCUSE_RUNNING_MS + 1000, nodeWaitShare: 0.1 }) }),
    );
    expect(relayStalled.valid).toBe('unknown');
    // One that moved but not far enough is slow: a starved machine excuses it.
    const slow = { target: 187, laggards: [{ node: 'n4', commitIndex: 150, startCommitIndex: 20 }], waitedMs: 15_000 };
    expect(progressAnalysis(base({ catchUp: slow, overloaded: () => ({ harnessStalledMs: 1360, nodeWaitShare: 0.26 }) })).valid).toBe(
      'unknown',
    );
    expect(progressAnalysis(base({ catchUp: slow })).valid).toBe(false);
  });

  it('a stall while the machine starved the run: unknown, with the measurement; one the machine did not cause still makes it invalid', () => {
    const oks = [...steady(0, 9000), ...steady(13_000, 30_000)];
    const starved = progressAnalysis(base({ oks, overloaded: () => ({ harnessStalledMs: 2500, nodeWaitShare: 0.4 }) }));
    expect(starved.valid).toBe('unknown');
    expect(starved.findings[0]).toMatch(
      /no ok op for 3\.01 s .*; but the machine starved the run then \(the harness, which carries every datagram, stalled 2\.50 s of it, the nodes waited for a CPU 40% of it\)/,
    );
    const both = progressAnalysis(
      base({ oks, firstFinalOkMs: 34_000, overloaded: (from) => (from < 20_000 ? { harnessStalledMs: 2500, nodeWaitShare: null } : null) }),
    );
    expect(both.valid).toBe(false);
  });
});

describe('StarvationMonitor (this process, real /proc)', () => {
  it('a blocked event loop is measured as a stall of the harness; run-queue waits are read from /proc', async () => {
    const t0 = performance.now();
    const now = (): number => performance.now() - t0;
    const m = new StarvationMonitor(now);
    m.start();
    try {
      await waitFor(() => now() > 30, 1000, 'the monitor ticks');
      const blockedFrom = now();
      while (now() - blockedFrom < 300) {
        /* the subject: a loop that cannot tick */
      }
      // The first tick after the loop records the stall (a loaded machine may add stalls of its own elsewhere).
      await waitFor(() => m.overloadIn(blockedFrom - 20, now()).harnessStalledMs > 200, 2000, 'the 300 ms stall to be recorded');
      expect(m.overloaded(blockedFrom - 20, blockedFrom + 300)).not.toBeNull();
      expect(m.summary(now()).longestHarnessStallMs).toBeGreaterThan(200);
    } finally {
      m.stop();
    }
  });
});

describe("nodeWaits and the nodes' run-queue samples", () => {
  it('reads /proc for a node on this machine and takes the report of a node elsewhere; keys carry the pid', () => {
    const reported = new Map([
      ['n2', 40],
      ['n1', 999], // ignored: n1 runs here, /proc says
    ]);
    const waits = nodeWaits(
      [
        { id: 'n1', pid: process.pid, localPid: process.pid },
        { id: 'n2', pid: 4242, localPid: null },
        { id: 'n3', pid: 4343, localPid: null }, // reported nothing: not sampled
      ],
      reported,
    );
    expect([...waits.keys()].sort()).toEqual(process.platform === 'linux' ? [`n1/${process.pid}`, 'n2/4242'] : ['n2/4242']);
    expect(waits.get('n2/4242')).toBe(40);
    if (process.platform === 'linux') expect(waits.get(`n1/${process.pid}`)).not.toBe(999);
  });

  it("a window's share is the growth of each process's wait over the window, averaged; a new pid has no baseline", () => {
    let now = 0;
    const m = new StarvationMonitor(() => now);
    m.sampleNodes(
      new Map([
        ['n1/10', 100],
        ['n2/20', 0],
      ]),
    );
    now = 1000;
    // n1 waited 500 of 1000 ms, n2 none: 25% on average, starved at the threshold.
    m.sampleNodes(
      new Map([
        ['n1/10', 600],
        ['n2/20', 0],
      ]),
    );
    expect(m.overloadIn(0, 1000).nodeWaitShare).toBeCloseTo(0.25);
    now = 2000;
    // n2 restarted (pid 21): its count starts again, no baseline; n1 waited 100 of 1000 ms.
    m.sampleNodes(
      new Map([
        ['n1/10', 700],
        ['n2/21', 5],
      ]),
    );
    expect(m.overloadIn(1000, 2000).nodeWaitShare).toBeCloseTo(0.1);
  });
});
