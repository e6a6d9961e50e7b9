/**
 * The binary form of the two client messages every operation sends: a
 * `client_request` and its `client_response`. The payload of a client-domain
 * datagram whose first byte is 8 or 9 (Raft messages are 1-5, snapshot
 * transfer 6-7, JSON `{`). As JSON, parsing a request and building its
 * answer cost the leader more than the two MACs around them (JSON.parse
 * interns every key of every message); this layout is read field by field
 * with the rules `validate.ts` applies to the JSON form, so the host sees
 * exactly what it would have seen. Every other client message (status,
 * retry) stays JSON, and the JSON form of these two is still accepted.
 *
 * Layout (little-endian; `str` = u16 UTF-8 byte length then the bytes,
 * `text` = u32 length then the bytes, `opt` = u8 0 (null) or 1 then the field):
 *
 *   u8  kind        8 client_request, 9 client_response
 *   str cluster     str from    str to
 *   u8  flags       1: a token follows; 2 (client_request only): awaitLeader follows the op;
 *                   4 / 8 (client_request only, not both): session mode open / existing
 *   [str token]     base64url, 1-64 chars (address validation)
 *   str clientId
 *   client_request  f64 instance, f64 seq, u8 op (1 get, 2 put, 3 delete, 4 cas), text key,
 *                   put: text value; cas: opt text expected, text value;
 *                   [str awaitLeader.otherThan, u16 awaitLeader.maxMs (1-1000)]
 *   client_response f64 seq, u8 status, then by status:
 *                   1 ok: opt text value          2 cas_mismatch: opt text actual
 *                   3 invalid: u8 code, text message          4 not_leader: opt str leaderHint
 *                   5 unavailable: text reason    6 rejected: u8 code, text message
 *
 * One encoding per message (no trailing bytes, no spare flag bits, no
 * negative zero), so decoding and re-encoding give the same bytes. Text
 * that UTF-8 cannot carry (a lone surrogate, which a JSON escape can) is not
 * representable here: the codec sends such a message as JSON.
 */
import type { ClientOutcome, ClientRequest, ClientResponse, KvOp, SessionRejection } from '../protocol.js';
import { INVALID_CODES, SESSION_REJECTIONS } from '../protocol.js';
import { assertNever } from '../util/assert.js';
import { isWellFormed, Reader, strBytes, writeStr } from './raft-binary.js';
import { MAX_PAYLOAD_CHARS, MAX_TEXT_CHARS, MAX_TOKEN_CHARS } from './validate.js';
import { MAX_AWAIT_LEADER_MS } from '../held-requests.js';

export const CLIENT_REQUEST_KIND = 8;
export const CLIENT_RESPONSE_KIND = 9;

export type ClientBinaryMessage = ClientRequest | ClientResponse;

export interface ClientBinaryEnvelope {
  readonly cluster: string;
  readonly from: string;
  readonly to: string;
  readonly body: ClientBinaryMessage;
  readonly token?: string;
}

/** Payload first bytes that mean "binary client message". */
export function isClientBinaryKind(byte: number | undefined): boolean {
  return byte === CLIENT_REQUEST_KIND || byte === CLIENT_RESPONSE_KIND;
}

/** Whether a body has a binary form (the codec then tries it first). */
export function hasClientBinaryForm(body: { readonly type: string }): body is ClientBinaryMessage {
  return body.type === 'client_request' || body.type === 'client_response';
}

const OP_CODES: readonly KvOp['type'][] = ['get', 'put', 'delete', 'cas'];
const STATUS_CODES: readonly ClientOutcome['status'][] = ['ok', 'cas_mismatch', 'invalid', 'not_leader', 'unavailable', 'rejected'];
const TOKEN_FLAG = 1;
const AWAIT_LEADER_FLAG = 2;
const SESSION_OPEN_FLAG = 4;
const SESSION_EXISTING_FLAG = 8;
const F64 = 8;
const tokenPattern = /^[A-Za-z0-9_-]+$/;

// ------------------------------------------------------------------ encode

/** Bytes of a `text` field. */
function textBytes(s: string): number {
  return 2 + strBytes(s); // strBytes counts a u16 prefix; text has a u32 one
}

function optTextBytes(s: string | null): number {
  return 1 + (s === null ? 0 : textBytes(s));
}

