/**
 * The binary form of Raft peer messages: the payload of a wire-version-2
 * datagram whose first payload byte is a message kind (1-5). Peer traffic is
 * almost all heartbeats and their answers; as JSON, encoding, parsing and
 * validating them cost more than the two HMACs around them. This fixed
 * layout is written and read field by field, and every field is checked as
 * it is read with the same rules `validate.ts` applies to the JSON form
 * (non-negative safe integers, non-empty bounded ids, closed enums, no
 * trailing bytes), so the core sees exactly what it would have seen.
 *
 * Layout (little-endian; `str` = u16 UTF-8 byte length, then the bytes):
 *
 *   u8  kind      1 request_vote, 2 request_vote_response, 3 append_entries,
 *                 4 append_entries_response, 5 timeout_now
 *   str cluster   str from   str to      (the body's from/to are the envelope's)
 *   f64 term
 *   request_vote             f64 lastLogIndex, f64 lastLogTerm,
 *                            u8 flags (1 preVote, 2 leadershipTransfer present, 4 its value,
 *                            8 campaign present), [f64 campaign]
 *   request_vote_response    u8 flags (1 voteGranted, 2 preVote, 4 campaign present), [f64 campaign]
 *   append_entries           f64 prevLogIndex, f64 prevLogTerm, f64 leaderCommit, f64 seq,
 *                            u32 count (bit 31 set: removedAt follows), [f64 removedAt], then per entry:
 *                            f64 term, f64 index, u8 type (0 command, 1 noop, 2 config), u32 length, data
 *   append_entries_response  f64 matchIndex, f64 conflictIndex, f64 seq,
 *                            u8 flags (1 success, 2 conflictTerm present), f64 conflictTerm (0 when absent)
 *   timeout_now              (nothing more)
 *
 * Integers travel as f64: every safe integer is exact, and the check on
 * receipt is one `Number.isSafeInteger`. Reading never throws: a short,
 * long or ill-typed payload yields a description of its first problem.
 */
import type { AppendEntries, AppendEntriesResponse, Entry, RaftMessage, RequestVote } from '../raft/types.js';
import { configEntryProblem, MAX_ENTRIES_PER_MESSAGE, MAX_ID_CHARS, MAX_PAYLOAD_CHARS } from './validate.js';

export const RAFT_KINDS = ['request_vote', 'request_vote_response', 'append_entries', 'append_entries_response', 'timeout_now'] as const;

/** Payload first bytes that mean "binary Raft message" (a JSON payload starts with `{`). */
export function isBinaryKind(byte: number | undefined): boolean {
  return byte !== undefined && byte >= 1 && byte <= RAFT_KINDS.length;
}

function kindOf(type: RaftMessage['type']): number {
  switch (type) {
    case 'request_vote':
      return 1;
    case 'request_vote_response':
      return 2;
    case 'append_entries':
      return 3;
    case 'append_entries_response':
      return 4;
    case 'timeout_now':
      return 5;
  }
}

/** Bytes of one entry in an append_entries payload besides its data. */
export const BINARY_ENTRY_OVERHEAD_BYTES = 8 + 8 + 1 + 4;
const F64 = 8;
/** In an append_entries' entry count: a farewell's removedAt follows the count (AppendEntries.removedAt). */
const REMOVED_AT_BIT = 0x80000000;

export interface BinaryEnvelope {
  readonly cluster: string;
  readonly from: string;
  readonly to: string;
  readonly body: RaftMessage;
}

// ------------------------------------------------------------------ encode

function natProblem(v: number, field: string): string | null {
  return Number.isSafeInteger(v) && v >= 0 ? null : `body.${field}: expected a non-negative safe integer, got ${String(v)}`;
}

/**
 * UTF-8 cannot carry a lone surrogate (it would arrive as U+FFFD, a different
 * string), so such text is refused at the sender. The KV layer never makes
 * one: its commands are JSON, which escapes them.
 */
