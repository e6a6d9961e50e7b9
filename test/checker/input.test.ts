// Well-formedness errors (each with its line), JSONL and EDN reading
// (one map per line, a vector, independent [key value] tuples), and the
// EDN reader itself.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import {
  checkFile,
  checkHistory,
  checkHistoryAsync,
  HistoryFormatError,
  parseEdn,
  parseHistoryText,
  readHistoryFile,
} from '../../checker/index.js';
import { hist, jsonl, type Row } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'rift-checker-'));
let n = 0;
function file(text: string, ext = 'jsonl'): string {
  const p = join(dir, `h${n++}.${ext}`);
  writeFileSync(p, text);
  return p;
}

async function formatError(p: Promise<unknown>): Promise<HistoryFormatError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof HistoryFormatError) return e;
    throw e;
  }
  throw new Error('expected a HistoryFormatError');
}

describe('well-formedness', () => {
  test('a process invoking twice without completing', async () => {
    const p = file(
      jsonl([
        [0, 'invoke', 'write', 1],
        [1, 'invoke', 'read', null],
        [0, 'invoke', 'write', 2],
      ]),
    );
    const e = await formatError(checkFile(p));
    expect(e.line).toBe(3);
    expect(e.message).toMatch(/^line 3: process 0 invokes write while its write from line 1 is still outstanding/);
  });

  test('a completion without an invoke', async () => {
    const e = await formatError(
      checkFile(
        file(
          jsonl([
            [0, 'invoke', 'write', 1],
            [0, 'ok', 'write', 1],
            [0, 'ok', 'write', 1],
          ]),
        ),
      ),
    );
    expect(e.line).toBe(3);
    expect(e.message).toContain('without an invoke');
  });

  test('an unknown type', async () => {
    const text = '{"process":0,"type":"invoke","f":"read","value":null}\n{"process":0,"type":"okay","f":"read","value":null}\n';
    const e = await formatError(checkFile(file(text)));
    expect(e.line).toBe(2);
    expect(e.message).toContain('unknown type "okay"');
  });

  test('a bad value shape', async () => {
    const e = await formatError(
      checkFile(
        file(
          jsonl([
            [0, 'invoke', 'write', 1],
            [0, 'ok', 'write', 1],
            [1, 'invoke', 'cas', 5],
          ]),
        ),
      ),
    );
    expect(e.line).toBe(3);
    expect(e.message).toContain('cas value must be [expected, new]');
    const e2 = await formatError(checkFile(file(jsonl([[0, 'invoke', 'append', 5, 'k']]))));
    expect(e2.line).toBe(1);
    expect(e2.message).toContain('append value must be a string');
  });

  test('bad JSON, a completion whose f differs, an unknown f for a forced model', async () => {
    const e = await formatError(checkFile(file('{"process":0,"type":"invoke","f":"read","value":null}\n\n{"process":0,"type":\n')));
    expect(e.line).toBe(3);
    expect(e.message).toContain('bad JSON');
    expect(() =>
      checkHistory(
        hist([
          [0, 'invoke', 'write', 1],
          [0, 'ok', 'read', 1],
        ]),
      ),
    ).toThrow(/line 2: completion f "read" does not match/);
    expect(() => checkHistory(hist([[0, 'invoke', 'get', null]]), { model: 'cas-register' })).toThrow(/line 1: unknown f "get"/);
  });

  test('a model that cannot be inferred', () => {
    expect(() =>
      checkHistory(
        hist([
          [0, 'invoke', 'read', null],
          [0, 'ok', 'read', null],
          [1, 'invoke', 'get', null],
        ]),
      ),
    ).toThrow(/cannot infer the model/);
  });

  test('an unreadable file is an fs error, not a format error', async () => {
    await expect(checkFile(join(dir, 'missing.jsonl'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('EDN', () => {
  test('the reader handles Jepsen op maps and EDN syntax', () => {
    expect(parseEdn('{:type :ok, :f :cas, :value [1 2], :process 3, :time 12N}')).toEqual({
      type: 'ok',
      f: 'cas',
      value: [1, 2],
      process: 3,
      time: 12,
    });
    expect(parseEdn('(1 -2.5 "a\\"b\\n" nil true false #{:x} \\c :ns/kw sym) ; comment')).toEqual([
      1,
      -2.5,
      'a"b\n',
      null,
      true,
      false,
      ['x'],
      'c',
      'ns/kw',
      'sym',
    ]);
    expect(parseEdn('#jepsen.history.Op{:process :nemesis, :error [:temporarily-unavailable nil]}')).toEqual({
      process: 'nemesis',
      error: ['temporarily-unavailable', null],
    });
    expect(parseEdn('[1 #_ 2 3]')).toEqual([1, 3]);
    expect(() => parseEdn('{:a 1')).toThrow(/unterminated/);
    expect(() => parseEdn('[1 2)')).toThrow(/unexpected/);
  });

  test('##Inf, ##-Inf and ##NaN are values, not tags that swallow the next form', () => {
    // Read as a tag, [##Inf 1] was [1]: a write of [##Inf 1] then a read of [1] was VALID.
    expect(parseEdn('[##Inf 1 ##-Inf ##NaN]')).toEqual([Infinity, 1, -Infinity, NaN]);
    expect(() => parseEdn('[##Foo 1]')).toThrow(/unknown symbolic value ##Foo/);
    const rows = (v: string): string =>
      [
        `{:process 0, :type :invoke, :f :write, :value ${v}}`,
        `{:process 0, :type :ok, :f :write, :value ${v}}`,
        '{:process 0, :type :invoke, :f :read, :value nil}',
        '{:process 0, :type :ok, :f :read, :value [1]}',
      ].join('\n');
    expect(() => parseHistoryText(rows('[##Inf 1]'), 'edn')).toThrow(
      /^line 1: value holds the number Infinity, which cannot be read exactly/,
    );
    expect(() => parseHistoryText(rows('##NaN'), 'edn')).toThrow(/^line 1: value holds the number NaN, which cannot be read exactly \(NaN/);
    // The nemesis's values are not compared: they may hold one.
    expect(parseHistoryText('{:process :nemesis, :type :info, :f :skew, :value {:by ##-Inf}, :time 1}', 'edn')[0]).toMatchObject({
      value: { by: -Infinity },
      time: 1,
    });
  });

  test('one op map per line, with nemesis ops', async () => {
    const text = [
      '{:process 0, :type :invoke, :f :write, :value 1}',
      '{:process :nemesis, :type :info, :f :start, :value nil}',
      '{:process 0, :type :ok, :f :write, :value 1}',
      '{:process 1, :type :invoke, :f :read, :value nil}',
      '{:process 1, :type :ok, :f :read, :value 1}',
    ].join('\n');
    const r = await checkFile(file(text, 'edn'));
    expect(r.valid).toBe(true);
    expect(r.opCount).toBe(5);
    expect(r.clientOpCount).toBe(2);
    const bad = await checkFile(file(text.replace(':type :ok, :f :read, :value 1}', ':type :ok, :f :read, :value 2}'), 'edn'));
    expect(bad.valid).toBe(false);
  });

  test('a vector of ops spread over lines keeps line numbers', async () => {
    const text =
      '[{:process 0 :type :invoke :f :write :value 1}\n {:process 0 :type :ok\n  :f :write :value 1}\n {:process 0 :type :invoke :f :write :value 2}\n {:process 0 :type :invoke :f :write :value 3}]\n';
    const ops = await readHistoryFile(file(text, 'edn'));
    expect(ops.map((o) => o.line)).toEqual([1, 2, 4, 5]);
    const e = await formatError(checkFile(file(text, 'edn')));
    expect(e.line).toBe(5);
  });

  test('independent [key value] tuples map to keys', async () => {
    const text = [
      '{:process 0, :type :invoke, :f :write, :value [:k1 1]}',
      '{:process 0, :type :ok, :f :write, :value [:k1 1]}',
      '{:process 1, :type :invoke, :f :cas, :value [:k2 [nil 5]]}',
      '{:process 1, :type :ok, :f :cas, :value [:k2 [nil 5]]}',
      '{:process 2, :type :invoke, :f :read, :value [:k1 nil]}',
      '{:process 2, :type :ok, :f :read, :value [:k1 5]}',
    ].join('\n');
    const r = await checkFile(file(text, 'edn'), { allKeys: true });
    expect(r.keyCount).toBe(2);
    expect(r.valid).toBe(false);
    expect(r.failures).toEqual(['k1']);
    expect(r.keys['k2']!.valid).toBe(true);
  });

  test('EDN is detected from content when the extension says nothing', () => {
    const ops = parseHistoryText('{:process 0 :type :invoke :f :read :value nil}', 'edn');
    expect(ops[0]).toMatchObject({ process: 0, type: 'invoke', f: 'read', value: null, index: 0, line: 1 });
  });

  test('malformed EDN reports its line', async () => {
    const e = await formatError(
      checkFile(file('{:process 0 :type :invoke :f :read :value nil}\n{:process 0 :type :ok :f :read :value "x}\n', 'edn')),
    );
    expect(e.line).toBe(2);
  });
});

// A history's keys are input: any string. Results were kept in `{}` records, where `r["__proto__"] = v` sets the
// prototype: the key's result vanished from the verdict, and a history not linearizable on `__proto__` was VALID
// (found by a probe, 2026-12-07).
describe('keys that are names of Object.prototype', () => {
  const names = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__'];
  const rows = (key: string, read: number): Row[] => [
    [0, 'invoke', 'write', 1, key],
    [0, 'ok', 'write', 1, key],
    [1, 'invoke', 'read', null, key],
    [1, 'ok', 'read', read, key],
  ];
  for (const key of names) {
    test(`"${key}": a bad read is INVALID and a good one VALID, in this thread and with workers, and the result is the key's own`, async () => {
      const bad = hist([...rows(key, 2), ...rows('other', 1)]);
      for (const r of [
        checkHistory(bad, { allKeys: true }),
        await checkHistoryAsync(bad, { allKeys: true, workers: true, workerMinOps: 1 }),
      ]) {
        expect(r.valid).toBe(false);
        expect(r.failures).toEqual([key]);
        expect(Object.keys(r.keys).sort()).toEqual([key, 'other'].sort());
        expect(Object.hasOwn(r.keys, key) && r.keys[key]!.valid).toBe(false);
        expect(Object.keys(JSON.parse(JSON.stringify(r)).keys).sort()).toEqual([key, 'other'].sort());
      }
      const good = checkHistory(hist(rows(key, 1)));
      expect(good.valid).toBe(true);
      expect(Object.keys(good.keys)).toEqual([key]);
    });
  }

  test('an EDN map key named __proto__ is an ordinary key', () => {
    expect(Object.keys(parseEdn('{:__proto__ 1, :constructor 2}') as object).sort()).toEqual(['__proto__', 'constructor']);
  });
});

describe('keys of different types with the same text', () => {
  // Keys are named by their text: the number 1 and the string "1" were one register, and two registers merged can
  // hide a violation on either (key 1: write 5; key "1": read 5 with nothing written there was VALID).
  test('are refused with a clear error, not merged', () => {
    const rows: Row[] = [
      [0, 'invoke', 'write', 5, 1],
      [0, 'ok', 'write', 5, 1],
      [1, 'invoke', 'read', null, '1'],
      [1, 'ok', 'read', 5, '1'],
    ];
    expect(() => checkHistory(hist(rows))).toThrow(/line 3: key "1" is a string here and a number at line 1: keys are named by their text/);
    const keyless = hist([
      [0, 'invoke', 'write', 5],
      [0, 'ok', 'write', 5],
      [1, 'invoke', 'read', null, ''],
      [1, 'ok', 'read', 5, ''],
    ]);
    expect(() => checkHistory(keyless)).toThrow(/key "" is a string here and absent at line 1/);
    expect(checkHistory(hist(rows.map(([p, t, f, v]) => [p, t, f, v, 1] as Row))).valid).toBe(true);
  });
});

describe('numbers the checker cannot hold exactly', () => {
  // Readers round integers beyond 2^53 to the nearest double: a write of 9007199254740993 and a read of
  // 9007199254740992 compared equal, and the history was VALID (found by a probe, 2026-12-07), in JSON and in EDN.
  test('are refused with a clear error, in JSON Lines and EDN, in values, pairs and keys', () => {
    const jsonLines = [
      '{"process":0,"type":"invoke","f":"write","key":"a","value":9007199254740993}',
      '{"process":0,"type":"ok","f":"write","key":"a","value":9007199254740993}',
      '{"process":1,"type":"invoke","f":"read","key":"a","value":null}',
      '{"process":1,"type":"ok","f":"read","key":"a","value":9007199254740992}',
    ].join('\n');
    expect(() => parseHistoryText(jsonLines, 'jsonl')).toThrow(
      /line 1: value holds the number 9007199254740992, which cannot be read exactly \(integers beyond 2\^53 are rounded/,
    );
    const edn =
      '{:type :invoke, :f :write, :value 9007199254740993, :process 0}\n{:type :ok, :f :write, :value 9007199254740993, :process 0}';
    expect(() => parseHistoryText(edn, 'edn')).toThrow(/line 1: value holds the number/);
    expect(() => parseHistoryText('{"process":0,"type":"invoke","f":"cas","value":[1,1e400]}', 'jsonl')).toThrow(
      /Infinity.*a literal too large for a double/,
    );
    expect(() => parseHistoryText('{"process":0,"type":"invoke","f":"read","key":12345678901234567890,"value":null}', 'jsonl')).toThrow(
      /line 1: key holds/,
    );
    // The largest safe integer, and fractions, are exact enough to compare.
    expect(parseHistoryText('{"process":0,"type":"invoke","f":"write","value":9007199254740991}', 'jsonl')[0]!.value).toBe(
      9007199254740991,
    );
    expect(parseHistoryText('{"process":0,"type":"invoke","f":"write","value":0.5}', 'jsonl')[0]!.value).toBe(0.5);
  });
});

describe('client ops under a process name', () => {
  // Only integer processes are clients. A history whose clients were named ("c0") had every op skipped as a nemesis
  // op and was VALID with 0 client ops (found by a probe, 2026-12-07).
  test('are refused, while the nemesis (its own kinds of op, or info) is skipped', () => {
    const named = hist([
      ['c0', 'invoke', 'write', 1, 'k'],
      ['c0', 'ok', 'write', 1, 'k'],
      ['c1', 'invoke', 'read', null, 'k'],
      ['c1', 'ok', 'read', 2, 'k'],
    ]);
    expect(() => checkHistory(named)).toThrow(
      /line 1: process "c0" invokes write, an op of the model, but only integer processes are clients/,
    );
    const withNemesis = hist([
      ['nemesis', 'info', 'start-partition', null],
      [0, 'invoke', 'write', 1, 'k'],
      [0, 'ok', 'write', 1, 'k'],
      ['nemesis', 'info', 'write', 'a nemesis note'],
    ]);
    expect(checkHistory(withNemesis)).toMatchObject({ valid: true, clientOpCount: 1 });
  });
});

describe('op indexes', () => {
  test('two invokes of one index are refused (a certificate names ops by index); completions and absent indexes are not', async () => {
    // The second write's invoke reuses the read's index 0: --witness then wrote a certificate --verify refused.
    const dup = [
      '{"index":0,"process":1,"type":"invoke","f":"read","value":null}',
      '{"index":1,"process":1,"type":"ok","f":"read","value":2}',
      '{"index":0,"process":0,"type":"invoke","f":"write","value":2}',
      '{"index":3,"process":0,"type":"ok","f":"write","value":2}',
    ].join('\n');
    const e = await formatError(checkFile(file(dup)));
    expect(e.line).toBe(3);
    expect(e.message).toMatch(/^line 3: index 0 is also the index of the invoke at line 1/);
    expect(() => checkHistory(parseHistoryText(dup, 'jsonl'))).toThrow(/index 0 is also the index of the invoke at line 1/);
    // A completion may share its invoke's index (some converters write one index per op pair), and indexes may be absent.
    const shared = [
      '{"index":0,"process":0,"type":"invoke","f":"write","value":2}',
      '{"index":0,"process":0,"type":"ok","f":"write","value":2}',
      '{"index":1,"process":1,"type":"invoke","f":"read","value":null}',
      '{"index":1,"process":1,"type":"ok","f":"read","value":2}',
    ].join('\n');
    expect(checkHistory(parseHistoryText(shared, 'jsonl')).valid).toBe(true);
    const absent = '{"process":0,"type":"invoke","f":"write","value":1}\n{"process":0,"type":"ok","f":"write","value":1}';
    expect(checkHistory(parseHistoryText(absent, 'jsonl')).valid).toBe(true);
  });
});

describe('process numbers', () => {
  test('beyond 2^53 are refused as inexact, not merged into one process', () => {
    // Both read as 9007199254740992: refused before as "process 9007199254740992 invokes write while its write from
    // line 1 is still outstanding", which blamed a well-formed history.
    const text = [
      '{"process":9007199254740992,"type":"invoke","f":"write","value":1}',
      '{"process":9007199254740993,"type":"invoke","f":"write","value":2}',
    ].join('\n');
    expect(() => parseHistoryText(text, 'jsonl')).toThrow(/^line 1: process 9007199254740992 cannot be read exactly/);
    expect(() => parseHistoryText('{:process 9007199254740993N, :type :invoke, :f :write, :value 1}', 'edn')).toThrow(
      /cannot be read exactly/,
    );
    expect(parseHistoryText('{"process":9007199254740991,"type":"invoke","f":"write","value":1}', 'jsonl')).toHaveLength(1);
  });
});

describe("the nemesis's f", () => {
  test('may be any value, an EDN map (which has no prototype) included', () => {
    // String() of an EDN map threw "Cannot convert object to primitive value": rift-check exited 255 on this.
    const edn = ['{:type :info, :process :nemesis, :f {}, :value nil}', '{:type :info, :process :nemesis, :f {:a [1]}, :value nil}'];
    expect(parseHistoryText(edn.join('\n'), 'edn').map((o) => o.f)).toEqual(['{}', '{"a":[1]}']);
    expect(parseHistoryText('{"type":"info","process":"nemesis","f":[1,{"b":null}],"value":null}', 'jsonl')[0]!.f).toBe('[1,{"b":null}]');
    expect(parseHistoryText('{"type":"info","process":"nemesis","f":7,"value":null}', 'jsonl')[0]!.f).toBe('7');
  });
});

describe("the nemesis's values", () => {
  test('may hold any number: they are not compared (a fresh seed of the history round-trip test found the check there)', () => {
    const text = '{"process":"nemesis","type":"info","f":"kill","value":{"at":9007199254740993,"far":1e400}}';
    expect(parseHistoryText(text, 'jsonl')).toHaveLength(1);
  });
});

describe('deeply nested input', () => {
  // The EDN reader and the models recurse: a line of 200,000 `[` ended the checker with "internal error: RangeError:
  // Maximum call stack size exceeded" (found by a probe, 2026-12-07). Now a clear error, in both formats.
  test('is refused with a clear error, not a stack overflow', () => {
    const deep = '['.repeat(200_000) + ']'.repeat(200_000);
    expect(() => parseHistoryText(`{:type :invoke, :f :write, :value ${deep}, :process 0}`, 'edn')).toThrow(/forms nested deeper than 64/);
    expect(() => parseHistoryText(`{"process":0,"type":"invoke","f":"write","value":${deep}}`, 'jsonl')).toThrow(
      /line 1: value nested deeper than 64/,
    );
    expect(() => parseEdn('#_'.repeat(100_000) + '1')).toThrow(/nested deeper than 64/);
    // Reasonable nesting still reads.
    const ten = '['.repeat(10) + '1' + ']'.repeat(10);
    expect(parseHistoryText(`{"process":0,"type":"invoke","f":"write","value":${ten}}`, 'jsonl')).toHaveLength(1);
    expect(parseHistoryText(`{:type :invoke, :f :write, :value ${ten}, :process 0}`, 'edn')).toHaveLength(1);
  });

  test('in any field, not only the value: a clear error, not a stack overflow in the message or the output', async () => {
    // An index nested 100,000 deep overflowed the stack while its error message was built (JSON.stringify); an error
    // field or a field of the op's own passed the reader and overflowed --json's output and the copy to worker threads
    // (found by test/checker/metamorphic.test.ts).
    const deep = '['.repeat(100_000) + '1' + ']'.repeat(100_000);
    for (const field of ['index', 'type', 'process', 'f', 'key', 'time', 'error', 'extra', '__proto__']) {
      const line = `{"process":0,"type":"invoke","f":"write","value":1,"${field}":${deep}}`;
      expect(() => parseHistoryText(line, 'jsonl'), field).toThrow(new RegExp(`^line 1: ${field} nested deeper than 64$`));
      await expect(checkFile(file(line)), field).rejects.toThrow(HistoryFormatError);
    }
    // The nemesis's fields too.
    expect(() => parseHistoryText(`{"process":"nemesis","type":"info","f":"kill","value":null,"error":${deep}}`, 'jsonl')).toThrow(
      /^line 1: error nested deeper than 64$/,
    );
    // Reasonable nesting in other fields still reads.
    const ten = '['.repeat(10) + '1' + ']'.repeat(10);
    expect(parseHistoryText(`{"process":0,"type":"invoke","f":"write","value":1,"error":${ten},"extra":${ten}}`, 'jsonl')).toHaveLength(1);
  });
});
