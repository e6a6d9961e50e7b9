/**
 * The lease-restart fault (harness/nemesis/kinds/lease-restart.ts): its
 * schedule is data (what a seed draws), its roles are a pure draw, and its
 * choreography reaches the cluster in the order the defect needs (leader
 * cut off, voters crashed together, candidate's clock fast, voters back
 * together), against an in-memory cluster; the stop op undoes all of it.
 */
import { describe, expect, it } from 'vitest';
import type { NemesisContext } from '../../../harness/nemesis/context.js';
import { candidateRates, drawRoles, leaseRestart, leaseRestartGuard } from '../../../harness/nemesis/kinds/lease-restart.js';
import { cyclesThatFit, drawNemesisSchedule } from '../../../harness/nemesis/schedule.js';
import { Rng } from '../../../harness/rng.js';
import { FakeCluster, fakeContext } from './fake-cluster.js';

const SEED = Number(process.env['SEED'] ?? Date.now() % 1_000_000);
console.log(`lease-restart tests: seed ${SEED} (replay: SEED=${SEED} npx vitest run test/harness/nemesis/lease-restart.test.ts)`);

const contextOf = (cluster: FakeCluster, seed: number): NemesisContext => fakeContext(cluster, seed);

const startOp = (candidateRate: number) => leaseRestart.decode('start-lease-restart', { candidateRate });
const stopOp = () => leaseRestart.decode('stop-lease-restart', null);

describe('lease-restart schedule', () => {
  it(`a seed draws alternating start/stop ops, one cycle per slot, each with a candidate rate in range (seed ${SEED})`, () => {
    const opts = { kinds: ['lease-restart' as const], timeLimitMs: 60_000, intervalMs: 5_000, nodeCount: 5, partitionShapes: [] };
    const events = drawNemesisSchedule({ ...opts, seed: SEED });
    expect(events).toEqual(drawNemesisSchedule({ ...opts, seed: SEED })); // same seed, same schedule
    const cycles = cyclesThatFit(opts.intervalMs, opts.intervalMs, opts.timeLimitMs);
    expect(cycles).toBe(5);
    expect(events).toHaveLength(2 * cycles);
    events.forEach((e, i) => {
      expect(e.f, `event ${i}`).toBe(i % 2 === 0 ? 'start-lease-restart' : 'stop-lease-restart');
      if (i % 2 === 0) {
        const rate = (e.value as { candidateRate: number }).candidateRate;
        expect(Number.isInteger(rate)).toBe(true);
        expect(rate).toBeGreaterThanOrEqual(candidateRates.min);
        expect(rate).toBeLessThanOrEqual(candidateRates.max);
        // Cycle c starts at interval + 2c·interval, ± interval/4.
        expect(Math.abs(e.atMs - (opts.intervalMs + i * opts.intervalMs))).toBeLessThanOrEqual(opts.intervalMs / 4);
      } else expect(e.value).toBeNull();
      // Each op round-trips through its decoder.
      expect(leaseRestart.decode(e.f as 'start-lease-restart' | 'stop-lease-restart', e.value).value).toEqual(e.value);
    });
  });

  it('refuses a start op without a usable rate', () => {
    expect(() => startOp(0)).toThrow(/candidateRate/);
    expect(() => leaseRestart.decode('start-lease-restart', {})).toThrow(/candidateRate/);
  });
});

describe('lease-restart roles', () => {
  it(`5 nodes: a candidate and two voters (a majority with it) and one bystander, never the leader (seed ${SEED})`, () => {
    const nodes = ['n1', 'n2', 'n3', 'n4', 'n5'];
    const candidates = new Set<string>();
    for (let i = 0; i < 100; i++) {
      const leader = nodes[i % 5]!;
      const roles = drawRoles(nodes, leader, () => true, new Rng(SEED + i));
      expect(roles, `draw ${i}`).not.toBeNull();
      const { candidate, voters, bystanders } = roles!;
      expect(voters).toHaveLength(2);
      expect(bystanders).toHaveLength(1);
      const all = [candidate, ...voters, ...bystanders];
      expect(new Set(all).size).toBe(4);
      expect(all).not.toContain(leader);
      candidates.add(candidate);
    }
    expect(candidates.size).toBe(5); // every node is the candidate sometimes
  });

  it('3 nodes: a candidate and one voter; too few usable followers: no roles', () => {
    const roles = drawRoles(['n1', 'n2', 'n3'], 'n2', () => true, new Rng(SEED));
    expect(roles?.voters).toHaveLength(1);
    expect(roles?.bystanders).toEqual([]);
    // 5 nodes with two followers down: the candidate and one voter are not a majority.
    expect(drawRoles(['n1', 'n2', 'n3', 'n4', 'n5'], 'n1', (id) => id !== 'n2' && id !== 'n3', new Rng(SEED))).toBeNull();
  });

  it('the same rng state draws the same roles', () => {
    const nodes = ['n1', 'n2', 'n3', 'n4', 'n5', 'n6', 'n7'];
    expect(drawRoles(nodes, 'n3', () => true, new Rng(SEED))).toEqual(drawRoles(nodes, 'n3', () => true, new Rng(SEED)));
  });
});

