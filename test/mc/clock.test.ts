/**
 * The rate-bounded clocks of `--time ticks` (mc/clock.ts): every path keeps
 * each clock's tick periods within [Q, R] real steps, R < drift * Q; the
 * clock words are part of the canonical form (relabelled states hash
 * equal, different phases hash apart); a lease longer than (E - 1) / drift
 * ticks is broken along a path the model allows (and the simulator's
 * replay agrees), while the host's lease at a drift bound that makes it
 * safe is not; and the correct core in lease mode exhausts a tiny space.
 */
import { describe, expect, it } from 'vitest';
import { slowestTickSteps } from '../../mc/clock.js';
import { lanes } from '../../mc/hash.js';
import { Model, type Action, type World } from '../../mc/model.js';
import { replayTrace } from '../../sim/stepped/replay.js';
import { check, flags, LEADER_PUT_READ, optionsOf, propertiesWithout, traceOf, walkEvents } from './helpers.js';

function fp(model: Model, w: World): string {
  model.fingerprint(w);
  return `${lanes[0]}:${lanes[1]}`;
}

/** `count` steps of real time, in each of which the nodes `ids` tick, in that order. */
function stepsOf(count: number, ...ids: string[]): string[] {
  return Array.from({ length: count }, () => ['advance', ...ids.map((id) => `tick ${id}`)]).flat();
}

