/**
 * The wire defences of a node (issue 15 defect 5 and the security model),
 * through NodeEndpoint and ClientEndpoint with the real codec, keys, replay
 * guards and address validation, over an in-memory "network" (arrays of
 * datagrams the test delivers in any order, as often as it likes) and a
 * fake system clock. The same defences on real sockets and processes:
 * udp.test.ts, test/node/security.integration.test.ts.
 */
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ClientMessage, ClientOutcome, ClientRequest } from '../../../node/protocol.js';
import type { AppendEntries, RaftMessage } from '../../../node/raft/types.js';
import { AMPLIFICATION_FACTOR } from '../../../node/transport/address-validation.js';
import { ClientEndpoint } from '../../../node/transport/client-endpoint.js';
import { MAC_BYTES, encodeEnvelope, type Envelope, type Stamp } from '../../../node/transport/codec.js';
import { KeyRing, deriveClientKey, derivePeerKey } from '../../../node/transport/keys.js';
import { NodeEndpoint, type ReplyAddress } from '../../../node/transport/node-endpoint.js';
import { PEER_WINDOW_SIZE } from '../../../node/transport/peer-replay.js';

const CLUSTER = 'rift-endpoint-test';
const PEER_SECRET = 'endpoint-test-peer-secret-0123456789';
const CLIENT_SECRET = 'endpoint-test-client-secret-0123456789';
const NODES = ['n1', 'n2', 'n3'];
const RING = KeyRing.forNode(PEER_SECRET, CLIENT_SECRET, NODES);
const W = 30_000;

interface Sent {
  readonly to: string;
  readonly datagram: Buffer;
}

/** A fake system clock shared by everyone in a test. */
class Clock {
  constructor(public nowMs = 1_700_000_000_000) {}
}

interface TestNode {
  readonly id: string;
  readonly endpoint: NodeEndpoint;
  /** Datagrams it sent to peers (by id) and to addresses ("host:port"). */
  readonly outbox: Sent[];
  readonly peerMessages: RaftMessage[];
  readonly clientMessages: { message: ClientMessage; replyTo: ReplyAddress }[];
}

function node(
  id: string,
  incarnation: number,
  clock: Clock,
  onClient?: (n: TestNode, m: ClientMessage, replyTo: ReplyAddress) => void,
  redirect?: (request: ClientRequest) => ClientOutcome | null,
): TestNode {
  const outbox: Sent[] = [];
  const peerMessages: RaftMessage[] = [];
  const clientMessages: { message: ClientMessage; replyTo: ReplyAddress }[] = [];
  let self: TestNode | null = null;
  const endpoint = new NodeEndpoint({
    id,
    cluster: CLUSTER,
    nodeIds: NODES,
    keys: RING,
    incarnation,
    clientFreshnessMs: W,
    tokenKey: Buffer.alloc(32, incarnation % 251),
    wallClockMs: () => clock.nowMs,
    toPeer: (to, datagram) => outbox.push({ to, datagram }),
    toAddress: (host, port, datagram) => outbox.push({ to: `${host}:${port}`, datagram }),
    onPeerMessage: (m) => peerMessages.push(m),
    onClientMessage: (message, replyTo) => {
      clientMessages.push({ message, replyTo });
      if (onClient !== undefined && self !== null) onClient(self, message, replyTo);
    },
    ...(redirect !== undefined ? { redirect } : {}),
    log: () => undefined,
  });
  self = { id, endpoint, outbox, peerMessages, clientMessages };
  return self;
}

/** Delivers everything in the nodes' outboxes to the nodes they name, until nothing is left (hellos and their answers). */
function flush(nodes: TestNode[]): void {
  for (let round = 0; round < 10; round++) {
    let moved = false;
    for (const from of nodes) {
      for (const { to, datagram } of from.outbox.splice(0)) {
        const target = nodes.find((n) => n.id === to);
        if (target === undefined) continue;
        moved = true;
        target.endpoint.receive(datagram, '127.0.0.1', 7000 + NODES.indexOf(from.id));
      }
    }
    if (!moved) return;
  }
}

