/**
 * The wire format of every rift datagram (peer and client traffic alike):
 *
 *   offset 0   4 bytes  magic "RIFT"
 *   offset 4   1 byte   version (2)
 *   offset 5  32 bytes  HMAC-SHA256(key, payload)   key = deriveKey(cluster secret)
 *   offset 37  ...      payload, one of:
 *                       - a Raft peer message in binary (first byte 1-5; `raft-binary.ts`),
 *                         what nodes send each other;
 *                       - the UTF-8 JSON envelope {cluster, from, to, body} (first byte `{`),
 *                         what clients and nodes exchange. Any body may travel as JSON.
 *
 * The whole datagram is at most MAX_DATAGRAM_BYTES (the IPv4 UDP payload
 * limit). Decoding checks cheap things first, then the MAC (constant-time),
 * and only then reads the payload, so unauthenticated bytes never reach a
 * parser; every field of the body is validated (`validate.ts`, or as it is
 * read in `raft-binary.ts`). Decoding never throws: any input yields a typed
 * result.
 *
 * Version 2 added the binary form: peer traffic is mostly heartbeats, and
 * as JSON their stringify/parse/validate cost more than the MACs.
 */
import { hash, hkdfSync } from 'node:crypto';
import type { ClientMessage } from '../protocol.js';
import type { AppendEntries, Entry, RaftMessage } from '../raft/types.js';
import { BINARY_ENTRY_OVERHEAD_BYTES, binaryPayloadBytes, decodeRaftBinary, encodeRaftBinary, isBinaryKind } from './raft-binary.js';
import { checkEnvelopeBody, checkEnvelopeShape } from './validate.js';

/** Largest UDP payload over IPv4 (65,535 - 8 UDP header - 20 IP header). 65,508 gives EMSGSIZE. */
export const MAX_DATAGRAM_BYTES = 65_507;
export const MAGIC = Buffer.from('RIFT', 'ascii');
export const WIRE_VERSION = 2;
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

/**
 * HMAC-SHA256 (RFC 2104): H((K ^ opad) || H((K ^ ipad) || message)), built
 * from two one-shot `crypto.hash` calls over precomputed pads. Bit for bit
 * the same MAC as `createHmac('sha256', key)` (the codec tests compare them),
 * at about a third of the cost: `createHmac` builds a keyed object per
 * message, and every datagram is MACed once when sent and once when received.
 *
 * Keys of at most one block (64 bytes; deriveKey gives 32) are used as they
 * are; longer keys are hashed first, as RFC 2104 prescribes.
 */
const HMAC_BLOCK_BYTES = 64;
/** Scratch for (K ^ ipad) || message; 3 bytes per char bounds any JSON text that may fit a datagram. */
let scratch: Buffer | null = null;

interface MacPads {
  /** A copy of the key bytes the pads were made from (a caller could reuse its buffer). */
  readonly key: Uint8Array;
  readonly ipad: Buffer;
  /** (K ^ opad) || inner digest. */
  readonly outer: Buffer;
}

const padsByKey = new WeakMap<Buffer, MacPads>();