describe('lease-restart choreography (fake cluster)', () => {
  it(`cuts the leader off, crashes the voters, speeds the candidate's clock, restarts the voters; stop undoes it (seed ${SEED})`, async () => {
    const cluster = new FakeCluster(5);
    cluster.leaderId = 'n3';
    const nemesis = leaseRestart.create(contextOf(cluster, SEED));
    const value = (await nemesis.invoke(startOp(12))) as {
      leader: string;
      candidate: string;
      voters: string[];
      bystanders: string[];
      nodes: string[];
      candidateRate: number;
    };
    expect(value.leader).toBe('n3');
    expect(value.nodes).toEqual(value.voters);
    expect(value.candidateRate).toBe(12);
    // The leader alone on its side, everyone else together.
    expect([...(cluster.net.grudge?.['n3'] ?? [])].sort()).toEqual(['n1', 'n2', 'n4', 'n5']);
    for (const id of ['n1', 'n2', 'n4', 'n5']) expect(cluster.net.grudge?.[id], id).toEqual(['n3']);
    // Order: every kill before the clock change, every restart after it.
    const calls = cluster.calls;
    const clockAt = calls.indexOf(`clock ${value.candidate} {"rate":12}`);
    expect(clockAt, calls.join('; ')).toBeGreaterThanOrEqual(0);
    for (const v of value.voters) {
      expect(calls.indexOf(`kill ${v}`), calls.join('; ')).toBeLessThan(clockAt);
      expect(calls.indexOf(`restart ${v}`), calls.join('; ')).toBeGreaterThan(clockAt);
    }
    expect(
      calls
        .filter((c) => c.startsWith('kill '))
        .map((c) => c.slice(5))
        .sort(),
    ).toEqual(value.voters);
    expect(cluster.net.calls[0]).toBe('partition'); // the cut came first
    expect(cluster.clocks.get(value.candidate)?.rate).toBe(12);
    expect(nemesis.active()).toEqual([`lease restart (candidate ${value.candidate})`]);

    const healed = (await nemesis.invoke(stopOp())) as { clockReset: string | null };
    expect(healed.clockReset).toBe(value.candidate);
    expect(cluster.clocks.get(value.candidate)).toEqual({ offsetMs: 0, rate: 1 });
    expect(cluster.net.grudge).toBeNull();
    expect(nemesis.active()).toEqual([]);
    for (const id of cluster.nodeIds) expect(cluster.isAlive(id), id).toBe(true);
  });

  it(`after-restart: the voters cut off from the leader alone, crashed and restarted, then the leader cut off, then the candidate's clock (seed ${SEED})`, async () => {
    const cluster = new FakeCluster(5);
    cluster.leaderId = 'n2';
    const nemesis = leaseRestart.create(contextOf(cluster, SEED));
    // The grudge in force at each kill and restart: the restarted voters must never hear the leader.
    const grudgeAt: Record<string, unknown> = {};
    const kill = cluster.kill.bind(cluster);
    const restart = cluster.restart.bind(cluster);
    cluster.kill = async (id) => {
      grudgeAt[`kill ${id}`] = structuredClone(cluster.net.grudge);
      return kill(id);
    };
    cluster.restart = async (id) => {
      grudgeAt[`restart ${id}`] = structuredClone(cluster.net.grudge);
      return restart(id);
    };
    // The rushed candidate wins (as the defect lets it): the old leader no longer leads, and the op ends.
    const clock = cluster.clock.bind(cluster);
    cluster.clock = async (id, change) => {
      if (change.rate === 15) cluster.leaderId = id;
      return clock(id, change);
    };
    const value = (await nemesis.invoke(leaseRestart.decode('start-lease-restart', { candidateRate: 15, cut: 'after-restart' }))) as {
      leader: string;
      candidate: string;
      voters: string[];
      bystanders: string[];
      cut: string;
      cutAtMs: number;
      restartedAtMs: number;
      leaderDeposedAtMs: number | null;
    };
    expect(value.leader).toBe('n2');
    expect(value.cut).toBe('after-restart');
    expect(value.cutAtMs).toBeGreaterThanOrEqual(value.restartedAtMs);
    expect(value.leaderDeposedAtMs).toBeGreaterThanOrEqual(value.cutAtMs);
    for (const v of value.voters) {
      for (const step of [`kill ${v}`, `restart ${v}`]) {
        const g = grudgeAt[step] as Record<string, string[]> | null;
        expect(g?.[v], step).toEqual(['n2']); // the voter drops the leader
        expect(g?.['n2'], step).toEqual(value.voters); // and the leader the voters
        for (const other of [value.candidate, ...value.bystanders]) expect(g?.[other], `${step}: ${other}`).toEqual([]);
      }
    }
    // Then the leader alone on its side, and only after every restart the candidate's clock.
    expect([...(cluster.net.grudge?.['n2'] ?? [])].sort()).toEqual(['n1', 'n3', 'n4', 'n5']);
    expect(cluster.net.calls).toEqual(['partition', 'partition']);
    const calls = cluster.calls;
    const clockAt = calls.indexOf(`clock ${value.candidate} {"rate":15}`);
    expect(clockAt, calls.join('; ')).toBeGreaterThanOrEqual(0);
    for (const v of value.voters) expect(calls.indexOf(`restart ${v}`), calls.join('; ')).toBeLessThan(clockAt);
    const healed = (await nemesis.invoke(stopOp())) as { clockReset: string | null };
    expect(healed.clockReset).toBe(value.candidate);
    expect(cluster.net.grudge).toBeNull();
    for (const id of cluster.nodeIds) expect(cluster.isAlive(id), id).toBe(true);
  });

  it('after-restart guard: voters up too long for their promise to outlast the lease void the cycle (no fast clock); fresh ones, it goes on', async () => {
    const timings = { electionTimeoutMinMs: 4_000, leaseMs: 3_330, tickMs: 10 };
    for (const [uptimeMs, expected] of [
      [2_000, 'void'],
      [100, 'held'],
    ] as const) {
      const cluster = new FakeCluster(5);
      cluster.leaderId = 'n2';
      for (const id of cluster.nodeIds) cluster.uptimes.set(id, uptimeMs);
      const logs: string[] = [];
      const nemesis = leaseRestart.create({ ...contextOf(cluster, SEED), leaseTimings: timings, log: (l: string) => logs.push(l) });
      const value = (await nemesis.invoke(leaseRestart.decode('start-lease-restart', { candidateRate: 15, cut: 'after-restart' }))) as {
        candidate: string;
        guard: { kind: string; marginMs: number };
      };
      expect(value.guard.kind, `uptime ${uptimeMs}`).toBe(expected);
      const sped = cluster.calls.includes(`clock ${value.candidate} {"rate":15}`);
      expect(sped, `uptime ${uptimeMs}`).toBe(expected === 'held');
      expect(logs.some((l) => /lease-restart: cycle void/.test(l))).toBe(expected === 'void');
      await nemesis.invoke(stopOp());
    }
  });

  it("leaseRestartGuard: from the run's timings and the youngest voter's uptime; unguarded without lease reads or an uptime", () => {
    const timings = { electionTimeoutMinMs: 4_000, leaseMs: 3_330, tickMs: 10 };
    // Promise left: 4000 - 10 - 200 = 3790 ms; minus 20 ms to the cut and the 3330 ms lease: 440 ms to spare.
    expect(leaseRestartGuard(timings, [200, 900], 20)).toEqual({ kind: 'held', marginMs: 440 });
    const v = leaseRestartGuard(timings, [1_000, 1_200], 100);
    expect(v).toMatchObject({ kind: 'void', marginMs: -440 });
    expect(v.kind === 'void' ? v.why : '').toMatch(/ends 440 ms before the leader's lease/);
    expect(leaseRestartGuard(null, [0, 0], 10).kind).toBe('unguarded');
    expect(leaseRestartGuard(timings, [100, null], 10).kind).toBe('unguarded');
  });

  it('an op recorded before the cut order existed decodes as at-kill; an unknown order is refused', () => {
    expect(startOp(12).value).toEqual({ candidateRate: 12, cut: 'at-kill' });
    expect(() => leaseRestart.decode('start-lease-restart', { candidateRate: 12, cut: 'sometime' })).toThrow(/cut/);
  });

  it('a voter that fails to come back is named, and the stop op restarts it', async () => {
    const cluster = new FakeCluster(5);
    for (const id of cluster.nodeIds) cluster.refuseStart.add(id); // whichever voters are drawn
    const nemesis = leaseRestart.create(contextOf(cluster, SEED));
    const value = (await nemesis.invoke(startOp(10))) as { voters: string[]; errors?: Record<string, string> };
    expect(Object.keys(value.errors ?? {}).sort()).toEqual(value.voters);
    for (const v of value.voters) expect(cluster.isAlive(v)).toBe(false);
    cluster.refuseStart.clear();
    const healed = (await nemesis.heal()) as { restarted: string[] };
    expect(healed.restarted).toEqual(value.voters);
    for (const id of cluster.nodeIds) expect(cluster.isAlive(id), id).toBe(true);
  });

  it('does nothing without a leader', async () => {
    const cluster = new FakeCluster(5);
    cluster.leaderId = null;
    const nemesis = leaseRestart.create(contextOf(cluster, SEED));
    expect(await nemesis.invoke(startOp(10))).toEqual({ skipped: 'no leader' });
    expect(cluster.calls).toEqual([]);
    expect(cluster.net.calls).toEqual([]);
  });
});
