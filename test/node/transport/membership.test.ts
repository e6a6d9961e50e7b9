/**
 * The wire side of membership (issue 18): whose peer datagrams a node hears
 * follows the configuration (NodeEndpoint.setPeers), and membership admin
 * requests travel in their own key domain, keyed from the peer secret: a
 * client key (or a node's peer key) never makes an admin request, and an
 * admin key never makes a peer message. Real codec, keys and replay guards;
 * an in-memory network and a fake system clock.
 */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { AdminMessage, AdminRequest } from '../../../node/protocol.js';
import type { AppendEntries, RaftMessage } from '../../../node/raft/types.js';
import { encodeConfigEntry } from '../../../node/raft/configuration.js';
import { ClientEndpoint } from '../../../node/transport/client-endpoint.js';
import { MAC_BYTES, decodeEnvelope, encodeEnvelope, type Envelope, type Stamp } from '../../../node/transport/codec.js';
import { KeyRing, deriveAdminKey, deriveClientKey, derivePeerKey } from '../../../node/transport/keys.js';
import { NodeEndpoint, type ReplyAddress } from '../../../node/transport/node-endpoint.js';

const CLUSTER = 'rift-membership-test';
const PEER_SECRET = 'membership-test-peer-secret-0123456789';
const CLIENT_SECRET = 'membership-test-client-secret-0123456789';
const BOOK = ['n1', 'n2', 'n3', 'n4'];
const W = 30_000;
const NOW = 1_700_000_000_000;

interface TestNode {
  readonly endpoint: NodeEndpoint;
  readonly outbox: { to: string; datagram: Buffer }[];
  readonly peerMessages: RaftMessage[];
  readonly adminRequests: { message: AdminRequest; replyTo: ReplyAddress }[];
}

function node(id: string, incarnation: number, peers?: readonly string[] | null, unsafeMembersOnly = false): TestNode {
  const outbox: { to: string; datagram: Buffer }[] = [];
  const peerMessages: RaftMessage[] = [];
  const adminRequests: { message: AdminRequest; replyTo: ReplyAddress }[] = [];
  const endpoint = new NodeEndpoint({
    id,
    cluster: CLUSTER,
    nodeIds: BOOK,
    ...(peers !== undefined ? { peers } : {}),
    keys: KeyRing.forNode(PEER_SECRET, CLIENT_SECRET, BOOK),
    incarnation,
    clientFreshnessMs: W,
    tokenKey: Buffer.alloc(32, 7),
    wallClockMs: () => NOW,
    toPeer: (to, datagram) => outbox.push({ to, datagram }),
    toAddress: (host, port, datagram) => outbox.push({ to: `${host}:${port}`, datagram }),
    onPeerMessage: (m) => peerMessages.push(m),
    onClientMessage: () => undefined,
    onAdminMessage: (message, replyTo) => adminRequests.push({ message, replyTo }),
    log: () => undefined,
    unsafeMembersOnly,
  });
  return { endpoint, outbox, peerMessages, adminRequests };
}

function heartbeat(from: string, to: string, seq: number): AppendEntries {
  return { type: 'append_entries', term: 2, from, to, prevLogIndex: 0, prevLogTerm: 0, entries: [], leaderCommit: 0, seq };
}

function voteRequest(from: string, to: string, preVote = false): RaftMessage {
  return { type: 'request_vote', term: 3, from, to, lastLogIndex: 0, lastLogTerm: 0, preVote };
}

/** A peer datagram from `from` to n1 (incarnation 100), sealed with `from`'s own peer key. */
function peerDatagram(from: string, counter: number, body: RaftMessage = heartbeat(from, 'n1', counter)): Buffer {
  const stamp: Stamp = { senderIncarnation: 400, receiverIncarnation: 100, counter, sentAtMs: NOW };
  const r = encodeEnvelope({ cluster: CLUSTER, from, to: 'n1', body }, derivePeerKey(PEER_SECRET, from), stamp);
  if (!r.ok) throw new Error(r.detail);
  return r.datagram;
}

