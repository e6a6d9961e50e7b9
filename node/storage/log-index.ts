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
  /** Size of the latest compact record (0 without one). */
  compactRecordBytes = 0;
  /** The first index the log can hold: entries before it are covered by a snapshot (a `compact` record); 1 without one. */
  firstIndex = 1;
  /** Term of the entry at firstIndex - 1 (the last one compacted away); 0 without compaction. */
  prevTerm = 0;
  /** terms[i] is the term of the entry at index firstIndex + i. */
  readonly terms: number[] = [];
  readonly offsets: number[] = [];
  readonly recordBytes: number[] = [];
  /** Bytes of the header, the latest hard state record and every live entry record (frame headers count as garbage). */
  liveBytes: number = FILE_MAGIC.length;

  get lastIndex(): number {
    return this.firstIndex - 1 + this.terms.length;
  }

  /** Term of the entry at `index`; 0 for index 0 (the empty prefix) and for indices the log does not hold. */
  termAt(index: number): number {
    if (index === this.firstIndex - 1) return this.prevTerm;
    return index < this.firstIndex ? 0 : (this.terms[index - this.firstIndex] ?? 0);
  }

  /**
   * Whether a `compact` record at (firstIndex, prevTerm) keeps the entries
   * from firstIndex on: the log holds the entry at firstIndex - 1 with
   * that term (Log Matching, §5.3, then makes everything before it equal to
   * what the snapshot covers). Otherwise the whole log goes.
   */
  compactKeepsSuffix(firstIndex: number, prevTerm: number): boolean {
    return firstIndex - 1 <= this.lastIndex && this.termAt(firstIndex - 1) === prevTerm;
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
        // A snapshot's entries are committed: nothing at or before the compaction point is ever truncated.
        return record.fromIndex < this.firstIndex || record.fromIndex > this.lastIndex + 1
          ? `truncate from index ${record.fromIndex} outside [${this.firstIndex}, ${this.lastIndex + 1}]`
          : null;
      case 'compact':
        // Snapshots only move forward (a follower ignores an InstallSnapshot older than its own, §7).
        if (record.firstIndex < 2) return `compact to index ${record.firstIndex}: a snapshot covers at least entry 1`;
        return record.firstIndex < this.firstIndex
          ? `compact to index ${record.firstIndex} below the log's first index ${this.firstIndex}`
          : null;
      case 'entry': {
        const { index, term } = record.entry;
        if (index !== this.lastIndex + 1)
          return `entry index ${index} does not follow last index ${this.lastIndex} (log must be contiguous from ${this.firstIndex})`;
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
        const keep = record.fromIndex - this.firstIndex;
        for (let i = keep; i < this.recordBytes.length; i++) this.liveBytes -= this.recordBytes[i]!;
        this.terms.length = keep;
        this.offsets.length = keep;
        this.recordBytes.length = keep;
        return;
      }
      case 'compact': {
        const drop = this.compactKeepsSuffix(record.firstIndex, record.prevTerm) ? record.firstIndex - this.firstIndex : this.terms.length;
        for (let i = 0; i < drop; i++) this.liveBytes -= this.recordBytes[i]!;
        this.terms.splice(0, drop);
        this.offsets.splice(0, drop);
        this.recordBytes.splice(0, drop);
        // The latest compact record is live (it says where the log starts); an earlier one is garbage.
        this.liveBytes += bytes - this.compactRecordBytes;
        this.compactRecordBytes = bytes;
        this.firstIndex = record.firstIndex;
        this.prevTerm = record.prevTerm;
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
   * After a rewrite moved the file's records (file-storage.ts): frame
   * offsets before `cut` (the records the rewrite copied) become
   * `moved(index)`, later ones (appended verbatim after the copy) shift by
   * `delta`.
   */
  relocate(cut: number, moved: (index: number) => number, delta: number): void {
    for (let i = 0; i < this.offsets.length; i++) {
      const offset = this.offsets[i]!;
      this.offsets[i] = offset < cut ? moved(this.firstIndex + i) : offset + delta;
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
    if (first.index < this.firstIndex || first.index > this.lastIndex + 1)
      return `first entry index ${first.index} outside [${this.firstIndex}, ${this.lastIndex + 1}]`;
    let prev = { index: first.index - 1, term: this.termAt(first.index - 1) };
    for (const e of entries) {
      if (e.index !== prev.index + 1) return `entries not contiguous: ${e.index} after ${prev.index}`;
      if (e.term < prev.term) return `entry ${e.index} has term ${e.term}, lower than entry ${prev.index}'s term ${prev.term}`;
      prev = e;
    }
    return null;
  }
}
