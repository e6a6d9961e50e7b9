/**
 * etcd as the second system under test (harness/db/etcd/): its Db and
 * Client against real etcd 3.4 members, each in its own network namespace,
 * and `npm run jepsen -- --db etcd` end to end. Needs Debian's etcd-server
 * and root (netns + nftables); skipped with the reason elsewhere.
 */
import { plainValues } from '../../../checker/values.js';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EtcdClient } from '../../../harness/db/etcd/etcd-client.js';
import { clientUrl, type EtcdDb } from '../../../harness/db/etcd/etcd-db.js';
import { etcdSystem } from '../../../harness/db/etcd/system.js';
import { etcdCells } from '../../../harness/gate/cells.js';
import { isolate } from '../../../harness/nemesis/partitions.js';
import { NetnsNetwork, netnsUnavailableReason } from '../../../harness/net/netns.js';
import { parseOptions, UsageError } from '../../../harness/options.js';
import { ensureBuilt, repoRoot } from '../../support/build.js';
import { tempDir } from '../temp-dirs.js';
import { processGone, waitFor } from '../wait.js';

const skipReason = etcdSystem.unavailable() ?? netnsUnavailableReason();
if (skipReason !== null) console.log(`etcd tests skipped: ${skipReason}`);

function options(argv: string[]) {
  const parsed = parseOptions(argv, { randomSeed: () => 1 });
  if (parsed.kind !== 'run') throw new Error('expected a run');
  return parsed.options;
}

describe('etcd options', () => {
  it('--etcd-serializable-reads needs --db etcd', () => {
    expect(() => parseOptions(['--etcd-serializable-reads'])).toThrow(UsageError);
    expect(() => parseOptions(['--etcd-serializable-reads'])).toThrow('--etcd-serializable-reads needs --db etcd');
  });

  it.skipIf(etcdSystem.unavailable() !== null)(
    'refuses what etcd cannot carry: rift node flags, clock and datagram faults, partitions on loopback',
    () => {
      expect(() => parseOptions(['--db', 'etcd', '--node-flag=--unsafe-local-reads'])).toThrow("rift's node options");
      expect(() => parseOptions(['--db', 'etcd', '--nemesis', 'clock'])).toThrow('--db etcd cannot carry it');
      expect(() => parseOptions(['--db', 'etcd', '--nemesis', 'loss'])).toThrow('--db etcd cannot carry it');
      expect(() => parseOptions(['--db', 'etcd', '--net', 'relay'])).toThrow('--db etcd runs on netns or loopback');
      expect(() => parseOptions(['--db', 'etcd', '--net', 'loopback', '--nemesis', 'partition'])).toThrow('network fault layer');
      const o = options(['--db', 'etcd', '--net', 'loopback', '--nemesis', 'kill,pause']);
      expect(o.testName).toBe('etcd-kill-pause');
      expect(o.electionTimeoutMs).toEqual([1000, 2000]);
      expect(o.heartbeatIntervalMs).toBe(100);
    },
  );

  it.skipIf(etcdSystem.unavailable() !== null)('every etcd gate cell parses as a jepsen command line', () => {
    for (const cell of etcdCells) expect(parseOptions([...cell.args, '--seed', '1'], { isRoot: true }).kind, cell.name).toBe('run');
  });
});

