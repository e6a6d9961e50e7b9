// `--max-cache-mb` bounds the checking process's resident memory (RSS, as
// the OS counts it), not an estimate: a search that would grow past it stops
// with `unknown` (memory_limit), and the process's peak RSS stays within
// 20% of the cap. Run in a child process so the peak is the check's own.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { hardCasRows, jsonl } from './helpers.js';

const ROOT = join(import.meta.dirname, '..', '..');

describe('memory bound', () => {
  test('peak RSS stays within 20% of --max-cache-mb on a history that would grow without bound', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rift-mem-'));
    const file = join(dir, 'hard.jsonl');
    writeFileSync(file, jsonl(hardCasRows()));
    execFileSync(process.execPath, [join(ROOT, 'scripts', 'ensure-built.mjs')], {
      cwd: ROOT,
      env: { ...process.env, RIFT_BUILD_LENIENT: '1' },
    });
    const capMiB = 120;
    // The child runs the compiled checker and reports its verdict and its own peak RSS.
    const child = `
      const { checkFile } = await import(${JSON.stringify(join(ROOT, 'dist', 'checker', 'index.js'))});
      const r = await checkFile(${JSON.stringify(file)}, { maxCacheBytes: ${capMiB} * 1024 * 1024, maxCacheEntries: 1e9, timeLimitMs: 120000, minimizeMs: 0 });
      process.stdout.write(JSON.stringify({ valid: r.valid, reason: r.unknownReason, peakKiB: process.resourceUsage().maxRSS }));
    `;
    const out = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', child], { encoding: 'utf8' })) as {
      valid: unknown;
      reason: unknown;
      peakKiB: number;
    };
    expect(out.valid).toBe('unknown');
    expect(out.reason).toBe('memory_limit');
    expect(out.peakKiB / 1024).toBeLessThanOrEqual(capMiB * 1.2);
    console.log(`cap ${capMiB} MiB: peak RSS ${(out.peakKiB / 1024).toFixed(0)} MiB`);
  }, 180_000);
});
