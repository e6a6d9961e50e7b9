/**
 * The binary form of the snapshot transfer messages (`protocol.ts`
 * SnapshotChunk and SnapshotAck): the payload of a peer datagram whose first
 * byte is 6 or 7 (1-5 are the Raft messages, `raft-binary.ts`; a JSON
 * payload starts with `{`). Binary because a chunk is mostly raw snapshot
 * bytes: as JSON they would need base64 (a third more on the wire) and a
 * parse of ~60 KiB of text per datagram. There is no JSON form: a
 * `snapshot_chunk` body in JSON is an unknown type and dropped.
 *
 * Layout (little-endian; `str` = u16 UTF-8 byte length, then the bytes):
 *
 *   u8  kind        6 snapshot_chunk, 7 snapshot_ack
 *   str cluster     str from     str to
 *   f64 term        f64 seq
 *   snapshot_chunk  f64 snapshot.index, f64 snapshot.term,
 *                   u8 voters, str × voters, u8 learners, str × learners,
 *                   f64 totalBytes, f64 chunkBytes, 32 bytes SHA-256 checksum,
 *                   f64 offset, u32 data length, data
 *   snapshot_ack    f64 offset, u8 status (0 ok, 1 complete, 2 rejected), str reason
 *
 * Every field is checked as it is read (the codec has verified the MAC
 * first): the chunk's geometry must be self-consistent (offset a multiple of
 * chunkBytes inside totalBytes, data exactly as long as that chunk must be),
 * the configuration valid, no trailing bytes. Reading never throws.
 */
import type { SnapshotAck, SnapshotAckStatus, SnapshotChunk, SnapshotTransferMessage } from '../protocol.js';
import { configurationProblem, MAX_MEMBERS } from '../raft/configuration.js';
import { MAX_ID_CHARS, MAX_TEXT_CHARS } from './validate.js';

export const SNAPSHOT_CHUNK_KIND = 6;
export const SNAPSHOT_ACK_KIND = 7;
const CHECKSUM_BYTES = 32;
/** Largest chunk a datagram can carry at all (the datagram limit); senders use less (streamer.ts). */
export const MAX_CHUNK_BYTES = 65_507;
/** Bound on a snapshot's size as the wire accepts it (the snapshot file's bound, snapshot-store.ts). */
export const MAX_SNAPSHOT_WIRE_BYTES = 1024 * 1024 * 1024;

export interface SnapshotEnvelope {
  readonly cluster: string;
  readonly from: string;
  readonly to: string;
  readonly body: SnapshotTransferMessage;
}

export function isSnapshotKind(byte: number | undefined): boolean {
  return byte === SNAPSHOT_CHUNK_KIND || byte === SNAPSHOT_ACK_KIND;
}

export function isSnapshotTransferMessage(body: { readonly type: string }): body is SnapshotTransferMessage {
  return body.type === 'snapshot_chunk' || body.type === 'snapshot_ack';
}

const STATUS_CODES: readonly SnapshotAckStatus[] = ['ok', 'complete', 'rejected'];

// ------------------------------------------------------------------ encode

function strBytes(s: string): number {
  return 2 + Buffer.byteLength(s, 'utf8');
}

/** Exact payload size of a snapshot message. */
export function snapshotPayloadBytes(env: SnapshotEnvelope): number {
  const m = env.body;
  const n = 1 + strBytes(env.cluster) + strBytes(env.from) + strBytes(env.to) + 16;
  if (m.type === 'snapshot_ack') return n + 8 + 1 + strBytes(m.reason);
  let members = 2;
  for (const id of m.snapshot.configuration.voters) members += strBytes(id);
  for (const id of m.snapshot.configuration.learners) members += strBytes(id);
  return n + 16 + members + 16 + CHECKSUM_BYTES + 8 + 4 + m.data.length;
}

/** The first field the receiver would refuse, or null (the sender checks with the receiver's rules). */
export function snapshotMessageProblem(env: SnapshotEnvelope): string | null {
  const m = env.body;
  const ids = [env.cluster, env.from, env.to];
  for (const id of ids) if (typeof id !== 'string' || id.length === 0 || id.length > MAX_ID_CHARS) return `bad id ${JSON.stringify(id)}`;
  if (m.from !== env.from || m.to !== env.to) return 'body.from/to differ from the envelope';
  if (!isNat(m.term) || !isNat(m.seq)) return 'term and seq must be non-negative safe integers';
  if (m.type === 'snapshot_ack') {
    if (!isNat(m.offset)) return 'offset must be a non-negative safe integer';
    if (!STATUS_CODES.includes(m.status)) return `unknown status ${String(m.status)}`;
    return m.reason.length > MAX_TEXT_CHARS ? `reason of ${m.reason.length} chars exceeds ${MAX_TEXT_CHARS}` : null;
  }
  return chunkProblem(m);
}

