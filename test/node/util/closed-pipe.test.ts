// A reader that closes the pipe early (`npm run sim | head -1`) must not crash a CLI with an
// unhandled EPIPE: it finishes its run and exits with the code of its verdict (node/util/closed-pipe.ts).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';

const root = join(import.meta.dirname, '..', '..', '..');

async function runWithReaderGone(args: readonly string[]): Promise<{ code: number | null; stderr: string; sawOutput: boolean }> {
  const child = spawn(process.execPath, [...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let sawOutput = false;
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  // The first chunk arrives, then the reader goes away, as `| head -1` does: every later write fails with EPIPE.
  child.stdout.once('data', () => {
    sawOutput = true;
    child.stdout.destroy();
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  return { code, stderr, sawOutput };
}

describe('CLIs outlive a reader that closes the pipe', () => {
  test('rift-sim finishes its campaign and exits with its verdict', async () => {
    const { code, stderr, sawOutput } = await runWithReaderGone(['dist/sim/cli.js', '--runs', '4', '--seed', '7']);
    expect(sawOutput).toBe(true);
    expect(stderr).not.toMatch(/EPIPE|Unhandled/);
    expect(code, stderr).toBe(0);
  }, 120_000);

  test('the bench dispatcher: a bad option is one line and exit 254, not a stack trace', async () => {
    const { code, stderr } = await runWithReaderGone(['dist/bench/main.js', 'cluster', '--no-such-option']);
    expect(stderr).not.toMatch(/EPIPE|Unhandled|at /);
    expect(code).toBe(254);
  }, 60_000);
});
