/**
 * The relay's replay stage (harness/net/replay-stage.ts), as a unit: what it
 * holds back, keeps, and gives back when a sender leads a later term; and,
 * through a real relay with real sockets, that held datagrams arrive once,
 * late, and replayed copies arrive again, with per-link counters.
 */
import { describe, expect, test } from 'vitest';
import { UdpRelay } from '../../../harness/net/relay.js';
import { ReplayStage } from '../../../harness/net/replay-stage.js';
import { encodeEnvelope } from '../../../node/transport/codec.js';
import { derivePeerKey } from '../../../node/transport/keys.js';
import { waitFor } from '../wait.js';
import { udpEndpoints } from './udp-endpoints.js';

const secret = 'a-test-secret-of-24-chars';
let counter = 0;

/** A real AppendEntries datagram (binary form) from `from` to `to` in `term` with `seq`. */
function ae(from: string, to: string, term: number, seq: number): Buffer {
  const r = encodeEnvelope(
    {
      cluster: 'rift-test',
      from,
      to,
      body: { type: 'append_entries', term, from, to, prevLogIndex: 0, prevLogTerm: 0, entries: [], leaderCommit: 0, seq },
    },
    derivePeerKey(secret, from),
    { senderIncarnation: 1, receiverIncarnation: 1, counter: ++counter, sentAtMs: 1 },
  );
  if (!r.ok) throw new Error(r.detail);
  return Buffer.from(r.datagram);
}

const always = (): number => 0;
const never = (): number => 0.999;

