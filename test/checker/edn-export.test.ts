// `--export edn`: histories in the form Jepsen's store writes history.edn
// (keywords, nemesis ops :info/:info with :process :nemesis, keys as
// jepsen.independent [k v] tuples, the absent register value as
// :rift/absent so Knossos's cas-register cannot treat it as a wildcard), and
// reading them back gives the same verdict, on every corpus file.
import { readFileSync } from 'node:fs';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { checkFile, checkHistory, cliMain, parseHistoryText, type HistoryOp } from '../../checker/index.js';
import { historyToEdn } from '../../checker/edn-export.js';
import { corpusDir } from '../support/corpus.js';
import { hist, jsonl, type Row } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'rift-edn-'));

describe('EDN export', () => {
  test('lines are Jepsen op maps: keywords, nemesis :info/:info, [k v] tuples, :rift/absent', () => {
    const ops: HistoryOp[] = [
      { index: 0, time: 10, process: 'nemesis', type: 'invoke', f: 'start-partition', value: 'majority' },
      { index: 1, time: 20, process: 0, type: 'invoke', f: 'read', key: 'k1', value: null },
      { index: 2, time: 30, process: 'nemesis', type: 'info', f: 'start-partition', value: ['isolated', { n1: ['n2'] }] },
      { index: 3, time: 40, process: 0, type: 'ok', f: 'read', key: 'k1', value: null },
      { index: 4, time: 50, process: 1, type: 'invoke', f: 'cas', key: 7, value: [null, 3] },
      { index: 5, time: 60, process: 1, type: 'info', f: 'cas', key: 7, value: [null, 3], error: 'timeout' },
    ];
    expect(historyToEdn(ops, { model: 'cas-register' }).split('\n')).toEqual([
      '{:index 0, :time 10, :type :info, :process :nemesis, :f :start-partition, :value "majority"}',
      '{:index 1, :time 20, :type :invoke, :process 0, :f :read, :value ["k1" nil]}',
      '{:index 2, :time 30, :type :info, :process :nemesis, :f :start-partition, :value ["isolated" {"n1" ["n2"]}]}',
      '{:index 3, :time 40, :type :ok, :process 0, :f :read, :value ["k1" :rift/absent]}',
      '{:index 4, :time 50, :type :invoke, :process 1, :f :cas, :value [7 [:rift/absent 3]]}',
      '{:index 5, :time 60, :type :info, :process 1, :f :cas, :value [7 [:rift/absent 3]], :error "timeout"}',
      '',
    ]);
  });

  test('a stale "absent" read stays invalid through EDN (nil would be a wildcard in Knossos)', () => {
    const rows = hist([
      [0, 'invoke', 'write', 1],
      [0, 'ok', 'write', 1],
      [1, 'invoke', 'read', null],
      [1, 'ok', 'read', null],
    ]);
    const edn = historyToEdn(rows, { model: 'cas-register' });
    expect(edn).toContain(':type :ok, :process 1, :f :read, :value :rift/absent}');
    expect(checkHistory(parseHistoryText(edn, 'edn')).valid).toBe(false);
  });

  test('kv: a get of absent is written as "" (the kv model starts at "")', () => {
    const edn = historyToEdn(
      hist([
        [0, 'invoke', 'get', null],
        [0, 'ok', 'get', null],
      ]),
      { model: 'kv' },
    );
    expect(edn).toBe('{:index 0, :type :invoke, :process 0, :f :get, :value nil}\n{:index 1, :type :ok, :process 0, :f :get, :value ""}\n');
  });

  test('lone surrogates are written as \\u escapes: distinct values stay distinct in the exported file', async () => {
    // JSON may escape a lone surrogate ("\ud800"); written raw to a UTF-8 file it became U+FFFD, so the write of one
    // and the stale read of another compared equal and this invalid history was VALID once exported.
    const file = join(dir, 'surrogates.jsonl');
    writeFileSync(
      file,
      jsonl([
        [0, 'invoke', 'write', '\ud800', 'k\udfff'],
        [0, 'ok', 'write', '\ud800', 'k\udfff'],
        [0, 'invoke', 'read', null, 'k\udfff'],
        [0, 'ok', 'read', '\udc00', 'k\udfff'],
      ]),
    );
    const ednPath = join(dir, 'surrogates.edn');
    expect(await cliMain([file, '--export', 'edn', '--out', ednPath], { out: () => undefined, err: () => undefined })).toBe(0);
    const text = readFileSync(ednPath, 'utf8');
    expect(text).toContain(':value ["k\\udfff" "\\ud800"]}');
    expect(text).toContain(':value ["k\\udfff" "\\udc00"]}');
    expect((await checkFile(file)).valid).toBe(false);
    expect((await checkFile(ednPath)).valid).toBe(false);
    // A surrogate pair is one character and stays as it is.
    expect(historyToEdn(hist([[0, 'invoke', 'write', '\ud83d\ude00']]), { model: 'cas-register' })).toContain(':value "\ud83d\ude00"}');
  });

  test('without keys, values that could be taken for [key value] tuples are written as tuples of the key ""', () => {
    // Plain, `cas [1, [null, 2]]` read back as key 1's `cas [null, 2]`: this invalid history (the register holds null,
    // not 1) was VALID once exported.
    const rows = hist([
      [0, 'invoke', 'cas', [1, [null, 2]]],
      [0, 'ok', 'cas', [1, [null, 2]]],
    ]);
    expect(checkHistory(rows).valid).toBe(false);
    const edn = historyToEdn(rows, { model: 'cas-register' });
    expect(edn).toContain(':value ["" [1 [:rift/absent 2]]]}');
    const back = parseHistoryText(edn, 'edn');
    expect(back.map((o) => [o.key, o.value])).toEqual([
      ['', [1, [null, 2]]],
      ['', [1, [null, 2]]],
    ]);
    expect(checkHistory(back).valid).toBe(false);
    // With a read (whose invoke carries nil) nothing is ambiguous: values stay plain.
    const withRead = hist([
      ...rows.map((o) => [o.process, o.type, o.f, o.value] as Row),
      [1, 'invoke', 'read', null],
      [1, 'ok', 'read', [3, 4]],
    ]);
    expect(historyToEdn(withRead, { model: 'cas-register' })).toContain(':value [1 [:rift/absent 2]]}');
    expect(checkHistory(parseHistoryText(historyToEdn(withRead, { model: 'cas-register' }), 'edn')).valid).toBe(false);
  });

  test("a completion without a key gets its invoke's key in the tuple", () => {
    // It was written as the key "", and the exported file was refused: completion key "" does not match the invoke's.
    const rows = hist([
      [0, 'invoke', 'write', 1, 'x'],
      [0, 'ok', 'write', 1],
      [1, 'invoke', 'read', null, 'x'],
      [1, 'ok', 'read', 2],
    ]);
    expect(checkHistory(rows).valid).toBe(false);
    const edn = historyToEdn(rows, { model: 'cas-register' });
    expect(edn.split('\n')[1]).toBe('{:index 1, :type :ok, :process 0, :f :write, :value ["x" 1]}');
    const back = parseHistoryText(edn, 'edn');
    expect(back.map((o) => o.key)).toEqual(['x', 'x', 'x', 'x']);
    expect(checkHistory(back).valid).toBe(false);
  });

  test('round trip JSONL → EDN → check gives the same verdict on every corpus file', async () => {
    const corpus = corpusDir();
    let files = 0;
    for (const sub of ['porcupine', 'knossos']) {
      const rows = readFileSync(join(corpus, sub, 'MANIFEST.tsv'), 'utf8')
        .split('\n')
        .slice(1)
        .filter((l) => l.trim() !== '');
      for (const row of rows) {
        const [file, model] = row.split('\t') as [string, 'cas-register' | 'kv'];
        const path = join(corpus, sub, file);
        const direct = await checkFile(path, { model, minimizeMs: 0 });
        const ednPath = join(dir, file.replace(/\.jsonl$/, '.edn'));
        const code = await cliMain([path, '--export', 'edn', '--out', ednPath, '--model', model], {
          out: () => undefined,
          err: () => undefined,
        });
        expect(code).toBe(0);
        const back = await checkFile(ednPath, { model, minimizeMs: 0 });
        expect(back.valid, file).toBe(direct.valid);
        expect(back.clientOpCount, file).toBe(direct.clientOpCount);
        expect(back.keyCount, file).toBe(direct.keyCount);
        files++;
      }
    }
    expect(files).toBe(228);
  }, 120_000);
});

