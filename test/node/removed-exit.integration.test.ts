/**
 * A removed node is told, and exits (issue 18; dissertation §4.2.2: a
 * server no longer in the configuration should shut down), on real
 * `rift-node` processes over loopback UDP with fsync: a follower of a
 * 3-node cluster under client writes is removed; once the removal is
 * committed the leader's farewell reaches it and it exits with
 * NODE_EXIT.removed (6) and one log line saying why; the two remaining
 * voters keep acknowledging writes; the same identity, restarted on its
 * intact data directory and added back as a learner, catches up and is
 * promoted, and every acknowledged write is readable.
 *
 * Every wait is for a condition with a deadline, never a fixed sleep.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodeProcess } from '../../harness/node-process.js';
import { pickFreeUdpPorts } from '../../harness/ports.js';
import { RiftClient } from '../../node/client.js';
import { RiftAdmin } from '../../node/admin-client.js';
import type { ClusterConfig } from '../../node/config-types.js';
import { NODE_EXIT } from '../../node/exit-codes.js';
import { ensureBuilt, repoRoot } from '../support/build.js';
import { ok, waitFor } from './membership-support.js';

const mainJs = join(repoRoot, 'dist', 'node', 'main.js');

describe('a removed node exits with NODE_EXIT.removed, and comes back as the same identity (issue 18)', () => {
  let dir: string;
  let config: ClusterConfig;
  const nodes = new Map<string, NodeProcess>();
  let admin: RiftAdmin;
  const acked = new Map<string, string>();
  /** Writes acknowledged so far, in order of acknowledgement (for "the cluster keeps serving"). */
  let ackCount = 0;
  let writing = true;
  let writers: Promise<void>[] = [];
  let clientCount = 0;

  const newClient = (timeoutMs = 10_000): RiftClient =>
    new RiftClient({ config, clientId: `rm-${process.pid}-${++clientCount}`, timeoutMs, seed: clientCount });

  const writer = async (w: number): Promise<void> => {
    const client = newClient();
    try {
      for (let i = 0; writing; i++) {
        const key = `w${w}-k${i % 40}`;
        const value = `v${i}`;
        const result = await client.put(key, value);
        if (result.type === 'ok') {
          acked.set(key, value);
          ackCount++;
        } else if (result.type === 'fail') throw new Error(`put ${key}: definite failure ${result.error}`);
        else acked.delete(key); // indeterminate: a later ok restores it
      }
    } finally {
      client.close();
    }
  };

  beforeAll(async () => {
    ensureBuilt();
    dir = mkdtempSync(join(tmpdir(), 'rift-removed-exit-'));
    const ports = await pickFreeUdpPorts(3);
    config = {
      cluster: 'rift-removed-exit-it',
      peerSecret: 'removed-exit-it-peer-secret-0123456789',
      clientSecret: 'removed-exit-it-client-secret-0123456789',
      clientFreshnessMs: 30_000,
      dataDir: join(dir, 'data'),
      // Longer than the defaults: a loaded 2-core machine must not depose leaders by accident.
      electionTimeoutMsMin: 400,
      electionTimeoutMsMax: 800,
      heartbeatIntervalMs: 50,
      tickMs: 10,
      nodes: ports.map((port, i) => ({ id: `n${i + 1}`, host: '127.0.0.1', port })),
      routes: {},
      readMode: 'readindex',
      clockDriftBound: 1.2,
      maxKeyBytes: 256,
      maxValueBytes: 8192,
    };
    const configPath = join(dir, 'cluster.json');
    writeFileSync(configPath, JSON.stringify(config, null, 2));
    for (const id of ['n1', 'n2', 'n3'])
      nodes.set(
        id,
        new NodeProcess(id, {
          command: process.execPath,
          args: [mainJs, '--config', configPath, '--id', id],
          logPath: join(dir, `${id}.log`),
        }),
      );
    await Promise.all([...nodes.values()].map((n) => n.start(20_000)));
    admin = new RiftAdmin({ config, timeoutMs: 20_000, seed: 1 });
    await waitFor('a leader', 20_000, async () => {
      const r = await admin.status();
      return r.type === 'ok' ? r : null;
    });
    writers = [0, 1, 2].map((w) => writer(w));
  }, 60_000);

  afterAll(async () => {
    writing = false;
    await Promise.allSettled(writers);
    admin?.close();
    await Promise.all([...nodes.values()].map((n) => n.kill()));
    rmSync(dir, { recursive: true, force: true });
  });

  test('removed follower: exit 6 with one line; the rest keep serving; restarted and re-added, it catches up and is promoted', async () => {
    await waitFor('some acknowledged writes', 20_000, async () => (ackCount >= 20 ? true : null));
    const before = ok(await admin.status(), 'status');
    const victim = before.voters.find((id) => id !== before.leaderId)!;
    const node = nodes.get(victim)!;

    const removeStarted = performance.now();
    const removed = ok(await admin.remove(victim), `remove ${victim}`);
    expect(removed.voters).toEqual(before.voters.filter((id) => id !== victim));
    // Told by the leader once the removal committed: it exits on its own, with the removal's code.
    await waitFor(`${victim} exits`, 20_000, async () => (node.isAlive() ? null : true));
    const exitedMs = performance.now() - removeStarted;
    expect(node.exitCode, node.exitDescription ?? '').toBe(NODE_EXIT.removed);
    const lines = readFileSync(join(dir, `${victim}.log`), 'utf8')
      .split('\n')
      .filter((line) => line.includes('removed from the cluster: the configuration committed at index'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      new RegExp(`does not include ${victim} \\(told by the leader ${removed.leaderId}, term \\d+\\); shutting down`),
    );

    // The two remaining voters keep acknowledging writes.
    const acksAtExit = ackCount;
    await waitFor('20 more acknowledged writes on the remaining voters', 20_000, async () => (ackCount >= acksAtExit + 20 ? true : null));

    // Back as the same identity: its data directory is intact (its vote and log, §5.2); restarted, then added and promoted.
    const restartStarted = performance.now();
    await node.start(20_000);
    const added = ok(await admin.add(victim), `add ${victim}`);
    expect(added.learners).toEqual([victim]);
    const promoted = await waitFor(`${victim} promoted once caught up`, 30_000, async () => {
      const r = await admin.promote(victim);
      if (r.type === 'refused' && /has not caught up/.test(r.error)) return null;
      return ok(r, `promote ${victim}`);
    });
    expect(promoted.voters).toEqual(before.voters);
    const target = ok(await admin.status(), 'status').commitIndex;
    await waitFor(`${victim} applies up to ${target}`, 20_000, async () => {
      const s = await node.status();
      return s !== null && s.lastApplied >= target ? true : null;
    });
    console.log(
      `removed ${victim}: exited ${exitedMs.toFixed(0)} ms after the remove request; restarted, re-added, caught up and promoted ` +
        `${(performance.now() - restartStarted).toFixed(0)} ms after its restart began`,
    );
    // It is a member again and stays up: it was not told again.
    expect(node.isAlive()).toBe(true);

    writing = false;
    await Promise.all(writers);
    const reader = newClient(20_000);
    try {
      for (const [key, value] of acked) expect(await reader.get(key), key).toEqual({ type: 'ok', value });
    } finally {
      reader.close();
    }
  }, 180_000);
});
