/** Temp run directories for tests, removed after the file's tests (kept when KEEP_RIFT_TEST_DIRS=1, for debugging). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

const dirs: string[] = [];

afterAll(() => {
  if (process.env['KEEP_RIFT_TEST_DIRS'] === '1') return;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}
