/**
 * Suites that spawn real processes run compiled JavaScript (dist/), never
 * tsx (0.6 s per process start). vitest's global setup
 * (test/support/global-setup.ts) builds once per run; this check makes a
 * suite fail with a clear message rather than spawn a stale or missing file.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const repoRoot = join(import.meta.dirname, '..', '..');

export function ensureBuilt(): void {
  const entry = join(repoRoot, 'dist', 'node', 'main.js');
  if (!existsSync(entry)) throw new Error(`${entry} is missing: run \`node scripts/build.mjs\` (vitest's global setup should have)`);
}
