// Metamorphic and robustness fuzzing of the checker. The random histories of
// simulate.ts (linearizable by construction unless a fault is drawn) are
// transformed in ways that cannot change their meaning, and the verdict must
// not change:
//   1. renaming: keys to any strings (prototype names, "", unicode, long,
//      number-like) or exact numbers, register values to other exact JSON
//      values (never null: null is the absent value; an object's members
//      listed in any order at each occurrence), kv strings by a
//      fixed-width code (concatenation and prefixes are what kv compares),
//      processes to other non-negative integers, times shifted and scaled;
//   2. the EDN export read back (in memory and from a file);
//   3. irrelevant additions: nemesis ops with any values, failed client ops,
//      unknown-outcome reads, unknown writes of values nobody observes; one
//      history split by key, and two histories on disjoint keys interleaved;
//   4. robustness: random mutations of a history's text (both formats) end in
//      a verdict or a HistoryFormatError, never another exception, in this
//      thread, over worker threads (the compiled library) and through the
//      compiled command (whose exit code 255 means an internal error).
//
// Random: the seed is in the test names; replay with FC_SEED=<seed>.
// RIFT_FUZZ_SCALE=N runs N times as many cases (a longer campaign).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { execa } from 'execa';
import fc from 'fast-check';
import { afterAll, describe, expect, test } from 'vitest';
import {
  checkHistory,
  formatResult,
  HistoryFormatError,
  parseHistoryText,
  readHistoryFile,
  type CheckOptions,
  type HistoryFormat,
  type HistoryOp,
  type ModelName,
  type Verdict,
} from '../../checker/index.js';
import { historyToEdn } from '../../checker/edn-export.js';
import { EXIT } from '../../checker/exit-codes.js';
import { opsByKey, verifyLinearization } from '../../checker/verify.js';
import { actionArb, KEY_NAMES, simulate, type Shape } from './simulate.js';

/** The random tests' seed: printed in their names; replay with FC_SEED=<seed>. */
const seed = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : Date.now() % 2 ** 31;
/** RIFT_FUZZ_SCALE=N: N times as many cases. */
const SCALE = Math.max(1, Number(process.env.RIFT_FUZZ_SCALE ?? 1));
const runs = (n: number): number => Math.round(n * SCALE);
/** Each test's deadline, scaled with it (vitest's default is 60 s). */
const TIMEOUT = 60_000 * SCALE;
console.log(`metamorphic.test.ts seed ${seed} (replay with FC_SEED=${seed}), scale ${SCALE}`);

const ROOT = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'rift-metamorphic-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
function tempFile(text: string, ext: string): string {
  const p = join(dir, `h${files++}.${ext}`);
  writeFileSync(p, text);
  return p;
}

// ---------- base histories ----------

const SHAPES: Shape[] = [
  { model: 'cas-register', values: 0, casShare: 0.3, keys: 1 },
  { model: 'cas-register', values: 2, casShare: 0.7, keys: 2 },
  { model: 'cas-register', values: 3, casShare: 0.4, keys: 4 },
  { model: 'kv', values: 0, casShare: 0, keys: 2 },
  { model: 'kv', values: 2, casShare: 0, keys: 1 },
  { model: 'kv', values: 3, casShare: 0.3, keys: 4 },
];

interface Base {
  model: ModelName;
  history: HistoryOp[];
  faulty: boolean;
}

const baseArb: fc.Arbitrary<Base> = fc
  .record({
    shape: fc.constantFrom(...SHAPES),
    processes: fc.integer({ min: 2, max: 5 }),
    actions: fc.array(actionArb, { minLength: 8, maxLength: 60 }),
  })
  .map(({ shape, processes, actions }) => ({ model: shape.model, ...simulate(shape, actions, processes, 12) }));

const OPTS: CheckOptions = { allKeys: true, minimizeMs: 0 };

function verdict(ops: readonly HistoryOp[], model: ModelName, opts: CheckOptions = {}): Verdict {
  return checkHistory(ops, { ...OPTS, model, ...opts }).valid;
}

/** JSON Lines text of ops (without the reader's `line`). */
function toJsonl(ops: readonly HistoryOp[]): string {
  return ops.map(({ line: _line, ...o }) => JSON.stringify(o)).join('\n') + '\n';
}

// ---------- renamings ----------

/** Names that once tripped, or could trip, a record keyed by input, a number parser or a keyword writer. */
const TRICKY_NAMES = [
  '',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'valueOf',
  '1',
  '01',
  '1e3',
  '-0',
  '0x10',
  'NaN',
  'Infinity',
  'null',
  'nil',
  'true',
  ':rift/absent',
  ':k',
  'a b',
  '"',
  '\\',
  '\n',
  '\r\n',
  '\u0000',
  '\u2028',
  '\ufeff',
  'é',
  'e\u0301',
  '😀',
  '#_',
  '[1 2]',
] as const;

