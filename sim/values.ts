/**
 * How the simulated clients write their values. Every written value is a
 * unique number (the history and the checker see only that number); on the
 * wire it is a string. `plainValues` writes the digits. `largeValues` writes
 * most of them padded up to the node's value limit (`maxValueBytes`, UTF-8
 * bytes) with characters whose stored form is larger than they are: control
 * characters (JSON writes each as six bytes), quotes (two) and a two-byte
 * UTF-8 letter; the rest stay plain. With short numbers only, no run ever
 * made an entry near the datagram limit: a cas of two padded values became
 * a log entry no AppendEntries could carry, and the leader's writes after it
 * waited forever (found by a probe on a real cluster, 2026-12-07; the host
 * now refuses such a command, kv/limits.ts checkStoredCommand).
 */

export interface ValueForm {
  /** The string written for the number `v`. */
  text(v: number): string;
  /**
   * The number a string read back stands for; null for no value. In
   * `largeValues`, a string that is not exactly what `text` wrote for its
   * number (a corrupted or truncated value) reads as CORRUPT_VALUE, which no
   * client ever writes, so the checker rejects the read.
   */
  number(text: string | null): number | null;
}

/** Never written (values count up from 1): what a damaged value reads as. */
export const CORRUPT_VALUE = -1;

export const plainValues: ValueForm = {
  text: (v) => String(v),
  number: (text) => {
    if (text === null) return null;
    const n = Number(text);
    return Number.isFinite(n) ? n : null;
  },
};

/** Padding characters, by v modulo their count: none, then each costs more in JSON than in UTF-8 bytes, or is wide in UTF-8. */
const PADS = ['', '\u0001', '"', '\u00e9', '\\'] as const;

export function largeValues(maxValueBytes: number): ValueForm {
  const text = (v: number): string => {
    if (!Number.isSafeInteger(v) || v <= 0) return String(v); // CORRUPT_VALUE and the like: never written
    const head = `${v}|`;
    const pad = PADS[v % PADS.length]!;
    if (pad === '') return String(v);
    const padBytes = Buffer.byteLength(pad, 'utf8');
    return head + pad.repeat(Math.max(0, Math.floor((maxValueBytes - head.length) / padBytes)));
  };
  return {
    text,
    number: (s) => {
      if (s === null) return null;
      const bar = s.indexOf('|');
      const n = Number(bar < 0 ? s : s.slice(0, bar));
      return Number.isSafeInteger(n) && n > 0 && text(n) === s ? n : CORRUPT_VALUE;
    },
  };
}
