/**
 * A client's end of the wire (the client library, the simulator's clients).
 *
 * Outgoing: requests sealed under the client key, stamped with this
 * client's instance (random per client object), a counter from 1, the
 * system clock (the node's replay defences, `client-replay.ts`) and the
 * node's incarnation as last heard, with the node's address-validation
 * token (`address-validation.ts`). A node serves a request only if both are
 * current; its `retry` answer hands out both, so the first request to a node
 * (and the first after it restarted) costs one extra round trip.
 *
 * Incoming: a reply is taken only if it verifies under the client key, is
 * addressed to this client's sender id and echoes this instance (so a reply
 * meant for another client object, or replayed from an earlier one with the
 * same id, is refused), and its timestamp is within the freshness window. A
 * `retry` answer's token and incarnation are kept per node, to be echoed
 * from then on.
 */
import type { AdminMessage, ClientMessage } from '../protocol.js';
import type { NodeId } from '../raft/types.js';
import { assert } from '../util/assert.js';
import { isSnapshotTransferMessage } from './snapshot-binary.js';
import { decodeEnvelope, domainOf, encodeEnvelope, isRaftMessage, type DropReason, type EncodeResult, type Envelope } from './codec.js';
import type { KeyRing } from './keys.js';

export interface ClientEndpointOptions {
  readonly cluster: string;
  /** This client's sender id (the envelope `from`; replies come back addressed to it). */
  readonly sender: string;
  /** Random per client object (a safe integer >= 1): keys the node's replay window for this client, echoed in replies. */
  readonly instance: number;
  /** KeyRing.forClient (or KeyRing.forAdmin with `domain: 'admin'`). */
  readonly keys: KeyRing;
  /**
   * The key domain this end speaks in: 'client' (the default: KV requests,
   * status) or 'admin' (membership commands, node/admin-client.ts). A
   * datagram of the other domain is refused both ways.
   */
  readonly domain?: 'client' | 'admin';
  readonly freshnessMs: number;
  /** The system clock, ms since the Unix epoch. */
  readonly wallClockMs: () => number;
}

export type ClientOpenResult<M extends ClientMessage | AdminMessage = ClientMessage> =
  | { readonly ok: true; readonly from: NodeId; readonly message: M }
  | {
      readonly ok: false;
      readonly reason: DropReason | 'wrong_destination' | 'stale_receiver' | 'stale_timestamp';
      readonly detail: string;
    };

/** `M`: the messages of this end's key domain (ClientMessage for 'client', AdminMessage for 'admin'). */
export class ClientEndpoint<M extends ClientMessage | AdminMessage = ClientMessage> {
  private readonly key: Buffer;
  private readonly domain: 'client' | 'admin';
  private counter = 0;
  /** The address-validation token each node gave this client, and the node's incarnation it came from. */
  private readonly tokens = new Map<NodeId, { readonly token: string; readonly incarnation: number }>();

  constructor(private readonly opts: ClientEndpointOptions) {
    assert(Number.isSafeInteger(opts.instance) && opts.instance >= 1, `client instance must be a safe integer >= 1, got ${opts.instance}`);
    this.domain = opts.domain ?? 'client';
    const key = opts.keys.keyFor(this.domain, opts.sender);
    assert(key !== null, `a ${this.domain} key ring holds the ${this.domain} key`);
    this.key = key;
  }

  get instance(): number {
    return this.opts.instance;
  }

  /** The system clock in whole ms (stamps carry integers; the simulator's clock has fractions). */
  private nowMs(): number {
    return Math.floor(this.opts.wallClockMs());
  }

  /** Seals `body` for node `to` (with its token and incarnation, if it gave them). Each call is a new datagram with a new counter. */
  seal(to: NodeId, body: M): EncodeResult {
    if (domainOf(body) !== this.domain)
      return { ok: false, reason: 'invalid_message', detail: `a ${body.type} does not travel in the ${this.domain} key domain` };
    const known = this.tokens.get(to);
    const envelope: Envelope =
      known === undefined || known.token === ''
        ? { cluster: this.opts.cluster, from: this.opts.sender, to, body }
        : { cluster: this.opts.cluster, from: this.opts.sender, to, body, token: known.token };
    return encodeEnvelope(envelope, this.key, {
      senderIncarnation: this.opts.instance,
      receiverIncarnation: known?.incarnation ?? 0,
      counter: ++this.counter,
      sentAtMs: this.nowMs(),
    });
  }

  /** Opens a datagram from a node. A `retry` records its token before it is returned. */
  open(datagram: Uint8Array): ClientOpenResult<M> {
    const decoded = decodeEnvelope(datagram, this.opts.keys, this.opts.cluster);
    if (!decoded.ok) return decoded;
    const { envelope, auth } = decoded;
    const body = envelope.body;
    if (isRaftMessage(body) || body.type === 'hello' || isSnapshotTransferMessage(body))
      return { ok: false, reason: 'wrong_domain', detail: `a ${body.type} at a client` };
    if (auth.domain !== this.domain)
      return { ok: false, reason: 'wrong_domain', detail: `a ${body.type} in the ${auth.domain} key domain at an ${this.domain} end` };
    if (envelope.to !== this.opts.sender)
      return { ok: false, reason: 'wrong_destination', detail: `addressed to ${JSON.stringify(envelope.to)}` };
    if (auth.receiverIncarnation !== this.opts.instance) {
      return {
        ok: false,
        reason: 'stale_receiver',
        detail: `answers client instance ${auth.receiverIncarnation}; this is ${this.opts.instance}`,
      };
    }
    const skewMs = auth.sentAtMs - this.nowMs();
    if (skewMs > this.opts.freshnessMs || skewMs < -this.opts.freshnessMs) {
      return {
        ok: false,
        reason: 'stale_timestamp',
        detail: `sent ${Math.round(skewMs)} ms from this client's clock; the limit is ±${this.opts.freshnessMs} ms`,
      };
    }
    if (body.type === 'retry') this.tokens.set(envelope.from, { token: body.token, incarnation: auth.senderIncarnation });
    // Admin requests carry no token (they are authenticated by a secret key) but must name the
    // node's incarnation, which every admin answer states in its header.
    if (this.domain === 'admin') this.tokens.set(envelope.from, { token: '', incarnation: auth.senderIncarnation });
    // The codec admits a body only in its own domain, and the domain is this end's: the body is an M.
    return { ok: true, from: envelope.from, message: body as M };
  }

  /** Whether `node` has given this client a token (tests). */
  hasToken(node: NodeId): boolean {
    return this.tokens.has(node);
  }
}

/** A client instance from 8 random bytes: a safe integer in [1, 2^52]. */
export function randomInstance(bytes: Buffer): number {
  assert(bytes.length >= 8, 'randomInstance needs 8 random bytes');
  return Number(bytes.readBigUInt64LE(0) & ((1n << 52n) - 1n)) + 1;
}
