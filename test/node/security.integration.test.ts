/**
 * The security model against real `rift-node` processes on loopback
 * (issue 15 defects 5 and 6, item 8): forged peer messages made with the
 * client key, replayed client datagrams (also after a restart), a reused
 * clientId, and the binary's exit status when it cannot listen. Every wait
 * is for a condition with a deadline.
 */
import { spawnSync } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Cluster } from '../../harness/cluster.js';
import { RiftClient } from '../../node/client.js';
import { NODE_EXIT } from '../../node/exit-codes.js';
import type { ClientMessage, NodeStatus } from '../../node/protocol.js';
import type { AppendEntries } from '../../node/raft/types.js';
import { ClientEndpoint } from '../../node/transport/client-endpoint.js';
import { encodeEnvelope } from '../../node/transport/codec.js';
import { KeyRing, deriveClientKey } from '../../node/transport/keys.js';
import { ensureBuilt, repoRoot } from '../support/build.js';

async function waitFor<T>(what: string, deadlineMs: number, probe: () => Promise<T | null | undefined> | T | null | undefined): Promise<T> {
  const until = Date.now() + deadlineMs;
  while (Date.now() < until) {
    const v = await probe();
    if (v !== null && v !== undefined && v !== false) return v;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}`);
}

describe('the security model on a live 3-node cluster', () => {
  let runDir: string;
  let cluster: Cluster;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    ensureBuilt();
    runDir = mkdtempSync(join(tmpdir(), 'rift-security-'));
    cluster = await Cluster.start({ nodeCount: 3, runDir, nodeFlags: [], net: 'direct', seed: 3 });
  });

  afterAll(async () => {
    for (const s of sockets) s.close();
    await cluster?.stop();
    rmSync(runDir, { recursive: true, force: true });
  });

  async function rawSocket(): Promise<{ socket: Socket; inbox: Buffer[] }> {
    const socket = createSocket('udp4');
    const inbox: Buffer[] = [];
    socket.on('message', (m) => inbox.push(m));
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
    sockets.push(socket);
    return { socket, inbox };
  }

  const addressOf = (id: string): { host: string; port: number } => cluster.config.nodes.find((n) => n.id === id)!;
  const status = async (id: string): Promise<NodeStatus> => waitFor(`status of ${id}`, 10_000, () => cluster.status(id));

  test('an AppendEntries "from" a peer made with the client key is dropped by a live follower, whose log and term do not move', async () => {
    const leader = await waitFor('a leader', 15_000, () => cluster.waitForLeader(1000));
    const follower = cluster.nodeIds.find((id) => id !== leader)!;
    // A follower that has not yet heard from the new leader is still at an older term (CI saw 0 -> 1): wait until it follows.
    const before = await waitFor(`${follower} to follow ${leader}`, 10_000, async () => {
      const s = await cluster.status(follower);
      return s !== null && s.leaderId === leader ? s : null;
    });
    const { socket } = await rawSocket();
    const body: AppendEntries = {
      type: 'append_entries',
      term: before.currentTerm + 100,
      from: leader,
      to: follower,
      prevLogIndex: 0,
      prevLogTerm: 0,
      entries: [{ term: before.currentTerm + 100, index: 1, type: 'command', data: 'forged' }],
      leaderCommit: 1,
      seq: 1,
    };
    const clientKey = deriveClientKey(cluster.config.clientSecret);
    const forged = encodeEnvelope({ cluster: cluster.config.cluster, from: leader, to: follower, body }, clientKey, {
      senderIncarnation: Date.now() + 1_000_000,
      receiverIncarnation: 0,
      counter: 1,
      sentAtMs: Date.now(),
    });
    if (!forged.ok) throw new Error(forged.detail);
    // As sent (peer domain, so verified under the leader's peer key), and relabelled into the client domain.
    const relabelled = Buffer.from(forged.datagram);
    relabelled[5] = 2;
    const { createHmac } = await import('node:crypto');
    createHmac('sha256', clientKey)
      .update(relabelled.subarray(0, relabelled.length - 32))
      .digest()
      .copy(relabelled, relabelled.length - 32);
    const to = addressOf(follower);
    socket.send(forged.datagram, to.port, to.host);
    socket.send(relabelled, to.port, to.host);
    const after = await waitFor('both forgeries counted', 10_000, async () => {
      const s = await cluster.status(follower);
      return s !== null && (s.dropped['bad_mac'] ?? 0) >= 1 && (s.dropped['wrong_domain'] ?? 0) >= 1 ? s : null;
    });
    expect(after.currentTerm).toBe(before.currentTerm);
    expect(after.lastLogIndex).toBeLessThanOrEqual(before.lastLogIndex + 1); // at most the leader's own traffic
    expect(await cluster.waitForLeader(5000)).toBe(leader);
  });

  test('a replayed client datagram is refused (and gets no answer); after the node restarts it is not served either', async () => {
    const leader = await waitFor('a leader', 15_000, () => cluster.waitForLeader(1000));
    const { socket, inbox } = await rawSocket();
    const endpoint = new ClientEndpoint({
      cluster: cluster.config.cluster,
      sender: `replay-${process.pid}`,
      instance: 4242,
      keys: KeyRing.forClient(cluster.config.clientSecret),
      freshnessMs: cluster.config.clientFreshnessMs,
      wallClockMs: () => Date.now(),
    });
    const to = addressOf(leader);
    const send = (body: ClientMessage): Buffer => {
      const sealed = endpoint.seal(leader, body);
      if (!sealed.ok) throw new Error(sealed.detail);
      socket.send(sealed.datagram, to.port, to.host);
      return sealed.datagram;
    };
    const opened = (): ClientMessage[] =>
      inbox
        .map((d) => endpoint.open(d))
        .filter((o) => o.ok)
        .map((o) => (o as { message: ClientMessage }).message);
    const putOld: ClientMessage = {
      type: 'client_request',
      clientId: `replay-${process.pid}`,
      instance: 4242,
      seq: 1,
      op: { type: 'put', key: 'replayed', value: 'OLD' },
    };
    send(putOld);
    await waitFor('a retry answer', 10_000, () => opened().some((m) => m.type === 'retry'));
    const captured = send(putOld);
    await waitFor('the put answered', 10_000, () => opened().some((m) => m.type === 'client_response'));
    const answered = opened().length;
    const droppedBefore = (await status(leader)).dropped['replayed'] ?? 0;
    // Replay it, then ask something fresh: the fresh answer comes after any answer to the replay would have.
    socket.send(captured, to.port, to.host);
    send({ type: 'status_request', requestId: 'after-replay' });
    await waitFor('the status answer', 10_000, () => opened().some((m) => m.type === 'status_response'));
    expect(
      opened()
        .slice(answered)
        .map((m) => m.type),
    ).toEqual(['status_response']);
    expect((await status(leader)).dropped['replayed']).toBe(droppedBefore + 1);

    // The node restarts: its replay windows are gone, but its incarnation is new.
    await cluster.kill(leader);
    await cluster.restart(leader);
    await status(leader);
    const beforeRestartReplay = opened().length;
    socket.send(captured, to.port, to.host);
    const restarted = await waitFor('the restarted node to count the replay', 10_000, async () => {
      const s = await cluster.status(leader);
      return s !== null && (s.dropped['stale_receiver'] ?? 0) >= 1 ? s : null;
    });
    expect(restarted.dropped['stale_receiver']).toBeGreaterThanOrEqual(1);
    await waitFor('its small answer', 10_000, () => opened().length > beforeRestartReplay);
    // A retry (token and incarnation) or, if it is no longer the leader, a redirect: never the put served.
    const answers = opened().slice(beforeRestartReplay);
    expect(answers).toHaveLength(1);
    expect(
      answers[0]!.type === 'retry' || (answers[0]!.type === 'client_response' && answers[0]!.outcome.status === 'not_leader'),
      JSON.stringify(answers),
    ).toBe(true);
  });

  test("a second client reusing a clientId gets a definite fail (session_conflict), never the first one's result", async () => {
    await waitFor('a leader', 15_000, () => cluster.waitForLeader(1000));
    const id = `reused-${process.pid}`;
    const first = new RiftClient({ config: cluster.config, clientId: id, timeoutMs: 5000, seed: 1 });
    const second = new RiftClient({ config: cluster.config, clientId: id, timeoutMs: 5000, seed: 2 });
    try {
      expect(await first.put('dk', 'a1')).toEqual({ type: 'ok', value: 'a1' });
      expect(await first.put('dk2', 'a2')).toEqual({ type: 'ok', value: 'a2' });
      expect(await first.put('dk3', 'a3')).toEqual({ type: 'ok', value: 'a3' });
      for (let i = 0; i < 3; i++) {
        const r = await second.put('dk', `fourth-${i}`);
        expect(r.type).toBe('fail');
        expect(r.type === 'fail' ? r.error : '').toMatch(/^session_conflict: /);
      }
      expect(await first.get('dk')).toEqual({ type: 'ok', value: 'a1' });
    } finally {
      first.close();
      second.close();
    }
  });
});

describe('rift-node refuses an address it cannot listen on with exit 2 and one line (item 8)', () => {
  let dir: string;
  beforeAll(() => {
    ensureBuilt();
    dir = mkdtempSync(join(tmpdir(), 'rift-exit-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function runNode(config: Record<string, unknown>, name: string): { status: number | null; stderr: string } {
    const path = join(dir, `${name}.json`);
    writeFileSync(path, JSON.stringify(config));
    const r = spawnSync(process.execPath, [join(repoRoot, 'dist', 'node', 'main.js'), '--config', path, '--id', 'n1'], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    return { status: r.status, stderr: r.stderr };
  }

  const base = (host: string, port: number): Record<string, unknown> => ({
    cluster: 'exit-test',
    peerSecret: 'exit-test-peer-secret-0123456789',
    clientSecret: 'exit-test-client-secret-0123456789',
    dataDir: join(dir, 'data'),
    nodes: [{ id: 'n1', host, port }],
  });

  function expectUsageLine(r: { status: number | null; stderr: string }, pattern: RegExp): void {
    expect(r.status).toBe(NODE_EXIT.usage);
    const lines = r.stderr.trim().split('\n');
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(pattern);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  }

  test('a busy port', async () => {
    const holder = createSocket('udp4');
    await new Promise<void>((r) => holder.bind(0, '127.0.0.1', () => r()));
    try {
      expectUsageLine(
        runNode(base('127.0.0.1', holder.address().port), 'busy'),
        /^rift-node: cannot listen on UDP 127\.0\.0\.1:\d+: the port is in use/,
      );
    } finally {
      holder.close();
    }
  });

  test("an address that is not this machine's", () => {
    expectUsageLine(
      runNode(base('192.0.2.1', 7001), 'nonlocal'),
      /^rift-node: cannot listen on UDP 192\.0\.2\.1:7001: 192\.0\.2\.1 is not an address of this machine/,
    );
  });

  test('a host name that does not resolve', () => {
    expectUsageLine(
      runNode(base('no-such-host.invalid', 7001), 'unresolvable'),
      /^rift-node: cannot listen on UDP no-such-host\.invalid:7001: the host name "no-such-host\.invalid" does not resolve/,
    );
  });

  test('the old single "secret" is refused with what to do instead', () => {
    const { peerSecret: _p, clientSecret: _c, ...rest } = base('127.0.0.1', 7001);
    const config = { ...rest, secret: 'an-old-style-shared-secret' };
    expectUsageLine(runNode(config, 'old-secret'), /"secret" is no longer accepted.*"peerSecret".*"clientSecret"/);
  });
});
