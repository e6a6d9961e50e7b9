/**
 * NodeHost's membership admin handling (issue 18): a change is proposed once
 * per requestId and answered when its entry commits; a retry is answered
 * from the change in flight or its remembered answer, never proposed again;
 * refusals are typed; and the transport is told whom to hear as the
 * configuration changes (HostIo.setPeers). A one-node cluster with a spare
 * identity, on a fake clock and memory storage (the real processes:
 * test/node/membership.integration.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { AdjustableClock } from '../../node/clock/adjustable-clock.js';
import { FakeReal } from './clock/fake-real.js';
import { validateConfig } from '../../node/config.js';
import { noUnsafeFlags } from '../../node/unsafe-flags.js';
import type { AdminCommand, AdminMessage, AdminOutcome } from '../../node/protocol.js';
import { NodeHost, type ReplyAddress } from '../../node/host.js';
import { openMemoryStorage } from '../../node/storage/memory-storage.js';

const replyTo: ReplyAddress = { host: '127.0.0.1', port: 9999, sender: 'admin-test', instance: 1 };

async function settle(real: FakeReal): Promise<void> {
  // Storage completes through promises: let them run, then let the clock move a tick.
  for (let i = 0; i < 20; i++) {
    await Promise.resolve();
    real.advance(1);
  }
}

/** Persists that wait until released: a leader whose noop is not yet durable (so not committed). */
interface HeldDisk {
  held: boolean;
  readonly waiting: (() => void)[];
}

async function leaderHost(
  disk: HeldDisk = { held: false, waiting: [] },
): Promise<{ host: NodeHost; real: FakeReal; answers: AdminMessage[]; peers: (readonly string[] | null)[] }> {
  const config = validateConfig(
    {
      cluster: 'host-admin-test',
      peerSecret: 'host-admin-peer-secret-0123456789',
      clientSecret: 'host-admin-client-secret-0123456789',
      dataDir: '/nonexistent',
      nodes: [{ id: 'n1', host: '127.0.0.1', port: 7001 }],
      spareNodes: [{ id: 'n4', host: '127.0.0.1', port: 7004 }],
    },
    '/',
  );
  const real = new FakeReal();
  const clock = new AdjustableClock({ realNowMs: () => real.nowMs, scheduler: real });
  const answers: AdminMessage[] = [];
  const peers: (readonly string[] | null)[] = [];
  const { storage, stored } = openMemoryStorage();
  const host = new NodeHost({
    id: 'n1',
    config,
    unsafe: noUnsafeFlags,
    stored,
    seed: 3,
    io: {
      storage: {
        ...storage,
        persist: (hardState, entries, options) =>
          disk.held ? new Promise<void>((resolve) => disk.waiting.push(resolve)) : storage.persist(hardState, entries, options),
      },
      clock,
      sendPeer: () => undefined,
      sendClient: () => undefined,
      sendAdmin: (_to, message) => answers.push(message),
      setPeers: (p) => peers.push(p),
      log: () => undefined,
      droppedCounts: () => ({}),
    },
  });
  host.start();
  for (let ms = 0; ms < 1000 && host.raft().status().role !== 'leader'; ms += 10) {
    real.advance(10);
    await settle(real);
  }
  expect(host.raft().status().role).toBe('leader');
  // Ongaro's rule: the leader's noop must commit before a change is accepted.
  if (!disk.held) await settle(real);
  return { host, real, answers, peers };
}

function ask(host: NodeHost, requestId: string, command: AdminCommand): void {
  host.onAdminMessage({ type: 'admin_request', requestId, command }, replyTo);
}

function outcomes(answers: readonly AdminMessage[], requestId: string): AdminOutcome[] {
  return answers.flatMap((m) => (m.type === 'admin_response' && m.requestId === requestId ? [m.outcome] : []));
}