function heartbeat(from: string, to: string, seq: number): AppendEntries {
  return { type: 'append_entries', term: 2, from, to, prevLogIndex: 0, prevLogTerm: 0, entries: [], leaderCommit: 0, seq };
}

function encoded(env: Envelope, key: Buffer, stamp: Stamp): Buffer {
  const r = encodeEnvelope(env, key, stamp);
  if (!r.ok) throw new Error(r.detail);
  return Buffer.from(r.datagram);
}

/** n2's next datagram to n1, captured (not delivered). */
function capture(n2: TestNode, message: RaftMessage): Buffer {
  expect(n2.endpoint.sendPeer('n1', message).ok).toBe(true);
  const sent = n2.outbox.pop();
  expect(sent?.to).toBe('n1');
  return sent!.datagram;
}

/** Two nodes that have heard each other's hello. */
function pair(clock: Clock, inc1 = 100, inc2 = 200): { n1: TestNode; n2: TestNode } {
  const n1 = node('n1', inc1, clock);
  const n2 = node('n2', inc2, clock);
  n1.endpoint.start();
  n2.endpoint.start();
  flush([n1, n2]);
  expect(n1.endpoint.knownIncarnation('n2')).toBe(inc2);
  expect(n2.endpoint.knownIncarnation('n1')).toBe(inc1);
  return { n1, n2 };
}

describe('peer credentials: a client key never speaks as a peer (defect 5)', () => {
  it('an AppendEntries "from n2" MACed with the client key is rejected in either key domain; nothing reaches the host', () => {
    const clock = new Clock();
    const { n1 } = pair(clock);
    const forged: Envelope = {
      cluster: CLUSTER,
      from: 'n2',
      to: 'n1',
      body: { ...heartbeat('n2', 'n1', 1), entries: [{ term: 2, index: 1, type: 'command', data: 'x' }], leaderCommit: 1 },
    };
    const stamp: Stamp = { senderIncarnation: 200, receiverIncarnation: 100, counter: 10, sentAtMs: clock.nowMs };
    const clientKey = deriveClientKey(CLIENT_SECRET);
    // Peer domain, MACed with the client key: verified under n2's peer key, it fails.
    n1.endpoint.receive(encoded(forged, clientKey, stamp), '127.0.0.1', 9);
    // Client domain, where the client key does verify: a Raft body is refused there.
    const clientDomain = encoded(forged, clientKey, stamp);
    clientDomain[5] = 2;
    createHmac('sha256', clientKey)
      .update(clientDomain.subarray(0, clientDomain.length - MAC_BYTES))
      .digest()
      .copy(clientDomain, clientDomain.length - MAC_BYTES);
    n1.endpoint.receive(clientDomain, '127.0.0.1', 9);
    // With the peer key of another node (n3 speaking as n2).
    n1.endpoint.receive(encoded(forged, derivePeerKey(PEER_SECRET, 'n3'), stamp), '127.0.0.1', 9);
    expect(n1.peerMessages).toEqual([]);
    expect(n1.endpoint.droppedCounts()).toEqual({ bad_mac: 2, wrong_domain: 1 });
    // The genuine article (n2's own key) would have been taken: the refusals are about the key, not the message.
    n1.endpoint.receive(encoded(forged, derivePeerKey(PEER_SECRET, 'n2'), stamp), '127.0.0.1', 9);
    expect(n1.peerMessages).toHaveLength(1);
  });
});

