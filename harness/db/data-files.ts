/**
 * A node's data files on this machine (DbCluster.readDataFile and
 * writeDataFile when the Db keeps its data here; Dbs on other hosts copy them
 * through their Remote instead).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The file `name` of the data directory `dir`, or null when it does not exist. */
export async function readLocalDataFile(dir: string, name: string): Promise<Buffer | null> {
  try {
    return await readFile(join(dir, name));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

export async function writeLocalDataFile(dir: string, name: string, bytes: Buffer): Promise<void> {
  await writeFile(join(dir, name), bytes);
}
