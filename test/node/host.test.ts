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
import type { ClientMessage } from '../../node/protocol.js';
import { NodeHost } from '../../node/host.js';
import type { RaftMessage } from '../../node/raft/types.js';
import { openMemoryStorage } from '../../node/storage/memory-storage.js';

function setup(options: { readMode?: 'readindex' | 'lease'; unsafe?: UnsafeFlags } = {}): {
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
  const real = new FakeReal();
  const clock = new AdjustableClock({ realNowMs: () => real.nowMs, scheduler: real });
  const sent: RaftMessage[] = [];
  const replies: ClientMessage[] = [];
  const { storage, stored } = openMemoryStorage();
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

/** n2 answers every AppendEntries n1 sent so far, successfully. */
async function ackEverything(host: NodeHost, sent: RaftMessage[]): Promise<void> {
  for (const m of sent.splice(0)) {
    if (m.type !== 'append_entries' || m.to !== 'n2') continue;
    const matchIndex = m.prevLogIndex + m.entries.length;
    host.onPeerMessage({
      type: 'append_entries_response',
      term: m.term,
      from: 'n2',
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
