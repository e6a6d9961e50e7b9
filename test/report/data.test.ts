import { describe, expect, it } from 'vitest';
import type { HistoryOp } from '../../checker/types.js';
import { buildPageData, inferThreads } from '../../report/data.js';
import { nemesisIntervals } from '../../report/nemesis.js';
import { pairClientOps } from '../../report/ops.js';
import { synthHistory } from './synth.js';

function seq(rows: [number, HistoryOp['type'], number][]): HistoryOp[] {
  return rows.map(([process, type, time], index) => ({ index, process, type, f: 'read', value: null, time }));
}

describe('inferThreads', () => {
  it("recognises Jepsen's renumbering: after info, process p becomes p + concurrency", () => {
    const h = seq([
      [0, 'invoke', 0],
      [1, 'invoke', 1],
      [0, 'info', 2],
      [2, 'invoke', 3], // 0 + 2
      [1, 'ok', 4],
      [2, 'info', 5],
      [4, 'invoke', 6], // 2 + 2
      [4, 'ok', 7],
    ]);
    expect(inferThreads(pairClientOps(h).ops)).toBe(2);
    const d = buildPageData('t', pairClientOps(h), { intervals: [], markers: [] }, null, null);
    expect(d.laneMode).toBe('thread');
    expect(d.lanes).toEqual(['t0', 't1']);
    expect(d.laneOff).toEqual([0, 3, 4]);
    expect(d.op.p).toEqual([0, 2, 4, 1]);
  });

  it('falls back to a lane per process when the numbering does not fit', () => {
    // Process 2 starts before process 0's info: not a replacement.
    const early = seq([
      [0, 'invoke', 0],
      [1, 'invoke', 1],
      [2, 'invoke', 1.5],
      [0, 'info', 2],
      [1, 'ok', 4],
      [2, 'ok', 5],
    ]);
    expect(inferThreads(pairClientOps(early).ops)).toBeNull();
    // No info at all.
    expect(
      inferThreads(
        pairClientOps(
          seq([
            [0, 'invoke', 0],
            [0, 'ok', 1],
          ]),
        ).ops,
      ),
    ).toBeNull();
    // A replacement whose predecessor did not end in info.
    const noInfo = seq([
      [0, 'invoke', 0],
      [1, 'invoke', 0.5],
      [1, 'info', 0.7],
      [0, 'ok', 1],
      [2, 'invoke', 2],
      [2, 'ok', 3],
    ]);
    expect(inferThreads(pairClientOps(noInfo).ops)).toBeNull();
  });

  it('gives synthetic Jepsen-style histories one lane per thread, each lane sorted and non-overlapping', () => {
    const seed = 5;
    const s = synthHistory({ seed, ops: 3000, processes: 5, keys: 2, faults: true });
    const paired = pairClientOps(s.history);
    const d = buildPageData('t', paired, nemesisIntervals(s.history, paired.timeUnit, paired.tEnd), null, null);
    expect(d.laneMode, `seed ${seed}`).toBe('thread');
    expect(d.lanes).toEqual(['t0', 't1', 't2', 't3', 't4']);
    for (let l = 0; l < d.lanes.length; l++) {
      for (let i = d.laneOff[l]! + 1; i < d.laneOff[l + 1]!; i++) {
        const prevEnd = d.op.e[i - 1];
        expect(prevEnd, `seed ${seed} lane ${l} op ${i}`).not.toBeNull();
        expect(d.op.s[i]!).toBeGreaterThanOrEqual(prevEnd!);
      }
    }
  });
});
