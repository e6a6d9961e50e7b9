// Builds dist/ once before any suite runs (skipped when it is up to date).
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

export default function setup(): void {
  const root = join(import.meta.dirname, '..', '..');
  execFileSync(process.execPath, [join(root, 'scripts', 'ensure-built.mjs')], {
    stdio: 'inherit',
    cwd: root,
    env: { ...process.env, RIFT_BUILD_LENIENT: '1' },
  });
}