function adminRequest(requestId: string): AdminRequest {
  return { type: 'admin_request', requestId, command: { type: 'add', node: 'n4' } };
}

describe('peers heard follow the configuration (issue 18)', () => {
  it('a node outside the peers set is not heard asking for votes, though its MAC verifies; once admitted it is; once removed, no more', () => {
    const n1 = node('n1', 100, ['n2', 'n3']);
    n1.endpoint.receive(peerDatagram('n4', 1, voteRequest('n4', 'n1')), '127.0.0.1', 9);
    expect(n1.peerMessages).toEqual([]);
    expect(n1.endpoint.droppedCounts()['not_a_member']).toBe(1);
    expect(n1.endpoint.hears('n4')).toBe(false);

    n1.endpoint.setPeers(['n2', 'n3', 'n4']);
    // Newly heard peers are told this incarnation at once.
    expect(n1.outbox.map((s) => s.to)).toEqual(['n4']);
    n1.endpoint.receive(peerDatagram('n4', 2, voteRequest('n4', 'n1')), '127.0.0.1', 9);
    expect(n1.peerMessages.map((m) => m.from)).toEqual(['n4']);

    n1.endpoint.setPeers(['n2', 'n4']);
    n1.endpoint.receive(peerDatagram('n3', 1, voteRequest('n3', 'n1', true)), '127.0.0.1', 9);
    n1.endpoint.receive(
      peerDatagram('n3', 2, {
        type: 'append_entries_response',
        term: 2,
        from: 'n3',
        to: 'n1',
        success: true,
        matchIndex: 0,
        conflictTerm: null,
        conflictIndex: 0,
        seq: 1,
      }),
      '127.0.0.1',
      9,
    );
    expect(n1.peerMessages.map((m) => m.from)).toEqual(['n4']);
    expect(n1.endpoint.droppedCounts()['not_a_member']).toBe(3);
  });

  // Found 2026-12-06 by a harness run (membership and partition faults on the leader, 20 s, seed 11): n1 knew the
  // removal of n5 committed and was cut off while n5 was added back and elected; healed, n1 dropped every
  // AppendEntries from n5 (not_a_member) and stayed at its commit index until the run ended, 18 s later.
  it('what a leader sends is heard from any identity of the address book: a node behind a re-addition follows its leader (§4.1)', () => {
    const n1 = node('n1', 100, ['n2', 'n3']);
    n1.endpoint.receive(peerDatagram('n4', 1), '127.0.0.1', 9);
    expect(n1.peerMessages.map((m) => `${m.type} from ${m.from}`)).toEqual(['append_entries from n4']);
    expect(n1.endpoint.droppedCounts()['not_a_member'] ?? 0).toBe(0);
    // Its replay defences hold as for a member: the same datagram again is a replay.
    n1.endpoint.receive(peerDatagram('n4', 1), '127.0.0.1', 9);
    expect(n1.peerMessages).toHaveLength(1);
    expect(n1.endpoint.droppedCounts()['replayed']).toBe(1);
  });

  it('--unsafe-members-only-transport re-creates that defect: the same AppendEntries from a non-member is dropped', () => {
    const n1 = node('n1', 100, ['n2', 'n3'], true);
    n1.endpoint.receive(peerDatagram('n4', 1), '127.0.0.1', 9);
    expect(n1.peerMessages).toEqual([]);
    expect(n1.endpoint.droppedCounts()['not_a_member']).toBe(1);
    // From a member it is heard as before.
    n1.endpoint.receive(peerDatagram('n2', 1), '127.0.0.1', 9);
    expect(n1.peerMessages.map((m) => `${m.type} from ${m.from}`)).toEqual(['append_entries from n2']);
  });

  it('re-admitting a node does not reopen its replay window: a datagram accepted before is still a replay', () => {
    const n1 = node('n1', 100, ['n2']);
    const first = peerDatagram('n2', 1);
    n1.endpoint.receive(first, '127.0.0.1', 9);
    expect(n1.peerMessages).toHaveLength(1);
    n1.endpoint.setPeers([]);
    n1.endpoint.setPeers(['n2']);
    n1.endpoint.receive(first, '127.0.0.1', 9);
    expect(n1.peerMessages).toHaveLength(1);
    expect(n1.endpoint.droppedCounts()['replayed']).toBe(1);
  });

  it('a joiner (peers null) hears any identity of its address book and sends no hellos at start', () => {
    const n4 = node('n1', 100, null);
    n4.endpoint.start();
    expect(n4.outbox).toEqual([]);
    n4.endpoint.receive(peerDatagram('n3', 1), '127.0.0.1', 9);
    expect(n4.peerMessages.map((m) => m.from)).toEqual(['n3']);
  });

  it('a config entry that does not decode is refused on the wire, in binary and JSON alike', () => {
    const n1 = node('n1', 100, ['n2']);
    const good = encodeConfigEntry({
      change: { type: 'add_learner', node: 'n4' },
      configuration: { voters: ['n1', 'n2'], learners: ['n4'] },
    });
    const withEntry = (data: string): AppendEntries => ({
      ...heartbeat('n2', 'n1', 1),
      entries: [{ term: 2, index: 1, type: 'config', data }],
    });
    n1.endpoint.receive(peerDatagram('n2', 1, withEntry(good)), '127.0.0.1', 9);
    expect(n1.peerMessages).toHaveLength(1);
    // The sender's encoder refuses a malformed one outright...
    const bad = encodeEnvelope(
      {
        cluster: CLUSTER,
        from: 'n2',
        to: 'n1',
        body: withEntry('{"change":{"type":"add_learner","node":"n4"},"voters":[],"learners":["n4"]}'),
      },
      derivePeerKey(PEER_SECRET, 'n2'),
      { senderIncarnation: 400, receiverIncarnation: 100, counter: 2, sentAtMs: NOW },
    );
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.detail).toMatch(/config entry: no voters/);
  });

  it('a binary AppendEntries whose config entry does not decode is dropped on receipt, though its MAC verifies', () => {
    const n1 = node('n1', 100, ['n2']);
    const good = encodeConfigEntry({ change: { type: 'add_learner', node: 'n4' }, configuration: { voters: ['n1'], learners: ['n4'] } });
    const bad = good.replace('"voters":["n1"]', '"voters":["n4"]'); // n4 both voter and learner; same length
    expect(bad).not.toBe(good);
    expect(bad.length).toBe(good.length);
    const body: AppendEntries = { ...heartbeat('n2', 'n1', 1), entries: [{ term: 2, index: 1, type: 'config', data: good }] };
    const datagram = Buffer.from(peerDatagram('n2', 1, body));
    const at = datagram.indexOf(good, 0, 'utf8');
    expect(at).toBeGreaterThan(0);
    datagram.write(bad, at, 'utf8');
    // Re-seal: the forger holds n2's key (a buggy or compromised peer), so only the validators stand between it and the core.
    const macAt = datagram.length - MAC_BYTES;
    createHmac('sha256', derivePeerKey(PEER_SECRET, 'n2')).update(datagram.subarray(0, macAt)).digest().copy(datagram, macAt);
    n1.endpoint.receive(datagram, '127.0.0.1', 9);
    expect(n1.peerMessages).toEqual([]);
    expect(n1.endpoint.droppedCounts()['invalid_message']).toBe(1);
  });
});

