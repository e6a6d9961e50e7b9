// What a run stores beside results.json (checker/run-artifacts.ts, called by
// harness/run.ts): history.edn in Jepsen's form and certificate.json, which
// `npm run check -- --verify` confirms from the run directory.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { checkFile, cliMain } from '../../checker/index.js';
import { writeCheckArtifacts } from '../../checker/run-artifacts.js';
import { jsonl } from './helpers.js';

describe('run artifacts', () => {
  test('history.edn and a certificate the verifier confirms', async () => {
    const runDir = mkdtempSync(join(tmpdir(), 'rift-run-'));
    const history = join(runDir, 'history.jsonl');
    writeFileSync(
      history,
      jsonl([
        ['nemesis', 'invoke', 'start-partition', 'majority'],
        [0, 'invoke', 'write', 1, 'k1'],
        [0, 'ok', 'write', 1, 'k1'],
        ['nemesis', 'info', 'start-partition', 'majority'],
        [1, 'invoke', 'read', null, 'k1'],
        [1, 'ok', 'read', 1, 'k1'],
        [0, 'invoke', 'write', 2, 'k2'],
        [0, 'ok', 'write', 2, 'k2'],
        [0, 'invoke', 'write', 3, 'k2'],
        [0, 'ok', 'write', 3, 'k2'],
        [1, 'invoke', 'read', null, 'k2'],
        [1, 'ok', 'read', 2, 'k2'],
      ]),
    );
    const result = await checkFile(history, { model: 'cas-register', allKeys: true, witness: true });
    expect(result.valid).toBe(false);
    const logs: string[] = [];
    const written = await writeCheckArtifacts(runDir, history, result, 'cas-register', (s) => logs.push(s));
    expect(logs).toEqual([]);
    expect(written).toEqual([join(runDir, 'history.edn'), join(runDir, 'certificate.json')]);
    const edn = readFileSync(join(runDir, 'history.edn'), 'utf8').split('\n');
    expect(edn[0]).toBe('{:index 0, :type :info, :process :nemesis, :f :start-partition, :value "majority"}');
    expect(edn[1]).toBe('{:index 1, :type :invoke, :process 0, :f :write, :value ["k1" 1]}');
    let out = '';
    const code = await cliMain(['--verify', join(runDir, 'certificate.json')], { out: (s) => (out += s), err: (s) => (out += s) });
    expect(out).toContain('2 of 2 key verdict(s) confirmed');
    expect(code).toBe(0);
  });

  test('without a check result only history.edn is written; a failure is logged, not thrown', async () => {
    const runDir = mkdtempSync(join(tmpdir(), 'rift-run-'));
    const history = join(runDir, 'history.jsonl');
    writeFileSync(history, jsonl([[0, 'invoke', 'write', 1]]));
    expect(await writeCheckArtifacts(runDir, history, null, 'cas-register', () => undefined)).toEqual([join(runDir, 'history.edn')]);
    expect(existsSync(join(runDir, 'certificate.json'))).toBe(false);
    const logs: string[] = [];
    expect(await writeCheckArtifacts(runDir, join(runDir, 'missing.jsonl'), null, 'cas-register', (s) => logs.push(s))).toEqual([]);
    expect(logs[0]).toContain('writing history.edn failed');
  });
});
