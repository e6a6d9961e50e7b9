/**
 * Diagnostic reader for the harness and tests: the frames (one per persist
 * call) of a log file with their offsets and records, and a torn tail if
 * there is one, without changing the file. It checks framing and checksums (throws StorageCorruptionError like
 * recovery does) but not the log's invariants; `openFileStorage` checks those.
 */
import path from 'node:path';
import { nodeFs } from './node-fs.js';
import { scanLog, type LocatedFrame, type TornTail } from './replay.js';
import type { StorageFs } from './storage-fs.js';

export interface LogFileContents {
  readonly file: string;
  readonly fileBytes: number;
  readonly frames: readonly LocatedFrame[];
  readonly tornTail: TornTail | null;
}

/** `fs`: where to read it (default the real file system; the simulator passes its disk model). */
export async function readLogFile(file: string, fs: StorageFs = nodeFs): Promise<LogFileContents> {
  const abs = path.resolve(file);
  const buf = await fs.readFile(abs);
  const scan = scanLog(buf, abs, { sectorBytes: fs.sectorBytes });
  return { file: abs, fileBytes: buf.length, frames: scan.frames, tornTail: scan.tornTail };
}