describe('peer replay window (defect 5)', () => {
  it('a captured datagram is accepted once; duplicates are dropped and counted; reordering within the window is accepted once each', () => {
    const clock = new Clock();
    const { n1, n2 } = pair(clock);
    const d = [1, 2, 3, 4].map((seq) => capture(n2, heartbeat('n2', 'n1', seq)));
    for (const i of [2, 0, 3, 1]) n1.endpoint.receive(d[i]!, '127.0.0.1', 7001);
    expect(n1.peerMessages.map((m) => (m as AppendEntries).seq)).toEqual([3, 1, 4, 2]);
    for (const datagram of d) n1.endpoint.receive(datagram, '127.0.0.1', 7001);
    n1.endpoint.receive(d[0]!, '127.0.0.1', 7001);
    expect(n1.peerMessages).toHaveLength(4);
    expect(n1.endpoint.droppedCounts()).toEqual({ replayed: 5 });
  });

  it('a datagram delayed past the window is refused, never accepted late', () => {
    const clock = new Clock();
    const { n1, n2 } = pair(clock);
    const early = capture(n2, heartbeat('n2', 'n1', 1));
    for (let i = 0; i < PEER_WINDOW_SIZE; i++) capture(n2, heartbeat('n2', 'n1', 2 + i));
    n1.endpoint.receive(capture(n2, heartbeat('n2', 'n1', 9999)), '127.0.0.1', 7001);
    n1.endpoint.receive(early, '127.0.0.1', 7001);
    expect(n1.peerMessages.map((m) => (m as AppendEntries).seq)).toEqual([9999]);
    expect(n1.endpoint.droppedCounts()).toEqual({ replay_too_old: 1 });
  });

  it('after the sender restarts, its old datagrams are refused and its fresh counters (from 1 again) accepted', () => {
    const clock = new Clock();
    const { n1, n2 } = pair(clock);
    const old = [1, 2].map((seq) => capture(n2, heartbeat('n2', 'n1', seq)));
    n1.endpoint.receive(old[0]!, '127.0.0.1', 7001);
    // n2 restarts with a higher (persisted) incarnation; it announces it.
    const n2b = node('n2', 201, clock);
    n2b.endpoint.start();
    flush([n1, n2b]);
    n1.endpoint.receive(capture(n2b, heartbeat('n2', 'n1', 7)), '127.0.0.1', 7001);
    n1.endpoint.receive(old[1]!, '127.0.0.1', 7001); // sent before the restart, never delivered
    n1.endpoint.receive(old[0]!, '127.0.0.1', 7001);
    expect(n1.peerMessages.map((m) => (m as AppendEntries).seq)).toEqual([1, 7]);
    expect(n1.endpoint.droppedCounts()).toEqual({ stale_incarnation: 2 });
  });

  it('after the receiver restarts, a datagram captured before is refused (addressed to its old incarnation); the sender learns the new one from a hello', () => {
    const clock = new Clock();
    const { n1, n2 } = pair(clock);
    const captured = capture(n2, heartbeat('n2', 'n1', 1));
    n1.endpoint.receive(captured, '127.0.0.1', 7001);
    expect(n1.peerMessages).toHaveLength(1);
    // n1 restarts: its windows are gone, its incarnation is new.
    const n1b = node('n1', 101, clock);
    n1b.endpoint.receive(captured, '127.0.0.1', 7001);
    expect(n1b.peerMessages).toEqual([]);
    expect(n1b.endpoint.droppedCounts()).toEqual({ stale_receiver: 1 });
    // The drop asked n2 (rate-limited) to learn n1's new incarnation; after that n2's datagrams get through.
    expect(n1b.outbox.map((s) => s.to)).toEqual(['n2']);
    flush([n1b, n2]);
    expect(n2.endpoint.knownIncarnation('n1')).toBe(101);
    n1b.endpoint.receive(capture(n2, heartbeat('n2', 'n1', 2)), '127.0.0.1', 7001);
    n1b.endpoint.receive(captured, '127.0.0.1', 7001);
    expect(n1b.peerMessages.map((m) => (m as AppendEntries).seq)).toEqual([2]);
    expect(n1b.endpoint.droppedCounts()).toEqual({ stale_receiver: 2 });
  });

  it('hellos to a peer that keeps sending to an old incarnation are rate-limited', () => {
    const clock = new Clock();
    const { n2 } = pair(clock);
    const n1b = node('n1', 101, clock);
    for (let i = 0; i < 20; i++) n1b.endpoint.receive(capture(n2, heartbeat('n2', 'n1', i)), '127.0.0.1', 7001);
    expect(n1b.outbox).toHaveLength(1);
    clock.nowMs += 1000;
    n1b.endpoint.receive(capture(n2, heartbeat('n2', 'n1', 99)), '127.0.0.1', 7001);
    expect(n1b.outbox).toHaveLength(2);
  });
});

