/**
 * The in-memory Raft log (Figure 2 `log[]`): entries firstIndex..lastIndex,
 * contiguous, with non-decreasing terms. Everything before firstIndex was
 * compacted into a snapshot (§7); the log remembers the index and term of
 * the entry just before its first one (`prevIndex`, `prevTerm`: Figure 13's
 * lastIncludedIndex/Term when the log starts right after the snapshot), so
 * an AppendEntries at that position can still be checked. Without
 * compaction prevIndex is 0 with term 0: the empty prefix, which always
 * matches (§5.3).
 *
 * The driver persists what `RaftNode.ready().entriesToAppend` hands it.
 */
import { assertionFailed } from '../util/assert.js';
import type { Entry } from './types.js';

/**
 * Fixed per-entry allowance for the fields around the data (term, index,
 * type, length). The binary wire form needs 21 bytes (`raft-binary.ts`), the
 * JSON form about 40 plus escapes; the transport checks the real size anyway.
 */
export const ENTRY_OVERHEAD_BYTES = 64;

/** Exact UTF-8 byte length of a JS string, without TextEncoder (pure, no allocation). */
export function utf8ByteLength(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4; // a surrogate pair encodes one 4-byte code point
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

/** Upper estimate of an entry's encoded size: used for maxAppendBytes and maxUncommittedBytes. */
export function entrySizeBytes(entry: Entry): number {
  // An upper bound for the binary form peers use; the transport's own
  // datagram check stays the last word.
  return utf8ByteLength(entry.data) + ENTRY_OVERHEAD_BYTES;
}

/** §5.4.1: is a log ending at (lastLogIndex, lastLogTerm) at least as up to date as (ourIndex, ourTerm)? */
export function isAtLeastAsUpToDate(lastLogIndex: number, lastLogTerm: number, ourIndex: number, ourTerm: number): boolean {
  return lastLogTerm > ourTerm || (lastLogTerm === ourTerm && lastLogIndex >= ourIndex);
}

export class RaftLog {
  private entries: Entry[] = [];
  /** Index of the entry just before the first one held (0: nothing compacted). */
  private prevIndex: number;
  /** Term of the entry at prevIndex (0 for index 0): always known. */
  private prevTerm: number;

  constructor(initial: readonly Entry[], prevIndex = 0, prevTerm = 0) {
    if (!(Number.isSafeInteger(prevIndex) && prevIndex >= 0))
      assertionFailed(`log prevIndex must be a non-negative integer, got ${prevIndex}`);
    if (!(Number.isSafeInteger(prevTerm) && prevTerm >= 0)) assertionFailed(`log prevTerm must be a non-negative integer, got ${prevTerm}`);
    if ((prevIndex === 0) !== (prevTerm === 0)) assertionFailed(`log prev position ${prevIndex}@${prevTerm}: only index 0 has term 0`);
    this.prevIndex = prevIndex;
    this.prevTerm = prevTerm;
    this.append(initial);
  }

  /** The first index held (prevIndex + 1; the next index to be appended when the log is empty). */
  firstIndex(): number {
    return this.prevIndex + 1;
  }

  /** The index just before the first one held: everything up to it is compacted (its term is still known). */
  compactedIndex(): number {
    return this.prevIndex;
  }

  lastIndex(): number {
    return this.prevIndex + this.entries.length;
  }

  lastTerm(): number {
    return this.entries[this.entries.length - 1]?.term ?? this.prevTerm;
  }

  /** Term of the entry at `index`; 0 for index 0; null when compacted away (below prevIndex) or beyond the log. */
  term(index: number): number | null {
    if (index === this.prevIndex) return this.prevTerm;
    if (index < this.prevIndex || index > this.lastIndex()) return null;
    return this.at(index).term;
  }

  /** Whether `index` lies in the compacted prefix, where no term is known any more. */
  isCompacted(index: number): boolean {
    return index < this.prevIndex;
  }

  at(index: number): Entry {
    const entry = this.entries[index - this.prevIndex - 1];
    if (entry === undefined) assertionFailed(`log has no entry at index ${index} (log ${this.firstIndex()}..${this.lastIndex()})`);
    return entry;
  }

  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term;
  }

  /** Entries with indices in [from, to], both inclusive (a fresh array). */
  slice(from: number, to: number): Entry[] {
    if (!(from >= this.firstIndex() && to <= this.lastIndex()))
      assertionFailed(`slice [${from}, ${to}] outside log ${this.firstIndex()}..${this.lastIndex()}`);
    if (from > to) return [];
    return this.entries.slice(from - this.prevIndex - 1, to - this.prevIndex);
  }

  /**
   * Entries from `from` on whose estimated sizes add up to at most `maxBytes`,
   * but always at least one entry when there is one: a single entry always
   * fits a datagram because the node bounds value sizes.
   */
  sliceBytes(from: number, maxBytes: number): Entry[] {
    const out: Entry[] = [];
    let bytes = 0;
    for (let index = from; index <= this.lastIndex(); index++) {
      const entry = this.at(index);
      const size = entrySizeBytes(entry);
      if (out.length > 0 && bytes + size > maxBytes) break;
      out.push(entry);
      bytes += size;
    }
    return out;
  }

  /** The entries held, firstIndex..lastIndex (read-only view for tests, the simulator's invariants and status). */
  all(): readonly Entry[] {
    return this.entries;
  }

  /**
   * §5.3: the index of the first entry in `incoming` that is missing from our
   * log or conflicts with it (same index, different term); 0 when every
   * incoming entry is already present. Matching entries are never conflicts,
   * and neither are compacted ones: only committed entries are compacted,
   * and every later leader holds them (Leader Completeness, §5.4).
   */
  findConflict(incoming: readonly Entry[]): number {
    for (const entry of incoming) {
      if (entry.index <= this.prevIndex) continue;
      if (!this.matchTerm(entry.index, entry.term)) return entry.index;
    }
    return 0;
  }

  /**
   * Fast backtracking hint: the first index held with the same term as the
   * entry at `index` (at least firstIndex; `index` itself at the compaction
   * point, where nothing before is held).
   */
  firstIndexOfTermAt(index: number): number {
    if (index <= this.prevIndex) return index;
    const term = this.at(index).term;
    // Terms are non-decreasing: binary search for the first index in firstIndex..index with this term.
    let lo = this.firstIndex();
    let hi = index;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.at(mid).term < term) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The last index whose entry has exactly `term` (prevIndex when only it has), or null. Binary search. */
  lastIndexOfTerm(term: number): number | null {
    let lo = this.firstIndex();
    let hi = this.lastIndex();
    let found = 0; // largest index with entry.term <= term
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.at(mid).term <= term) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (found > 0 && this.at(found).term === term) return found;
    return found === 0 && this.prevTerm === term && this.prevIndex > 0 ? this.prevIndex : null;
  }

  /** Append entries that continue the log exactly (index lastIndex+1, lastIndex+2, ...). */
  append(incoming: readonly Entry[]): void {
    for (const entry of incoming) {
      if (entry.index !== this.lastIndex() + 1)
        assertionFailed(`log append not contiguous: entry ${entry.index} after ${this.lastIndex()}`);
      if (entry.term < this.lastTerm())
        assertionFailed(`log terms must not decrease: term ${entry.term} after ${this.lastTerm()} at index ${entry.index}`);
      if (entry.term < 1) assertionFailed(`entry term must be >= 1, got ${entry.term}`);
      this.entries.push(entry);
    }
  }

  /** §5.3: delete the entry at `incoming[0].index` and all that follow it, then append. */
  truncateAndAppend(incoming: readonly Entry[]): void {
    const first = incoming[0];
    if (first === undefined) return;
    if (!(first.index >= this.firstIndex() && first.index <= this.lastIndex() + 1)) {
      assertionFailed(`truncate point ${first.index} outside ${this.firstIndex()}..${this.lastIndex() + 1}`);
    }
    this.entries.length = first.index - this.prevIndex - 1;
    this.append(incoming);
  }

  /** Drop every entry up to and including `index` (a durable snapshot covers them, §7); the log then starts at index + 1. */
  compact(index: number): void {
    if (index <= this.prevIndex) return;
    if (index > this.lastIndex()) assertionFailed(`compact to ${index} beyond lastIndex ${this.lastIndex()}`);
    const term = this.at(index).term;
    this.entries = this.entries.slice(index - this.prevIndex);
    this.prevIndex = index;
    this.prevTerm = term;
  }

  /**
   * §7 InstallSnapshot, step 7: discard the entire log; it now starts right
   * after the snapshot at (index, term). `keep` (only under an unsafe flag)
   * are entries to hold on to after it.
   */
  reset(index: number, term: number, keep: readonly Entry[] = []): void {
    if (!(index >= 1 && term >= 1)) assertionFailed(`log reset to ${index}@${term}: a snapshot position has index and term >= 1`);
    this.entries = [];
    this.prevIndex = index;
    this.prevTerm = term;
    this.append(keep);
  }
}
