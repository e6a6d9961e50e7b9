/**
 * The wire format of every rift datagram (peer and client traffic alike):
 *
 *   offset 0   4 bytes  magic "RIFT"
 *   offset 4   1 byte   version (1)
 *   offset 5  32 bytes  HMAC-SHA256(key, json)   key = deriveKey(cluster secret)
 *   offset 37  ...      json: the UTF-8 JSON envelope {cluster, from, to, body}
 *
 * The whole datagram is at most MAX_DATAGRAM_BYTES (the IPv4 UDP payload
 * limit). Decoding checks cheap things first, then the MAC (constant-time),
 * and only then parses JSON, so unauthenticated bytes never reach the parser;
 * finally every field of the body is validated (`validate.ts`). Decoding never
 * throws: any input yields a typed result.
 */
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import type { ClientMessage } from '../protocol.js';
import type { AppendEntries, Entry, RaftMessage } from '../raft/types.js';
import { checkEnvelopeBody, checkEnvelopeShape } from './validate.js';

/** Largest UDP payload over IPv4 (65,535 - 8 UDP header - 20 IP header). 65,508 gives EMSGSIZE. */
export const MAX_DATAGRAM_BYTES = 65_507;
export const MAGIC = Buffer.from('RIFT', 'ascii');
export const WIRE_VERSION = 1;
export const MAC_BYTES = 32;
export const HEADER_BYTES = MAGIC.length + 1 + MAC_BYTES;

export type Body = RaftMessage | ClientMessage;

export interface Envelope {
  readonly cluster: string;
  readonly from: string;
  readonly to: string;
  readonly body: Body;
}

export type DropReason =
  | 'too_short'
  | 'oversized'
  | 'bad_magic'
  | 'bad_version'
  | 'bad_mac'
  | 'malformed_json'
  | 'invalid_message'
  | 'wrong_cluster';

export const DROP_REASONS: readonly DropReason[] = [
  'too_short',
  'oversized',
  'bad_magic',
  'bad_version',
  'bad_mac',
  'malformed_json',
  'invalid_message',
  'wrong_cluster',
];

export type DecodeResult =
  | { readonly ok: true; readonly envelope: Envelope }
  | { readonly ok: false; readonly reason: DropReason; readonly detail: string };

export type EncodeResult =
  | { readonly ok: true; readonly datagram: Buffer }
  | { readonly ok: false; readonly reason: 'oversized'; readonly bytes: number; readonly detail: string }
  | { readonly ok: false; readonly reason: 'invalid_message'; readonly detail: string };

/**
 * The MAC key for a cluster secret. HKDF with a fixed, versioned label, so the
 * secret itself is never used directly as a key and a future wire version can
 * derive an unrelated one.
 */
export function deriveKey(secret: string): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), 'rift-envelope', 'rift envelope hmac-sha256 v1', MAC_BYTES));
}

function mac(key: Buffer, json: Uint8Array): Buffer {
  return createHmac('sha256', key).update(json).digest();
}

/**
 * Encodes an envelope. The envelope is validated with the same rules the
 * receiver applies (a message the receiver would drop is a bug at the
 * sender); a message that would not fit in one datagram is a typed failure.
 */
export function encodeEnvelope(env: Envelope, key: Buffer): EncodeResult {
  const plain = { cluster: env.cluster, from: env.from, to: env.to, body: env.body };
  const problem = checkEnvelopeShape(plain) ?? checkEnvelopeBody(plain);
  if (problem !== null) return { ok: false, reason: 'invalid_message', detail: problem };
  const json = Buffer.from(JSON.stringify(plain), 'utf8');
  const bytes = HEADER_BYTES + json.length;
  if (bytes > MAX_DATAGRAM_BYTES) {
    return {
      ok: false,
      reason: 'oversized',
      bytes,
      detail: `envelope is ${bytes} bytes; the datagram limit is ${MAX_DATAGRAM_BYTES}`,
    };
  }
  const out = Buffer.allocUnsafe(bytes);
  MAGIC.copy(out, 0);
  out[MAGIC.length] = WIRE_VERSION;
  mac(key, json).copy(out, MAGIC.length + 1);
  json.copy(out, HEADER_BYTES);
  return { ok: true, datagram: out };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function drop(reason: DropReason, detail: string): DecodeResult {
  return { ok: false, reason, detail };
}

export function decodeEnvelope(buf: Uint8Array, key: Buffer, expectedCluster: string): DecodeResult {
  try {
    if (buf.length < HEADER_BYTES) return drop('too_short', `${buf.length} bytes; the header alone is ${HEADER_BYTES}`);
    if (buf.length > MAX_DATAGRAM_BYTES) return drop('oversized', `${buf.length} bytes; the limit is ${MAX_DATAGRAM_BYTES}`);
    for (let i = 0; i < MAGIC.length; i++) {
      if (buf[i] !== MAGIC[i]) return drop('bad_magic', 'datagram does not start with "RIFT"');
    }
    const version = buf[MAGIC.length];
    if (version !== WIRE_VERSION) return drop('bad_version', `wire version ${String(version)}; this node speaks ${WIRE_VERSION}`);
    const json = buf.subarray(HEADER_BYTES);
    const expected = mac(key, json);
    const got = buf.subarray(MAGIC.length + 1, HEADER_BYTES);
    if (!timingSafeEqual(got, expected)) return drop('bad_mac', 'HMAC does not match (wrong secret or corrupted datagram)');
    let parsed: unknown;
    try {
      parsed = JSON.parse(utf8.decode(json));
    } catch (e) {
      return drop('malformed_json', e instanceof Error ? e.message.slice(0, 200) : 'unparseable');
    }
    const shapeProblem = checkEnvelopeShape(parsed);
    if (shapeProblem !== null) return drop('invalid_message', shapeProblem);
    const env = parsed as Record<string, unknown>;
    if (env['cluster'] !== expectedCluster) {
      return drop('wrong_cluster', `cluster ${JSON.stringify(env['cluster'])}; this node is in ${JSON.stringify(expectedCluster)}`);
    }
    const bodyProblem = checkEnvelopeBody(env);
    if (bodyProblem !== null) return drop('invalid_message', bodyProblem);
    return { ok: true, envelope: parsed as Envelope };
  } catch (e) {
    // Unreachable by construction (every step above is total); kept so a
    // future mistake degrades to a counted drop rather than a crashed node.
    return drop('invalid_message', `decoder error: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Bytes one entry adds to an AppendEntries on the wire (its JSON plus a separating comma). */
export function entryWireBytes(entry: Entry): number {
  return Buffer.byteLength(JSON.stringify(entry), 'utf8') + 1;
}

/**
 * Upper bound on the datagram bytes of an AppendEntries from `from` to `to`
 * with no entries (all numeric fields at their widest). A batch whose
 * `entryWireBytes` sum to at most MAX_DATAGRAM_BYTES minus this always fits.
 */
export function appendEntriesOverheadBytes(cluster: string, from: string, to: string): number {
  const widest = Number.MAX_SAFE_INTEGER;
  const body: AppendEntries = {
    type: 'append_entries',
    term: widest,
    from,
    to,
    prevLogIndex: widest,
    prevLogTerm: widest,
    entries: [],
    leaderCommit: widest,
    seq: widest,
  };
  return HEADER_BYTES + Buffer.byteLength(JSON.stringify({ cluster, from, to, body }), 'utf8');
}
