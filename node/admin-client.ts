/**
 * The membership admin client (issue 18; dissertation ch. 4): the library
 * behind `rift-node admin` (node/admin-cli.ts), for tests, benchmarks and
 * people. `add` makes a spare identity a learner, `promote` makes a
 * caught-up learner a voter, `remove` takes a member out, `status` reads the
 * leader's view (the configuration and each member's match index).
 *
 * It speaks in the admin key domain (node/transport/keys.ts): a key derived
 * from the peer secret, so only those who could already speak as a node can
 * change who the nodes are; the client secret gives nothing towards it. Any
 * node may be asked: one that is not the leader answers `not_leader` with a
 * hint, which is followed. Every attempt of one command carries the same
 * requestId, so a retry at the same leader is answered from the change in
 * flight (or its remembered answer), never proposed twice. Retries follow
 * the shared policy (node/client-retry.ts: capped exponential backoff with
 * jitter) until the command's deadline.
 *
 * What is definite: `ok` (the change is committed: the answer comes only once
 * its entry is) and `refused` (the leader did not propose it: not a member,
 * a learner not caught up, a change still in flight...). A refusal that
 * follows an attempt whose fate is unknown (no answer from a node that may
 * have been the leader, or leadership lost before the entry committed) may
 * be the earlier attempt's own doing (`add n4` refused with "n4 is already a
 * learner"), so the leader's status decides: the change in effect and
 * committed is `ok`; not in effect, with no change in flight, is `refused`;
 * anything else is `indeterminate`.
 */
import dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { addressBook, configDefaults, type ClusterConfig, type NodeAddress } from './config-types.js';
import type { AdminCommand, AdminMessage, AdminOutcome, MembershipStatus } from './protocol.js';
import { ClientEndpoint, randomInstance } from './transport/client-endpoint.js';
import { KeyRing } from './transport/keys.js';
import { createPrng } from './raft/prng.js';
import type { NodeId, Prng } from './raft/types.js';
import { attemptWaitMs, backoffMs, defaultRetryPolicy, nextNode, type RetryPolicy } from './client-retry.js';

export type AdminResult =
  /** Done: the change is committed (or, for status, the leader's view). */
  | { readonly type: 'ok'; readonly membership: MembershipStatus }
  /** Definitely not done: the leader refused it. */
  | { readonly type: 'refused'; readonly error: string }
  /** May or may not have been done: no answer by the deadline, or a refusal after an attempt whose fate is unknown. */
  | { readonly type: 'indeterminate'; readonly error: string };

/** What the admin needs of the cluster config: the peer secret (for the admin key) and the address book; never the client secret. */
export type AdminConfig = Pick<ClusterConfig, 'cluster' | 'peerSecret' | 'nodes'> &
  Partial<Pick<ClusterConfig, 'clientFreshnessMs' | 'spareNodes'>>;

export interface AdminOptions {
  readonly config: AdminConfig;
  /** Deadline for one command, all retries included. */
  readonly timeoutMs: number;
  /** Node to ask first (default: the first of the address book). */
  readonly initialNode?: NodeId;
  /** Seeds the backoff jitter. */
  readonly seed?: number;
  /** Wait for a reply to one attempt before trying elsewhere. Default: the shared policy's. */
  readonly attemptTimeoutMs?: number;
}

/** A stale-incarnation answer (the node restarted since it last answered) is followed by at most this many resends per attempt. */
const maxResendsPerAttempt = 2;

interface Waiter {
  readonly requestId: string;
  readonly node: NodeId;
  resolve(outcome: AdminOutcome): void;
  resend(): void;
}

export class RiftAdmin {
  private readonly socket: dgram.Socket;
  private readonly endpoint: ClientEndpoint<AdminMessage>;
  private readonly book: readonly NodeAddress[];
  private readonly nodeIds: readonly NodeId[];
  private readonly prng: Prng;
  private readonly policy: RetryPolicy;
  private readonly bound: Promise<void>;
  private target: NodeId;
  private waiter: Waiter | null = null;
  private busy = false;
  private closed = false;

