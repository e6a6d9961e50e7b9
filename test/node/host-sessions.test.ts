/**
 * Client sessions through the real host (issue 15 defect 6), and the replay
 * that rolled a key back once its session was evicted (defect 5): a one-node
 * NodeHost on a fake clock, fed through the real NodeEndpoint and
 * ClientEndpoint where the wire matters.
 */
import { describe, expect, it } from 'vitest';
import { AdjustableClock } from '../../node/clock/adjustable-clock.js';
import { validateConfig } from '../../node/config.js';
import { NodeHost } from '../../node/host.js';
import type { ClientMessage, ClientOutcome, ClientRequest, KvOp } from '../../node/protocol.js';
import { openMemoryStorage } from '../../node/storage/memory-storage.js';
import { ClientEndpoint } from '../../node/transport/client-endpoint.js';
import { KeyRing } from '../../node/transport/keys.js';
import { NodeEndpoint, type ReplyAddress } from '../../node/transport/node-endpoint.js';
import { decodeEnvelope } from '../../node/transport/codec.js';
import { noUnsafeFlags } from '../../node/unsafe-flags.js';
import { FakeReal } from './clock/fake-real.js';

const T0 = 1_700_000_000_000;
const config = validateConfig(
  {
    cluster: 'sessions-test',
    peerSecret: 'sessions-test-peer-secret-0123456789',
    clientSecret: 'sessions-test-client-secret-0123456789',
    dataDir: '/nonexistent',
    nodes: [{ id: 'n1', host: '127.0.0.1', port: 7001 }],
  },
  '/',
);
const RING = KeyRing.forNode(config.peerSecret, config.clientSecret, ['n1']);

interface Run {
  readonly host: NodeHost;
  readonly real: FakeReal;
  readonly endpoint: NodeEndpoint;
  /** Replies by destination address ("host:port"). */
  readonly datagrams: Map<string, Buffer[]>;
  /** Replies the host sent, in order, with where they went. */
  readonly replies: { to: ReplyAddress; message: ClientMessage }[];
}

function start(maxSessions?: number): Run {
  const real = new FakeReal();
  const clock = new AdjustableClock({ realNowMs: () => real.nowMs, scheduler: real });
  const { storage, stored } = openMemoryStorage();
  const datagrams = new Map<string, Buffer[]>();
  const replies: { to: ReplyAddress; message: ClientMessage }[] = [];
  let host: NodeHost | null = null;
  const endpoint = new NodeEndpoint({
    id: 'n1',
    cluster: config.cluster,
    nodeIds: ['n1'],
    keys: RING,
    incarnation: 1,
    clientFreshnessMs: config.clientFreshnessMs,
    tokenKey: Buffer.alloc(32, 3),
    wallClockMs: () => T0 + real.nowMs,
    toPeer: () => undefined,
    toAddress: (h, p, datagram) => {
      const key = `${h}:${p}`;
      datagrams.set(key, [...(datagrams.get(key) ?? []), datagram]);
    },
    onPeerMessage: (m) => host?.onPeerMessage(m),
    onClientMessage: (m, replyTo) => host?.onClientMessage(m, replyTo),
    log: () => undefined,
  });
  host = new NodeHost({
    id: 'n1',
    config,
    unsafe: noUnsafeFlags,
    stored,
    seed: 5,
    ...(maxSessions !== undefined ? { maxSessions } : {}),
    io: {
      storage,
      clock,
      sendPeer: () => undefined,
      sendClient: (to, message) => {
        replies.push({ to, message });
        endpoint.sendClient(to, message);
      },
      log: () => undefined,
      droppedCounts: () => endpoint.droppedCounts(),
    },
  });
  host.start();
  return { host, real, endpoint, datagrams, replies };
}

/** One turn of the event loop: the memory storage's promise continuations run. No time passes. */
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Advances fake time 10 ms at a time until `done`, failing after `maxMs` of fake time. */
async function until(run: Run, done: () => boolean, what: string, maxMs = 5000): Promise<void> {
  for (let ms = 0; ms <= maxMs; ms += 10) {
    await turn();
    if (done()) return;
    run.real.advance(10);
  }
  throw new Error(`not within ${maxMs} ms of fake time: ${what}`);
}

async function leader(run: Run): Promise<void> {
  await until(
    run,
    () => run.host.raft().status().role === 'leader' && run.host.stateMachine().lastApplied >= 1,
    'n1 leads with its noop applied',
  );
}

