/**
 * The wire format of every rift datagram (peer and client traffic alike),
 * version 4:
 *
 *   offset 0    4 bytes  magic "RIFT"
 *   offset 4    1 byte   version (4)
 *   offset 5    1 byte   key domain: 1 peer, 2 client, 3 admin (`keys.ts`)
 *   offset 6    8 bytes  senderIncarnation    f64, little-endian (all four)
 *   offset 14   8 bytes  receiverIncarnation
 *   offset 22   8 bytes  counter              >= 1
 *   offset 30   8 bytes  sentAtMs             the sender's system clock
 *   offset 38   1 byte   sender length L (1-255), then L bytes: the sender id (UTF-8)
 *   offset 39+L ...      payload, one of:
 *                        - a Raft peer message in binary (first byte 1-5; `raft-binary.ts`),
 *                          what nodes send each other;
 *                        - a snapshot chunk or its ack in binary (first byte 6-7;
 *                          `snapshot-binary.ts`), peer domain only;
 *                        - a client request or response in binary (first byte 8-9;
 *                          `client-binary.ts`), client domain only: what every
 *                          operation sends;
 *                        - the UTF-8 JSON envelope {cluster, from, to, body[, token]}
 *                          (first byte `{`): the other client messages (status,
 *                          retry), admin messages, a node's `hello`, and any Raft
 *                          or client message in its JSON form.
 *   last 32 bytes        HMAC-SHA256(key, every byte before it)
 *
 * The key is chosen by the domain and the sender named in the header: a peer
 * datagram verifies only under the peer key of the node it names, a client
 * datagram under the client key (`keys.ts`). Everything, magic and header
 * included, is under the MAC. After the MAC, the payload must agree with the
 * header: its `from` is the header's sender, and Raft messages (and hellos)
 * travel only in the peer domain, client messages only in the client domain,
 * so nobody holding the client key can make a datagram a node would take
 * for a peer's.
 *
 * The incarnations, counter and timestamp are what the receiver's replay
 * defences judge (`peer-replay.ts`, `client-replay.ts`); the codec only
 * checks that they are well formed.
 *
 * The whole datagram is at most MAX_DATAGRAM_BYTES (the IPv4 UDP payload
 * limit). Decoding checks cheap things first (sizes, magic, version, the
 * fixed header that names the key), then the MAC (constant-time), and only
 * then reads the rest, so unauthenticated bytes never reach a parser; every
 * field of the body is validated (`validate.ts`, or as it is read in
 * `raft-binary.ts`). Decoding never throws: any input yields a typed result.
 *
 * Version 2 added the binary form (peer traffic is mostly heartbeats, and as
 * JSON their stringify/parse/validate cost more than the MACs). Version 3
 * added the key domains, the per-sender key, and the header fields for replay
 * protection. Version 4 added the binary client request and response, and
 * with it the stored form of a command changed (`node/kv/command.ts`): a
 * version-3 node would apply the new commands as no-ops, so the two versions
 * must never form one cluster, and a different version byte keeps them apart
 * (each drops the other's datagrams as `bad_version`).
 */
import { hash } from 'node:crypto';
import type { AdminMessage, ClientMessage, ClientRequest, ClientResponse, Hello, SnapshotTransferMessage } from '../protocol.js';
import type { AppendEntries, Entry, RaftMessage } from '../raft/types.js';
import type { KeyDomain, KeyLookup } from './keys.js';
import { decodeClientBinary, encodeClientBinary, hasClientBinaryForm, isClientBinaryKind } from './client-binary.js';
import { BINARY_ENTRY_OVERHEAD_BYTES, binaryPayloadBytes, decodeRaftBinary, encodeRaftBinary, isBinaryKind } from './raft-binary.js';
import { decodeSnapshotBinary, encodeSnapshotBinary, isSnapshotKind, isSnapshotTransferMessage } from './snapshot-binary.js';
import { checkEnvelopeBody, checkEnvelopeShape, MAX_ID_CHARS } from './validate.js';

