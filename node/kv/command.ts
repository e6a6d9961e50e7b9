/**
 * The `Entry.data` format of a client command: the op together with its
 * client session `(clientId, instance, seq)`, so every replica can
 * deduplicate retries identically when it applies the entry (Raft
 * dissertation §6.3), and `opDigest`, the digest the session table binds to
 * each (clientId, seq).
 */
import { hash } from 'node:crypto';
import type { KvOp, SessionMode } from '../protocol.js';
import { checkKvOp, isRecord, MAX_PAYLOAD_CHARS } from '../transport/validate.js';
import { assertNever } from '../util/assert.js';

export interface Command {
  readonly clientId: string;
  /** The client instance that sent it (ClientRequest.instance). */
  readonly instance: number;
  readonly seq: number;
  readonly op: KvOp;
  /** ClientRequest.session: absent for a command that opens its session implicitly. */
  readonly session?: SessionMode;
}

/** The stored form's trailing marker of a session mode (absent: implicit). */
const MODE_MARKS: Readonly<Record<SessionMode, number>> = { open: 1, existing: 2 };

/**
 * A digest of an op: SHA-256 over its fields in a fixed order, first 128
 * bits, hex. A pure function of the op, so every replica computes the same
 * one when it applies the entry (it is part of the replicated state).
 */
export function opDigest(op: KvOp): string {
  let canonical: string;
  switch (op.type) {
    case 'get':
    case 'delete':
      canonical = JSON.stringify([op.type, op.key]);
      break;
    case 'put':
      canonical = JSON.stringify([op.type, op.key, op.value]);
      break;
    case 'cas':
      canonical = JSON.stringify([op.type, op.key, op.expected, op.value]);
      break;
    default:
      return assertNever(op, 'op');
  }
  return hash('sha256', canonical, 'hex').slice(0, 32);
}

export type DecodeCommandResult = { readonly ok: true; readonly cmd: Command } | { readonly ok: false; readonly error: string };

/**
 * The stored form: a JSON array `[clientId, instance, seq, opType, key,
 * ...fields]` with the op's fields in its declared order (put: value; cas:
 * expected, value). Every replica parses each command once when it applies
 * it; an array costs JSON.parse about half what an object does (no keys to
 * intern, no object shapes to build). Built field by field, so the stored
 * form does not depend on the caller's object (extra fields, key order).
 * A command with a session mode ends with its mark (1 open, 2 existing);
 * one without has none, so logs written before modes existed read the same.
 */
export function encodeCommand(cmd: Command): string {
  const op = cmd.op;
  const fields: unknown[] = [cmd.clientId, cmd.instance, cmd.seq, op.type, op.key];
  switch (op.type) {
    case 'get':
    case 'delete':
      break;
    case 'put':
      fields.push(op.value);
      break;
    case 'cas':
      fields.push(op.expected, op.value);
      break;
    default:
      return assertNever(op, 'op');
  }
  if (cmd.session !== undefined) fields.push(MODE_MARKS[cmd.session]);
  return JSON.stringify(fields);
}

/** Array length of each op type's stored form. */
const STORED_LENGTH: Readonly<Record<KvOp['type'], number>> = { get: 5, delete: 5, put: 6, cas: 7 };

function isNat(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function payloadProblem(v: unknown, field: string): string | null {
  if (typeof v !== 'string') return `command.op.${field}: expected a string`;
  return v.length <= MAX_PAYLOAD_CHARS
    ? null
    : `command.op.${field}: string of ${v.length} chars exceeds the limit of ${MAX_PAYLOAD_CHARS}`;
}

function decodeStored(v: readonly unknown[]): DecodeCommandResult {
  const [clientId, instance, seq, type, key] = v;
  if (typeof type !== 'string' || !Object.hasOwn(STORED_LENGTH, type))
    return { ok: false, error: `command.op.type: unknown op type ${JSON.stringify(String(type).slice(0, 40))}` };
  const opType = type as KvOp['type'];
  const length = STORED_LENGTH[opType];
  if (v.length !== length && v.length !== length + 1)
    return { ok: false, error: `command: ${v.length} fields; a ${opType} has ${length} (${length + 1} with a session mode)` };
  let session: SessionMode | undefined;
  if (v.length === length + 1) {
    const mark = v[length];
    if (mark === MODE_MARKS.open) session = 'open';
    else if (mark === MODE_MARKS.existing) session = 'existing';
    else return { ok: false, error: `command: session mode mark ${JSON.stringify(mark)}; expected 1 (open) or 2 (existing)` };
    if (session === 'open' && opType !== 'get') return { ok: false, error: `command: a ${opType} cannot open a session (only a get)` };
  }
  if (typeof clientId !== 'string' || clientId.length === 0) return { ok: false, error: 'command.clientId: expected a non-empty string' };
  if (!isNat(instance)) return { ok: false, error: 'command.instance: expected a non-negative safe integer' };
  if (!isNat(seq)) return { ok: false, error: 'command.seq: expected a non-negative safe integer' };
  const keyProblem = payloadProblem(key, 'key');
  if (keyProblem !== null) return { ok: false, error: keyProblem };
  const k = key as string;
  let op: KvOp;
  switch (opType) {
    case 'get':
    case 'delete':
      op = { type: opType, key: k };
      break;
    case 'put': {
      const problem = payloadProblem(v[5], 'value');
      if (problem !== null) return { ok: false, error: problem };
      op = { type: opType, key: k, value: v[5] as string };
      break;
    }
    case 'cas': {
      const problem = (v[5] === null ? null : payloadProblem(v[5], 'expected')) ?? payloadProblem(v[6], 'value');
      if (problem !== null) return { ok: false, error: problem };
      op = { type: opType, key: k, expected: v[5] as string | null, value: v[6] as string };
      break;
    }
    default:
      return assertNever(opType, 'op type');
  }
  return { ok: true, cmd: session === undefined ? { clientId, instance, seq, op } : { clientId, instance, seq, op, session } };
}

/** Total: any string yields a typed result, never an exception. */
export function decodeCommand(data: string): DecodeCommandResult {
  let v: unknown;
  try {
    v = JSON.parse(data);
  } catch (e) {
    return { ok: false, error: `command is not JSON: ${e instanceof Error ? e.message.slice(0, 200) : String(e)}` };
  }
  if (Array.isArray(v)) return decodeStored(v);
  // The object form {clientId, instance, seq, op}: what logs written before the array form hold.
  if (!isRecord(v)) return { ok: false, error: 'command is not a JSON array or object' };
  const keys = Object.keys(v);
  if (keys.length !== 4 || !keys.every((k) => k === 'clientId' || k === 'instance' || k === 'seq' || k === 'op')) {
    return { ok: false, error: `command has fields ${JSON.stringify(keys.slice(0, 8))}; expected clientId, instance, seq, op` };
  }
  const { clientId, instance, seq, op } = v;
  if (typeof clientId !== 'string' || clientId.length === 0) return { ok: false, error: 'command.clientId: expected a non-empty string' };
  if (typeof instance !== 'number' || !Number.isSafeInteger(instance) || instance < 0)
    return { ok: false, error: 'command.instance: expected a non-negative safe integer' };
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0)
    return { ok: false, error: 'command.seq: expected a non-negative safe integer' };
  const opProblem = checkKvOp(op, 'command.op');
  if (opProblem !== null) return { ok: false, error: opProblem };
  return { ok: true, cmd: { clientId, instance, seq, op: op as KvOp } };
}
