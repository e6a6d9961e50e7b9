/**
 * NodeHost's logical time: it sleeps until the next tick that can act
 * (RaftNode.ticksUntilDue) and runs every due tick before the next input.
 * A fake real-time source drives an AdjustableClock, so the tests control
 * exactly when timers fire and when inputs arrive (the storage keeps nothing:
 * what is under test is the timing, not durability).
 */
import { describe, expect, it } from 'vitest';
import { AdjustableClock } from '../../node/clock/adjustable-clock.js';
import { FakeReal } from './clock/fake-real.js';
import { validateConfig } from '../../node/config.js';
import { noUnsafeFlags, type UnsafeFlags } from '../../node/unsafe-flags.js';
import type { ClientMessage, ClientRequest } from '../../node/protocol.js';
import { NodeHost } from '../../node/host.js';
import { MAX_HELD_REQUESTS } from '../../node/held-requests.js';
import type { Entry, HardState, RaftMessage } from '../../node/raft/types.js';
import { openMemoryStorage } from '../../node/storage/memory-storage.js';
import type { PersistOptions, RaftStorage } from '../../node/storage/storage.js';

function setup(options: { readMode?: 'readindex' | 'lease'; unsafe?: UnsafeFlags; storage?: RaftStorage; real?: FakeReal } = {}): {
  host: NodeHost;
  real: FakeReal;
  sent: RaftMessage[];
  replies: ClientMessage[];
} {
  const config = validateConfig(
    {
      cluster: 'host-test',
      peerSecret: 'host-test-peer-secret-0123456789abcdef',
      clientSecret: 'host-test-client-secret-0123456789abcdef',
      dataDir: '/nonexistent',
      electionTimeoutMsMin: 150,
      electionTimeoutMsMax: 300,
      heartbeatIntervalMs: 50,
      tickMs: 10,
      readMode: options.readMode ?? 'readindex',
      nodes: [1, 2, 3].map((i) => ({ id: `n${i}`, host: '127.0.0.1', port: 7000 + i })),
    },
    '/',
  );
  const real = options.real ?? new FakeReal();
  const clock = new AdjustableClock({ realNowMs: () => real.nowMs, scheduler: real });
  const sent: RaftMessage[] = [];
  const replies: ClientMessage[] = [];
  const { storage: memory, stored } = openMemoryStorage();
  const storage = options.storage ?? memory;
  const host = new NodeHost({
    id: 'n1',
    config,
    unsafe: options.unsafe ?? noUnsafeFlags,
    stored,
    seed: 7,
    io: {
      storage,
      clock,
      sendPeer: (_to, message) => sent.push(message),
      sendClient: (_to, message) => replies.push(message),
      log: () => undefined,
      droppedCounts: () => ({}),
    },
  });
  host.start();
  return { host, real, sent, replies };
}

function heartbeat(term: number): RaftMessage {
  return { type: 'append_entries', term, from: 'n2', to: 'n1', prevLogIndex: 0, prevLogTerm: 0, entries: [], leaderCommit: 0, seq: 1 };
}

const voteRequests = (sent: readonly RaftMessage[]): RaftMessage[] => sent.filter((m) => m.type === 'request_vote');

