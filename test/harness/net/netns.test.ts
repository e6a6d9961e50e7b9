/**
 * Namespace mode (root + nftables only; skipped with a printed reason otherwise).
 */
import { execFileSync } from 'node:child_process';
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { tempDir } from '../temp-dirs.js';
import { afterEach, describe, expect, test } from 'vitest';
import { Cluster } from '../../../harness/cluster.js';
import { NetnsNetwork, netnsUnavailableReason } from '../../../harness/net/netns.js';
import { reaperScript } from '../../../harness/net/netns-reaper.js';
import { RiftClient } from '../../../node/client.js';
import { receivedOf, writeFakeNode } from '../fake-node.js';
import { waitFor } from '../wait.js';

const reason = netnsUnavailableReason();
if (reason !== null) console.log(`skipping netns tests: ${reason}`);
const fakeNode = writeFakeNode();
const mainJs = join(import.meta.dirname, '..', '..', '..', 'dist', 'node', 'main.js');
const clusters: Cluster[] = [];

afterEach(async () => {
  for (const c of clusters.splice(0)) await c.stop();
});

function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

function namespacesNow(): string[] {
  return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter(Boolean);
}

async function received(cluster: Cluster, id: string): Promise<Record<string, number>> {
  return receivedOf(await cluster.status(id));
}