const longString = fc.tuple(fc.string({ minLength: 1, maxLength: 3 }), fc.integer({ min: 200, max: 5000 })).map(([s, n]) => s.repeat(n));

const nameArb: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...TRICKY_NAMES),
  fc.string(),
  fc.string({ unit: 'grapheme' }),
  fc.string({ unit: 'binary' }),
  longString,
);

/** Whether the checker can read every number in v exactly (it refuses integers beyond 2^53 in client ops). */
function exact(v: unknown): boolean {
  if (typeof v === 'number') return Number.isFinite(v) && (!Number.isInteger(v) || Number.isSafeInteger(v));
  if (v === null || typeof v !== 'object') return true;
  return (Array.isArray(v) ? v : Object.values(v)).every(exact);
}

const safeNumber = fc.oneof(
  fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 }),
  fc.integer({ min: -1000, max: 1000 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }).filter(exact),
);

/** Keys: a string, an exact number, or absent (undefined: the key field left out, which means ""). */
const keyImageArb: fc.Arbitrary<string | number | undefined> = fc.oneof(
  { weight: 4, arbitrary: nameArb },
  { weight: 1, arbitrary: safeNumber },
  { weight: 1, arbitrary: fc.constant(undefined) },
);
const keyText = (k: string | number | undefined): string => (k === undefined ? '' : String(k));

/** A JSON object whose keys may be prototype names (own properties, as JSON.parse makes them). */
const trickyObject = fc
  .array(fc.tuple(fc.oneof(fc.constantFrom(...TRICKY_NAMES), fc.string()), fc.jsonValue({ maxDepth: 2 })), { maxLength: 4 })
  .map((entries) => {
    const o: Record<string, unknown> = {};
    for (const [k, v] of entries) Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
    return o;
  });

/** Register values: any exact JSON value but null (the register's absent value). */
const registerImageArb: fc.Arbitrary<unknown> = fc
  .oneof(
    nameArb,
    safeNumber,
    fc.boolean(),
    fc.jsonValue({ maxDepth: 4 }),
    trickyObject,
    fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 3 }),
    // Nested up to 56 deep: JSON Lines takes values nested 64 deep, but EDN counts the op map and the [key value]
    // tuple in its bound of 64 (read.ts MAX_VALUE_DEPTH, edn.ts MAX_EDN_NESTING), so a value nested 62 deep exports
    // to a file that cannot be read back (refused, not misread).
    fc.integer({ min: 1, max: 56 }).map((d) => {
      let v: unknown = d;
      for (let i = 0; i < d; i++) v = [v];
      return v;
    }),
  )
  .filter((v) => v !== null && exact(v));

/** One UTF-16 code unit, any of them (lone surrogates included). */
const codeUnit = fc.oneof(
  fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
  fc.constantFrom('\u0000', '"', '\\', '\n', '\r', ';', ' ', 'a', '\ud83d', '\ude00', '\ufeff', '\u2028'),
);

interface Renaming {
  keys: (string | number | undefined)[];
  values: unknown[];
  /** kv: the code width and the code words (each exactly `width` code units). */
  width: number;
  words: string[];
  processes: number[];
  timeScale: number;
  timeShift: number;
  /** kv: write a get's "" as null and the other way round (both mean the empty value). */
  flipEmpty: boolean;
  /** Register: list the members of each object value in a new order at each occurrence (JSON objects are unordered). */
  reorderObjects: boolean;
  orderSeed: number;
  /** Leave the key out of completions (the invoke's counts). */
  dropCompletionKeys: boolean;
  /** Give fail and info completions any other value (only an ok completion's value means anything). */
  junkIncomplete: boolean;
}

const renamingArb: fc.Arbitrary<Renaming> = fc.record({
  keys: fc.uniqueArray(keyImageArb, { minLength: KEY_NAMES.length, maxLength: KEY_NAMES.length, selector: keyText }),
  values: fc.uniqueArray(registerImageArb, { minLength: 120, maxLength: 120, selector: (v) => JSON.stringify(v) }),
  width: fc.integer({ min: 1, max: 4 }),
  words: fc.constant([]),
  processes: fc.uniqueArray(fc.oneof(fc.nat(1000), fc.maxSafeNat()), { minLength: 120, maxLength: 120 }),
  timeScale: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 1_000_000 }), fc.double({ min: 1e-3, max: 1e3, noNaN: true })),
  timeShift: fc.oneof(fc.constant(0), fc.integer({ min: -1_000_000, max: 1e12 })),
  flipEmpty: fc.boolean(),
  reorderObjects: fc.boolean(),
  orderSeed: fc.integer(),
  dropCompletionKeys: fc.boolean(),
  junkIncomplete: fc.boolean(),
});

