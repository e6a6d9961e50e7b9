/**
 * The relead fault (harness/nemesis/kinds/relead.ts): its schedule is data,
 * and its choreography reaches the cluster in the order the defect needs
 * (the leader's AppendEntries held and the leader deafened; healed once a
 * successor leads; the successor cut off and the old leader's clock rushed;
 * once it leads again its clock slowed and it cut off), each step waiting
 * for what the cluster reports, against an in-memory cluster scripted to
 * elect as a real one would; a cluster that does not get there makes the
 * cycle give up, saying where; the stop op undoes all of it.
 */
import { describe, expect, it } from 'vitest';
import type { NemesisContext } from '../../../harness/nemesis/context.js';
import { relead, slowPcts, starAround } from '../../../harness/nemesis/kinds/relead.js';
import { cyclesThatFit, drawNemesisSchedule } from '../../../harness/nemesis/schedule.js';
import { completeGrudge } from '../../../harness/nemesis/partitions.js';
import { drops, FakeCluster, fakeContext } from './fake-cluster.js';

const SEED = Number(process.env['SEED'] ?? Date.now() % 1_000_000);
console.log(`relead tests: seed ${SEED} (replay: SEED=${SEED} npx vitest run test/harness/nemesis/relead.test.ts)`);

const contextOf = (cluster: FakeCluster, seed: number): NemesisContext => fakeContext(cluster, seed, 25);

const startOp = (slowRate: number) => relead.decode('start-relead', { slowRate });
const stopOp = () => relead.decode('stop-relead', null);

/**
 * A fake cluster that elects as the choreography expects a real one to:
 * a leader that hears no one is succeeded by n1 (term + 1); with n1 cut off
 * and only the old leader able to gather a majority, it leads again (term +
 * 1). Each election shows up a few status polls later.
 */
function electingCluster(): { cluster: FakeCluster; log: string[] } {
  const cluster = new FakeCluster(5);
  cluster.leaderId = 'n3';
  cluster.term = 4;
  const log: string[] = [];
  let pending: { leader: string; polls: number } | null = null;
  const partition = cluster.net.partition.bind(cluster.net);
  cluster.net.partition = async (grudge) => {
    await partition(grudge);
    const d = drops(grudge);
    log.push(`partition ${JSON.stringify(d)}`);
    if (JSON.stringify(d['n3']) === JSON.stringify(['n1', 'n2', 'n4', 'n5']) && Object.keys(d).length === 1)
      pending = { leader: 'n1', polls: 3 };
    // Only n3 can gather a majority.
    if (JSON.stringify(d) === JSON.stringify(drops(starAround(cluster.nodeIds, 'n3', 'n1')))) pending = { leader: 'n3', polls: 2 };
    // n3 and a partner cut off from the other three: they elect one of theirs, and n3 no longer leads.
    if (d['n3']?.length === 3 && cluster.leaderId === 'n3') pending = { leader: 'n1', polls: 2 };
  };
  const clock = cluster.clock.bind(cluster);
  cluster.clock = async (id, change) => {
    log.push(`clock ${id} ${JSON.stringify(change)}`);
    return clock(id, change);
  };
  const status = cluster.status.bind(cluster);
  cluster.status = async (id) => {
    if (pending !== null && --pending.polls <= 0) {
      cluster.leaderId = pending.leader;
      cluster.term++;
      log.push(`elected ${pending.leader} in term ${cluster.term}`);
      pending = null;
    }
    return status(id);
  };
  const hold = cluster.net.holdAllFrom.bind(cluster.net);
  cluster.net.holdAllFrom = async (node) => {
    log.push(`holdAllFrom ${node ?? 'null'}`);
    return hold(node);
  };
  const heal = cluster.net.heal.bind(cluster.net);
  cluster.net.heal = async () => {
    log.push('heal');
    return heal();
  };
  return { cluster, log };
}

describe('relead schedule', () => {
  it(`a seed draws alternating start/stop ops with a slow rate in range, each surviving its wire form (seed ${SEED})`, () => {
    const opts = { kinds: ['relead' as const], timeLimitMs: 30_000, intervalMs: 3_000, nodeCount: 5, partitionShapes: [] };
    const events = drawNemesisSchedule({ ...opts, seed: SEED });
    expect(events).toEqual(drawNemesisSchedule({ ...opts, seed: SEED }));
    expect(events).toHaveLength(2 * cyclesThatFit(opts.intervalMs, opts.intervalMs, opts.timeLimitMs));
    events.forEach((e, i) => {
      expect(e.f, `event ${i}`).toBe(i % 2 === 0 ? 'start-relead' : 'stop-relead');
      if (i % 2 === 0) {
        const rate = (e.value as { slowRate: number }).slowRate;
        expect(rate).toBeGreaterThanOrEqual(slowPcts.min / 100);
        expect(rate).toBeLessThanOrEqual(slowPcts.max / 100);
      } else expect(e.value).toBeNull();
      expect(relead.decode(e.f as 'start-relead' | 'stop-relead', e.value).value).toEqual(e.value);
    });
  });

  it('refuses a start op without a slow rate in (0, 1]', () => {
    expect(() => startOp(0)).toThrow(/slowRate/);
    expect(() => startOp(2)).toThrow(/slowRate/);
    expect(() => relead.decode('start-relead', {})).toThrow(/slowRate/);
  });
});

