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

/**
 * A history that stays hard for the checker with all its fast paths: a write
 * of 0, then `n` cas ops between values 0..3 (never a → a), all invoked
 * before any returns ok. A linearization is an Eulerian trail from 0 through
 * the cas "edges"; the edges are drawn so that none exists (one vertex has
 * two more outgoing than incoming edges), so the search must exhaust the
 * trails: not linearizable, but proving it takes exponential work.
 */
export function hardCasRows(n = 120): Row[] {
  const rows: Row[] = [[0, 'invoke', 'write', 0], [0, 'ok', 'write', 0]];
  const cas: [number, number][] = [];
  let x = 12345;
  for (let i = 0; i < n - 2; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    const a = (x >>> 16) % 4;
    const b = (a + 1 + ((x >>> 8) % 3)) % 4;
    cas.push([a, b]);
  }
  cas.push([1, 2], [1, 3]);
  cas.forEach((v, i) => rows.push([i + 1, 'invoke', 'cas', v]));
  cas.forEach((v, i) => rows.push([i + 1, 'ok', 'cas', v]));
  return rows;
}