describe('ReplayStage', () => {
  test('hold: a drawn AppendEntries is held; the first later-term one on its link releases it, once', () => {
    const stage = new ReplayStage();
    stage.set({ mode: 'hold', fraction: 0.5, maxAgeMs: 60_000 });
    const old = ae('n1', 'n2', 3, 500);
    expect(stage.onAppendEntries('n1>n2', 3, old, 0, always)).toEqual({ hold: true, release: [] });
    expect(stage.onAppendEntries('n1>n2', 3, ae('n1', 'n2', 3, 501), 10, never)).toEqual({ hold: false, release: [] });
    expect(stage.holding).toBe(1);
    // Another link's later term releases nothing here.
    expect(stage.onAppendEntries('n1>n3', 5, ae('n1', 'n3', 5, 1), 20, never).release).toEqual([]);
    const later = stage.onAppendEntries('n1>n2', 5, ae('n1', 'n2', 5, 1), 30, never);
    expect(later.hold).toBe(false);
    expect(later.release).toEqual([{ link: 'n1>n2', msg: old, how: 'held', acrossTerms: true }]);
    expect(stage.holding).toBe(0);
    expect(stage.releaseAllHeld()).toEqual([]);
  });

  test('holdAllFrom: every AppendEntries of that sender is held (no draw), others pass; after null nothing new is held and the held ones still travel', () => {
    const stage = new ReplayStage();
    stage.holdAllFrom('n1', 5000);
    const drew: string[] = [];
    const draw = (): number => {
      drew.push('draw');
      return 0.999;
    };
    const a = ae('n1', 'n2', 4, 900);
    const b = ae('n1', 'n2', 4, 901);
    expect(stage.onAppendEntries('n1>n2', 4, a, 0, draw).hold).toBe(true);
    expect(stage.onAppendEntries('n1>n2', 4, b, 5, draw).hold).toBe(true);
    // n10's links are not n1's.
    expect(stage.onAppendEntries('n10>n2', 4, ae('n10', 'n2', 4, 1), 6, draw).hold).toBe(false);
    expect(stage.onAppendEntries('n2>n1', 4, ae('n2', 'n1', 4, 1), 7, draw).hold).toBe(false);
    expect(drew).toEqual([]); // no fraction fault on: nothing drawn
    expect(stage.holding).toBe(2);
    stage.holdAllFrom(null);
    expect(stage.onAppendEntries('n1>n3', 4, ae('n1', 'n3', 4, 902), 8, draw).hold).toBe(false);
    // n1 leads a later term on n1>n2: both held ones leave, oldest first, across terms.
    const later = stage.onAppendEntries('n1>n2', 6, ae('n1', 'n2', 6, 1), 100, draw);
    expect(later).toEqual({
      hold: false,
      release: [
        { link: 'n1>n2', msg: a, how: 'held', acrossTerms: true },
        { link: 'n1>n2', msg: b, how: 'held', acrossTerms: true },
      ],
    });
    // What no later term released leaves at its own maxAgeMs.
    stage.holdAllFrom('n3', 1000);
    const c = ae('n3', 'n4', 6, 3);
    stage.onAppendEntries('n3>n4', 6, c, 200, draw);
    expect(stage.expire(1199)).toEqual([]);
    expect(stage.expire(1200)).toEqual([{ link: 'n3>n4', msg: c, how: 'held', acrossTerms: false }]);
  });

  test('hold: what no later term released leaves at maxAgeMs; a stopped fault holds nothing new but its held ones still travel; the final heal flushes', () => {
    const stage = new ReplayStage();
    stage.set({ mode: 'hold', fraction: 1, maxAgeMs: 1000 });
    const a = ae('n1', 'n2', 2, 7);
    const b = ae('n1', 'n3', 2, 8);
    const c = ae('n1', 'n4', 2, 9);
    stage.onAppendEntries('n1>n2', 2, a, 0, always);
    stage.onAppendEntries('n1>n3', 2, b, 600, always);
    stage.onAppendEntries('n1>n4', 2, c, 700, always);
    expect(stage.expire(999)).toEqual([]);
    expect(stage.expire(1000)).toEqual([{ link: 'n1>n2', msg: a, how: 'held', acrossTerms: false }]);
    stage.set(null);
    // Stopped: nothing new is held...
    expect(stage.onAppendEntries('n1>n2', 2, a, 1200, always).hold).toBe(false);
    // ...but the held ones still arrive at their time, or on a later term of their sender.
    expect(stage.expire(1599)).toEqual([]);
    expect(stage.expire(1600)).toEqual([{ link: 'n1>n3', msg: b, how: 'held', acrossTerms: false }]);
    expect(stage.holding).toBe(1);
    expect(stage.releaseAllHeld()).toEqual([{ link: 'n1>n4', msg: c, how: 'held', acrossTerms: false }]);
  });

  test('replay: copies of earlier terms are sent again when the sender leads a later term; only while on; old ones aged out', () => {
    const stage = new ReplayStage({ ringPerTerm: 2 });
    const t1 = [ae('n1', 'n2', 1, 1), ae('n1', 'n2', 1, 2), ae('n1', 'n2', 1, 3)];
    t1.forEach((m, i) => stage.onAppendEntries('n1>n2', 1, m, i, never));
    // Off: a later term replays nothing.
    expect(stage.onAppendEntries('n1>n2', 2, ae('n1', 'n2', 2, 1), 10, never).release).toEqual([]);
    stage.set({ mode: 'replay', fraction: 0, maxAgeMs: 5_000 });
    const t3 = stage.onAppendEntries('n1>n2', 3, ae('n1', 'n2', 3, 1), 20, never);
    expect(t3.hold).toBe(false);
    // The ring kept the last two of term 1 and the one of term 2; all are sent again.
    expect(t3.release.map((r) => r.msg)).toEqual([t1[1], t1[2], expect.any(Buffer)]);
    expect(t3.release.every((r) => r.how === 'replayed' && r.link === 'n1>n2' && r.acrossTerms)).toBe(true);
    // Much later, the copies are too old to replay.
    expect(stage.onAppendEntries('n1>n2', 4, ae('n1', 'n2', 4, 1), 10_000, never).release).toEqual([]);
  });

  test('bounded: at most maxHeld held', () => {
    const stage = new ReplayStage({ maxHeld: 3 });
    stage.set({ mode: 'hold', fraction: 1, maxAgeMs: 60_000 });
    const held = Array.from({ length: 10 }, (_, i) => stage.onAppendEntries('n1>n2', 1, ae('n1', 'n2', 1, i), i, always).hold);
    expect(held.filter(Boolean)).toHaveLength(3);
    expect(stage.holding).toBe(3);
  });
});

