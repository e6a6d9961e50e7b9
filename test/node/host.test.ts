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
import { noUnsafeFlags } from '../../node/unsafe-flags.js';
import { NodeHost } from '../../node/host.js';
import type { RaftMessage } from '../../node/raft/types.js';
import { openMemoryStorage } from '../../node/storage/memory-storage.js';

function setup(): { host: NodeHost; real: FakeReal; sent: RaftMessage[] } {
  const config = validateConfig(
    {
      cluster: 'host-test',
      secret: 'host-test-secret-0123456789abcdef',
      dataDir: '/nonexistent',
      electionTimeoutMsMin: 150,
      electionTimeoutMsMax: 300,
      heartbeatIntervalMs: 50,
      tickMs: 10,
      nodes: [1, 2, 3].map((i) => ({ id: `n${i}`, host: '127.0.0.1', port: 7000 + i })),
    },
    '/',
  );
  const real = new FakeReal();
  const clock = new AdjustableClock({ realNowMs: () => real.nowMs, scheduler: real });
  const sent: RaftMessage[] = [];
  const { storage, stored } = openMemoryStorage();
  const host = new NodeHost({
    id: 'n1',
    config,
    unsafe: noUnsafeFlags,
    stored,
    seed: 7,
    io: {
      storage,
      clock,
      sendPeer: (_to, message) => sent.push(message),
      sendClient: () => undefined,
      log: () => undefined,
      droppedCounts: () => ({}),
    },
  });
  host.start();
  return { host, real, sent };
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
