/**
 * The rift client library, used by the harness, the benchmark and people.
 *
 * A client may send to any node. A node that is not the leader answers
 * `not_leader` with a hint, and the client follows it (as in the seeds, where
 * the server returns a redirect naming the leader). Every attempt of one
 * operation carries the same `(clientId, seq)`, so the replicated session
 * table applies a retried write at most once (dissertation §6.3). Retries
 * follow the shared retry policy (node/client-retry.ts: capped exponential
 * backoff with jitter) until the operation's deadline; past it the outcome is
 * `timeout` (indeterminate: the write may or may not have happened), which is
 * kept distinct from a definite failure such as a cas whose precondition was false.
 *
 * On the wire (node/transport/client-endpoint.ts) each client object is one
 * client instance: requests carry its instance and a counter under the
 * client key, and the first request to each node is answered with a `retry`
 * token (address validation against reflection, RFC 9000 §8.1) that the
 * client echoes from then on; that costs one round trip per node, once.
 * The client holds only the client secret.
 */
import dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { addressBook, configDefaults, type ClusterConfig, type NodeAddress } from './config-types.js';
import type { ClientMessage, ClientOutcome, ClientRequest, KvOp, NodeStatus, SessionMode } from './protocol.js';
import { ClientEndpoint, randomInstance } from './transport/client-endpoint.js';
import { KeyRing } from './transport/keys.js';
import { createPrng } from './raft/prng.js';
import type { Prng } from './raft/types.js';
import {
  attemptWaitMs,
  backoffMs,
  defaultRetryPolicy,
  judgeAttempt,
  nextSuspicion,
  suspectAt,
  awaitLeaderFor,
  backoffAfterMs,
  type RandomInt,
  type RetryPolicy,
  type Suspicion,
} from './client-retry.js';

export type ClientResult =
  | { readonly type: 'ok'; readonly value: string | null }
  | { readonly type: 'fail'; readonly error: string }
  | { readonly type: 'timeout'; readonly error: string };

/**
 * What a client needs of the cluster config: never the peer secret. The
 * spare identities (issue 18) are nodes too once a membership change made
 * them members: a client follows a redirect to one (and tries them in turn).
 */
export type ClientConfig = Pick<ClusterConfig, 'cluster' | 'clientSecret' | 'nodes'> &
  Partial<Pick<ClusterConfig, 'clientFreshnessMs' | 'spareNodes' | 'electionTimeoutMsMax'>>;

/** A `retry` answer is followed by at most this many resends within one attempt (a node hands out one token). */
const maxResendsPerAttempt = 2;

export interface ClientOptions {
  readonly config: ClientConfig;
  readonly clientId: string;
  /** Deadline for one operation, all retries included. */
  readonly timeoutMs: number;
  /** Seeds the jitter and the choice of the first node. */
  readonly seed?: number;
  /** Node to try first (default: drawn from the seed). */
  readonly initialNode?: string;
  /**
   * Bind the client to one node, as a Jepsen client is bound to its node:
   * every operation starts there and follows redirects from there. Without
   * it the client sticks to the last node that answered (the leader).
   */
  readonly homeNode?: string;
  /** Wait for a reply to one attempt before trying elsewhere. Default min(250, timeoutMs). */
  readonly attemptTimeoutMs?: number;
  readonly backoffMsMin?: number;
  readonly backoffMsMax?: number;
}

interface Waiter {
  readonly seq: number;
  /** The node the attempt went to: only its `retry` makes the client send again. */
  readonly node: string;
  resolve(outcome: ClientOutcome): void;
  resend(): void;
}

export class RiftClient {
  private readonly socket: dgram.Socket;
  private readonly endpoint: ClientEndpoint;
  private readonly options: ClientOptions;
  private readonly prng: Prng;
  /** The jitter's random source (the retry policy takes it injected). */
  private readonly random: RandomInt;
  /** The nodes in config order, then the spares: the order attempts go round. */
  private readonly nodeIds: readonly string[];
  private readonly book: readonly NodeAddress[];
  private readonly bound: Promise<void>;
  private target: string;
  private seq = 0;
  private waiter: Waiter | null = null;
  private busy = false;
  private closed = false;
  /** This client object's instance: its session and its replay window at the nodes are its own. */
  private readonly instance: number;
  /**
   * Whether this instance's session is open: set by the answer to its open
   * (a logged no-op, ClientRequest.session), cleared by `session_expired`.
   * Writes are sent as `existing`, so the nodes never apply one under a
   * session that was evicted and opened anew (dissertation §6.3).
   */
  private sessionOpen = false;