const renamingWithWordsArb: fc.Arbitrary<Renaming> = renamingArb.chain((r) =>
  fc
    .uniqueArray(fc.string({ unit: codeUnit, minLength: r.width, maxLength: r.width }), { minLength: 64, maxLength: 64 })
    .map((words) => ({ ...r, words })),
);

/** The same JSON value with the members of every object in a random order. */
function reorder(v: unknown, rand: () => number): unknown {
  if (Array.isArray(v)) return v.map((x) => reorder(x, rand));
  if (v === null || typeof v !== 'object') return v;
  const entries = Object.entries(v);
  for (let i = entries.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [entries[i], entries[j]] = [entries[j]!, entries[i]!];
  }
  const o: Record<string, unknown> = {};
  for (const [k, x] of entries)
    Object.defineProperty(o, k, { value: reorder(x, rand), enumerable: true, writable: true, configurable: true });
  return o;
}

/**
 * Applies a renaming. Register values are mapped one by one (null stays null);
 * kv strings character by character, each character to a code word of the
 * same width: a homomorphism of strings that is injective, so equality,
 * concatenation and prefixes, all kv compares, are kept.
 */
function rename(model: ModelName, history: readonly HistoryOp[], r: Renaming): HistoryOp[] {
  const valueIds = new Map<string, number>();
  const chars = new Map<string, string>();
  const procs = new Map<number, number>();
  let x = r.orderSeed | 0;
  const rand = (): number => {
    x = (Math.imul(x, 1103515245) + 12345) | 0;
    return (x >>> 8) / 2 ** 24;
  };
  const mapValue = (v: unknown): unknown => {
    if (v === null) return null;
    const k = JSON.stringify(v);
    let i = valueIds.get(k);
    if (i === undefined) valueIds.set(k, (i = valueIds.size));
    if (i >= r.values.length) throw new Error('renaming: too few value images');
    return r.reorderObjects ? reorder(r.values[i], rand) : r.values[i];
  };
  const mapString = (s: string): string => {
    let out = '';
    for (const c of s) {
      let w = chars.get(c);
      if (w === undefined) {
        if (chars.size >= r.words.length) throw new Error('renaming: too few code words');
        chars.set(c, (w = r.words[chars.size]!));
      }
      out += w;
    }
    return out;
  };
  return history.map((o, i) => {
    const n: HistoryOp = { ...o };
    const ki = KEY_NAMES.indexOf(o.key as (typeof KEY_NAMES)[number]);
    if (ki >= 0) {
      const k = r.keys[ki];
      if (k === undefined) delete n.key;
      else n.key = k;
    }
    if (typeof o.process === 'number') {
      let p = procs.get(o.process);
      if (p === undefined) procs.set(o.process, (p = r.processes[procs.size]!));
      n.process = p;
    }
    n.time = r.timeShift + i * r.timeScale;
    if (model === 'cas-register') {
      if (o.f === 'cas' && Array.isArray(o.value)) n.value = o.value.map(mapValue);
      else if (o.f === 'write' || (o.f === 'read' && o.type === 'ok')) n.value = mapValue(o.value);
    } else if (typeof o.value === 'string') {
      n.value = mapString(o.value);
      if (r.flipEmpty && o.f === 'get' && o.type === 'ok' && o.value === '') n.value = null;
    } else if (r.flipEmpty && o.f === 'get' && o.type === 'ok' && o.value === null) n.value = '';
    if (o.type !== 'invoke' && typeof o.process === 'number') {
      if (r.dropCompletionKeys) delete n.key;
      if (r.junkIncomplete && o.type !== 'ok') n.value = r.values[(i * 7) % r.values.length];
    }
    return n;
  });
}

// ---------- irrelevant additions ----------

const NEMESIS_FS = ['start-partition', 'stop-partition', 'kill', 'pause', 'clock-skew', '', '__proto__', 'read', 'cas', 'get', 'put'];
const MODEL_FS = new Set(['read', 'write', 'cas', 'get', 'put', 'append']);

interface NemesisOp {
  at: number;
  process: string;
  f: string;
  type: 'invoke' | 'ok' | 'fail' | 'info';
  value: unknown;
  key?: string | number;
  error?: unknown;
}

