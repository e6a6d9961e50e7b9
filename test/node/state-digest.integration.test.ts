/**
 * The state digest over the control channel (protocol.ts StateDigest) on
 * real `rift-node` processes: replicas that applied the same entries report
 * the same digest, a write changes it, and a restarted node that replays its
 * log reports the digest it had (the harness compares replicas with it at
 * the end of a run: harness/run/replicas.ts).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeProcess } from '../../harness/node-process.js';
import { pickFreeUdpPorts } from '../../harness/ports.js';
import { RiftClient } from '../../node/client.js';
import type { StateDigest } from '../../node/protocol.js';
import { ensureBuilt, repoRoot } from '../support/build.js';

async function waitFor<T>(what: string, deadlineMs: number, probe: () => Promise<T | null>): Promise<T> {
  const until = Date.now() + deadlineMs;
  while (Date.now() < until) {
    const value = await probe();
    if (value !== null) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}`);
}

describe('state digests of real replicas', () => {
  let dir: string;
  const nodes: NodeProcess[] = [];
  beforeAll(() => {
    ensureBuilt();
    dir = mkdtempSync(join(tmpdir(), 'rift-digest-'));
  });
  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.kill()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('agree across replicas at one applied index, change with a write, survive a restart', async () => {
    const ports = await pickFreeUdpPorts(3);
    const config = {
      cluster: 'digest-test',
      peerSecret: 'digest-test-peer-secret-0123456789',
      clientSecret: 'digest-test-client-secret-0123456789',
      dataDir: join(dir, 'data'),
      electionTimeoutMsMin: 300,
      electionTimeoutMsMax: 600,
      nodes: ports.map((port, i) => ({ id: `n${i + 1}`, host: '127.0.0.1', port })),
    };
    const configPath = join(dir, 'cluster.json');
    writeFileSync(configPath, JSON.stringify(config));
    for (const id of ['n1', 'n2', 'n3'])
      nodes.push(
        new NodeProcess(id, {
          command: process.execPath,
          args: [join(repoRoot, 'dist', 'node', 'main.js'), '--config', configPath, '--id', id],
          logPath: join(dir, `${id}.log`),
        }),
      );
    await Promise.all(nodes.map((n) => n.start(20_000)));
    const client = new RiftClient({ config, clientId: `digest-${process.pid}`, timeoutMs: 10_000, seed: 1 });
    /** Every replica's digest once all three applied the same index. */
    const agreed = (): Promise<StateDigest[]> =>
      waitFor('the replicas at one applied index', 20_000, async () => {
        const digests = await Promise.all(nodes.map((n) => n.stateDigest()));
        if (digests.some((d) => d === null)) return null;
        return new Set(digests.map((d) => d!.appliedIndex)).size === 1 ? (digests as StateDigest[]) : null;
      });
    try {
      expect((await client.put('k', 'v1')).type).toBe('ok');
      const first = await agreed();
      expect(first[0]!.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(new Set(first.map((d) => d.sha256)).size).toBe(1);

      expect((await client.put('k', 'v2')).type).toBe('ok');
      const second = await agreed();
      expect(second[0]!.appliedIndex).toBeGreaterThan(first[0]!.appliedIndex);
      expect(new Set(second.map((d) => d.sha256)).size).toBe(1);
      expect(second[0]!.sha256).not.toBe(first[0]!.sha256);

      // A restarted follower replays its log to the same state. (Not the leader: a new one would append its no-op.)
      const roles = await Promise.all(nodes.map(async (n) => (await n.status())?.role));
      const follower = nodes[roles.indexOf('follower')]!;
      await follower.kill();
      await follower.start(20_000);
      const again = await agreed();
      expect(again[0]!.appliedIndex).toBe(second[0]!.appliedIndex);
      expect(again.map((d) => d.sha256)).toEqual(second.map((d) => d.sha256));
    } finally {
      client.close();
    }
  }, 60_000);
});