export function isWellFormed(s: string): boolean {
  return (s as unknown as { isWellFormed(): boolean }).isWellFormed();
}

function idProblem(v: string, field: string): string | null {
  if (typeof v !== 'string') return `${field}: expected a string`;
  if (v.length === 0) return `${field}: must not be empty`;
  if (v.length > MAX_ID_CHARS) return `${field}: string of ${v.length} chars exceeds the limit of ${MAX_ID_CHARS}`;
  return isWellFormed(v) ? null : `${field}: not well-formed UTF-16 (a lone surrogate)`;
}

function entryProblem(e: Entry, i: number): string | null {
  // The field path is only built on failure: this runs for every entry sent.
  const p = (): string => `body.entries[${i}]`;
  if (!(Number.isSafeInteger(e.term) && e.term >= 1)) return `${p()}.term: expected a safe integer >= 1, got ${String(e.term)}`;
  if (!(Number.isSafeInteger(e.index) && e.index >= 1)) return `${p()}.index: expected a safe integer >= 1, got ${String(e.index)}`;
  if (e.type !== 'command' && e.type !== 'noop' && e.type !== 'config') return `${p()}.type: expected one of command|noop|config`;
  if (typeof e.data !== 'string') return `${p()}.data: expected a string`;
  if (e.data.length > MAX_PAYLOAD_CHARS) return `${p()}.data: string of ${e.data.length} chars exceeds the limit of ${MAX_PAYLOAD_CHARS}`;
  if (!isWellFormed(e.data)) return `${p()}.data: not well-formed UTF-16 (a lone surrogate)`;
  return e.type === 'config' ? configEntryProblem(e.data, p()) : null;
}

/** The first field the receiver would reject, or null. Same rules as the decoder's. */
function bodyProblem(env: BinaryEnvelope): string | null {
  const m = env.body;
  const common =
    idProblem(env.cluster, 'envelope.cluster') ??
    idProblem(env.from, 'envelope.from') ??
    idProblem(env.to, 'envelope.to') ??
    (m.from !== env.from ? 'body.from: differs from envelope.from' : null) ??
    (m.to !== env.to ? 'body.to: differs from envelope.to' : null) ??
    natProblem(m.term, 'term');
  if (common !== null) return common;
  switch (m.type) {
    case 'request_vote':
      return natProblem(m.lastLogIndex, 'lastLogIndex') ?? natProblem(m.lastLogTerm, 'lastLogTerm');
    case 'request_vote_response':
    case 'timeout_now':
      return null;
    case 'append_entries': {
      const p =
        natProblem(m.prevLogIndex, 'prevLogIndex') ??
        natProblem(m.prevLogTerm, 'prevLogTerm') ??
        natProblem(m.leaderCommit, 'leaderCommit') ??
        natProblem(m.seq, 'seq') ??
        (m.removedAt === undefined ? null : natProblem(m.removedAt, 'removedAt'));
      if (p !== null) return p;
      if (m.entries.length > MAX_ENTRIES_PER_MESSAGE)
        return `body.entries: ${m.entries.length} entries exceed the limit of ${MAX_ENTRIES_PER_MESSAGE}`;
      for (let i = 0; i < m.entries.length; i++) {
        const e = entryProblem(m.entries[i]!, i);
        if (e !== null) return e;
      }
      return null;
    }
    case 'append_entries_response':
      return (
        natProblem(m.matchIndex, 'matchIndex') ??
        natProblem(m.conflictIndex, 'conflictIndex') ??
        natProblem(m.seq, 'seq') ??
        (m.conflictTerm === null ? null : natProblem(m.conflictTerm, 'conflictTerm'))
      );
  }
}

/** Ids are short and almost always ASCII: plain loops beat a call into Buffer's C++ for them. */
const SHORT_CHARS = 64;

function isShortAscii(s: string): boolean {
  if (s.length > SHORT_CHARS) return false;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return false;
  return true;
}