describe('NodeHost admin requests (issue 18)', () => {
  it('add: proposed once, answered on commit; a retry is answered from memory, a new request is refused', async () => {
    const { host, real, answers, peers } = await leaderHost();
    expect(peers).toEqual([[]]);
    ask(host, 'r1', { type: 'add', node: 'n4' });
    ask(host, 'r1', { type: 'add', node: 'n4' }); // a retry while in flight: no second proposal
    await settle(real);
    const first = outcomes(answers, 'r1');
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({ status: 'ok', membership: { voters: ['n1'], learners: ['n4'], configurationCommitted: true } });
    expect(
      host
        .raft()
        .log()
        .filter((e) => e.type === 'config'),
    ).toHaveLength(1);
    // The learner is heard as soon as its entry is appended.
    expect(peers[peers.length - 1]).toEqual(['n4']);
    ask(host, 'r1', { type: 'add', node: 'n4' });
    expect(outcomes(answers, 'r1')).toHaveLength(2);
    expect(outcomes(answers, 'r1')[1]).toEqual(first[0]);
    ask(host, 'r2', { type: 'add', node: 'n4' });
    expect(outcomes(answers, 'r2')).toEqual([{ status: 'refused', message: 'n4 is already a learner' }]);
    expect(
      host
        .raft()
        .log()
        .filter((e) => e.type === 'config'),
    ).toHaveLength(1);
  });

  it('promote is refused until the learner caught up; status shows its match index; remove takes it out of the peers heard', async () => {
    const { host, real, answers, peers } = await leaderHost();
    ask(host, 'a', { type: 'add', node: 'n4' });
    await settle(real);
    ask(host, 'p', { type: 'promote', node: 'n4' });
    expect(outcomes(answers, 'p')).toEqual([{ status: 'refused', message: expect.stringMatching(/learner n4 has not caught up/) }]);
    ask(host, 's', { type: 'status' });
    const status = outcomes(answers, 's')[0];
    expect(status).toMatchObject({ status: 'ok' });
    if (status?.status !== 'ok') throw new Error('no status');
    expect(status.membership.members).toEqual([
      { id: 'n1', role: 'voter', matchIndex: status.membership.lastLogIndex, caughtUp: true },
      { id: 'n4', role: 'learner', matchIndex: 0, caughtUp: false },
    ]);
    ask(host, 'r', { type: 'remove', node: 'n4' });
    await settle(real);
    expect(outcomes(answers, 'r')).toMatchObject([{ status: 'ok', membership: { voters: ['n1'], learners: [] } }]);
    expect(peers[peers.length - 1]).toEqual([]);
  });

  it('an add of an identity without an address is refused; the last voter cannot be removed; a follower redirects', async () => {
    const { host, answers } = await leaderHost();
    ask(host, 'x', { type: 'add', node: 'n9' });
    expect(outcomes(answers, 'x')).toEqual([{ status: 'refused', message: expect.stringMatching(/n9 has no address/) }]);
    ask(host, 'y', { type: 'remove', node: 'n1' });
    expect(outcomes(answers, 'y')).toEqual([{ status: 'refused', message: 'n1 is the last voter' }]);
    host.onPeerMessage({
      type: 'append_entries',
      term: 9,
      from: 'n4',
      to: 'n1',
      prevLogIndex: 0,
      prevLogTerm: 0,
      entries: [],
      leaderCommit: 0,
      seq: 1,
    });
    ask(host, 'z', { type: 'status' });
    expect(outcomes(answers, 'z')).toEqual([{ status: 'not_leader', leaderHint: 'n4' }]);
  });
});

describe('NodeHost admin requests to a leader new in its term (Ongaro 2015)', () => {
  it('are answered unavailable (not_ready), not refused, so the admin retries; the same request passes once the noop commits', async () => {
    const disk: HeldDisk = { held: true, waiting: [] };
    const { host, real, answers } = await leaderHost(disk);
    expect(host.raft().status().commitIndex).toBe(0);
    ask(host, 'early', { type: 'add', node: 'n4' });
    // Refused would be definite (the harness and people stop there); this passes on its own within a round trip.
    expect(outcomes(answers, 'early')).toEqual([
      { status: 'unavailable', reason: expect.stringMatching(/^not_ready: no entry of term \d+ is committed yet/) },
    ]);
    disk.held = false;
    for (const release of disk.waiting.splice(0)) release();
    await settle(real);
    ask(host, 'early', { type: 'add', node: 'n4' }); // the admin's retry: same requestId
    await settle(real);
    expect(outcomes(answers, 'early')[1]).toMatchObject({ status: 'ok', membership: { learners: ['n4'] } });
  });
});

describe('NodeHost: a removed node is told and reports it once (issue 18, §4.2.2)', () => {
  it("a leader's farewell (AppendEntries.removedAt) makes the host log one line and call onRemoved once, after the Ready", async () => {
    const config = validateConfig(
      {
        cluster: 'host-removed-test',
        peerSecret: 'host-removed-peer-secret-0123456789',
        clientSecret: 'host-removed-client-secret-0123456789',
        dataDir: '/nonexistent',
        nodes: [
          { id: 'n1', host: '127.0.0.1', port: 7001 },
          { id: 'n2', host: '127.0.0.1', port: 7002 },
          { id: 'n3', host: '127.0.0.1', port: 7003 },
        ],
      },
      '/',
    );
    const real = new FakeReal();
    const clock = new AdjustableClock({ realNowMs: () => real.nowMs, scheduler: real });
    const lines: string[] = [];
    const { storage, stored } = openMemoryStorage();
    const host = new NodeHost({
      id: 'n3',
      config,
      unsafe: noUnsafeFlags,
      stored,
      seed: 5,
      io: { storage, clock, sendPeer: () => undefined, sendClient: () => undefined, log: (l) => lines.push(l), droppedCounts: () => ({}) },
    });
    const removals: unknown[] = [];
    host.onRemoved = (removal) => removals.push(removal);
    host.start();
    const farewell = {
      type: 'append_entries' as const,
      term: 2,
      from: 'n1',
      to: 'n3',
      prevLogIndex: 7,
      prevLogTerm: 2,
      entries: [],
      leaderCommit: 7,
      seq: 9,
      removedAt: 7,
    };
    // An ordinary heartbeat first: nothing to report.
    const { removedAt: _, ...heartbeat } = farewell;
    host.onPeerMessage({ ...heartbeat, prevLogIndex: 0, prevLogTerm: 0, leaderCommit: 0 });
    await settle(real);
    expect(removals).toEqual([]);
    host.onPeerMessage(farewell);
    await settle(real);
    expect(removals).toEqual([{ index: 7, leaderId: 'n1', term: 2 }]);
    expect(lines.filter((l) => l.startsWith('removed from the cluster'))).toEqual([
      'removed from the cluster: the configuration committed at index 7 does not include n3 (told by the leader n1, term 2); shutting down',
    ]);
    // A second farewell (the leader sends up to three): reported once only.
    host.onPeerMessage({ ...farewell, seq: 10 });
    await settle(real);
    expect(removals).toHaveLength(1);
  });
});
