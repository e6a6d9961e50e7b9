import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkFile, checkHistory } from '../../../checker/check.js';
import type { HistoryOp } from '../../../checker/types.js';
import { checkResultOf } from '../../../harness/results/run-files.js';
import { writeReport } from '../../../harness/results/run-report.js';
import { writeReportForHistory } from '../../../report/write.js';
import { embeddedData } from '../../report/page-data.js';
import { corpusDir } from '../../support/corpus.js';

const root = mkdtempSync(join(tmpdir(), 'rift-report-write-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function jsonl(ops: Omit<HistoryOp, 'index'>[]): string {
  return ops.map((o, index) => JSON.stringify({ index, ...o })).join('\n') + '\n';
}

const BAD: Omit<HistoryOp, 'index'>[] = [
  { process: 0, type: 'invoke', f: 'write', key: 7, value: 1, time: 0 },
  { process: 0, type: 'ok', f: 'write', key: 7, value: 1, time: 1e6 },
  { process: 1, type: 'invoke', f: 'read', key: 7, value: null, time: 2e6 },
  { process: 1, type: 'ok', f: 'read', key: 7, value: 2, time: 3e6 },
];

function runDir(name: string, files: Record<string, string>): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  for (const [f, text] of Object.entries(files)) writeFileSync(join(dir, f), text);
  return dir;
}

describe('writeReport', () => {
  it('uses the check result in results.json', async () => {
    const hist = BAD.map((o, index) => ({ index, ...o }));
    const check = checkHistory(hist);
    const dir = runDir('with-results', {
      'history.jsonl': jsonl(BAD),
      'results.json': JSON.stringify({ check, other: 1 }),
      'test.json': JSON.stringify({ name: 'reg', startTime: '2025-01-02T03:04:05Z', options: { nemesis: 'none' } }),
    });
    const r = await writeReport(dir);
    expect(r.checkSource).toBe('results.json');
    expect(r.skippedLines).toBe(0);
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    expect(html).toContain('<h1>reg · 2025-01-02T03:04:05Z</h1>');
    expect(html).toContain('class="verdict invalid"');
    expect(html).toContain('<div class="cx" data-key="7">');
    expect(embeddedData(html).op.s).toHaveLength(2);
  });

  it('runs the checker when results.json is missing, and survives a corrupt test.json and a cut last line', async () => {
    const dir = runDir('no-results', {
      'history.jsonl': jsonl(BAD) + '{"index":4,"process":0,"type":"inv',
      'test.json': '{"name": ',
    });
    const r = await writeReport(dir);
    expect(r.checkSource).toBe('rechecked');
    expect(r.skippedLines).toBe(1);
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    expect(html).toContain('class="verdict invalid"');
    expect(html).toContain('<h1>no-results</h1>');
    expect(html).toMatch(/<th>reportSkippedHistoryLines<\/th><td>1<\/td>/);
  });

  it('renders "not checked" when the checker rejects the history', async () => {
    const dir = runDir('unknown-f', { 'history.jsonl': jsonl([{ process: 0, type: 'invoke', f: 'frob', value: 1, time: 0 }]) });
    const r = await writeReport(dir);
    expect(r.checkSource).toBe('none');
    expect(readFileSync(join(dir, 'report.html'), 'utf8')).toContain('class="verdict unchecked"');
  });

  it('throws when there is no history', async () => {
    const dir = runDir('empty', { 'test.json': '{}' });
    await expect(writeReport(dir)).rejects.toThrow(/ENOENT/);
    expect(existsSync(join(dir, 'report.html'))).toBe(false);
  });
});

describe('checkResultOf', () => {
  it('finds the result under check, checker, or at the top, and rejects other shapes', () => {
    const c = { valid: true, model: 'kv', keys: {}, failures: [] };
    expect(checkResultOf({ check: c })?.valid).toBe(true);
    expect(checkResultOf({ checker: { ...c, valid: 'unknown' } })?.valid).toBe('unknown');
    expect(checkResultOf(c)?.keyCount).toBe(0);
    expect(checkResultOf({ valid: true })).toBeNull();
    expect(checkResultOf(null)).toBeNull();
  });
});

describe('writeReportForHistory', () => {
  const corpus = join(corpusDir(), 'knossos', 'data_cas-register_bad_cas-failure.jsonl');
  it.skipIf(!existsSync(corpus))('renders a Jepsen history from the corpus with its nemesis intervals and counterexample', async () => {
    const check = await checkFile(corpus);
    expect(check.valid).toBe(false);
    const out = join(root, 'jepsen.html');
    await writeReportForHistory(corpus, check, out);
    const html = readFileSync(out, 'utf8');
    expect(html).toContain('class="verdict invalid"');
    expect(html).toContain('id="counterexample"');
    const d = embeddedData(html);
    expect(d.timeUnit).toBe('index'); // Knossos histories carry no times
    expect(d.faults.length).toBeGreaterThan(0);
    expect(d.faults.every((f) => f.kind === 'fault')).toBe(true);
    expect(d.failing).toHaveLength(1);
  });
});
