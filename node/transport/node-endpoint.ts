/**
 * A node's end of the wire: everything between the socket and the host.
 *
 * Outgoing, it stamps and seals: peer messages under this node's peer key
 * with its incarnation, the receiver's incarnation as last heard and a
 * per-peer counter; client replies under the client key, echoing the client
 * instance they answer.
 *
 * Incoming, each datagram passes, in order: the codec (sizes, magic,
 * version, the key its header names, the MAC, the body, the key domain and
 * sender agreeing with the body), the destination (this node), then
 * - peer domain: the peer replay guard (incarnations and window,
 *   `peer-replay.ts`); a peer that has not heard of this incarnation is sent
 *   a `hello`; hellos stop here, Raft messages go to the host;
 * - client domain: the client replay guard (timestamp freshness and window,
 *   `client-replay.ts`); then a request is served only if it names this
 *   node's current incarnation and comes from an address that has proved it
 *   receives (`address-validation.ts`). Otherwise it gets a small `retry`
 *   carrying a token and, in its header, this incarnation, which the client
 *   echoes. So a client request captured before this node restarted is never
 *   served after it (the node's client windows did not survive the restart,
 *   but the incarnation it names is stale), and a spoofed source address
 *   gets at most a few times the bytes the spoofer sent.
 * Every datagram dropped on the way is counted by reason (node status).
 *
 * The same code runs in the real binary (node/main.ts over UDP) and in the
 * simulator (over its simulated network, with the simulated clock), so the
 * simulator exercises the real wire defences.
 */
import type { AdminMessage, AdminRequest, ClientMessage, ClientOutcome, ClientRequest, SnapshotTransferMessage } from '../protocol.js';
import type { NodeId, RaftMessage } from '../raft/types.js';
import { assert } from '../util/assert.js';
import { worthLogging } from '../util/worth-logging.js';
import { AddressValidator } from './address-validation.js';
import { ClientReplayGuard, type ClientDropReason } from './client-replay.js';
import {
  decodeEnvelope,
  encodeEnvelope,
  isAdminMessage,
  isRaftMessage,
  type DropReason,
  type EncodeResult,
  type Envelope,
  type Stamp,
} from './codec.js';
import type { KeyRing } from './keys.js';
import { PeerReplayGuard, type PeerDropReason } from './peer-replay.js';
import { isSnapshotTransferMessage } from './snapshot-binary.js';

/** Where a client reply goes: opaque to the host, interpreted here. */
export interface ReplyAddress {
  readonly host: string;
  readonly port: number;
  /** The requester's sender id (its envelope `from`): the reply's `to`. */
  readonly sender: string;
  /** The requester's client instance (its stamp): the reply echoes it, so no other instance takes it for its own. */
  readonly instance: number;
}

export type EndpointDropReason =
  | DropReason
  | PeerDropReason
  | ClientDropReason
  | 'wrong_destination'
  /** A snapshot transfer message at an endpoint that has no handler for them. */
  | 'no_handler'
  /** A client request from an address not yet validated: answered with a `retry`, not served. */
  | 'unvalidated_address'
  /** Not even a `retry` fits within the amplification limit of the request's bytes. */
  | 'amplification_limit'
  /** A reply to an address that is no longer validated (its table entry expired or was evicted): not sent. */
  | 'unvalidated_reply'
  /**
   * A peer datagram, authenticated, from a node that is not a member of any
   * configuration this node still hears from (removed, or not yet added:
   * dissertation §4.2.3). Its replay state is not touched.
   */
  | 'not_a_member'
  /** An admin request naming an earlier incarnation of this node: answered with this one, not served. */
  | 'admin_stale_receiver';

/**
 * A second hello to the same incarnation of a peer waits at least this long:
 * one per unheard datagram would answer a flood with a flood. (A peer that
 * restarted is told at once.)
 */
export const HELLO_INTERVAL_MS = 50;