/** mulberry32: a seeded PRNG for the random walks (the seed is printed, and replays the walks). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const LEASE = [
  '--read-mode',
  'lease',
  '--start',
  'leader',
  '--writes',
  '1',
  '--reads',
  '1',
  '--drops',
  '0',
  '--dups',
  '0',
  '--retries',
  '0',
];

describe('clock periods', () => {
  it('the longest period is the largest whole number of steps strictly below drift * Q', () => {
    expect(slowestTickSteps(1, 1.2)).toBe(1);
    expect(slowestTickSteps(5, 1.2)).toBe(5); // 6 = 1.2 * 5 exactly: excluded
    expect(slowestTickSteps(6, 1.2)).toBe(7);
    expect(slowestTickSteps(1, 2)).toBe(1);
    expect(slowestTickSteps(2, 2)).toBe(3);
    expect(slowestTickSteps(10, 1.5)).toBe(14);
    expect(() => slowestTickSteps(3, 1)).toThrow(/no tick period/);
  });

  it('--time ticks refuses a drift bound of 1 (no rates strictly within it)', () => {
    expect(() => optionsOf([...LEASE, '--drift-bound', '1'])).toThrow(/drift-bound above 1/);
  });

  for (const [tickSteps, drift] of [
    [1, 1.2],
    [2, 2],
    [3, 1.5],
  ] as const) {
    it(`random walks: every running clock ticks every ${tickSteps}..${slowestTickSteps(tickSteps, drift)} steps (drift ${drift})`, () => {
      const seed = (Date.now() ^ (process.pid << 8)) >>> 0;
      console.log(`clock periods: seed ${seed} (tick-steps ${tickSteps}, drift ${drift})`);
      const model = new Model(
        optionsOf([
          ...LEASE,
          '--tick-steps',
          String(tickSteps),
          '--drift-bound',
          String(drift),
          '--crashes',
          '1',
          '--pauses',
          '1',
          '--max-time',
          '6',
          '--max-inflight',
          '6',
        ]),
      );
      const q = tickSteps;
      const r = slowestTickSteps(tickSteps, drift);
      const random = prng(seed);
      const actions: Action[] = [];
      let ticks = 0;
      let advances = 0;
      for (let walk = 0; walk < 60; walk++) {
        let w = model.initial();
        // Per node: steps since its last tick (or its restart); null while its period is not measured (down or paused since).
        const since: (number | null)[] = Array.from({ length: 3 }, () => 0);
        for (let depth = 0; depth < 200; depth++) {
          model.actions(w, actions);
          if (actions.length === 0) break;
          const action = actions[Math.floor(random() * actions.length)]!;
          if (action.kind === 'advance') {
            advances++;
            for (let i = 0; i < 3; i++) {
              const s = since[i];
              if (s !== null && s !== undefined) {
                since[i] = s + 1;
                // Real time moves on only when no running clock is overdue.
                expect(s + 1, `seed ${seed}: n${i + 1} went ${s + 1} steps without a tick`).toBeLessThanOrEqual(r);
              }
            }
          } else if (action.kind === 'tick') {
            ticks++;
            const s = since[action.node];
            if (s !== null && s !== undefined)
              expect(s, `seed ${seed}: n${action.node + 1} ticked after ${s} steps`).toBeGreaterThanOrEqual(q);
            since[action.node] = 0;
          } else if (action.kind === 'crash' || action.kind === 'pause') since[action.node] = null;
          else if (action.kind === 'restart') since[action.node] = 0;
          const result = model.step(w, action);
          // (At drift 1.2 the default lease of 2 ticks can be broken: mc/README.md. Not this test's business.)
          if (result.violation !== null || !result.inBounds) break;
          w = result.world;
        }
      }
      expect(ticks).toBeGreaterThan(50);
      expect(advances).toBeGreaterThan(50);
    });
  }

  it('a paused clock keeps running: the wake-up reports the ticks it slept through', () => {
    const model = new Model(optionsOf([...LEASE, '--pauses', '1', '--crashes', '0', '--max-time', '4']));
    const walked = walkEvents(model, ['pause n1', ...stepsOf(3, 'n2', 'n3'), 'resume n1']);
    expect(walked.violation).toBeNull();
    expect(walked.events.at(-1)).toEqual({ kind: 'resume', node: 'n1', backlogTicks: 3 });
  });
});

describe('a paused clock', () => {
  it('a tick due when the process paused is counted then, so no period of its clock exceeds R', () => {
    // Q = 2, R = 3: n1 has not ticked for 3 steps when it pauses (its tick was due); two steps later it wakes.
    const model = new Model(optionsOf([...LEASE, '--pauses', '1', '--crashes', '0', '--tick-steps', '2', '--drift-bound', '2']));
    const walked = walkEvents(model, [
      'advance',
      'advance',
      'tick n2',
      'tick n3',
      'advance',
      'pause n1',
      'advance',
      'advance',
      'resume n1',
    ]);
    // The due tick at the pause, one more after Q = 2 steps (counting it only at the next step would be a period of 4 > R).
    expect(walked.events.at(-1)).toEqual({ kind: 'resume', node: 'n1', backlogTicks: 2 });
  });
});

describe('canonical form with clocks', () => {
  for (const symmetry of [true, false]) {
    it(`from empty disks, n1, n2 or n3 ticking first are ${symmetry ? 'one state with' : 'three states without'} symmetry`, () => {
      const args = [
        ...LEASE,
        '--start',
        'empty',
        '--crashes',
        '0',
        '--tick-steps',
        '2',
        '--drift-bound',
        '2',
        ...(symmetry ? [] : ['--no-symmetry']),
      ];
      const model = new Model(optionsOf(args));
      const first = [0, 1, 2].map((i) => fp(model, walkEvents(model, ['advance', 'advance', `tick n${i + 1}`]).world));
      expect(new Set(first).size).toBe(symmetry ? 1 : 3);
      // Not relabellings of each other: one clock more or less, or one step of real time more.
      const apart = [
        walkEvents(model, ['advance']).world,
        walkEvents(model, ['advance', 'advance']).world,
        walkEvents(model, ['advance', 'advance', 'tick n2']).world,
        walkEvents(model, ['advance', 'advance', 'tick n2', 'tick n3']).world,
        walkEvents(model, ['advance', 'advance', 'tick n2', 'advance']).world,
      ].map((w) => fp(model, w));
      expect(new Set(apart).size).toBe(apart.length);
    });
  }
});

/**
 * `candidate`, whose election timer has run out, wins the next term with `voter`'s pre-vote and vote and commits a
 * put (op0) with it: the second half of every stale-read path below.
 */
