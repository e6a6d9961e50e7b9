import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './temp-dirs.js';
import { afterEach, describe, expect, test } from 'vitest';
import { Cluster } from '../../harness/cluster.js';
import type { UdpRelay } from '../../harness/net/relay.js';
import { receivedOf, writeFakeNode } from './fake-node.js';
import { waitFor, processGone } from './wait.js';

const fakeNode = writeFakeNode();
const clusters: Cluster[] = [];

afterEach(async () => {
  for (const c of clusters.splice(0)) await c.stop();
});

function procState(pid: number): string {
  // /proc/<pid>/stat: "pid (comm) S ..." — the state letter follows the comm's closing paren.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
}

async function startFake(nodeCount: number, extra: { nodeFlags?: string[] } = {}): Promise<Cluster> {
  const runDir = tempDir('rift-cluster-test-');
  const cluster = await Cluster.start({
    nodeCount,
    runDir,
    nodeFlags: extra.nodeFlags ?? [],
    net: 'relay',
    seed: 7,
    nodeEntry: fakeNode,
    readyTimeoutMs: 20_000,
  });
  clusters.push(cluster);
  return cluster;
}

describe('Cluster with the fake node (relay mode)', () => {
  test('writes the config (routes through the relay), starts every node, finds the leader', async () => {
    const cluster = await startFake(3);
    const cfg = JSON.parse(readFileSync(cluster.configPath, 'utf8')) as typeof cluster.config;
    expect(cfg.nodes.map((n) => n.id)).toEqual(['n1', 'n2', 'n3']);
    expect(cfg.peerSecret.length).toBeGreaterThanOrEqual(16);
    expect(cfg.clientSecret.length).toBeGreaterThanOrEqual(16);
    expect(cfg.clientSecret).not.toBe(cfg.peerSecret);
    expect(cfg.cluster).toMatch(/^rift-\d+-[0-9a-f]{8}$/);
    const relay = cluster.net as UdpRelay;
    expect(cfg.routes['n1']!['n2']).toBe(`127.0.0.1:${relay.linkAddress('n1', 'n2').port}`);
    expect(Object.keys(cfg.routes['n3']!).sort()).toEqual(['n1', 'n2']);
    for (const id of cluster.nodeIds) {
      expect(cluster.isAlive(id)).toBe(true);
      expect(readFileSync(join(cfg.dataDir, '..', 'nodes', `${id}.log`), 'utf8')).toMatch(/^=== start at \d{4}-/);
    }
    expect(await cluster.waitForLeader(5000)).not.toBeNull();
    await waitFor(async () => (await cluster.leader()) === 'n1', 5000, 'n1 leads');
    // Heartbeats really flow through the relay.
    await waitFor(async () => receivedOf(await cluster.status('n2'))['n3'] !== undefined, 5000, 'n2 hears n3');
    expect(relay.stats().forwarded).toBeGreaterThan(0);
  });

  test('kill → process gone, status null, new leader; restart → back with data dir and a marker line', async () => {
    const cluster = await startFake(3);
    await waitFor(async () => (await cluster.leader()) === 'n1', 5000, 'n1 leads');
    const pid = cluster.pid('n1')!;
    await cluster.kill('n1');
    expect(processGone(pid)).toBe(true);
    expect(cluster.isAlive('n1')).toBe(false);
    expect(await cluster.status('n1')).toBeNull();
    await waitFor(async () => (await cluster.leader()) === 'n2', 5000, 'n2 takes over');
    await expect(cluster.clock('n1', { bumpMs: 1 })).rejects.toThrow(/not running/);
    await cluster.restart('n1');
    expect(cluster.isAlive('n1')).toBe(true);
    expect(cluster.pid('n1')).not.toBe(pid);
    await waitFor(async () => (await cluster.leader()) === 'n1', 5000, 'n1 leads again (higher term)');
    const log = readFileSync(join(cluster.config.dataDir, '..', 'nodes', 'n1.log'), 'utf8');
    expect(log).toMatch(/=== start at [^\n]*\n(.|\n)*=== kill at [^\n]*\n(.|\n)*=== restart at /);
    await expect(cluster.restart('n1')).rejects.toThrow(/still running/);
  });

  test('pause → stopped (state T), status null; resume → answers again', async () => {
    const cluster = await startFake(3);
    const pid = cluster.pid('n2')!;
    await cluster.pause('n2');
    expect(cluster.isPaused('n2')).toBe(true);
    expect(procState(pid)).toBe('T');
    expect(await cluster.status('n2')).toBeNull();
    await expect(cluster.clock('n2', { bumpMs: 1 })).rejects.toThrow(/paused/);
    await cluster.resume('n2');
    expect(cluster.isPaused('n2')).toBe(false);
    await waitFor(async () => (await cluster.status('n2')) !== null, 5000, 'n2 answers');
    expect(procState(pid)).not.toBe('T');
  });

  test('clock changes are visible in the node status', async () => {
    const cluster = await startFake(1);
    const state = await cluster.clock('n1', { bumpMs: 5000 });
    expect(state.offsetMs).toBe(5000);
    await cluster.clock('n1', { rate: 2 });
    const s = await cluster.status('n1');
    expect(s?.clock.offsetMs).toBe(5000);
    expect(s?.clock.rate).toBe(2);
    await cluster.clock('n1', { offsetMs: 0, rate: 1 });
    expect((await cluster.status('n1'))?.clock).toMatchObject({ offsetMs: 0, rate: 1 });
  });

  test('partition through cluster.net really stops datagrams; heal restores them', async () => {
    const cluster = await startFake(3);
    await waitFor(async () => receivedOf(await cluster.status('n1'))['n2'] !== undefined, 5000, 'n1 hears n2');
    // The fake's terms only order leaders once n1 has taken office (before that n1 and n2 could both take term 1).
    await waitFor(async () => (await cluster.leader()) === 'n1', 5000, 'n1 leads');
    await cluster.net.partition({ n1: ['n2', 'n3'], n2: ['n1'], n3: ['n1'] });
    await waitFor(async () => (await cluster.leader()) === 'n2', 5000, 'majority side elects n2 (n1 keeps its old term)');
    const before = receivedOf(await cluster.status('n1'));
    await waitFor(async () => ((cluster.net as UdpRelay).stats().blocked ?? 0) > 20, 5000, 'relay blocks heartbeats');
    const after = receivedOf(await cluster.status('n1'));
    expect(after['n2']).toBe(before['n2']);
    expect(after['n3']).toBe(before['n3']);
    await cluster.net.heal();
    await waitFor(async () => receivedOf(await cluster.status('n1'))['n2']! > before['n2']!, 5000, 'n1 hears n2 again');
  });

  test('a node that exits before ready → clear error with its log tail, and nothing left running', async () => {
    const runDir = tempDir('rift-cluster-test-');
    await expect(
      Cluster.start({ nodeCount: 2, runDir, nodeFlags: ['--crash-on-start'], net: 'relay', seed: 1, nodeEntry: fakeNode }),
    ).rejects.toThrow(/exited before it was ready \(code 3\)(.|\n)*boom/);
    await expect(Cluster.start({ nodeCount: 0, runDir, nodeFlags: [], net: 'relay', seed: 1, nodeEntry: fakeNode })).rejects.toThrow(
      /nodeCount/,
    );
    await expect(
      Cluster.start({ nodeCount: 1, runDir, nodeFlags: [], net: 'relay', seed: 1, nodeEntry: join(runDir, 'missing.js') }),
    ).rejects.toThrow(/does not exist/);
  });

  test("net 'direct': nodes talk to each other's own addresses; faults are refused, heal is a no-op", async () => {
    const runDir = tempDir('rift-cluster-test-');
    const cluster = await Cluster.start({ nodeCount: 2, runDir, nodeFlags: [], net: 'direct', seed: 1, nodeEntry: fakeNode });
    clusters.push(cluster);
    expect(cluster.config.routes).toEqual({});
    await waitFor(async () => receivedOf(await cluster.status('n2'))['n1'] !== undefined, 5000, 'n2 hears n1 directly');
    await expect(cluster.net.partition({ n1: ['n2'] })).rejects.toThrow(/direct/);
    await expect(cluster.net.setFaults({ lossRate: 0.5 })).rejects.toThrow(/direct/);
    await cluster.net.heal();
    await cluster.net.clearFaults();
  });

  test('stop() leaves no processes, even paused ones, and is idempotent', async () => {
    const cluster = await startFake(3);
    const pids = cluster.pids();
    expect(pids).toHaveLength(3);
    await cluster.pause('n3');
    await cluster.kill('n2');
    await Promise.all([cluster.stop(), cluster.stop()]);
    await cluster.stop();
    for (const pid of pids) expect(processGone(pid)).toBe(true);
    expect(cluster.pids()).toEqual([]);
    expect(process.listeners('SIGINT').length).toBe(0);
    expect(existsSync(cluster.configPath)).toBe(true);
  });
});
