/**
 * The client links' relay: the harness's clients reach the nodes through it,
 * so a fault can lose a node's reply on its way to a client (Jepsen's
 * network faults cut the links between clients and nodes too; the peer
 * relay, relay.ts, carries only node-to-node datagrams). The `client-loss`
 * nemesis (nemesis/kinds/client-loss.ts) sets its loss rates.
 *
 * Why it exists: a write whose reply is lost after it was applied is the
 * case exactly-once sessions are for (the client retries the same seq); a
 * partition or a kill mostly stops a write before it is applied, and never
 * takes away only its answer.
 *
 * How: one front socket per node, whose address the clients use as the
 * node's (the client config the harness hands its clients lists them). A
 * datagram arriving on node j's front from a client address A is sent on to
 * j's real address from a back socket of A's own (one per client address,
 * created on its first datagram), so the node sees one stable address per
 * client (its address validation, node/transport/client-endpoint.ts,
 * hands that address its token once) and answers to it; an answer arriving
 * on A's back socket from node j is sent to A from j's front, so the client
 * sees it come from the address it sent to. Every datagram is real and
 * really not delivered when dropped: nothing is answered in a node's place.
 *
 * Per direction, per node, a loss rate (seeded PRNG) and counters in the
 * peer relay's form (LinkCounters, keys `clients>n1` and `n1>clients`), so
 * the run's per-fault evidence counts what each client-loss fault dropped.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { Rng } from '../rng.js';
import { zeroLinkCounters, type LinkCounters } from './types.js';

export interface ClientRelayNode {
  readonly id: string;
  readonly host: string;
  readonly port: number;
}

/** The loss rates on the client links, each in [0, 1]. */
export interface ClientLoss {
  /** Datagrams from the nodes to the clients (answers, retry tokens). */
  readonly replies: number;
  /** Datagrams from the clients to the nodes (requests). */
  readonly requests: number;
}

/** What the client-loss nemesis needs of the client links (NemesisCluster.clientNet). */
export interface ClientLinkControl {
  setClientLoss(loss: ClientLoss): Promise<void>;
  clientLoss(): ClientLoss;
  /** Per-link counters since the start, by link key (`clients>n1`, `n1>clients`). */
  linkStats(): Record<string, LinkCounters>;
}

/** The link key of all clients to one node, and of one node to all clients. */
export const clientsLink = {
  toNode: (node: string): string => `clients>${node}`,
  fromNode: (node: string): string => `${node}>clients`,
};

export interface ClientRelayOptions {
  readonly nodes: readonly ClientRelayNode[];
  readonly seed: number;
  /** Where the front sockets bind (default 127.0.0.1): the clients run on this machine. */
  readonly host?: string;
  /** Back sockets idle this long are closed (default 30 s: far beyond any op's deadline). */
  readonly idleMs?: number;
  /** At most this many back sockets (client addresses) at once (default 2,048); beyond it a new client's datagrams are dropped (overflow). */
  readonly maxClients?: number;
}

interface Back {
  readonly socket: Socket;
  readonly address: string;
  readonly port: number;
  lastUsedMs: number;
}

function bindFront(host: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket({ type: 'udp4', recvBufferSize: 1 << 20, sendBufferSize: 1 << 20 });
    socket.once('error', reject);
    socket.bind(0, host, () => {
      socket.off('error', reject);
      resolve(socket);
    });
  });
}

function validRate(name: string, v: number): void {
  if (!(Number.isFinite(v) && v >= 0 && v <= 1)) throw new Error(`client loss: ${name} must be a number in [0, 1], got ${v}`);
}

export class ClientRelay implements ClientLinkControl {
  private readonly fronts = new Map<string, Socket>();
  /** Each node's real address ("host:port") to its id: whose answer arrived on a back socket. */
  private readonly nodeByAddress = new Map<string, ClientRelayNode>();
  private readonly backs = new Map<string, Back>();
  private readonly counters = new Map<string, LinkCounters>();
  private readonly rng: Rng;
  private loss: ClientLoss = { replies: 0, requests: 0 };
  private readonly idleMs: number;
  private readonly maxClients: number;
  private sweeper: NodeJS.Timeout | null = null;
  private closed = false;
  /** Datagrams on a back socket from an address that is no node's: dropped. */
  foreign = 0;

  private constructor(
    readonly nodes: readonly ClientRelayNode[],
    opts: ClientRelayOptions,
  ) {
    this.rng = new Rng(opts.seed);
    this.idleMs = opts.idleMs ?? 30_000;
    this.maxClients = opts.maxClients ?? 2048;
    for (const n of nodes) {
      this.nodeByAddress.set(`${n.host}:${n.port}`, n);
      this.counters.set(clientsLink.toNode(n.id), zeroLinkCounters());
      this.counters.set(clientsLink.fromNode(n.id), zeroLinkCounters());
    }
  }