/** Bytes of a `str` field (u16 length and the UTF-8 bytes). */
export function strBytes(s: string): number {
  return 2 + (isShortAscii(s) ? s.length : Buffer.byteLength(s, 'utf8'));
}

/** Exact payload size of a (valid) binary message. */
export function binaryPayloadBytes(env: BinaryEnvelope): number {
  const m = env.body;
  let n = 1 + strBytes(env.cluster) + strBytes(env.from) + strBytes(env.to) + F64;
  switch (m.type) {
    case 'request_vote':
      return n + 2 * F64 + 1 + (m.campaign === undefined ? 0 : F64);
    case 'request_vote_response':
      return n + 1 + (m.campaign === undefined ? 0 : F64);
    case 'append_entries':
      n += 4 * F64 + 4;
      for (const e of m.entries) n += BINARY_ENTRY_OVERHEAD_BYTES + Buffer.byteLength(e.data, 'utf8');
      return n + (m.removedAt === undefined ? 0 : F64);
    case 'append_entries_response':
      return n + 3 * F64 + 1 + F64;
    case 'timeout_now':
      return n;
  }
}

export type BinaryEncodeResult =
  | { readonly ok: true; readonly bytes: number }
  | { readonly ok: false; readonly reason: 'invalid_message'; readonly detail: string }
  | { readonly ok: false; readonly reason: 'oversized'; readonly bytes: number };

/**
 * Writes `env` at `out[at..]`, allowing at most `maxBytes`. An invalid field
 * is refused (the receiver would drop it: a bug at the sender); a message
 * over `maxBytes` is reported with its size and nothing is written.
 */
export function encodeRaftBinary(env: BinaryEnvelope, out: Buffer, at: number, maxBytes: number): BinaryEncodeResult {
  const problem = bodyProblem(env);
  if (problem !== null) return { ok: false, reason: 'invalid_message', detail: problem };
  const size = binaryPayloadBytes(env);
  if (size > maxBytes) return { ok: false, reason: 'oversized', bytes: size };
  const m = env.body;
  let o = at;
  out[o++] = kindOf(m.type);
  o = writeStr(out, o, env.cluster);
  o = writeStr(out, o, env.from);
  o = writeStr(out, o, env.to);
  o = out.writeDoubleLE(m.term, o);
  switch (m.type) {
    case 'request_vote':
      o = out.writeDoubleLE(m.lastLogIndex, o);
      o = out.writeDoubleLE(m.lastLogTerm, o);
      out[o++] =
        (m.preVote ? 1 : 0) |
        (m.leadershipTransfer === undefined ? 0 : 2 | (m.leadershipTransfer ? 4 : 0)) |
        (m.campaign === undefined ? 0 : 8);
      if (m.campaign !== undefined) o = out.writeDoubleLE(m.campaign, o);
      break;
    case 'request_vote_response':
      out[o++] = (m.voteGranted ? 1 : 0) | (m.preVote ? 2 : 0) | (m.campaign === undefined ? 0 : 4);
      if (m.campaign !== undefined) o = out.writeDoubleLE(m.campaign, o);
      break;
    case 'append_entries':
      o = out.writeDoubleLE(m.prevLogIndex, o);
      o = out.writeDoubleLE(m.prevLogTerm, o);
      o = out.writeDoubleLE(m.leaderCommit, o);
      o = out.writeDoubleLE(m.seq, o);
      o = out.writeUInt32LE(m.removedAt === undefined ? m.entries.length : (m.entries.length | REMOVED_AT_BIT) >>> 0, o);
      if (m.removedAt !== undefined) o = out.writeDoubleLE(m.removedAt, o);
      for (const e of m.entries) {
        o = out.writeDoubleLE(e.term, o);
        o = out.writeDoubleLE(e.index, o);
        out[o++] = e.type === 'command' ? 0 : e.type === 'noop' ? 1 : 2;
        const n = e.data.length === 0 ? 0 : out.write(e.data, o + 4, 'utf8');
        o = out.writeUInt32LE(n, o) + n;
      }
      break;
    case 'append_entries_response':
      o = out.writeDoubleLE(m.matchIndex, o);
      o = out.writeDoubleLE(m.conflictIndex, o);
      o = out.writeDoubleLE(m.seq, o);
      out[o++] = (m.success ? 1 : 0) | (m.conflictTerm === null ? 0 : 2);
      o = out.writeDoubleLE(m.conflictTerm ?? 0, o);
      break;
    case 'timeout_now':
      break;
  }
  // An assertion, not a check: the size was computed from the same fields just written.
  if (o - at !== size) throw new Error(`raft-binary: wrote ${o - at} bytes, computed ${size}`);
  return { ok: true, bytes: size };
}