describe('NodeHost ticks', () => {
  it('a follower hearing its leader wakes about once per election timeout, not every tick', () => {
    const { host, real, sent } = setup();
    for (let ms = 0; ms < 3000; ms += 50) {
      host.onPeerMessage(heartbeat(1));
      real.advance(50);
    }
    expect(host.raft().status()).toMatchObject({ role: 'follower', currentTerm: 1, leaderId: 'n2' });
    expect(voteRequests(sent)).toHaveLength(0);
    // One timer per 10 ms tick would be 300; a wake-up per election timeout (>= 150 ms) is at most 20, plus re-arms.
    expect(real.timersSet).toBeLessThanOrEqual(30);
    expect(real.timersSet).toBeGreaterThanOrEqual(3);
  });

  it('without a leader it campaigns within the election timeout, through its wake-up timer alone', () => {
    const { host, real, sent } = setup();
    let firstCampaignMs: number | null = null;
    for (let ms = 1; ms <= 400 && firstCampaignMs === null; ms++) {
      real.advance(1);
      if (voteRequests(sent).length > 0) firstCampaignMs = real.nowMs;
    }
    expect(firstCampaignMs).not.toBeNull();
    expect(firstCampaignMs!).toBeGreaterThanOrEqual(150);
    expect(firstCampaignMs!).toBeLessThanOrEqual(300);
    expect(host.raft().status().role).toBe('pre_candidate');
    expect(voteRequests(sent)).toHaveLength(2); // a pre-vote request to each peer
    real.advance(49);
    expect(voteRequests(sent)).toHaveLength(2);
    real.advance(1); // unanswered: asked again one heartbeat interval later (§5.1 retries)
    expect(voteRequests(sent)).toHaveLength(4);
  });

  it('runs the due ticks before an input, even when no timer has fired yet', () => {
    const { host, real, sent } = setup();
    real.jump(301); // past any election timeout, but no timer runs
    expect(host.raft().status().role).toBe('follower');
    host.onPeerMessage({ type: 'request_vote', term: 1, from: 'n3', to: 'n1', lastLogIndex: 0, lastLogTerm: 0, preVote: true });
    // The ticks came first: n1 timed out and campaigns (pre-vote) before it answers n3.
    expect(host.raft().status().role).toBe('pre_candidate');
    expect(voteRequests(sent)).toHaveLength(2);
  });

  it('after a late wake-up it acts once and drops the rest of the backlog (no burst of campaigns)', () => {
    const { host, real, sent } = setup();
    real.jump(10_000); // a paused process: 1,000 ticks late
    real.advance(0);
    expect(host.raft().status().role).toBe('pre_candidate');
    expect(voteRequests(sent)).toHaveLength(2);
    real.advance(9); // less than a tick later: nothing more is due
    expect(voteRequests(sent)).toHaveLength(2);
    real.advance(50); // the pre-candidate's retry every heartbeat interval
    expect(voteRequests(sent)).toHaveLength(4);
  });
});

/** Makes the host's core leader of term 1 with its noop committed, by answering its own messages as n2 would. */
async function leadWithCommittedNoop(host: NodeHost, sent: RaftMessage[]): Promise<void> {
  host.raft().campaign();
  host.onPeerMessage(heartbeatAnswerNoop()); // any input makes the host drain the core's Ready
  await settle();
  for (let round = 0; round < 3 && host.raft().status().role !== 'leader'; round++) {
    for (const m of sent.splice(0)) {
      if (m.type === 'request_vote' && m.to === 'n2') {
        host.onPeerMessage({ type: 'request_vote_response', term: m.term, from: 'n2', to: 'n1', voteGranted: true, preVote: m.preVote });
      }
    }
    await settle();
  }
  expect(host.raft().status().role).toBe('leader');
  await ackEverything(host, sent);
  expect(host.raft().status().commitIndex).toBe(1);
}

/** `peers` (n2 unless told) answer every AppendEntries n1 sent them so far, successfully. */
async function ackEverything(host: NodeHost, sent: RaftMessage[], peers: readonly string[] = ['n2']): Promise<void> {
  for (const m of sent.splice(0)) {
    if (m.type !== 'append_entries' || !peers.includes(m.to)) continue;
    const matchIndex = m.prevLogIndex + m.entries.length;
    host.onPeerMessage({
      type: 'append_entries_response',
      term: m.term,
      from: m.to,
      to: 'n1',
      success: true,
      matchIndex,
      conflictTerm: null,
      conflictIndex: 0,
      seq: m.seq,
    });
  }
  await settle();
}

/** Lets the host's storage writes (promises) complete: the drain loop resumes after each. No time passes. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** A message the core ignores (an answer from a stale term): an input that only makes the host drain. */
function heartbeatAnswerNoop(): RaftMessage {
  return { type: 'request_vote_response', term: 0, from: 'n3', to: 'n1', voteGranted: false, preVote: true };
}

const get = (seq: number): ClientMessage => ({ type: 'client_request', clientId: 'c1', instance: 1, seq, op: { type: 'get', key: 'k' } });
const client = { host: '127.0.0.1', port: 9999, sender: 'c1', instance: 1 };