  static async start(opts: ClientRelayOptions): Promise<ClientRelay> {
    const ids = new Set(opts.nodes.map((n) => n.id));
    if (ids.size !== opts.nodes.length) throw new Error('client relay: duplicate node ids');
    const relay = new ClientRelay(opts.nodes, opts);
    try {
      for (const node of opts.nodes) {
        const socket = await bindFront(opts.host ?? '127.0.0.1');
        // A UDP socket error (e.g. ICMP-induced) must never crash the harness.
        socket.on('error', () => undefined);
        socket.on('message', (msg, rinfo) => relay.fromClient(node, msg, rinfo));
        relay.fronts.set(node.id, socket);
      }
    } catch (err) {
      relay.close();
      throw err;
    }
    relay.sweeper = setInterval(() => relay.sweep(), Math.max(1000, Math.floor(relay.idleMs / 3)));
    relay.sweeper.unref();
    return relay;
  }

  /** The address clients use for `node`: its front socket. */
  frontAddress(node: string): { host: string; port: number } {
    const socket = this.fronts.get(node);
    if (socket === undefined) throw new Error(`client relay: no node ${node}`);
    const a = socket.address();
    return { host: a.address, port: a.port };
  }

  async setClientLoss(loss: ClientLoss): Promise<void> {
    validRate('replies', loss.replies);
    validRate('requests', loss.requests);
    this.loss = { replies: loss.replies, requests: loss.requests };
  }

  clientLoss(): ClientLoss {
    return this.loss;
  }

  linkStats(): Record<string, LinkCounters> {
    const out: Record<string, LinkCounters> = {};
    for (const [key, c] of this.counters) out[key] = { ...c };
    return out;
  }

  /** Client addresses with a back socket now. */
  get clients(): number {
    return this.backs.size;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.sweeper !== null) clearInterval(this.sweeper);
    for (const s of [...this.fronts.values(), ...[...this.backs.values()].map((b) => b.socket)]) {
      try {
        s.close();
      } catch {
        // already closed
      }
    }
    this.backs.clear();
  }

  private count(key: string, what: keyof LinkCounters): void {
    const c = this.counters.get(key);
    if (c !== undefined) c[what]++;
  }

  private fromClient(node: ClientRelayNode, msg: Buffer, rinfo: RemoteInfo): void {
    if (this.closed) return;
    const key = clientsLink.toNode(node.id);
    this.count(key, 'received');
    if (this.loss.requests > 0 && this.rng.float() < this.loss.requests) {
      this.count(key, 'lost');
      return;
    }
    const back = this.backFor(rinfo);
    if (back === null) {
      this.count(key, 'overflow');
      return;
    }
    back.lastUsedMs = performance.now();
    this.count(key, 'forwarded');
    back.socket.send(msg, node.port, node.host, (err) => {
      if (err) this.count(key, 'sendErrors');
    });
  }

  private fromNode(back: Back, msg: Buffer, rinfo: RemoteInfo): void {
    if (this.closed) return;
    const node = this.nodeByAddress.get(`${rinfo.address}:${rinfo.port}`);
    const front = node === undefined ? undefined : this.fronts.get(node.id);
    if (node === undefined || front === undefined) {
      this.foreign++;
      return;
    }
    const key = clientsLink.fromNode(node.id);
    this.count(key, 'received');
    if (this.loss.replies > 0 && this.rng.float() < this.loss.replies) {
      this.count(key, 'lost');
      return;
    }
    back.lastUsedMs = performance.now();
    this.count(key, 'forwarded');
    front.send(msg, back.port, back.address, (err) => {
      if (err) this.count(key, 'sendErrors');
    });
  }

  /** The back socket of a client address, created on its first datagram; null when too many are open. */
  private backFor(rinfo: RemoteInfo): Back | null {
    const id = `${rinfo.address}:${rinfo.port}`;
    const known = this.backs.get(id);
    if (known !== undefined) return known;
    if (this.backs.size >= this.maxClients) return null;
    // Bound implicitly by its first send (any address: the nodes may live in network namespaces, reached over veths).
    const socket = createSocket({ type: 'udp4', recvBufferSize: 1 << 20, sendBufferSize: 1 << 20 });
    const back: Back = { socket, address: rinfo.address, port: rinfo.port, lastUsedMs: performance.now() };
    socket.on('error', () => undefined);
    socket.on('message', (m, r) => this.fromNode(back, m, r));
    this.backs.set(id, back);
    return back;
  }

  /** Closes the back sockets of clients gone quiet (a retired client's socket is closed; its address never comes back). */
  private sweep(): void {
    const now = performance.now();
    for (const [id, back] of this.backs) {
      if (now - back.lastUsedMs < this.idleMs) continue;
      this.backs.delete(id);
      try {
        back.socket.close();
      } catch {
        // already closed
      }
    }
  }
}