export interface NodeEndpointOptions {
  readonly id: NodeId;
  readonly cluster: string;
  /** Every identity of the address book (the config's nodes and spare nodes), this one included. */
  readonly nodeIds: readonly NodeId[];
  /**
   * The peers heard at start (RaftNode.acceptedPeers; NodeEndpoint.setPeers
   * changes them as the configuration does); null: every identity of the
   * address book (a joiner that knows no configuration yet). Absent: every
   * other node of `nodeIds`.
   */
  readonly peers?: readonly NodeId[] | null;
  /** KeyRing.forNode: every node's peer key, the client key and the admin key. */
  readonly keys: KeyRing;
  /** This node's incarnation: persisted and grown on every start (node/incarnation.ts). */
  readonly incarnation: number;
  /** W of the client freshness window (ClusterConfig.clientFreshnessMs). */
  readonly clientFreshnessMs: number;
  /** This node's key for address-validation tokens. */
  readonly tokenKey: Buffer;
  /** The system clock (ms since the Unix epoch), not the node's adjustable clock: stamps and freshness use it. */
  readonly wallClockMs: () => number;
  /** Sends a datagram to a peer (by its configured route). */
  readonly toPeer: (to: NodeId, datagram: Buffer) => void;
  /** Sends a datagram to an address (a client's source address). */
  readonly toAddress: (host: string, port: number, datagram: Buffer) => void;
  readonly onPeerMessage: (message: RaftMessage) => void;
  readonly onClientMessage: (message: ClientMessage, replyTo: ReplyAddress) => void;
  /** Membership admin requests (admin key domain), after their replay defences. Absent: counted and dropped (`no_handler`). */
  readonly onAdminMessage?: (message: AdminRequest, replyTo: ReplyAddress) => void;
  /**
   * Snapshot transfer messages (chunks and acks, `node/snapshot/`), after the
   * same peer replay defences as Raft messages. Absent: counted and dropped
   * (`no_handler`).
   */
  readonly onSnapshotMessage?: (message: SnapshotTransferMessage) => void;
  /**
   * The answer the host gives `request` without doing anything, if it has
   * one (a node that is not the leader redirects it), else null. A request
   * that is not served for want of validation gets this answer instead of a
   * `retry` when it has one and it is within the amplification limit: it
   * changes nothing and is small, and it spares a client that is looking
   * for the leader a round trip at every follower it asks.
   */
  readonly redirect?: (request: ClientRequest) => ClientOutcome | null;
  readonly log: (line: string) => void;
  /**
   * `--unsafe-members-only-transport`: what a leader sends is heard only from
   * the members of the configurations this node still hears (the defect
   * {@link mayComeFromAnyLeader} fixed), for the simulator and the harness to catch.
   */
  readonly unsafeMembersOnly?: boolean;
  /** Bounds (tests shrink them). */
  readonly maxClients?: number;
  readonly maxAddresses?: number;
}

export interface EndpointStats {
  received: number;
  delivered: number;
  hellosSent: number;
  retriesSent: number;
  /** Requests not served for want of validation, answered with the host's redirect instead of a retry. */
  redirectsSent: number;
}

/**
 * Peer messages heard from any identity of the address book, member or not:
 * what a leader sends its followers (and the hello that opens the way).
 * Dissertation §4.1: a server processes incoming RPCs without consulting its
 * configurations. A node that knows a removal committed may be behind a
 * later re-addition of the same identity, or an addition it has not seen,
 * and that identity may lead: dropping its AppendEntries left such a node
 * behind for good (2026-12-06: n1 knew "remove n5" committed and was cut off
 * while n5 was added back and elected; healed, n1 dropped every
 * AppendEntries from n5 for 18 s, until the run ended). The core judges
 * them by term as from anyone. RequestVote, pre-votes and every answer from
 * a non-member stay unheard: the disruption §4.2.3 guards against.
 */
function mayComeFromAnyLeader(type: string): boolean {
  return type === 'append_entries' || type === 'install_snapshot' || type === 'snapshot_chunk' || type === 'hello';
}