describe('NodeHost lease reads and process pauses (thesis §6.4.1; issue 15 defect 2)', () => {
  for (const leaseAfterPause of [false, true]) {
    it(`a leader that slept through its lease does not serve a read from it${leaseAfterPause ? ' (unsafe leaseAfterPause: it does)' : ''}`, async () => {
      const { host, real, sent, replies } = setup({ readMode: 'lease', unsafe: { ...noUnsafeFlags, leaseAfterPause } });
      await leadWithCommittedNoop(host, sent);
      // Within the lease: answered at once, no quorum round.
      host.onClientMessage(get(1), client);
      await settle();
      expect(replies.map((r) => r.type === 'client_response' && r.seq)).toEqual([1]);
      // The process is stopped for 10 s (SIGSTOP, a GC pause): meanwhile the
      // others could elect a new leader and commit. It wakes to a read.
      real.jump(10_000);
      sent.length = 0;
      host.onClientMessage(get(2), client);
      await settle();
      const answered = replies.filter((r) => r.type === 'client_response' && r.seq === 2);
      expect(answered).toHaveLength(leaseAfterPause ? 1 : 0);
      if (!leaseAfterPause) {
        // It confirms leadership with a round first; n2's answer completes it.
        expect(sent.some((m) => m.type === 'append_entries' && m.to === 'n2')).toBe(true);
        await ackEverything(host, sent);
        expect(replies.filter((r) => r.type === 'client_response' && r.seq === 2)).toHaveLength(1);
      }
    });
  }
});

/** A storage whose persists complete only when the test says so; it records each call in order. */
class GatedStorage implements RaftStorage {
  readonly calls: { hardState: HardState | null; indexes: number[]; inBackground: boolean; done: () => void; fail: (e: Error) => void }[] =
    [];
  gated = false;

