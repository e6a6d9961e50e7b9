/**
 * Snapshots and InstallSnapshot for real (issue 18): `rift-node` OS
 * processes over UDP on loopback, fsync on, with a small
 * `--snapshot-every-entries` so the log is compacted after a few dozen
 * writes. Every wait is for a condition with a deadline, never a fixed sleep.
 *
 * - A follower that is stopped while the others write far past its log
 *   (their logs are compacted beyond its last entry) is caught up by an
 *   InstallSnapshot stream when it restarts, and then serves the right values.
 * - A node restarted after a crash (SIGKILL) restores its state machine from
 *   its snapshot and replays only the log after it.
 */
import { afterEach, describe, expect, test } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster } from '../../harness/cluster.js';
import { RiftClient, type ClientResult } from '../../node/client.js';
import { decodeSnapshot } from '../../node/storage/snapshot-store.js';
import { ensureBuilt } from '../support/build.js';
import { waitForValue as waitFor } from '../harness/wait.js';

function expectOk(result: ClientResult, what: string): string | null {
  if (result.type !== 'ok') throw new Error(`${what}: expected ok, got ${JSON.stringify(result)}`);
  return result.value;
}

function nodeLog(runDir: string, id: string): string {
  const file = join(runDir, 'nodes', `${id}.log`);
  return existsSync(file) ? readFileSync(file, 'utf8') : '';
}

/** The index of the node's newest durable snapshot file, or null. */
function snapshotIndex(cluster: Cluster, id: string): number | null {
  const file = join(cluster.dataDir(id), 'snapshot');
  if (!existsSync(file)) return null;
  const decoded = decodeSnapshot(readFileSync(file));
  return decoded.ok ? decoded.snapshot.meta.index : null;
}

