/**
 * RaftConfig.commitNoticeAtTick: a commit that no new entries carry is told
 * to the followers at the leader's next tick, not at once (§5.3: followers
 * learn the commit index from AppendEntries, whenever the next one leaves).
 */
import { describe, expect, it } from 'vitest';
import type { AppendEntries, RaftMessage } from '../../../node/raft/types.js';
import { Network, type ConfigOverrides } from './network.js';

const base: ConfigOverrides = { preVote: false, checkQuorum: false };

function commitNotices(sent: readonly RaftMessage[], from: number): AppendEntries[] {
  return sent.slice(from).filter((m): m is AppendEntries => m.type === 'append_entries' && m.entries.length === 0);
}

/** n1 leads a committed noop, then a put is proposed and acknowledged by everyone: where its commit notice goes. */
function commitOnePut(overrides: ConfigOverrides): { net: Network; before: number } {
  const net = new Network(3, { ...base, ...overrides });
  net.campaign('n1');
  net.tick(net.node('n1').ticksUntilDue(), ['n1']); // any notice of the noop's commit has gone
  net.stabilize();
  const before = net.sent.length;
  expect(net.node('n1').propose('put')).toMatchObject({ ok: true });
  net.stabilize();
  return { net, before };
}

describe('commit notices (RaftConfig.commitNoticeAtTick)', () => {
  it('off: a commit goes out at once, as a heartbeat to each follower known to hold it when it advanced', () => {
    const { net, before } = commitOnePut({ commitNoticeAtTick: false });
    expect(net.node('n1').status().commitIndex).toBe(2);
    // n2's acknowledgement made the quorum; n3's came after and advanced nothing, so n3 waits for a heartbeat.
    expect(commitNotices(net.sent, before).map((m) => [m.to, m.leaderCommit])).toEqual([['n2', 2]]);
    expect(net.node('n2').status().commitIndex).toBe(2);
    expect(net.node('n3').status().commitIndex).toBe(1);
  });

  it('on: the leader commits and applies at once, and tells the followers at its next tick, which it asks to be woken for', () => {
    const { net, before } = commitOnePut({ commitNoticeAtTick: true });
    expect(net.node('n1').status().commitIndex).toBe(2);
    expect(commitNotices(net.sent, before)).toEqual([]);
    expect(net.node('n2').status().commitIndex).toBe(1);
    expect(net.node('n1').ticksUntilDue()).toBe(1);
    const atTick = net.sent.length;
    net.tick(1, ['n1']);
    net.stabilize();
    expect(commitNotices(net.sent, atTick).map((m) => [m.to, m.leaderCommit])).toEqual([
      ['n2', 2],
      ['n3', 2],
    ]);
    expect(net.node('n2').status().commitIndex).toBe(2);
    expect(net.node('n3').status().commitIndex).toBe(2);
    // Told: nothing is due before the next heartbeat.
    expect(net.node('n1').ticksUntilDue()).toBeGreaterThan(1);
  });

  it('on: new entries carry the commit at once, and a follower already told is not told again', () => {
    const { net } = commitOnePut({ commitNoticeAtTick: true });
    const before = net.sent.length;
    expect(net.node('n1').propose('second')).toMatchObject({ ok: true });
    net.processAll();
    const appends = net.sent.slice(before).filter((m): m is AppendEntries => m.type === 'append_entries');
    expect(appends.map((m) => [m.to, m.leaderCommit, m.entries.length])).toEqual([
      ['n2', 2, 1],
      ['n3', 2, 1],
    ]);
    net.stabilize();
    expect(net.node('n1').ticksUntilDue()).toBe(1); // entry 3 committed; its notice waits for the tick
    const atTick = net.sent.length;
    net.tick(1, ['n1']);
    expect(commitNotices(net.sent, atTick).map((m) => [m.to, m.leaderCommit])).toEqual([
      ['n2', 3],
      ['n3', 3],
    ]);
  });
});
