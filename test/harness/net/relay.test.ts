import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, test } from 'vitest';
import { UdpRelay } from '../../../harness/net/relay.js';
import { waitFor } from '../wait.js';

interface Endpoint {
  id: string;
  socket: Socket;
  port: number;
  got: { text: string; fromPort: number; atMs: number }[];
}

const open: { close(): void }[] = [];

afterEach(() => {
  for (const o of open.splice(0)) o.close();
});

async function endpoint(id: string): Promise<Endpoint> {
  const socket = createSocket('udp4');
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
  const ep: Endpoint = { id, socket, port: socket.address().port, got: [] };
  socket.on('message', (m, rinfo) => ep.got.push({ text: m.toString(), fromPort: rinfo.port, atMs: performance.now() }));
  open.push(socket);
  return ep;
}

async function setup(seed: number, maxDelayed?: number): Promise<{ relay: UdpRelay; eps: Endpoint[] }> {
  const eps = [await endpoint('n1'), await endpoint('n2'), await endpoint('n3')];
  const relay = await UdpRelay.start({
    nodes: eps.map((e) => ({ id: e.id, host: '127.0.0.1', port: e.port })),
    seed,
    ...(maxDelayed === undefined ? {} : { maxDelayed }),
  });
  open.push(relay);
  return { relay, eps };
}

function send(relay: UdpRelay, from: Endpoint, to: Endpoint, text: string): void {
  const a = relay.linkAddress(from.id, to.id);
  from.socket.send(text, a.port, a.host);
}