  constructor(private readonly options: AdminOptions) {
    this.book = addressBook(options.config);
    if (this.book.length === 0) throw new Error('RiftAdmin: the config lists no nodes');
    if (!(options.timeoutMs > 0)) throw new Error('RiftAdmin: timeoutMs must be positive');
    this.nodeIds = this.book.map((n) => n.id);
    const sender = `admin-${randomBytes(6).toString('hex')}`;
    this.endpoint = new ClientEndpoint<AdminMessage>({
      cluster: options.config.cluster,
      sender,
      instance: randomInstance(randomBytes(8)),
      keys: KeyRing.forAdmin(options.config.peerSecret),
      domain: 'admin',
      freshnessMs: options.config.clientFreshnessMs ?? configDefaults.clientFreshnessMs,
      wallClockMs: () => Date.now(),
    });
    this.prng = createPrng(options.seed ?? randomBytes(4).readUInt32LE(0));
    const defaults = defaultRetryPolicy(options.timeoutMs);
    this.policy = { ...defaults, attemptTimeoutMs: options.attemptTimeoutMs ?? defaults.attemptTimeoutMs, backoffMsMax: 500 };
    this.target = options.initialNode !== undefined && this.nodeIds.includes(options.initialNode) ? options.initialNode : this.nodeIds[0]!;
    this.socket = dgram.createSocket('udp4');
    this.socket.on('error', () => undefined);
    this.socket.on('message', (buf) => this.onDatagram(buf));
    this.bound = new Promise((resolve) => this.socket.bind(0, () => resolve()));
    this.socket.unref();
  }

  add(node: NodeId): Promise<AdminResult> {
    return this.run({ type: 'add', node });
  }

  promote(node: NodeId): Promise<AdminResult> {
    return this.run({ type: 'promote', node });
  }

  remove(node: NodeId): Promise<AdminResult> {
    return this.run({ type: 'remove', node });
  }

  status(): Promise<AdminResult> {
    return this.run({ type: 'status' });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.waiter?.resolve({ status: 'unavailable', reason: 'closed' });
    this.socket.close();
  }

  private async run(command: AdminCommand): Promise<AdminResult> {
    if (this.closed) throw new Error('RiftAdmin: closed');
    if (this.busy) throw new Error('RiftAdmin: one command at a time');
    this.busy = true;
    try {
      await this.bound;
      return await this.attemptUntilDeadline(command, randomBytes(8).toString('hex'));
    } finally {
      this.busy = false;
    }
  }

  private async attemptUntilDeadline(command: AdminCommand, requestId: string): Promise<AdminResult> {
    const deadline = performance.now() + this.options.timeoutMs;
    const changes = command.type !== 'status';
    let failures = 0;
    let lastError = 'no reply';
    /** Whether an earlier attempt may have made the change (its fate is unknown). */
    let uncertain: string | null = null;
    while (!this.closed) {
      const waitMs = attemptWaitMs(this.policy, deadline - performance.now());
      if (waitMs === null) break;
      const target = this.target;
      const outcome = await this.attempt(command, requestId, waitMs);
      let backoff = true;
      if (outcome === null) {
        lastError = `no reply from ${target}`;
        if (changes) uncertain ??= `an attempt at ${target} went unanswered`;
        this.target = nextNode(this.nodeIds, target);
      } else {
        switch (outcome.status) {
          case 'ok':
            return { type: 'ok', membership: outcome.membership };
          case 'refused':
            if (uncertain !== null && command.type !== 'status')
              return this.settleUncertain(command, outcome.message, uncertain, requestId, deadline);
            return { type: 'refused', error: outcome.message };
          case 'not_leader': {
            const hint = outcome.leaderHint;
            lastError = `${target}: not the leader (hint ${hint ?? 'none'})`;
            if (hint !== null && hint !== target && this.nodeIds.includes(hint)) {
              this.target = hint;
              backoff = false; // a fresh hint is worth following at once
            } else {
              this.target = nextNode(this.nodeIds, target);
            }
            break;
          }
          case 'unavailable':
            lastError = `${target}: unavailable (${outcome.reason})`;
            if (changes && (outcome.reason === 'leadership_lost' || outcome.reason === 'entry_replaced'))
              uncertain ??= `${target} lost its leadership before the change committed`;
            break;
          default: {
            const never: never = outcome;
            return never;
          }
        }
      }
      if (!backoff) continue;
      failures += 1;
      const sleepMs = backoffMs(this.policy, failures, deadline - performance.now(), (min, max) => this.prng.nextInt(min, max));
      if (sleepMs === null) break;
      if (sleepMs > 0) await new Promise((r) => setTimeout(r, sleepMs));
    }
    const why = this.closed ? 'closed' : `no answer within ${this.options.timeoutMs} ms (${lastError})`;
    return { type: 'indeterminate', error: uncertain !== null ? `${why}; ${uncertain}: check \`status\`` : why };
  }

