// The CLI: exit codes as Jepsen's (0 valid, 1 invalid, 2 unknown, 254 bad
// arguments/input, 255 internal), text and JSON output. Mostly in-process
// through `main`; a few spawn the compiled command, both as users run it (the
// bundle dist/checker/rift-check.js, scripts/build.mjs) and unbundled
// (dist/report/check-cli.js).
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, test } from 'vitest';
import { cliMain } from '../../checker/index.js';
import { writeReportForHistory } from '../../report/write.js';
import { hardCasRows, jsonl, type Row } from './helpers.js';

const ROOT = join(import.meta.dirname, '..', '..');
/** The compiled entries: `rift-check` / `npm run check` (one bundled module), and the same program unbundled. */
const ENTRIES = [
  ['bundle', join(ROOT, 'dist', 'checker', 'rift-check.js')],
  ['unbundled', join(ROOT, 'dist', 'report', 'check-cli.js')],
] as const;
const dir = mkdtempSync(join(tmpdir(), 'rift-cli-'));
const VALID = join(dir, 'valid.jsonl');
const INVALID = join(dir, 'invalid.jsonl');
const HARD = join(dir, 'hard.jsonl');
const MALFORMED = join(dir, 'malformed.jsonl');

beforeAll(() => {
  writeFileSync(
    VALID,
    jsonl([
      [0, 'invoke', 'write', 1],
      [0, 'ok', 'write', 1],
      [1, 'invoke', 'read', null],
      [1, 'ok', 'read', 1],
    ]),
  );
  writeFileSync(
    INVALID,
    jsonl([
      [0, 'invoke', 'write', 1],
      [0, 'ok', 'write', 1],
      [1, 'invoke', 'read', null],
      [1, 'ok', 'read', 2],
    ]),
  );
  writeFileSync(HARD, jsonl(hardCasRows()));
  writeFileSync(
    MALFORMED,
    jsonl([
      [0, 'invoke', 'write', 1],
      [0, 'invoke', 'write', 2],
    ]),
  );
  // Spawned tests need dist/ (the global setup builds it too; this keeps the file runnable alone).
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'ensure-built.mjs')], {
    cwd: ROOT,
    env: { ...process.env, RIFT_BUILD_LENIENT: '1' },
  });
});

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await cliMain(args, { out: (s) => (out += s), err: (s) => (err += s), writeHtml: writeReportForHistory });
  return { code, out, err };
}

describe('cli (in-process)', () => {
  test('valid → 0, text output', async () => {
    const r = await run([VALID]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('VALID: linearizable');
    expect(r.out).toMatch(/4 ops, 2 client ops, 1 key; search [\d.]+ ms/);
  });

  test('invalid → 1, JSON output with a counterexample', async () => {
    const r = await run([INVALID, '--json', '--model', 'cas-register']);
    expect(r.code).toBe(1);
    const j = JSON.parse(r.out) as { valid: unknown; keys: Record<string, { counterexample: { op: { description: string } } }> };
    expect(j.valid).toBe(false);
    expect(j.keys['']!.counterexample.op.description).toBe('read -> 2');
  });

  test('time limit → 2 (unknown)', async () => {
    const r = await run([HARD, '--time-limit', '0.2', '--json']);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.out)).toMatchObject({ valid: 'unknown', unknownReason: 'time_limit' });
  });

  test('bad arguments and input → 254', async () => {
    expect((await run([])).code).toBe(254);
    expect((await run([VALID, '--bogus'])).code).toBe(254);
    expect((await run([VALID, '--model', 'queue'])).err).toContain('--model must be cas-register or kv');
    expect((await run([VALID, '--time-limit', '-1'])).code).toBe(254);
    expect((await run([VALID, '--time-limit'])).code).toBe(254);
    expect((await run([VALID, VALID])).code).toBe(254);
    expect((await run([join(dir, 'nope.jsonl')])).code).toBe(254);
    const m = await run([MALFORMED]);
    expect(m.code).toBe(254);
    expect(m.err).toContain('line 2:');
  });

  test('--help → 0', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('usage:');
  });
});

