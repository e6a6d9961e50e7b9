/**
 * The network adversary: holds (the network delivering a datagram once,
 * seconds late, with its own bytes) and the recorder a `replay` fault draws
 * old messages from (bounded, oldest first, by age and sender).
 */
import { describe, expect, it } from 'vitest';
import type { RaftMessage } from '../../node/raft/types.js';
import { MessageRecorder } from '../../sim/adversary.js';
import { EventQueue } from '../../sim/event-queue.js';
import { maxHeldAcross, SimNetwork } from '../../sim/network.js';
import { Stream } from '../../sim/streams.js';

function heartbeat(from: string, to: string, term: number, seq: number): RaftMessage {
  return { type: 'append_entries', term, from, to, prevLogIndex: 0, prevLogTerm: 0, entries: [], leaderCommit: 0, seq };
}

function runAll(queue: EventQueue): void {
  for (let event = queue.next(); event !== null; event = queue.next()) event.run();
}

describe('SimNetwork holds and injections', () => {
  it('a hold delivers each held datagram once, holdMs late, and only while the hold lasts', () => {
    const queue = new EventQueue();
    const arrivals: { to: string; atMs: number; byte: number }[] = [];
    const net = new SimNetwork(queue, 1, (to, _from, datagram) => arrivals.push({ to, atMs: queue.now, byte: datagram[0]! }));
    net.hold('n1', 'n2', 1, 2000, 100);
    net.send('n1', 'n2', Buffer.from([1]));
    net.send('n1', 'n3', Buffer.from([2])); // another link: not held
    queue.schedule(150, () => net.send('n1', 'n2', Buffer.from([3]))); // after the hold window
    runAll(queue);
    expect(arrivals.map((a) => a.byte).sort()).toEqual([1, 2, 3]);
    const held = arrivals.find((a) => a.byte === 1)!;
    expect(held.atMs).toBeGreaterThanOrEqual(2000);
    expect(held.atMs).toBeLessThanOrEqual(2005);
    expect(arrivals.find((a) => a.byte === 3)!.atMs).toBeLessThan(160);
    expect(net.stats.held).toBe(1);
  });

  it('a held datagram meets the partitions of its arrival time; an injected one crosses them', () => {
    const queue = new EventQueue();
    const arrivals: number[] = [];
    const net = new SimNetwork(queue, 1, (_to, _from, datagram) => arrivals.push(datagram[0]!));
    net.hold('n1', 'n2', 1, 500, 100);
    net.send('n1', 'n2', Buffer.from([1]));
    queue.schedule(200, () => net.block('n1', 'n2'));
    queue.schedule(300, () => net.inject('n1', 'n2', Buffer.from([2]), 1));
    runAll(queue);
    expect(arrivals).toEqual([2]);
    expect(net.stats.partitioned).toBe(1);
    expect(net.stats.injected).toBe(1);
  });

  it('a hold across terms keeps a datagram until its sender leads a later term than the one it sent it in', () => {
    const queue = new EventQueue();
    const arrivals: { byte: number; atMs: number }[] = [];
    const net = new SimNetwork(queue, 1, (_to, _from, datagram) => arrivals.push({ byte: datagram[0]!, atMs: queue.now }));
    let term = 3;
    net.termOf = (node) => (node === 'n1' ? term : 0);
    net.holdAcross('n1', ['n1', 'n2', 'n3'], 1, 100);
    net.send('n1', 'n2', Buffer.from([1]));
    net.send('n1', 'n3', Buffer.from([2]));
    net.send('n2', 'n1', Buffer.from([3])); // not from the holder: goes through
    queue.schedule(150, () => net.send('n1', 'n2', Buffer.from([4]))); // after the window: goes through
    runAll(queue);
    expect(arrivals.map((a) => a.byte).sort()).toEqual([3, 4]);
    expect(net.stats.heldAcross).toBe(2);
    // Leading term 3 again releases nothing; another node leading releases nothing; n1 leading term 5 releases both.
    expect(net.releaseAcross('n1', 3)).toBe(0);
    expect(net.releaseAcross('n2', 9)).toBe(0);
    term = 5;
    expect(net.releaseAcross('n1', 5)).toBe(2);
    const releasedAt = queue.now;
    runAll(queue);
    expect(arrivals.map((a) => a.byte).sort()).toEqual([1, 2, 3, 4]);
    for (const a of arrivals.filter((x) => x.byte <= 2)) expect(a.atMs).toBeGreaterThanOrEqual(releasedAt);
    expect(net.stats.releasedAcross).toBe(2);
  });

  it('endHolds lets every datagram held across terms go; the holds are bounded', () => {
    const queue = new EventQueue();
    const arrivals: number[] = [];
    const net = new SimNetwork(queue, 1, (_to, _from, datagram) => arrivals.push(datagram[0]!));
    net.holdAcross('n1', ['n2'], 1, 10_000);
    for (let i = 0; i < maxHeldAcross + 10; i++) net.send('n1', 'n2', Buffer.from([i % 256]));
    expect(net.stats.heldAcross).toBe(maxHeldAcross);
    runAll(queue);
    expect(arrivals.length).toBe(10); // past the bound, datagrams go through untouched
    net.endHolds();
    runAll(queue);
    expect(arrivals.length).toBe(maxHeldAcross + 10);
    net.send('n1', 'n2', Buffer.from([7])); // no hold any more
    runAll(queue);
    expect(net.stats.heldAcross).toBe(maxHeldAcross);
  });

  it('endHolds stops new holds; datagrams already held still arrive', () => {
    const queue = new EventQueue();
    const arrivals: number[] = [];
    const net = new SimNetwork(queue, 1, () => arrivals.push(queue.now));
    net.hold('n1', 'n2', 1, 1000, 5000);
    net.send('n1', 'n2', Buffer.from([1]));
    net.endHolds();
    net.send('n1', 'n2', Buffer.from([2]));
    runAll(queue);
    expect(arrivals.filter((t) => t >= 1000)).toHaveLength(1);
    expect(arrivals.filter((t) => t < 10)).toHaveLength(1);
  });
});

describe('MessageRecorder (what a replay re-sends)', () => {
  it('keeps the last `capacity` messages and picks only old enough ones, by sender, in send order', () => {
    const rec = new MessageRecorder(4);
    for (let i = 1; i <= 6; i++)
      rec.record(i * 100, i % 2 === 0 ? 'n1' : 'n2', 'n3', heartbeat(i % 2 === 0 ? 'n1' : 'n2', 'n3', 1, i), Buffer.from([i]));
    const all = rec.pick(10, 10_000, new Stream(1, 'test'));
    expect(all.map((r) => r.atMs)).toEqual([300, 400, 500, 600]);
    expect(rec.pick(10, 450, new Stream(1, 'test')).map((r) => r.atMs)).toEqual([300, 400]);
    expect(rec.pick(10, 10_000, new Stream(1, 'test'), 'n1').map((r) => r.atMs)).toEqual([400, 600]);
    const two = rec.pick(2, 10_000, new Stream(7, 'test'));
    expect(two).toHaveLength(2);
    expect(two[0]!.atMs).toBeLessThan(two[1]!.atMs);
    // Deterministic: the same stream picks the same messages.
    expect(rec.pick(2, 10_000, new Stream(7, 'test'))).toEqual(two);
    expect(rec.pick(3, 0, new Stream(1, 'test'))).toEqual([]);
  });
});