function electAndCommit(candidate: string, voter: string): string[] {
  const [c, v] = [candidate, voter];
  return [
    `deliver ${c}->${v} MsgPreVote`,
    `deliver ${v}->${c} MsgPreVoteResp`,
    `fsync ${c}`,
    `deliver ${c}->${v} MsgVote`,
    `fsync ${v}`,
    `deliver ${v}->${c} MsgVoteResp`,
    `request ${c} op0`,
    `fsync ${c}`,
    `deliver ${c}->${v} MsgApp`,
    `fsync ${v}`,
    `deliver ${v}->${c} MsgAppResp`,
    `fsync ${c}`,
    `deliver ${c}->${v} MsgApp`,
    `fsync ${v}`,
    `deliver ${v}->${c} MsgAppResp`,
  ];
}

/** Step 1 of real time: n1 ticks, and the heartbeat round that tick sends is acknowledged by n2 and n3. */
const ACKED_ROUND = ['advance', 'tick n1', 'deliver n1->n2', 'deliver n1->n3', 'deliver n2->n1', 'deliver n3->n1'];

/**
 * n1 leads term 1; its heartbeat at its tick of step 1 is acknowledged. n2 and n3 hear it before their own
 * tick of step 1, so their election timers (E = 3 ticks) run out at their tick of step 3, while n1 has ticked
 * only once since the heartbeat (it ticks last in step 2 and has not ticked yet in step 3: rates equal up to
 * phase, realisable with any drift above 1). n2 wins term 2 and commits a put; n1 then serves a read on its
 * lease. Safe iff lease * drift <= E - 1 ticks: the follower's timer can run out (E - 1) periods after the
 * heartbeat (its first tick may come right after it), while the lease runs from n1's last tick before the send.
 */
const STALE_LEASE_READ = [
  ...ACKED_ROUND,
  'tick n2',
  'tick n3',
  'advance',
  'tick n2',
  'tick n3',
  'tick n1',
  'advance',
  'tick n2',
  'tick n3',
  ...electAndCommit('n2', 'n3'),
  'request n1 op1',
];
const E3 = [...LEASE, '--crashes', '0', '--election-ticks', '3', '--max-term', '2', '--max-log', '3', '--max-time', '3'];

describe('the lease against rate-bounded clocks (E = 3 ticks)', () => {
  it('--unsafe lease-ms=2 at drift 2 (2 * 2 > E - 1): a stale lease read on a path the model allows; the replay agrees', () => {
    const model = new Model(optionsOf([...E3, '--drift-bound', '2', '--unsafe', 'lease-ms=2']));
    const walked = walkEvents(model, STALE_LEASE_READ);
    expect(walked.violation?.property).toBe('read-safety');
    expect(walked.events.length).toBe(model.preludeEvents().length + STALE_LEASE_READ.length);
    const replayed = replayTrace(traceOf(model, walked.events));
    expect(replayed.violations.map((v) => v.kind)).toContain('read_safety');
  });

  it("the host's lease at drift 2 (E / 2 = 1 tick: 1 * 2 <= E - 1): the same path, no stale read; the replay agrees", () => {
    const model = new Model(optionsOf([...E3, '--drift-bound', '2']));
    const walked = walkEvents(model, STALE_LEASE_READ);
    expect(walked.violation).toBeNull();
    expect(model.node(walked.world, 0).summary.role).toBe('leader'); // n1 still leads term 1: the read waits for a quorum
    expect(replayTrace(traceOf(model, walked.events)).violations).toEqual([]);
  });

  // Found by this model (mc/README.md, "Clocks and the lease"): the host's lease was floor(E / drift) = 2 ticks at
  // drift 1.2, one tick longer than (E - 1) / drift allows, and this path served a stale read. Fixed in the host
  // (safeLeaseTicks, node/config-types.ts: 1 tick here); the same path now serves none.
  it("the host's own lease at drift 1.2 (1 tick, was 2) survives the path that broke the old one", () => {
    const model = new Model(optionsOf([...E3, '--drift-bound', '1.2']));
    expect(model.params.unsafe.leaseMs).toBeNull();
    expect(walkEvents(model, STALE_LEASE_READ).violation).toBeNull();
    // The old lease (2 ticks) on the same path: the stale read the model found.
    const old = new Model(optionsOf([...E3, '--drift-bound', '1.2', '--unsafe', 'lease-ms=2']));
    expect(walkEvents(old, STALE_LEASE_READ).violation?.property).toBe('read-safety');
  });

  it('the correct core in lease mode exhausts a tiny space with no violation', async () => {
    // One step of real time with a put, a lease read and every delivery order (38,562 states, ~1.5 cpu-s).
    const r = await check([
      ...LEASE,
      '--crashes',
      '0',
      '--election-ticks',
      '3',
      '--heartbeat-ticks',
      '2',
      '--drift-bound',
      '2',
      '--max-time',
      '1',
    ]);
    expect(r.result.finding).toBeNull();
    expect(r.result.stopped).toBe('exhausted');
    expect(r.result.stats.distinct).toBeGreaterThan(1000);
    expect(r.result.stats.terminal).toBeGreaterThan(0);
  });
});