/** The chunk's own consistency (shared by the encoder's check, the decoder and the assembler). */
export function chunkProblem(m: SnapshotChunk): string | null {
  const s = m.snapshot;
  if (!(isNat(s.index) && s.index >= 1 && isNat(s.term) && s.term >= 1)) return 'snapshot index and term must be >= 1';
  if (s.term > m.term) return `snapshot term ${s.term} is after the stream's term ${m.term}`;
  const config = configurationProblem(s.configuration);
  if (config !== null) return `snapshot configuration: ${config}`;
  if (!(isNat(m.totalBytes) && m.totalBytes >= 1 && m.totalBytes <= MAX_SNAPSHOT_WIRE_BYTES))
    return `totalBytes ${m.totalBytes} outside [1, ${MAX_SNAPSHOT_WIRE_BYTES}]`;
  if (!(isNat(m.chunkBytes) && m.chunkBytes >= 1 && m.chunkBytes <= MAX_CHUNK_BYTES))
    return `chunkBytes ${m.chunkBytes} outside [1, ${MAX_CHUNK_BYTES}]`;
  if (!/^[0-9a-f]{64}$/.test(m.checksum)) return 'checksum must be 64 lowercase hex digits (SHA-256)';
  if (!isNat(m.offset) || m.offset % m.chunkBytes !== 0 || m.offset >= m.totalBytes)
    return `offset ${m.offset} is not a chunk start inside ${m.totalBytes} bytes of ${m.chunkBytes}-byte chunks`;
  const expected = Math.min(m.chunkBytes, m.totalBytes - m.offset);
  if (m.data.length !== expected) return `chunk at ${m.offset} holds ${m.data.length} bytes; it must hold ${expected}`;
  return null;
}

function isNat(v: number): boolean {
  return Number.isSafeInteger(v) && v >= 0 && !Object.is(v, -0);
}

export type SnapshotEncodeResult =
  | { readonly ok: true; readonly bytes: number }
  | { readonly ok: false; readonly reason: 'invalid_message'; readonly detail: string }
  | { readonly ok: false; readonly reason: 'oversized'; readonly bytes: number };

/** Writes `env` at `out[at..]`, at most `maxBytes`; refuses what the receiver would refuse. */
export function encodeSnapshotBinary(env: SnapshotEnvelope, out: Buffer, at: number, maxBytes: number): SnapshotEncodeResult {
  const problem = snapshotMessageProblem(env);
  if (problem !== null) return { ok: false, reason: 'invalid_message', detail: problem };
  const size = snapshotPayloadBytes(env);
  if (size > maxBytes) return { ok: false, reason: 'oversized', bytes: size };
  const m = env.body;
  let o = at;
  out[o++] = m.type === 'snapshot_chunk' ? SNAPSHOT_CHUNK_KIND : SNAPSHOT_ACK_KIND;
  o = writeStr(out, o, env.cluster);
  o = writeStr(out, o, env.from);
  o = writeStr(out, o, env.to);
  o = out.writeDoubleLE(m.term, o);
  o = out.writeDoubleLE(m.seq, o);
  if (m.type === 'snapshot_ack') {
    o = out.writeDoubleLE(m.offset, o);
    out[o++] = STATUS_CODES.indexOf(m.status);
    o = writeStr(out, o, m.reason);
  } else {
    o = out.writeDoubleLE(m.snapshot.index, o);
    o = out.writeDoubleLE(m.snapshot.term, o);
    out[o++] = m.snapshot.configuration.voters.length;
    for (const id of m.snapshot.configuration.voters) o = writeStr(out, o, id);
    out[o++] = m.snapshot.configuration.learners.length;
    for (const id of m.snapshot.configuration.learners) o = writeStr(out, o, id);
    o = out.writeDoubleLE(m.totalBytes, o);
    o = out.writeDoubleLE(m.chunkBytes, o);
    o += out.write(m.checksum, o, 'hex');
    o = out.writeDoubleLE(m.offset, o);
    o = out.writeUInt32LE(m.data.length, o);
    o += m.data.copy(out, o);
  }
  if (o - at !== size) throw new Error(`snapshot-binary: wrote ${o - at} bytes, computed ${size}`);
  return { ok: true, bytes: size };
}

function writeStr(out: Buffer, o: number, s: string): number {
  const n = out.write(s, o + 2, 'utf8');
  out.writeUInt16LE(n, o);
  return o + 2 + n;
}

// ------------------------------------------------------------------ decode