/**
 * Whether a peer datagram of `type` is heard from a sender that is (or is
 * not) `admitted` (RaftNode.acceptedPeers: the members of the
 * configurations this node still hears): every type from an admitted
 * sender, and from anyone what a leader sends its followers
 * ({@link mayComeFromAnyLeader}), unless `unsafeMembersOnly`. The one rule:
 * the transport applies it, and the simulator's stepped nodes (the model
 * checker's and the replay's) apply it to every delivery.
 */
export function peerDatagramHeard(admitted: boolean, type: string, unsafeMembersOnly: boolean): boolean {
  return admitted || (!unsafeMembersOnly && mayComeFromAnyLeader(type));
}

export class NodeEndpoint {
  private readonly peers: PeerReplayGuard;
  private readonly clients: ClientReplayGuard;
  /** Admin senders have a replay table of their own: a flood of client ids never evicts them. */
  private readonly admins: ClientReplayGuard;
  private readonly adminKey: Buffer | null;
  /** Whose peer datagrams are heard (null: every identity with a key, see NodeEndpointOptions.peers). */
  private admitted: ReadonlySet<NodeId> | null;
  private readonly addresses: AddressValidator;
  private readonly ownKey: Buffer;
  private readonly clientKey: Buffer;
  private readonly dropped = new Map<EndpointDropReason, number>();
  /** When this node last sent each peer a hello, and which incarnation of the peer it knew then. */
  private readonly lastHello = new Map<NodeId, { readonly atMs: number; readonly peerIncarnation: number }>();
  private readonly counters: EndpointStats = { received: 0, delivered: 0, hellosSent: 0, retriesSent: 0, redirectsSent: 0 };
  private replyCounter = 0;

  constructor(private readonly opts: NodeEndpointOptions) {
    const own = opts.keys.keyFor('peer', opts.id);
    const client = opts.keys.keyFor('client', opts.id);
    assert(own !== null && client !== null, `the key ring of ${opts.id} holds its own peer key and the client key`);
    this.ownKey = own;
    this.clientKey = client;
    this.peers = new PeerReplayGuard(opts.incarnation);
    this.clients = new ClientReplayGuard({
      freshnessMs: opts.clientFreshnessMs,
      ...(opts.maxClients !== undefined ? { maxClients: opts.maxClients } : {}),
    });
    this.admins = new ClientReplayGuard({ freshnessMs: opts.clientFreshnessMs, maxClients: MAX_ADMIN_SENDERS });
    this.adminKey = opts.keys.keyFor('admin', opts.id);
    const peers = opts.peers === undefined ? opts.nodeIds.filter((id) => id !== opts.id) : opts.peers;
    this.admitted = peers === null ? null : new Set(peers);
    this.addresses = new AddressValidator({
      tokenKey: opts.tokenKey,
      ...(opts.maxAddresses !== undefined ? { maxAddresses: opts.maxAddresses } : {}),
    });
  }

  get incarnation(): number {
    return this.opts.incarnation;
  }

  /** The system clock in whole ms (stamps carry integers; the simulator's clock has fractions). */
  private nowMs(): number {
    return Math.floor(this.opts.wallClockMs());
  }

  /**
   * Tells every peer heard this incarnation, so their datagrams to it are
   * accepted from the start. A joiner (peers null) tells nobody: the nodes
   * it could tell do not hear it until it is added, and then the leader's
   * first datagram draws its hello.
   */
  start(): void {
    if (this.admitted === null) return;
    for (const peer of this.admitted) if (peer !== this.opts.id) this.sendHello(peer);
  }

  /**
   * Whose peer datagrams are heard from now on (RaftNode.acceptedPeers after
   * each Ready): a node removed by a committed configuration is no longer a
   * peer; one added is heard as soon as its entry is in the log. What a
   * leader sends its followers is heard from any identity of the address
   * book ({@link mayComeFromAnyLeader}). Newly heard
   * peers are told this incarnation. Replay state is kept for every identity
   * ever heard (bounded by the address book), so re-admitting a node never
   * reopens a window its captured datagrams could be replayed into.
   */
  setPeers(peers: readonly NodeId[] | null): void {
    const before = this.admitted;
    this.admitted = peers === null ? null : new Set(peers);
    if (peers === null) return;
    for (const peer of peers) if (peer !== this.opts.id && before !== null && !before.has(peer)) this.sendHello(peer);
  }

