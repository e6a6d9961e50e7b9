/**
 * Diagnostic reader for the harness and tests: the frames (one per persist
 * call) of a log file with their offsets and records, and a torn tail if
 * there is one, without changing the file. It checks framing and checksums (throws StorageCorruptionError like
 * recovery does) but not the log's invariants; `openFileStorage` checks those.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { scanLog, type LocatedFrame, type TornTail } from './replay.js';

export interface LogFileContents {
  readonly file: string;
  readonly fileBytes: number;
  readonly frames: readonly LocatedFrame[];
  readonly tornTail: TornTail | null;
}

export async function readLogFile(file: string): Promise<LogFileContents> {
  const abs = path.resolve(file);
  const buf = await readFile(abs);
  const scan = scanLog(buf, abs);
  return { file: abs, fileBytes: buf.length, frames: scan.frames, tornTail: scan.tornTail };
}