/** Sends `request` straight to the host (no wire) from `address`; returns the outcome of the reply it gets. */
async function direct(run: Run, request: ClientRequest, port: number): Promise<ClientOutcome> {
  const before = run.replies.length;
  run.host.onClientMessage(request, { host: '10.0.0.1', port, sender: request.clientId, instance: request.instance });
  await until(run, () => run.replies.length > before, `a reply to ${request.clientId} seq ${request.seq}`);
  const reply = run.replies[before]!.message;
  if (reply.type !== 'client_response') throw new Error(`unexpected ${reply.type}`);
  expect(reply.seq).toBe(request.seq);
  return reply.outcome;
}

const req = (clientId: string, instance: number, seq: number, op: KvOp): ClientRequest => ({
  type: 'client_request',
  clientId,
  instance,
  seq,
  op,
});
const put = (key: string, value: string): KvOp => ({ type: 'put', key, value });

describe('session table through the host (defect 6)', () => {
  it("a reused clientId gets a definite session_conflict for every seq, never the other client's cached result, and nothing of it is applied", async () => {
    const run = start();
    await leader(run);
    // The first client, instance 1.
    expect(await direct(run, req('dup', 1, 1, put('dk', 'one')), 1)).toEqual({ status: 'ok', value: 'one' });
    expect(await direct(run, req('dup', 1, 2, put('dk', 'two')), 1)).toEqual({ status: 'ok', value: 'two' });
    expect(await direct(run, req('dup', 1, 3, put('dk2', 'a2')), 1)).toEqual({ status: 'ok', value: 'a2' });
    // A second client with the same id: seq 1 and 2 (below the session's: they timed out before), seq 3 (got "ok a2" before).
    for (const seq of [1, 2, 3]) {
      const outcome = await direct(run, req('dup', 2, seq, put('dk', `fourth-${seq}`)), 2);
      expect(outcome).toMatchObject({ status: 'rejected', code: 'session_conflict' });
    }
    expect(run.host.stateMachine().read('dk')).toBe('two');
    expect(run.host.stateMachine().read('dk2')).toBe('a2');
  });

  it('the same seq with another op is a definite op_mismatch; an old seq of the same client is answered (stale_seq), not left to time out', async () => {
    const run = start();
    await leader(run);
    expect(await direct(run, req('c', 1, 1, put('k', 'a')), 1)).toEqual({ status: 'ok', value: 'a' });
    expect(await direct(run, req('c', 1, 1, put('k', 'a')), 1)).toEqual({ status: 'ok', value: 'a' }); // a retry
    expect(await direct(run, req('c', 1, 1, put('k', 'b')), 1)).toMatchObject({ status: 'rejected', code: 'op_mismatch' });
    expect(await direct(run, req('c', 1, 2, put('k', 'c')), 1)).toEqual({ status: 'ok', value: 'c' });
    expect(await direct(run, req('c', 1, 1, put('k', 'a')), 1)).toMatchObject({ status: 'rejected', code: 'stale_seq' });
    expect(run.host.stateMachine().read('k')).toBe('c');
  });
});