  persist(hardState: HardState | null, entries: readonly Entry[], options?: PersistOptions): Promise<void> {
    return new Promise((resolve, reject) => {
      this.calls.push({
        hardState,
        indexes: entries.map((e) => e.index),
        inBackground: options?.inBackground === true,
        done: resolve,
        fail: reject,
      });
      if (!this.gated) resolve();
    });
  }
  compact(): Promise<void> {
    return Promise.resolve();
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

const put = (seq: number, value: string, clientId = 'c1'): ClientMessage => ({
  type: 'client_request',
  clientId,
  instance: 1,
  seq,
  op: { type: 'put', key: 'k', value },
});

const answeredSeqs = (replies: readonly ClientMessage[]): number[] =>
  replies.flatMap((r) => (r.type === 'client_response' && r.outcome.status === 'ok' ? [r.seq] : []));

describe("NodeHost pipelines the leader's own log writes (thesis §10.2.1)", () => {
  it("sends, commits on the followers' acks and answers while its own write is in flight; later entries go in one write after it", async () => {
    const storage = new GatedStorage();
    const { host, real, sent, replies } = setup({ storage });
    await leadWithCommittedNoop(host, sent);
    real.advance(50); // a heartbeat round brings n3 up to date too
    await ackEverything(host, sent, ['n2', 'n3']);
    storage.gated = true;
    const before = storage.calls.length;
    host.onClientMessage(put(1, 'a'), client);
    await settle();
    // The AppendEntries left before the leader's write completed, and that write runs in the background.
    const first = storage.calls.slice(before);
    expect(first.map((c) => [c.indexes, c.inBackground])).toEqual([[[2], true]]);
    expect(sent.some((m) => m.type === 'append_entries' && m.entries.some((e) => e.index === 2))).toBe(true);
    // Two more puts while it is in flight: sent at once, written together afterwards.
    host.onClientMessage(put(2, 'b', 'c2'), { ...client, sender: 'c2' });
    host.onClientMessage(put(3, 'c', 'c3'), { ...client, sender: 'c3' });
    await settle();
    expect(storage.calls.length).toBe(before + 1);
    const toN3 = sent.filter((m) => m.type === 'append_entries' && m.to === 'n3');
    // n2's acks alone are no quorum: the leader's own copy is not durable yet.
    await ackEverything(host, sent);
    expect(host.raft().status().commitIndex).toBe(1);
    expect(answeredSeqs(replies)).toEqual([]);
    // n3 acks too: two followers are a quorum of three, the leader's own copy still in flight.
    sent.push(...toN3);
    await ackEverything(host, sent, ['n3']);
    expect(host.raft().status().commitIndex).toBe(4);
    expect(answeredSeqs(replies).sort()).toEqual([1, 2, 3]);
    expect(storage.calls.length).toBe(before + 1);
    // The first write completes: the queued entries go in one background write.
    storage.calls[before]!.done();
    await settle();
    expect(storage.calls.slice(before + 1).map((c) => [c.indexes, c.inBackground])).toEqual([[[3, 4], true]]);
    storage.calls[before + 1]!.done();
    await settle();
    expect(host.raft().status().commitIndex).toBe(4);
  });

  it('a Ready that must persist first (a higher term) waits until the pipeline is empty, so storage sees Ready order', async () => {
    const storage = new GatedStorage();
    const { host, sent } = setup({ storage });
    await leadWithCommittedNoop(host, sent);
    storage.gated = true;
    const before = storage.calls.length;
    host.onClientMessage(put(1, 'a'), client);
    await settle();
    host.onClientMessage(put(2, 'b', 'c2'), { ...client, sender: 'c2' });
    await settle();
    // n3 leads term 5 now: n1 steps down, a Ready with a hard state.
    sent.length = 0;
    host.onPeerMessage({
      type: 'append_entries',
      term: 5,
      from: 'n3',
      to: 'n1',
      prevLogIndex: 1,
      prevLogTerm: 1,
      entries: [],
      leaderCommit: 1,
      seq: 1,
    });
    await settle();
    expect(storage.calls.slice(before).map((c) => c.indexes)).toEqual([[2]]);
    expect(sent.filter((m) => m.type === 'append_entries_response')).toEqual([]); // its answer waits for its own persist
    storage.calls[before]!.done();
    await settle();
    // The queued entry first (still the pipeline), then, once it is empty, the hard state of term 5.
    expect(storage.calls.slice(before + 1).map((c) => [c.indexes, c.hardState?.currentTerm ?? null, c.inBackground])).toEqual([
      [[3], null, true],
    ]);
    storage.calls[before + 1]!.done();
    await settle();
    expect(storage.calls.slice(before + 2).map((c) => [c.hardState?.currentTerm ?? null, c.inBackground])).toEqual([[5, false]]);
    expect(sent.filter((m) => m.type === 'append_entries_response')).toEqual([]);
    storage.calls[before + 2]!.done();
    await settle();
    expect(sent.filter((m) => m.type === 'append_entries_response' && m.to === 'n3')).toHaveLength(1);
  });

  it('a failed background write stops the node', async () => {
    const storage = new GatedStorage();
    const { host, sent } = setup({ storage });
    await leadWithCommittedNoop(host, sent);
    const fatal: unknown[] = [];
    host.onFatal = (error) => fatal.push(error);
    storage.gated = true;
    host.onClientMessage(put(1, 'a'), client);
    await settle();
    storage.calls[storage.calls.length - 1]!.fail(new Error('EIO'));
    await settle();
    expect(fatal.map((e) => (e as Error).message)).toEqual(['EIO']);
  });
});

describe('NodeHost holds a request that asked to wait for a leader (node/held-requests.ts)', () => {
  const awaiting = (seq: number, otherThan: string, maxMs: number, op: 'get' | 'put' = 'get'): ClientRequest => ({
    type: 'client_request',
    clientId: 'c1',
    instance: 1,
    seq,
    op: op === 'get' ? { type: 'get', key: 'k' } : { type: 'put', key: 'k', value: `v${seq}` },
    awaitLeader: { otherThan, maxMs },
  });
  const outcomes = (replies: readonly ClientMessage[]): unknown[] =>
    replies.flatMap((r) => (r.type === 'client_response' ? [[r.seq, r.outcome]] : []));
  const heartbeatFrom = (from: string, term: number): RaftMessage => ({ ...heartbeat(term), from });

  it('a follower that would name the suspect answers as soon as it hears another leader, not at once', async () => {
    const { host, real, replies } = setup();
    host.onPeerMessage(heartbeatFrom('n2', 1));
    host.onClientMessage(awaiting(1, 'n2', 200), client);
    real.advance(5);
    expect(outcomes(replies)).toEqual([]);
    host.onPeerMessage(heartbeatFrom('n3', 2)); // n3 won term 2
    await settle(); // the new term is persisted before the host sees the new leader
    real.advance(0);
    expect(outcomes(replies)).toEqual([[1, { status: 'not_leader', leaderHint: 'n3' }]]);
  });

  it('answers as it would have at once when the wait runs out, and not before', () => {
    const { host, real, replies } = setup();
    host.onPeerMessage(heartbeatFrom('n2', 1));
    host.onClientMessage(awaiting(1, 'n2', 100), client);
    for (let ms = 0; ms < 99; ms += 11) {
      host.onPeerMessage(heartbeatFrom('n2', 1)); // the old leader is still heard: nothing to tell yet
      real.advance(11);
    }
    expect(outcomes(replies)).toEqual([]);
    real.advance(2);
    expect(outcomes(replies)).toEqual([[1, { status: 'not_leader', leaderHint: 'n2' }]]);
  });

  it('answers when the wait runs out even if its timer fires a hair early by the clock (as real timers do)', () => {
    // Seen on the real node: a timer whose callback ran 0.7 ms before its due time by the clock's reading; the request
    // was held again for 1 ms at a time instead of being answered.
    class EarlyReal extends FakeReal {
      override setTimeout(fn: () => void, delayMs: number): unknown {
        return super.setTimeout(fn, Math.max(0, delayMs - 0.5));
      }
    }
    const { host, real, replies } = setup({ real: new EarlyReal() });
    host.onPeerMessage(heartbeatFrom('n2', 1));
    host.onClientMessage(awaiting(1, 'n2', 100), client);
    real.advance(99.6); // the held timer fired at 99.5
    expect(outcomes(replies)).toEqual([[1, { status: 'not_leader', leaderHint: 'n2' }]]);
  });

  it('answers at once without the field, or when it knows a leader the client does not avoid', () => {
    const { host, replies } = setup();
    host.onPeerMessage(heartbeatFrom('n2', 1));
    host.onClientMessage(get(1), client);
    host.onClientMessage(awaiting(2, 'n3', 200), client);
    expect(outcomes(replies)).toEqual([
      [1, { status: 'not_leader', leaderHint: 'n2' }],
      [2, { status: 'not_leader', leaderHint: 'n2' }],
    ]);
  });

  it('a held write is served by the node itself when it becomes the leader', async () => {
    const { host, real, sent, replies } = setup();
    host.onClientMessage(awaiting(1, 'n3', 500, 'put'), client); // no leader known yet: held
    expect(outcomes(replies)).toEqual([]);
    await leadWithCommittedNoop(host, sent);
    real.advance(0);
    await settle();
    await ackEverything(host, sent);
    expect(outcomes(replies)).toEqual([[1, { status: 'ok', value: 'v1' }]]);
  });

  it('holds at most MAX_HELD_REQUESTS; the rest are answered at once; stopping drops the held ones', () => {
    const { host, real, replies } = setup();
    host.onPeerMessage(heartbeatFrom('n2', 1));
    for (let i = 1; i <= MAX_HELD_REQUESTS + 3; i++) {
      host.onClientMessage({ ...awaiting(1, 'n2', 300), clientId: `c${i}` }, { ...client, sender: `c${i}` });
    }
    expect(outcomes(replies)).toHaveLength(3);
    host.stop();
    real.advance(1000);
    expect(outcomes(replies)).toHaveLength(3);
  });

  it('the unvalidated-address redirect leaves a request that would be held to the validated resend', () => {
    const { host } = setup();
    host.onPeerMessage(heartbeatFrom('n2', 1));
    const request = awaiting(1, 'n2', 200);
    expect(host.redirectOf(request)).toBeNull();
    const { awaitLeader: _, ...plain } = request;
    expect(host.redirectOf(plain)).toEqual({ status: 'not_leader', leaderHint: 'n2' });
  });
});
