/**
 * The run's log: each line stamped with the seconds since the run started,
 * shown on the terminal (above the status line) and, once the run directory
 * exists, appended to its harness.log. The summary is its last line.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import type { Progress } from '../progress.js';

export class RunLog {
  private fd: number | null = null;

  constructor(
    private readonly progress: Progress,
    private readonly originMs: number,
  ) {}

  /** Appends every line from now on to `path` (harness.log) too. */
  openFile(path: string): void {
    this.fd = openSync(path, 'a');
  }

  line(text: string): void {
    const stamped = `${((performance.now() - this.originMs) / 1000).toFixed(3).padStart(8)}s ${text}`;
    if (this.fd !== null) {
      try {
        writeSync(this.fd, stamped + '\n');
      } catch {
        // the log is best effort; the history is what matters
      }
    }
    this.progress.log(stamped);
  }

  /** Writes `text` unstamped to the file only (the summary, which the terminal gets on its own). */
  appendToFile(text: string): void {
    if (this.fd !== null) writeSync(this.fd, text + '\n');
  }

  close(): void {
    if (this.fd === null) return;
    const fd = this.fd;
    this.fd = null;
    closeSync(fd);
  }
}
