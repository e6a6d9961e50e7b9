// Test helpers: build histories from compact tuples.
import type { HistoryOp, OpType } from '../../checker/index.js';

/** [process, type, f, value, key?] */
export type Row = [number | string, OpType, string, unknown, (string | number)?];

export function hist(rows: Row[]): HistoryOp[] {
  return rows.map(([process, type, f, value, key], i) => {
    const op: HistoryOp = { index: i, process, type, f, value, line: i + 1 };
    if (key !== undefined) op.key = key;
    return op;
  });
}

export function jsonl(rows: Row[]): string {
  return hist(rows)
    .map(({ line: _line, ...o }) => JSON.stringify(o))
    .join('\n');
}