/** Largest UDP payload over IPv4 (65,535 - 8 UDP header - 20 IP header). 65,508 gives EMSGSIZE. */
export const MAX_DATAGRAM_BYTES = 65_507;
export const MAGIC = Buffer.from('RIFT', 'ascii');
export const WIRE_VERSION = 4;
export const MAC_BYTES = 32;
/** Magic, version, domain, the four f64 fields and the sender length byte. */
export const FIXED_HEADER_BYTES = MAGIC.length + 1 + 1 + 4 * 8 + 1;
/** A sender id of at most this many UTF-8 bytes fits the header's length byte. */
export const MAX_SENDER_BYTES = 255;
/** The shortest datagram that can be valid: a 1-byte sender, a 1-byte payload, the MAC. */
export const MIN_DATAGRAM_BYTES = FIXED_HEADER_BYTES + 1 + 1 + MAC_BYTES;

const DOMAIN_OFFSET = MAGIC.length + 1;
const SENDER_INCARNATION_OFFSET = DOMAIN_OFFSET + 1;
const RECEIVER_INCARNATION_OFFSET = SENDER_INCARNATION_OFFSET + 8;
const COUNTER_OFFSET = RECEIVER_INCARNATION_OFFSET + 8;
const SENT_AT_OFFSET = COUNTER_OFFSET + 8;
const SENDER_LENGTH_OFFSET = SENT_AT_OFFSET + 8;

/** Snapshot transfer messages (chunks and their acks) travel between nodes, in binary only (`snapshot-binary.ts`). */
export type Body = RaftMessage | ClientMessage | AdminMessage | Hello | SnapshotTransferMessage;

export interface Envelope {
  readonly cluster: string;
  readonly from: string;
  readonly to: string;
  readonly body: Body;
  /** An address-validation token a client echoes (JSON form only; `address-validation.ts`). */
  readonly token?: string;
}

/** What the sender stamps on a datagram besides its envelope (see the layout above). */
export interface Stamp {
  /** Peer: the sender's incarnation. Client request: the client instance. Reply: the node's incarnation. */
  readonly senderIncarnation: number;
  /** Peer: the receiver's incarnation as the sender last heard it (0: not heard yet). Reply: the client instance it answers. Request: 0. */
  readonly receiverIncarnation: number;
  /** From 1, one more per datagram the sender sends in this incarnation (per destination for peers). */
  readonly counter: number;
  /** The sender's system clock, ms since the Unix epoch. */
  readonly sentAtMs: number;
}

/** The authenticated header of a datagram that decoded. */
export interface AuthHeader extends Stamp {
  readonly domain: KeyDomain;
  /** The sender id the MAC key was chosen by; always equal to the envelope's `from`. */
  readonly sender: string;
}

export type DropReason =
  | 'too_short'
  | 'oversized'
  | 'bad_magic'
  | 'bad_version'
  | 'bad_header'
  | 'unknown_sender'
  | 'bad_mac'
  | 'malformed_json'
  | 'invalid_message'
  | 'wrong_cluster'
  | 'wrong_domain'
  | 'sender_mismatch';

export const DROP_REASONS: readonly DropReason[] = [
  'too_short',
  'oversized',
  'bad_magic',
  'bad_version',
  'bad_header',
  'unknown_sender',
  'bad_mac',
  'malformed_json',
  'invalid_message',
  'wrong_cluster',
  'wrong_domain',
  'sender_mismatch',
];

export type DecodeResult =
  | { readonly ok: true; readonly envelope: Envelope; readonly auth: AuthHeader }
  | { readonly ok: false; readonly reason: DropReason; readonly detail: string };

export type EncodeResult =
  | { readonly ok: true; readonly datagram: Buffer }
  | { readonly ok: false; readonly reason: 'oversized'; readonly bytes: number; readonly detail: string }
  | { readonly ok: false; readonly reason: 'invalid_message'; readonly detail: string };