const nemesisArb: fc.Arbitrary<NemesisOp> = fc
  .record(
    {
      at: fc.nat(),
      process: fc.oneof(fc.constantFrom('nemesis', 'n1', '', '0', '-1', '__proto__', 'constructor'), fc.string()),
      f: fc.oneof(fc.constantFrom(...NEMESIS_FS), fc.string()),
      type: fc.constantFrom('invoke', 'ok', 'fail', 'info'),
      // Any value: the nemesis's numbers are never compared, so any JSON number (2^60, 1e300) will do.
      value: fc.oneof(fc.jsonValue({ maxDepth: 6 }), trickyObject, fc.constant(2 ** 60), fc.constant(1e300)),
      key: fc.oneof(nameArb, fc.integer()),
      error: fc.jsonValue({ maxDepth: 2 }),
    },
    { requiredKeys: ['at', 'process', 'f', 'type', 'value'] },
  )
  // An op of the model's own kinds under a name is refused unless it is info (a client named instead of numbered).
  .map((o) => (MODEL_FS.has(o.f) ? { ...o, type: 'info' as const } : o));

/** Client ops that cannot matter: failed ops, unknown-outcome reads, unknown writes of values nobody observes. */
interface Irrelevant {
  at: number;
  /** Where the completion goes, after the invoke; -1: never completes. */
  after: number;
  kind: 'fail' | 'unknown-read' | 'unknown-write';
  f: number;
  key: number;
  v: number;
  /** Whether the unknown op ends with an info line (else it never completes). */
  info: boolean;
}

const irrelevantArb: fc.Arbitrary<Irrelevant> = fc.record({
  at: fc.nat(),
  after: fc.integer({ min: 0, max: 30 }),
  kind: fc.constantFrom('fail', 'unknown-read', 'unknown-write'),
  f: fc.nat(2),
  key: fc.nat(KEY_NAMES.length - 1),
  v: fc.nat(5),
  info: fc.boolean(),
});

/** Adds the ops; client ones on fresh processes. The result is renumbered (index, line). */
function addOps(model: ModelName, history: readonly HistoryOp[], nemesis: NemesisOp[], extra: Irrelevant[]): HistoryOp[] {
  const rows: (Omit<HistoryOp, 'index'> & { pos: number; seq: number })[] = history.map((o, i) => ({ ...o, pos: i * 2 + 1, seq: 0 }));
  let seq = 1;
  const slot = (at: number): number => (at % (history.length + 1)) * 2;
  for (const n of nemesis) {
    const op: Omit<HistoryOp, 'index'> & { pos: number; seq: number } = {
      process: n.process,
      type: n.type,
      f: n.f,
      value: n.value,
      pos: slot(n.at),
      seq: seq++,
    };
    if (n.key !== undefined) op.key = n.key;
    if (n.error !== undefined) op.error = n.error;
    rows.push(op);
  }
  let fresh = 1_000_000;
  for (const x of extra) {
    const process = fresh++;
    const key = KEY_NAMES[x.key]!;
    // A fresh value, unlike any the history holds: a register's are numbers, a kv's tokens never hold "\u{10ffff}".
    const freshValue = model === 'cas-register' ? `fresh-${process}` : `\u{10ffff}${process}`;
    let f: string;
    let value: unknown;
    if (x.kind === 'unknown-read') [f, value] = [model === 'cas-register' ? 'read' : 'get', null];
    else if (model === 'cas-register') {
      f = ['write', 'cas', 'read'][x.f]!;
      if (x.kind === 'unknown-write' && f === 'read') f = 'write';
      const some = x.v === 0 ? null : x.v; // a failed op may name any value, even one the history holds
      value =
        f === 'read'
          ? null
          : f === 'write'
            ? x.kind === 'fail'
              ? some
              : freshValue
            : [some, x.kind === 'fail' ? (some ?? 0) : freshValue];
    } else {
      f = ['put', 'append', 'get'][x.f]!;
      if (x.kind === 'unknown-write' && f === 'get') f = 'append';
      value = f === 'get' ? null : x.kind === 'fail' ? 'abcdef'.slice(0, x.v) : freshValue;
    }
    const at = slot(x.at);
    rows.push({ process, type: 'invoke', f, key, value, pos: at, seq: seq++ });
    const done = x.kind === 'fail' ? 'fail' : x.info ? 'info' : null;
    if (done !== null)
      rows.push({ process, type: done, f, key, value, pos: Math.min(at + x.after * 2, history.length * 2 + 2), seq: seq++ });
  }
  rows.sort((a, b) => a.pos - b.pos || a.seq - b.seq);
  return rows.map(({ pos: _pos, seq: _seq, ...o }, i) => ({ ...o, index: i, line: i + 1 }));
}

// ---------- the properties ----------

