/**
 * The runner's typed dispatch and final heal, against an in-memory cluster
 * and network (a unit test of runner.ts and the kinds; runner.test.ts runs
 * the same runner against real processes).
 */
import { describe, expect, it } from 'vitest';
import { NemesisRunner, type NemesisOpRecord } from '../../../harness/nemesis/runner.js';
import { finalHealOrder, kindOf, kindSpecs, nemesisKinds, type NemesisKind } from '../../../harness/nemesis/registry.js';
import { drawNemesisSchedule, type NemesisEvent } from '../../../harness/nemesis/schedule.js';
import { FakeCluster, FakeMonitoredNet } from './fake-cluster.js';
import { waitFor } from '../wait.js';

/** Runs `schedule` (times relative to now) to its last completion. */
async function run(
  cluster: FakeCluster,
  schedule: readonly NemesisEvent[],
  seed = 7,
): Promise<{ runner: NemesisRunner; records: NemesisOpRecord[] }> {
  const records: NemesisOpRecord[] = [];
  // A short leader wait: the fake's leader is always there, and relead's steps wait for what a fake never does (an election).
  const runner = new NemesisRunner(cluster, schedule, { seed, record: (op) => records.push(op), leaderWaitMs: 20 });
  runner.start(Date.now());
  await waitFor(
    () => records.filter((r) => r.phase === 'complete').length >= schedule.length,
    5000,
    `${schedule.length} nemesis ops complete`,
  );
  return { runner, records };
}

const completions = (records: NemesisOpRecord[], f?: string): unknown[] =>
  records.filter((r) => r.phase === 'complete' && (f === undefined || r.f === f)).map((r) => r.value);

const errorsIn = (records: NemesisOpRecord[]): unknown[] =>
  completions(records).filter((v) => typeof v === 'object' && v !== null && 'error' in v);

