/**
 * The `Entry.data` format of a client command: the op together with its
 * client session `(clientId, seq)`, so every replica can deduplicate retries
 * identically when it applies the entry (Raft dissertation §6.3).
 */
import type { KvOp } from '../protocol.js';
import { checkKvOp, isRecord } from '../transport/validate.js';

export interface Command {
  readonly clientId: string;
  readonly seq: number;
  readonly op: KvOp;
}

export type DecodeCommandResult = { readonly ok: true; readonly cmd: Command } | { readonly ok: false; readonly error: string };

export function encodeCommand(cmd: Command): string {
  // Field by field, so the stored form does not depend on the caller's object (extra fields, key order).
  return JSON.stringify({ clientId: cmd.clientId, seq: cmd.seq, op: cmd.op });
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
  if (keys.length !== 3 || !keys.every((k) => k === 'clientId' || k === 'seq' || k === 'op')) {
    return { ok: false, error: `command has fields ${JSON.stringify(keys.slice(0, 8))}; expected clientId, seq, op` };
  }
  const { clientId, seq, op } = v;
  if (typeof clientId !== 'string' || clientId.length === 0) return { ok: false, error: 'command.clientId: expected a non-empty string' };
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) return { ok: false, error: 'command.seq: expected a non-negative safe integer' };
  const opProblem = checkKvOp(op, 'command.op');
  if (opProblem !== null) return { ok: false, error: opProblem };
  return { ok: true, cmd: { clientId, seq, op: op as KvOp } };
}