/** Writes a `str` field (u16 UTF-8 byte length, then the bytes); returns the offset after it. */
export function writeStr(out: Buffer, o: number, s: string): number {
  let n: number;
  if (isShortAscii(s)) {
    for (let i = 0; i < s.length; i++) out[o + 2 + i] = s.charCodeAt(i);
    n = s.length;
  } else {
    n = out.write(s, o + 2, 'utf8');
  }
  out.writeUInt16LE(n, o);
  return o + 2 + n;
}

// ------------------------------------------------------------------ decode

export type BinaryDecodeResult = { readonly ok: true; readonly envelope: BinaryEnvelope } | { readonly ok: false; readonly detail: string };

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Short ASCII strings seen recently (cluster and node ids, which every
 * message repeats), by a hash of their bytes: a hit returns the same string
 * instead of building a new one per field per datagram. Bounded (a slot is
 * overwritten on collision) and checked byte for byte, so a hit is exact.
 */
const INTERN_MAX_BYTES = 16;
const INTERN_SLOTS = 256;
const internTable: (string | undefined)[] = new Array<string | undefined>(INTERN_SLOTS).fill(undefined);

function internAscii(buf: Buffer, start: number, length: number, hash: number): string {
  const slot = (hash >>> 0) & (INTERN_SLOTS - 1);
  const cached = internTable[slot];
  if (cached !== undefined && cached.length === length) {
    let same = true;
    for (let i = 0; i < length; i++) {
      if (cached.charCodeAt(i) !== buf[start + i]) {
        same = false;
        break;
      }
    }
    if (same) return cached;
  }
  let s = '';
  for (let i = 0; i < length; i++) s += String.fromCharCode(buf[start + i]!);
  internTable[slot] = s;
  return s;
}

/** A bounds-checked cursor. The first problem sticks; later reads return zeros. */
export class Reader {
  o: number;
  problem: string | null = null;

  constructor(
    private readonly buf: Buffer,
    start: number,
    private readonly end: number,
  ) {
    this.o = start;
  }

  fail(detail: string): void {
    this.problem ??= detail;
  }

  private need(n: number, what: string): boolean {
    if (this.problem !== null) return false;
    if (this.end - this.o < n) {
      this.fail(`${what}: truncated (needs ${n} bytes at payload offset ${this.o}, ${Math.max(0, this.end - this.o)} left)`);
      return false;
    }
    return true;
  }

  u8(what: string): number {
    if (!this.need(1, what)) return 0;
    return this.buf[this.o++]!;
  }

  u16(what: string): number {
    if (!this.need(2, what)) return 0;
    const v = this.buf.readUInt16LE(this.o);
    this.o += 2;
    return v;
  }

  u32(what: string): number {
    if (!this.need(4, what)) return 0;
    const v = this.buf.readUInt32LE(this.o);
    this.o += 4;
    return v;
  }

