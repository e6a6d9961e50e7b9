/**
 * The history writer: every client op and every nemesis action is appended
 * the moment it happens (invoke line when invoked, completion line when it
 * completes), so the file is in real-time order (the only order a checker may
 * rely on) and a crash or Ctrl-C still leaves a usable history behind.
 *
 * Two files, both append-only:
 * - history.jsonl: one JSON object per line in the corpus format
 *   (shared/corpus/README.md): index, time (ns since the test began),
 *   process, type, f, key, value, error.
 * - history.txt: Jepsen's tab-separated rendering (jepsen/print.clj op->str):
 *   process, type, f, key, value, error; values as JSON.
 */
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export type HistoryType = 'invoke' | 'ok' | 'fail' | 'info';

export interface HistoryEntry {
  readonly process: number | string;
  readonly type: HistoryType;
  readonly f: string;
  /** Absent for ops that are not about a key (nemesis actions). */
  readonly key?: string;
  readonly value: unknown;
  readonly error?: string;
}

export interface HistoryLine extends HistoryEntry {
  /** 0-based position in the history = line number - 1. */
  readonly index: number;
  /** Nanoseconds since the test began. */
  readonly time: number;
}

export const HISTORY_JSONL = 'history.jsonl';
export const HISTORY_TXT = 'history.txt';

/** One history line as JSON, fields in the corpus order. */
export function formatJsonLine(line: HistoryLine): string {
  const out: Record<string, unknown> = { index: line.index, time: line.time, process: line.process, type: line.type, f: line.f };
  if (line.key !== undefined) out.key = line.key;
  out.value = line.value === undefined ? null : line.value;
  if (line.error !== undefined) out.error = line.error;
  return JSON.stringify(out);
}

function txtField(value: unknown): string {
  // Tabs and newlines inside a field would break the columns.
  const s = typeof value === 'string' ? value : JSON.stringify(value === undefined ? null : value);
  return s.replace(/[\t\n\r]/g, ' ');
}

/** Jepsen's history.txt columns: process, type, f, key, value, [error]. */
export function formatTxtLine(line: HistoryEntry): string {
  const cols = [String(line.process), line.type, line.f, line.key ?? '', txtField(line.value)];
  if (line.error !== undefined) cols.push(txtField(line.error));
  return cols.join('\t');
}

export class HistoryWriter {
  private readonly jsonlFd: number;
  private readonly txtFd: number;
  private next = 0;
  private closed = false;
  readonly jsonlPath: string;
  readonly txtPath: string;

  /**
   * Creates (truncates) history.jsonl and history.txt in `dir`. `originNs` is
   * the test's time zero on the process.hrtime.bigint() clock.
   */
  constructor(
    dir: string,
    private readonly originNs: bigint,
    private readonly clockNs: () => bigint = () => process.hrtime.bigint(),
  ) {
    this.jsonlPath = join(dir, HISTORY_JSONL);
    this.txtPath = join(dir, HISTORY_TXT);
    this.jsonlFd = openSync(this.jsonlPath, 'w');
    this.txtFd = openSync(this.txtPath, 'w');
  }

  /** Lines written so far. */
  get count(): number {
    return this.next;
  }

  /** Appends one op now; returns the line as written (with index and time). */
  append(entry: HistoryEntry): HistoryLine {
    if (this.closed) throw new Error(`history ${this.jsonlPath} is closed; cannot append ${entry.type} ${entry.f}`);
    const time = Number(this.clockNs() - this.originNs);
    const line: HistoryLine = { ...entry, index: this.next, time: Math.max(0, time) };
    this.next++;
    // Synchronous appends: the line is in the file (page cache) before the
    // next op can happen, so the file order is the real-time order.
    writeSync(this.jsonlFd, formatJsonLine(line) + '\n');
    writeSync(this.txtFd, formatTxtLine(line) + '\n');
    return line;
  }

  /** fsyncs and closes both files. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const fd of [this.jsonlFd, this.txtFd]) {
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    }
  }
}
