import dgram from 'node:dgram';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { ClientMessage } from '../../../node/protocol.js';
import type { RaftMessage } from '../../../node/raft/types.js';
import { ClientEndpoint } from '../../../node/transport/client-endpoint.js';
import { encodeEnvelope, type Envelope, type Stamp } from '../../../node/transport/codec.js';
import { KeyRing, derivePeerKey } from '../../../node/transport/keys.js';
import { NodeEndpoint, type ReplyAddress } from '../../../node/transport/node-endpoint.js';
import { UdpTransport } from '../../../node/transport/udp.js';
import { arbClientMessage, arbRaftMessage } from './arbitraries.js';

const CLUSTER = 'rift-udp-test';
const PEER_SECRET = 'udp-test-peer-secret-0123456789';
const CLIENT_SECRET = 'udp-test-client-secret-0123456789';
const NODES = ['n1', 'n2'];
const RING = KeyRing.forNode(PEER_SECRET, CLIENT_SECRET, NODES);

/** Polls `cond` until it holds or the deadline passes (no fixed sleeps). */
async function waitFor(cond: () => boolean, what: string, deadlineMs = 10_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const open: Array<{ close(): unknown }> = [];
afterEach(async () => {
  for (const c of open.splice(0)) await c.close();
});

interface TestNode {
  readonly transport: UdpTransport;
  readonly endpoint: NodeEndpoint;
  readonly peerMessages: RaftMessage[];
  readonly clientMessages: { message: ClientMessage; replyTo: ReplyAddress }[];
  readonly logs: string[];
}

/** A node's wire stack (endpoint over a real UDP socket) without a host: what arrives is collected. */
async function node(id: string, incarnation: number, ports: Map<string, number>): Promise<TestNode> {
  const peerMessages: RaftMessage[] = [];
  const clientMessages: { message: ClientMessage; replyTo: ReplyAddress }[] = [];
  const logs: string[] = [];
  let transport: UdpTransport | null = null;
  const endpoint = new NodeEndpoint({
    id,
    cluster: CLUSTER,
    nodeIds: NODES,
    keys: RING,
    incarnation,
    clientFreshnessMs: 30_000,
    tokenKey: Buffer.alloc(32, id.charCodeAt(1)),
    wallClockMs: () => Date.now(),
    toPeer: (to, datagram) => transport?.send('127.0.0.1', ports.get(to) ?? 9, datagram),
    toAddress: (host, port, datagram) => transport?.send(host, port, datagram),
    onPeerMessage: (m) => peerMessages.push(m),
    onClientMessage: (message, replyTo) => clientMessages.push({ message, replyTo }),
    log: (line) => logs.push(line),
  });
  transport = await UdpTransport.open({
    host: '127.0.0.1',
    port: 0,
    onDatagram: (d, host, port) => endpoint.receive(d, host, port),
    log: (line) => logs.push(line),
  });
  ports.set(id, transport.address().port);
  open.push(transport);
  return { transport, endpoint, peerMessages, clientMessages, logs };
}

/** Two nodes that have exchanged hellos (each knows the other's incarnation). */
async function pair(): Promise<{ a: TestNode; b: TestNode; ports: Map<string, number> }> {
  const ports = new Map<string, number>();
  const a = await node('n1', 1001, ports);
  const b = await node('n2', 2002, ports);
  a.endpoint.start();
  b.endpoint.start();
  await waitFor(() => a.endpoint.knownIncarnation('n2') === 2002 && b.endpoint.knownIncarnation('n1') === 1001, 'the hello exchange');
  return { a, b, ports };
}

interface TestClient {
  readonly transport: UdpTransport;
  readonly endpoint: ClientEndpoint;
  readonly received: { from: string; message: ClientMessage }[];
}

async function client(sender: string, instance: number): Promise<TestClient> {
  const received: { from: string; message: ClientMessage }[] = [];
  const endpoint = new ClientEndpoint({
    cluster: CLUSTER,
    sender,
    instance,
    keys: KeyRing.forClient(CLIENT_SECRET),
    freshnessMs: 30_000,
    wallClockMs: () => Date.now(),
  });
  const transport = await UdpTransport.open({
    host: '127.0.0.1',
    port: 0,
    onDatagram: (d) => {
      const opened = endpoint.open(d);
      if (opened.ok) received.push({ from: opened.from, message: opened.message });
    },
    log: () => {},
  });
  open.push(transport);
  return { transport, endpoint, received };
}

function sendFromClient(c: TestClient, to: string, port: number, body: ClientMessage): void {
  const sealed = c.endpoint.seal(to, body);
  if (!sealed.ok) throw new Error(sealed.detail);
  expect(c.transport.send('127.0.0.1', port, sealed.datagram).ok).toBe(true);
}

async function rawSocket(): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  s.on('error', () => {});
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  open.push({ close: () => new Promise<void>((r) => s.close(() => r())) });
  return s;
}