describe('a byte-for-byte replay of a captured put after its session was evicted (defect 5)', () => {
  it('is refused by the wire, so the key is not rolled back; the same request handed to the host directly would have been', async () => {
    const run = start(2);
    await leader(run);
    const nowMs = (): number => T0 + run.real.nowMs;
    const clients = new Map<string, ClientEndpoint>();
    const endpointOf = (sender: string, instance: number): ClientEndpoint => {
      let c = clients.get(sender);
      if (c === undefined) {
        c = new ClientEndpoint({
          cluster: config.cluster,
          sender,
          instance,
          keys: KeyRing.forClient(config.clientSecret),
          freshnessMs: config.clientFreshnessMs,
          wallClockMs: nowMs,
        });
        clients.set(sender, c);
      }
      return c;
    };
    /** Sends through the wire like a client (following a retry once); returns the datagram that was served. */
    const send = async (sender: string, instance: number, seq: number, op: KvOp, port: number): Promise<Buffer> => {
      const c = endpointOf(sender, instance);
      const address = `10.0.0.9:${port}`;
      for (let attempt = 0; attempt < 2; attempt++) {
        const sealed = c.seal('n1', req(sender, instance, seq, op));
        if (!sealed.ok) throw new Error(sealed.detail);
        const repliesBefore = run.replies.length;
        const datagramsBefore = run.datagrams.get(address)?.length ?? 0;
        run.endpoint.receive(sealed.datagram, '10.0.0.9', port);
        await until(
          run,
          () => run.replies.length > repliesBefore || (run.datagrams.get(address)?.length ?? 0) > datagramsBefore,
          'an answer',
        );
        const answer = run.datagrams.get(address)!.at(-1)!;
        const opened = c.open(answer);
        if (!opened.ok) throw new Error(opened.detail);
        if (opened.message.type === 'client_response') {
          expect(opened.message.outcome).toMatchObject({ status: 'ok' });
          return sealed.datagram;
        }
        expect(opened.message.type).toBe('retry');
      }
      throw new Error('not served after a retry');
    };
    const captured = await send('A', 11, 1, put('k', 'OLD-VALUE'), 1);
    await send('A', 11, 2, put('k', 'NEW-VALUE'), 1);
    // Two other clients write: the session table (bound 2) evicts A's session.
    await send('B', 12, 1, put('other', 'b'), 2);
    await send('C', 13, 1, put('other', 'c'), 3);
    expect(
      run.host
        .stateMachine()
        .snapshotState()
        .sessions.map((s) => s.clientId),
    ).toEqual(['B', 'C']);

    // The attacker replays A's first put byte for byte.
    const applied = run.host.stateMachine().lastApplied;
    run.endpoint.receive(captured, '10.0.0.9', 1);
    for (let i = 0; i < 10; i++) {
      await turn();
      run.real.advance(10);
    }
    expect(run.host.stateMachine().read('k')).toBe('NEW-VALUE');
    expect(run.host.stateMachine().lastApplied).toBe(applied);
    expect(run.endpoint.droppedCounts()).toMatchObject({ replayed: 1 });
    // Later, when the node no longer remembers A's window, the stamp is stale.
    run.real.advance(2 * config.clientFreshnessMs + 1);
    run.endpoint.receive(captured, '10.0.0.9', 1);
    await turn();
    expect(run.endpoint.droppedCounts()).toMatchObject({ stale_timestamp: 1 });
    expect(run.host.stateMachine().read('k')).toBe('NEW-VALUE');

    // Control: the same request, handed to the host without the wire, is new to the evicted session and rolls k back.
    const decoded = decodeEnvelope(captured, RING, config.cluster);
    if (!decoded.ok || decoded.envelope.body.type !== 'client_request') throw new Error('the capture does not decode');
    expect(await direct(run, decoded.envelope.body, 1)).toEqual({ status: 'ok', value: 'OLD-VALUE' });
    expect(run.host.stateMachine().read('k')).toBe('OLD-VALUE');
  });
});

describe('explicit sessions through the host (dissertation §6.3)', () => {
  const open = (clientId: string, instance: number, seq: number): ClientRequest => ({
    ...req(clientId, instance, seq, { type: 'get', key: '' }),
    session: 'open',
  });
  const existing = (clientId: string, instance: number, seq: number, op: KvOp): ClientRequest => ({
    ...req(clientId, instance, seq, op),
    session: 'existing',
  });

  it('a write retried after its session was evicted is refused (session_expired, nothing applied); after a new open the next one applies', async () => {
    const run = start(1);
    await leader(run);
    expect(await direct(run, open('A', 1, 1), 1)).toEqual({ status: 'ok', value: null });
    const first = existing('A', 1, 2, put('k', 'A1'));
    expect(await direct(run, first, 1)).toEqual({ status: 'ok', value: 'A1' });
    // B opens and writes: the table (bound 1) evicts A's session.
    expect(await direct(run, open('B', 1, 1), 2)).toEqual({ status: 'ok', value: null });
    expect(await direct(run, existing('B', 1, 2, put('k', 'B1')), 2)).toEqual({ status: 'ok', value: 'B1' });
    const applied = run.host.stateMachine().lastApplied;

    // A's retry of its write: logged, and refused when applied; k keeps B's value and no session is opened for A.
    expect(await direct(run, first, 1)).toMatchObject({ status: 'rejected', code: 'session_expired' });
    expect(run.host.stateMachine().lastApplied).toBe(applied + 1);
    expect(run.host.stateMachine().read('k')).toBe('B1');
    expect(
      run.host
        .stateMachine()
        .snapshotState()
        .sessions.map((s) => s.clientId),
    ).toEqual(['B']);
    // Opened anew, A writes again; its old seq is stale from now on.
    expect(await direct(run, open('A', 1, 3), 1)).toEqual({ status: 'ok', value: null });
    expect(await direct(run, existing('A', 1, 4, put('k', 'A2')), 1)).toEqual({ status: 'ok', value: 'A2' });
    expect(await direct(run, first, 1)).toMatchObject({ status: 'rejected', code: 'stale_seq' });
    expect(run.host.stateMachine().read('k')).toBe('A2');
  });

  it('an open that is not a get is refused as malformed, and nothing is logged', async () => {
    const run = start();
    await leader(run);
    const applied = run.host.stateMachine().lastApplied;
    expect(await direct(run, { ...req('C', 1, 1, put('k', 'v')), session: 'open' }, 1)).toMatchObject({
      status: 'invalid',
      code: 'malformed',
    });
    expect(run.host.stateMachine().lastApplied).toBe(applied);
  });
});
