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

function checkValue(what: string, value: string, limits: KvLimits): KvResult | null {
  const bytes = Buffer.byteLength(value, 'utf8');
  return bytes > limits.maxValueBytes
    ? invalid('value_too_large', `${what} is ${bytes} bytes; the limit is ${limits.maxValueBytes}`)
    : null;
}