function outcomeBytes(o: ClientOutcome): number {
  switch (o.status) {
    case 'ok':
      return optTextBytes(o.value);
    case 'cas_mismatch':
      return optTextBytes(o.actual);
    case 'invalid':
    case 'rejected':
      return 1 + textBytes(o.message);
    case 'not_leader':
      return 1 + (o.leaderHint === null ? 0 : strBytes(o.leaderHint));
    case 'unavailable':
      return textBytes(o.reason);
    default:
      return assertNever(o, 'client outcome');
  }
}

function opBytes(op: KvOp): number {
  switch (op.type) {
    case 'get':
    case 'delete':
      return textBytes(op.key);
    case 'put':
      return textBytes(op.key) + textBytes(op.value);
    case 'cas':
      return textBytes(op.key) + optTextBytes(op.expected) + textBytes(op.value);
    default:
      return assertNever(op, 'kv op');
  }
}

/** Exact payload size of a message in this form. */
export function clientBinaryPayloadBytes(env: ClientBinaryEnvelope): number {
  const m = env.body;
  let n = 1 + strBytes(env.cluster) + strBytes(env.from) + strBytes(env.to) + 1 + strBytes(m.clientId);
  if (env.token !== undefined) n += strBytes(env.token);
  if (m.type === 'client_request')
    return n + 2 * F64 + 1 + opBytes(m.op) + (m.awaitLeader === undefined ? 0 : strBytes(m.awaitLeader.otherThan) + 2);
  return n + F64 + 1 + outcomeBytes(m.outcome);
}

/** Every string of the message, for the representability check. */
function strings(env: ClientBinaryEnvelope): string[] {
  const m = env.body;
  const out = [env.cluster, env.from, env.to, m.clientId];
  if (env.token !== undefined) out.push(env.token);
  if (m.type === 'client_request') {
    const op = m.op;
    out.push(op.key);
    if (m.awaitLeader !== undefined) out.push(m.awaitLeader.otherThan);
    if (op.type === 'put') out.push(op.value);
    if (op.type === 'cas') {
      out.push(op.value);
      if (op.expected !== null) out.push(op.expected);
    }
    return out;
  }
  const o = m.outcome;
  switch (o.status) {
    case 'ok':
      if (o.value !== null) out.push(o.value);
      break;
    case 'cas_mismatch':
      if (o.actual !== null) out.push(o.actual);
      break;
    case 'invalid':
    case 'rejected':
      out.push(o.message);
      break;
    case 'not_leader':
      if (o.leaderHint !== null) out.push(o.leaderHint);
      break;
    case 'unavailable':
      out.push(o.reason);
      break;
    default:
      return assertNever(o, 'client outcome');
  }
  return out;
}

export type ClientBinaryEncodeResult =
  | { readonly ok: true; readonly bytes: number }
  | { readonly ok: false; readonly reason: 'oversized'; readonly bytes: number }
  /** A string UTF-8 cannot carry (a lone surrogate): send the message as JSON. */
  | { readonly ok: false; readonly reason: 'not_representable' };

/**
 * Writes a message the JSON validators accept (the caller checks that first:
 * `codec.ts`) at `out[at..]`, allowing at most `maxBytes`.
 */
