import { existsSync, lstatSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createRunDir, gitCommit, replaceSymlink, runTimestamp, updateLatest, writeJsonAtomic } from '../../harness/store.js';
import { repoRoot } from '../support/build.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'rift-store-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('store', () => {
  it('timestamps sort and carry no colons', () => {
    expect(runTimestamp(new Date('2026-11-23T18:01:02.123Z'))).toBe('20261123T180102.123Z');
    const a = runTimestamp(new Date('2026-01-02T03:04:05.006Z'));
    const b = runTimestamp(new Date('2026-01-02T03:04:05.007Z'));
    expect(a < b).toBe(true);
  });

  it('creates <store>/<test-name>/<timestamp>/, a fresh one per run even at the same instant', () => {
    const store = tempDir();
    const when = new Date('2026-11-23T18:01:02.123Z');
    const a = createRunDir(store, 'rift-partition', when);
    const b = createRunDir(store, 'rift-partition', when);
    expect(a).toBe(join(store, 'rift-partition', '20261123T180102.123Z'));
    expect(b).toBe(join(store, 'rift-partition', '20261123T180102.123Z-2'));
    expect(existsSync(a) && existsSync(b)).toBe(true);
  });

  it('latest symlinks point at the newest run (relative links, replaced atomically)', () => {
    const store = tempDir();
    const a = createRunDir(store, 't', new Date('2026-01-01T00:00:00.000Z'));
    updateLatest(store, a);
    expect(lstatSync(join(store, 'latest')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(store, 'latest'))).toBe(join('t', '20260101T000000.000Z'));
    expect(realpathSync(join(store, 'latest'))).toBe(realpathSync(a));
    expect(realpathSync(join(store, 't', 'latest'))).toBe(realpathSync(a));
    const b = createRunDir(store, 't', new Date('2026-01-01T00:00:01.000Z'));
    updateLatest(store, b);
    expect(realpathSync(join(store, 'latest'))).toBe(realpathSync(b));
    expect(realpathSync(join(store, 't', 'latest'))).toBe(realpathSync(b));
    // No temp links left behind.
    expect(readdirSync(store).filter((n) => n.startsWith('.'))).toEqual([]);
  });

  it('replaceSymlink replaces a link pointing elsewhere', () => {
    const store = tempDir();
    const x = createRunDir(store, 'x', new Date(0));
    const y = createRunDir(store, 'y', new Date(0));
    replaceSymlink(join(store, 'latest'), x);
    replaceSymlink(join(store, 'latest'), y);
    expect(realpathSync(join(store, 'latest'))).toBe(realpathSync(y));
  });

  it('writeJsonAtomic writes complete JSON and leaves no temp file', () => {
    const dir = tempDir();
    const path = join(dir, 'results.json');
    writeFileSync(path, 'old');
    writeJsonAtomic(path, { valid: true, keys: { k0: 1 } });
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ valid: true, keys: { k0: 1 } });
    expect(readdirSync(dir)).toEqual(['results.json']);
  });

  it('gitCommit gives the repository HEAD, or null outside a repository', () => {
    const head = gitCommit(repoRoot);
    if (head !== null) expect(head).toMatch(/^[0-9a-f]{40}$/);
    expect(gitCommit(tempDir())).toBeNull();
    expect(gitCommit(join(tempDir(), 'missing'))).toBeNull();
  });
});
