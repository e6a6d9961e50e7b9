// Reading a history for drawing, tolerantly: a run killed half-way leaves a
// truncated last line, and the page must still show what there is.
import { readFile } from 'node:fs/promises';
import { readHistoryFile, toHistoryOp } from '../checker/read.js';
import type { HistoryOp } from '../checker/types.js';

/** Reads a history file; a malformed line is skipped (and counted) instead of failing the whole report. */
export async function readHistoryLenient(path: string): Promise<{ ops: HistoryOp[]; skippedLines: number }> {
  try {
    return { ops: await readHistoryFile(path), skippedLines: 0 };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== undefined) throw e; // unreadable file: the caller decides
  }
  // JSON Lines with bad lines (e.g. the last line cut by a crash).
  const text = await readFile(path, 'utf8');
  const ops: HistoryOp[] = [];
  let skippedLines = 0;
  text.split(/\r?\n/).forEach((l, i) => {
    if (l.trim() === '') return;
    try {
      ops.push(toHistoryOp(JSON.parse(l), i + 1, ops.length));
    } catch {
      skippedLines++;
    }
  });
  return { ops, skippedLines };
}