  constructor(options: ClientOptions) {
    if (options.config.nodes.length === 0) throw new Error('RiftClient: the config lists no nodes');
    if (!(options.timeoutMs > 0)) throw new Error('RiftClient: timeoutMs must be positive');
    this.options = options;
    const instance = randomInstance(randomBytes(8));
    this.instance = instance;
    this.endpoint = new ClientEndpoint({
      cluster: options.config.cluster,
      sender: options.clientId,
      instance,
      keys: KeyRing.forClient(options.config.clientSecret),
      freshnessMs: options.config.clientFreshnessMs ?? configDefaults.clientFreshnessMs,
      wallClockMs: () => Date.now(),
    });
    this.prng = createPrng(options.seed ?? randomBytes(4).readUInt32LE(0));
    this.random = (min, max) => this.prng.nextInt(min, max);
    this.book = addressBook(options.config);
    this.nodeIds = this.book.map((n) => n.id);
    const first =
      options.initialNode ?? options.homeNode ?? options.config.nodes[this.prng.nextInt(0, options.config.nodes.length - 1)]?.id;
    this.target = first ?? options.config.nodes[0]!.id;
    this.socket = dgram.createSocket('udp4');
    // Never let a socket error crash the caller (e.g. EMSGSIZE, ICMP errors).
    this.socket.on('error', () => undefined);
    this.socket.on('message', (buf) => this.onDatagram(buf));
    this.bound = new Promise((resolve) => this.socket.bind(0, () => resolve()));
    this.socket.unref();
  }

  get clientId(): string {
    return this.options.clientId;
  }

  get(key: string): Promise<ClientResult> {
    return this.run({ type: 'get', key });
  }

  put(key: string, value: string): Promise<ClientResult> {
    return this.run({ type: 'put', key, value });
  }

  delete(key: string): Promise<ClientResult> {
    return this.run({ type: 'delete', key });
  }

  cas(key: string, expected: string | null, value: string): Promise<ClientResult> {
    return this.run({ type: 'cas', key, expected, value });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.waiter?.resolve({ status: 'unavailable', reason: 'closed' });
    this.socket.close();
  }

  /** The node this client will try next (the last known leader). */
  currentTarget(): string {
    return this.target;
  }

  private async run(op: KvOp): Promise<ClientResult> {
    if (this.closed) throw new Error('RiftClient: closed');
    if (this.busy) throw new Error('RiftClient: one operation at a time per client (it owns one session sequence)');
    this.busy = true;
    try {
      await this.bound;
      const deadline = performance.now() + this.options.timeoutMs;
      if (this.options.homeNode !== undefined && this.knows(this.options.homeNode)) this.target = this.options.homeNode;
      const write = op.type !== 'get';
      if (write && !this.sessionOpen) {
        const opened = await this.attemptUntilDeadline(this.request({ type: 'get', key: '' }, 'open'), deadline);
        // The write was not sent: whatever became of the open, the write certainly did not happen (a refused open
        // says why itself: session_conflict, state_full).
        if (opened.type === 'fail') return opened;
        if (opened.type === 'timeout') return { type: 'fail', error: `not sent: could not open a session (${opened.error})` };
        this.sessionOpen = true;
      }
      return await this.attemptUntilDeadline(this.request(op, write ? 'existing' : undefined), deadline);
    } finally {
      this.busy = false;
    }
  }

  private request(op: KvOp, session: SessionMode | undefined): ClientRequest {
    const request: ClientRequest = {
      type: 'client_request',
      clientId: this.options.clientId,
      instance: this.instance,
      seq: ++this.seq,
      op,
    };
    return session === undefined ? request : { ...request, session };
  }

  private async attemptUntilDeadline(request: ClientRequest, deadline: number): Promise<ClientResult> {
    const defaults = defaultRetryPolicy(this.options.timeoutMs, this.options.config.electionTimeoutMsMax);
    const policy: RetryPolicy = {
      attemptTimeoutMs: this.options.attemptTimeoutMs ?? defaults.attemptTimeoutMs,
      backoffMsMin: this.options.backoffMsMin ?? defaults.backoffMsMin,
      backoffMsMax: this.options.backoffMsMax ?? defaults.backoffMsMax,
      suspicionMs: defaults.suspicionMs,
      awaitLeaderShare: defaults.awaitLeaderShare,
    };
    let failures = 0;
    let lastError = 'no reply';
    let suspicion: Suspicion | null = null;
    while (!this.closed) {
      const waitMs = attemptWaitMs(policy, deadline - performance.now());
      if (waitMs === null) break;
      const sentAt = performance.now();
      const awaitLeader = awaitLeaderFor(policy, suspectAt(suspicion, sentAt), this.target, waitMs);
      const sent = awaitLeader === undefined ? request : { ...request, awaitLeader };
      const outcome = await this.attempt(sent, waitMs, () => attemptWaitMs(policy, deadline - performance.now()));
      const now = performance.now();
      suspicion = nextSuspicion(suspicion, outcome, this.target, now, policy);
      const verdict = judgeAttempt(outcome, this.target, this.nodeIds, suspectAt(suspicion, now));
      if (outcome?.status === 'rejected' && outcome.code === 'session_expired') this.sessionOpen = false; // the next write opens anew
      if (verdict.kind === 'ok') return { type: 'ok', value: verdict.value };
      if (verdict.kind === 'fail') return { type: 'fail', error: verdict.error };
      if (verdict.kind === 'indeterminate') return { type: 'timeout', error: `indeterminate: ${verdict.error}` };
      lastError = verdict.lastError;
      this.target = verdict.target;
      if (!verdict.backoff) continue;
      failures += 1;
      const drawnMs = backoffMs(policy, failures, deadline - performance.now(), this.random);
      if (drawnMs === null) break;
      const sleepMs = awaitLeader === undefined || outcome === null ? drawnMs : backoffAfterMs(drawnMs, now - sentAt);
      if (sleepMs > 0) await new Promise((r) => setTimeout(r, sleepMs));
    }
    return { type: 'timeout', error: this.closed ? 'client closed' : `timeout after ${this.options.timeoutMs} ms (${lastError})` };
  }