describe('UdpRelay (seeded)', () => {
  test('forwards i→j from the (j→i) link socket, so replies to the source go through the relay', async () => {
    const { relay, eps } = await setup(1);
    const [n1, n2] = eps as [Endpoint, Endpoint];
    send(relay, n1, n2, 'hello');
    await waitFor(() => n2.got.length === 1, 2000, 'n2 gets hello');
    expect(n2.got[0]!.text).toBe('hello');
    expect(n2.got[0]!.fromPort).toBe(relay.linkAddress('n2', 'n1').port);
    // n2 replies to the source address it saw: that is the n2→n1 link.
    n2.socket.send('reply', n2.got[0]!.fromPort, '127.0.0.1');
    await waitFor(() => n1.got.length === 1, 2000, 'n1 gets reply');
    expect(n1.got[0]!.text).toBe('reply');
    expect(n1.got[0]!.fromPort).toBe(relay.linkAddress('n1', 'n2').port);
    expect(relay.stats().forwarded).toBe(2);
    const routes = relay.routes();
    expect(Object.keys(routes).sort()).toEqual(['n1', 'n2', 'n3']);
    expect(routes['n1']!['n3']).toBe(`127.0.0.1:${relay.linkAddress('n1', 'n3').port}`);
  });

  test('drops datagrams from an unexpected source', async () => {
    const { relay, eps } = await setup(2);
    const [n1, n2, n3] = eps as [Endpoint, Endpoint, Endpoint];
    const a = relay.linkAddress('n1', 'n2');
    n3.socket.send('spoof', a.port, a.host); // n3 is not the sender of link n1→n2
    send(relay, n1, n2, 'real');
    await waitFor(() => relay.stats().foreign === 1 && n2.got.length === 1, 2000, 'spoof dropped, real delivered');
    expect(n2.got.map((g) => g.text)).toEqual(['real']);
  });

  test('partition(grudge) cuts exactly the links b→a for b in grudge[a]; heal restores', async () => {
    const { relay, eps } = await setup(3);
    const [n1, n2, n3] = eps as [Endpoint, Endpoint, Endpoint];
    await relay.partition({ n2: ['n1'] }); // n2 drops n1's packets; n1 still hears n2
    expect(relay.blockedLinks()).toEqual([['n1', 'n2']]);
    for (let i = 0; i < 20; i++) send(relay, n1, n2, `a${i}`);
    send(relay, n2, n1, 'back');
    send(relay, n1, n3, 'side');
    await waitFor(() => relay.stats().blocked === 20 && n1.got.length === 1 && n3.got.length === 1, 2000, 'blocked 20');
    expect(n2.got).toEqual([]);
    await relay.heal();
    send(relay, n1, n2, 'after-heal');
    await waitFor(() => n2.got.length === 1, 2000, 'delivered after heal');
    await expect(relay.partition({ n9: ['n1'] })).rejects.toThrow(/unknown node "n9"/);
  });

  test('loss drops about the configured fraction, seeded', async () => {
    const { relay, eps } = await setup(4);
    const [n1, n2] = eps as [Endpoint, Endpoint];
    await relay.setFaults({ lossRate: 0.5 }, [['n1', 'n2']]);
    for (let i = 0; i < 400; i++) send(relay, n1, n2, `m${i}`);
    await waitFor(() => relay.stats().received === 400, 3000, 'all 400 seen by the relay');
    await waitFor(() => n2.got.length === relay.stats().forwarded, 2000, 'forwarded all delivered');
    const { lost, forwarded } = relay.stats();
    expect(lost + forwarded).toBe(400);
    expect(lost).toBeGreaterThan(120); // binomial(400, 0.5): 200 ± 10σ
    expect(lost).toBeLessThan(280);
    // Other links are unaffected.
    expect(relay.faults('n2', 'n1').lossRate).toBe(0);
  });

  test('delay holds datagrams at least delayMs; jitter reorders them', async () => {
    const { relay, eps } = await setup(5);
    const [n1, n2, n3] = eps as [Endpoint, Endpoint, Endpoint];
    await relay.setFaults({ delayMs: 80 }, [['n1', 'n2']]);
    const sentAt = performance.now();
    send(relay, n1, n2, 'slow');
    await waitFor(() => n2.got.length === 1, 3000, 'delayed delivery');
    // The queue fires up to 1 ms early by design (timer granularity slack).
    expect(n2.got[0]!.atMs - sentAt).toBeGreaterThanOrEqual(79);

    await relay.setFaults({ delayMs: 2, jitterMs: 40 }, [['n1', 'n3']]);
    for (let i = 0; i < 100; i++) send(relay, n1, n3, String(i));
    await waitFor(() => n3.got.length === 100, 5000, '100 jittered datagrams');
    const order = n3.got.map((g) => Number(g.text));
    expect(order).not.toEqual([...order].sort((a, b) => a - b));
    expect(new Set(order).size).toBe(100);
    expect(relay.stats().delayed).toBe(101);
  });

  test('duplicateRate 1 delivers every datagram twice', async () => {
    const { relay, eps } = await setup(6);
    const [n1, n2] = eps as [Endpoint, Endpoint];
    await relay.setFaults({ duplicateRate: 1 });
    for (let i = 0; i < 50; i++) send(relay, n1, n2, String(i));
    await waitFor(() => n2.got.length === 100, 3000, '100 copies');
    const counts = new Map<string, number>();
    for (const g of n2.got) counts.set(g.text, (counts.get(g.text) ?? 0) + 1);
    expect([...counts.values()].every((c) => c === 2)).toBe(true);
    expect(relay.stats().duplicated).toBe(50);
    await relay.clearFaults();
    expect(relay.faults('n1', 'n2')).toEqual({ lossRate: 0, delayMs: 0, jitterMs: 0, duplicateRate: 0 });
  });

  test('the delay queue is bounded: excess datagrams are dropped and counted', async () => {
    const { relay, eps } = await setup(7, 10);
    const [n1, n2] = eps as [Endpoint, Endpoint];
    await relay.setFaults({ delayMs: 60_000 }, [['n1', 'n2']]);
    for (let i = 0; i < 30; i++) send(relay, n1, n2, String(i));
    await waitFor(() => relay.stats().received === 30, 3000, '30 received');
    expect(relay.queued).toBe(10);
    expect(relay.stats().overflow).toBe(20);
    expect(relay.stats().dropped).toBe(20);
  });

  test('a partition that starts while datagrams are delayed drops them too', async () => {
    const { relay, eps } = await setup(8);
    const [n1, n2] = eps as [Endpoint, Endpoint];
    await relay.setFaults({ delayMs: 300 }, [['n1', 'n2']]);
    for (let i = 0; i < 5; i++) send(relay, n1, n2, String(i));
    await waitFor(() => relay.queued === 5, 2000, '5 queued');
    await relay.partition({ n2: ['n1'], n1: ['n2'] });
    await waitFor(() => relay.stats().blocked === 5, 3000, '5 blocked at delivery');
    expect(n2.got).toEqual([]);
  });

  test('rejects invalid fault values', async () => {
    const { relay } = await setup(9);
    await expect(relay.setFaults({ lossRate: 1.5 })).rejects.toThrow(/lossRate/);
    await expect(relay.setFaults({ delayMs: -1 })).rejects.toThrow(/delayMs/);
    await expect(relay.setFaults({ lossRate: 0.1 }, [['n1', 'n1']])).rejects.toThrow(/no link/);
  });
});