  /** Whether peer datagrams from `peer` are heard now (tests, status). */
  hears(peer: NodeId): boolean {
    return this.admitted === null ? this.opts.keys.isPeer(peer) : this.admitted.has(peer);
  }

  /** Seals and sends a Raft message; returns the encoding's failure, if any (a bug at the caller). */
  sendPeer(to: NodeId, message: RaftMessage): EncodeResult {
    const stamp = this.peers.stampFor(to, this.nowMs());
    const encoded = encodeEnvelope({ cluster: this.opts.cluster, from: this.opts.id, to, body: message }, this.ownKey, stamp);
    if (encoded.ok) this.opts.toPeer(to, encoded.datagram);
    return encoded;
  }

  /** Seals and sends a snapshot chunk or ack to a peer; returns the encoding's failure, if any. */
  sendSnapshotMessage(to: NodeId, message: SnapshotTransferMessage): EncodeResult {
    const stamp = this.peers.stampFor(to, this.nowMs());
    const encoded = encodeEnvelope({ cluster: this.opts.cluster, from: this.opts.id, to, body: message }, this.ownKey, stamp);
    if (encoded.ok) this.opts.toPeer(to, encoded.datagram);
    return encoded;
  }

  /** Seals and sends a reply to a client; a reply to an address no longer validated is dropped and counted. */
  sendClient(to: ReplyAddress, message: ClientMessage): EncodeResult | null {
    const address = addressKey(to.host, to.port);
    const nowMs = this.nowMs();
    if (!this.addresses.isValidated(address, nowMs)) {
      this.countDrop('unvalidated_reply', `reply ${message.type} to ${address}, which is not validated (any more)`);
      return null;
    }
    const encoded = this.sealClient(to, message, nowMs);
    if (encoded.ok) this.opts.toAddress(to.host, to.port, encoded.datagram);
    return encoded;
  }

  /** Handles one datagram from `host:port`. Never throws, except what the host's handlers throw (assertions). */
  receive(datagram: Buffer, host: string, port: number): void {
    this.counters.received++;
    const decoded = decodeEnvelope(datagram, this.opts.keys, this.opts.cluster);
    if (!decoded.ok) {
      this.countDrop(decoded.reason, `from ${addressKey(host, port)}: ${decoded.detail}`);
      return;
    }
    const { envelope, auth } = decoded;
    if (envelope.to !== this.opts.id) {
      this.countDrop('wrong_destination', `addressed to ${JSON.stringify(envelope.to)}, this is ${JSON.stringify(this.opts.id)}`);
      return;
    }
    const body = envelope.body;
    if (auth.domain === 'peer') {
      if (!peerDatagramHeard(this.admitted === null || this.admitted.has(auth.sender), body.type, this.opts.unsafeMembersOnly === true)) {
        this.countDrop(
          'not_a_member',
          `a ${body.type} from ${auth.sender}, which is not a member of any configuration this node still hears`,
        );
        return;
      }
      const isHello = body.type === 'hello';
      const verdict = this.peers.judge(auth.sender, auth, isHello);
      if (verdict.helloDue) this.maybeHello(auth.sender);
      if (verdict.kind === 'drop') {
        this.countDrop(verdict.reason, verdict.detail);
        return;
      }
      if (isRaftMessage(body)) {
        this.counters.delivered++;
        this.opts.onPeerMessage(body);
      } else if (isSnapshotTransferMessage(body)) {
        if (this.opts.onSnapshotMessage === undefined) {
          this.countDrop('no_handler', `a ${body.type} from ${auth.sender}, and this endpoint takes no snapshot transfers`);
          return;
        }
        this.counters.delivered++;
        this.opts.onSnapshotMessage(body);
      }
      return;
    }
    if (auth.domain === 'admin') {
      if (body.type === 'admin_request') this.receiveAdmin(body, auth, host, port);
      return;
    }
    // The codec admits only client messages in the client domain.
    if (isRaftMessage(body) || body.type === 'hello' || isSnapshotTransferMessage(body) || isAdminMessage(body)) return;
    const nowMs = this.nowMs();
    const verdict = this.clients.judge(auth.sender, auth.senderIncarnation, auth.counter, auth.sentAtMs, nowMs);
    if (verdict.kind === 'drop') {
      this.countDrop(verdict.reason, `from ${addressKey(host, port)}: ${verdict.detail}`);
      return;
    }
    const replyTo: ReplyAddress = { host, port, sender: auth.sender, instance: auth.senderIncarnation };
    const address = addressKey(host, port);
    if (auth.receiverIncarnation !== this.opts.incarnation) {
      const detail = `a request from ${address} naming incarnation ${auth.receiverIncarnation} of this node (this is ${this.opts.incarnation})`;
      this.refuse(body, datagram.length, replyTo, address, nowMs, 'stale_receiver', detail);
      return;
    }
    if (!this.addresses.admit(address, envelope.token, nowMs)) {
      this.refuse(
        body,
        datagram.length,
        replyTo,
        address,
        nowMs,
        'unvalidated_address',
        `a request from ${address}, which is not validated`,
      );
      return;
    }
    this.counters.delivered++;
    this.opts.onClientMessage(body, replyTo);
  }