/** The key domain a body must travel in: Raft messages and hellos between nodes, admin messages in their own, everything else with clients. */
export function domainOf(body: Body): KeyDomain {
  if (isRaftMessage(body) || body.type === 'hello' || isSnapshotTransferMessage(body)) return 'peer';
  return isAdminMessage(body) ? 'admin' : 'client';
}

/** Whether a body is a membership admin message (travels in the admin key domain only). */
export function isAdminMessage(body: Body): body is AdminMessage {
  return body.type === 'admin_request' || body.type === 'admin_response';
}

/**
 * HMAC-SHA256 (RFC 2104): H((K ^ opad) || H((K ^ ipad) || message)), built
 * from two one-shot `crypto.hash` calls over precomputed pads. Bit for bit
 * the same MAC as `createHmac('sha256', key)` (the codec tests compare them),
 * at about a third of the cost: `createHmac` builds a keyed object per
 * message, and every datagram is MACed once when sent and once when received.
 *
 * Keys of at most one block (64 bytes; keys.ts derives 32) are used as they
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
  scratch ??= Buffer.allocUnsafe(HMAC_BLOCK_BYTES + FIXED_HEADER_BYTES + MAX_SENDER_BYTES + 3 * MAX_DATAGRAM_BYTES);
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

/** scratch[64..64 + n) views (the message bytes `seal` copies out), made once per length as scratchView's are. */
const messageViews: (Buffer | undefined)[] = [];

