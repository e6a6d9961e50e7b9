// Every history of the reference corpus gets the verdict its MANIFEST.tsv
// states (Porcupine's and Knossos' own test verdicts, re-verified under this
// format's semantics; see shared/corpus/*/README/NOTES).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { checkFile } from '../../checker/index.js';
import { corpusDir } from '../support/corpus.js';

const CORPUS = corpusDir();

interface Row {
  dir: string;
  file: string;
  model: string;
  expected: boolean;
  ops: number;
}

function manifest(dir: string): Row[] {
  const lines = readFileSync(join(CORPUS, dir, 'MANIFEST.tsv'), 'utf8')
    .split('\n')
    .filter((l) => l.trim().length > 0);
  return lines.slice(1).map((l) => {
    const [file, model, expected, ops] = l.split('\t');
    if (expected !== 'linearizable' && expected !== 'not-linearizable') throw new Error(`bad manifest row ${l}`);
    return { dir, file: file!, model: model!, expected: expected === 'linearizable', ops: Number(ops) };
  });
}

for (const dir of ['porcupine', 'knossos']) {
  const rows = manifest(dir);
  describe(`corpus/${dir}`, () => {
    test('manifest is not empty', () => {
      expect(rows.length).toBeGreaterThan(100);
    });
    test.each(rows)('$file is $expected ($model)', async (row) => {
      const r = await checkFile(join(CORPUS, row.dir, row.file), { model: row.model as 'cas-register' | 'kv', timeLimitMs: 30_000 });
      expect(r.valid).toBe(row.expected);
      expect(r.clientOpCount).toBe(row.ops);
      expect(r.model).toBe(row.model);
      if (!row.expected) {
        const ce = r.keys[r.failures[0]!]!.counterexample;
        expect(ce).toBeDefined();
        expect(ce!.candidates.length).toBeGreaterThan(0);
      }
    });
  });
}
