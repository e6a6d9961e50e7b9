/**
 * The client links' relay in front of a real cluster (dist/node/main.js): the
 * rift client library, configured as the harness configures its clients
 * (Cluster.clientAddresses), reaches the nodes through it; while replies are
 * dropped a write is applied but its client hears nothing (the case a
 * client's retry and the session table exist for), and once the loss stops
 * the client is answered again.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { Cluster } from '../../../harness/cluster.js';
import { clientsLink } from '../../../harness/net/client-relay.js';
import { RiftClient, type ClientConfig } from '../../../node/client.js';
import { tempDir } from '../temp-dirs.js';

const mainJs = join(import.meta.dirname, '..', '..', '..', 'dist', 'node', 'main.js');
const haveNode = existsSync(mainJs);
if (!haveNode) console.log(`skipping the client relay's cluster test: ${mainJs} is not built`);

const open: { stop?(): Promise<void>; close?(): void }[] = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) {
    o.close?.();
    await o.stop?.();
  }
});

describe.skipIf(!haveNode)('client-loss on a real cluster', () => {
  test('a write whose replies are all dropped is applied, its client times out, and replies flow again after the loss stops', async () => {
    const runDir = tempDir('rift-client-relay-');
    const cluster = await Cluster.start({ nodeCount: 3, runDir, nodeFlags: [], net: 'relay', seed: 5, clientRelay: true });
    open.push(cluster);
    const clientNet = cluster.clientNet;
    if (clientNet === null) throw new Error('clientRelay: true started no client relay');
    const leader = await cluster.waitForLeader(15_000);
    expect(leader, `no leader; logs in ${runDir}/nodes`).not.toBeNull();
    const addresses = cluster.clientAddresses();
    // The clients' addresses are the relay's fronts, not the nodes'.
    for (const n of addresses.nodes) expect(n.port).not.toBe(cluster.config.nodes.find((c) => c.id === n.id)!.port);
    const config: ClientConfig = { cluster: cluster.config.cluster, clientSecret: cluster.config.clientSecret, nodes: addresses.nodes };
    // Its session is opened by the first write, answered: later writes go as `existing` (node/client.ts).
    const client = new RiftClient({ config, clientId: 'c1', timeoutMs: 2000, seed: 1, homeNode: leader! });
    open.push(client);
    expect((await client.put('k', 'before')).type).toBe('ok');

    await clientNet.setClientLoss({ replies: 1, requests: 0 });
    const put = await client.put('k', 'unanswered');
    expect(put.type).toBe('timeout');
    // Summed over the nodes: the client may have tried another node (a leader change, or its suspicion after a silence).
    const lost = (key: (node: string) => string): number =>
      cluster.nodeIds.reduce((sum, id) => sum + (clientNet.linkStats()[key(id)]?.lost ?? 0), 0);
    expect(lost(clientsLink.fromNode)).toBeGreaterThan(0);
    expect(lost(clientsLink.toNode)).toBe(0);

    await clientNet.setClientLoss({ replies: 0, requests: 0 });
    // The write was applied though no reply came back: the loss took the answer, not the request.
    expect(await client.get('k')).toEqual({ type: 'ok', value: 'unanswered' });
  });
});
