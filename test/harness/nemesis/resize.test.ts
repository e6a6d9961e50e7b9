/**
 * The resize kind (harness/nemesis/kinds/resize.ts) against the fake admin
 * path (fake-cluster.ts): from 3 voters and 2 spare identities it grows to
 * 5 (each spare added as a learner, caught up, promoted), shrinks to 3
 * (the leader first when that is the target, then a follower: both exit, as
 * a removed rift node does), and grows back (each removed identity
 * restarted, added, promoted); the final heal leaves every identity a voter
 * even when no op ran; a dead admin path is a recorded value. Real nodes:
 * `npm run jepsen -- --nemesis resize --nodes 3` (the README's figures).
 *
 * Random schedules print their seed; replay with RESIZE_SEED=<seed>.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { resize } from '../../../harness/nemesis/kinds/resize.js';
import { NemesisRunner, type NemesisOpRecord } from '../../../harness/nemesis/runner.js';
import type { NemesisEvent, ScheduleOptions } from '../../../harness/nemesis/schedule.js';
import { FakeCluster } from './fake-cluster.js';
import { waitFor } from '../wait.js';

/** Five identities, of which the bootstrap configuration has three voters (n4 and n5 are the spares). */
function threeAndTwoSpares(): FakeCluster {
  const cluster = new FakeCluster(5);
  cluster.configuration.voters = ['n1', 'n2', 'n3'];
  cluster.removedExit = true;
  return cluster;
}

async function run(cluster: FakeCluster, schedule: NemesisEvent[]): Promise<{ runner: NemesisRunner; records: NemesisOpRecord[] }> {
  const records: NemesisOpRecord[] = [];
  const runner = new NemesisRunner(cluster, schedule, { seed: 3, record: (op) => records.push(op), leaderWaitMs: 20 });
  runner.start(Date.now());
  await waitFor(() => records.filter((r) => r.phase === 'complete').length >= schedule.length, 5000, 'nemesis ops complete');
  return { runner, records };
}

const completions = (records: NemesisOpRecord[], f: string): Record<string, unknown>[] =>
  records.filter((r) => r.phase === 'complete' && r.f === f).map((r) => r.value as Record<string, unknown>);

describe('resize schedule', () => {
  const base: ScheduleOptions = { kinds: ['resize'], timeLimitMs: 20_000, intervalMs: 2000, nodeCount: 3, partitionShapes: [] };

  it('each cycle is a grow-and-shrink then a grow back; the biting cycle shrinks the leader first; ops decode to themselves', () => {
    const seed = Number(process.env['RESIZE_SEED'] ?? Date.now() % 100_000);
    fc.assert(
      fc.property(resize.cycle({ ...base, targets: ['one', 'leader'] }), ([start, stop]) => {
        expect(start.f).toBe('start-resize');
        expect(stop).toEqual({ kind: 'resize', f: 'stop-resize', value: null });
        expect(resize.decode(start.f, start.value)).toEqual(start);
        expect(resize.decode(stop.f, stop.value)).toEqual(stop);
      }),
      { seed, numRuns: 50 },
    );
    const biting = resize.bitingCycle?.({ ...base, targets: ['one', 'leader'] });
    expect(biting, `seed ${seed}`).not.toBeNull();
    fc.assert(
      fc.property(biting!, ([start]) => {
        expect(start.value).toEqual({ target: 'leader' });
      }),
      { seed, numRuns: 10 },
    );
    expect(() => resize.decode('start-resize', { target: 'minority' })).toThrow();
  });
});