/**
 * --unsafe forget-lease-on-restart at E = 3, drift 2 (the host's lease, 1 tick, is safe there): n3 never hears
 * n1's heartbeats and campaigns at its third tick; n2 acknowledges n1's heartbeat of step 3 (n1's lease), then
 * crashes and restarts. With the flag the restarted n2 votes at once: n3 wins term 2 and commits a put while n1,
 * in the same step, serves a read on its lease. Without it n2 ignores n3's PreVote for an election timeout.
 */
const RESTARTED_VOTER = [
  'advance',
  'tick n1',
  'deliver n1->n2',
  'deliver n2->n1',
  'tick n2',
  'tick n3',
  'advance',
  'tick n1',
  'tick n2',
  'tick n3',
  'advance',
  'tick n3',
  'tick n1',
  'deliver n1->n2 MsgApp term=1 prev=1@1 commit=1 seq=8',
  'deliver n2->n1 MsgAppResp',
  'crash n2',
  'restart n2',
  ...electAndCommit('n3', 'n2'),
  'request n1 op1',
];

/**
 * --unsafe lease-after-pause at E = 4, drift 1.5 (the host's lease, 2 ticks, is safe there: 2 * 1.5 <= E - 1):
 * n1's heartbeat of step 1 is acknowledged and n1 pauses; its clock runs on for three steps while n2 wins term 2
 * and commits a put. n1 wakes 3 ticks late; its first tick is due to act, and with the flag the other two are
 * dropped without telling the core (no elapse), so its lease still looks valid and it serves the read.
 */
const PAUSED_LEADER = [
  ...ACKED_ROUND,
  'pause n1',
  'tick n2',
  'tick n3',
  ...stepsOf(3, 'n2', 'n3'),
  ...electAndCommit('n2', 'n3'),
  'resume n1',
  'request n1 op1',
];

/** Lease mode at E = 4 ticks, drift 1.5 (the host's lease, 2 ticks, is safe: 2 * 1.5 <= 3), one pause in the cluster. */
const LEASE_PAUSE_E4 = [
  ...LEASE,
  '--crashes',
  '0',
  '--pauses',
  '1',
  '--fault-budgets',
  'cluster',
  '--election-ticks',
  '4',
  '--drift-bound',
  '1.5',
];

describe('lease flags on paths the rate-bounded model allows', () => {
  const restarts = [...LEASE, '--crashes', '1', '--fault-budgets', 'cluster', '--election-ticks', '3', '--drift-bound', '2'];
  const pauses = LEASE_PAUSE_E4;
  // These paths name the commit heartbeats a leader sent at once before it deferred them to its next tick.
  const bounded = ['--max-term', '2', '--max-log', '3', '--max-time', '4', '--commit-notice', 'immediate'];

  it('--unsafe forget-lease-on-restart: a stale lease read (the replay agrees); without it the restarted voter ignores the PreVote', () => {
    const model = new Model(optionsOf([...restarts, ...bounded, '--unsafe', 'forget-lease-on-restart']));
    const walked = walkEvents(model, RESTARTED_VOTER);
    expect(walked.violation?.property).toBe('read-safety');
    expect(replayTrace(traceOf(model, walked.events)).violations.map((v) => v.kind)).toContain('read_safety');
    // The correct core: delivering n3's PreVote to the restarted n2 changes nothing (not explored: a no-op delivery).
    expect(() => walkEvents(new Model(optionsOf([...restarts, ...bounded])), RESTARTED_VOTER)).toThrow(
      /step 18 \("deliver n3->n2 MsgPreVote"\) matches 0 enabled events/,
    );
  });

  it('--unsafe lease-after-pause: a stale lease read after the wake-up (the replay agrees); the correct core serves none', () => {
    const model = new Model(optionsOf([...pauses, ...bounded, '--unsafe', 'lease-after-pause']));
    const walked = walkEvents(model, PAUSED_LEADER);
    expect(walked.violation?.property).toBe('read-safety');
    expect(walked.events.some((e) => e.kind === 'resume' && e.backlogTicks === 3)).toBe(true);
    expect(replayTrace(traceOf(model, walked.events)).violations.map((v) => v.kind)).toContain('read_safety');
    const correct = new Model(optionsOf([...pauses, ...bounded]));
    const safe = walkEvents(correct, PAUSED_LEADER);
    expect(safe.violation).toBeNull();
    expect(replayTrace(traceOf(correct, safe.events)).violations).toEqual([]);
  });
});