describe.skipIf(skipReason !== null)('etcd in network namespaces (root, etcd-server)', () => {
  it('a member cut off by nftables serves stale serializable reads and no linearizable ones; teardown leaves nothing', async () => {
    const runDir = tempDir('rift-etcd-');
    const o = options(['--db', 'etcd', '--nodes', '3', '--net', 'netns', '--nemesis', 'partition']);
    const system = await etcdSystem.start({ options: o, seed: 1, runDir, log: () => undefined, hosts: null });
    const { cluster } = system;
    const db = cluster.db as EtcdDb;
    const pids = cluster.pids();
    expect(cluster.net).toBeInstanceOf(NetnsNetwork);
    const namespaces = (cluster.net as NetnsNetwork).namespaces();
    try {
      const leader = await cluster.waitForLeader(20_000);
      expect(leader).not.toBeNull();
      const follower = cluster.nodeIds.find((id) => id !== leader)!;
      const client = (node: string, serializable: boolean, timeoutMs = 3000): EtcdClient =>
        new EtcdClient({ url: clientUrl(db.node(node)), timeoutMs, serializableReads: serializable, values: plainValues });
      const onLeader = client(leader!, false);
      expect(await onLeader.invoke({ f: 'write', key: 'x', value: 1 })).toEqual({ type: 'ok' });
      expect(await onLeader.invoke({ f: 'cas', key: 'x', value: [1, 2] })).toEqual({ type: 'ok' });
      expect(await onLeader.invoke({ f: 'cas', key: 'x', value: [1, 3] })).toEqual({ type: 'fail', error: 'cas_mismatch' });
      expect(await onLeader.invoke({ f: 'cas', key: 'absent', value: [null, 5] })).toEqual({ type: 'ok' });
      const local = client(follower, true);
      await waitFor(
        async () => (await local.invoke({ f: 'read', key: 'x', value: null })).type === 'ok',
        10_000,
        'the follower applied x=2',
      );
      expect(await local.invoke({ f: 'read', key: 'x', value: null })).toEqual({ type: 'ok', value: 2 });

      await cluster.net.partition(isolate(cluster.nodeIds, follower));
      // The majority moves on: a write through a node that is not cut off, retried until a leader takes it.
      const majority = client(
        cluster.nodeIds.find((id) => id !== follower)!,
        false,
      );
      await waitFor(async () => (await majority.invoke({ f: 'write', key: 'x', value: 7 })).type === 'ok', 20_000, 'a majority write');
      // The cut-off member still answers serializable reads from its own state: the stale value.
      expect(await local.invoke({ f: 'read', key: 'x', value: null })).toEqual({ type: 'ok', value: 2 });
      const linearizable = await client(follower, false, 1500).invoke({ f: 'read', key: 'x', value: null });
      expect(linearizable.type).toBe('fail');

      await cluster.net.heal();
      await waitFor(
        async () => {
          const r = await local.invoke({ f: 'read', key: 'x', value: null });
          return r.type === 'ok' && r.value === 7;
        },
        20_000,
        'the healed member catches up',
      );
    } finally {
      await cluster.stop();
    }
    for (const pid of pids) expect(processGone(pid), `pid ${pid}`).toBe(true);
    const left = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
    for (const ns of namespaces) expect(left).not.toContain(ns);
  }, 90_000);

  it('npm run jepsen -- --db etcd --nemesis partition,kill,pause: valid, faults applied, no member left running', () => {
    ensureBuilt();
    const store = tempDir('rift-etcd-e2e-');
    const r = spawnSync(
      process.execPath,
      [
        join(repoRoot, 'dist', 'harness', 'cli.js'),
        ...['--db', 'etcd', '--nemesis', 'partition,kill,pause', '--time-limit', '12', '--seed', '5'],
        ...['--store', store, '--json', '--quiet'],
      ],
      { cwd: repoRoot, encoding: 'utf8', timeout: 120_000 },
    );
    expect(r.status, r.stderr).toBe(0);
    const results = JSON.parse(r.stdout) as {
      verdict: unknown;
      runDir: string;
      nemesis: { actions: number };
      counts: { byType: Record<string, number> };
    };
    expect(results.verdict).toBe(true);
    expect(results.nemesis.actions).toBeGreaterThan(0);
    expect(results.counts.byType['ok'] ?? 0).toBeGreaterThan(0);
    const ps = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' });
    expect(ps.split('\n').filter((l) => l.includes(results.runDir))).toEqual([]);
  }, 150_000);
});

describe.skipIf(skipReason !== null)('etcd membership changes (harness/db/etcd/membership.ts)', () => {
  it('npm run jepsen -- --db etcd --nemesis membership: members removed (the leader too), back as new members, promoted; valid', () => {
    ensureBuilt();
    const store = tempDir('rift-etcd-membership-');
    const r = spawnSync(
      process.execPath,
      [
        join(repoRoot, 'dist', 'harness', 'cli.js'),
        ...['--db', 'etcd', '--nemesis', 'membership', '--time-limit', '20', '--seed', '3'],
        ...['--store', store, '--json', '--quiet'],
      ],
      { cwd: repoRoot, encoding: 'utf8', timeout: 150_000 },
    );
    expect(r.status, r.stderr).toBe(0);
    const results = JSON.parse(r.stdout) as { verdict: unknown; runDir: string };
    expect(results.verdict).toBe(true);
    const ops = readFileSync(join(results.runDir, 'history.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { process: unknown; type: string; f: string; value: Record<string, unknown> | null });
    const done = ops.filter((o) => o.process === 'nemesis' && o.type !== 'invoke');
    const removed = done.filter((o) => o.f === 'start-membership' && Array.isArray(o.value?.['nodes']));
    expect(removed.length, JSON.stringify(done)).toBeGreaterThan(0);
    // The seed's first removal takes the leader: it leaves, the others elect one without it.
    expect(
      removed.some((o) => o.value?.['wasLeader'] === true),
      JSON.stringify(removed),
    ).toBe(true);
    // Each removed member came back the etcd way: added as a learner while down, started empty, caught up, promoted.
    const restored = done.filter((o) => o.f === 'stop-membership' && ((o.value?.['nodes'] as unknown[] | undefined)?.length ?? 0) > 0);
    expect(restored.length, JSON.stringify(done)).toBeGreaterThan(0);
    for (const o of restored) {
      const steps = Object.keys((o.value?.['steps'] as Record<string, number>) ?? {});
      for (const node of o.value?.['nodes'] as string[])
        expect(steps, JSON.stringify(o.value)).toEqual(expect.arrayContaining([`${node} added`, `${node} started`, `${node} promoted`]));
    }
    // Every member is a voter at the end.
    const final = done.filter((o) => o.f === 'stop-membership').at(-1)!;
    expect(((final.value?.['after'] as { voters: string[] }).voters ?? []).sort()).toEqual(['n1', 'n2', 'n3', 'n4', 'n5']);
    const ps = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' });
    expect(ps.split('\n').filter((l) => l.includes(results.runDir))).toEqual([]);
  }, 180_000);
});