/** The calls each kind must make to the cluster or the network over a run with both of its ops. */
const effects: Record<NemesisKind, RegExp[]> = {
  partition: [/^partition$/, /^heal$/],
  kill: [/^kill n\d$/, /^restart n\d$/],
  pause: [/^pause n\d$/, /^resume n\d$/],
  clock: [/^clock n\d \{"(bumpMs|rate)"/, /^clock n\d \{"offsetMs":0,"rate":1\}$/],
  loss: [/^setFaults \{"lossRate":0\.\d+\}$/, /^setFaults \{"lossRate":0\}$/],
  delay: [/^setFaults \{"delayMs":\d+,"jitterMs":\d+\}$/, /^setFaults \{"delayMs":0,"jitterMs":0\}$/],
  duplicate: [/^setFaults \{"duplicateRate":0\.\d+\}$/, /^setFaults \{"duplicateRate":0\}$/],
  'client-loss': [/^setClientLoss \{"replies":0\.\d+,"requests":(0|0\.\d+)\}$/, /^setClientLoss \{"replies":0,"requests":0\}$/],
  replay: [/^setReplay \{"mode":"(replay|hold)","fraction":0\.\d+,"maxAgeMs":\d+\}$/, /^setReplay null( flush)?$/],
  disk: [/^kill n\d$/, /^restart n\d$/],
  // The fake's data directories are no tmpfs of their own: each fill is refused in its op's value (disk-full.test.ts),
  // and nothing reaches the cluster (the fill writes a file; the real one: test/harness/disk-full.integration.test.ts).
  'disk-full': [],
  'lease-restart': [
    /^partition$/,
    /^kill n\d$/,
    /^clock n\d \{"rate":\d+\}$/,
    /^restart n\d$/,
    /^clock n\d \{"offsetMs":0,"rate":1\}$/,
    /^heal$/,
  ],
  // The fake elects no one: each cycle gives up after its first step (relead.test.ts plays the whole choreography).
  relead: [/^holdAllFrom n\d$/, /^partition$/, /^holdAllFrom null$/, /^heal$/],
  membership: [/^admin remove n\d$/, /^admin add n\d$/, /^admin promote n\d$/],
  resize: [/^admin remove n\d$/, /^admin add n\d$/, /^admin promote n\d$/],
  // The fake elects no one: each cycle gives up at its star (rejoin.test.ts plays the whole choreography).
  rejoin: [/^admin remove n\d$/, /^partition$/, /^admin add n\d$/, /^admin promote n\d$/, /^heal$/],
  // The fake's logs never fall behind: each cycle gives up waiting for that (change-race.test.ts plays the whole choreography).
  'change-race': [/^admin remove n\d$/, /^admin add n\d$/, /^onlyVotesTo n\d$/, /^onlyVotesTo null$/, /^heal$/, /^admin promote n\d$/],
};

describe('NemesisRunner with a fake cluster', () => {
  for (const kind of nemesisKinds) {
    it(`${kind}: a drawn schedule reaches the cluster or network through its kind, without errors, and ends healed`, async () => {
      const seed = 4242 + nemesisKinds.indexOf(kind);
      const cluster = new FakeCluster(5);
      // Leader-only targets, so every fault hits a node that is up (the fake's leader, n1).
      const schedule = drawNemesisSchedule({
        kinds: [kind],
        timeLimitMs: 400,
        intervalMs: 40,
        nodeCount: 5,
        partitionShapes: [],
        targets: ['leader'],
        seed,
      });
      expect(schedule.length, `seed ${seed}`).toBeGreaterThanOrEqual(4);
      const { runner, records } = await run(cluster, schedule, seed);
      expect(errorsIn(records), `seed ${seed}`).toEqual([]);
      expect(records.every((r) => kindOf(r.f) === kind)).toBe(true);
      const calls = [...cluster.calls, ...cluster.net.calls, ...(cluster.clientNet?.calls ?? [])];
      for (const effect of effects[kind])
        expect(
          calls.some((c) => effect.test(c)),
          `${kind}: ${effect} in ${calls.join('; ')} (seed ${seed})`,
        ).toBe(true);
      expect(runner.activeFaults()).toEqual([]);
    });
  }

  it('every f of every kind is dispatched to its kind (no op falls through the typed switch)', async () => {
    const cluster = new FakeCluster(5);
    const values: Record<string, unknown> = {
      'start-partition': { shape: 'halves' },
      'stop-partition': null,
      kill: { target: 'one' },
      start: { target: 'all' },
      pause: { target: 'one' },
      resume: { target: 'all' },
      'clock-bump': { target: 'one', deltaMs: 64 },
      'clock-rate': { target: 'one', rate: 2 },
      'reset-clock': { target: 'all' },
      'start-loss': { rate: 0.1 },
      'stop-loss': null,
      'start-delay': { delayMs: 5, jitterMs: 1 },
      'stop-delay': null,
      'start-duplicate': { rate: 0.2 },
      'stop-duplicate': null,
      'start-client-loss': { rate: 0.5, direction: 'both' },
      'stop-client-loss': null,
      'start-replay': { mode: 'hold', fraction: 0.1, maxAgeMs: 3000 },
      'stop-replay': null,
      'start-disk': { target: 'one', fault: 'torn-tail' },
      'stop-disk': { target: 'all' },
      'start-disk-full': { target: 'one' },
      'stop-disk-full': { target: 'all' },
      'start-lease-restart': { candidateRate: 10 },
      'stop-lease-restart': null,
      'start-relead': { slowRate: 0.1 },
      'stop-relead': null,
      'start-membership': { target: 'follower' },
      'stop-membership': null,
      'start-resize': { target: 'follower' },
      'stop-resize': null,
      'start-rejoin': null,
      'stop-rejoin': null,
      'start-change-race': null,
      'stop-change-race': null,
    };
    const fs = kindSpecs.flatMap((s) => Object.keys(s.fs));
    expect(fs.sort()).toEqual(Object.keys(values).sort()); // a new f needs a value here
    const schedule = kindSpecs.flatMap((s) => Object.keys(s.fs)).map((f, i) => ({ atMs: i, f, value: values[f] }));
    const { records } = await run(cluster, schedule);
    expect(errorsIn(records)).toEqual([]);
    expect(completions(records).length).toBe(fs.length);
  });

  it("the final heal runs the table's steps in order, heals every kind, and leaves nothing in force", async () => {
    const cluster = new FakeCluster(5);
    const { runner, records } = await run(cluster, [
      { atMs: 0, f: 'start-partition', value: { shape: 'one' } },
      { atMs: 1, f: 'kill', value: { target: 'one' } },
      { atMs: 2, f: 'pause', value: { target: 'one' } },
      { atMs: 3, f: 'clock-rate', value: { target: 'leader', rate: 3 } },
      { atMs: 4, f: 'start-loss', value: { rate: 0.5 } },
      { atMs: 5, f: 'start-delay', value: { delayMs: 9, jitterMs: 2 } },
      { atMs: 6, f: 'start-duplicate', value: { rate: 0.25 } },
    ]);
    expect(errorsIn(records)).toEqual([]);
    expect(runner.activeFaults()).toHaveLength(7);
    expect(runner.activeFaults().map((a) => a.replace(/n\d/, 'N'))).toEqual([
      'partition one',
      'N killed',
      'N paused',
      'N clock offset 0ms rate 3',
      'loss 50%',
      'delay 9±2ms',
      'duplicate 25%',
    ]);
    const before = records.length;
    await runner.healAll();
    const finals = records.slice(before);
    expect(finals.filter((r) => r.phase === 'invoke').map((r) => [r.f, r.value])).toEqual(
      finalHealOrder.map((s) => [s.f, { target: 'all', final: true }]),
    );
    expect(finals.find((r) => r.f === 'clear-packet-faults' && r.phase === 'complete')?.value).toEqual({ cleared: true });
    expect(errorsIn(finals)).toEqual([]);
    expect(runner.activeFaults()).toEqual([]);
    expect(cluster.net.grudge).toBeNull();
    expect(cluster.net.faults).toEqual({ lossRate: 0, delayMs: 0, jitterMs: 0, duplicateRate: 0 });
    expect([...cluster.alive].sort()).toEqual(cluster.nodeIds);
    expect(cluster.paused.size).toBe(0);
    for (const c of cluster.clocks.values()) expect(c).toEqual({ offsetMs: 0, rate: 1 });
  });

  it("a crash forgets the node's clock fault: the restarted node is not reset, nor listed as skewed", async () => {
    const cluster = new FakeCluster(3);
    const { runner, records } = await run(cluster, [
      { atMs: 0, f: 'clock-bump', value: { target: 'leader', deltaMs: 4096 } },
      { atMs: 1, f: 'kill', value: { target: 'leader' } },
    ]);
    expect(completions(records, 'clock-bump')).toEqual([
      { nodes: ['n1'], deltaMs: 4096, offsets: { n1: 4096 }, wasLeader: true, leader: 'n1' },
    ]);
    expect(runner.activeFaults()).toEqual(['n1 killed']);
    const more = records.length;
    await runner.healAll();
    expect(completions(records.slice(more), 'reset-clock')).toEqual([{ nodes: [] }]);
    expect(completions(records.slice(more), 'start')).toEqual([{ nodes: ['n1'], pids: { n1: cluster.pid('n1') } }]);
  });

  it('a clock fault on a paused node is reset only once it runs again (skipped at first)', async () => {
    const cluster = new FakeCluster(3);
    const { runner, records } = await run(cluster, [
      { atMs: 0, f: 'clock-rate', value: { target: 'leader', rate: 0.5 } },
      { atMs: 1, f: 'pause', value: { target: 'leader' } },
      { atMs: 2, f: 'reset-clock', value: { target: 'all' } },
    ]);
    expect(completions(records, 'reset-clock')).toEqual([{ nodes: [], skipped: ['n1'] }]);
    expect(runner.activeFaults()).toEqual(['n1 paused', 'n1 clock offset 0ms rate 0.5']);
    await runner.healAll(); // resume comes before reset-clock
    expect(completions(records, 'reset-clock').at(-1)).toEqual({ nodes: ['n1'] });
    expect(cluster.clocks.get('n1')).toEqual({ offsetMs: 0, rate: 1 });
  });

  it('bad ops become error records and the run goes on', async () => {
    const cluster = new FakeCluster(3);
    const { records } = await run(cluster, [
      { atMs: 0, f: 'explode', value: {} },
      { atMs: 1, f: 'pause', value: { target: 'voter' } },
      { atMs: 2, f: 'kill', value: { target: 'voter' } },
      { atMs: 3, f: 'start-loss', value: { rate: -1 } },
      { atMs: 4, f: 'pause', value: { target: 'leader' } },
    ]);
    expect(completions(records)).toEqual([
      { error: 'unknown nemesis op "explode"' },
      { error: 'the voter target is for kill or disk only' },
      { error: 'the voter target needs the relay (its monitor sees the votes)' },
      { error: 'bad rate -1 (expected a number in [0, 1])' },
      // The fake has no /proc entry: the kernel's state of the paused node is unknown (null), and said so.
      { nodes: ['n1'], stopped: [{ node: 'n1', pid: 900_000, state: null }], wasLeader: true, leader: 'n1' },
    ]);
    // The invoke records keep the event's value as scheduled.
    expect(records.filter((r) => r.phase === 'invoke').map((r) => r.value)).toEqual([
      {},
      { target: 'voter' },
      { target: 'voter' },
      { rate: -1 },
      { target: 'leader' },
    ]);
  });

  it('kill voter: kills the leader, bounces each node seen granting a vote (once at a time), and start disarms the trap', async () => {
    const net = new FakeMonitoredNet();
    const cluster = new FakeCluster(5, net);
    const { runner, records } = await run(cluster, [{ atMs: 0, f: 'kill', value: { target: 'voter' } }]);
    expect(completions(records, 'kill')).toEqual([{ target: 'voter', armed: true, killedLeader: 'n1' }]);
    expect(net.voteListenerCount).toBe(1);
    net.grant({ voter: 'n3', candidate: 'n2', term: 2 });
    net.grant({ voter: 'n3', candidate: 'n2', term: 2 }); // in flight: not bounced twice
    net.grant({ voter: 'n1', candidate: 'n2', term: 2 }); // down already: ignored
    await waitFor(() => net.restartedVoters.length === 1, 5000, 'n3 bounced');
    expect(cluster.calls).toEqual(['kill n1', 'kill n3', 'restart n3']);
    expect(runner.activeFaults()).toEqual(['n1 killed']);
    const more = records.length;
    await runner.healAll();
    expect(completions(records.slice(more), 'start')).toEqual([
      { nodes: ['n1'], pids: { n1: cluster.pid('n1') }, voterBounces: ['n3@2->n2'] },
    ]);
    expect(net.voteListenerCount).toBe(0);
  });

  it('--pause-wake-alone: the node is cut off before it is stopped, and its links come back only a while after it wakes', async () => {
    const cluster = new FakeCluster(5);
    const at: Record<string, number> = {};
    const records: NemesisOpRecord[] = [];
    const runner = new NemesisRunner(
      cluster,
      [
        { atMs: 0, f: 'pause', value: { target: 'leader', wakeAloneMs: 200 } },
        { atMs: 30, f: 'resume', value: { target: 'all' } },
      ],
      {
        seed: 1,
        record: (op) => {
          records.push(op);
          at[`${op.f} ${op.phase}`] = performance.now();
        },
      },
    );
    runner.start(Date.now());
    await waitFor(() => records.length === 2, 5000, 'paused');
    expect(completions(records, 'pause')).toEqual([expect.objectContaining({ nodes: ['n1'], cutOff: true, wakeAloneMs: 200 })]);
    expect(cluster.net.grudge).toEqual({ n1: ['n2', 'n3', 'n4', 'n5'], n2: ['n1'], n3: ['n1'], n4: ['n1'], n5: ['n1'] });
    // The cut came before the stop: nothing sent to the sleeping node reaches its socket.
    expect(cluster.net.calls).toEqual(['partition']);
    expect(cluster.calls).toEqual(['pause n1']);
    await waitFor(() => records.length === 4, 5000, 'resumed');
    expect(cluster.calls).toEqual(['pause n1', 'resume n1']);
    expect(cluster.net.calls).toEqual(['partition', 'heal']);
    expect(at['resume complete']! - at['resume invoke']!).toBeGreaterThanOrEqual(190); // awake and alone for wakeAloneMs first
    expect(completions(records, 'resume')).toEqual([{ nodes: ['n1'], wokeAloneMs: 200 }]);
    await runner.healAll();
  });
});