export function encodeClientBinary(env: ClientBinaryEnvelope, out: Buffer, at: number, maxBytes: number): ClientBinaryEncodeResult {
  for (const s of strings(env)) if (!isWellFormed(s)) return { ok: false, reason: 'not_representable' };
  const size = clientBinaryPayloadBytes(env);
  if (size > maxBytes) return { ok: false, reason: 'oversized', bytes: size };
  const m = env.body;
  let o = at;
  out[o++] = m.type === 'client_request' ? CLIENT_REQUEST_KIND : CLIENT_RESPONSE_KIND;
  o = writeStr(out, o, env.cluster);
  o = writeStr(out, o, env.from);
  o = writeStr(out, o, env.to);
  const mode = m.type === 'client_request' ? m.session : undefined;
  out[o++] =
    (env.token === undefined ? 0 : TOKEN_FLAG) |
    (m.type === 'client_request' && m.awaitLeader !== undefined ? AWAIT_LEADER_FLAG : 0) |
    (mode === 'open' ? SESSION_OPEN_FLAG : mode === 'existing' ? SESSION_EXISTING_FLAG : 0);
  if (env.token !== undefined) o = writeStr(out, o, env.token);
  o = writeStr(out, o, m.clientId);
  if (m.type === 'client_request') {
    o = out.writeDoubleLE(m.instance, o);
    o = out.writeDoubleLE(m.seq, o);
    const op = m.op;
    out[o++] = OP_CODES.indexOf(op.type) + 1;
    o = writeText(out, o, op.key);
    if (op.type === 'put') o = writeText(out, o, op.value);
    if (op.type === 'cas') {
      o = writeOptText(out, o, op.expected);
      o = writeText(out, o, op.value);
    }
    if (m.awaitLeader !== undefined) {
      o = writeStr(out, o, m.awaitLeader.otherThan);
      o = out.writeUInt16LE(m.awaitLeader.maxMs, o);
    }
  } else {
    o = out.writeDoubleLE(m.seq, o);
    const oc = m.outcome;
    out[o++] = STATUS_CODES.indexOf(oc.status) + 1;
    switch (oc.status) {
      case 'ok':
        o = writeOptText(out, o, oc.value);
        break;
      case 'cas_mismatch':
        o = writeOptText(out, o, oc.actual);
        break;
      case 'invalid':
        out[o++] = INVALID_CODES.indexOf(oc.code);
        o = writeText(out, o, oc.message);
        break;
      case 'rejected':
        out[o++] = SESSION_REJECTIONS.indexOf(oc.code);
        o = writeText(out, o, oc.message);
        break;
      case 'not_leader':
        out[o++] = oc.leaderHint === null ? 0 : 1;
        if (oc.leaderHint !== null) o = writeStr(out, o, oc.leaderHint);
        break;
      case 'unavailable':
        o = writeText(out, o, oc.reason);
        break;
      default:
        return assertNever(oc, 'client outcome');
    }
  }
  // An assertion, not a check: the size was computed from the same fields just written.
  if (o - at !== size) throw new Error(`client-binary: wrote ${o - at} bytes, computed ${size}`);
  return { ok: true, bytes: size };
}

function writeText(out: Buffer, o: number, s: string): number {
  const n = s.length === 0 ? 0 : out.write(s, o + 4, 'utf8');
  return out.writeUInt32LE(n, o) + n;
}

function writeOptText(out: Buffer, o: number, s: string | null): number {
  out[o] = s === null ? 0 : 1;
  return s === null ? o + 1 : writeText(out, o + 1, s);
}

// ------------------------------------------------------------------ decode

export type ClientBinaryDecodeResult =
  { readonly ok: true; readonly envelope: ClientBinaryEnvelope } | { readonly ok: false; readonly detail: string };

function readText(r: Reader, what: string, maxChars: number): string {
  const n = r.u32(what);
  return n === 0 ? '' : r.text(what, n, maxChars);
}

function readOptText(r: Reader, what: string, maxChars: number): string | null {
  const present = r.u8(what);
  if (present > 1) r.fail(`${what}: presence byte ${present}; expected 0 or 1`);
  return present === 1 ? readText(r, what, maxChars) : null;
}

/** One byte naming a member of `codes` by its position from `first`. */
function readCode<T>(r: Reader, what: string, codes: readonly T[], first: number): T {
  const b = r.u8(what);
  const code = codes[b - first];
  if (code === undefined && r.problem === null) r.fail(`${what}: unknown code ${b}`);
  return code ?? codes[0]!;
}

function readOp(r: Reader): KvOp {
  const type = readCode(r, 'body.op.type', OP_CODES, 1);
  const key = readText(r, 'body.op.key', MAX_PAYLOAD_CHARS);
  switch (type) {
    case 'get':
    case 'delete':
      return { type, key };
    case 'put':
      return { type, key, value: readText(r, 'body.op.value', MAX_PAYLOAD_CHARS) };
    case 'cas': {
      const expected = readOptText(r, 'body.op.expected', MAX_PAYLOAD_CHARS);
      return { type, key, expected, value: readText(r, 'body.op.value', MAX_PAYLOAD_CHARS) };
    }
    default:
      return assertNever(type, 'kv op');
  }
}

