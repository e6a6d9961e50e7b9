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
 * of 0, then `n` cas ops between values 0..3 (never a -> a), all invoked
 * before any returns ok, then a read of 3. The cas ops are the edges of a
 * closed walk from 0, so every order that uses them all (an Eulerian
 * circuit) ends at 0, and the read of 3 can never be placed: not
 * linearizable. Every degree condition holds (checker/fast/register.ts's
 * visit pruner cannot see it), so the search has to exhaust the circuits'
 * prefixes: exponential work. (If a future fast path learns where a walk
 * must end, this needs a harder shape.)
 */
export function hardCasRows(n = 120): Row[] {
  const rows: Row[] = [
    [0, 'invoke', 'write', 0],
    [0, 'ok', 'write', 0],
  ];
  const cas: [number, number][] = [];
  let x = 12345;
  const rand = (k: number): number => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return (x >>> 8) % k;
  };
  let at = 0;
  for (let i = 0; i < n - 1; i++) {
    const to = (at + 1 + rand(3)) % 4;
    cas.push([at, to]);
    at = to;
  }
  if (at !== 0) cas.push([at, 0]);
  // Invoke them in a shuffled order.
  for (let i = cas.length - 1; i > 0; i--) {
    const j = rand(i + 1);
    [cas[i], cas[j]] = [cas[j]!, cas[i]!];
  }
  cas.forEach((v, i) => rows.push([i + 1, 'invoke', 'cas', v]));
  cas.forEach((v, i) => rows.push([i + 1, 'ok', 'cas', v]));
  rows.push([0, 'invoke', 'read', null], [0, 'ok', 'read', 3]);
  return rows;
}