function rawSend(s: dgram.Socket, buf: Uint8Array, port: number): Promise<void> {
  return new Promise((resolve, reject) => s.send(buf, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
}

describe('UdpTransport and the endpoints on real sockets', () => {
  it('two nodes exchange peer messages of every type; a client exchanges messages of every client type with a node', async () => {
    const { a, b, ports } = await pair();
    const sent = fc.sample(arbRaftMessage, { numRuns: 60, seed: 42 }).map((m): RaftMessage => ({ ...m, from: 'n1', to: 'n2' }));
    for (const m of sent) expect(a.endpoint.sendPeer('n2', m).ok).toBe(true);
    // UDP on loopback may still drop under load: wait for what arrives, then check it is exactly what was sent.
    await waitFor(() => b.peerMessages.length === sent.length, `${sent.length} datagrams (have ${b.peerMessages.length})`);
    expect(new Set(b.peerMessages.map((m) => JSON.stringify(m)))).toEqual(new Set(sent.map((m) => JSON.stringify(m))));
    expect(b.endpoint.droppedCounts()).toEqual({});

    // A client: its first request is answered with a retry token, which it echoes; then every type gets through.
    const c = await client('c1', 77);
    const bodies = fc.sample(arbClientMessage, { numRuns: 20, seed: 43 });
    sendFromClient(c, 'n1', ports.get('n1')!, bodies[0]!);
    await waitFor(() => c.endpoint.hasToken('n1'), 'a retry token from n1');
    expect(c.received.map((r) => r.message.type)).toEqual(['retry']);
    for (const body of bodies) sendFromClient(c, 'n1', ports.get('n1')!, body);
    await waitFor(() => a.clientMessages.length === bodies.length, `${bodies.length} client messages (have ${a.clientMessages.length})`);
    expect(new Set(a.clientMessages.map((m) => JSON.stringify(m.message)))).toEqual(new Set(bodies.map((m) => JSON.stringify(m))));
    const replyTo = a.clientMessages[0]!.replyTo;
    expect(replyTo).toMatchObject({ host: '127.0.0.1', port: c.transport.address().port, sender: 'c1', instance: 77 });
    expect(
      a.endpoint.sendClient(replyTo, { type: 'client_response', clientId: 'c1', seq: 3, outcome: { status: 'ok', value: 'v' } })?.ok,
    ).toBe(true);
    await waitFor(() => c.received.length === 2, 'the reply at the client');
    expect(c.received[1]).toEqual({
      from: 'n1',
      message: { type: 'client_response', clientId: 'c1', seq: 3, outcome: { status: 'ok', value: 'v' } },
    });
    // The first request named no incarnation of n1 yet: answered with a retry (token and incarnation), not served.
    expect(a.endpoint.droppedCounts()).toEqual({ stale_receiver: 1 });
    // Every datagram n1 sent: the peer messages, its hellos, one retry and one reply.
    expect(a.transport.stats().sent).toBe(sent.length + a.endpoint.stats().hellosSent + 2);
  });

  it('forged, garbage, foreign-cluster and misaddressed datagrams are dropped and counted; the node keeps working', async () => {
    const ports = new Map<string, number>();
    const n1 = await node('n1', 1001, ports);
    const port = ports.get('n1')!;
    const raw = await rawSocket();
    const good: RaftMessage = { type: 'timeout_now', term: 9, from: 'n2', to: 'n1' };
    const env: Envelope = { cluster: CLUSTER, from: 'n2', to: 'n1', body: good };
    let counter = 0;
    const seal = (e: Envelope, key = derivePeerKey(PEER_SECRET, 'n2')): Buffer => {
      const stamp: Stamp = { senderIncarnation: 5, receiverIncarnation: 1001, counter: ++counter, sentAtMs: Date.now() };
      const r = encodeEnvelope(e, key, stamp);
      if (!r.ok) throw new Error(r.detail);
      return r.datagram;
    };

    await rawSend(raw, seal(env, derivePeerKey('the-wrong-secret-entirely', 'n2')), port); // forged
    await rawSend(raw, Buffer.from('hello'), port); // too short
    await rawSend(raw, Buffer.alloc(100, 0x41), port); // bad magic
    await rawSend(raw, seal({ ...env, cluster: 'elsewhere' }), port); // another cluster, same secret
    await rawSend(raw, seal({ ...env, to: 'n9', body: { ...good, to: 'n9' } }), port); // someone else's
    const garbage = fc.sample(fc.uint8Array({ minLength: 1, maxLength: 1500 }), { numRuns: 50, seed: 7 });
    for (const g of garbage) await rawSend(raw, g, port);
    await rawSend(raw, seal(env), port);

    await waitFor(() => n1.transport.stats().received === 5 + garbage.length + 1, 'all datagrams received');
    const dropped = n1.endpoint.droppedCounts();
    expect(dropped['bad_mac']).toBe(1);
    expect(dropped['wrong_cluster']).toBe(1);
    expect(dropped['wrong_destination']).toBe(1);
    expect(dropped['too_short']).toBeGreaterThanOrEqual(1);
    expect(dropped['bad_magic']).toBeGreaterThanOrEqual(1);
    const total = Object.values(dropped).reduce((x, y) => x + y, 0);
    expect(total).toBe(5 + garbage.length);
    expect(n1.peerMessages).toEqual([good]);
    expect(n1.logs.some((l) => l.includes('bad_mac'))).toBe(true);
  });

  it('a client takes only replies addressed to its sender id and echoing its instance', async () => {
    const ports = new Map<string, number>();
    const n1 = await node('n1', 1001, ports);
    const c = await client('client-7', 7);
    sendFromClient(c, 'n1', ports.get('n1')!, { type: 'status_request', requestId: 'r1' });
    await waitFor(() => c.endpoint.hasToken('n1'), 'a retry token');
    sendFromClient(c, 'n1', ports.get('n1')!, { type: 'status_request', requestId: 'r1' });
    await waitFor(() => n1.clientMessages.length === 1, 'the request at n1');
    const replyTo = n1.clientMessages[0]!.replyTo;
    const response: ClientMessage = { type: 'client_response', clientId: 'client-7', seq: 3, outcome: { status: 'ok', value: 'v' } };
    // To another instance of the same sender, and to another sender at the same address: refused.
    n1.endpoint.sendClient({ ...replyTo, instance: 8 }, response);
    n1.endpoint.sendClient({ ...replyTo, sender: 'client-8' }, response);
    n1.endpoint.sendClient(replyTo, response);
    await waitFor(() => c.received.length === 2, 'the response at the client');
    expect(c.received.map((r) => r.message)).toEqual([{ type: 'retry', token: expect.any(String) }, response]);
  });

  it('sending to a closed port, an oversized or invalid message, or after close never throws', async () => {
    const ports = new Map<string, number>();
    const n1 = await node('n1', 1001, ports);
    const raw = await rawSocket();
    const closedPort = raw.address().port;
    await new Promise<void>((r) => raw.close(() => r()));
    open.pop();
    ports.set('n2', closedPort);
    const msg: RaftMessage = { type: 'timeout_now', term: 1, from: 'n1', to: 'n2' };
    for (let i = 0; i < 20; i++) expect(n1.endpoint.sendPeer('n2', msg).ok).toBe(true);
    const big: RaftMessage = {
      type: 'append_entries',
      term: 1,
      from: 'n1',
      to: 'n2',
      prevLogIndex: 0,
      prevLogTerm: 0,
      leaderCommit: 0,
      seq: 1,
      entries: [{ term: 1, index: 1, type: 'command', data: 'x'.repeat(65_500) }],
    };
    expect(n1.endpoint.sendPeer('n2', big)).toMatchObject({ ok: false, reason: 'oversized' });
    expect(n1.endpoint.sendPeer('n2', { ...msg, term: -1 })).toMatchObject({ ok: false, reason: 'invalid_message' });
    expect(n1.transport.send('127.0.0.1', 70_000, Buffer.from('x'))).toMatchObject({ ok: false, reason: 'bad_address' });
    await n1.transport.close();
    expect(n1.transport.send('127.0.0.1', closedPort, Buffer.from('x'))).toMatchObject({ ok: false, reason: 'closed' });
  });

  it('binding a port in use is a rejected promise, not a crash', async () => {
    const first = await UdpTransport.open({ host: '127.0.0.1', port: 0, onDatagram: () => {}, log: () => {} });
    open.push(first);
    await expect(UdpTransport.open({ host: '127.0.0.1', port: first.address().port, onDatagram: () => {}, log: () => {} })).rejects.toThrow(
      /cannot bind/,
    );
  });
});
