/**
 * Who holds which MAC key (README "Threat model").
 *
 * Two secrets in the cluster config, two key domains on the wire:
 *
 * - `peerSecret`, held by the nodes only. Each node `n` MACs its peer
 *   datagrams with its own peer key HKDF(peerSecret, "rift peer v3 " + n), and
 *   a receiver verifies a peer datagram with the key of the sender it names,
 *   so a MAC made with n1's key never verifies as a message from n2.
 * - `clientSecret`, held by the clients (and the nodes, which answer them).
 *   Client requests and the nodes' replies are MACed with the one client key
 *   HKDF(clientSecret, "rift client v3").
 *
 * - The admin key HKDF(peerSecret, "rift admin v3"): membership changes and
 *   their status (`rift-node admin`, node/admin-client.ts). Derived from the
 *   peer secret, so only those who could already speak as a node (the
 *   nodes, an operator on a node's machine) can change who the nodes are;
 *   a client secret gives nothing towards it. It is a key of its own, not a
 *   node's peer key, so an admin datagram is never taken for a peer's and a
 *   Raft message is never taken for an admin request.
 *
 * The two come from different secrets through a one-way function, so holding
 * the client secret (or any key derived from it) gives nothing towards a peer
 * key. The codec enforces the split: a Raft message is accepted only in the
 * peer domain, under the key of the node it claims to come from.
 *
 * What the split does not give: every node holds the peer secret, so a
 * compromised node can derive every other node's peer key and speak as any
 * of them. Pairwise keys from per-node secrets would stop that, but buy
 * little here: Raft tolerates crashes, not lies, and a single compromised
 * voter already breaks safety on its own (it can grant two votes in a term, or
 * acknowledge entries it never stored).
 */
import { hkdfSync } from 'node:crypto';
import { assertNever } from '../util/assert.js';

export const MAC_KEY_BYTES = 32;

/** The two authentication domains of a datagram (a byte in its header). */
export type KeyDomain = 'peer' | 'client' | 'admin';

/** Fixed, versioned HKDF salt: the secrets are never used directly as keys. */
const SALT = 'rift-envelope v3';

function hkdf(secret: string, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), SALT, info, MAC_KEY_BYTES));
}

/** Node `nodeId`'s peer key: what it MACs its peer datagrams with. */
export function derivePeerKey(peerSecret: string, nodeId: string): Buffer {
  return hkdf(peerSecret, `rift peer v3 ${nodeId}`);
}

/** The client key: client requests and the nodes' replies to them. */
export function deriveClientKey(clientSecret: string): Buffer {
  return hkdf(clientSecret, 'rift client v3');
}

/** The admin key: membership commands and their answers (only holders of the peer secret have it). */
export function deriveAdminKey(peerSecret: string): Buffer {
  return hkdf(peerSecret, 'rift admin v3');
}

/** Which key verifies a datagram of `domain` from `sender` (null: nobody trusted). */
export interface KeyLookup {
  keyFor(domain: KeyDomain, sender: string): Buffer | null;
}

/**
 * The keys one party may verify with, by domain and claimed sender. A node
 * holds every node's peer key and the client key; a client only the client
 * key; the harness's wire monitor only the peer keys.
 */
export class KeyRing implements KeyLookup {
  private constructor(
    private readonly peerKeys: ReadonlyMap<string, Buffer>,
    private readonly clientKey: Buffer | null,
    private readonly adminKey: Buffer | null = null,
  ) {}

  /**
   * A node's ring: the peer key of every identity in its address book (the
   * config's nodes and spare nodes, its own included), the client key and
   * the admin key. Holding a peer key is not being heard: the node endpoint
   * admits peer datagrams only from current members (NodeEndpoint.setPeers).
   */
  static forNode(peerSecret: string, clientSecret: string, nodeIds: readonly string[]): KeyRing {
    return new KeyRing(
      new Map(nodeIds.map((id) => [id, derivePeerKey(peerSecret, id)])),
      deriveClientKey(clientSecret),
      deriveAdminKey(peerSecret),
    );
  }

  /** An administrator's ring (`rift-node admin`): the admin key alone. */
  static forAdmin(peerSecret: string): KeyRing {
    return new KeyRing(new Map(), null, deriveAdminKey(peerSecret));
  }

  /** A client's ring: the client key alone. */
  static forClient(clientSecret: string): KeyRing {
    return new KeyRing(new Map(), deriveClientKey(clientSecret));
  }

  /** An observer of peer traffic (the harness's wire monitor): the peer keys alone. */
  static forPeerObserver(peerSecret: string, nodeIds: readonly string[]): KeyRing {
    return new KeyRing(new Map(nodeIds.map((id) => [id, derivePeerKey(peerSecret, id)])), null);
  }

  /** Explicit keys (tests and benchmarks). */
  static of(peerKeys: ReadonlyMap<string, Buffer>, clientKey: Buffer | null): KeyRing {
    return new KeyRing(peerKeys, clientKey);
  }

  /** The key a datagram of `domain` claiming to come from `sender` must verify under; null: nobody this ring trusts. */
  keyFor(domain: KeyDomain, sender: string): Buffer | null {
    switch (domain) {
      case 'peer':
        return this.peerKeys.get(sender) ?? null;
      case 'client':
        return this.clientKey;
      case 'admin':
        return this.adminKey;
      default:
        return assertNever(domain, 'key domain');
    }
  }

  /** Whether `sender` is a node this ring holds a peer key for. */
  isPeer(sender: string): boolean {
    return this.peerKeys.has(sender);
  }
}