describe(`metamorphic: the verdict survives meaning-preserving changes (seed ${seed})`, () => {
  test(
    `renaming keys, values, processes and times (seed ${seed})`,
    () => {
      const tally = { valid: 0, invalid: 0 };
      fc.assert(
        fc.property(baseArb, renamingWithWordsArb, ({ model, history, faulty }, r) => {
          const before = verdict(history, model);
          expect(before).not.toBe('unknown');
          if (!faulty) expect(before).toBe(true);
          tally[before === true ? 'valid' : 'invalid']++;
          const renamed = rename(model, history, r);
          // In memory (also with the fast paths deciding: small histories are mostly decided by the plain search
          // first), and through the text the reader reads.
          expect(verdict(renamed, model)).toBe(before);
          expect(verdict(renamed, model, { plainFirst: false })).toBe(before);
          expect(verdict(parseHistoryText(toJsonl(renamed), 'jsonl'), model)).toBe(before);
        }),
        { seed, numRuns: runs(300) },
      );
      console.log(`renaming: ${JSON.stringify(tally)}`);
      expect(tally.valid).toBeGreaterThan(runs(300) / 10);
      expect(tally.invalid).toBeGreaterThan(runs(300) / 20);
    },
    TIMEOUT,
  );

  test(
    `JSON Lines -> EDN export -> read back (seed ${seed})`,
    async () => {
      await fc.assert(
        fc.asyncProperty(baseArb, renamingWithWordsArb, fc.nat(3), fc.nat(9), async ({ model, history }, r, how, viaFile) => {
          // 0: as generated; 1: renamed; 2: renamed, every register value a pair; 3: that, without keys and reads (then
          // every client value is a pair, as in Jepsen's [key value] tuples: the reader must not take them for tuples).
          const pairs = { ...r, values: r.values.map((v, i) => [v, i]) };
          let h = how === 0 ? history : rename(model, history, how === 1 ? r : pairs);
          if (how === 3) {
            h = h.filter((o) => o.f !== 'read' && o.f !== 'get').map(({ key: _key, ...o }, i) => ({ ...o, index: i, line: i + 1 }));
            if (h.length === 0) return;
          }
          const before = verdict(h, model);
          const edn = historyToEdn(h, { model });
          expect(verdict(parseHistoryText(edn, 'edn'), model)).toBe(before);
          // One case in ten through a file: the streaming reader, its chunks and its UTF-8 decoding.
          if (viaFile === 0) expect(verdict(await readHistoryFile(tempFile(edn, 'edn')), model)).toBe(before);
        }),
        { seed, numRuns: runs(250) },
      );
    },
    TIMEOUT,
  );

  test(
    `nemesis ops and irrelevant client ops added anywhere (seed ${seed})`,
    () => {
      fc.assert(
        fc.property(
          baseArb,
          fc.array(nemesisArb, { maxLength: 6 }),
          fc.array(irrelevantArb, { maxLength: 5 }),
          ({ model, history }, nemesis, extra) => {
            const before = verdict(history, model);
            const added = addOps(model, history, nemesis, extra);
            expect(verdict(added, model)).toBe(before);
            expect(verdict(parseHistoryText(toJsonl(added), 'jsonl'), model)).toBe(before);
            // The model inferred from the f names: the nemesis's own f names must not sway it.
            if (nemesis.length > 0 && extra.length === 0) expect(checkHistory(added, OPTS).valid).toBe(checkHistory(history, OPTS).valid);
          },
        ),
        { seed, numRuns: runs(300) },
      );
    },
    TIMEOUT,
  );

  test(
    `a history is valid iff each key alone is; two histories interleaved on disjoint keys (seed ${seed})`,
    () => {
      fc.assert(
        fc.property(baseArb, baseArb, fc.array(fc.boolean(), { maxLength: 200 }), (a, b0, order) => {
          const keyOf = (o: HistoryOp): string => String(o.key ?? '');
          const keys = [...new Set(a.history.map(keyOf))];
          const alone = keys.map((k) =>
            verdict(
              a.history.filter((o) => keyOf(o) === k),
              a.model,
            ),
          );
          expect(verdict(a.history, a.model)).toBe(alone.every((v) => v === true));
          // b on keys and processes of its own (and a's model), interleaved with a in any order.
          if (b0.model !== a.model) return;
          const b = b0.history.map((o) => ({ ...o, key: `b:${String(o.key)}`, process: (o.process as number) + 10_000 }));
          const merged: HistoryOp[] = [];
          let i = 0;
          let j = 0;
          let t = 0;
          while (i < a.history.length || j < b.length) {
            const takeA = j >= b.length || (i < a.history.length && (order[t++ % Math.max(1, order.length)] ?? true));
            merged.push({ ...(takeA ? a.history[i++]! : b[j++]!), index: merged.length, line: merged.length + 1 });
          }
          const both = verdict(merged, a.model);
          expect(both).toBe(verdict(a.history, a.model) === true && verdict(b, a.model) === true);
        }),
        { seed, numRuns: runs(200) },
      );
    },
    TIMEOUT,
  );
});

