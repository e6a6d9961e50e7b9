/**
 * Size limits on keys and values (`ClusterConfig.maxKeyBytes`,
 * `maxValueBytes`), measured in UTF-8 bytes. A node checks them before it
 * proposes a write, so an oversized op is a definite failure (`invalid`) the
 * client hears about at once, and never enters the log.
 */
import type { KvOp, KvResult } from '../protocol.js';
import { checkKvOp } from '../transport/validate.js';
import { assertNever } from '../util/assert.js';

export interface KvLimits {
  readonly maxKeyBytes: number;
  readonly maxValueBytes: number;
}

function invalid(code: 'key_too_large' | 'value_too_large' | 'malformed', message: string): KvResult {
  return { status: 'invalid', code, message };
}

/** null when the op is acceptable; otherwise the `invalid` result to send the client. */
export function validateOp(op: KvOp, limits: KvLimits): KvResult | null {
  // Typed callers cannot pass a malformed op, but ops also come from decoded input.
  const malformed = checkKvOp(op, 'op');
  if (malformed !== null) return invalid('malformed', malformed);
  const keyBytes = Buffer.byteLength(op.key, 'utf8');
  if (keyBytes > limits.maxKeyBytes) {
    return invalid('key_too_large', `key is ${keyBytes} bytes; the limit is ${limits.maxKeyBytes}`);
  }
  switch (op.type) {
    case 'get':
    case 'delete':
      return null;
    case 'put':
      return checkValue('value', op.value, limits);
    case 'cas':
      // An expected value that could never have been stored is rejected too: it is certainly a client mistake.
      return (op.expected === null ? null : checkValue('expected value', op.expected, limits)) ?? checkValue('value', op.value, limits);
    default:
      return assertNever(op, 'op');
  }
}

/**
 * null when a command whose stored form (kv/command.ts encodeCommand, JSON)
 * is `storedBytes` long fits one log entry of at most `maxStoredBytes`
 * (transport/codec.ts maxEntryDataBytes: what one AppendEntries datagram
 * carries); otherwise the `invalid` result to send the client. The byte
 * limits above do not bound it: JSON writes a control character as six
 * bytes, so an op within them can still be several times too large (a cas
 * of two 8,192-byte values of U+0001 is 98,304 bytes). Such an entry, once
 * proposed, could never be sent, and the leader's writes after it would wait
 * forever (found by a probe on a real cluster, 2026-12-07).
 */
export function checkStoredCommand(op: KvOp, storedBytes: number, maxStoredBytes: number): KvResult | null {
  if (storedBytes <= maxStoredBytes) return null;
  const message =
    `the command's stored form is ${storedBytes} bytes (JSON: a control character takes 6, a quote or backslash 2); ` +
    `one log entry carries at most ${maxStoredBytes}`;
  return invalid(op.type === 'put' || op.type === 'cas' ? 'value_too_large' : 'key_too_large', message);
}

function checkValue(what: string, value: string, limits: KvLimits): KvResult | null {
  const bytes = Buffer.byteLength(value, 'utf8');
  return bytes > limits.maxValueBytes
    ? invalid('value_too_large', `${what} is ${bytes} bytes; the limit is ${limits.maxValueBytes}`)
    : null;
}
