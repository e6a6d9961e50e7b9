/**
 * The read-safety check (sim/read-safety.ts) on hand-made commit and
 * history sequences: a read may return the value current when it began or
 * one committed while it ran; an older one is a stale read, reported with
 * the write it missed.
 */
import { describe, expect, it } from 'vitest';
import { encodeCommand } from '../../node/kv/command.js';
import type { Entry } from '../../node/raft/types.js';
import { ReadSafety } from '../../sim/read-safety.js';

function put(index: number, key: string, value: string, clientId = 'w', seq = index): Entry {
  return { index, term: 1, type: 'command', data: encodeCommand({ clientId, instance: 1, seq, op: { type: 'put', key, value } }) };
}
const noop = (index: number): Entry => ({ index, term: 1, type: 'noop', data: '' });

function setup(): { rs: ReadSafety; violations: string[] } {
  const violations: string[] = [];
  return { rs: new ReadSafety((m) => violations.push(m)), violations };
}

/** A read by `process`, invoked at `invokedMs` and answered `value` at `okMs`, with commits applied in between by `between`. */
function read(rs: ReadSafety, process: number, key: string, value: number | null, between: () => void = () => undefined): void {
  rs.onHistoryOp({ process, type: 'invoke', f: 'read', key, value: null }, 10);
  between();
  rs.onHistoryOp({ process, type: 'ok', f: 'read', key, value }, 20);
}

describe('ReadSafety (thesis §6.4: a read reflects every write committed before it began)', () => {
  it('accepts the current value, the initial null, and a value committed while the read ran', () => {
    const { rs, violations } = setup();
    read(rs, 0, 'k', null);
    rs.onCommitted(noop(1), 1);
    rs.onCommitted(put(2, 'k', '5'), 2);
    read(rs, 0, 'k', 5);
    read(rs, 1, 'k', 7, () => rs.onCommitted(put(3, 'k', '7'), 15));
    read(rs, 2, 'k', 7);
    expect(violations).toEqual([]);
    expect(rs.checked).toBe(4);
  });

  it('reports a stale read with the write that had replaced the value before the read began', () => {
    const { rs, violations } = setup();
    rs.onCommitted(put(1, 'k', '5'), 1);
    rs.onCommitted(put(2, 'k', '6'), 2);
    read(rs, 3, 'k', 5);
    expect(violations).toHaveLength(1);
    expect(violations[0]).toMatch(
      /^process 3 stale read: read k = 5 .* but write k = 6 \(index 2, term 1, committed at 2\.0 ms\) had replaced it before the read began \(the value read was written at index 1/,
    );
  });

  it('a value committed while the read ran is fine, but not one replaced before it began', () => {
    const { rs, violations } = setup();
    rs.onCommitted(put(1, 'k', '5'), 1);
    read(rs, 0, 'k', 5, () => rs.onCommitted(put(2, 'k', '6'), 12));
    expect(violations).toEqual([]);
    read(rs, 1, 'k', 5);
    expect(violations).toHaveLength(1);
  });

  it('reports a read of a value no committed write left', () => {
    const { rs, violations } = setup();
    rs.onCommitted(put(1, 'k', '5'), 1);
    read(rs, 0, 'k', 99);
    expect(violations[0]).toMatch(/read k = 99 .* no write committed by then left that value/);
  });

  it('index form: a read served from a state older than an entry committed before it began is stale, even with the same value', () => {
    const { rs, violations } = setup();
    rs.onCommitted(put(1, 'k', '5'), 1);
    rs.onCommitted(noop(2), 2);
    rs.onHistoryOp({ process: 0, type: 'invoke', f: 'read', key: 'k', value: null }, 10);
    rs.served = { node: 'n1', appliedIndex: 1 };
    rs.onHistoryOp({ process: 0, type: 'ok', f: 'read', key: 'k', value: 5 }, 20);
    expect(rs.served).toBeNull(); // consumed
    expect(violations).toHaveLength(1);
    expect(violations[0]).toMatch(
      /stale read: read k = 5 .* was served by n1 from its state at index 1, but index 2 \(term 1, committed at 2\.0 ms\) was committed before the read began/,
    );
    rs.onHistoryOp({ process: 1, type: 'invoke', f: 'read', key: 'k', value: null }, 30);
    rs.served = { node: 'n2', appliedIndex: 2 };
    rs.onHistoryOp({ process: 1, type: 'ok', f: 'read', key: 'k', value: 5 }, 40);
    expect(violations).toHaveLength(1);
  });

  it('counts a retried write once (the real state machine deduplicates sessions), and ignores other keys and failed reads', () => {
    const { rs, violations } = setup();
    rs.onCommitted(put(1, 'k', '5', 'c1', 1), 1);
    rs.onCommitted(put(2, 'k', '6', 'c2', 1), 2);
    // c1's retry of seq 1 lands again at index 3: not applied, so k stays 6.
    rs.onCommitted(put(3, 'k', '5', 'c1', 1), 3);
    rs.onCommitted(put(4, 'j', '1'), 4);
    read(rs, 0, 'k', 6);
    expect(violations).toEqual([]);
    read(rs, 1, 'k', 5);
    expect(violations).toHaveLength(1);
    rs.onHistoryOp({ process: 2, type: 'invoke', f: 'read', key: 'k', value: null }, 30);
    rs.onHistoryOp({ process: 2, type: 'fail', f: 'read', key: 'k', value: null }, 31);
    expect(rs.checked).toBe(2);
  });
});

describe('ReadSafety with the nodes session table bounded (SimOptions.maxSessions)', () => {
  /** c1 puts, c2 puts (evicting c1's session from a table of 1), c1's retry of its put commits again. */
  const retryAfterEviction = [put(1, 'k', '5', 'c1', 1), put(2, 'k', '6', 'c2', 1), put(3, 'k', '5', 'c1', 1)];

  it('reports a retried command applied again after its session was evicted', () => {
    const violations: string[] = [];
    const rs = new ReadSafety((m) => violations.push(m), undefined, 1);
    retryAfterEviction.forEach((e) => rs.onCommitted(e, e.index));
    expect(violations).toHaveLength(1);
    expect(violations[0]).toMatch(/^exactly-once: the command at index 3 .* client "c1" seq 1, already applied, .*\(bound 1\) had evicted/);
  });

  it('is silent when the bound holds every session, and the exact shadow answers the retry as a duplicate', () => {
    for (const bound of [2, null]) {
      const violations: string[] = [];
      const rs = new ReadSafety((m) => violations.push(m), undefined, bound);
      retryAfterEviction.forEach((e) => rs.onCommitted(e, e.index));
      read(rs, 0, 'k', 6);
      expect(violations).toEqual([]);
    }
  });
});
