/**
 * The store (Jepsen's store/): every run gets <store>/<test-name>/<timestamp>/,
 * and <store>/latest and <store>/<test-name>/latest point at the newest run.
 * JSON files are written atomically (temp file, fsync, rename) so a crash
 * never leaves half a results.json behind.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, symlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';

/** 2026-11-23T18:01:02.123Z → 20261123T180102.123Z (sortable, no colons). */
export function runTimestamp(d: Date): string {
  return d.toISOString().replace(/-/g, '').replace(/:/g, '');
}

/** Creates a fresh <store>/<testName>/<timestamp>/ (suffixed -2, -3... if taken); returns its absolute path. */
export function createRunDir(store: string, testName: string, startedAt: Date): string {
  const parent = resolve(store, testName);
  mkdirSync(parent, { recursive: true });
  const stamp = runTimestamp(startedAt);
  for (let n = 1; n < 1000; n++) {
    const dir = join(parent, n === 1 ? stamp : `${stamp}-${n}`);
    try {
      mkdirSync(dir); // not recursive: fails if it exists, so two runs never share a directory
      return dir;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  throw new Error(`cannot create a run directory under ${parent}: 999 runs with timestamp ${stamp}`);
}

/** Points `linkPath` at `target` (a relative symlink), replacing any old link atomically: symlink to a temp name, then rename. */
export function replaceSymlink(linkPath: string, target: string): void {
  const tmp = join(dirname(linkPath), `.${basename(linkPath)}.${process.pid}.${Date.now()}.tmp`);
  rmSync(tmp, { force: true });
  symlinkSync(relative(dirname(linkPath), target) || '.', tmp);
  try {
    renameSync(tmp, linkPath);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/** <store>/latest and <store>/<test-name>/latest → runDir. */
export function updateLatest(store: string, runDir: string): void {
  const storeAbs = resolve(store);
  replaceSymlink(join(storeAbs, 'latest'), runDir);
  replaceSymlink(join(dirname(runDir), 'latest'), runDir);
}

export function writeFileAtomic(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n');
}

/** `git rev-parse HEAD` in `cwd`, or null when git or the repository is not there. */
export function gitCommit(cwd: string): string | null {
  if (!existsSync(cwd)) return null;
  try {
    const out = execFileSync('git', ['rev-parse', 'HEAD'], { cwd, stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 })
      .toString()
      .trim();
    return /^[0-9a-f]{40,64}$/.test(out) ? out : null;
  } catch {
    return null;
  }
}

/** True when the working tree has uncommitted changes (null: unknown). A run from a dirty tree is not reproducible from the commit alone. */
export function gitDirty(cwd: string): boolean | null {
  try {
    const out = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      cwd,
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 5000,
    }).toString();
    return out.trim().length > 0;
  } catch {
    return null;
  }
}
