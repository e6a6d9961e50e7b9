/**
 * The cluster manager and nemesis against the real node binary (dist/node/main.js,
 * built by the vitest global setup).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './temp-dirs.js';
import { afterEach, describe, expect, test } from 'vitest';
import { Cluster } from '../../harness/cluster.js';
import type { UdpRelay } from '../../harness/net/relay.js';
import { NemesisRunner, type NemesisOpRecord } from '../../harness/nemesis/runner.js';
import { waitFor, processGone } from './wait.js';

const mainJs = join(import.meta.dirname, '..', '..', 'dist', 'node', 'main.js');
const haveNode = existsSync(mainJs);
if (!haveNode) console.log(`skipping real-node cluster tests: ${mainJs} is not built`);

const clusters: Cluster[] = [];
afterEach(async () => {
  for (const c of clusters.splice(0)) await c.stop();
});


describe.skipIf(!haveNode)('Cluster with the real node (relay mode)', () => {
  test('5 nodes elect a leader; kill it → gone, a new leader; restart → back; pause → status null → resume; clock', async () => {
    const runDir = tempDir('rift-real-cluster-');
    const cluster = await Cluster.start({ nodeCount: 5, runDir, nodeFlags: [], net: 'relay', seed: 3 });
    clusters.push(cluster);
    const leader = await cluster.waitForLeader(15_000);
    expect(leader, `no leader; logs in ${runDir}/nodes`).not.toBeNull();
    expect((cluster.net as UdpRelay).stats().forwarded).toBeGreaterThan(0);

    const pid = cluster.pid(leader!)!;
    await cluster.kill(leader!);
    expect(processGone(pid)).toBe(true);
    expect(await cluster.status(leader!)).toBeNull();
    await waitFor(async () => { const l = await cluster.leader(); return l !== null && l !== leader; }, 15_000, 'a new leader');

    await cluster.restart(leader!);
    await waitFor(async () => (await cluster.status(leader!))?.role === 'follower', 15_000, 'old leader rejoins as follower');

    const other = cluster.nodeIds.find((id) => id !== leader)!;
    await cluster.pause(other);
    expect(await cluster.status(other)).toBeNull();
    await cluster.resume(other);
    await waitFor(async () => (await cluster.status(other)) !== null, 10_000, 'resumed node answers');

    const state = await cluster.clock(other, { bumpMs: 2048 });
    expect(state.offsetMs).toBe(2048);
    expect((await cluster.status(other))?.clock.offsetMs).toBe(2048);
  });

  test('a leader partition makes the majority elect a new leader; healAll restores a single leader', async () => {
    const runDir = tempDir('rift-real-cluster-');
    const cluster = await Cluster.start({ nodeCount: 3, runDir, nodeFlags: [], net: 'relay', seed: 4 });
    clusters.push(cluster);
    const leader = await cluster.waitForLeader(15_000);
    expect(leader).not.toBeNull();
    const records: NemesisOpRecord[] = [];
    const runner = new NemesisRunner(cluster, [{ atMs: 0, f: 'start-partition', value: { shape: 'leader' } }], { seed: 1, record: (op) => records.push(op) });
    runner.start(Date.now());
    await waitFor(() => records.length === 2, 5000, 'partition applied');
    expect((records[1]!.value as { leader: string }).leader).toBe(leader);
    await waitFor(async () => {
      const l = await cluster.leader();
      return l !== null && l !== leader;
    }, 15_000, 'majority side elects another leader (higher term)');
    await runner.healAll();
    await waitFor(async () => {
      const statuses = await Promise.all(cluster.nodeIds.map((id) => cluster.status(id)));
      const leaders = statuses.filter((s) => s?.role === 'leader');
      return leaders.length === 1 && statuses.every((s) => s !== null && s.currentTerm === leaders[0]!.currentTerm);
    }, 15_000, 'one leader, everyone on its term');
  });
});