// ---------- robustness ----------

/** Tokens the readers must survive in place of a field's value. */
const RAW_TOKENS = [
  'null',
  'true',
  '-0',
  '1.0',
  '1e400',
  '-1e400',
  '123456789012345678901234567890',
  '9007199254740993',
  '0.1',
  '[]',
  '{}',
  '""',
  '"\\ud800"',
  '"\\u0000"',
  '[[[[[[[[[[1]]]]]]]]]]',
  '{"__proto__":{"__proto__":1}}',
  '{"constructor":{"prototype":1}}',
  'NaN',
  'Infinity',
  'undefined',
  "'x'",
  '0x10',
  '+1',
  '.5',
  '1_000',
] as const;

const EDN_TOKENS = [
  'nil',
  '##NaN',
  '##Inf',
  '##-Inf',
  '1N',
  '1M',
  '1.5M',
  '1/0',
  '0/0',
  '2/4',
  '99999999999999999999',
  '#_ 1',
  '#_',
  '#inst "2020-01-01"',
  '#uuid "00000000-0000-0000-0000-000000000000"',
  '\\c',
  '\\newline',
  '\\u0041',
  '#{1 2}',
  '(1 2)',
  ':a/b',
  '::k',
  ':',
  'sym',
  ':rift/absent',
  '"\\q"',
  '"\\u12"',
  ';',
  '"',
  '{',
  '}',
  '[',
  ']',
  '#',
  '\\',
  '{:a}',
] as const;

const deepNesting = fc
  .tuple(fc.constantFrom(8, 63, 64, 65, 100, 10_000, 200_000), fc.constantFrom('[', '{"a":', '#_ [', '#t ', '('), fc.boolean())
  .map(([d, open, closed]) => {
    const close = open.startsWith('{') ? '}' : open === '#t ' ? '' : open === '(' ? ')' : ']';
    return open.repeat(d) + '1' + (closed ? close.repeat(d) : '');
  });

type Mutation =
  | { kind: 'delete' | 'duplicate' | 'blank'; line: number }
  | { kind: 'swap'; line: number; other: number }
  | { kind: 'field'; line: number; field: string; token: string }
  | { kind: 'drop-field'; line: number; field: string }
  | { kind: 'insert-text'; line: number; at: number; text: string }
  | { kind: 'delete-text'; line: number; at: number; length: number }
  | { kind: 'whole'; how: 'bom' | 'crlf' | 'cr' | 'no-final-newline' | 'vector' | 'nul' };

const FIELDS = ['index', 'time', 'type', 'process', 'f', 'key', 'value', 'error', '__proto__', 'line'] as const;

const tokenArb = fc.oneof(
  fc.constantFrom(...RAW_TOKENS),
  fc.constantFrom(...EDN_TOKENS),
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
  fc.string().map((s) => JSON.stringify(s)),
  fc.constantFrom('"invoke"', '"ok"', '"fail"', '"info"', '"read"', '"write"', '"cas"', '"get"', '"put"', '"append"', '"nemesis"'),
  fc.integer({ min: -3, max: 10 }).map(String),
  deepNesting,
  fc.integer({ min: 1000, max: 2_000_000 }).map((n) => JSON.stringify('x'.repeat(n))),
  fc.integer({ min: 20, max: 5000 }).map((n) => '9'.repeat(n)),
);

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constantFrom('delete', 'duplicate', 'blank'), line: fc.nat() }),
  fc.record({ kind: fc.constant('swap'), line: fc.nat(), other: fc.nat() }),
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('field'), line: fc.nat(), field: fc.constantFrom(...FIELDS), token: tokenArb }) },
  fc.record({ kind: fc.constant('drop-field'), line: fc.nat(), field: fc.constantFrom(...FIELDS) }),
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('insert-text'),
      line: fc.nat(),
      at: fc.nat(),
      text: fc.oneof(
        fc.constantFrom(...RAW_TOKENS, ...EDN_TOKENS, '\n', '\r', '\ufeff', '\u0000', '\ud800', ',', ' '),
        fc.string(),
        deepNesting,
      ),
    }),
  },
  fc.record({ kind: fc.constant('delete-text'), line: fc.nat(), at: fc.nat(), length: fc.integer({ min: 1, max: 20 }) }),
  fc.record({ kind: fc.constant('whole'), how: fc.constantFrom('bom', 'crlf', 'cr', 'no-final-newline', 'vector', 'nul') }),
);

