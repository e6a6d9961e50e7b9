/**
 * The per-fault evidence, availability over time and the cluster watch's
 * leader rule, on synthetic histories and samples (units of
 * harness/run/evidence.ts, availability.ts, cluster-watch.ts).
 */
import { describe, expect, it } from 'vitest';
import type { HistoryOp } from '../../../checker/types.js';
import type { LinkCounters } from '../../../harness/net/types.js';
import { zeroLinkCounters } from '../../../harness/net/types.js';
import { progressAvailability, stallThresholdMs } from '../../../harness/run/availability.js';
import { clusterLeader, type NodeObs, type WatchSample } from '../../../harness/run/cluster-watch.js';
import { buildEvidence, electionsBetween, longestGapMs, unreachableBetween } from '../../../harness/run/evidence.js';
import { evidenceLine } from '../../../report/evidence.js';
import { pairClientOps } from '../../../report/ops.js';

const up = (role: 'leader' | 'follower' | 'candidate', term: number, leaderId: string | null = null): NodeObs => ({
  kind: 'up',
  role,
  term,
  leaderId,
});
const sample = (atMs: number, nodes: Record<string, NodeObs>): WatchSample => ({ atMs, nodes });

describe('clusterLeader', () => {
  it('the leader of the highest term any answering node reports; none mid-election', () => {
    expect(clusterLeader({ n1: up('leader', 2), n2: up('follower', 2, 'n1'), n3: { kind: 'down' } })).toEqual({ id: 'n1', term: 2 });
    // A deposed leader cut off from the rest still claims term 2, but a candidate is at 3: no leader.
    expect(clusterLeader({ n1: up('leader', 2), n2: up('candidate', 3), n3: up('follower', 3) })).toBeNull();
    expect(clusterLeader({ n1: up('leader', 2), n2: up('leader', 3), n3: up('follower', 3, 'n2') })).toEqual({ id: 'n2', term: 3 });
    expect(clusterLeader({ n1: { kind: 'paused' }, n2: { kind: 'silent' } })).toBeNull();
  });
});

describe('gaps and elections', () => {
  it('longestGapMs counts from the window edges', () => {
    expect(longestGapMs([10, 20, 500, 510], 0, 600)).toEqual({ ms: 480, atMs: 20 });
    expect(longestGapMs([], 100, 400)).toEqual({ ms: 300, atMs: 100 });
    expect(longestGapMs([50, 60], 100, 400)).toEqual({ ms: 300, atMs: 100 });
    expect(longestGapMs([110, 390], 100, 400)).toEqual({ ms: 280, atMs: 110 });
  });

  it("electionsBetween: each new term's leader once, with the leaderless time before it", () => {
    const samples = [
      sample(0, { n1: up('leader', 1), n2: up('follower', 1, 'n1') }),
      sample(1000, { n1: { kind: 'paused' }, n2: up('follower', 1, 'n1') }),
      sample(1300, { n1: { kind: 'paused' }, n2: up('candidate', 2) }),
      sample(1500, { n1: { kind: 'paused' }, n2: up('leader', 2) }),
      sample(3000, { n1: up('follower', 2, 'n2'), n2: up('leader', 2) }),
      sample(4000, { n1: up('leader', 3), n2: up('follower', 3, 'n1') }), // a handover between two samples
    ];
    expect(electionsBetween(samples, 900, 5000)).toEqual([
      // Leaderless from the sample where the paused leader stopped answering (1000) to n2's (1500).
      { term: 2, leader: 'n2', atMs: 600, leaderlessMs: 500 },
      { term: 3, leader: 'n1', atMs: 3100, leaderlessMs: 0 },
    ]);
    expect(electionsBetween(samples, 3500, 3900)).toEqual([]);
  });

  it('unreachableBetween: down or paused at once, silent only when it lasts', () => {
    const samples = [
      sample(0, { n1: up('leader', 1), n2: up('follower', 1), n3: up('follower', 1) }),
      sample(100, { n1: up('leader', 1), n2: { kind: 'silent' }, n3: up('follower', 1) }),
      sample(200, { n1: up('leader', 1), n2: up('follower', 1), n3: { kind: 'silent' } }),
      sample(900, { n1: up('leader', 1), n2: up('follower', 1), n3: up('follower', 1) }),
      sample(1000, { n1: { kind: 'down' }, n2: up('follower', 1), n3: up('follower', 1) }),
    ];
    expect([...unreachableBetween(samples, 50, 950, 300)].sort()).toEqual(['n3']);
    expect([...unreachableBetween(samples, 50, 1100, 300)].sort()).toEqual(['n1', 'n3']);
    expect([...unreachableBetween(samples, 0, 150, 300)]).toEqual([]);
  });
});

