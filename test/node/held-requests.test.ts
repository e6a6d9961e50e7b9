/**
 * HeldRequests (node/held-requests.ts), pure: which requests a node holds,
 * the bound, release on expiry and when a leader is known. The host's use of
 * it is in test/node/host.test.ts; the client's in client-retry.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { HeldRequests, MAX_AWAIT_LEADER_MS, wantsHold } from '../../node/held-requests.js';
import type { ClientRequest } from '../../node/protocol.js';

const request = (seq: number, maxMs: number, otherThan = 'n1'): ClientRequest => ({
  type: 'client_request',
  clientId: `c${seq}`,
  instance: 1,
  seq,
  op: { type: 'get', key: 'k' },
  awaitLeader: { otherThan, maxMs },
});

describe('wantsHold', () => {
  it('holds only a request that asked, at a node that is not the leader and knows no leader or only the avoided one', () => {
    const { awaitLeader: _, ...plain } = request(1, 10);
    expect(wantsHold(plain, 'follower', null)).toBe(false);
    expect(wantsHold(request(1, 10), 'leader', 'n2')).toBe(false);
    expect(wantsHold(request(1, 10), 'follower', 'n2')).toBe(false);
    expect(wantsHold(request(1, 10), 'follower', 'n1')).toBe(true);
    expect(wantsHold(request(1, 10), 'pre_candidate', null)).toBe(true);
    expect(wantsHold(request(1, 10), 'candidate', null)).toBe(true);
  });
});

describe('HeldRequests', () => {
  it('releases by deadline, earliest first, and bounds how many it holds', () => {
    const held = new HeldRequests<string>(2);
    expect(held.nextReleaseAtMs()).toBeNull();
    expect(held.hold(request(1, 50), 'a', 100)).toBe(true);
    expect(held.hold(request(2, 20), 'b', 100)).toBe(true);
    expect(held.hold(request(3, 20), 'c', 100)).toBe(false); // full: answered at once
    expect(held.nextReleaseAtMs()).toBe(120);
    expect(held.expired(119)).toEqual([]);
    expect(held.expired(120).map((h) => h.replyTo)).toEqual(['b']);
    expect(held.size).toBe(1);
    expect(held.nextReleaseAtMs()).toBe(150);
  });

  it('never holds longer than the wire bound', () => {
    const held = new HeldRequests<string>();
    held.hold(request(1, 60_000), 'a', 0);
    expect(held.nextReleaseAtMs()).toBe(MAX_AWAIT_LEADER_MS);
  });

  it('hands back what does not avoid the leader it learned, with what is left of each wait (at least 1 ms)', () => {
    const held = new HeldRequests<string>();
    held.hold(request(1, 50), 'a', 100);
    held.hold(request(2, 10), 'b', 105);
    held.hold(request(3, 10, 'n2'), 'c', 105);
    expect(held.takeFor('n1', 110)).toEqual([{ request: request(3, 5, 'n2'), replyTo: 'c' }]);
    const out = held.takeFor('n3', 114.5);
    expect(out.map((h) => [h.replyTo, h.request.awaitLeader])).toEqual([
      ['a', { otherThan: 'n1', maxMs: 36 }],
      ['b', { otherThan: 'n1', maxMs: 1 }],
    ]);
    expect(held.size).toBe(0);
    expect(held.clear()).toBe(0);
  });
});