/** A client and what it got. */
function client(
  sender: string,
  instance: number,
  clock: Clock,
): { endpoint: ClientEndpoint; inbox: { from: string; message: ClientMessage }[]; receive(d: Buffer): void } {
  const endpoint = new ClientEndpoint({
    cluster: CLUSTER,
    sender,
    instance,
    keys: KeyRing.forClient(CLIENT_SECRET),
    freshnessMs: W,
    wallClockMs: () => clock.nowMs,
  });
  const inbox: { from: string; message: ClientMessage }[] = [];
  return {
    endpoint,
    inbox,
    receive: (d) => {
      const opened = endpoint.open(d);
      if (opened.ok) inbox.push({ from: opened.from, message: opened.message });
    },
  };
}

function seal(c: { endpoint: ClientEndpoint }, to: string, body: ClientMessage): Buffer {
  const r = c.endpoint.seal(to, body);
  if (!r.ok) throw new Error(r.detail);
  return r.datagram;
}

/** Everything n sent to `address`. */
function sentTo(n: TestNode, address: string): Buffer[] {
  return n.outbox.filter((s) => s.to === address).map((s) => s.datagram);
}

const put = (seq: number, value: string): ClientMessage => ({
  type: 'client_request',
  clientId: 'c1',
  instance: 5,
  seq,
  op: { type: 'put', key: 'k', value },
});

describe('client replay protection (defect 5)', () => {
  /** A node and a client that has its token: its next request is served. */
  function validated(clock: Clock, incarnation = 100): { n1: TestNode; c: ReturnType<typeof client> } {
    const n1 = node('n1', incarnation, clock);
    const c = client('c1', 5, clock);
    n1.endpoint.receive(seal(c, 'n1', put(1, 'first')), '10.0.0.5', 4000);
    expect(n1.clientMessages).toEqual([]);
    for (const d of sentTo(n1, '10.0.0.5:4000')) c.receive(d);
    expect(c.inbox.map((m) => m.message.type)).toEqual(['retry']);
    return { n1, c };
  }

  it('a captured request is served once; its replay is dropped and counted', () => {
    const clock = new Clock();
    const { n1, c } = validated(clock);
    const captured = seal(c, 'n1', put(1, 'OLD'));
    n1.endpoint.receive(captured, '10.0.0.5', 4000);
    n1.endpoint.receive(captured, '10.0.0.5', 4000);
    clock.nowMs += 5_000;
    n1.endpoint.receive(captured, '10.0.0.5', 4000);
    expect(n1.clientMessages.map((m) => m.message)).toEqual([put(1, 'OLD')]);
    expect(n1.endpoint.droppedCounts()).toMatchObject({ replayed: 2 });
  });

  it('a captured request replayed after the node restarted is not served (its client windows are gone, but the incarnation it names is stale)', () => {
    const clock = new Clock();
    const { n1, c } = validated(clock);
    const captured = seal(c, 'n1', put(2, 'OLD'));
    n1.endpoint.receive(captured, '10.0.0.5', 4000);
    expect(n1.clientMessages).toHaveLength(1);
    const n1b = node('n1', 101, clock);
    n1b.endpoint.receive(captured, '10.0.0.5', 4000);
    expect(n1b.clientMessages).toEqual([]);
    expect(n1b.endpoint.droppedCounts()).toEqual({ stale_receiver: 1 });
    // What it sent back is a small retry, within the amplification limit.
    const answers = sentTo(n1b, '10.0.0.5:4000');
    expect(answers).toHaveLength(1);
    expect(answers[0]!.length).toBeLessThanOrEqual(AMPLIFICATION_FACTOR * captured.length);
    // The real client follows the retry and is served by the new incarnation.
    c.receive(answers[0]!);
    n1b.endpoint.receive(seal(c, 'n1', put(2, 'OLD')), '10.0.0.5', 4000);
    expect(n1b.clientMessages).toHaveLength(1);
  });

  it('a captured request is refused once it is older than the freshness window W, whatever the node remembers', () => {
    const clock = new Clock();
    const { n1, c } = validated(clock);
    const captured = seal(c, 'n1', put(1, 'OLD'));
    clock.nowMs += W + 1;
    n1.endpoint.receive(captured, '10.0.0.5', 4000);
    expect(n1.clientMessages).toEqual([]);
    expect(n1.endpoint.droppedCounts()).toMatchObject({ stale_timestamp: 1 });
    // A client whose clock is more than W ahead is refused too.
    const ahead = client('c2', 6, new Clock(clock.nowMs + W + 1));
    n1.endpoint.receive(seal(ahead, 'n1', put(1, 'x')), '10.0.0.6', 4000);
    expect(n1.endpoint.droppedCounts()).toMatchObject({ stale_timestamp: 2 });
  });
});