describe('progressAvailability', () => {
  it('the longest gap and the share of time outside stalls', () => {
    const a = progressAvailability([100, 200, 1500, 1600, 9000, 9100], 10_000, 300);
    expect(a.longestGapMs).toBe(7400);
    expect(a.longestGapAtMs).toBe(1600);
    // Stalls: 200-1500 (1300), 1600-9000 (7400), 9100-10000 (900): 9600 of 10000 ms.
    expect(a.shareWithProgress).toBeCloseTo(0.04, 5);
    expect(a.stalls.map((s) => s.ms)).toEqual([7400, 1300, 900]);
    expect(progressAvailability([], 1000, 300)).toMatchObject({ longestGapMs: 1000, shareWithProgress: 0 });
  });

  it('the stall threshold is an election timeout, or ten inter-op intervals at a low rate', () => {
    expect(stallThresholdMs(300, 100)).toBe(300);
    expect(stallThresholdMs(300, 1)).toBe(10_000);
  });
});

/** A history line. */
let index = 0;
function op(timeMs: number, process: number | string, type: HistoryOp['type'], f: string, value: unknown, key?: string): HistoryOp {
  return { index: index++, time: timeMs * 1e6, process, type, f, value, ...(key !== undefined ? { key } : {}) };
}

function counters(over: Partial<LinkCounters>): LinkCounters {
  return { ...zeroLinkCounters(), ...over };
}

