/**
 * The harness's --snapshot-every-entries reaches real nodes (through the
 * cluster config), and a node's status reports its snapshots: a 3-node
 * cluster snapshotting every 5 entries takes snapshots and compacts its log
 * under 40 writes.
 */
import { afterEach, describe, expect, test } from 'vitest';
import { Cluster } from '../../harness/cluster.js';
import { RiftClient } from '../../node/client.js';
import { tempDir } from './temp-dirs.js';
import { waitFor } from './wait.js';

const clusters: Cluster[] = [];

afterEach(async () => {
  for (const c of clusters.splice(0)) await c.stop();
});

describe('--snapshot-every-entries', () => {
  test('nodes snapshot every N entries, compact their logs, and say so in their status', async () => {
    const cluster = await Cluster.start({
      nodeCount: 3,
      runDir: tempDir('rift-snapshot-every-'),
      nodeFlags: [],
      net: 'relay',
      seed: 3,
      snapshotEveryEntries: 5,
      readyTimeoutMs: 20_000,
    });
    clusters.push(cluster);
    expect(cluster.config.snapshotEveryEntries).toBe(5);
    expect(cluster.config.snapshotTrailingEntries).toBe(5);
    await cluster.waitForLeader(15_000);
    const client = new RiftClient({ config: cluster.config, clientId: 'c1', timeoutMs: 5000, seed: 1 });
    try {
      for (let i = 0; i < 40; i++) expect(await client.put(`k${i % 4}`, `v${i}`)).toEqual({ type: 'ok', value: `v${i}` });
      for (const id of ['n1', 'n2', 'n3']) {
        await waitFor(
          async () => {
            const s = (await cluster.status(id))?.snapshots;
            return s !== undefined && s.taken >= 2 && s.latest !== null && s.latest.index >= 10 && s.firstIndex > 1;
          },
          15_000,
          `${id} to report snapshots taken and a compacted log`,
        );
      }
      const status = await cluster.status('n1');
      expect(status?.snapshots?.latest?.bytes).toBeGreaterThan(0);
      expect(status?.snapshots?.firstIndex).toBeLessThanOrEqual((status?.snapshots?.latest?.index ?? 0) + 1);
    } finally {
      client.close();
    }
  });
});
