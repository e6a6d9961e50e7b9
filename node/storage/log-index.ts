/**
 * The in-memory index of what the log file holds: the latest hard state and,
 * for every live entry, its term, the byte offset of its record and the
 * record's size. Replay builds it while reading the file, the writer keeps it
 * up to date, so a conflicting suffix (§5.3) is recorded with one small
 * `truncate` record and the live/garbage byte counts are known without
 * reading the file again (they decide compaction).
 *
 * The same rules judge a record on replay (a violation is corruption) and on
 * write (a violation is a programmer error): whatever the writer accepts,
 * replay accepts, so a node can always reopen its own file.
 */
import type { Entry, HardState } from '../raft/types.js';
import { assertNever } from '../util/assert.js';
import { FILE_MAGIC, type LogRecord } from './record.js';

export class LogIndex {
  hardState: HardState = { currentTerm: 0, votedFor: null };
  /** Size of the record holding the latest hard state (0 before the first). */
  hardStateRecordBytes = 0;
  /** terms[i] is the term of the entry at index i + 1. */
  readonly terms: number[] = [];
  readonly offsets: number[] = [];
  readonly recordBytes: number[] = [];
  /** Bytes of the header, the latest hard state record and every live entry record (frame headers count as garbage). */
  liveBytes: number = FILE_MAGIC.length;

  get lastIndex(): number {
    return this.terms.length;
  }

  /** Term of the entry at `index`; 0 for index 0 (the empty prefix). */
  termAt(index: number): number {
    return index === 0 ? 0 : (this.terms[index - 1] ?? 0);
  }

  /** Why `record` cannot follow the current state, or null when it can. */
  check(record: LogRecord): string | null {
    switch (record.type) {
      case 'hard_state':
        // Figure 2: currentTerm "increases monotonically".
        return record.hardState.currentTerm < this.hardState.currentTerm
          ? `currentTerm went down from ${this.hardState.currentTerm} to ${record.hardState.currentTerm}`
          : null;
      case 'truncate':
        return record.fromIndex < 1 || record.fromIndex > this.lastIndex + 1
          ? `truncate from index ${record.fromIndex} outside [1, ${this.lastIndex + 1}]`
          : null;
      case 'entry': {
        const { index, term } = record.entry;
        if (index !== this.lastIndex + 1) return `entry index ${index} does not follow last index ${this.lastIndex} (log must be contiguous from 1)`;
        const prevTerm = this.termAt(this.lastIndex);
        // Terms along a Raft log never decrease (a leader appends in its own term, which is >= every term it holds; §5.3 Log Matching).
        return term < prevTerm ? `entry ${index} has term ${term}, lower than the previous entry's term ${prevTerm}` : null;
      }
      default:
        return assertNever(record, 'record');
    }
  }

  /** Apply a record that passed `check`, stored at `offset` in `bytes` bytes. */
  apply(record: LogRecord, offset: number, bytes: number): void {
    switch (record.type) {
      case 'hard_state':
        this.liveBytes += bytes - this.hardStateRecordBytes;
        this.hardState = record.hardState;
        this.hardStateRecordBytes = bytes;
        return;
      case 'truncate': {
        const keep = record.fromIndex - 1;
        for (let i = keep; i < this.recordBytes.length; i++) this.liveBytes -= this.recordBytes[i]!;
        this.terms.length = keep;
        this.offsets.length = keep;
        this.recordBytes.length = keep;
        return;
      }
      case 'entry':
        this.terms.push(record.entry.term);
        this.offsets.push(offset);
        this.recordBytes.push(bytes);
        this.liveBytes += bytes;
        return;
      default:
        assertNever(record, 'record');
    }
  }

  /**
   * Why a persist call cannot be applied, or null. Checked before anything
   * is encoded or written, so a rejected call leaves file and index untouched.
   */
  checkPersist(hardState: HardState | null, entries: readonly Entry[]): string | null {
    if (hardState !== null) {
      const err = this.check({ type: 'hard_state', hardState });
      if (err !== null) return err;
    }
    const first = entries[0];
    if (first === undefined) return null;
    if (first.index < 1 || first.index > this.lastIndex + 1) return `first entry index ${first.index} outside [1, ${this.lastIndex + 1}]`;
    let prev = { index: first.index - 1, term: this.termAt(first.index - 1) };
    for (const e of entries) {
      if (e.index !== prev.index + 1) return `entries not contiguous: ${e.index} after ${prev.index}`;
      if (e.term < prev.term) return `entry ${e.index} has term ${e.term}, lower than entry ${prev.index}'s term ${prev.term}`;
      prev = e;
    }
    return null;
  }
}
