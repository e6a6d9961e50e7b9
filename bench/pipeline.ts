/**
 * `npm run bench -- pipeline [--ops N] [--clients C] [--profile FILE]`: the
 * CPU a committed write costs in the node's own code, in one process, with
 * no syscalls and no other process competing for the cores.
 *
 * Five real NodeHosts behind their real NodeEndpoints (codec, MACs, replay
 * defences, address validation) exchange datagrams through an in-memory
 * FIFO; storage keeps nothing (openMemoryStorage: persist resolves at once);
 * C real ClientEndpoints each keep one `put` outstanding on the leader, as
 * `bench -- cluster` does over UDP. What is left out is exactly what the
 * kernel does (sendmsg, recvmsg, fdatasync) and the event loop's own cost,
 * so the figure is stable on a loaded machine, where the cluster bench's
 * throughput is not: it is the tool for finding where the node's
 * microseconds go (`--profile` writes a V8 CPU profile of the measured part).
 *
 * Time is fake and advances 1 ms per round (a round delivers everything in
 * flight, then lets the storage promises settle), so heartbeats and
 * elections happen, rarely, as they do under load.
 */
import { Session } from 'node:inspector/promises';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { AdjustableClock, type Scheduler } from '../node/clock/adjustable-clock.js';
import { validateConfig } from '../node/config.js';
import { NodeHost } from '../node/host.js';
import type { ClientMessage, ClientRequest } from '../node/protocol.js';
import { openMemoryStorage } from '../node/storage/memory-storage.js';
import { ClientEndpoint } from '../node/transport/client-endpoint.js';
import { KeyRing } from '../node/transport/keys.js';
import { NodeEndpoint } from '../node/transport/node-endpoint.js';
import { noUnsafeFlags } from '../node/unsafe-flags.js';

const PEER_SECRET = 'pipeline-bench-peer-secret-0123456789';
const CLIENT_SECRET = 'pipeline-bench-client-secret-0123456789';
const CLUSTER = 'pipeline';
const CLIENT_PORT_BASE = 40_000;

/** Fake real time: timers fire only when `advance` reaches them. */
class FakeTime implements Scheduler {
  nowMs = 1_700_000_000_000;
  private next = 1;
  private readonly pending = new Map<number, { fn: () => void; dueMs: number }>();

  setTimeout(fn: () => void, delayMs: number): unknown {
    const handle = this.next++;
    this.pending.set(handle, { fn, dueMs: this.nowMs + delayMs });
    return handle;
  }

  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }

  advance(ms: number): void {
    const end = this.nowMs + ms;
    for (;;) {
      let due: [number, { fn: () => void; dueMs: number }] | undefined;
      for (const e of this.pending) if (e[1].dueMs <= end && (due === undefined || e[1].dueMs < due[1].dueMs)) due = e;
      if (due === undefined) break;
      this.pending.delete(due[0]);
      this.nowMs = Math.max(this.nowMs, due[1].dueMs);
      due[1].fn();
    }
    this.nowMs = end;
  }
}

interface InFlight {
  readonly to: string;
  readonly datagram: Buffer;
  readonly fromHost: string;
  readonly fromPort: number;
}

export interface PipelineResult {
  readonly ops: number;
  readonly cpuUsPerOp: number;
  readonly datagramsPerOp: number;
  readonly wallMs: number;
}