function readOutcome(r: Reader): ClientOutcome {
  const status = readCode(r, 'body.outcome.status', STATUS_CODES, 1);
  switch (status) {
    case 'ok':
      return { status, value: readOptText(r, 'body.outcome.value', MAX_PAYLOAD_CHARS) };
    case 'cas_mismatch':
      return { status, actual: readOptText(r, 'body.outcome.actual', MAX_PAYLOAD_CHARS) };
    case 'invalid': {
      const code = readCode(r, 'body.outcome.code', INVALID_CODES, 0);
      return { status, code, message: readText(r, 'body.outcome.message', MAX_TEXT_CHARS) };
    }
    case 'rejected': {
      const code: SessionRejection = readCode(r, 'body.outcome.code', SESSION_REJECTIONS, 0);
      return { status, code, message: readText(r, 'body.outcome.message', MAX_TEXT_CHARS) };
    }
    case 'not_leader': {
      const present = r.u8('body.outcome.leaderHint');
      if (present > 1) r.fail(`body.outcome.leaderHint: presence byte ${present}; expected 0 or 1`);
      return { status, leaderHint: present === 1 ? r.id('body.outcome.leaderHint') : null };
    }
    case 'unavailable':
      return { status, reason: readText(r, 'body.outcome.reason', MAX_TEXT_CHARS) };
    default:
      return assertNever(status, 'client outcome');
  }
}

/**
 * Reads a binary client payload at `buf[start..end)`. The caller has checked
 * the MAC and that `buf[start]` is a client binary kind; it compares the
 * cluster, the key domain and the sender.
 */
export function decodeClientBinary(buf: Buffer, start: number, end: number): ClientBinaryDecodeResult {
  const r = new Reader(buf, start, end);
  const kind = r.u8('kind');
  if (!isClientBinaryKind(kind)) return { ok: false, detail: `binary kind ${kind}: not a client message kind` };
  const type = kind === CLIENT_REQUEST_KIND ? 'client_request' : 'client_response';
  const cluster = r.id('envelope.cluster');
  const from = r.id('envelope.from');
  const to = r.id('envelope.to');
  const flags = r.flags(
    'envelope.flags',
    type === 'client_request' ? TOKEN_FLAG | AWAIT_LEADER_FLAG | SESSION_OPEN_FLAG | SESSION_EXISTING_FLAG : TOKEN_FLAG,
  );
  const open = (flags & SESSION_OPEN_FLAG) !== 0;
  const existing = (flags & SESSION_EXISTING_FLAG) !== 0;
  if (open && existing && r.problem === null) r.fail('envelope.flags: session modes open and existing both set');
  let token: string | undefined;
  if ((flags & TOKEN_FLAG) !== 0) {
    const n = r.u16('envelope.token');
    token = r.text('envelope.token', n, MAX_TOKEN_CHARS);
    if (r.problem === null && !tokenPattern.test(token)) r.fail('envelope.token: expected 1-64 base64url characters');
  }
  const clientId = r.id('body.clientId');
  let body: ClientBinaryMessage;
  if (type === 'client_request') {
    const instance = r.int('body.instance');
    const seq = r.int('body.seq');
    const op = readOp(r);
    const session = open ? ({ session: 'open' } as const) : existing ? ({ session: 'existing' } as const) : {};
    if ((flags & AWAIT_LEADER_FLAG) === 0) body = { type, clientId, instance, seq, op, ...session };
    else {
      const otherThan = r.id('body.awaitLeader.otherThan');
      const maxMs = r.u16('body.awaitLeader.maxMs');
      if (r.problem === null && !(maxMs >= 1 && maxMs <= MAX_AWAIT_LEADER_MS))
        r.fail(`body.awaitLeader.maxMs: expected an integer in 1-${MAX_AWAIT_LEADER_MS}, got ${maxMs}`);
      body = { type, clientId, instance, seq, op, awaitLeader: { otherThan, maxMs }, ...session };
    }
  } else {
    const seq = r.int('body.seq');
    body = { type, clientId, seq, outcome: readOutcome(r) };
  }
  if (r.problem === null && r.o !== end) r.fail(`${end - r.o} trailing bytes after the ${type}`);
  if (r.problem !== null) return { ok: false, detail: `binary ${type}: ${r.problem}` };
  return { ok: true, envelope: token === undefined ? { cluster, from, to, body } : { cluster, from, to, body, token } };
}
