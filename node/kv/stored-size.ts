/**
 * How many characters parts of the state machine take in its stored form
 * (state-machine.ts encodeSnapshot: JSON), counted without building the
 * text: the apply path counts every write's, and JSON.stringify of a value
 * costs an allocation and a copy of it. Upper bounds where exactness would
 * cost more (a result's fixed parts); exact for strings.
 */
import type { KvResult } from '../protocol.js';

/** Exactly JSON.stringify(s).length: control characters take 6 (2 for \b \t \n \f \r), quote and backslash 2, a lone surrogate 6. */
export function jsonStringChars(s: string): number {
  let n = 2 + s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20) n += c === 8 || c === 9 || c === 10 || c === 12 || c === 13 ? 1 : 5;
    else if (c === 0x22 || c === 0x5c) n += 1;
    else if (c >= 0xd800 && c <= 0xdfff) {
      // A well-formed pair stays as it is; a lone surrogate is written \udXXX.
      if (c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) i++;
      else n += 5;
    }
  }
  return n;
}

function nullableChars(s: string | null): number {
  return s === null ? 4 : jsonStringChars(s);
}

/** Characters one key adds to the snapshot's data list: `["key","value"],`. */
export function pairChars(key: string, value: string): number {
  return jsonStringChars(key) + jsonStringChars(value) + 4;
}

/** Field names, the status and separators of any result: `{"status":"cas_mismatch","actual":}` is the longest (34). */
const RESULT_FIXED_CHARS = 48;

/** At least JSON.stringify(result).length. */
export function resultChars(result: KvResult): number {
  switch (result.status) {
    case 'ok':
      return RESULT_FIXED_CHARS + nullableChars(result.value);
    case 'cas_mismatch':
      return RESULT_FIXED_CHARS + nullableChars(result.actual);
    case 'invalid':
      return RESULT_FIXED_CHARS + jsonStringChars(result.code) + jsonStringChars(result.message);
  }
}

/** Field names (60), three safe integers (16 each), the quoted digest (34), separators: rounded up. */
const SESSION_FIXED_CHARS = 160;

/**
 * At least the characters one session adds to the snapshot: its client id
 * and result as JSON, and SESSION_FIXED_CHARS for the rest.
 */
export function sessionChars(clientId: string, result: KvResult): number {
  return jsonStringChars(clientId) + resultChars(result) + SESSION_FIXED_CHARS;
}