export async function runPipeline(opts: { ops: number; clients: number; profile?: string }): Promise<PipelineResult> {
  const ids = ['n1', 'n2', 'n3', 'n4', 'n5'];
  const config = validateConfig(
    {
      cluster: CLUSTER,
      peerSecret: PEER_SECRET,
      clientSecret: CLIENT_SECRET,
      dataDir: '/nonexistent',
      nodes: ids.map((id, i) => ({ id, host: '127.0.0.1', port: 7001 + i })),
    },
    '/',
  );
  const time = new FakeTime();
  const queue: InFlight[] = [];
  const endpoints = new Map<string, NodeEndpoint>();
  const hosts = new Map<string, NodeHost>();
  let datagrams = 0;
  ids.forEach((id, i) => {
    const clock = new AdjustableClock({ realNowMs: () => time.nowMs, scheduler: time });
    const { storage, stored } = openMemoryStorage();
    const port = 7001 + i;
    const endpoint: NodeEndpoint = new NodeEndpoint({
      id,
      cluster: CLUSTER,
      nodeIds: ids,
      keys: KeyRing.forNode(PEER_SECRET, CLIENT_SECRET, ids),
      incarnation: 1 + i,
      clientFreshnessMs: config.clientFreshnessMs,
      tokenKey: Buffer.alloc(32, i + 1),
      wallClockMs: () => time.nowMs,
      toPeer: (to, datagram) => queue.push({ to, datagram, fromHost: '127.0.0.1', fromPort: port }),
      toAddress: (_host, toPort, datagram) => queue.push({ to: `c${toPort}`, datagram, fromHost: '127.0.0.1', fromPort: port }),
      onPeerMessage: (message) => hosts.get(id)!.onPeerMessage(message),
      onSnapshotMessage: (message) => hosts.get(id)!.onSnapshotMessage(message),
      onClientMessage: (message, replyTo) => hosts.get(id)!.onClientMessage(message, replyTo),
      redirect: (request) => hosts.get(id)!.redirectOf(request),
      log: () => undefined,
    });
    const host = new NodeHost({
      id,
      config,
      unsafe: noUnsafeFlags,
      stored,
      seed: 11 + i,
      io: {
        storage,
        clock,
        sendPeer: (to, message) => {
          const sent = endpoint.sendPeer(to, message);
          if (!sent.ok) throw new Error(`unsendable ${message.type}: ${sent.detail}`);
        },
        sendClient: (to, message) => void endpoint.sendClient(to, message),
        sendSnapshotMessage: (to, message) => void endpoint.sendSnapshotMessage(to, message),
        log: () => undefined,
        droppedCounts: () => endpoint.droppedCounts(),
      },
    });
    endpoints.set(id, endpoint);
    hosts.set(id, host);
  });
  for (const id of ids) hosts.get(id)!.start();
  for (const id of ids) endpoints.get(id)!.start();

  const clientKeys = KeyRing.forClient(CLIENT_SECRET);
  const clients = Array.from({ length: opts.clients }, (_, c) => ({
    endpoint: new ClientEndpoint({
      cluster: CLUSTER,
      sender: `pipe-${c}`,
      instance: 1000 + c,
      keys: clientKeys,
      freshnessMs: config.clientFreshnessMs,
      wallClockMs: () => time.nowMs,
    }),
    seq: 0,
    last: null as ClientRequest | null,
    target: 'n1',
  }));
  let done = 0;
  let counting = false;
  const send = (c: number, request: ClientRequest): void => {
    const client = clients[c]!;
    client.last = request;
    const sealed = client.endpoint.seal(client.target, request);
    if (!sealed.ok) throw new Error(`client seal: ${sealed.detail}`);
    queue.push({ to: client.target, datagram: sealed.datagram, fromHost: '127.0.0.1', fromPort: CLIENT_PORT_BASE + c });
  };
  const next = (c: number): void => {
    const client = clients[c]!;
    client.seq++;
    send(c, {
      type: 'client_request',
      clientId: `pipe-${c}`,
      instance: client.endpoint.instance,
      seq: client.seq,
      op: { type: 'put', key: `k${c}-${client.seq % 16}`, value: `v${client.seq}` },
    });
  };
  const onReply = (c: number, message: ClientMessage, from: string): void => {
    const client = clients[c]!;
    if (message.type === 'retry') return send(c, client.last!);
    if (message.type !== 'client_response' || message.seq !== client.seq) return;
    const outcome = message.outcome;
    if (outcome.status === 'ok') {
      if (counting) done++;
      return next(c);
    }
    if (outcome.status === 'not_leader') client.target = outcome.leaderHint ?? ids[(ids.indexOf(from) + 1) % ids.length]!;
    // Retried on the next round (not at once: a leaderless cluster would spin).
    retryNext.push(c);
  };
  let retryNext: number[] = [];

  const deliverAll = (): void => {
    for (let i = 0; i < queue.length; i++) {
      const d = queue[i]!;
      datagrams++;
      if (d.to.startsWith('c')) {
        const c = Number(d.to.slice(1)) - CLIENT_PORT_BASE;
        const opened = clients[c]!.endpoint.open(d.datagram);
        if (opened.ok) onReply(c, opened.message, opened.from);
      } else endpoints.get(d.to)!.receive(d.datagram, d.fromHost, d.fromPort);
    }
    queue.length = 0;
  };
  const round = async (): Promise<void> => {
    const again = retryNext;
    retryNext = [];
    for (const c of again) send(c, clients[c]!.last!);
    // Deliver until quiet, letting persist continuations (resolved promises) run in between.
    for (let spins = 0; spins < 100 && queue.length > 0; spins++) {
      deliverAll();
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    time.advance(1);
  };

  // Elect a leader, then warm up.
  let leader: string | undefined;
  for (let r = 0; r < 5000 && leader === undefined; r++) {
    await round();
    leader = ids.find((id) => hosts.get(id)!.status().role === 'leader');
  }
  if (leader === undefined) throw new Error('no leader elected');
  for (const client of clients) client.target = leader;
  for (let c = 0; c < clients.length; c++) next(c);
  for (let r = 0; r < 200; r++) await round();

  let session: Session | null = null;
  if (opts.profile !== undefined) {
    session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
  }
  const datagramsBefore = datagrams;
  counting = true;
  const wall0 = performance.now();
  const cpu0 = process.cpuUsage();
  while (done < opts.ops) await round();
  const cpu = process.cpuUsage(cpu0);
  const wallMs = performance.now() - wall0;
  counting = false;
  if (session !== null && opts.profile !== undefined) {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(opts.profile, JSON.stringify(profile));
    session.disconnect();
  }
  return {
    ops: done,
    cpuUsPerOp: (cpu.user + cpu.system) / done,
    datagramsPerOp: (datagrams - datagramsBefore) / done,
    wallMs,
  };
}

export async function runPipelineBench(argv: readonly string[]): Promise<void> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      ops: { type: 'string', default: '50000' },
      clients: { type: 'string', default: '64' },
      repeats: { type: 'string', default: '3' },
      profile: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const ops = Number(values.ops);
  const clients = Number(values.clients);
  const repeats = Number(values.repeats);
  if (
    values.help ||
    !Number.isInteger(ops) ||
    ops < 1 ||
    !Number.isInteger(clients) ||
    clients < 1 ||
    !Number.isInteger(repeats) ||
    repeats < 1
  ) {
    process.stderr.write('usage: npm run bench -- pipeline [--ops N] [--clients C] [--repeats R] [--profile FILE.cpuprofile]\n');
    process.exit(values.help ? 0 : 254);
  }
  const results: PipelineResult[] = [];
  for (let r = 0; r < repeats; r++) {
    const result = await runPipeline({
      ops,
      clients,
      ...(values.profile !== undefined && r === repeats - 1 ? { profile: values.profile } : {}),
    });
    results.push(result);
    process.stdout.write(
      `pipeline ${clients} clients: ${result.cpuUsPerOp.toFixed(1)} us CPU per committed write, ${result.datagramsPerOp.toFixed(2)} datagrams/op ` +
        `(${result.ops} ops, ${(result.wallMs / 1000).toFixed(1)} s)\n`,
    );
  }
  const sorted = results.map((r) => r.cpuUsPerOp).sort((a, b) => a - b);
  process.stdout.write(`pipeline median: ${sorted[Math.floor(sorted.length / 2)]!.toFixed(1)} us CPU per committed write\n`);
}
