/**
 * The client links' relay (harness/net/client-relay.ts) on real UDP sockets
 * on loopback: a node answers every datagram to its sender, a client sends
 * to the node's front address. Replies (and requests) the relay drops are
 * real datagrams that never arrive; once the loss stops they flow again.
 */
import type { RemoteInfo } from 'node:dgram';
import { describe, expect, test } from 'vitest';
import { ClientRelay, clientsLink } from '../../../harness/net/client-relay.js';
import { waitFor } from '../wait.js';
import { udpEndpoints, type UdpEndpoint } from './udp-endpoints.js';

const { endpoint, keep } = udpEndpoints();

interface Setup {
  readonly relay: ClientRelay;
  readonly node: UdpEndpoint;
  /** The addresses the node saw requests come from ("host:port"). */
  readonly seenFrom: string[];
  readonly client: UdpEndpoint;
  /** The ports the client's replies came from. */
  readonly repliesFrom: number[];
  send(text: string): void;
}

/** One node that answers `re:<text>` to whoever sent `<text>`, one client, and the relay between them. */
async function setup(seed: number): Promise<Setup> {
  const node = await endpoint();
  const seenFrom: string[] = [];
  node.socket.on('message', (m: Buffer, r: RemoteInfo) => {
    seenFrom.push(`${r.address}:${r.port}`);
    node.socket.send(`re:${m.toString()}`, r.port, r.address);
  });
  const relay = keep(await ClientRelay.start({ nodes: [{ id: 'n1', host: '127.0.0.1', port: node.port }], seed }));
  const client = await endpoint();
  const repliesFrom: number[] = [];
  client.socket.on('message', (_m: Buffer, r: RemoteInfo) => repliesFrom.push(r.port));
  const front = relay.frontAddress('n1');
  return { relay, node, seenFrom, client, repliesFrom, send: (text) => client.socket.send(text, front.port, front.host) };
}

const texts = (e: UdpEndpoint): string[] => e.got.map((b) => b.toString());

describe('ClientRelay', () => {
  test('carries a request to the node and its reply back, from the front the client sent to; the node sees one address per client', async () => {
    const s = await setup(1);
    s.send('a');
    s.send('b');
    await waitFor(() => s.client.got.length === 2, 2000, 'both replies');
    expect(texts(s.client).sort()).toEqual(['re:a', 're:b']);
    expect(new Set(s.repliesFrom)).toEqual(new Set([s.relay.frontAddress('n1').port]));
    expect(new Set(s.seenFrom).size).toBe(1);
    expect(s.seenFrom[0]).not.toBe(`127.0.0.1:${s.client.port}`); // the node hears the relay's back socket, not the client
    expect(s.relay.linkStats()[clientsLink.toNode('n1')]).toMatchObject({ received: 2, forwarded: 2, lost: 0 });
    expect(s.relay.linkStats()[clientsLink.fromNode('n1')]).toMatchObject({ received: 2, forwarded: 2, lost: 0 });
  });

  test('while reply loss is 1 the node gets every request and the client no reply; after it stops replies arrive again', async () => {
    const s = await setup(2);
    await s.relay.setClientLoss({ replies: 1, requests: 0 });
    for (let i = 0; i < 20; i++) s.send(`lost${i}`);
    await waitFor(() => s.relay.linkStats()[clientsLink.fromNode('n1')]!.lost === 20, 2000, '20 replies dropped by the relay');
    expect(texts(s.node).length).toBe(20); // every request was applied, so to speak: only its answer is gone
    expect(s.client.got).toEqual([]);
    await s.relay.setClientLoss({ replies: 0, requests: 0 });
    s.send('after');
    await waitFor(() => s.client.got.length === 1, 2000, 'the reply after the loss stopped');
    expect(texts(s.client)).toEqual(['re:after']);
    expect(s.relay.linkStats()[clientsLink.fromNode('n1')]).toMatchObject({ received: 21, forwarded: 1, lost: 20 });
  });

  test('with request loss 1 nothing reaches the node; after it stops requests do', async () => {
    const s = await setup(3);
    await s.relay.setClientLoss({ replies: 0, requests: 1 });
    for (let i = 0; i < 10; i++) s.send(`req${i}`);
    await waitFor(() => s.relay.linkStats()[clientsLink.toNode('n1')]!.lost === 10, 2000, '10 requests dropped by the relay');
    await s.relay.setClientLoss({ replies: 0, requests: 0 });
    s.send('after');
    await waitFor(() => s.client.got.length === 1, 2000, 'the request after the loss, answered');
    expect(texts(s.node)).toEqual(['after']);
    expect(texts(s.client)).toEqual(['re:after']);
  });

  test('a partial reply loss drops about that share, seeded; every reply is counted once', async () => {
    const seed = Math.floor(Math.random() * 2 ** 31);
    console.log(`client relay partial loss: seed ${seed}`);
    const s = await setup(seed);
    await s.relay.setClientLoss({ replies: 0.5, requests: 0 });
    const n = 200;
    for (let i = 0; i < n; i++) s.send(`p${i}`);
    const from = (): { received: number; forwarded: number; lost: number } => s.relay.linkStats()[clientsLink.fromNode('n1')]!;
    await waitFor(() => from().received === n, 5000, `${n} replies through the relay (seed ${seed})`);
    await waitFor(() => s.client.got.length === from().forwarded, 2000, `the forwarded replies arrive (seed ${seed})`);
    expect(from().lost + from().forwarded, `seed ${seed}`).toBe(n);
    // Binomial(200, 0.5): outside [60, 140] has odds below 1e-8.
    expect(from().lost, `seed ${seed}`).toBeGreaterThan(60);
    expect(from().lost, `seed ${seed}`).toBeLessThan(140);
  });

  test('refuses rates outside [0, 1]', async () => {
    const s = await setup(4);
    await expect(s.relay.setClientLoss({ replies: 1.5, requests: 0 })).rejects.toThrow(/replies/);
    await expect(s.relay.setClientLoss({ replies: 0, requests: -0.1 })).rejects.toThrow(/requests/);
  });
});