  /** Seals and sends an admin answer (admin key domain) to the address its request came from. */
  sendAdmin(to: ReplyAddress, message: AdminMessage): EncodeResult | null {
    if (this.adminKey === null) return null;
    const stamp: Stamp = {
      senderIncarnation: this.opts.incarnation,
      receiverIncarnation: to.instance,
      counter: ++this.replyCounter,
      sentAtMs: this.nowMs(),
    };
    const encoded = encodeEnvelope({ cluster: this.opts.cluster, from: this.opts.id, to: to.sender, body: message }, this.adminKey, stamp);
    if (encoded.ok) this.opts.toAddress(to.host, to.port, encoded.datagram);
    return encoded;
  }

  /**
   * An admin request: authenticated by the admin key (only holders of the
   * peer secret have it), so no address validation; the replay defences of
   * client requests (freshness within W, a window per sender), and it must
   * name this incarnation, so a request captured before a restart is never
   * served after it (it is answered with this incarnation instead, which the
   * admin client then names).
   */
  private receiveAdmin(body: AdminRequest, auth: { readonly sender: string } & Stamp, host: string, port: number): void {
    const nowMs = this.nowMs();
    const verdict = this.admins.judge(auth.sender, auth.senderIncarnation, auth.counter, auth.sentAtMs, nowMs);
    if (verdict.kind === 'drop') {
      this.countDrop(verdict.reason, `admin request from ${addressKey(host, port)}: ${verdict.detail}`);
      return;
    }
    const replyTo: ReplyAddress = { host, port, sender: auth.sender, instance: auth.senderIncarnation };
    if (auth.receiverIncarnation !== this.opts.incarnation) {
      this.countDrop(
        'admin_stale_receiver',
        `an admin request from ${addressKey(host, port)} naming incarnation ${auth.receiverIncarnation} (this is ${this.opts.incarnation})`,
      );
      this.sendAdmin(replyTo, {
        type: 'admin_response',
        requestId: body.requestId,
        outcome: { status: 'unavailable', reason: 'stale_receiver' },
      });
      return;
    }
    if (this.opts.onAdminMessage === undefined) {
      this.countDrop('no_handler', `an admin request from ${addressKey(host, port)}, and this endpoint takes none`);
      return;
    }
    this.counters.delivered++;
    this.opts.onAdminMessage(body, replyTo);
  }

  droppedCounts(): Record<string, number> {
    return Object.fromEntries(this.dropped);
  }

  stats(): Readonly<EndpointStats> {
    return { ...this.counters };
  }

  /** The incarnation of `peer` as last heard (for tests and status). */
  knownIncarnation(peer: NodeId): number {
    return this.peers.knownIncarnation(peer);
  }

