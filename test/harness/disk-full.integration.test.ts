/**
 * The disk-full nemesis against real nodes (root only: each node's data
 * directory is a tmpfs of its own, harness/data-mounts.ts): a client writes
 * while every node's disk is filled; a majority at least must stop, each
 * with exit 7 and one line (no stack), the stop op must bring each back on
 * its data, and
 * every write acknowledged before the disks filled must read back. The
 * mounts go with the cluster (its stop), the files stay in the run
 * directory, and a harness that is SIGKILLed leaves no mount behind (the
 * reaper).
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Cluster } from '../../harness/cluster.js';
import { BALLAST_FILE, DataMounts, dataMountsUnavailableReason, whyNotOwnTmpfs } from '../../harness/data-mounts.js';
import { NemesisRunner, type NemesisOpRecord } from '../../harness/nemesis/runner.js';
import { diskFullAnalysis } from '../../harness/run/disk-full-analysis.js';
import { RiftClient } from '../../node/client.js';
import { NODE_EXIT } from '../../node/exit-codes.js';
import { tempDir } from './temp-dirs.js';
import { processGone, waitFor } from './wait.js';

const repo = join(import.meta.dirname, '..', '..');
const unavailable = dataMountsUnavailableReason();
if (unavailable !== null) console.log(`skipping the disk-full integration tests: ${unavailable}`);

const clusters: Cluster[] = [];
afterEach(async () => {
  for (const c of clusters.splice(0)) await c.stop();
});

describe.skipIf(unavailable !== null)('disk-full on real nodes (root: a tmpfs per data directory)', () => {
  it('the nodes exit 7 on their full disks; the stop brings each back and no acknowledged write is lost', async () => {
    const runDir = tempDir('rift-disk-full-it-');
    const cluster = await Cluster.start({ nodeCount: 3, runDir, nodeFlags: [], net: 'relay', seed: 11, dataTmpfsBytes: 4 << 20 });
    clusters.push(cluster);
    for (const id of cluster.nodeIds) expect(await whyNotOwnTmpfs(cluster.dataDir(id), 8 << 20), id).toBeNull();
    expect(await cluster.waitForLeader(15_000), `no leader; logs in ${runDir}/nodes`).not.toBeNull();

    const client = (name: string): RiftClient =>
      new RiftClient({ config: cluster.config, clientId: `${name}-${process.pid}`, timeoutMs: 1000, seed: 1 });
    const acked = new Map<string, string>();
    const writer = client('writer');
    let writing = true;
    let written = 0;
    const writes = (async () => {
      for (let i = 0; writing; i++) {
        const value = `v${i}-${'x'.repeat(200)}`;
        const r = await writer.put(`k${i}`, value);
        if (r.type === 'ok') acked.set(`k${i}`, value);
        written++;
      }
    })();
    await waitFor(() => acked.size >= 50, 20_000, '50 writes acknowledged before the fault');

    const records: NemesisOpRecord[] = [];
    const runner = new NemesisRunner(cluster, [{ atMs: 0, f: 'start-disk-full', value: { target: 'all' } }], {
      seed: 11,
      record: (op) => records.push(op),
      log: () => {},
    });
    runner.start(Date.now());
    // While the client writes on: each node's next append meets ENOSPC. Once two of the three have stopped, the last
    // one may never write again (alone, its pre-vote never wins, so it persists no term), and it may ride the fault out.
    await waitFor(
      () => cluster.nodeIds.filter((id) => !cluster.isAlive(id) && cluster.exitCode(id) !== null).length >= 2,
      30_000,
      'a majority stopped on its full disk',
    );
    writing = false;
    await writes;
    writer.close();
    const stopped = cluster.nodeIds.filter((id) => !cluster.isAlive(id));
    for (const id of stopped) {
      expect(cluster.exitCode(id), `${id} exit code`).toBe(NODE_EXIT.diskFailed);
      const log = readFileSync(join(runDir, 'nodes', `${id}.log`), 'utf8');
      expect(log, id).toMatch(/FATAL: stopping: .*ENOSPC/);
      expect(log, id).toMatch(/the disk refused an operation \(ENOSPC\); this is not damage to the stored data: free space/);
    }
    for (const id of cluster.nodeIds) expect(readFileSync(join(runDir, 'nodes', `${id}.log`), 'utf8'), id).not.toMatch(/^\s+at /m);
    const filled = records.find((r) => r.f === 'start-disk-full' && r.phase === 'complete')?.value as {
      results: Record<string, { ballastBytes?: number }>;
    };
    for (const id of cluster.nodeIds) expect(filled.results[id]?.ballastBytes, id).toBeGreaterThan(3 << 20);

    await runner.healAll();
    const freed = records.filter((r) => r.f === 'stop-disk-full' && r.phase === 'complete').at(-1)?.value as {
      freed: string[];
      results: Record<string, unknown>;
    };
    expect(freed.freed).toEqual(['n1', 'n2', 'n3']);
    // The node still running when the writes stopped may have met its full disk since (a late write): either is right.
    for (const id of cluster.nodeIds)
      expect([{ outcome: 'exited-7', restarted: true }, ...(stopped.includes(id) ? [] : [{ outcome: 'running' }])], id).toContainEqual(
        freed.results[id],
      );
    for (const id of cluster.nodeIds) expect(cluster.isAlive(id), id).toBe(true);
    expect(await cluster.waitForLeader(15_000)).not.toBeNull();
    const history = records
      .filter((r) => r.phase === 'complete')
      .map((r, index) => ({ index, process: 'nemesis', type: 'info' as const, f: r.f, value: r.value, time: index * 1e6 }));
    expect(diskFullAnalysis(history)).toMatchObject({ valid: true, findings: [] });

    const reader = client('reader');
    try {
      expect(acked.size, `of ${written} writes`).toBeGreaterThanOrEqual(50);
      for (const [key, value] of acked) expect(await reader.get(key), key).toEqual({ type: 'ok', value });
    } finally {
      reader.close();
    }

    // The mounts go with the cluster; each node's files stay in its directory, the ballast does not.
    await cluster.stop();
    for (const id of cluster.nodeIds) {
      const dir = cluster.dataDir(id);
      expect(DataMounts.isMountPoint(dir), `${dir} unmounted`).toBe(false);
      expect(existsSync(join(dir, 'raft.log')), `${id}'s log kept`).toBe(true);
      expect(existsSync(join(dir, BALLAST_FILE))).toBe(false);
    }
  }, 120_000);

  it('a harness SIGKILLed with its mounts up leaves none behind (the reaper unmounts)', async () => {
    const dir = join(tempDir('rift-disk-full-reaper-'), 'n1');
    const script =
      `import(${JSON.stringify(join(repo, 'dist', 'harness', 'data-mounts.js'))}).then(async (m) => {` +
      ` await m.DataMounts.mount([${JSON.stringify(dir)}], 1 << 20); process.stdout.write('mounted\\n'); setInterval(() => {}, 1000); })`;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    await waitFor(() => out.includes('mounted'), 20_000, 'the child mounted its tmpfs');
    expect(DataMounts.isMountPoint(dir)).toBe(true);
    child.kill('SIGKILL');
    await waitFor(() => child.pid !== undefined && processGone(child.pid), 10_000, 'the child is gone');
    await waitFor(() => !DataMounts.isMountPoint(dir), 10_000, 'the reaper unmounted the tmpfs');
    // Nothing of ours is left in the mount table.
    expect(execFileSync('mount', { encoding: 'utf8' })).not.toContain(dir);
  }, 60_000);
});