function macPads(key: Buffer): MacPads {
  const cached = padsByKey.get(key);
  if (cached !== undefined && sameBytes(cached.key, key)) return cached;
  const k = key.length > HMAC_BLOCK_BYTES ? hash('sha256', key, 'buffer') : key;
  const ipad = Buffer.alloc(HMAC_BLOCK_BYTES, 0x36);
  const outer = Buffer.alloc(HMAC_BLOCK_BYTES + MAC_BYTES, 0);
  outer.fill(0x5c, 0, HMAC_BLOCK_BYTES);
  for (let i = 0; i < k.length; i++) {
    ipad[i] = ipad[i]! ^ k[i]!;
    outer[i] = outer[i]! ^ k[i]!;
  }
  const pads: MacPads = { key: Uint8Array.from(key), ipad, outer };
  padsByKey.set(key, pads);
  return pads;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Writes a binary (latin1) string's char codes as bytes: digests are 32 chars, cheaper than Buffer.write's dispatch. */
function writeBinary(out: Uint8Array, at: number, text: string): void {
  for (let i = 0; i < text.length; i++) out[at + i] = text.charCodeAt(i);
}

function scratchBuffer(): Buffer {
  scratch ??= Buffer.allocUnsafe(HMAC_BLOCK_BYTES + 3 * MAX_DATAGRAM_BYTES);
  return scratch;
}

/**
 * scratch[0..n) views for the short lengths almost every datagram has, made
 * once: `crypto.hash` needs a view of exactly the bytes to hash, and a fresh
 * `subarray` per MAC is an allocation on every datagram sent and received.
 */
const CACHED_VIEW_BYTES = 2048;
const scratchViews: (Buffer | undefined)[] = [];

function scratchView(length: number): Buffer {
  if (length > CACHED_VIEW_BYTES) return scratchBuffer().subarray(0, length);
  let view = scratchViews[length];
  if (view === undefined) {
    view = scratchBuffer().subarray(0, length);
    scratchViews[length] = view;
  }
  return view;
}

/** The pads whose ipad currently fills scratch[0..64) (one key per process is the common case). */
let scratchPads: MacPads | null = null;

/** The MAC of the `length` message bytes already written at scratch[64..], as a 32-char latin1 string. */
function macOfScratch(pads: MacPads, length: number): string {
  const buf = scratchBuffer();
  if (scratchPads !== pads) {
    buf.set(pads.ipad, 0);
    scratchPads = pads;
  }
  const inner = hash('sha256', scratchView(HMAC_BLOCK_BYTES + length), 'binary');
  writeBinary(pads.outer, HMAC_BLOCK_BYTES, inner);
  return hash('sha256', pads.outer, 'binary');
}

/** Constant-time comparison of a received MAC with the expected one (no early exit). */
function macMatches(buf: Uint8Array, at: number, expected: string): boolean {
  let diff = expected.length ^ MAC_BYTES;
  for (let i = 0; i < MAC_BYTES; i++) diff |= buf[at + i]! ^ expected.charCodeAt(i);
  return diff === 0;
}

/**
 * Encodes an envelope: Raft messages in binary, client messages as JSON.
 * The envelope is validated with the same rules the receiver applies (a
 * message the receiver would drop is a bug at the sender); a message that
 * would not fit in one datagram is a typed failure.
 */
export function encodeEnvelope(env: Envelope, key: Buffer): EncodeResult {
  const body = env.body;
  if (typeof body === 'object' && body !== null && isRaftMessage(body)) {
    const written = encodeRaftBinary(
      { cluster: env.cluster, from: env.from, to: env.to, body },
      scratchBuffer(),
      HMAC_BLOCK_BYTES,
      MAX_DATAGRAM_BYTES - HEADER_BYTES,
    );
    if (!written.ok) {
      if (written.reason === 'invalid_message') return written;
      const bytes = HEADER_BYTES + written.bytes;
      return { ok: false, reason: 'oversized', bytes, detail: `envelope is ${bytes} bytes; the datagram limit is ${MAX_DATAGRAM_BYTES}` };
    }
    return seal(macPads(key), written.bytes);
  }
  return encodeJson(env, key);
}

/** The JSON form: what clients send and receive, and what `encodeEnvelope` uses for every non-Raft body. */
export function encodeJson(env: Envelope, key: Buffer): EncodeResult {
  const plain = { cluster: env.cluster, from: env.from, to: env.to, body: env.body };
  const problem = checkEnvelopeShape(plain) ?? checkEnvelopeBody(plain);
  if (problem !== null) return { ok: false, reason: 'invalid_message', detail: problem };
  const text = JSON.stringify(plain);
  // A UTF-8 byte per char at least: a text longer than the room cannot fit (and must not overrun the scratch).
  let jsonBytes: number;
  const pads = macPads(key);
  if (text.length > MAX_DATAGRAM_BYTES) jsonBytes = Buffer.byteLength(text, 'utf8');
  else jsonBytes = scratchBuffer().write(text, HMAC_BLOCK_BYTES, 'utf8');
  const bytes = HEADER_BYTES + jsonBytes;
  if (bytes > MAX_DATAGRAM_BYTES) {
    return {
      ok: false,
      reason: 'oversized',
      bytes,
      detail: `envelope is ${bytes} bytes; the datagram limit is ${MAX_DATAGRAM_BYTES}`,
    };
  }
  return seal(pads, jsonBytes);
}

/** Frames the `length` payload bytes at scratch[64..]: header, MAC, payload. */
function seal(pads: MacPads, length: number): EncodeResult {
  const mac = macOfScratch(pads, length);
  const out = Buffer.allocUnsafe(HEADER_BYTES + length);
  for (let i = 0; i < MAGIC.length; i++) out[i] = MAGIC[i]!;
  out[MAGIC.length] = WIRE_VERSION;
  writeBinary(out, MAGIC.length + 1, mac);
  scratchBuffer().copy(out, HEADER_BYTES, HMAC_BLOCK_BYTES, HMAC_BLOCK_BYTES + length);
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
    const payloadBytes = buf.length - HEADER_BYTES;
    const scratchBuf = scratchBuffer();
    Buffer.prototype.copy.call(buf, scratchBuf, HMAC_BLOCK_BYTES, HEADER_BYTES); // a native copy, no view allocated
    const expected = macOfScratch(macPads(key), payloadBytes);
    if (!macMatches(buf, MAGIC.length + 1, expected)) return drop('bad_mac', 'HMAC does not match (wrong secret or corrupted datagram)');
    if (isBinaryKind(buf[HEADER_BYTES])) {
      const whole = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.length);
      const read = decodeRaftBinary(whole, HEADER_BYTES, whole.length);
      if (!read.ok) return drop('invalid_message', read.detail);
      if (read.envelope.cluster !== expectedCluster) {
        return drop('wrong_cluster', `cluster ${JSON.stringify(read.envelope.cluster)}; this node is in ${JSON.stringify(expectedCluster)}`);
      }
      return { ok: true, envelope: read.envelope };
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(utf8.decode(buf.subarray(HEADER_BYTES)));
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

/** Bytes one entry adds to an AppendEntries on the wire (binary form: fixed fields plus its UTF-8 data). */
export function entryWireBytes(entry: Entry): number {
  return BINARY_ENTRY_OVERHEAD_BYTES + Buffer.byteLength(entry.data, 'utf8');
}

/**
 * The datagram bytes of an AppendEntries from `from` to `to` with no
 * entries (fixed-width fields, so exact for any values). A batch whose
 * `entryWireBytes` sum to at most MAX_DATAGRAM_BYTES minus this always fits.
 */
export function appendEntriesOverheadBytes(cluster: string, from: string, to: string): number {
  const body: AppendEntries = { type: 'append_entries', term: 0, from, to, prevLogIndex: 0, prevLogTerm: 0, entries: [], leaderCommit: 0, seq: 0 };
  return HEADER_BYTES + binaryPayloadBytes({ cluster, from, to, body });
}

/** Whether a decoded body is a peer (Raft) message rather than a client one. */
export function isRaftMessage(body: Body): body is RaftMessage {
  switch (body.type) {
    case 'request_vote':
    case 'request_vote_response':
    case 'append_entries':
    case 'append_entries_response':
    case 'timeout_now':
      return true;
    default:
      return false;
  }
}
