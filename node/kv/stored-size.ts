/**
 * How many bytes parts of the state machine take in its stored form
 * (state-machine.ts encodeSnapshot: JSON, saved as UTF-8), counted without
 * building the text: the apply path counts every write's, and
 * JSON.stringify of a value costs an allocation and a copy of it. Upper
 * bounds where exactness would cost more (a result's fixed parts); exact for
 * strings. A UTF-8 byte count also bounds the text's length in UTF-16 units
 * (every unit takes at least one byte), which is what V8 limits.
 */
import type { KvResult } from '../protocol.js';

/**
 * Exactly the UTF-8 bytes of JSON.stringify(s): a control character takes 6
 * (2 for \b \t \n \f \r), a quote or backslash 2, other characters their
 * UTF-8 size (1-3, a surrogate pair 4), a lone surrogate 6 (written \udXXX).
 */
export function jsonStringBytes(s: string): number {
  let n = 2;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20) n += c === 8 || c === 9 || c === 10 || c === 12 || c === 13 ? 2 : 6;
    else if (c === 0x22 || c === 0x5c) n += 2;
    else if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdfff) {
      if (c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
        n += 4;
        i++;
      } else n += 6;
    } else n += 3;
  }
  return n;
}

function nullableBytes(s: string | null): number {
  return s === null ? 4 : jsonStringBytes(s);
}

/** Bytes one key adds to the snapshot's data list: `["key","value"],`. */
export function pairBytes(key: string, value: string): number {
  return jsonStringBytes(key) + jsonStringBytes(value) + 4;
}

/** Field names, the status and separators of any result: `{"status":"cas_mismatch","actual":}` is the longest (34). */
const RESULT_FIXED_BYTES = 48;

/** At least the UTF-8 bytes of JSON.stringify(result). */
export function resultBytes(result: KvResult): number {
  switch (result.status) {
    case 'ok':
      return RESULT_FIXED_BYTES + nullableBytes(result.value);
    case 'cas_mismatch':
      return RESULT_FIXED_BYTES + nullableBytes(result.actual);
    case 'invalid':
      return RESULT_FIXED_BYTES + jsonStringBytes(result.code) + jsonStringBytes(result.message);
  }
}

/** Field names (60), three safe integers (16 each), the quoted digest (34), separators: rounded up. */
const SESSION_FIXED_BYTES = 160;

/**
 * At least the bytes one session adds to the snapshot: its client id
 * and result as JSON, and SESSION_FIXED_BYTES for the rest.
 */
export function sessionBytes(clientId: string, result: KvResult): number {
  return jsonStringBytes(clientId) + resultBytes(result) + SESSION_FIXED_BYTES;
}