describe('snapshots and InstallSnapshot on real processes', () => {
  let runDir: string | null = null;
  let cluster: Cluster | null = null;
  const clients: RiftClient[] = [];
  let clientCounter = 0;
  const newClient = (c: Cluster, initialNode?: string): RiftClient => {
    const client = new RiftClient({
      config: c.config,
      clientId: `snap-${process.pid}-${++clientCounter}`,
      timeoutMs: 10_000,
      seed: clientCounter,
      ...(initialNode !== undefined ? { initialNode } : {}),
    });
    clients.push(client);
    return client;
  };

  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await cluster?.stop();
    cluster = null;
    if (runDir !== null) rmSync(runDir, { recursive: true, force: true });
    runDir = null;
  });

  test('a follower stopped while the log was compacted past it is caught up by InstallSnapshot and serves the right values', async () => {
    ensureBuilt();
    runDir = mkdtempSync(join(tmpdir(), 'rift-snap-'));
    // --unsafe-local-reads only so that a get sent to the restarted follower is answered from ITS
    // state machine (what this test is about); writes are the normal replicated path.
    const c = await Cluster.start({
      nodeCount: 5,
      runDir,
      nodeFlags: ['--snapshot-every-entries', '40', '--snapshot-trailing-entries', '5', '--unsafe-local-reads'],
      net: 'relay',
      seed: 18,
      // The snapshot is a few KB: in 512-byte chunks a stream of several datagrams (in the default 60 KiB, one).
      snapshotChunkBytes: 512,
    });
    cluster = c;
    const leader = await waitFor('a leader', 20_000, () => c.leader());
    const writer = newClient(c, leader);
    const expected = new Map<string, string | null>();
    const put = async (key: string, value: string): Promise<void> => {
      expectOk(await writer.put(key, value), `put ${key}`);
      expected.set(key, value);
    };
    for (let i = 0; i < 60; i++) await put(`k${i % 45}`, `a${i}`);
    const follower = c.nodeIds.find((id) => id !== leader)!;
    // Everyone snapshotted at least once (every 40 entries).
    for (const id of c.nodeIds) await waitFor(`a snapshot file on ${id}`, 20_000, async () => snapshotIndex(c, id));
    await c.kill(follower);
    const before = snapshotIndex(c, follower) ?? 0;

    // Write far past the follower's log: the others compact to within 5 entries of each snapshot.
    for (let i = 60; i < 300; i++) await put(`k${i % 70}`, `b${i}`);
    expectOk(await writer.delete('k3'), 'delete k3');
    expected.set('k3', null);
    expectOk(await writer.cas('k4', expected.get('k4') ?? null, 'cas-4'), 'cas k4');
    expected.set('k4', 'cas-4');
    const writerLeader = (await c.leader())!;
    const leaderSnapshot = await waitFor('the leader to snapshot past 240', 20_000, async () => {
      const index = snapshotIndex(c, writerLeader);
      return index !== null && index > 240 ? index : null;
    });
    expect(leaderSnapshot).toBeGreaterThan(240);

    await c.restart(follower);
    const leaderStatus = (await c.status(writerLeader))!;
    const caughtUp = await waitFor(`${follower} to apply everything the leader committed`, 30_000, async () => {
      const s = await c.status(follower);
      return s !== null && s.lastApplied >= leaderStatus.commitIndex ? s : null;
    });
    expect(caughtUp.lastApplied).toBeGreaterThanOrEqual(leaderStatus.commitIndex);
    // By a snapshot stream, not entry by entry: the follower says it installed one, and its newest
    // durable snapshot is now past everything it had before it was stopped.
    const log = nodeLog(runDir, follower);
    expect(log).toMatch(/installing snapshot \d+@\d+ from n\d/);
    expect(log).toMatch(/installed snapshot \d+@\d+: lastApplied \d+/);
    expect(snapshotIndex(c, follower) ?? 0).toBeGreaterThan(Math.max(before, 240));
    expect(nodeLog(runDir, writerLeader)).toMatch(new RegExp(`snapshot \\d+@\\d+ to ${follower}: complete in \\d+ ms`));
    const streamed = new RegExp(`snapshot \\d+@\\d+ to ${follower}: streaming \\d+ bytes in (\\d+) chunks`).exec(
      nodeLog(runDir, writerLeader),
    );
    expect(Number(streamed?.[1] ?? 0), 'chunks in the stream').toBeGreaterThan(1);

    // The follower's own state machine (a local read at the follower) holds every value.
    const reader = newClient(c, follower);
    for (const [key, value] of expected) {
      const result = await reader.get(key);
      expect(expectOk(result, `get ${key} at ${follower}`), `${key} at ${follower}`).toBe(value);
    }
  }, 180_000);

  test('a node killed after snapshots restores its state machine from the snapshot and replays only the tail', async () => {
    ensureBuilt();
    runDir = mkdtempSync(join(tmpdir(), 'rift-snap-'));
    const c = await Cluster.start({
      nodeCount: 1,
      runDir,
      nodeFlags: ['--snapshot-every-entries', '25', '--snapshot-trailing-entries', '0'],
      net: 'direct',
      seed: 19,
    });
    cluster = c;
    const id = c.nodeIds[0]!;
    await waitFor('a leader', 20_000, () => c.leader());
    const writer = newClient(c);
    const expected = new Map<string, string>();
    for (let i = 0; i < 90; i++) {
      const key = `r${i % 30}`;
      expectOk(await writer.put(key, `v${i}`), `put ${key}`);
      expected.set(key, `v${i}`);
    }
    const snapshotAt = await waitFor('a snapshot past index 50', 20_000, async () => {
      const index = snapshotIndex(c, id);
      return index !== null && index > 50 ? index : null;
    });
    const lastApplied = (await c.status(id))!.lastApplied;
    expect(lastApplied).toBeGreaterThan(snapshotAt);
    await c.kill(id); // SIGKILL: no clean shutdown
    await c.restart(id);
    await waitFor('a leader after the restart', 20_000, () => c.leader());
    // It started from the snapshot and the log after it, not from the whole log.
    const restoring = [...nodeLog(runDir, id).matchAll(/restoring snapshot (\d+)@\d+ \(\d+ bytes\), then (\d+) log entries/g)];
    expect(restoring.length).toBe(1);
    const [, restoredIndex, tailEntries] = restoring[0]!;
    expect(Number(restoredIndex)).toBeGreaterThanOrEqual(snapshotAt);
    expect(Number(tailEntries)).toBeLessThan(lastApplied);
    // And the state machine, client sessions included, is what it was.
    const reader = newClient(c);
    for (const [key, value] of expected) expect(expectOk(await reader.get(key), `get ${key}`)).toBe(value);
    const retried = await writer.put('after-restart', 'x');
    expect(expectOk(retried, 'put after restart')).toBe('x');
  }, 120_000);

  test('a snapshot of a state several event-loop turns long is built while writes go on: each file is the state at its index, and a restart restores it', async () => {
    ensureBuilt();
    runDir = mkdtempSync(join(tmpdir(), 'rift-snap-'));
    // A state of about 3.3 MB: the host builds its text 1 MiB per turn (kv/snapshot-writer.ts), and the writers below
    // keep the state machine applying meanwhile. A snapshot every 150 entries: several are taken while they write.
    const c = await Cluster.start({
      nodeCount: 1,
      runDir,
      nodeFlags: ['--snapshot-every-entries', '150', '--snapshot-trailing-entries', '0'],
      net: 'direct',
      seed: 20,
    });
    cluster = c;
    const id = c.nodeIds[0]!;
    await waitFor('a leader', 20_000, () => c.leader());
    const filler = newClient(c);
    const pad = 'p'.repeat(8_000); // under the default value limit of 8,192 bytes
    for (let i = 0; i < 420; i++) expectOk(await filler.put(`fill${i}`, `${pad}${i}`), `put fill${i}`);
    // Each writer puts its own key, so in a consistent snapshot that key holds exactly the value its session says it
    // last wrote. A value written after the snapshot's index and leaked into it breaks that.
    const writers = Array.from({ length: 6 }, () => newClient(c));
    const last = new Map<string, string>();
    const writes = writers.map(async (w, n) => {
      for (let seq = 1; seq <= 120; seq++) {
        const value = `w${n}-${seq}-${pad.slice(0, 2_000)}`;
        expectOk(await w.put(`own${n}`, value), `put own${n}`);
        last.set(`own${n}`, value);
      }
    });
    await Promise.all(writes);
    const log = nodeLog(runDir, id);
    const saved = [...log.matchAll(/snapshot (\d+)@\d+ saved \((\d+) bytes\)/g)].map((m) => ({ index: Number(m[1]), bytes: Number(m[2]) }));
    expect(saved.filter((s) => s.bytes > 2 * 1024 * 1024).length, 'snapshots of more than two turns').toBeGreaterThanOrEqual(2);
    expect(log).not.toMatch(/past its bound|abandoned/);
    let checkedSessions = 0;
    for (const name of ['snapshot', 'snapshot.prev']) {
      const file = join(c.dataDir(id), name);
      if (!existsSync(file)) continue;
      const decoded = decodeSnapshot(readFileSync(file));
      if (!decoded.ok) throw new Error(`${name}: ${decoded.reason}`);
      const kv = JSON.parse(decoded.snapshot.data.toString('utf8')) as {
        lastApplied: number;
        data: [string, string][];
        sessions: { lastUsedIndex: number; result: { status: string; value?: string | null } }[];
      };
      expect(kv.lastApplied, `${name}: the state's index is the file's`).toBe(decoded.snapshot.meta.index);
      const data = new Map(kv.data);
      for (const session of kv.sessions) {
        expect(session.lastUsedIndex).toBeLessThanOrEqual(kv.lastApplied);
        const value = session.result.value;
        if (session.result.status !== 'ok' || typeof value !== 'string' || !value.startsWith('w')) continue;
        const key = `own${value.slice(1, value.indexOf('-'))}`;
        expect(data.get(key), `${name}: ${key} against its writer's session`).toBe(value);
        checkedSessions++;
      }
    }
    expect(checkedSessions, 'writers whose sessions the snapshot files hold').toBeGreaterThan(0);
    await c.kill(id);
    await c.restart(id);
    await waitFor('a leader after the restart', 20_000, () => c.leader());
    expect(nodeLog(runDir, id)).toMatch(/restoring snapshot \d+@\d+ \(\d+ bytes\)/);
    const reader = newClient(c);
    for (const [key, value] of last) expect(expectOk(await reader.get(key), `get ${key}`)).toBe(value);
    expect(expectOk(await reader.get('fill419'), 'get fill419')).toBe(`${pad}419`);
  }, 180_000);

  // A follower killed in the middle of a stream had acknowledged chunks it no longer held; once every chunk was
  // acknowledged the leader resent only the last, which drew no progress, and the stream gave up after 10 timeouts:
  // caught up 2.3-2.7 s after its restart here, a stream given up every time in 4 of 4 runs (2026-12-07; 0.6-0.75 s
  // with the fix, node start-up included). Found by the model checker (test/mc/snapshot-chunks.test.ts).
  test('a follower killed in the middle of a snapshot stream gets its snapshot without the stream giving up', async () => {
    ensureBuilt();
    runDir = mkdtempSync(join(tmpdir(), 'rift-snap-'));
    const dir = runDir;
    const c = await Cluster.start({
      nodeCount: 3,
      runDir,
      nodeFlags: ['--snapshot-every-entries', '40', '--snapshot-trailing-entries', '5'],
      net: 'relay',
      seed: 31,
      // ~8.6 KB of snapshot in 16-byte chunks: a stream of ~540 datagrams, long enough to kill the follower inside it.
      snapshotChunkBytes: 16,
    });
    cluster = c;
    const leader = await waitFor('a leader', 20_000, () => c.leader());
    const writer = newClient(c, leader);
    const value = 'v'.repeat(150);
    for (let i = 0; i < 60; i++) expectOk(await writer.put(`k${i % 50}`, `${value}${i}`), `put ${i}`);
    const follower = c.nodeIds.find((id) => id !== leader)!;
    await c.kill(follower);
    for (let i = 60; i < 200; i++) expectOk(await writer.put(`k${i % 50}`, `${value}${i}`), `put ${i}`);
    const streams = (): number => (nodeLog(dir, leader).match(new RegExp(`to ${follower}: streaming`, 'g')) ?? []).length;
    const before = streams();
    await c.restart(follower);
    // Seen within a poll (50 ms) of its start, into a stream of ~400 ms: some chunks acknowledged, then the staging gone.
    await waitFor(`a stream to ${follower}`, 20_000, async () => (streams() > before ? true : null));
    await c.kill(follower);
    await c.restart(follower);
    const target = (await c.status(leader))!.commitIndex;
    await waitFor(`${follower} caught up`, 30_000, async () => {
      const s = await c.status(follower, 300);
      return s !== null && s.lastApplied >= target ? s : null;
    });
    expect(nodeLog(dir, leader)).not.toMatch(new RegExp(`snapshot to ${follower}: no acknowledgement in \\d+ retransmissions`));
    expect(nodeLog(dir, leader)).toMatch(new RegExp(`snapshot \\d+@\\d+ to ${follower}: complete in`));
  }, 120_000);
});