/**
 * --unsafe stale-read-acks (readindex, --time timeouts: the flag needs no clocks): n1's term-1 heartbeat to n3
 * stays in flight while n2 wins term 2 and n1 term 3; n3, at term 3, answers it with its seq (5), which n1's
 * term-3 round numbers reach again. n2 then wins term 4 with n3 and commits a put; n1, still leading term 3,
 * starts a ReadIndex round (seq 5) and the stale answer confirms it. Without the flag the answer carries seq 0
 * and changes nothing at n1 (a no-op delivery, not explored).
 */
const STALE_ACK = [
  'timeout n1',
  'timeout n2',
  'timeout n3',
  'deliver n2->n3 MsgPreVote',
  'deliver n3->n2 MsgPreVoteResp',
  'fsync n2',
  'deliver n2->n3 MsgVote',
  'fsync n3',
  'deliver n3->n2 MsgVoteResp',
  'fsync n2',
  'deliver n2->n1 MsgApp term=2',
  'fsync n1',
  'timeout n1',
  'deliver n1->n3 MsgPreVote',
  'deliver n3->n1 MsgPreVoteResp',
  'fsync n1',
  'deliver n1->n3 MsgVote',
  'fsync n3',
  'deliver n3->n1 MsgVoteResp',
  'fsync n1',
  'deliver n1->n3 MsgApp term=3',
  'deliver n3->n1 MsgAppResp term=3',
  'deliver n1->n3 MsgApp term=3 prev=1@1',
  'fsync n3',
  'deliver n3->n1 MsgAppResp',
  'deliver n1->n3 MsgApp term=1 prev=1@1 commit=1 seq=5',
  'deliver n1->n2 MsgApp term=3',
  'fsync n2',
  'timeout n2',
  'timeout n3',
  'deliver n2->n3 MsgPreVote term=4',
  'deliver n3->n2 MsgPreVoteResp term=4',
  'fsync n2',
  'deliver n2->n3 MsgVote term=4',
  'fsync n3',
  'deliver n3->n2 MsgVoteResp term=4',
  'fsync n2',
  'deliver n2->n3 MsgApp term=4',
  'fsync n3',
  'deliver n3->n2 MsgAppResp term=4',
  'request n2 op0',
  'fsync n2',
  'deliver n2->n3 MsgApp term=4 prev=4@4 commit=4 seq=4',
  'fsync n3',
  'deliver n3->n2 MsgAppResp term=4 match=5',
  'request n1 op1',
  'deliver n3->n1 MsgAppResp term=3 reject=1',
];