describe('EDN independent-tuple detection (issue 15 item 8)', () => {
  test('a plain cas-only history is not mistaken for [key value] tuples', () => {
    const edn = [
      '{:process 0, :type :invoke, :f :cas, :value [nil 1]}',
      '{:process 0, :type :ok, :f :cas, :value [nil 1]}',
      '{:process 1, :type :invoke, :f :cas, :value [1 2]}',
      '{:process 1, :type :ok, :f :cas, :value [1 2]}',
    ].join('\n');
    const ops = parseHistoryText(edn, 'edn');
    expect(ops.every((o) => o.key === undefined)).toBe(true);
    expect(ops[2]!.value).toEqual([1, 2]);
    expect(checkHistory(ops).valid).toBe(true);
  });

  test('independent cas ops ([k [a b]]) and reads ([k nil]) are still tuples', () => {
    const cas = parseHistoryText(
      '{:process 0, :type :invoke, :f :cas, :value [5 [nil 1]]}\n{:process 0, :type :ok, :f :cas, :value [5 [nil 1]]}',
      'edn',
    );
    expect(cas.map((o) => [o.key, o.value])).toEqual([
      [5, [null, 1]],
      [5, [null, 1]],
    ]);
    const reads = parseHistoryText(
      '{:process 0, :type :invoke, :f :read, :value [5 nil]}\n{:process 0, :type :ok, :f :read, :value [5 3]}',
      'edn',
    );
    expect(reads.map((o) => [o.key, o.value])).toEqual([
      [5, null],
      [5, 3],
    ]);
  });

  test('an exported file with nemesis ops and info completions reads back', async () => {
    const file = join(dir, 'n.jsonl');
    writeFileSync(
      file,
      jsonl([
        ['nemesis', 'invoke', 'kill', null],
        [0, 'invoke', 'write', 1, 'x'],
        ['nemesis', 'info', 'kill', 'n1'],
        [0, 'info', 'write', 1, 'x'],
        [1, 'invoke', 'read', null, 'x'],
        [1, 'ok', 'read', 1, 'x'],
      ]),
    );
    let edn = '';
    expect(await cliMain([file, '--export', 'edn'], { out: (s) => (edn += s), err: () => undefined })).toBe(0);
    expect(edn.split('\n')[0]).toBe('{:index 0, :type :info, :process :nemesis, :f :kill, :value nil}');
    const back = parseHistoryText(edn, 'edn');
    expect(checkHistory(back).valid).toBe(true);
    expect(back.filter((o) => o.key === 'x')).toHaveLength(4);
  });
});