describe('anti-amplification (RFC 9000 §8.1)', () => {
  const bigValue = 'v'.repeat(8192);
  /** A node whose "host" answers every get with an 8 KiB value, as the 48.7x reflection did. */
  function amplifier(clock: Clock): TestNode {
    return node('n1', 100, clock, (n, message, replyTo) => {
      if (message.type !== 'client_request') return;
      n.endpoint.sendClient(replyTo, {
        type: 'client_response',
        clientId: message.clientId,
        seq: message.seq,
        outcome: { status: 'ok', value: bigValue },
      });
    });
  }
  const get = (seq: number): ClientMessage => ({ type: 'client_request', clientId: 'c1', instance: 5, seq, op: { type: 'get', key: 'k' } });

  it('until an address is validated, replies to it total at most 3x the bytes received from it; then it gets full answers', () => {
    const clock = new Clock();
    const n1 = amplifier(clock);
    const c = client('c1', 5, clock);
    let received = 0;
    for (let seq = 1; seq <= 5; seq++) {
      const request = seal(c, 'n1', get(seq));
      received += request.length;
      n1.endpoint.receive(request, '10.0.0.5', 4000);
    }
    const before = sentTo(n1, '10.0.0.5:4000');
    const sentBytes = before.reduce((n, d) => n + d.length, 0);
    expect(sentBytes).toBeLessThanOrEqual(AMPLIFICATION_FACTOR * received);
    expect(n1.clientMessages).toEqual([]);
    // The client learns the token and incarnation from a retry and is then served in full.
    c.receive(before[0]!);
    const request = seal(c, 'n1', get(6));
    n1.endpoint.receive(request, '10.0.0.5', 4000);
    const answer = sentTo(n1, '10.0.0.5:4000').at(-1)!;
    expect(answer.length).toBeGreaterThan(AMPLIFICATION_FACTOR * request.length);
    c.receive(answer);
    expect(c.inbox.at(-1)?.message).toMatchObject({ type: 'client_response', seq: 6, outcome: { status: 'ok', value: bigValue } });
  });

  it('a request with a spoofed source address (the victim) earns the victim only small retries, even with a token stolen from another address', () => {
    const clock = new Clock();
    const n1 = amplifier(clock);
    const attacker = client('c1', 5, clock);
    // The attacker validates its own address...
    n1.endpoint.receive(seal(attacker, 'n1', get(1)), '10.0.0.66', 5000);
    attacker.receive(sentTo(n1, '10.0.0.66:5000')[0]!);
    // ...then sends requests carrying that token from the victim's address.
    let received = 0;
    for (let seq = 2; seq < 12; seq++) {
      const request = seal(attacker, 'n1', get(seq));
      received += request.length;
      n1.endpoint.receive(request, '10.0.0.7', 53);
    }
    const toVictim = sentTo(n1, '10.0.0.7:53');
    expect(toVictim.reduce((n, d) => n + d.length, 0)).toBeLessThanOrEqual(AMPLIFICATION_FACTOR * received);
    expect(n1.clientMessages).toEqual([]);
    expect(n1.endpoint.droppedCounts()).toMatchObject({ unvalidated_address: 10 });
  });

  it('a follower redirects a request it has not validated at once (small, no effect) instead of a retry round trip; a leader never serves one', () => {
    const clock = new Clock();
    let leader = false;
    const n1 = node('n1', 100, clock, undefined, () => (leader ? null : { status: 'not_leader', leaderHint: 'n2' }));
    const c = client('c1', 5, clock);
    const request = seal(c, 'n1', get(1));
    n1.endpoint.receive(request, '10.0.0.5', 4000);
    const answers = sentTo(n1, '10.0.0.5:4000');
    expect(answers).toHaveLength(1);
    expect(answers[0]!.length).toBeLessThanOrEqual(AMPLIFICATION_FACTOR * request.length);
    c.receive(answers[0]!);
    expect(c.inbox.map((m) => m.message)).toEqual([
      { type: 'client_response', clientId: 'c1', seq: 1, outcome: { status: 'not_leader', leaderHint: 'n2' } },
    ]);
    expect(n1.clientMessages).toEqual([]);
    expect(n1.endpoint.droppedCounts()).toEqual({ stale_receiver: 1 });
    // Once it leads, the same kind of request gets a retry, never service.
    leader = true;
    n1.endpoint.receive(seal(c, 'n1', get(2)), '10.0.0.5', 4000);
    expect(n1.clientMessages).toEqual([]);
    c.receive(sentTo(n1, '10.0.0.5:4000').at(-1)!);
    expect(c.inbox.at(-1)?.message.type).toBe('retry');
  });

  it('a reply to an address that is not validated is not sent at all', () => {
    const clock = new Clock();
    const n1 = amplifier(clock);
    const sent = n1.endpoint.sendClient(
      { host: '10.0.0.9', port: 1, sender: 'c9', instance: 1 },
      { type: 'client_response', clientId: 'c9', seq: 1, outcome: { status: 'ok', value: bigValue } },
    );
    expect(sent).toBeNull();
    expect(n1.outbox).toEqual([]);
    expect(n1.endpoint.droppedCounts()).toEqual({ unvalidated_reply: 1 });
  });
});