describe('--unsafe stale-read-acks found by BFS (founded-acks)', () => {
  it('n3, at term 2, answers a delayed term-1 heartbeat echoing its seq; the replay confirms; the flag its cause', async () => {
    // 24,916 states, ~1 cpu-s (2026-12-07).
    const r = await check([
      ...flags({ ...LEADER_PUT_READ, timeouts: 1, retries: 0, 'max-term': 3, 'max-inflight': 5 }),
      '--unsafe',
      'stale-read-acks',
    ]);
    expect(r.result.finding?.violation.property).toBe('founded-acks');
    expect(r.result.finding?.violation.message).toMatch(/answers n1's append_entries of term 1 \(seq \d+\) in term 2 echoing its seq/);
    expect(r.replayConfirmed).toBe(true);
    expect(r.lines.join('\n')).toMatch(/without the unsafe flags the same events violate nothing/);
    console.log(`  stale-read-acks: founded-acks after ${r.counterexampleEvents} events`);
  });
});

describe('--unsafe stale-read-acks on a path the model allows', () => {
  const bounds = [
    ...flags({ ...LEADER_PUT_READ, timeouts: 2, retries: 0 }),
    '--max-term',
    '4',
    '--max-log',
    '5',
    '--commit-notice',
    'immediate',
  ];

  it("an old-term answer confirms a later term's ReadIndex round: a stale read (the replay agrees); the correct core answers seq 0", () => {
    const model = new Model(optionsOf([...bounds, ...propertiesWithout('founded-acks', 'commit-quorum'), '--unsafe', 'stale-read-acks']));
    const walked = walkEvents(model, STALE_ACK);
    expect(walked.violation?.property).toBe('read-safety');
    expect(replayTrace(traceOf(model, walked.events)).violations.map((v) => v.kind)).toContain('read_safety');
    expect(() => walkEvents(new Model(optionsOf(bounds)), STALE_ACK)).toThrow(
      /step 47 \("deliver n3->n1 MsgAppResp term=3 reject=1"\) matches 0 enabled events/,
    );
  });
});

/**
 * The production timings (node/config-types.ts defaultTimings: 150 ms minimum election timeout, 50 ms heartbeat,
 * 10 ms ticks, drift bound 1.2; here one tick per ms: E = 15, heartbeat 5), with Q = 11, R = 13: n1's clock ticks
 * every 13 steps, n2's and n3's every 11 (rates 13/11 < 1.2 apart). n1's heartbeat at its 5th tick (step 65) is
 * acknowledged; n2 and n3 hear it just before their tick at step 66 and hear nothing after, so their 15th tick
 * since is at step 220, when n1 has ticked 11 times since the send (its 12th is due at step 221).
 */
function productionPath(): string[] {
  const period: Readonly<Record<string, number>> = { n1: 13, n2: 11, n3: 11 };
  const steps: string[] = [];
  for (let now = 1; now <= 220; now++) {
    steps.push('advance');
    for (const id of now === 220 ? ['n2', 'n3'] : ['n1', 'n2', 'n3']) {
      if (now % period[id]! === 0) steps.push(`tick ${id}`);
      if (now === 65 && id === 'n1') steps.push('deliver n1->n2', 'deliver n1->n3', 'deliver n2->n1', 'deliver n3->n1');
    }
  }
  return [...steps, ...electAndCommit('n2', 'n3'), 'request n1 op1'];
}

describe('the production lease against clocks 13/11 apart', () => {
  const production = [
    ...LEASE,
    '--crashes',
    '0',
    '--election-ticks',
    '15',
    '--heartbeat-ticks',
    '5',
    '--tick-steps',
    '11',
    '--max-time',
    '40',
    '--max-term',
    '2',
    '--max-log',
    '3',
    '--commit-notice',
    'immediate',
  ];

  // The same defect at the defaults (found by this model, fixed in the host): the old lease, floor(150 / 1.2) ms =
  // 12 ticks, outlasts what (E - 1) / drift = 11.67 ticks allows; the host's lease is now 11 ticks.
  it("the old lease at the default timings (12 ticks) is broken on this path; the host's (11) is not", () => {
    const model = new Model(optionsOf(production));
    expect(model.params.unsafe.leaseMs).toBeNull();
    const walked = walkEvents(model, productionPath());
    expect(walked.violation).toBeNull();
    expect(replayTrace(traceOf(model, walked.events)).violations).toEqual([]);
    const old = new Model(optionsOf([...production, '--unsafe', 'lease-ms=12']));
    const broken = walkEvents(old, productionPath());
    expect(broken.violation?.property).toBe('read-safety');
    expect(replayTrace(traceOf(old, broken.events)).violations.map((v) => v.kind)).toContain('read_safety');
  });

  it('a lease of floor((E - 1) / drift) = 11 ticks survives the same path', () => {
    const model = new Model(optionsOf([...production, '--unsafe', 'lease-ms=11']));
    const walked = walkEvents(model, productionPath());
    expect(walked.violation).toBeNull();
    expect(replayTrace(traceOf(model, walked.events)).violations).toEqual([]);
  });
});

/**
 * Found from scratch by `--mode swarm` (issue 16; the correct core, replayed with the flag it was hunting,
 * lease-after-pause, switched off): n2 and n3 both time out and pre-vote for term 2; n3 then hears n1's heartbeat
 * (seq 8) and answers it, so n1's lease counts on n3. n2, already a candidate in term 2, rejects n3's old pre-vote;
 * that rejection carried term 2 to n3, which cleared the leader it knew, and n2's RequestVote of the same term found
 * no leader and no vote: n3 granted it, n2 won and committed a put while n1 served a read on its lease. A follower
 * in a leader's lease now takes a higher term only from a leader's message (node/raft/raft.ts `step`).
 */
const LEASE_PROMISE_ACROSS_TERMS = [
  'real time advances a step',
  'tick n2',
  'tick n3',
  'tick n1',
  'real time advances a step',
  'tick n1',
  'tick n2',
  'tick n3',
  'real time advances a step',
  'tick n1',
  'tick n2',
  'tick n3',
  'real time advances a step',
  'tick n1',
  'tick n2',
  'tick n3',
  'deliver n2->n3 MsgPreVote term=2 last=1@1 campaign=1',
  'deliver n1->n3 MsgApp term=1 prev=1@1 commit=1 seq=8',
  'deliver n1->n3 MsgApp term=1 prev=1@1 commit=1 seq=6',
  'deliver n3->n1 MsgAppResp term=1 match=1 seq=8',
  'deliver n3->n2 MsgPreVoteResp term=2 granted campaign=1',
  'deliver n3->n2 MsgPreVote term=2 last=1@1 campaign=1',
  'fsync n2',
  'deliver n1->n2 MsgApp term=1 prev=1@1 commit=1 seq=5',
  'deliver n2->n3 MsgPreVoteResp term=2 rejected campaign=1',
  'deliver n2->n3 MsgVote term=2 last=1@1 campaign=2',
  'deliver n1->n2 MsgApp term=1 prev=1@1 commit=1 seq=3',
  'deliver n1->n2 MsgApp term=1 prev=1@1 commit=1 seq=7',
  'fsync n3',
  'fsync n3',
  'deliver n3->n2 MsgVoteResp term=2 granted campaign=2',
  'deliver n2->n3 MsgApp term=2 prev=1@1 commit=0 seq=2 entries=[2@2 noop]',
  'fsync n2',
  'fsync n3',
  'deliver n3->n2 MsgAppResp term=2 match=2 seq=2',
  'request n2 op0 c0#1 put k0=1',
  'fsync n2',
  'deliver n2->n3 MsgApp term=2 prev=2@2 commit=2 seq=3 entries=[3@2 "[\"c0\",1,1,\"put\",\"k0\",\"1\"]"]',
  'fsync n3',
  'deliver n3->n2 MsgAppResp term=2 match=3 seq=3',
  'pause n2',
  'resume n2 after 0 ticks',
  'request n1 op1 c1#1 get k0',
];

describe("a lease promise survives a higher term that is not a leader's", () => {
  const bounds = [...LEASE_PAUSE_E4, '--max-term', '2', '--max-log', '3', '--max-time', '4'];

  it('the correct core ignores the rejected pre-vote answer of term 2 while n1 may hold a lease on it: the path ends there', () => {
    const model = new Model(optionsOf(bounds));
    // Every step before the answer is one the model allows, so the path really reaches the point of the defect.
    const answer = LEASE_PROMISE_ACROSS_TERMS.indexOf('deliver n2->n3 MsgPreVoteResp term=2 rejected campaign=1');
    expect(answer).toBeGreaterThan(0);
    expect(walkEvents(model, LEASE_PROMISE_ACROSS_TERMS.slice(0, answer)).violation).toBeNull();
    // Its delivery now changes nothing at n3 (a no-op delivery, not explored), so the path cannot go on.
    expect(() => walkEvents(model, LEASE_PROMISE_ACROSS_TERMS)).toThrow(
      new RegExp(`step ${answer + 1} \\("deliver n2->n3 MsgPreVoteResp term=2 rejected campaign=1"\\) matches 0 enabled events`),
    );
  });
});