describe('the admin key domain (issue 18)', () => {
  const admin = (): ClientEndpoint<AdminMessage> =>
    new ClientEndpoint<AdminMessage>({
      cluster: CLUSTER,
      sender: 'admin-test',
      instance: 77,
      keys: KeyRing.forAdmin(PEER_SECRET),
      domain: 'admin',
      freshnessMs: W,
      wallClockMs: () => NOW,
    });

  it('an admin request is served once it names the node incarnation (the first one is answered with it); a replay is not', () => {
    const n1 = node('n1', 100, ['n2']);
    const end = admin();
    const first = end.seal('n1', adminRequest('r1'));
    if (!first.ok) throw new Error(first.detail);
    n1.endpoint.receive(first.datagram, '10.0.0.9', 5000);
    expect(n1.adminRequests).toEqual([]);
    const answer = n1.outbox.pop();
    expect(answer?.to).toBe('10.0.0.9:5000');
    const opened = end.open(answer!.datagram);
    expect(opened).toMatchObject({
      ok: true,
      from: 'n1',
      message: { type: 'admin_response', outcome: { status: 'unavailable', reason: 'stale_receiver' } },
    });
    const second = end.seal('n1', adminRequest('r1'));
    if (!second.ok) throw new Error(second.detail);
    n1.endpoint.receive(second.datagram, '10.0.0.9', 5000);
    expect(n1.adminRequests.map((r) => r.message.requestId)).toEqual(['r1']);
    n1.endpoint.receive(second.datagram, '10.0.0.9', 5000);
    expect(n1.adminRequests).toHaveLength(1);
    expect(n1.endpoint.droppedCounts()['replayed']).toBe(1);
  });

  it('neither the client key nor a node peer key makes an admin request; the admin key makes no peer message', () => {
    const n1 = node('n1', 100, ['n2']);
    const stamp: Stamp = { senderIncarnation: 77, receiverIncarnation: 100, counter: 1, sentAtMs: NOW };
    const request: Envelope = { cluster: CLUSTER, from: 'admin-test', to: 'n1', body: adminRequest('r2') };
    for (const key of [deriveClientKey(CLIENT_SECRET), derivePeerKey(PEER_SECRET, 'n2'), derivePeerKey(PEER_SECRET, 'admin-test')]) {
      const forged = encodeEnvelope(request, key, stamp);
      if (!forged.ok) throw new Error(forged.detail);
      n1.endpoint.receive(forged.datagram, '10.0.0.9', 5000);
    }
    expect(n1.adminRequests).toEqual([]);
    expect(n1.endpoint.droppedCounts()['bad_mac']).toBe(3);
    // A client end cannot even seal one (the client ring has no admin key, and the domain is fixed).
    const client = new ClientEndpoint({
      cluster: CLUSTER,
      sender: 'c1',
      instance: 5,
      keys: KeyRing.forClient(CLIENT_SECRET),
      freshnessMs: W,
      wallClockMs: () => NOW,
    });
    expect(client.seal('n1', adminRequest('r3') as never).ok).toBe(false);
    // The admin key does not verify as n2's peer key: a heartbeat sealed with it is refused.
    const asPeer = encodeEnvelope({ cluster: CLUSTER, from: 'n2', to: 'n1', body: heartbeat('n2', 'n1', 1) }, deriveAdminKey(PEER_SECRET), {
      ...stamp,
      senderIncarnation: 400,
    });
    if (!asPeer.ok) throw new Error(asPeer.detail);
    n1.endpoint.receive(asPeer.datagram, '10.0.0.9', 5000);
    expect(n1.peerMessages).toEqual([]);
    expect(n1.endpoint.droppedCounts()['bad_mac']).toBe(4);
    // And an admin body cannot be put in the client domain under the client key: the decoder refuses the pairing.
    expect(
      decodeEnvelope(encodeEnvelopeOrThrow(request, deriveAdminKey(PEER_SECRET), stamp), KeyRing.forClient(CLIENT_SECRET), CLUSTER),
    ).toMatchObject({
      ok: false,
      reason: 'unknown_sender',
    });
  });
});

function encodeEnvelopeOrThrow(env: Envelope, key: Buffer, stamp: Stamp): Buffer {
  const r = encodeEnvelope(env, key, stamp);
  if (!r.ok) throw new Error(r.detail);
  return r.datagram;
}