describe.skipIf(reason !== null)('netns mode (namespaces + nftables)', () => {
  test('partition, loss and duplication act on traffic between namespaces; delay is refused; teardown removes everything', async () => {
    const runDir = tempDir('rift-netns-test-');
    const cluster = await Cluster.start({
      nodeCount: 3,
      runDir,
      nodeFlags: [],
      net: 'netns',
      seed: 1,
      nodeEntry: fakeNode,
      readyTimeoutMs: 20_000,
    });
    clusters.push(cluster);
    const net = cluster.net as NetnsNetwork;
    expect(cluster.config.nodes[0]!.host).toBe(`10.99.${net.subnet}.1`);
    expect(cluster.config.routes).toEqual({});
    const names = net.namespaces();
    for (const ns of names) expect(namespacesNow()).toContain(ns);

    await waitFor(
      async () => (await received(cluster, 'n1'))['n2'] !== undefined && (await received(cluster, 'n3'))['n1'] !== undefined,
      10_000,
      'heartbeats flow',
    );
    await waitFor(async () => (await cluster.leader()) === 'n1', 5000, 'n1 leads');

    // Partition: n1 isolated. Its counters from n2/n3 freeze; the majority elects n2.
    await cluster.net.partition({ n1: ['n2', 'n3'], n2: ['n1'], n3: ['n1'] });
    await waitFor(async () => (await cluster.leader()) === 'n2', 5000, 'n2 leads the majority');
    const frozen = await received(cluster, 'n1');
    const n3Before = (await received(cluster, 'n3'))['n2']!;
    await waitFor(async () => (await received(cluster, 'n3'))['n2']! > n3Before + 10, 5000, 'n2→n3 still flows');
    const frozenAfter = await received(cluster, 'n1');
    expect(frozenAfter['n2']).toBe(frozen['n2']);
    expect(frozenAfter['n3']).toBe(frozen['n3']);
    await cluster.net.heal();
    await waitFor(async () => (await received(cluster, 'n1'))['n2']! > frozen['n2']!, 5000, 'healed');

    // Duplication on n2→n3 only: n3 then receives about twice as much from n2 as from n1.
    await cluster.net.setFaults({ duplicateRate: 1 }, [['n2', 'n3']]);
    const d0 = await received(cluster, 'n3');
    await waitFor(async () => (await received(cluster, 'n3'))['n1']! > d0['n1']! + 30, 5000, '30 heartbeats from n1');
    const d1 = await received(cluster, 'n3');
    expect(d1['n2']! - d0['n2']!).toBeGreaterThan(1.5 * (d1['n1']! - d0['n1']!));

    // Total loss on n1→n3 only.
    await cluster.net.clearFaults();
    expect(net.ruleset()).not.toMatch(/dup to/);
    await cluster.net.setFaults({ lossRate: 1 }, [['n1', 'n3']]);
    const l0 = await received(cluster, 'n3');
    await waitFor(async () => (await received(cluster, 'n3'))['n2']! > l0['n2']! + 20, 5000, 'n2→n3 flows');
    const l1 = await received(cluster, 'n3');
    expect(l1['n1']).toBe(l0['n1']);
    expect(net.ruleset()).toContain(`ip saddr 10.99.${net.subnet}.1 ip daddr 10.99.${net.subnet}.3 drop`);
    await cluster.net.setFaults({ lossRate: 0.25 });
    expect(net.ruleset()).toMatch(/numgen random mod 1000 < 250 drop/);

    await expect(cluster.net.setFaults({ delayMs: 10 })).rejects.toThrow(/no netem/);

    const pids = cluster.pids();
    await cluster.stop();
    for (const pid of pids) expect(processGone(pid)).toBe(true);
    for (const ns of names) expect(namespacesNow()).not.toContain(ns);
    expect(execFileSync('ip', ['-o', 'addr', 'show'], { encoding: 'utf8' })).not.toContain(`10.99.${net.subnet}.254`);
  });

  test.skipIf(!existsSync(mainJs))(
    'the real node in namespaces: a client in the root namespace writes and reads; kill/restart the leader',
    async () => {
      const runDir = tempDir('rift-netns-test-');
      const cluster = await Cluster.start({ nodeCount: 3, runDir, nodeFlags: [], net: 'netns', seed: 2, readyTimeoutMs: 20_000 });
      clusters.push(cluster);
      const leader = await cluster.waitForLeader(15_000);
      expect(leader).not.toBeNull();
      const client = new RiftClient({ config: cluster.config, clientId: 'c1', timeoutMs: 5000, seed: 1 });
      try {
        expect(await client.put('k', 'v1')).toEqual({ type: 'ok', value: 'v1' });
        await cluster.kill(leader!);
        await waitFor(
          async () => {
            const l = await cluster.leader();
            return l !== null && l !== leader;
          },
          15_000,
          'new leader',
        );
        expect(await client.get('k')).toEqual({ type: 'ok', value: 'v1' });
        await cluster.restart(leader!);
        await waitFor(async () => (await cluster.status(leader!))?.role === 'follower', 15_000, 'old leader rejoins');
      } finally {
        client.close();
      }
    },
  );

  test('a SIGKILLed harness leaves no namespace and no veth behind (the reaper deletes them)', async () => {
    const dir = tempDir('rift-netns-reaper-');
    const program = join(dir, 'harness.mjs');
    const netnsJs = pathToFileURL(join(import.meta.dirname, '..', '..', '..', 'dist', 'harness', 'net', 'netns.js')).href;
    writeFileSync(
      program,
      `
      import { NetnsNetwork } from ${JSON.stringify(netnsJs)};
      const net = await NetnsNetwork.create(['n1', 'n2', 'n3']);
      process.stdout.write(JSON.stringify({ namespaces: net.namespaces(), address: net.harnessAddress, reaper: net.reaperPid }) + '\\n');
      setInterval(() => {}, 1000); // hold everything until killed
    `,
    );
    const harness = spawn(process.execPath, [program], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    harness.stdout.on('data', (d: Buffer) => (out += d.toString()));
    harness.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<void>((resolve) => harness.on('exit', () => resolve()));
    await waitFor(() => out.includes('\n') || harness.exitCode !== null, 30_000, 'the harness program to create its namespaces');
    expect(out, err).toContain('\n');
    const { namespaces, address, reaper } = JSON.parse(out) as { namespaces: string[]; address: string; reaper: number };
    const addressesNow = (): string => execFileSync('ip', ['-o', '-4', 'addr', 'show'], { encoding: 'utf8' });
    try {
      expect(namespacesNow()).toEqual(expect.arrayContaining(namespaces));
      expect(addressesNow()).toContain(`inet ${address}/`);
      expect(processGone(reaper)).toBe(false);
      harness.kill('SIGKILL');
      await exited;
      await waitFor(
        () => namespaces.every((ns) => !namespacesNow().includes(ns)) && !addressesNow().includes(`inet ${address}/`),
        15_000,
        `the killed harness's namespaces ${namespaces.join(', ')} and its veth (${address}) to be deleted`,
      );
      await waitFor(() => processGone(reaper), 5_000, 'the reaper to exit');
    } finally {
      for (const ns of namespaces) {
        try {
          execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
        } catch {
          // gone, as it should be
        }
      }
    }
  });

  test('a normal teardown releases the reaper, which exits', async () => {
    const net = await NetnsNetwork.create(['n1', 'n2']);
    const reaper = net.reaperPid;
    expect(reaper).not.toBeNull();
    expect(processGone(reaper!)).toBe(false);
    await net.teardown();
    expect(net.reaperPid).toBeNull();
    await waitFor(() => processGone(reaper!), 5_000, 'the released reaper to exit');
    for (const ns of net.namespaces()) expect(namespacesNow()).not.toContain(ns);
  });
});

describe('netns reaper script', () => {
  test('waits for end-of-file, then deletes each namespace and the veth, quoting every name', () => {
    const script = reaperScript(['a-n1', "it's"], 'riftabch');
    const lines = script.split('\n');
    expect(lines[0]).toBe('cat >/dev/null');
    expect(lines).toContain("ip netns del 'a-n1' 2>/dev/null");
    expect(lines).toContain("ip netns del 'it'\\''s' 2>/dev/null");
    expect(lines.at(-2)).toBe("ip link del 'riftabch' 2>/dev/null");
  });
});
