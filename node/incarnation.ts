/**
 * The node's incarnation: a number that grows on every start and never
 * repeats, stamped on every peer datagram (node/transport/peer-replay.ts).
 * Peers refuse datagrams from an earlier incarnation, so a datagram captured
 * before a restart cannot be replayed after it, while the restarted node's
 * fresh counters (which start again at 1) are accepted.
 *
 * It is kept in `<dataDir>/<id>/incarnation`, written atomically (temporary
 * file, fsync, rename, fsync of the directory) before the node sends
 * anything. The next incarnation is max(stored + 1, now in ms): the stored
 * value makes it grow even if the clock went back; the clock makes it grow
 * even if the file was lost with the rest of the data directory (a node
 * whose incarnation went back would be refused by every peer that heard a
 * later one, until those peers restarted).
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export const INCARNATION_FILE = 'incarnation';

export class IncarnationError extends Error {
  override readonly name = 'IncarnationError';
}

/** Reads the stored incarnation (null: none yet). Throws IncarnationError if the file holds anything but one. */
export function readIncarnation(dir: string): number | null {
  let text: string;
  try {
    text = readFileSync(join(dir, INCARNATION_FILE), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new IncarnationError(`cannot read ${join(dir, INCARNATION_FILE)}: ${(error as Error).message}`);
  }
  const value = /^\d{1,16}\n?$/.test(text) ? Number(text.trim()) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new IncarnationError(`${join(dir, INCARNATION_FILE)} holds ${JSON.stringify(text.slice(0, 40))}, not an incarnation number`);
  }
  return value;
}

/**
 * Picks, persists (fsynced) and returns the next incarnation for the node whose directory is `dir`.
 * Throws IncarnationError when the stored one is unreadable or not a number; a failed write throws a
 * plain Error whose `cause` is the file system's (a full or read-only disk: nothing stored is damaged).
 */
export function nextIncarnation(dir: string, nowMs: number): number {
  const stored = readIncarnation(dir);
  const next = Math.max((stored ?? 0) + 1, Math.floor(nowMs));
  const path = join(dir, INCARNATION_FILE);
  const tmp = `${path}.tmp`;
  try {
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, `${next}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
    const dirFd = openSync(dir, 'r');
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
  } catch (error) {
    // The disk refused (ENOSPC, EROFS, EIO): nothing stored is damaged, so not an IncarnationError (that one means
    // "replace the node"). The cause keeps the errno code for the binary (NODE_EXIT.diskFailed).
    throw new Error(`cannot persist the incarnation in ${path}: ${(error as Error).message}`, { cause: error });
  }
  return next;
}