  /**
   * A change refused after an attempt whose fate is unknown: the leader's
   * status says whether the configuration in effect is the one the change
   * aims at (then an earlier attempt made it).
   */
  private async settleUncertain(
    command: Exclude<AdminCommand, { type: 'status' }>,
    refusal: string,
    uncertain: string,
    requestId: string,
    deadline: number,
  ): Promise<AdminResult> {
    const unknown: AdminResult = {
      type: 'indeterminate',
      error: `refused (${refusal}) after ${uncertain}: the change may have been made; check \`status\``,
    };
    const waitMs = attemptWaitMs(this.policy, deadline - performance.now());
    if (waitMs === null) return unknown;
    const status = await this.attempt({ type: 'status' }, `${requestId}-status`, waitMs);
    if (status === null || status.status !== 'ok') return unknown;
    const m = status.membership;
    const reached =
      command.type === 'add'
        ? m.learners.includes(command.node) || m.voters.includes(command.node)
        : command.type === 'promote'
          ? m.voters.includes(command.node)
          : !m.voters.includes(command.node) && !m.learners.includes(command.node);
    if (!m.configurationCommitted) return unknown;
    return reached ? { type: 'ok', membership: m } : { type: 'refused', error: refusal };
  }

  /** One attempt at the current target: its answer, or null when none came within `waitMs`. */
  private attempt(command: AdminCommand, requestId: string, waitMs: number): Promise<AdminOutcome | null> {
    return new Promise((resolve) => {
      const node = this.book.find((n) => n.id === this.target) ?? this.book[0]!;
      let timer = setTimeout(() => {
        this.waiter = null;
        resolve(null);
      }, waitMs);
      const settle = (outcome: AdminOutcome): void => {
        clearTimeout(timer);
        this.waiter = null;
        resolve(outcome);
      };
      const send = (): void => {
        const encoded = this.endpoint.seal(node.id, { type: 'admin_request', requestId, command });
        if (!encoded.ok) {
          settle({ status: 'refused', message: `request cannot be sent: ${encoded.detail}` });
          return;
        }
        this.socket.send(encoded.datagram, node.port, node.host, () => undefined);
      };
      let resends = 0;
      this.waiter = {
        requestId,
        node: node.id,
        resolve: settle,
        resend: () => {
          if (resends++ >= maxResendsPerAttempt) return;
          clearTimeout(timer);
          timer = setTimeout(() => {
            this.waiter = null;
            resolve(null);
          }, waitMs);
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
    if (body.type !== 'admin_response' || body.requestId !== this.waiter.requestId) return;
    // The node restarted since: the endpoint now knows its incarnation; the same request goes again.
    if (body.outcome.status === 'unavailable' && body.outcome.reason === 'stale_receiver') {
      if (opened.from === this.waiter.node) this.waiter.resend();
      return;
    }
    this.waiter.resolve(body.outcome);
  }
}
