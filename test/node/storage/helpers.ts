// Shared helpers for the storage tests: temp directories and small builders.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Entry } from '../../../node/raft/types.js';

const dirs: string[] = [];

/** A fresh directory under os.tmpdir(); removed by cleanupTempDirs(). */
export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rift-storage-test-'));
  dirs.push(dir);
  return dir;
}

export async function cleanupTempDirs(): Promise<void> {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
}

export function entry(index: number, term: number, data = `cmd-${index}-${term}`, type: Entry['type'] = 'command'): Entry {
  return { index, term, type, data };
}

export function entries(from: number, count: number, term: number, prefix = 'x'): Entry[] {
  return Array.from({ length: count }, (_, i) => entry(from + i, term, `${prefix}-${from + i}-${term}`));
}