describe('UdpRelay replay fault (real sockets)', () => {
  const { endpoint, keep } = udpEndpoints();

  test('hold delivers each held AppendEntries once, after the later term; replay sends copies again; counted per link', async () => {
    const [n1, n2] = [await endpoint(), await endpoint()];
    const relay = await UdpRelay.start({
      nodes: [
        { id: 'n1', host: '127.0.0.1', port: n1.port },
        { id: 'n2', host: '127.0.0.1', port: n2.port },
      ],
      seed: 1,
    });
    keep(relay);
    const to = relay.linkAddress('n1', 'n2');
    const send = (m: Buffer): void => void n1.socket.send(m, to.port, to.host);

    await relay.setReplay({ mode: 'hold', fraction: 1, maxAgeMs: 60_000 });
    const old = [ae('n1', 'n2', 1, 100), ae('n1', 'n2', 1, 101)];
    old.forEach(send);
    await waitFor(() => relay.holding === 2, 2000, 'two held');
    expect(n2.got).toHaveLength(0);
    await relay.setReplay({ mode: 'hold', fraction: 0, maxAgeMs: 60_000 }); // hold nothing new, keep what is held
    const next = ae('n1', 'n2', 2, 1);
    send(next);
    await waitFor(() => n2.got.length === 3, 2000, 'the later-term one, then the two held');
    expect(n2.got[0]).toEqual(next);
    expect(n2.got.slice(1)).toEqual(old);
    expect(relay.linkStats()['n1>n2']).toMatchObject({ received: 3, held: 2, heldAcrossTerms: 2, forwarded: 3, replayed: 0 });

    await relay.setReplay({ mode: 'replay', fraction: 0, maxAgeMs: 60_000 });
    send(ae('n1', 'n2', 3, 1));
    // Term 3 replays the copies of terms 1 and 2 the relay kept.
    await waitFor(() => n2.got.length === 7, 2000, 'term 3 plus 3 copies');
    expect(
      n2.got
        .slice(4)
        .map((m) => m.toString('hex'))
        .sort(),
    ).toEqual([...old, next].map((m) => m.toString('hex')).sort());
    expect(relay.linkStats()['n1>n2']).toMatchObject({ received: 4, replayed: 3, forwarded: 7 });
    expect(relay.linkStats()['n2>n1']).toMatchObject({ received: 0, forwarded: 0 });
    await relay.setReplay(null);
  });

  test('holdAllFrom holds every AppendEntries of one sender until it leads a later term; the other direction passes; unknown nodes refused', async () => {
    const [n1, n2] = [await endpoint(), await endpoint()];
    const relay = await UdpRelay.start({
      nodes: [
        { id: 'n1', host: '127.0.0.1', port: n1.port },
        { id: 'n2', host: '127.0.0.1', port: n2.port },
      ],
      seed: 2,
    });
    keep(relay);
    const to2 = relay.linkAddress('n1', 'n2');
    const to1 = relay.linkAddress('n2', 'n1');
    await expect(relay.holdAllFrom('n9')).rejects.toThrow(/unknown node/);
    await relay.holdAllFrom('n1', 60_000);
    const old = [ae('n1', 'n2', 1, 300), ae('n1', 'n2', 1, 301), ae('n1', 'n2', 1, 302)];
    for (const m of old) n1.socket.send(m, to2.port, to2.host);
    const back = ae('n2', 'n1', 2, 1);
    n2.socket.send(back, to1.port, to1.host);
    await waitFor(() => relay.holding === 3 && n1.got.length === 1, 2000, 'three held, the other direction delivered');
    expect(n1.got[0]).toEqual(back);
    expect(n2.got).toHaveLength(0);
    await relay.holdAllFrom(null);
    const next = ae('n1', 'n2', 3, 1);
    n1.socket.send(next, to2.port, to2.host);
    await waitFor(() => n2.got.length === 4, 2000, 'the later-term one, then the three held');
    expect(n2.got[0]).toEqual(next);
    expect(n2.got.slice(1)).toEqual(old);
    expect(relay.linkStats()['n1>n2']).toMatchObject({ received: 4, held: 3, heldAcrossTerms: 3, forwarded: 4 });
  });
});
