/**
 * The `Entry.data` format of a client command: the op together with its
 * client session `(clientId, instance, seq)`, so every replica can
 * deduplicate retries identically when it applies the entry (Raft
 * dissertation §6.3), and `opDigest`, the digest the session table binds to
 * each (clientId, seq).
 */
import { hash } from 'node:crypto';
import type { KvOp } from '../protocol.js';
import { checkKvOp, isRecord } from '../transport/validate.js';
import { assertNever } from '../util/assert.js';

export interface Command {
  readonly clientId: string;
  /** The client instance that sent it (ClientRequest.instance). */
  readonly instance: number;
  readonly seq: number;
  readonly op: KvOp;
}

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

export function encodeCommand(cmd: Command): string {
  // Field by field, so the stored form does not depend on the caller's object (extra fields, key order).
  return JSON.stringify({ clientId: cmd.clientId, instance: cmd.instance, seq: cmd.seq, op: cmd.op });
}

/** Total: any string yields a typed result, never an exception. */
export function decodeCommand(data: string): DecodeCommandResult {
  let v: unknown;
  try {
    v = JSON.parse(data);
  } catch (e) {
    return { ok: false, error: `command is not JSON: ${e instanceof Error ? e.message.slice(0, 200) : String(e)}` };
  }
  if (!isRecord(v)) return { ok: false, error: 'command is not a JSON object' };
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
