/**
 * The simulator's one point of contact with the transport envelope: every
 * datagram a simulated node, client or adversary sends is sealed here, and
 * every datagram a node or client receives is opened here, with the real
 * codec (`node/transport/codec.ts`: MAC, binary Raft form, validation).
 *
 * Keeping it in one place matters for the adversary (adversary.ts). A held
 * datagram (the network delaying it) keeps its original bytes, so whatever
 * freshness check the transport makes (a per-sender replay window) judges it
 * as it would judge a late datagram on a real network. A `replay` fault
 * instead re-seals old messages here, as an attacker below the transport
 * that holds the keys would: it tests the core's own defences in depth, not
 * the transport's. A change to the envelope (counters, per-peer keys, state
 * per receiver) is made here and both kinds of fault follow it.
 */
import type { ClientMessage, ClientRequest } from '../node/protocol.js';
import type { NodeId, RaftMessage } from '../node/raft/types.js';
import { decodeEnvelope, deriveKey, encodeEnvelope, type DecodeResult, type EncodeResult } from '../node/transport/codec.js';

export const SIM_SECRET = 'rift-simulation-secret-0123456789';
export const SIM_CLUSTER = 'sim';

/** The MAC key of SIM_SECRET, derived once per process (HKDF costs more than a short run's first events). */
let cachedKey: Buffer | null = null;
function simKey(): Buffer {
  cachedKey ??= deriveKey(SIM_SECRET);
  return cachedKey;
}

export class SimWire {
  private readonly key = simKey();

  /** A Raft message from node `from` to node `to` (also how the adversary re-seals a recorded one). */
  sealPeer(from: NodeId, to: NodeId, message: RaftMessage): EncodeResult {
    return encodeEnvelope({ cluster: SIM_CLUSTER, from, to, body: message }, this.key);
  }

  /** A node's answer to a client. */
  sealToClient(from: NodeId, message: ClientMessage): EncodeResult {
    return encodeEnvelope({ cluster: SIM_CLUSTER, from, to: 'client', body: message }, this.key);
  }

  /** A client's request (`clientName` is the envelope's `from`, e.g. `c2`). */
  sealRequest(clientName: string, to: NodeId, request: ClientRequest): EncodeResult {
    return encodeEnvelope({ cluster: SIM_CLUSTER, from: clientName, to, body: request }, this.key);
  }

  /** A datagram arriving at `to` (a node id or a client address). */
  open(_to: string, datagram: Buffer): DecodeResult {
    return decodeEnvelope(datagram, this.key, SIM_CLUSTER);
  }

  /** A word of the datagram's MAC: what the trace hash records of a delivery (cheap, and different for every datagram). */
  traceWord(datagram: Buffer): number {
    return datagram.length >= 9 ? datagram.readUInt32LE(5) : datagram.length;
  }
}