describe('relead choreography (fake cluster)', () => {
  it('a star: the hub reaches everyone but the node cut off, the others reach only the hub', () => {
    expect(drops(starAround(['n1', 'n2', 'n3', 'n4', 'n5'], 'n2', 'n4'))).toEqual({
      n1: ['n3', 'n4', 'n5'],
      n2: ['n4'],
      n3: ['n1', 'n4', 'n5'],
      n4: ['n1', 'n2', 'n3', 'n5'],
      n5: ['n1', 'n3', 'n4'],
    });
  });

  it('holds and deafens the leader, heals once a successor leads, lets only the old leader win again, slows and cuts it off; stop undoes it', async () => {
    const { cluster, log } = electingCluster();
    const nemesis = relead.create(contextOf(cluster, SEED));
    const value = (await nemesis.invoke(startOp(0.15))) as {
      leader: string;
      oldTerm: number;
      successor: string;
      newTerm: number;
      slowRate: number;
      partners: string[];
      steps: Record<string, number>;
      stillLeading?: boolean;
      gaveUp?: string;
    };
    expect(value.gaveUp).toBeUndefined();
    expect(value.stillLeading).toBeUndefined(); // the op ended once n3 no longer led
    expect(value.steps['deposedAgain']).toBeGreaterThanOrEqual(value.steps['cutOff']!);
    expect(value.partners).toHaveLength(1);
    const p = value.partners[0]!;
    expect(['n2', 'n4', 'n5']).toContain(p);
    const rest = ['n1', 'n2', 'n4', 'n5'].filter((id) => id !== p);
    expect(value).toMatchObject({ leader: 'n3', oldTerm: 4, successor: 'n1', newTerm: 6, slowRate: 0.15 });
    expect(log).toEqual([
      'holdAllFrom n3',
      // n3 hears no one; everyone still hears n3 (its AppendEntries are held, not dropped).
      `partition ${JSON.stringify({ n3: ['n1', 'n2', 'n4', 'n5'] })}`,
      'elected n1 in term 5',
      'holdAllFrom null',
      'heal',
      // The successor cut off, the others reach only the old leader.
      `partition ${JSON.stringify({ n1: ['n2', 'n3', 'n4', 'n5'], n2: ['n1', 'n4', 'n5'], n3: ['n1'], n4: ['n1', 'n2', 'n5'], n5: ['n1', 'n2', 'n4'] })}`,
      'elected n3 in term 6',
      'clock n3 {"rate":0.15}',
      // n3 and one partner (never the successor) cut off from the other three.
      `partition ${JSON.stringify(drops(completeGrudge([['n3', p], rest])))}`,
      'elected n1 in term 7',
    ]);
    expect(nemesis.active()).toEqual(['relead (n3)']);

    const healed = (await nemesis.invoke(stopOp())) as { clockReset: string | null };
    expect(healed.clockReset).toBe('n3');
    expect(cluster.clocks.get('n3')).toEqual({ offsetMs: 0, rate: 1 });
    expect(cluster.net.grudge).toBeNull();
    expect(log.slice(-2)).toEqual(['holdAllFrom null', 'heal']);
    expect(nemesis.active()).toEqual([]);
  });

  it('gives up, saying where, when no successor is elected; the stop op still undoes it', async () => {
    const cluster = new FakeCluster(5); // elects no one
    const nemesis = relead.create(contextOf(cluster, SEED));
    const value = (await nemesis.invoke(startOp(0.2))) as { gaveUp?: string; leader: string };
    expect(value.leader).toBe('n1');
    expect(value.gaveUp).toMatch(/no new leader/);
    expect(cluster.net.calls).toEqual(['holdAllFrom n1', 'partition', 'holdAllFrom null']);
    await nemesis.invoke(stopOp());
    expect(cluster.net.grudge).toBeNull();
    expect(cluster.net.calls.slice(-2)).toEqual(['holdAllFrom null', 'heal']);
  });

  it('does nothing without a leader, and refuses a network that cannot hold datagrams', async () => {
    const cluster = new FakeCluster(5);
    cluster.leaderId = null;
    expect(await relead.create(contextOf(cluster, SEED)).invoke(startOp(0.1))).toEqual({ skipped: 'no leader' });
    expect(cluster.net.calls).toEqual([]);
    const noRelay = new FakeCluster(5);
    const ctx = {
      ...contextOf(noRelay, SEED),
      net: { ...noRelay.net, partition: noRelay.net.partition, heal: noRelay.net.heal, holdAllFrom: undefined },
    };
    await expect(relead.create(ctx as unknown as NemesisContext).invoke(startOp(0.1))).rejects.toThrow(/relay/);
  });
});
