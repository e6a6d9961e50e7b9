/**
 * Whether this process can mount a tmpfs (root on Linux): the tests that need
 * a real full disk skip without it. `at`: an existing directory to try the
 * mount on (default: a fresh temporary one, removed after).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function canMountTmpfs(at?: string): boolean {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return false;
  const dir = at ?? mkdtempSync(join(tmpdir(), 'rift-tmpfs-probe-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir], { stdio: 'ignore' });
    execFileSync('umount', [dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  } finally {
    if (at === undefined) rmSync(dir, { recursive: true, force: true });
  }
}
