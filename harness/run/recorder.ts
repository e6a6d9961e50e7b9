/**
 * Where everything that happens during the run is recorded: the history
 * file (history.jsonl + history.txt) and the op counters. The clients, the
 * nemesis and the wire monitor all record here; the history itself exists
 * only while the workload scope is open (its time zero is the workload's
 * start), and entries before or after that are not part of the test.
 */
import { join } from 'node:path';
import { HISTORY_JSONL, HISTORY_TXT, HistoryWriter, type HistoryEntry, type HistoryLine } from '../history.js';
import type { OpStats, Phase } from '../progress.js';

export class HistoryRecorder {
  private writer: HistoryWriter | null = null;
  private phaseOf: () => Phase = () => 'healed';
  private written = 0;
  /** The history's time zero on process.hrtime.bigint(), once opened. */
  private originNs: bigint | null = null;

  constructor(private readonly stats: OpStats) {}

  /**
   * Starts the history in `dir` now (its time zero). `phaseOf` says which
   * phase a client op invoked now belongs to (availability per phase).
   */
  open(dir: string, phaseOf: () => Phase): void {
    if (this.writer !== null) throw new Error('the history is already open');
    this.originNs = process.hrtime.bigint();
    this.writer = new HistoryWriter(dir, this.originNs);
    this.phaseOf = phaseOf;
  }

  /** Records one entry; returns the line as written (its index and time), or null when the history is not open. */
  record(entry: HistoryEntry): HistoryLine | null {
    if (this.writer === null) return null;
    const line = this.writer.append(entry);
    this.written = this.writer.count;
    this.stats.onEntry(entry, this.phaseOf());
    return line;
  }

  /**
   * Milliseconds since the history's time zero (the clock its `time` field
   * uses, in ms): what observers outside the history (the cluster watch) stamp
   * their own records with, so they line up with the ops. 0 before it opens.
   */
  nowMs(): number {
    return this.originNs === null ? 0 : Number(process.hrtime.bigint() - this.originNs) / 1e6;
  }

  /** fsyncs and closes the history; later entries are dropped. Idempotent. */
  close(): void {
    const w = this.writer;
    this.writer = null;
    w?.close();
  }

  /** Lines written so far. */
  get lines(): number {
    return this.written;
  }
}

/** The history files of a run directory. */
export function historyPaths(runDir: string): { jsonl: string; txt: string } {
  return { jsonl: join(runDir, HISTORY_JSONL), txt: join(runDir, HISTORY_TXT) };
}