export type SnapshotDecodeResult =
  { readonly ok: true; readonly envelope: SnapshotEnvelope } | { readonly ok: false; readonly detail: string };

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A bounds-checked cursor; the first problem sticks. */
class Cursor {
  problem: string | null = null;

  constructor(
    private readonly buf: Buffer,
    public o: number,
    private readonly end: number,
  ) {}

  private need(n: number, what: string): boolean {
    if (this.problem !== null) return false;
    if (this.end - this.o < n) {
      this.problem = `${what}: truncated`;
      return false;
    }
    return true;
  }

  u8(what: string): number {
    return this.need(1, what) ? this.buf[this.o++]! : 0;
  }

  f64(what: string): number {
    if (!this.need(8, what)) return 0;
    const v = this.buf.readDoubleLE(this.o);
    this.o += 8;
    if (!isNat(v)) {
      this.problem = `${what}: expected a non-negative safe integer, got ${String(v)}`;
      return 0;
    }
    return v;
  }

  str(what: string, maxChars: number): string {
    if (!this.need(2, what)) return '';
    const n = this.buf.readUInt16LE(this.o);
    this.o += 2;
    if (!this.need(n, what)) return '';
    let s: string;
    try {
      s = utf8.decode(this.buf.subarray(this.o, this.o + n));
    } catch {
      this.problem = `${what}: invalid UTF-8`;
      return '';
    }
    this.o += n;
    if (s.length > maxChars) this.problem = `${what}: ${s.length} chars exceed ${maxChars}`;
    return s;
  }

  bytes(n: number, what: string): Buffer {
    if (!this.need(n, what)) return Buffer.alloc(0);
    const b = this.buf.subarray(this.o, this.o + n);
    this.o += n;
    return b;
  }

  u32(what: string): number {
    if (!this.need(4, what)) return 0;
    const v = this.buf.readUInt32LE(this.o);
    this.o += 4;
    return v;
  }
}

/**
 * Reads a snapshot message from `buf[start..end)` (after the MAC was
 * verified). The chunk's data is copied out of `buf`: the caller keeps it
 * past the datagram's life.
 */
export function decodeSnapshotBinary(buf: Buffer, start: number, end: number): SnapshotDecodeResult {
  const c = new Cursor(buf, start, end);
  const kind = c.u8('kind');
  const cluster = c.str('cluster', MAX_ID_CHARS);
  const from = c.str('from', MAX_ID_CHARS);
  const to = c.str('to', MAX_ID_CHARS);
  const term = c.f64('term');
  const seq = c.f64('seq');
  let body: SnapshotTransferMessage;
  if (kind === SNAPSHOT_ACK_KIND) {
    const offset = c.f64('offset');
    const statusCode = c.u8('status');
    const reason = c.str('reason', MAX_TEXT_CHARS);
    const status = STATUS_CODES[statusCode];
    if (status === undefined && c.problem === null) c.problem = `status: unknown code ${statusCode}`;
    const ack: SnapshotAck = { type: 'snapshot_ack', term, from, to, seq, offset, status: status ?? 'rejected', reason };
    body = ack;
  } else if (kind === SNAPSHOT_CHUNK_KIND) {
    const index = c.f64('snapshot.index');
    const snapshotTerm = c.f64('snapshot.term');
    const members = (what: string): string[] => {
      const count = c.u8(`${what} count`);
      if (count > MAX_MEMBERS && c.problem === null) c.problem = `${what}: ${count} exceed ${MAX_MEMBERS}`;
      const out: string[] = [];
      for (let i = 0; i < count && c.problem === null; i++) out.push(c.str(what, MAX_ID_CHARS));
      return out;
    };
    const voters = members('voters');
    const learners = members('learners');
    const totalBytes = c.f64('totalBytes');
    const chunkBytes = c.f64('chunkBytes');
    const checksum = c.bytes(CHECKSUM_BYTES, 'checksum').toString('hex');
    const offset = c.f64('offset');
    const length = c.u32('data length');
    const data = Buffer.from(c.bytes(length, 'data'));
    const chunk: SnapshotChunk = {
      type: 'snapshot_chunk',
      term,
      from,
      to,
      seq,
      snapshot: { index, term: snapshotTerm, configuration: { voters, learners } },
      totalBytes,
      chunkBytes,
      checksum,
      offset,
      data,
    };
    body = chunk;
  } else {
    return { ok: false, detail: `kind ${kind} is not a snapshot message` };
  }
  if (c.problem !== null) return { ok: false, detail: c.problem };
  if (c.o !== end) return { ok: false, detail: `${end - c.o} trailing bytes` };
  const envelope: SnapshotEnvelope = { cluster, from, to, body };
  const problem = snapshotMessageProblem(envelope);
  if (problem !== null) return { ok: false, detail: problem };
  return { ok: true, envelope };
}