function messageView(length: number): Buffer {
  if (length > CACHED_VIEW_BYTES) return scratchBuffer().subarray(HMAC_BLOCK_BYTES, HMAC_BLOCK_BYTES + length);
  let view = messageViews[length];
  if (view === undefined) {
    view = scratchBuffer().subarray(HMAC_BLOCK_BYTES, HMAC_BLOCK_BYTES + length);
    messageViews[length] = view;
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

/**
 * The datagrams this process sealed last, when it also opens them (the
 * simulator: every datagram a simulated node or client sends is decoded by
 * another in the same thread). Off (null) unless `rememberSealedDatagrams`
 * is called; a real node never calls it, since what it decodes comes from a
 * socket.
 *
 * The MAC is then computed once per datagram, when it is sealed: decoding
 * the very Buffer object `seal` returned, under a key with the same bytes,
 * with its bytes still equal to the copy taken at sealing, is decoding bytes
 * whose MAC under that key is the one they end with, so recomputing it would
 * give exactly the verdict the copy does. Anything else (another Buffer with
 * the same bytes, a changed byte, another key, a datagram sealed too long
 * ago) takes the full HMAC path. A ring of the last SEALED_SLOTS datagrams
 * with their bytes in one preallocated slab: a WeakMap entry and a copy per
 * datagram cost more in GC than the MAC they save (measured).
 */
const SEALED_SLOTS = 256;
const SEALED_SLOT_BYTES = 2048;

interface SealedRing {
  readonly datagrams: (Uint8Array | null)[];
  readonly pads: (MacPads | null)[];
  /** Slot i's bytes at [i * SEALED_SLOT_BYTES, + its length). */
  readonly bytes: Buffer;
  next: number;
}

let sealed: SealedRing | null = null;

/** Turns the memo of sealed datagrams on for this process (see `sealed`): for the simulator only. */
export function rememberSealedDatagrams(): void {
  sealed ??= {
    datagrams: new Array<Uint8Array | null>(SEALED_SLOTS).fill(null),
    pads: new Array<MacPads | null>(SEALED_SLOTS).fill(null),
    bytes: Buffer.alloc(SEALED_SLOTS * SEALED_SLOT_BYTES),
    next: 0,
  };
}

function rememberSealed(ring: SealedRing, datagram: Buffer, pads: MacPads): void {
  if (datagram.length > SEALED_SLOT_BYTES) return;
  const slot = ring.next;
  ring.next = (slot + 1) % SEALED_SLOTS;
  ring.datagrams[slot] = datagram;
  ring.pads[slot] = pads;
  ring.bytes.set(datagram, slot * SEALED_SLOT_BYTES); // TypedArray set: cheaper than Buffer#copy's checks for a few hundred bytes
}

/** Whether `buf` is a datagram this process sealed under `pads`' key bytes and nobody has changed since. */
function sealedUnchanged(ring: SealedRing, buf: Uint8Array, pads: MacPads): boolean {
  for (let k = 1; k <= SEALED_SLOTS; k++) {
    const slot = (ring.next - k + SEALED_SLOTS) % SEALED_SLOTS;
    if (ring.datagrams[slot] !== buf) continue;
    const sealedUnder = ring.pads[slot]!;
    if (sealedUnder !== pads && !sameBytes(sealedUnder.key, pads.key)) return false;
    const at = slot * SEALED_SLOT_BYTES;
    return ring.bytes.compare(buf, 0, buf.length, at, at + buf.length) === 0;
  }
  return false;
}

/** Constant-time comparison of a received MAC with the expected one (no early exit). */
function macMatches(buf: Uint8Array, at: number, expected: string): boolean {
  let diff = expected.length ^ MAC_BYTES;
  for (let i = 0; i < MAC_BYTES; i++) diff |= buf[at + i]! ^ expected.charCodeAt(i);
  return diff === 0;
}

/** Checks a stamp as the receiver will (a sender that stamps nonsense has a bug). */
function stampProblem(stamp: Stamp): string | null {
  if (!isNat(stamp.senderIncarnation))
    return `senderIncarnation: expected a non-negative safe integer, got ${String(stamp.senderIncarnation)}`;
  if (!isNat(stamp.receiverIncarnation))
    return `receiverIncarnation: expected a non-negative safe integer, got ${String(stamp.receiverIncarnation)}`;
  if (!(isNat(stamp.counter) && stamp.counter >= 1)) return `counter: expected a safe integer >= 1, got ${String(stamp.counter)}`;
  if (!isNat(stamp.sentAtMs)) return `sentAtMs: expected a non-negative safe integer, got ${String(stamp.sentAtMs)}`;
  return null;
}

function isNat(v: number): boolean {
  return Number.isSafeInteger(v) && v >= 0 && !Object.is(v, -0);
}

/** Ids are short and almost always ASCII: a plain loop beats a call into Buffer's C++ for them. */
function writeSender(out: Buffer, at: number, sender: string): number {
  for (let i = 0; i < sender.length; i++) {
    const c = sender.charCodeAt(i);
    if (c >= 0x80) return out.write(sender, at, 'utf8');
    out[at + i] = c;
  }
  return sender.length;
}

function senderBytes(sender: string): number {
  for (let i = 0; i < sender.length; i++) if (sender.charCodeAt(i) >= 0x80) return Buffer.byteLength(sender, 'utf8');
  return sender.length;
}

/**
 * Encodes an envelope under `key` with `stamp`: Raft messages in binary,
 * everything else as JSON, in the key domain the body belongs to
 * (`domainOf`). The envelope is validated with the same rules the receiver
 * applies (a message the receiver would drop is a bug at the sender); a
 * message that would not fit in one datagram is a typed failure.
 */
export function encodeEnvelope(env: Envelope, key: Buffer, stamp: Stamp): EncodeResult {
  const body = env.body;
  if (typeof body === 'object' && body !== null && isRaftMessage(body)) return encodePeerBinary(env, body, key, stamp, encodeRaftBinary);
  if (typeof body === 'object' && body !== null && isSnapshotTransferMessage(body)) {
    return encodePeerBinary(env, body, key, stamp, encodeSnapshotBinary);
  }
  if (typeof body === 'object' && body !== null && hasClientBinaryForm(body)) return encodeClient(env, body, key, stamp);
  return encodeJson(env, key, stamp);
}

/**
 * A client request or response in its binary form (`client-binary.ts`),
 * validated first with the JSON form's rules; one whose text UTF-8 cannot
 * carry goes as JSON.
 */
function encodeClient(env: Envelope, body: ClientRequest | ClientResponse, key: Buffer, stamp: Stamp): EncodeResult {
  const plain =
    env.token === undefined
      ? { cluster: env.cluster, from: env.from, to: env.to, body }
      : { cluster: env.cluster, from: env.from, to: env.to, body, token: env.token };
  const problem = checkEnvelopeShape(plain) ?? checkEnvelopeBody(plain);
  if (problem !== null) return { ok: false, reason: 'invalid_message', detail: problem };
  const header = writeHeader(env.from, 'client', stamp);
  if (typeof header === 'string') return { ok: false, reason: 'invalid_message', detail: header };
  const written = encodeClientBinary(plain, scratchBuffer(), HMAC_BLOCK_BYTES + header, MAX_DATAGRAM_BYTES - header - MAC_BYTES);
  if (!written.ok) {
    if (written.reason === 'not_representable') return encodeJson(env, key, stamp);
    const bytes = header + written.bytes + MAC_BYTES;
    return { ok: false, reason: 'oversized', bytes, detail: `envelope is ${bytes} bytes; the datagram limit is ${MAX_DATAGRAM_BYTES}` };
  }
  return seal(macPads(key), header + written.bytes);
}

/** A peer body in its binary form (Raft messages, snapshot transfer): header, body written in place, then the MAC. */
function encodePeerBinary<B>(
  env: Envelope,
  body: B,
  key: Buffer,
  stamp: Stamp,
  encode: (
    message: { cluster: string; from: string; to: string; body: B },
    into: Buffer,
    offset: number,
    maxBytes: number,
  ) =>
    | { ok: true; bytes: number }
    | { ok: false; reason: 'oversized'; bytes: number }
    | { ok: false; reason: 'invalid_message'; detail: string },
): EncodeResult {
  const header = writeHeader(env.from, 'peer', stamp);
  if (typeof header === 'string') return { ok: false, reason: 'invalid_message', detail: header };
  if (env.token !== undefined)
    return { ok: false, reason: 'invalid_message', detail: 'envelope.token: only client datagrams carry a token' };
  const written = encode(
    { cluster: env.cluster, from: env.from, to: env.to, body },
    scratchBuffer(),
    HMAC_BLOCK_BYTES + header,
    MAX_DATAGRAM_BYTES - header - MAC_BYTES,
  );
  if (!written.ok) {
    if (written.reason === 'invalid_message') return written;
    const bytes = header + written.bytes + MAC_BYTES;
    return { ok: false, reason: 'oversized', bytes, detail: `envelope is ${bytes} bytes; the datagram limit is ${MAX_DATAGRAM_BYTES}` };
  }
  return seal(macPads(key), header + written.bytes);
}

/** The JSON form: what clients send and receive, and what `encodeEnvelope` uses for every non-Raft body. */
export function encodeJson(env: Envelope, key: Buffer, stamp: Stamp): EncodeResult {
  const plain =
    env.token === undefined
      ? { cluster: env.cluster, from: env.from, to: env.to, body: env.body }
      : { cluster: env.cluster, from: env.from, to: env.to, body: env.body, token: env.token };
  const problem = checkEnvelopeShape(plain) ?? checkEnvelopeBody(plain);
  if (problem !== null) return { ok: false, reason: 'invalid_message', detail: problem };
  const domain = domainOf(env.body);
  if (env.token !== undefined && domain !== 'client')
    return { ok: false, reason: 'invalid_message', detail: 'envelope.token: only client datagrams carry a token' };
  const header = writeHeader(env.from, domain, stamp);
  if (typeof header === 'string') return { ok: false, reason: 'invalid_message', detail: header };
  const text = JSON.stringify(plain);
  // A UTF-8 byte per char at least: a text longer than the room cannot fit (and must not overrun the scratch).
  let jsonBytes: number;
  if (text.length > MAX_DATAGRAM_BYTES) jsonBytes = Buffer.byteLength(text, 'utf8');
  else jsonBytes = scratchBuffer().write(text, HMAC_BLOCK_BYTES + header, 'utf8');
  const bytes = header + jsonBytes + MAC_BYTES;
  if (bytes > MAX_DATAGRAM_BYTES) {
    return {
      ok: false,
      reason: 'oversized',
      bytes,
      detail: `envelope is ${bytes} bytes; the datagram limit is ${MAX_DATAGRAM_BYTES}`,
    };
  }
  return seal(macPads(key), header + jsonBytes);
}

/** Writes the header at scratch[64..]; returns its length, or the problem with the stamp or sender. */
function writeHeader(sender: string, domain: KeyDomain, stamp: Stamp): number | string {
  const problem = stampProblem(stamp);
  if (problem !== null) return `stamp.${problem}`;
  if (typeof sender !== 'string' || sender.length === 0) return 'envelope.from: must not be empty';
  const n = senderBytes(sender);
  if (n > MAX_SENDER_BYTES) return `envelope.from: ${n} UTF-8 bytes; the header holds at most ${MAX_SENDER_BYTES}`;
  // n equals the length only for ASCII, which is always well formed.
  if (n !== sender.length && !(sender as unknown as { isWellFormed(): boolean }).isWellFormed())
    return 'envelope.from: not well-formed UTF-16 (a lone surrogate)';
  const buf = scratchBuffer();
  const at = HMAC_BLOCK_BYTES;
  for (let i = 0; i < MAGIC.length; i++) buf[at + i] = MAGIC[i]!;
  buf[at + MAGIC.length] = WIRE_VERSION;
  buf[at + DOMAIN_OFFSET] = domain === 'peer' ? 1 : domain === 'client' ? 2 : 3;
  buf.writeDoubleLE(stamp.senderIncarnation, at + SENDER_INCARNATION_OFFSET);
  buf.writeDoubleLE(stamp.receiverIncarnation, at + RECEIVER_INCARNATION_OFFSET);
  buf.writeDoubleLE(stamp.counter, at + COUNTER_OFFSET);
  buf.writeDoubleLE(stamp.sentAtMs, at + SENT_AT_OFFSET);
  buf[at + SENDER_LENGTH_OFFSET] = n;
  writeSender(buf, at + FIXED_HEADER_BYTES, sender);
  return FIXED_HEADER_BYTES + n;
}

/** Frames the `length` bytes at scratch[64..] (header and payload): copies them out and appends their MAC. */
function seal(pads: MacPads, length: number): EncodeResult {
  const mac = macOfScratch(pads, length);
  const out = Buffer.allocUnsafe(length + MAC_BYTES);
  out.set(messageView(length)); // TypedArray set from a cached view: Buffer#copy with offsets makes a view per call
  writeBinary(out, length, mac);
  if (sealed !== null) rememberSealed(sealed, out, pads);
  return { ok: true, datagram: out };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function drop(reason: DropReason, detail: string): DecodeResult {
  return { ok: false, reason, detail };
}

/**
 * Recently read ASCII sender ids: a node hears the same few peers and
 * clients again and again, and a hit (checked byte for byte) saves building
 * a string per datagram. Bounded: a small ring, overwritten in turn.
 */
const SENDER_CACHE_SLOTS = 16;
const senderCache: (string | undefined)[] = new Array<string | undefined>(SENDER_CACHE_SLOTS).fill(undefined);
let senderCacheNext = 0;

function cachedSender(buf: Uint8Array, start: number, length: number): string | undefined {
  for (const s of senderCache) {
    if (s === undefined || s.length !== length) continue;
    let same = true;
    for (let i = 0; i < length; i++) {
      if (s.charCodeAt(i) !== buf[start + i]) {
        same = false;
        break;
      }
    }
    if (same) return s;
  }
  return undefined;
}

/** The sender id at buf[start..start+length), or null if it is not UTF-8. */
function readSender(buf: Uint8Array, start: number, length: number): string | null {
  const hit = cachedSender(buf, start, length);
  if (hit !== undefined) return hit;
  let s = '';
  for (let i = start; i < start + length; i++) {
    const b = buf[i]!;
    if (b >= 0x80) {
      try {
        return utf8.decode(buf.subarray(start, start + length));
      } catch {
        return null;
      }
    }
    s += String.fromCharCode(b);
  }
  senderCache[senderCacheNext] = s;
  senderCacheNext = (senderCacheNext + 1) % SENDER_CACHE_SLOTS;
  return s;
}

/**
 * Where the payload of a datagram lies, from its (unauthenticated) header;
 * null if the header is not even well formed. For observers that skip work
 * (the wire monitor); `decodeEnvelope` is the only way to trust a datagram.
 */
export function payloadBounds(buf: Uint8Array): { readonly start: number; readonly end: number } | null {
  if (buf.length < MIN_DATAGRAM_BYTES || buf.length > MAX_DATAGRAM_BYTES) return null;
  const n = buf[SENDER_LENGTH_OFFSET]!;
  const start = FIXED_HEADER_BYTES + n;
  const end = buf.length - MAC_BYTES;
  return n === 0 || start >= end ? null : { start, end };
}

/** A binary payload that decoded: it must name this cluster and, as its `from`, the header's sender. */
function accepted(envelope: Envelope, expectedCluster: string, sender: string, auth: AuthHeader): DecodeResult {
  if (envelope.cluster !== expectedCluster)
    return drop('wrong_cluster', `cluster ${JSON.stringify(envelope.cluster)}; this node is in ${JSON.stringify(expectedCluster)}`);
  if (envelope.from !== sender)
    return drop('sender_mismatch', `envelope.from ${JSON.stringify(envelope.from)} is not the header's sender ${JSON.stringify(sender)}`);
  return { ok: true, envelope, auth };
}

export function decodeEnvelope(buf: Uint8Array, keys: KeyLookup, expectedCluster: string): DecodeResult {
  try {
    if (buf.length < MIN_DATAGRAM_BYTES) return drop('too_short', `${buf.length} bytes; the shortest datagram is ${MIN_DATAGRAM_BYTES}`);
    if (buf.length > MAX_DATAGRAM_BYTES) return drop('oversized', `${buf.length} bytes; the limit is ${MAX_DATAGRAM_BYTES}`);
    for (let i = 0; i < MAGIC.length; i++) {
      if (buf[i] !== MAGIC[i]) return drop('bad_magic', 'datagram does not start with "RIFT"');
    }
    const version = buf[MAGIC.length];
    if (version !== WIRE_VERSION) return drop('bad_version', `wire version ${String(version)}; this node speaks ${WIRE_VERSION}`);
    const domainByte = buf[DOMAIN_OFFSET];
    if (domainByte !== 1 && domainByte !== 2 && domainByte !== 3)
      return drop('bad_header', `key domain ${String(domainByte)}; expected 1 (peer), 2 (client) or 3 (admin)`);
    const domain: KeyDomain = domainByte === 1 ? 'peer' : domainByte === 2 ? 'client' : 'admin';
    const senderLength = buf[SENDER_LENGTH_OFFSET]!;
    if (senderLength === 0) return drop('bad_header', 'empty sender id');
    const payloadStart = FIXED_HEADER_BYTES + senderLength;
    const payloadEnd = buf.length - MAC_BYTES;
    if (payloadStart >= payloadEnd) return drop('too_short', `${buf.length} bytes leave no payload after a ${senderLength}-byte sender id`);
    const sender = readSender(buf, FIXED_HEADER_BYTES, senderLength);
    if (sender === null) return drop('bad_header', 'sender id is not UTF-8');
    const key = keys.keyFor(domain, sender);
    if (key === null) return drop('unknown_sender', `no ${domain} key for sender ${JSON.stringify(sender.slice(0, 64))}`);
    const pads = macPads(key);
    if (sealed === null || !sealedUnchanged(sealed, buf, pads)) {
      const scratchBuf = scratchBuffer();
      Buffer.prototype.copy.call(buf, scratchBuf, HMAC_BLOCK_BYTES, 0, payloadEnd); // a native copy, no view allocated
      const expected = macOfScratch(pads, payloadEnd);
      if (!macMatches(buf, payloadEnd, expected))
        return drop('bad_mac', 'HMAC does not match (wrong key, or a corrupted or forged datagram)');
    }

    const whole = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.length);
    const auth: AuthHeader = {
      domain,
      sender,
      senderIncarnation: whole.readDoubleLE(SENDER_INCARNATION_OFFSET),
      receiverIncarnation: whole.readDoubleLE(RECEIVER_INCARNATION_OFFSET),
      counter: whole.readDoubleLE(COUNTER_OFFSET),
      sentAtMs: whole.readDoubleLE(SENT_AT_OFFSET),
    };
    const stampBad = stampProblem(auth);
    if (stampBad !== null) return drop('bad_header', stampBad);

    if (isBinaryKind(whole[payloadStart])) {
      if (domain !== 'peer') return drop('wrong_domain', 'a Raft message in the client key domain');
      const read = decodeRaftBinary(whole, payloadStart, payloadEnd);
      if (!read.ok) return drop('invalid_message', read.detail);
      return accepted(read.envelope, expectedCluster, sender, auth);
    }
    if (isSnapshotKind(whole[payloadStart])) {
      if (domain !== 'peer') return drop('wrong_domain', 'a snapshot transfer message in the client key domain');
      const read = decodeSnapshotBinary(whole, payloadStart, payloadEnd);
      if (!read.ok) return drop('invalid_message', read.detail);
      return accepted(read.envelope, expectedCluster, sender, auth);
    }
    if (isClientBinaryKind(whole[payloadStart])) {
      if (domain !== 'client') return drop('wrong_domain', `a client message in the ${domain} key domain`);
      const read = decodeClientBinary(whole, payloadStart, payloadEnd);
      if (!read.ok) return drop('invalid_message', read.detail);
      return accepted(read.envelope, expectedCluster, sender, auth);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(utf8.decode(whole.subarray(payloadStart, payloadEnd)));
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
    const envelope = parsed as Envelope;
    const bodyDomain = domainOf(envelope.body);
    if (bodyDomain !== domain) return drop('wrong_domain', `a ${envelope.body.type} in the ${domain} key domain`);
    if (envelope.token !== undefined && domain !== 'client') return drop('wrong_domain', 'a token in the peer key domain');
    if (envelope.from !== sender)
      return drop('sender_mismatch', `envelope.from ${JSON.stringify(envelope.from)} is not the header's sender ${JSON.stringify(sender)}`);
    return { ok: true, envelope, auth };
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
  const body: AppendEntries = {
    type: 'append_entries',
    term: 0,
    from,
    to,
    prevLogIndex: 0,
    prevLogTerm: 0,
    entries: [],
    leaderCommit: 0,
    seq: 0,
  };
  return FIXED_HEADER_BYTES + senderBytes(from) + binaryPayloadBytes({ cluster, from, to, body }) + MAC_BYTES;
}

/**
 * The largest UTF-8 size an entry's data may have for the entry to travel
 * alone in an AppendEntries between any two nodes of `cluster`, whatever
 * their ids (at their longest, so that a node added later does not change
 * it). A leader sends its log in order, at least one entry a message: an
 * entry larger than this could never leave it, and every write after it
 * would wait for it forever. The host refuses a command whose stored form is
 * larger (kv/limits.ts checkStoredCommand).
 */
export function maxEntryDataBytes(cluster: string): number {
  const longest = 'x'.repeat(MAX_ID_CHARS);
  return MAX_DATAGRAM_BYTES - appendEntriesOverheadBytes(cluster, longest, longest) - BINARY_ENTRY_OVERHEAD_BYTES;
}

/** Whether a decoded body is a peer (Raft) message rather than a client one or a hello. */
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
