// Writes a history as Jepsen's store writes `history.edn` (jepsen.store/
// write-history!: one op map per line, `prn`): keywords for :type, :f and a
// non-client :process, the op's fields in jepsen.history.Op's order
// (:index :time :type :process :f :value, then :error), so Knossos, Elle and
// `lein run analyze` read it as one of their own. Three departures from a
// naive translation, each so that a Knossos check is exactly as strict as
// ours:
//
// 1. Nemesis (and other non-client) ops are `:info` on both lines with
//    `:process :nemesis`, as Jepsen's nemesis writes them. Our JSONL writes
//    `invoke` then `info`, which Knossos reads as a crashed process invoking
//    again ("Process nemesis already running").
// 2. Keys become jepsen.independent `[k v]` tuples (a read's invoke is
//    `[k nil]`; without keys, the key "" when plain values could be taken
//    for tuples); `jepsen.independent/checker` splits them. Without this,
//    Knossos sees one register and the history is falsely invalid.
// 3. The register's absent value (our `null`) is the keyword `:rift/absent`.
//    In Knossos's `cas-register` a read of `nil` is a wildcard that matches
//    any state, so a stale "not found" read would slip past it. The model
//    to construct is therefore
//
//        (knossos.model/cas-register :rift/absent)
//
//    (initial state absent, like ours; `nil` stays only where Jepsen means
//    "no value": a read's invoke, an unknown read's completion). For `kv`,
//    whose absent value is "", a get of absent is written "", and Knossos
//    has no such model: construct one whose state starts at "" with
//    `:put v` → v, `:append v` → (str state v), `:get v` legal iff v = state
//    (checker/README.md shows it in Clojure).
//
// Reading such a file back (checker/read.ts) gives the same verdict: the
// reader maps `:rift/absent` to null and detects the tuples.
import type { HistoryOp } from './types.js';

/** The keyword standing for the absent value (our null) in exported EDN. */
export const ABSENT_KEYWORD = ':rift/absent';

/**
 * A string as an EDN string literal. A lone surrogate (JSON's "\ud800", legal
 * in a JSON string) is written as a \uXXXX escape: written raw it is no
 * character, and the file's UTF-8 encoding turned every one into U+FFFD, so
 * distinct values became equal (an exported history not linearizable read
 * back as VALID; found by a probe while writing
 * test/checker/metamorphic.test.ts).
 */
function ednString(s: string): string {
  return (
    '"' +
    s.replace(/[\\"\n\t\r]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, (c) =>
      c === '\n'
        ? '\\n'
        : c === '\t'
          ? '\\t'
          : c === '\r'
            ? '\\r'
            : c.length === 1 && c >= '\ud800' && c <= '\udfff'
              ? '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0')
              : '\\' + c,
    ) +
    '"'
  );
}

/** A keyword for a name, when it is a plain identifier; else an EDN string. */
function keywordOr(s: string): string {
  return /^[A-Za-z*+!_?<>=-][A-Za-z0-9*+!_?<>=.\/-]*$/.test(s) ? ':' + s : ednString(s);
}

/** A JSON value as EDN; `absent` is how null is written. */
export function ednValue(v: unknown, absent = 'nil'): string {
  if (v === null || v === undefined) return absent;
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'nil';
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'string') return ednString(v);
  if (Array.isArray(v)) return '[' + v.map((x) => ednValue(x, absent)).join(' ') + ']';
  return (
    '{' +
    Object.entries(v as Record<string, unknown>)
      .map(([k, x]) => `${ednString(k)} ${ednValue(x, absent)}`)
      .join(', ') +
    '}'
  );
}

export interface EdnExportOptions {
  /** The model, for how absent values are written (inferred by the caller). */
  model: 'cas-register' | 'kv';
}

/** One op as a line of history.edn. */
function opLine(o: HistoryOp, independent: boolean, model: EdnExportOptions['model']): string {
  const client = typeof o.process === 'number';
  const fields: string[] = [`:index ${o.index}`];
  if (o.time !== undefined) fields.push(`:time ${Math.round(o.time)}`);
  fields.push(`:type :${client ? o.type : 'info'}`);
  fields.push(`:process ${client ? String(o.process) : keywordOr(String(o.process))}`);
  fields.push(`:f ${keywordOr(o.f)}`);
  let value: string;
  if (!client) value = ednValue(o.value);
  else {
    const isRead = o.f === 'read' || o.f === 'get';
    // "No value": a read's invoke, and a read's completion that carries no result.
    const noValue = isRead && o.type !== 'ok';
    if (noValue) value = 'nil';
    else if (model === 'kv') value = ednValue(isRead && o.value === null ? '' : o.value);
    else value = ednValue(o.value, ABSENT_KEYWORD);
  }
  if (client && independent) {
    const k = o.key === undefined || o.key === null ? '' : o.key;
    value = `[${typeof k === 'number' ? String(k) : ednString(k)} ${value}]`;
  }
  fields.push(`:value ${value}`);
  if (o.error !== undefined && o.error !== null)
    fields.push(`:error ${typeof o.error === 'string' ? ednString(o.error) : ednValue(o.error)}`);
  return '{' + fields.join(', ') + '}';
}

/** The history as history.edn text (one op per line, trailing newline). */
export function historyToEdn(ops: readonly HistoryOp[], opts: EdnExportOptions): string {
  const client = ops.filter((o) => typeof o.process === 'number');
  // Without keys, values are written plain, unless they could be taken for tuples: the reader (read.ts
  // looksIndependent) does so when no read invoke carries nil and every value is a pair. Such a history was
  // misread: the plain `cas [1, [null, 2]]`, not linearizable, read back as key 1's `cas [null, 2]`, VALID (found by a
  // probe; test/checker/metamorphic.test.ts round-trips such histories). Then they are written as tuples of the key ""
  // (absent is ""), which read back exactly.
  const pairsOnly =
    !client.some((o) => o.type === 'invoke' && (o.f === 'read' || o.f === 'get')) &&
    client.every((o) => o.value === null || o.value === undefined || (Array.isArray(o.value) && o.value.length === 2));
  const independent = client.some((o) => o.key !== undefined && o.key !== null) || (client.length > 0 && pairsOnly);
  // A completion may leave its key out (its invoke's counts); a tuple needs it. Written as the key "", it read back as
  // a key its invoke did not have, and the exported file was refused ("completion key "" does not match the
  // invoke's"; found by test/checker/metamorphic.test.ts).
  const invokeKey = new Map<number, HistoryOp['key']>();
  let out = '';
  for (const o of ops) {
    let line = o;
    if (typeof o.process === 'number') {
      if (o.type === 'invoke') invokeKey.set(o.process, o.key);
      else if (o.key === undefined || o.key === null) line = { ...o, key: invokeKey.get(o.process) ?? null };
    }
    out += opLine(line, independent, opts.model) + '\n';
  }
  return out;
}