describe('anything at all on the wire (property)', () => {
  it('garbage, truncations, bit flips and re-deliveries never throw, and never reach the host unless they are a valid, fresh, first delivery', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.record({ kind: fc.constant('garbage' as const), bytes: fc.uint8Array({ maxLength: 600 }) }),
            fc.record({ kind: fc.constant('flip' as const), which: fc.nat(), pos: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }),
            fc.record({ kind: fc.constant('cut' as const), which: fc.nat(), at: fc.nat() }),
            fc.record({ kind: fc.constant('again' as const), which: fc.nat() }),
            fc.record({ kind: fc.constant('fresh' as const), seq: fc.nat(1000) }),
          ),
          { maxLength: 60 },
        ),
        (steps) => {
          const clock = new Clock();
          const { n1, n2 } = pair(clock);
          const sent: Buffer[] = [capture(n2, heartbeat('n2', 'n1', 0))];
          // The datagrams delivered intact at least once: exactly these may reach the host, once each.
          const deliveredIntact = new Set<number>();
          for (const step of steps) {
            const index = (i: number): number => i % sent.length;
            switch (step.kind) {
              case 'garbage':
                n1.endpoint.receive(Buffer.from(step.bytes), '127.0.0.1', 9);
                break;
              case 'flip': {
                const d = Buffer.from(sent[index(step.which)]!);
                d[step.pos % d.length] = d[step.pos % d.length]! ^ step.xor;
                n1.endpoint.receive(d, '127.0.0.1', 9);
                break;
              }
              case 'cut': {
                const d = sent[index(step.which)]!;
                n1.endpoint.receive(d.subarray(0, step.at % d.length), '127.0.0.1', 9);
                break;
              }
              case 'again':
                deliveredIntact.add(index(step.which));
                n1.endpoint.receive(sent[index(step.which)]!, '127.0.0.1', 9);
                break;
              case 'fresh':
                sent.push(capture(n2, heartbeat('n2', 'n1', step.seq)));
                deliveredIntact.add(sent.length - 1);
                n1.endpoint.receive(sent[sent.length - 1]!, '127.0.0.1', 9);
                break;
            }
          }
          expect(n1.peerMessages).toHaveLength(deliveredIntact.size);
        },
      ),
      { numRuns: 300 },
    );
  });
});
