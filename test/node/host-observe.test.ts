/**
 * HostIo's observer hooks (node/host.ts HostObserver): `ready` sees every
 * Ready the host takes from the core exactly once, `applied` every committed
 * entry exactly once, in log order, with the state machine's result; and a
 * host without them behaves the same. A one-node cluster on a fake clock
 * elects itself, commits its noop and a client's writes.
 */
import { describe, expect, it } from 'vitest';
import { AdjustableClock } from '../../node/clock/adjustable-clock.js';
import { validateConfig } from '../../node/config.js';
import { NodeHost, type HostObserver } from '../../node/host.js';
import type { ApplyResult } from '../../node/kv/state-machine.js';
import type { ClientMessage } from '../../node/protocol.js';
import type { Entry, Ready } from '../../node/raft/types.js';
import { openMemoryStorage } from '../../node/storage/memory-storage.js';
import { noUnsafeFlags } from '../../node/unsafe-flags.js';
import { FakeReal } from './clock/fake-real.js';

interface Run {
  readonly host: NodeHost;
  readonly real: FakeReal;
  readonly replies: ClientMessage[];
}

function start(observe: HostObserver | undefined): Run {
  const config = validateConfig(
    {
      cluster: 'observe-test',
      peerSecret: 'observe-test-peer-secret-0123456789abcdef',
      clientSecret: 'observe-test-client-secret-0123456789abcdef',
      dataDir: '/nonexistent',
      nodes: [{ id: 'n1', host: '127.0.0.1', port: 7001 }],
    },
    '/',
  );
  const real = new FakeReal();
  const clock = new AdjustableClock({ realNowMs: () => real.nowMs, scheduler: real });
  const { storage, stored } = openMemoryStorage();
  const replies: ClientMessage[] = [];
  const host = new NodeHost({
    id: 'n1',
    config,
    unsafe: noUnsafeFlags,
    stored,
    seed: 11,
    io: {
      storage,
      clock,
      sendPeer: () => undefined,
      sendClient: (_to, message) => replies.push(message),
      log: () => undefined,
      droppedCounts: () => ({}),
      ...(observe === undefined ? {} : { observe }),
    },
  });
  host.start();
  return { host, real, replies };
}

/** Lets the storage's promise continuations run (not a sleep: one turn of the event loop). */
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

/** Elects the node, then writes k=v1..v3 one after another; returns the replies' outcomes. */
async function drive(run: Run): Promise<unknown[]> {
  await until(
    run,
    () => run.host.raft().status().role === 'leader' && run.host.stateMachine().lastApplied >= 1,
    'leader with its noop applied',
  );
  for (let seq = 1; seq <= 3; seq++) {
    run.host.onClientMessage(
      { type: 'client_request', clientId: 'c1', instance: 1, seq, op: { type: 'put', key: 'k', value: `v${seq}` } },
      { host: 'client', port: 1, sender: 'c1', instance: 1 },
    );
    await until(run, () => run.replies.length === seq, `reply to write ${seq}`);
  }
  return run.replies.map((r) => (r.type === 'client_response' ? r.outcome : r.type));
}

describe('HostIo observer hooks', () => {
  it('sees every Ready once, before the host performs it, and every applied entry once, in order, with its result', async () => {
    const readies: Ready[] = [];
    const applied: { entry: Entry; result: ApplyResult | null; lastAppliedBefore: number }[] = [];
    let run: Run | null = null;
    run = start({
      ready: (ready) => {
        readies.push(ready);
        // Before the host performs it: none of its committed entries is applied yet.
        const first = ready.committedEntries[0];
        if (first !== undefined) expect(run!.host.stateMachine().lastApplied).toBeLessThan(first.index);
      },
      applied: (entry, result) => applied.push({ entry, result, lastAppliedBefore: run!.host.stateMachine().lastApplied }),
    });
    // Count what the core hands out, independently of the hook (a spy on the one module under test).
    const core = run.host.raft();
    const taken: Ready[] = [];
    const ready = core.ready.bind(core);
    core.ready = () => {
      const r = ready();
      taken.push(r);
      return r;
    };

    const outcomes = await drive(run);
    expect(outcomes).toEqual([1, 2, 3].map((seq) => ({ status: 'ok', value: `v${seq}` })));
    expect(taken.length).toBeGreaterThan(0);
    expect(readies).toHaveLength(taken.length);
    readies.forEach((r, i) => expect(r).toBe(taken[i]));

    // Every committed entry once, in log order, seen after the state machine applied it.
    const lastApplied = run.host.stateMachine().lastApplied;
    expect(lastApplied).toBe(4); // the leader's noop and three writes
    expect(applied.map((a) => a.entry.index)).toEqual([1, 2, 3, 4]);
    const committed = readies.flatMap((r) => r.committedEntries);
    expect(applied.map((a) => a.entry)).toEqual(committed);
    for (const a of applied) expect(a.lastAppliedBefore).toBe(a.entry.index);
    expect(applied[0]!.result).toBeNull(); // the noop changes nothing
    expect(applied.slice(1).map((a) => a.result)).toEqual(
      [1, 2, 3].map((seq) => ({ kind: 'applied', index: seq + 1, clientId: 'c1', seq, result: { status: 'ok', value: `v${seq}` } })),
    );
  });

  it('a host without hooks does the same', async () => {
    const observed = start({});
    const plain = start(undefined);
    const a = await drive(observed);
    const b = await drive(plain);
    expect(b).toEqual(a);
    expect(plain.host.stateMachine().read('k')).toBe('v3');
    expect(plain.host.raft().status()).toEqual(observed.host.raft().status());
  });
});