  /** A non-negative safe integer (>= min). */
  int(what: string, min = 0): number {
    if (!this.need(F64, what)) return 0;
    const v = this.buf.readDoubleLE(this.o);
    this.o += F64;
    if (!(Number.isSafeInteger(v) && v >= min)) {
      this.fail(`${what}: expected a ${min === 0 ? 'non-negative' : `>= ${min}`} safe integer, got ${String(v)}`);
      return 0;
    }
    if (Object.is(v, -0)) {
      this.fail(`${what}: negative zero`); // one encoding per value: re-encoding gives the same bytes
      return 0;
    }
    return v;
  }

  /** Strict UTF-8 text of a u16/u32-prefixed field, at most maxChars UTF-16 units. */
  text(what: string, byteLength: number, maxChars: number): string {
    if (!this.need(byteLength, what)) return '';
    const start = this.o;
    const end = start + byteLength;
    this.o = end;
    let ascii = true;
    let h = byteLength;
    for (let i = start; i < end; i++) {
      const b = this.buf[i]!;
      if (b >= 0x80) {
        ascii = false;
        break;
      }
      h = Math.imul(h ^ b, 0x01000193);
    }
    let s: string;
    if (ascii && byteLength <= INTERN_MAX_BYTES) {
      s = internAscii(this.buf, start, byteLength, h);
    } else if (ascii && byteLength <= SHORT_CHARS) {
      s = '';
      for (let i = start; i < end; i++) s += String.fromCharCode(this.buf[i]!);
    } else if (ascii) {
      s = this.buf.toString('latin1', start, end);
    } else {
      try {
        s = utf8.decode(this.buf.subarray(start, end));
      } catch {
        this.fail(`${what}: invalid UTF-8`);
        return '';
      }
    }
    if (s.length > maxChars) {
      this.fail(`${what}: string of ${s.length} chars exceeds the limit of ${maxChars}`);
      return '';
    }
    return s;
  }

  id(what: string): string {
    const n = this.need(2, what) ? this.buf.readUInt16LE(this.o) : 0;
    if (this.problem !== null) return '';
    this.o += 2;
    if (n === 0) {
      this.fail(`${what}: must not be empty`);
      return '';
    }
    return this.text(what, n, MAX_ID_CHARS);
  }

  flags(what: string, allowed: number): number {
    const f = this.u8(what);
    if ((f & ~allowed) !== 0) this.fail(`${what}: unknown flag bits 0x${f.toString(16)}`);
    return f;
  }
}

/**
 * Reads a binary Raft payload at `buf[start..end)`. The caller has checked
 * the MAC and that `buf[start]` is a binary kind. The envelope's cluster is
 * returned for the caller to compare (a distinct drop reason).
 */