/** Replaces (or adds) a field's value in one JSON or EDN op line, as raw text. */
function setField(line: string, format: HistoryFormat, field: string, token: string): string {
  if (format === 'jsonl') {
    const re = new RegExp(`"${field}":`);
    const m = re.exec(line);
    if (m === null) return line.replace(/^\{/, `{"${field}":${token},`);
    // The old value ends where the next top-level field starts (good enough for mutation).
    const start = m.index + m[0].length;
    const next = line.slice(start).search(/,"(index|time|type|process|f|key|value|error)":/);
    return line.slice(0, start) + token + (next < 0 ? '}' : line.slice(start + next));
  }
  const re = new RegExp(`:${field} `);
  const m = re.exec(line);
  if (m === null) return line.replace(/^\{/, `{:${field} ${token}, `);
  const start = m.index + m[0].length;
  const next = line.slice(start).search(/, :(index|time|type|process|f|key|value|error) /);
  return line.slice(0, start) + token + (next < 0 ? '}' : line.slice(start + next));
}

function mutate(text: string, format: HistoryFormat, mutations: readonly Mutation[]): string {
  let lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const whole: string[] = [];
  for (const m of mutations) {
    if (lines.length === 0) lines.push('');
    const i = m.kind === 'whole' ? 0 : m.line % lines.length;
    const l = lines[i]!;
    switch (m.kind) {
      case 'delete':
        lines.splice(i, 1);
        break;
      case 'duplicate':
        lines.splice(i, 0, l);
        break;
      case 'blank':
        lines.splice(i, 0, ' \t');
        break;
      case 'swap': {
        const j = m.other % lines.length;
        [lines[i], lines[j]] = [lines[j]!, l];
        break;
      }
      case 'field':
        lines[i] = setField(l, format, m.field, m.token);
        break;
      case 'drop-field':
        lines[i] =
          format === 'jsonl'
            ? setField(l, format, m.field, '0').replace(new RegExp(`"${m.field}":0,?`), '')
            : l.replace(`:${m.field} `, ':dropped ');
        break;
      case 'insert-text': {
        const at = m.at % (l.length + 1);
        lines[i] = l.slice(0, at) + m.text + l.slice(at);
        break;
      }
      case 'delete-text': {
        const at = m.at % (l.length + 1);
        lines[i] = l.slice(0, at) + l.slice(at + m.length);
        break;
      }
      case 'whole':
        whole.push(m.how);
        break;
    }
  }
  lines = lines.flatMap((l) => l.split('\n'));
  let out = lines.join('\n') + '\n';
  for (const how of whole) {
    if (how === 'bom') out = '\ufeff' + out;
    else if (how === 'crlf') out = out.replace(/\n/g, '\r\n');
    else if (how === 'cr') out = out.replace(/\n/, '\r');
    else if (how === 'no-final-newline') out = out.replace(/\n$/, '');
    else if (how === 'vector') out = format === 'edn' ? '[' + out + ']\n' : out;
    else out = out.replace(/\n/, '\u0000\n');
  }
  return out;
}

const ROBUST_OPTS: CheckOptions = { allKeys: true, timeLimitMs: 2000, minimizeMs: 100, witness: true };

type Outcome = Verdict | 'input-error';

/** Reading and checking must end in a verdict or a HistoryFormatError; anything else fails the property. */
function judged(read: () => HistoryOp[], check: (ops: HistoryOp[]) => { valid: Verdict }): Outcome {
  let ops: HistoryOp[];
  try {
    ops = read();
  } catch (e) {
    if (e instanceof HistoryFormatError) {
      expect(e.message.length).toBeGreaterThan(0);
      return 'input-error';
    }
    throw e;
  }
  try {
    const r = check(ops);
    expect([true, false, 'unknown']).toContain(r.valid);
    return r.valid;
  } catch (e) {
    if (e instanceof HistoryFormatError) return 'input-error';
    throw e;
  }
}

const mutatedArb = (minMutations: number, maxMutations: number) =>
  fc
    .record({
      base: baseArb,
      nemesis: fc.array(nemesisArb, { maxLength: 2 }),
      format: fc.constantFrom<HistoryFormat>('jsonl', 'edn'),
      mutations: fc.array(mutationArb, { minLength: minMutations, maxLength: maxMutations }),
    })
    .map(({ base, nemesis, format, mutations }) => {
      const h = addOps(base.model, base.history, nemesis, []);
      const text = format === 'jsonl' ? toJsonl(h) : historyToEdn(h, { model: base.model });
      return { model: base.model, format, text: mutate(text, format, mutations) };
    });

/** The compiled library (dist/), whose checkHistoryAsync can use worker threads (from sources it stays in-thread). */
async function compiled(): Promise<typeof import('../../checker/index.js')> {
  return (await import(pathToFileURL(join(ROOT, 'dist', 'checker', 'index.js')).href)) as typeof import('../../checker/index.js');
}

describe(`robustness: mutated history text ends in a verdict or an input error (seed ${seed})`, () => {
  test(
    `in this thread, from text and from a file (seed ${seed})`,
    async () => {
      const tally: Record<string, number> = {};
      await fc.assert(
        fc.asyncProperty(mutatedArb(1, 3), fc.boolean(), fc.nat(9), async ({ model, format, text }, giveModel, viaFile) => {
          const opts = giveModel ? { ...ROBUST_OPTS, model } : ROBUST_OPTS;
          const outcome = judged(
            () => parseHistoryText(text, format),
            (ops) => {
              const r = checkHistory(ops, opts);
              // The plain search alone, and the fast paths from the start, must agree on whatever was read.
              if (r.valid !== 'unknown') {
                for (const other of [{ fastPaths: false }, { plainFirst: false }]) {
                  const v = checkHistory(ops, { ...opts, ...other, witness: false, minimizeMs: 0 }).valid;
                  if (v !== 'unknown') expect(v, JSON.stringify(other)).toBe(r.valid);
                }
              }
              // What the command prints must render too.
              expect(formatResult(r, 'h').length).toBeGreaterThan(0);
              JSON.stringify(r);
              // And a valid key's certificate must convince the independent verifier (two invokes of one index, which a
              // certificate cannot name, are refused on input).
              const byKey = opsByKey(ops);
              for (const [k, kr] of Object.entries(r.keys)) {
                if (kr.valid !== true) continue;
                expect(verifyLinearization(r.model as ModelName, byKey.get(k)!, kr.linearization!), k).toBeNull();
              }
              return r;
            },
          );
          tally[String(outcome)] = (tally[String(outcome)] ?? 0) + 1;
          if (viaFile === 0) {
            const p = tempFile(text, format);
            let ops: HistoryOp[] | 'input-error';
            try {
              ops = await readHistoryFile(p);
            } catch (e) {
              if (!(e instanceof HistoryFormatError)) throw e;
              ops = 'input-error';
            }
            if (ops !== 'input-error')
              judged(
                () => ops as HistoryOp[],
                (o) => checkHistory(o, opts),
              );
          }
        }),
        { seed, numRuns: runs(400) },
      );
      console.log(`robustness outcomes: ${JSON.stringify(tally)}`);
    },
    TIMEOUT,
  );

  test(
    `over worker threads (compiled library), agreeing with this thread (seed ${seed})`,
    async () => {
      const lib = await compiled();
      let overWorkers = 0;
      await fc.assert(
        fc.asyncProperty(mutatedArb(0, 1), async ({ format, text }) => {
          let ops: HistoryOp[];
          try {
            ops = lib.parseHistoryText(text, format);
          } catch (e) {
            if (e instanceof lib.HistoryFormatError) return;
            throw e;
          }
          let inThread: Outcome;
          try {
            inThread = lib.checkHistory(ops, { ...ROBUST_OPTS, witness: false, minimizeMs: 0 }).valid;
          } catch (e) {
            if (!(e instanceof lib.HistoryFormatError)) throw e;
            inThread = 'input-error';
          }
          let workers: Outcome;
          try {
            const r = await lib.checkHistoryAsync(ops, { ...ROBUST_OPTS, witness: false, minimizeMs: 0, workerMinOps: 1 });
            if (r.workers > 0) overWorkers++;
            workers = r.valid;
          } catch (e) {
            if (!(e instanceof lib.HistoryFormatError)) throw e;
            workers = 'input-error';
          }
          if (inThread !== 'unknown' && workers !== 'unknown') expect(workers).toBe(inThread);
        }),
        { seed, numRuns: runs(30) },
      );
      console.log(`worker path: ${overWorkers} histories checked over worker threads`);
    },
    TIMEOUT,
  );

  test(
    `through the compiled command: never exit ${EXIT.crash} (seed ${seed})`,
    async () => {
      const cli = join(ROOT, 'dist', 'checker', 'rift-check.js');
      const codes: Record<number, number> = {};
      await fc.assert(
        fc.asyncProperty(mutatedArb(1, 3), fc.boolean(), async ({ format, text }, workers) => {
          const p = tempFile(text, format);
          const args = [cli, p, '--all-keys', '--time-limit', '5', '--minimize-ms', '100'];
          if (workers) args.push('--worker-min-ops', '1');
          const r = await execa(process.execPath, args, { reject: false });
          codes[r.exitCode ?? -1] = (codes[r.exitCode ?? -1] ?? 0) + 1;
          expect(r.stderr).not.toMatch(/internal error/);
          expect([EXIT.valid, EXIT.invalid, EXIT.unknown, EXIT.usage]).toContain(r.exitCode);
        }),
        { seed, numRuns: runs(8) },
      );
      console.log(`command exit codes: ${JSON.stringify(codes)}`);
    },
    TIMEOUT,
  );
});
