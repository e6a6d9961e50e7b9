/**
 * The page-cache crash model (node/storage/page-cache-fs.ts): written data
 * stays in the process until its fsync, so SIGKILL of a real process loses
 * exactly the unsynced writes; a correct node (fsync before the answer)
 * loses nothing acknowledged under it.
 */
import { spawn } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { Cluster } from '../../../harness/cluster.js';
import { RiftClient } from '../../../node/client.js';
import { nodeFs, pageCacheFs } from '../../../node/storage/index.js';
import { ensureBuilt } from '../../support/build.js';
import { cleanupTempDirs, tempDir } from './helpers.js';

afterAll(cleanupTempDirs);

const repo = path.resolve(import.meta.dirname, '..', '..', '..');

describe('pageCacheFs (in process)', () => {
  it('keeps writes in memory until datasync, shows them to reads, and hands them to the kernel in order', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'f');
    const fs = pageCacheFs(nodeFs);
    const f = await fs.open(file, 'create');
    expect(f.writeSync(Buffer.from('hello '), 0, 6, 0)).toBe(6);
    expect(await f.write(Buffer.from('world'), 0, 5, 6)).toBe(5);
    f.writeSync(Buffer.from('W'), 0, 1, 6); // an overwrite: order matters
    expect((await stat(file)).size).toBe(0);
    expect((await fs.readFile(file)).toString()).toBe('hello World');
    expect(f.datasync()).toBeNull(); // the real fdatasync, synchronous
    expect((await readFile(file)).toString()).toBe('hello World');
    await f.close();
  });

  it('a clean close hands cached data to the kernel; past maxDirtyBytes it is written back unsynced', async () => {
    const dir = await tempDir();
    const fs = pageCacheFs(nodeFs, { maxDirtyBytes: 10 });
    const a = await fs.open(path.join(dir, 'a'), 'create');
    a.writeSync(Buffer.from('12345'), 0, 5, 0);
    expect((await stat(path.join(dir, 'a'))).size).toBe(0);
    a.writeSync(Buffer.from('6789012'), 0, 7, 5); // 12 bytes cached > 10
    expect((await readFile(path.join(dir, 'a'))).toString()).toBe('123456789012');
    const b = await fs.open(path.join(dir, 'b'), 'create');
    b.writeSync(Buffer.from('xyz'), 0, 3, 0);
    expect((await stat(path.join(dir, 'b'))).size).toBe(0);
    await b.close();
    expect((await readFile(path.join(dir, 'b'))).toString()).toBe('xyz');
    await a.close();
  });
});

/**
 * A child process writes `synced` + fsync, then `unsynced` without, through
 * the page cache or not, reports ready over IPC and waits to be killed.
 */
async function killAfterWrites(file: string, withPageCache: boolean): Promise<string> {
  const storage = pathToFileURL(path.join(repo, 'dist', 'node', 'storage', 'index.js')).href;
  const script = `
    const { nodeFs, pageCacheFs } = await import(${JSON.stringify(storage)});
    const fs = ${withPageCache ? 'pageCacheFs(nodeFs)' : 'nodeFs'};
    const f = await fs.open(${JSON.stringify(file)}, 'create');
    f.writeSync(Buffer.from('synced;'), 0, 7, 0);
    await f.datasync();
    f.writeSync(Buffer.from('unsynced'), 0, 8, 7);
    process.send('ready');
    setInterval(() => {}, 1000);
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the child did not report ready within 20 s')), 20_000);
      child.once('message', () => {
        clearTimeout(timer);
        resolve();
      });
      child.once('exit', (code) => reject(new Error(`the child exited early (code ${code})`)));
    });
  } finally {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }
  return (await readFile(file)).toString();
}

describe('pageCacheFs in a real process', () => {
  it('SIGKILL loses the unsynced write under the page cache, and only it; without it the kernel keeps both', async () => {
    ensureBuilt();
    const dir = await tempDir();
    expect(await killAfterWrites(path.join(dir, 'with'), true)).toBe('synced;');
    expect(await killAfterWrites(path.join(dir, 'without'), false)).toBe('synced;unsynced');
  }, 60_000);
});

describe('a real node with --page-cache-crash-model', () => {
  it('keeps every acknowledged write across SIGKILL (it fsyncs before it answers)', async () => {
    ensureBuilt();
    const runDir = await tempDir();
    const cluster = await Cluster.start({
      nodeCount: 1,
      runDir,
      nodeFlags: [],
      net: 'direct',
      seed: 5,
      pageCacheCrashModel: true,
      handleSignals: false,
    });
    try {
      expect(await cluster.waitForLeader(15_000)).toBe('n1');
      const client = new RiftClient({ config: cluster.config, clientId: `pc-${process.pid}`, timeoutMs: 5000, seed: 1 });
      try {
        for (let i = 0; i < 20; i++) expect((await client.put(`k${i}`, `v${i}`)).type).toBe('ok');
      } finally {
        client.close();
      }
      await cluster.kill('n1');
      await cluster.restart('n1');
      expect(await cluster.waitForLeader(15_000)).toBe('n1');
      const reader = new RiftClient({ config: cluster.config, clientId: `pc-r-${process.pid}`, timeoutMs: 5000, seed: 2 });
      try {
        for (let i = 0; i < 20; i++) expect(await reader.get(`k${i}`)).toEqual({ type: 'ok', value: `v${i}` });
      } finally {
        reader.close();
      }
      const log = await readFile(path.join(runDir, 'nodes', 'n1.log'), 'utf8');
      expect(log).toMatch(/page-cache crash model: unsynced writes die with the process/);
    } finally {
      await cluster.stop();
    }
  }, 90_000);
});
