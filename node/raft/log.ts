/**
 * The in-memory Raft log (Figure 2 `log[]`): entries 1..lastIndex, contiguous,
 * with non-decreasing terms. Index 0 is the empty prefix with term 0, so
 * `prevLogIndex = 0` always matches (§5.3).
 *
 * The whole durable log is kept in memory (there are no snapshots yet); the
 * driver persists what `RaftNode.ready().entriesToAppend` hands it.
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
  private readonly entries: Entry[] = [];

  constructor(initial: readonly Entry[]) {
    this.append(initial);
  }

  lastIndex(): number {
    return this.entries.length;
  }

  lastTerm(): number {
    return this.entries[this.entries.length - 1]?.term ?? 0;
  }

  /** Term of the entry at `index`; 0 for index 0; null when the log is shorter. */
  term(index: number): number | null {
    if (index === 0) return 0;
    if (index < 0 || index > this.entries.length) return null;
    return this.at(index).term;
  }

  at(index: number): Entry {
    const entry = this.entries[index - 1];
    if (entry === undefined) assertionFailed(`log has no entry at index ${index} (lastIndex ${this.entries.length})`);
    return entry;
  }

  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term;
  }

  /** Entries with indices in [from, to], both inclusive (a fresh array). */
  slice(from: number, to: number): Entry[] {
    if (!(from >= 1 && to <= this.entries.length)) assertionFailed(`slice [${from}, ${to}] outside log 1..${this.entries.length}`);
    if (from > to) return [];
    return this.entries.slice(from - 1, to);
  }

  /**
   * Entries from `from` on whose estimated sizes add up to at most `maxBytes`,
   * but always at least one entry when there is one: a single entry always
   * fits a datagram because the node bounds value sizes.
   */
  sliceBytes(from: number, maxBytes: number): Entry[] {
    const out: Entry[] = [];
    let bytes = 0;
    for (let index = from; index <= this.entries.length; index++) {
      const entry = this.at(index);
      const size = entrySizeBytes(entry);
      if (out.length > 0 && bytes + size > maxBytes) break;
      out.push(entry);
      bytes += size;
    }
    return out;
  }

  /** All entries (read-only view for tests, the simulator's invariants and status). */
  all(): readonly Entry[] {
    return this.entries;
  }

  /**
   * §5.3: the index of the first entry in `incoming` that is missing from our
   * log or conflicts with it (same index, different term); 0 when every
   * incoming entry is already present. Matching entries are never conflicts.
   */
  findConflict(incoming: readonly Entry[]): number {
    for (const entry of incoming) {
      if (!this.matchTerm(entry.index, entry.term)) return entry.index;
    }
    return 0;
  }

  /** Fast backtracking hint: the first index holding the same term as the entry at `index`. */
  firstIndexOfTermAt(index: number): number {
    const term = this.at(index).term;
    // Terms are non-decreasing: binary search for the first index in 1..index with this term.
    let lo = 1;
    let hi = index;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.at(mid).term < term) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The last index whose entry has exactly `term`, or null. Terms are non-decreasing, so binary search. */
  lastIndexOfTerm(term: number): number | null {
    let lo = 1;
    let hi = this.entries.length;
    let found = 0; // largest index with entry.term <= term
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.at(mid).term <= term) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found > 0 && this.at(found).term === term ? found : null;
  }

  /** Append entries that continue the log exactly (index lastIndex+1, lastIndex+2, ...). */
  append(incoming: readonly Entry[]): void {
    for (const entry of incoming) {
      if (entry.index !== this.entries.length + 1) assertionFailed(`log append not contiguous: entry ${entry.index} after ${this.entries.length}`);
      if (entry.term < this.lastTerm()) assertionFailed(`log terms must not decrease: term ${entry.term} after ${this.lastTerm()} at index ${entry.index}`);
      if (entry.term < 1) assertionFailed(`entry term must be >= 1, got ${entry.term}`);
      this.entries.push(entry);
    }
  }

  /** §5.3: delete the entry at `incoming[0].index` and all that follow it, then append. */
  truncateAndAppend(incoming: readonly Entry[]): void {
    const first = incoming[0];
    if (first === undefined) return;
    if (!(first.index >= 1 && first.index <= this.entries.length + 1)) assertionFailed(`truncate point ${first.index} outside 1..${this.entries.length + 1}`);
    this.entries.length = first.index - 1;
    this.append(incoming);
  }
}