describe.each(ENTRIES)('cli (spawned, %s)', (name, CLI) => {
  test('a reader that closes the pipe early (| head -1) gets no crash: the exit code is still the verdict', async () => {
    for (const [file, verdict] of [
      [INVALID, 1],
      [VALID, 0],
    ] as const) {
      const child = spawn(process.execPath, [CLI, file, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout.destroy(); // closed before the checker writes a byte: its writes fail with EPIPE
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
      expect(stderr, file).not.toMatch(/EPIPE|Error/);
      expect(code, `${file}: ${stderr}`).toBe(verdict);
    }
  });

  test('exit codes of the compiled CLI', async () => {
    const v = await execa(process.execPath, [CLI, VALID], { reject: false });
    expect(v.exitCode).toBe(0);
    const i = await execa(process.execPath, [CLI, INVALID], { reject: false });
    expect(i.exitCode).toBe(1);
    expect(i.stdout).toContain('cannot linearize: read -> 2');
    const u = await execa(process.execPath, [CLI, HARD, '--time-limit=0.2'], { reject: false });
    expect(u.exitCode).toBe(2);
    const b = await execa(process.execPath, [CLI, VALID, '--model'], { reject: false });
    expect(b.exitCode).toBe(254);
    expect(b.stderr).toContain('--model must be');
  });

  test('a big multi-key history is checked over worker threads', async () => {
    // 40 keys x 100 sequential write/read pairs, one key with a stale read.
    const rows: Row[] = [];
    for (let k = 0; k < 40; k++) {
      for (let i = 0; i < 50; i++) {
        const p = k % 8;
        rows.push([p, 'invoke', 'write', i, `k${k}`], [p, 'ok', 'write', i, `k${k}`]);
        const seen = k === 33 && i === 20 ? i - 1 : i;
        rows.push([p, 'invoke', 'read', null, `k${k}`], [p, 'ok', 'read', seen, `k${k}`]);
      }
    }
    const big = join(dir, 'big.jsonl');
    writeFileSync(big, jsonl(rows));
    const r = await execa(process.execPath, [CLI, big, '--json', '--all-keys', '--worker-min-ops', '100'], { reject: false });
    expect(r.exitCode).toBe(1);
    const j = JSON.parse(r.stdout) as { failures: string[]; keyCount: number; keys: Record<string, unknown>; workers: number };
    expect(j.workers).toBeGreaterThan(1);
    expect(j.failures).toEqual(['k33']);
    expect(j.keyCount).toBe(40);
    expect(Object.keys(j.keys)).toHaveLength(40);
    const same = await execa(process.execPath, [CLI, big, '--json', '--all-keys', '--no-workers'], { reject: false });
    expect(JSON.parse(same.stdout)).toMatchObject({ failures: ['k33'], keyCount: 40, workers: 0 });
  });

  test('the modules it loads on demand: --html (the report, beside its assets), --witness and --verify, --export edn', async () => {
    const { readFileSync } = await import('node:fs');
    const html = join(dir, `${name}.html`);
    const h = await execa(process.execPath, [CLI, INVALID, '--html', html], { reject: false });
    expect(h.exitCode, h.stderr).toBe(1);
    expect(readFileSync(html, 'utf8')).toContain('not linearizable');
    const cert = join(dir, `${name}-cert.json`);
    const w = await execa(process.execPath, [CLI, VALID, '--witness', cert], { reject: false });
    expect(w.exitCode, w.stderr).toBe(0);
    const v = await execa(process.execPath, [CLI, '--verify', cert], { reject: false });
    expect(v.exitCode, v.stderr).toBe(0);
    expect(v.stdout).toContain('CONFIRMED');
    const edn = join(dir, `${name}.edn`);
    const e = await execa(process.execPath, [CLI, VALID, '--export', 'edn', '--out', edn], { reject: false });
    expect(e.exitCode, e.stderr).toBe(0);
    expect(readFileSync(edn, 'utf8')).toContain(':type :invoke');
  });
});

describe('cli --html', () => {
  test('writes a self-contained report naming the failing key, and keeps the exit code', async () => {
    const out = join(dir, 'invalid.html');
    const { code } = await run([INVALID, '--html', out]);
    expect(code).toBe(1);
    const { readFileSync } = await import('node:fs');
    const html = readFileSync(out, 'utf8');
    expect(html.startsWith('<!doctype html>') || html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).toContain('not linearizable');
    expect(html).not.toMatch(/<script[^>]+src=/); // no external scripts: opens offline
  });

  test('--html without a path is a usage error (254)', async () => {
    expect((await run([VALID, '--html'])).code).toBe(254);
  });
});