describe('buildEvidence', () => {
  it('a partition that cut the leader off: before/after, the election, cut-off nodes, dropped datagrams, info ops; a clock bump: no effect, and why', () => {
    index = 0;
    const grudge = { n1: ['n2', 'n3'], n2: ['n1'], n3: ['n1'] };
    const history: HistoryOp[] = [
      op(0, 0, 'invoke', 'write', 1, 'k'),
      op(5, 0, 'ok', 'write', 1, 'k'),
      op(100, 'nemesis', 'invoke', 'start-partition', { shape: 'leader' }),
      op(101, 'nemesis', 'info', 'start-partition', { shape: 'leader', grudge, description: 'n1✕{n2,n3}', leader: 'n1' }),
      op(150, 1, 'invoke', 'read', null, 'k'),
      op(1650, 1, 'info', 'read', null, 'k'),
      op(800, 0, 'invoke', 'write', 2, 'k'),
      op(900, 0, 'ok', 'write', 2, 'k'),
      op(1000, 'nemesis', 'invoke', 'stop-partition', null),
      op(1001, 'nemesis', 'info', 'stop-partition', { healed: true, was: 'leader' }),
      op(2000, 'nemesis', 'invoke', 'clock-bump', { target: 'one', deltaMs: 4096 }),
      op(2001, 'nemesis', 'info', 'clock-bump', { nodes: ['n3'], deltaMs: 4096, offsets: { n3: 4096 }, wasLeader: false, leader: 'n2' }),
      op(2100, 0, 'invoke', 'write', 3, 'k'),
      op(2110, 0, 'ok', 'write', 3, 'k'),
      op(2200, 0, 'invoke', 'write', 4, 'k'),
      op(2210, 0, 'ok', 'write', 4, 'k'),
      op(2300, 'nemesis', 'invoke', 'reset-clock', { target: 'all' }),
      op(2301, 'nemesis', 'info', 'reset-clock', { nodes: ['n3'] }),
    ]
      .sort((a, b) => (a.time ?? 0) - (b.time ?? 0))
      .map((o, i) => ({ ...o, index: i }));
    const at = (f: string, type: string): number => history.find((o) => o.f === f && o.type === type)!.index;
    const nets = new Map([
      [at('start-partition', 'info'), { atMs: 101, links: { 'n1>n2': counters({ blocked: 0 }), 'n2>n1': counters({}) } }],
      [at('start-partition', 'invoke'), { atMs: 100, links: { 'n1>n2': counters({}), 'n2>n1': counters({}) } }],
      [
        at('stop-partition', 'info'),
        { atMs: 1001, links: { 'n1>n2': counters({ blocked: 40 }), 'n2>n1': counters({ blocked: 38, delayed: 0 }) } },
      ],
      [at('clock-bump', 'invoke'), { atMs: 2000, links: { 'n1>n2': counters({ blocked: 40 }), 'n2>n1': counters({ blocked: 38 }) } }],
      [
        at('reset-clock', 'info'),
        { atMs: 2301, links: { 'n1>n2': counters({ blocked: 40, forwarded: 99 }), 'n2>n1': counters({ blocked: 38 }) } },
      ],
    ]);
    const samples = [
      sample(0, { n1: up('leader', 1), n2: up('follower', 1, 'n1'), n3: up('follower', 1, 'n1') }),
      sample(400, { n1: up('leader', 1), n2: up('candidate', 2), n3: up('follower', 2) }),
      sample(600, { n1: up('leader', 1), n2: up('leader', 2), n3: up('follower', 2, 'n2') }),
      sample(1100, { n1: up('follower', 2, 'n2'), n2: up('leader', 2), n3: up('follower', 2, 'n2') }),
    ];
    const evidence = buildEvidence({
      history,
      ops: pairClientOps(history).ops,
      samples,
      netAt: (i) => nets.get(i) ?? null,
      countsLinks: true,
      nodeIds: ['n1', 'n2', 'n3'],
      pollMs: 100,
      electionTimeoutMaxMs: 300,
      stallMs: 300,
    });
    expect(evidence).toHaveLength(2);
    const [partition, clock] = evidence as [(typeof evidence)[0], (typeof evidence)[0]];
    expect(partition).toMatchObject({
      kind: 'partition',
      fromMs: 100,
      toMs: 1001,
      hitLeader: true,
      leaderBefore: { id: 'n1', term: 1 },
      leaderAfter: { id: 'n2', term: 2 },
      elections: [{ term: 2, leader: 'n2', atMs: 500, leaderlessMs: 200 }],
      cutOff: ['n1'],
      infoCaused: 1,
      noEffect: null,
      datagrams: {
        dropped: 78,
        delayed: 0,
        duplicated: 0,
        held: 0,
        replayed: 0,
        heldAcrossTerms: 0,
        byLink: { 'n1>n2': { dropped: 40 }, 'n2>n1': { dropped: 38 } },
      },
    });
    expect(partition.longestNoOkMs).toBeCloseTo(800, 5); // from the start (100) to the ok at 900
    expect(evidenceLine(partition)).toMatch(
      /leader n1 cut off a quorum; no quorum in view: n1; 1 election: n2\/t2 after 0\.20 s leaderless; datagrams 78 dropped on 2 links/,
    );
    expect(clock).toMatchObject({ kind: 'clock', hitLeader: false, elections: [], effects: [], datagrams: { dropped: 0, byLink: {} } });
    expect(clock.noEffect).toBe('no change in behaviour (monotonic time: the node reads the wall clock only for its status report)');
    expect(evidenceLine(clock)).toBe(
      '2.00 s-2.30 s clock: bump +4096 ms on n3: no change in behaviour (monotonic time: the node reads the wall clock only for its status report)',
    );
  });

  it('a clock bump beside which something happened says the bump was expected to change nothing; a starved machine is named', () => {
    index = 0;
    const history = [
      op(0, 'nemesis', 'invoke', 'clock-bump', { target: 'one', deltaMs: 512 }),
      op(1, 'nemesis', 'info', 'clock-bump', { nodes: ['n2'], deltaMs: 512, offsets: { n2: 512 }, wasLeader: false, leader: 'n1' }),
      op(900, 'nemesis', 'invoke', 'reset-clock', { target: 'all' }),
      op(901, 'nemesis', 'info', 'reset-clock', { nodes: ['n2'] }),
    ];
    const samples = [
      sample(0, { n1: up('leader', 1), n2: up('follower', 1, 'n1'), n3: up('follower', 1, 'n1') }),
      sample(300, { n1: up('follower', 1), n2: up('candidate', 2), n3: up('follower', 2) }),
      sample(500, { n1: up('follower', 2, 'n3'), n2: up('follower', 2, 'n3'), n3: up('leader', 2) }),
    ];
    const [e] = buildEvidence({
      history,
      ops: [],
      samples,
      netAt: () => null,
      countsLinks: false,
      nodeIds: ['n1', 'n2', 'n3'],
      pollMs: 100,
      electionTimeoutMaxMs: 300,
      stallMs: 300,
      overloaded: () => ({ harnessStalledMs: 400, nodeWaitShare: 0.5 }),
    });
    expect(e!.noEffect).toBeNull();
    expect(e!.expectedNoEffect).toMatch(/^monotonic time/);
    expect(evidenceLine(e!)).toMatch(
      /1 election: n3\/t2 after 0\.20 s leaderless.* \[expected no change \(monotonic time: .*\): these came from elsewhere; machine overloaded meanwhile \(harness stalled 0\.40 s, nodes waited for a CPU 50% of it\)\]$/,
    );
  });

  it('where the network layer counts nothing (netns), datagrams are null, not zero', () => {
    index = 0;
    const history = [
      op(0, 'nemesis', 'invoke', 'start-loss', { rate: 0.3 }),
      op(1, 'nemesis', 'info', 'start-loss', { rate: 0.3 }),
      op(500, 'nemesis', 'invoke', 'stop-loss', null),
      op(501, 'nemesis', 'info', 'stop-loss', { stopped: 'loss' }),
    ];
    const [e] = buildEvidence({
      history,
      ops: [],
      samples: [],
      netAt: () => null,
      countsLinks: false,
      nodeIds: ['n1', 'n2', 'n3'],
      pollMs: 100,
      electionTimeoutMaxMs: 300,
      stallMs: 300,
    });
    expect(e!.datagrams).toBeNull();
    expect(e!.what).toBe('drop 30% on every link');
  });

  it('a datagram fault the network mode cannot count: "no change in behaviour" says its effect was not observable', () => {
    index = 0;
    const history: HistoryOp[] = [
      op(0, 'nemesis', 'invoke', 'start-duplicate', { rate: 0.2 }),
      op(1, 'nemesis', 'info', 'start-duplicate', { rate: 0.2 }),
    ];
    // Clients keep succeeding throughout (no gap, no info op): nothing else to report.
    for (let t = 10; t < 500; t += 50) history.push(op(t, 0, 'invoke', 'read', null, 'k0'), op(t + 5, 0, 'ok', 'read', null, 'k0'));
    history.push(
      op(500, 'nemesis', 'invoke', 'stop-duplicate', null),
      op(501, 'nemesis', 'info', 'stop-duplicate', { stopped: 'duplicate' }),
    );
    const input = {
      history,
      ops: pairClientOps(history).ops,
      samples: [],
      netAt: () => null,
      nodeIds: ['n1', 'n2', 'n3'],
      pollMs: 100,
      electionTimeoutMaxMs: 300,
      stallMs: 300,
    };
    const [unseen] = buildEvidence({ ...input, countsLinks: false });
    expect(unseen!.effects).toEqual([]);
    expect(unseen!.noEffect).toBe('no change in behaviour (its datagrams are not counted in this network mode)');
    // Where the relay counts (and counted nothing), it is a plain "no change".
    const quiet = { atMs: 0, links: { 'n1>n2': zeroLinkCounters() } };
    const [counted] = buildEvidence({ ...input, countsLinks: true, netAt: () => quiet });
    expect(counted!.noEffect).toBe('no change in behaviour');
  });
});