  /**
   * One attempt at the current target: resolves with its answer, or null
   * when none came within `waitMs`. A `retry` answer (the node handed out
   * its token) sends the request again and gives the attempt a fresh wait
   * (`nextWaitMs`, null past the deadline): the node is alive and answering,
   * and moving on to the next node would only cost another first contact.
   */
  private attempt(request: ClientRequest, waitMs: number, nextWaitMs: () => number | null): Promise<ClientOutcome | null> {
    return new Promise((resolve) => {
      const node = this.book.find((n) => n.id === this.target) ?? this.book[0]!;
      const expire = (): void => {
        this.waiter = null;
        resolve(null);
      };
      let timer = setTimeout(expire, waitMs);
      const settle = (outcome: ClientOutcome): void => {
        clearTimeout(timer);
        this.waiter = null;
        resolve(outcome);
      };
      // Every send is a new datagram (a new counter), so a resend is never taken for a replay.
      const send = (): void => {
        const encoded = this.endpoint.seal(node.id, request);
        if (!encoded.ok) {
          // Only an op far beyond any node's limits gets here (e.g. a value near 64 KiB).
          settle({ status: 'invalid', code: 'value_too_large', message: `request cannot be sent: ${encoded.detail}` });
          return;
        }
        this.socket.send(encoded.datagram, node.port, node.host, () => undefined);
      };
      let resends = 0;
      this.waiter = {
        seq: request.seq,
        node: node.id,
        resolve: settle,
        resend: () => {
          if (resends++ >= maxResendsPerAttempt) return;
          const again = nextWaitMs();
          if (again === null) return;
          clearTimeout(timer);
          timer = setTimeout(expire, again);
          send();
        },
      };
      send();
    });
  }

  private onDatagram(buf: Buffer): void {
    const opened = this.endpoint.open(buf);
    if (!opened.ok || this.waiter === null) return;
    const body = opened.message;
    // The endpoint kept the token: the attempt goes again, now from a validated address.
    if (body.type === 'retry') {
      if (opened.from === this.waiter.node) this.waiter.resend();
      return;
    }
    if (body.type !== 'client_response' || body.clientId !== this.options.clientId) return;
    // Replies to earlier attempts of an older seq are late duplicates: ignore.
    if (body.seq === this.waiter.seq) this.waiter.resolve(body.outcome);
  }

  private knows(id: string): boolean {
    return this.nodeIds.includes(id);
  }

  /** Asks one node for its status over UDP; null if it does not answer in time. */
  static async status(config: ClientConfig, nodeId: string, timeoutMs: number): Promise<NodeStatus | null> {
    const node = addressBook(config).find((n) => n.id === nodeId);
    if (node === undefined) throw new Error(`no node "${nodeId}" in the config`);
    const requestId = randomBytes(8).toString('hex');
    const endpoint = new ClientEndpoint({
      cluster: config.cluster,
      sender: `status-${requestId}`,
      instance: randomInstance(randomBytes(8)),
      keys: KeyRing.forClient(config.clientSecret),
      freshnessMs: config.clientFreshnessMs ?? configDefaults.clientFreshnessMs,
      wallClockMs: () => Date.now(),
    });
    const socket = dgram.createSocket('udp4');
    socket.on('error', () => undefined);
    const request: ClientMessage = { type: 'status_request', requestId };
    const send = (): void => {
      const encoded = endpoint.seal(node.id, request);
      if (encoded.ok) socket.send(encoded.datagram, node.port, node.host, () => undefined);
    };
    try {
      return await new Promise<NodeStatus | null>((resolve) => {
        const timer = setTimeout(() => resolve(null), timeoutMs);
        let resends = 0;
        socket.on('message', (buf) => {
          const opened = endpoint.open(buf);
          if (!opened.ok) return;
          const body = opened.message;
          if (body.type === 'retry' && resends++ < maxResendsPerAttempt) send();
          if (body.type === 'status_response' && body.requestId === requestId) {
            clearTimeout(timer);
            resolve(body.status);
          }
        });
        socket.bind(0, send);
      });
    } finally {
      socket.close();
    }
  }
}