  private sealClient(to: ReplyAddress, message: ClientMessage, nowMs: number): EncodeResult {
    const stamp: Stamp = {
      senderIncarnation: this.opts.incarnation,
      receiverIncarnation: to.instance,
      counter: ++this.replyCounter,
      sentAtMs: nowMs,
    };
    const envelope: Envelope = { cluster: this.opts.cluster, from: this.opts.id, to: to.sender, body: message };
    return encodeEnvelope(envelope, this.clientKey, stamp);
  }

  /**
   * A request that is not served (it names another incarnation of this
   * node, or comes from an address not yet validated) is counted and
   * answered, within RFC 9000 §8.1's limit of AMPLIFICATION_FACTOR times its
   * bytes: with the host's side-effect-free redirect when it has one, else
   * with a `retry` (a token, and this incarnation in the header).
   */
  private refuse(
    body: ClientMessage,
    requestBytes: number,
    replyTo: ReplyAddress,
    address: string,
    nowMs: number,
    reason: 'stale_receiver' | 'unvalidated_address',
    detail: string,
  ): void {
    const redirect = body.type === 'client_request' && this.opts.redirect !== undefined ? this.opts.redirect(body) : null;
    if (redirect !== null && body.type === 'client_request') {
      const answer = this.sealClient(
        replyTo,
        { type: 'client_response', clientId: body.clientId, seq: body.seq, outcome: redirect },
        nowMs,
      );
      if (answer.ok && AddressValidator.withinLimit(requestBytes, answer.datagram.length)) {
        this.countDrop(reason, `${detail}: answered with a redirect`);
        this.counters.redirectsSent++;
        this.opts.toAddress(replyTo.host, replyTo.port, answer.datagram);
        return;
      }
    }
    const retry = this.sealClient(replyTo, { type: 'retry', token: this.addresses.tokenFor(address, nowMs) }, nowMs);
    if (!retry.ok || !AddressValidator.withinLimit(requestBytes, retry.datagram.length)) {
      this.countDrop(
        'amplification_limit',
        `${detail}: even a retry would exceed the amplification limit for a ${requestBytes}-byte request`,
      );
      return;
    }
    this.countDrop(reason, `${detail}: answered with a retry`);
    this.counters.retriesSent++;
    this.opts.toAddress(replyTo.host, replyTo.port, retry.datagram);
  }

  /** A hello to `peer`, unless one went to the same incarnation of it less than HELLO_INTERVAL_MS ago. */
  private maybeHello(peer: NodeId): void {
    const last = this.lastHello.get(peer);
    const nowMs = this.nowMs();
    const recent = last !== undefined && nowMs - last.atMs < HELLO_INTERVAL_MS && nowMs >= last.atMs;
    if (recent && last.peerIncarnation === this.peers.knownIncarnation(peer)) return;
    this.sendHello(peer);
  }

  private sendHello(peer: NodeId): void {
    const nowMs = this.nowMs();
    this.lastHello.set(peer, { atMs: nowMs, peerIncarnation: this.peers.knownIncarnation(peer) });
    const stamp = this.peers.stampFor(peer, nowMs);
    const encoded = encodeEnvelope(
      { cluster: this.opts.cluster, from: this.opts.id, to: peer, body: { type: 'hello' } },
      this.ownKey,
      stamp,
    );
    if (!encoded.ok) return; // cannot happen: a hello has no fields
    this.counters.hellosSent++;
    this.opts.toPeer(peer, encoded.datagram);
  }

  private countDrop(reason: EndpointDropReason, detail: string): void {
    const n = (this.dropped.get(reason) ?? 0) + 1;
    this.dropped.set(reason, n);
    if (worthLogging(n)) this.opts.log(`wire: dropped a datagram (${reason} #${n}): ${detail}`);
  }
}

/** Bound on admin senders remembered by the admin replay guard (each `rift-node admin` run is one). */
const MAX_ADMIN_SENDERS = 256;

export function addressKey(host: string, port: number): string {
  return `${host}:${port}`;
}
