import dgram from 'node:dgram';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { deriveKey, encodeEnvelope } from '../../../node/transport/codec.js';
import type { Envelope } from '../../../node/transport/codec.js';
import { UdpTransport } from '../../../node/transport/udp.js';
import { arbEnvelope } from './arbitraries.js';

const CLUSTER = 'rift-udp-test';
const KEY = deriveKey('udp-test-secret-0123456789');

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

async function transport(localId: string | null, received: Envelope[], logs: string[] = []): Promise<UdpTransport> {
  const t = await UdpTransport.open({
    host: '127.0.0.1',
    port: 0,
    cluster: CLUSTER,
    key: KEY,
    localId,
    onEnvelope: (env) => received.push(env),
    log: (line) => logs.push(line),
  });
  open.push(t);
  return t;
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

describe('UdpTransport on real sockets', () => {
  it('two transports exchange messages of every type', async () => {
    const gotA: Envelope[] = [];
    const gotB: Envelope[] = [];
    const a = await transport('n1', gotA);
    const b = await transport('n2', gotB);
    const sent = fc.sample(arbEnvelope(CLUSTER), { numRuns: 60, seed: 42 }).map((e): Envelope => {
      // Address each message to n2 (and keep Raft bodies consistent with their envelope).
      return 'from' in e.body
        ? { cluster: CLUSTER, from: 'n1', to: 'n2', body: { ...e.body, from: 'n1', to: 'n2' } }
        : { ...e, from: 'n1', to: 'n2' };
    });
    for (const env of sent) expect(a.send('127.0.0.1', b.address().port, env).ok).toBe(true);
    // UDP on loopback may still drop under load: wait for what arrives, then check it is exactly what was sent.
    await waitFor(() => gotB.length === sent.length, `${sent.length} datagrams (have ${gotB.length})`);
    expect(new Set(gotB.map((e) => JSON.stringify(e)))).toEqual(new Set(sent.map((e) => JSON.stringify(e))));
    expect(b.droppedCounts()).toEqual({});

    a.send('127.0.0.1', a.address().port, { cluster: CLUSTER, from: 'n2', to: 'n1', body: { type: 'status_request', requestId: 'r1' } });
    expect(b.send('127.0.0.1', a.address().port, { cluster: CLUSTER, from: 'n2', to: 'n1', body: { type: 'timeout_now', term: 9, from: 'n2', to: 'n1' } }).ok).toBe(true);
    await waitFor(() => gotA.length === 2, 'replies at n1');
    expect(gotA.map((e) => e.body.type).sort()).toEqual(['status_request', 'timeout_now']);
    expect(a.stats().sent).toBe(sent.length + 1);
  });

  it('forged, garbage, foreign-cluster and misaddressed datagrams are dropped and counted; the node keeps working', async () => {
    const got: Envelope[] = [];
    const logs: string[] = [];
    const node = await transport('n1', got, logs);
    const port = node.address().port;
    const raw = await rawSocket();
    const good: Envelope = { cluster: CLUSTER, from: 'c1', to: 'n1', body: { type: 'status_request', requestId: 'ok' } };
    const seal = (env: Envelope, key = KEY): Buffer => {
      const r = encodeEnvelope(env, key);
      if (!r.ok) throw new Error(r.detail);
      return r.datagram;
    };

    await rawSend(raw, seal(good, deriveKey('the-wrong-secret-entirely')), port); // forged
    await rawSend(raw, Buffer.from('hello'), port); // too short
    await rawSend(raw, Buffer.alloc(100, 0x41), port); // bad magic
    await rawSend(raw, seal({ ...good, cluster: 'elsewhere' }), port); // another cluster, same secret
    await rawSend(raw, seal({ ...good, to: 'n9' }), port); // someone else's
    const garbage = fc.sample(fc.uint8Array({ minLength: 1, maxLength: 1500 }), { numRuns: 50, seed: 7 });
    for (const g of garbage) await rawSend(raw, g, port);
    await rawSend(raw, seal(good), port);

    await waitFor(() => node.stats().received === 5 + garbage.length + 1, 'all datagrams received');
    const dropped = node.droppedCounts();
    expect(dropped['bad_mac']).toBe(1);
    expect(dropped['wrong_cluster']).toBe(1);
    expect(dropped['wrong_destination']).toBe(1);
    expect(dropped['too_short']).toBeGreaterThanOrEqual(1);
    expect(dropped['bad_magic']).toBeGreaterThanOrEqual(1);
    const total = Object.values(dropped).reduce((x, y) => x + y, 0);
    expect(total).toBe(5 + garbage.length);
    expect(got).toEqual([good]);
    expect(logs.some((l) => l.includes('bad_mac'))).toBe(true);
  });

  it('a transport with localId null accepts any destination', async () => {
    const got: Envelope[] = [];
    const client = await transport(null, got);
    const node = await transport('n1', []);
    node.send('127.0.0.1', client.address().port, { cluster: CLUSTER, from: 'n1', to: 'client-7', body: { type: 'client_response', clientId: 'client-7', seq: 3, outcome: { status: 'ok', value: 'v' } } });
    await waitFor(() => got.length === 1, 'response at the client');
    expect(got[0]?.to).toBe('client-7');
  });

  it('sending to a closed port, an oversized or invalid message, or after close never throws', async () => {
    const node = await transport('n1', []);
    const raw = await rawSocket();
    const closedPort = raw.address().port;
    await new Promise<void>((r) => raw.close(() => r()));
    open.pop();
    const env: Envelope = { cluster: CLUSTER, from: 'n1', to: 'n2', body: { type: 'status_request', requestId: 'r' } };
    for (let i = 0; i < 20; i++) expect(node.send('127.0.0.1', closedPort, env).ok).toBe(true);
    const big: Envelope = { ...env, body: { type: 'client_request', clientId: 'c', seq: 1, op: { type: 'put', key: 'k', value: 'x'.repeat(65_500) } } };
    expect(node.send('127.0.0.1', closedPort, big)).toMatchObject({ ok: false, reason: 'oversized' });
    const bad = { ...env, body: { type: 'status_request', requestId: '' } } as Envelope;
    expect(node.send('127.0.0.1', closedPort, bad)).toMatchObject({ ok: false, reason: 'invalid_message' });
    expect(node.send('127.0.0.1', 70_000, env)).toMatchObject({ ok: false, reason: 'bad_address' });
    await node.close();
    expect(node.send('127.0.0.1', closedPort, env)).toMatchObject({ ok: false, reason: 'closed' });
  });

  it('binding a port in use is a rejected promise, not a crash', async () => {
    const first = await transport('n1', []);
    await expect(
      UdpTransport.open({ host: '127.0.0.1', port: first.address().port, cluster: CLUSTER, key: KEY, localId: 'n2', onEnvelope: () => {}, log: () => {} }),
    ).rejects.toThrow(/cannot bind/);
  });
});
