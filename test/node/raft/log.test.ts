import { describe, expect, it } from 'vitest';
import { fc, test } from '@fast-check/vitest';
import { AssertionError } from '../../../node/util/assert.js';
import { ENTRY_OVERHEAD_BYTES, RaftLog, entrySizeBytes, isAtLeastAsUpToDate, utf8ByteLength } from '../../../node/raft/log.js';
import { entriesOfTerms } from './network.js';

describe('RaftLog', () => {
  const log = new RaftLog(entriesOfTerms([1, 1, 2, 2, 2, 5]));

  it('answers term queries, with index 0 as the empty prefix (§5.3)', () => {
    expect([0, 1, 3, 6, 7].map((i) => log.term(i))).toEqual([0, 1, 2, 5, null]);
    expect(log.lastIndex()).toBe(6);
    expect(log.lastTerm()).toBe(5);
    expect(log.matchTerm(0, 0)).toBe(true);
    expect(log.matchTerm(3, 1)).toBe(false);
  });

  it('finds the first index of a term and the last index of a term (fast backtracking)', () => {
    expect([1, 2, 3, 5, 6].map((i) => log.firstIndexOfTermAt(i))).toEqual([1, 1, 3, 3, 6]);
    expect([1, 2, 3, 4, 5].map((t) => log.lastIndexOfTerm(t))).toEqual([2, 5, null, null, 6]);
  });

  it('findConflict: 0 when all present, else the first missing or conflicting index', () => {
    const [e1, e2, e3] = entriesOfTerms([1, 1, 2]);
    expect(log.findConflict([e1!, e2!, e3!])).toBe(0);
    expect(log.findConflict([{ ...e3!, term: 3 }])).toBe(3);
    expect(log.findConflict([{ term: 5, index: 7, type: 'command', data: '' }])).toBe(7);
  });

  it('refuses non-contiguous appends and decreasing terms', () => {
    const l = new RaftLog(entriesOfTerms([1, 2]));
    expect(() => l.append([{ term: 2, index: 4, type: 'command', data: '' }])).toThrow(AssertionError);
    expect(() => l.append([{ term: 1, index: 3, type: 'command', data: '' }])).toThrow(AssertionError);
  });

  it('sliceBytes bounds the batch but always returns at least one entry', () => {
    const l = new RaftLog(entriesOfTerms([1, 1, 1]));
    expect(l.sliceBytes(1, 1).length).toBe(1);
    expect(l.sliceBytes(1, 10_000).length).toBe(3);
    expect(l.sliceBytes(4, 10_000)).toEqual([]);
  });

  it('§5.4.1 up-to-date comparison: later last term wins, then longer log', () => {
    expect(isAtLeastAsUpToDate(1, 3, 9, 2)).toBe(true);
    expect(isAtLeastAsUpToDate(9, 2, 1, 3)).toBe(false);
    expect(isAtLeastAsUpToDate(5, 2, 5, 2)).toBe(true);
    expect(isAtLeastAsUpToDate(4, 2, 5, 2)).toBe(false);
  });
});

describe('entry size', () => {
  test.prop([fc.string({ unit: 'grapheme', maxLength: 200 })])('utf8ByteLength equals the UTF-8 encoding length', (text) => {
    expect(utf8ByteLength(text)).toBe(Buffer.byteLength(text, 'utf8'));
  });

  it('counts lone surrogates as 3 bytes (as the encoder replaces them)', () => {
    expect(utf8ByteLength('\ud800')).toBe(Buffer.byteLength('\ud800', 'utf8'));
    expect(entrySizeBytes({ term: 1, index: 1, type: 'command', data: 'héllo' })).toBe(6 + ENTRY_OVERHEAD_BYTES);
  });
});

describe('RaftLog after compaction (§7)', () => {
  const compacted = (): RaftLog => {
    const l = new RaftLog(entriesOfTerms([1, 1, 2, 2, 2, 5]));
    l.compact(3);
    return l;
  };

  it('keeps the term of its compaction point and nothing below it', () => {
    const l = compacted();
    expect([l.firstIndex(), l.compactedIndex(), l.lastIndex(), l.lastTerm()]).toEqual([4, 3, 6, 5]);
    expect([0, 2, 3, 4, 6, 7].map((i) => l.term(i))).toEqual([null, null, 2, 2, 5, null]);
    expect([2, 3, 4].map((i) => l.isCompacted(i))).toEqual([true, false, false]);
    expect(l.all().map((e) => e.index)).toEqual([4, 5, 6]);
    expect(() => l.at(3)).toThrow(AssertionError);
    expect(() => l.slice(3, 4)).toThrow(AssertionError);
  });

  it('answers backtracking queries within what it holds', () => {
    const l = compacted();
    expect([3, 4, 5, 6].map((i) => l.firstIndexOfTermAt(i))).toEqual([3, 4, 4, 6]);
    expect([1, 2, 5].map((t) => l.lastIndexOfTerm(t))).toEqual([null, 5, 6]);
    // Compacted entries are committed: never a conflict.
    expect(l.findConflict(entriesOfTerms([9, 9, 9]))).toBe(0);
    expect(l.findConflict([{ term: 3, index: 4, type: 'command', data: '' }])).toBe(4);
  });

  it('truncates and appends only after its start, and never compacts backwards or past its end', () => {
    const l = compacted();
    l.truncateAndAppend([{ term: 6, index: 5, type: 'noop', data: '' }]);
    expect(l.all().map((e) => `${e.index}@${e.term}`)).toEqual(['4@2', '5@6']);
    expect(() => l.truncateAndAppend([{ term: 6, index: 3, type: 'noop', data: '' }])).toThrow(AssertionError);
    l.compact(2); // backwards: nothing happens
    expect(l.firstIndex()).toBe(4);
    expect(() => l.compact(9)).toThrow(AssertionError);
  });

  it('resets to a snapshot position (InstallSnapshot discards the whole log), with only index 0 at term 0', () => {
    const l = compacted();
    l.reset(10, 7);
    expect([l.firstIndex(), l.lastIndex(), l.lastTerm(), l.term(10)]).toEqual([11, 10, 7, 7]);
    expect(() => new RaftLog([], 5, 0)).toThrow(AssertionError);
    expect(() => new RaftLog([], 0, 3)).toThrow(AssertionError);
  });
});
