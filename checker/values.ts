/**
 * How a test client writes a history's values to a register and reads them
 * back. In the histories every written value is a unique integer; the
 * register (rift, etcd) stores strings. The simulator's clients and the
 * harness's clients both use these forms, so what they write is the same.
 *
 * `plainValues` writes the digits. `largeValues` writes most values padded
 * up to the database's value limit (UTF-8 bytes) with characters whose
 * stored form is larger than they are: control characters (JSON writes each
 * as six bytes), quotes and backslashes (two), and a two-byte UTF-8 letter;
 * one value in five stays plain. With short numbers only, no run ever made a
 * log entry near the datagram limit: a cas of two padded values became an
 * entry no AppendEntries could carry, and rift's leader held every later
 * write behind it (found by a probe on a real cluster, 2026-12-07;
 * node/kv/limits.ts checkStoredCommand).
 */

export interface ValueForm {
  /** What the clients call this form (`--values`). */
  readonly name: 'plain' | 'large';
  /** The string written for the integer `v`. */
  text(v: number): string;
  /**
   * What a string read back stands for in the history: its integer, null
   * for no value, or, for a string no client of this form writes (damaged,
   * cut short), a short description of it: a value nobody wrote, which the
   * checker rejects.
   */
  value(stored: string | null): number | string | null;
}

/** A string no client wrote, described briefly (a padded value is kilobytes long). */
function foreign(stored: string): string {
  return stored.length <= 40 ? stored : `${JSON.stringify(stored.slice(0, 24))}... (${stored.length} chars)`;
}

export const plainValues: ValueForm = {
  name: 'plain',
  text: (v) => String(v),
  value: (stored) => {
    if (stored === null) return null;
    if (/^-?\d{1,15}$/.test(stored)) return Number(stored);
    return foreign(stored);
  },
};

/** Padding characters, by v modulo their count: none, then ones whose stored form is larger than they are. */
const PADS = ['', '\u0001', '"', '\u00e9', '\\'] as const;

export function largeValues(maxValueBytes: number): ValueForm {
  const text = (v: number): string => {
    const pad = Number.isSafeInteger(v) && v > 0 ? PADS[v % PADS.length]! : '';
    if (pad === '') return String(v);
    const head = `${v}|`;
    return head + pad.repeat(Math.max(0, Math.floor((maxValueBytes - head.length) / Buffer.byteLength(pad, 'utf8'))));
  };
  return {
    name: 'large',
    text,
    value: (stored) => {
      if (stored === null) return null;
      const bar = stored.indexOf('|');
      const head = bar < 0 ? stored : stored.slice(0, bar);
      const n = /^\d{1,15}$/.test(head) ? Number(head) : NaN;
      return Number.isSafeInteger(n) && text(n) === stored ? n : foreign(stored);
    },
  };
}

/** The form `name` for a database whose values may be `maxValueBytes` long. */
export function valueForm(name: ValueForm['name'], maxValueBytes: number): ValueForm {
  return name === 'large' ? largeValues(maxValueBytes) : plainValues;
}