export function decodeRaftBinary(buf: Buffer, start: number, end: number): BinaryDecodeResult {
  const r = new Reader(buf, start, end);
  const kind = r.u8('kind');
  const type = RAFT_KINDS[kind - 1];
  if (type === undefined) return { ok: false, detail: `binary kind ${kind}: not a Raft message kind` };
  const cluster = r.id('envelope.cluster');
  const from = r.id('envelope.from');
  const to = r.id('envelope.to');
  const term = r.int('body.term');
  let body: RaftMessage;
  switch (type) {
    case 'request_vote': {
      const lastLogIndex = r.int('body.lastLogIndex');
      const lastLogTerm = r.int('body.lastLogTerm');
      const f = r.flags('body.flags', 1 | 2 | 4 | 8);
      if ((f & 4) !== 0 && (f & 2) === 0) r.fail('body.flags: leadershipTransfer value without the field');
      const campaign = (f & 8) !== 0 ? r.int('body.campaign') : undefined;
      const rv: RequestVote = {
        type,
        term,
        from,
        to,
        lastLogIndex,
        lastLogTerm,
        preVote: (f & 1) !== 0,
        ...((f & 2) !== 0 ? { leadershipTransfer: (f & 4) !== 0 } : {}),
        ...(campaign !== undefined ? { campaign } : {}),
      };
      body = rv;
      break;
    }
    case 'request_vote_response': {
      const f = r.flags('body.flags', 1 | 2 | 4);
      const campaign = (f & 4) !== 0 ? r.int('body.campaign') : undefined;
      body = { type, term, from, to, voteGranted: (f & 1) !== 0, preVote: (f & 2) !== 0, ...(campaign !== undefined ? { campaign } : {}) };
      break;
    }
    case 'append_entries': {
      const prevLogIndex = r.int('body.prevLogIndex');
      const prevLogTerm = r.int('body.prevLogTerm');
      const leaderCommit = r.int('body.leaderCommit');
      const seq = r.int('body.seq');
      const counted = r.u32('body.entries');
      const removedAt = (counted & REMOVED_AT_BIT) !== 0 ? r.int('body.removedAt') : undefined;
      const count = counted & ~REMOVED_AT_BIT;
      if (count > MAX_ENTRIES_PER_MESSAGE) r.fail(`body.entries: ${count} entries exceed the limit of ${MAX_ENTRIES_PER_MESSAGE}`);
      const entries: Entry[] = [];
      for (let i = 0; i < count && r.problem === null; i++) {
        // Field names without the index (built per entry they would cost more than the reads); a problem names the entry below.
        const eTerm = r.int('.term', 1);
        const index = r.int('.index', 1);
        const t = r.u8('.type');
        if (t > 2) r.fail(`.type: expected 0 (command), 1 (noop) or 2 (config), got ${t}`);
        const n = r.u32('.data');
        const data = n === 0 ? '' : r.text('.data', n, MAX_PAYLOAD_CHARS);
        const entryType = t === 0 ? 'command' : t === 1 ? 'noop' : 'config';
        if (r.problem === null && entryType === 'config') {
          const problem = configEntryProblem(data, '');
          if (problem !== null) r.fail(problem);
        }
        if (r.problem !== null) r.problem = `body.entries[${i}]${r.problem}`;
        entries.push({ term: eTerm, index, type: entryType, data });
      }
      const ae: AppendEntries = {
        type,
        term,
        from,
        to,
        prevLogIndex,
        prevLogTerm,
        entries,
        leaderCommit,
        seq,
        ...(removedAt !== undefined ? { removedAt } : {}),
      };
      body = ae;
      break;
    }
    case 'append_entries_response': {
      const matchIndex = r.int('body.matchIndex');
      const conflictIndex = r.int('body.conflictIndex');
      const seq = r.int('body.seq');
      const f = r.flags('body.flags', 1 | 2);
      const conflictTerm = r.int('body.conflictTerm');
      if ((f & 2) === 0 && conflictTerm !== 0) r.fail('body.conflictTerm: set although marked absent');
      const aer: AppendEntriesResponse = {
        type,
        term,
        from,
        to,
        success: (f & 1) !== 0,
        matchIndex,
        conflictTerm: (f & 2) === 0 ? null : conflictTerm,
        conflictIndex,
        seq,
      };
      body = aer;
      break;
    }
    case 'timeout_now':
      body = { type, term, from, to };
      break;
  }
  if (r.problem === null && r.o !== end) r.fail(`${end - r.o} trailing bytes after the ${type}`);
  if (r.problem !== null) return { ok: false, detail: `binary ${type}: ${r.problem}` };
  return { ok: true, envelope: { cluster, from, to, body } };
}

/**
 * The kind, term and sender of a binary payload, read WITHOUT checking the
 * MAC: only for observers that use it to skip work they have already done
 * for an authenticated message (the wire monitor). Null if it is not a
 * well-formed binary header.
 */
export function peekBinaryHeader(
  buf: Buffer,
  start: number,
): { readonly kind: RaftMessage['type']; readonly term: number; readonly from: string } | null {
  const r = new Reader(buf, start, buf.length);
  const type = RAFT_KINDS[r.u8('kind') - 1];
  r.id('cluster');
  const from = r.id('from');
  r.id('to');
  const term = r.int('term');
  return type === undefined || r.problem !== null ? null : { kind: type, term, from };
}