describe('resize nemesis against the fake admin path', () => {
  it('grows 3 -> 5 (the spares added, caught up, promoted), shrinks 5 -> 3 (the leader first; both exit), grows back 3 -> 5', async () => {
    const cluster = threeAndTwoSpares();
    const { runner, records } = await run(cluster, [
      { atMs: 0, f: 'start-resize', value: { target: 'leader' } },
      { atMs: 1, f: 'stop-resize', value: null },
    ]);
    const start = completions(records, 'start-resize')[0]!;
    const grow = start['grow'] as Record<string, unknown>;
    expect(grow['nodes']).toEqual(['n4', 'n5']);
    expect(Object.keys(grow['steps'] as object)).toEqual([
      'n4 added',
      'n4 caughtUp',
      'n4 promoted',
      'n5 added',
      'n5 caughtUp',
      'n5 promoted',
    ]);
    expect(typeof start['growMs']).toBe('number');
    expect(typeof start['shrinkMs']).toBe('number');
    const shrink = start['shrink'] as Record<string, unknown>[];
    expect(shrink[0]).toMatchObject({ target: 'leader', node: 'n1', wasLeader: true, admin: 'ok', exited: 'code 6' });
    expect(shrink[1]).toMatchObject({ target: 'follower', wasLeader: false, admin: 'ok', exited: 'code 6' });
    const second = shrink[1]!['node'] as string;
    expect(start['nodes']).toEqual(['n1', second]);
    // Every admin change one at a time, in this order: the grow, then the shrink.
    expect(cluster.calls.filter((c) => c.startsWith('admin')).slice(0, 6)).toEqual([
      'admin add n4',
      'admin promote n4',
      'admin add n5',
      'admin promote n5',
      'admin remove n1',
      `admin remove ${second}`,
    ]);
    // The grow back restarted each removed identity (it had exited) before adding it.
    const back = completions(records, 'stop-resize')[0]!;
    expect(back['nodes']).toEqual(['n1', second].sort());
    const calls = cluster.calls;
    for (const id of ['n1', second]) {
      const restarted = calls.indexOf(`restart ${id}`);
      expect(restarted, calls.join('; ')).toBeGreaterThan(calls.indexOf(`admin remove ${id}`));
      expect(restarted, calls.join('; ')).toBeLessThan(calls.lastIndexOf(`admin add ${id}`));
    }
    expect(cluster.configuration).toEqual({ voters: ['n1', 'n2', 'n3', 'n4', 'n5'], learners: [] });
    expect(runner.activeFaults()).toEqual([]);
    await runner.healAll();
    expect(cluster.configuration.voters).toHaveLength(5);
  });

  it('the final heal makes every identity a voter even when no resize op ran (the spares join)', async () => {
    const cluster = threeAndTwoSpares();
    const runner = new NemesisRunner(cluster, [], { seed: 1, record: () => undefined, leaderWaitMs: 20 });
    await runner.healAll();
    expect(cluster.configuration).toEqual({ voters: ['n1', 'n2', 'n3', 'n4', 'n5'], learners: [] });
  });

  it('an admin path that never answers: every op and the heal record that no leader answered, and nothing throws', async () => {
    const cluster = threeAndTwoSpares();
    cluster.adminDown = true;
    const records: NemesisOpRecord[] = [];
    const schedule: NemesisEvent[] = [
      { atMs: 0, f: 'start-resize', value: { target: 'follower' } },
      { atMs: 1, f: 'stop-resize', value: null },
    ];
    const runner = new NemesisRunner(cluster, schedule, { seed: 3, record: (op) => records.push(op), leaderWaitMs: 20 });
    runner.start(Date.now());
    await waitFor(() => records.filter((r) => r.phase === 'complete').length >= 2, 5000, 'ops complete');
    expect(completions(records, 'start-resize')[0]).toEqual({ target: 'follower', skipped: 'no leader answered' });
    expect(completions(records, 'stop-resize')[0]).toEqual({ skipped: 'no leader answered' });
    await runner.healAll();
    expect(completions(records, 'stop-resize').at(-1)).toEqual({ skipped: 'no leader answered' });
    expect(cluster.calls.filter((c) => c.startsWith('admin'))).toEqual([]);
  });

  it('the membership kind, too, restarts a removed node that exited before it adds it back, and records the exit', async () => {
    const cluster = new FakeCluster(3);
    cluster.removedExit = true;
    const { records } = await run(cluster, [
      { atMs: 0, f: 'start-membership', value: { target: 'follower' } },
      { atMs: 1, f: 'stop-membership', value: null },
    ]);
    const removal = completions(records, 'start-membership')[0]!;
    expect(removal).toMatchObject({ admin: 'ok', exited: 'code 6' });
    const node = removal['node'] as string;
    const restore = completions(records, 'stop-membership')[0]!;
    expect(Object.keys(restore['steps'] as object)).toEqual([`${node} restarted`, `${node} added`, `${node} caughtUp`, `${node} promoted`]);
    expect(cluster.isAlive(node)).toBe(true);
    expect(cluster.configuration.voters).toEqual(['n1', 'n2', 'n3']);
  });

  it('a node added back that then exits on a late farewell (code 6) is restarted and still caught up and promoted', async () => {
    const cluster = new FakeCluster(3);
    cluster.removedExit = true;
    cluster.exitOnReAdd.add('n1');
    const { records } = await run(cluster, [
      { atMs: 0, f: 'start-membership', value: { target: 'leader' } },
      { atMs: 1, f: 'stop-membership', value: null },
    ]);
    expect(completions(records, 'start-membership')[0]).toMatchObject({ node: 'n1', exited: 'code 6' });
    const restore = completions(records, 'stop-membership')[0]!;
    expect(Object.keys(restore['steps'] as object)).toEqual([
      'n1 restarted',
      'n1 added',
      'n1 restartedAgain',
      'n1 caughtUp',
      'n1 promoted',
    ]);
    expect(cluster.calls.filter((c) => c === 'restart n1')).toHaveLength(2);
    expect(cluster.isAlive('n1')).toBe(true);
    expect(cluster.configuration.voters).toEqual(['n1', 'n2', 'n3']);
  });
});
