import { describe, expect, it } from 'vitest';
import type { HistoryOp } from '../../checker/types.js';
import { nemesisIntervals } from '../../report/nemesis.js';
import { opValueText, pairClientOps } from '../../report/ops.js';
import { countsByF, phaseStats, throughput } from '../../report/phases.js';

const S = 1e9;
function op(
  process: number | string,
  type: HistoryOp['type'],
  f: string,
  value: unknown,
  timeS: number,
  extra: Partial<HistoryOp> = {},
): Omit<HistoryOp, 'index'> {
  return { process, type, f, value, time: timeS * S, ...extra };
}
function hist(rows: Omit<HistoryOp, 'index'>[]): HistoryOp[] {
  return rows.map((r, index) => ({ index, ...r }));
}

// 10 s; a partition from 2 s to 6 s (invoke of the start at 2, completion of the stop at 6).
const H = hist([
  op(0, 'invoke', 'write', 1, 0),
  op(0, 'ok', 'write', 1, 0.5),
  op(1, 'invoke', 'read', null, 1),
  op(1, 'ok', 'read', 1, 1.5),
  op('nemesis', 'invoke', 'start-partition', null, 2),
  op('nemesis', 'info', 'start-partition', { isolated: ['n1'] }, 2.1),
  op(0, 'invoke', 'write', 2, 3),
  op(0, 'fail', 'write', 2, 3.5, { error: 'not_leader' }),
  op(1, 'invoke', 'read', null, 4),
  op(1, 'info', 'read', null, 4.5, { error: 'timeout' }),
  op(0, 'invoke', 'cas', [1, 3], 5),
  op(0, 'ok', 'cas', [1, 3], 5.5),
  op('nemesis', 'invoke', 'stop-partition', null, 5.9),
  op('nemesis', 'info', 'stop-partition', null, 6),
  op(2, 'invoke', 'read', null, 7),
  op(2, 'ok', 'read', 3, 7.2),
  op(0, 'invoke', 'read', null, 8),
  op(3, 'invoke', 'write', 4, 9),
  op(3, 'ok', 'write', 4, 10),
]);

describe('pairClientOps', () => {
  it('pairs invokes with completions, marks never-completed ops pending', () => {
    const p = pairClientOps(H);
    expect(p.timeUnit).toBe('ns');
    expect(p.t0).toBe(0);
    expect(p.tEnd).toBe(10 * S);
    expect(p.anomalies).toBe(0);
    expect(p.ops.map((o) => `${o.process}:${o.f}:${o.outcome}`)).toEqual([
      '0:write:ok',
      '1:read:ok',
      '0:write:fail',
      '1:read:info',
      '0:cas:ok',
      '2:read:ok',
      '0:read:pending',
      '3:write:ok',
    ]);
    expect(p.ops[6]!.end).toBeNull();
  });

  it('falls back to op indices when an op has no time, and counts unpaired lines', () => {
    const h: HistoryOp[] = [
      { index: 0, process: 0, type: 'ok', f: 'read', value: 1 },
      { index: 1, process: 0, type: 'invoke', f: 'read', value: null, time: 5 },
      { index: 2, process: 0, type: 'invoke', f: 'read', value: null },
      { index: 3, process: 0, type: 'ok', f: 'read', value: 2 },
    ];
    const p = pairClientOps(h);
    expect(p.timeUnit).toBe('index');
    expect(p.anomalies).toBe(2);
    expect(p.ops.map((o) => [o.start, o.end, o.outcome])).toEqual([
      [1, null, 'pending'],
      [2, 3, 'ok'],
    ]);
  });

  it('shows values: a read its result, a write its argument, a cas both when they differ', () => {
    const p = pairClientOps(H);
    expect(p.ops.map(opValueText)).toEqual(['1', '1', '2', '', '[1,3]', '3', '', '4']);
  });
});

describe('phaseStats', () => {
  it('splits counts and availability by faults active vs healed, by invoke time', () => {
    const p = pairClientOps(H);
    const { intervals } = nemesisIntervals(H, p.timeUnit, p.tEnd);
    expect(intervals.map((i) => [i.start / S, i.end / S])).toEqual([[2, 6]]);
    const rows = phaseStats(p.ops, intervals, p.t0, p.tEnd, p.timeUnit);
    const by = Object.fromEntries(rows.map((r) => [r.phase, r]));
    expect(Object.keys(by)).toEqual(['whole test', 'faults active', 'healed (no fault active)', 'during partition']);
    expect(by['whole test']).toMatchObject({ ops: 8, ok: 5, fail: 1, info: 2, duration: 10 * S });
    expect(by['whole test']!.availability).toBeCloseTo(5 / 8);
    expect(by['whole test']!.okPerSec).toBeCloseTo(0.5);
    // Invoked at 3, 4, 5 s: a fail, an info, an ok.
    expect(by['faults active']).toMatchObject({ ops: 3, ok: 1, fail: 1, info: 1, duration: 4 * S });
    expect(by['faults active']!.availability).toBeCloseTo(1 / 3);
    expect(by['faults active']!.okPerSec).toBeCloseTo(0.25);
    // Invoked at 0, 1, 7, 8 (never completed), 9.
    expect(by['healed (no fault active)']).toMatchObject({ ops: 5, ok: 4, fail: 0, info: 1, duration: 6 * S });
    expect(by['healed (no fault active)']!.availability).toBeCloseTo(4 / 5);
    expect(by['during partition']).toMatchObject({ ops: 3, ok: 1 });
  });

  it('has only the whole-test row without faults, and no rate on an index clock', () => {
    const rows = phaseStats(pairClientOps(H).ops, [], 0, 19, 'index');
    expect(rows).toHaveLength(1);
    expect(rows[0]!.okPerSec).toBeNull();
    expect(phaseStats([], [], 0, 0, 'ns')[0]!.availability).toBeNull();
  });
});

describe('countsByF and throughput', () => {
  it('counts by f and outcome with a total row', () => {
    const rows = countsByF(pairClientOps(H).ops);
    expect(rows).toEqual([
      { f: 'cas', ok: 1, fail: 0, info: 0, pending: 0, total: 1 },
      { f: 'read', ok: 2, fail: 0, info: 1, pending: 1, total: 4 },
      { f: 'write', ok: 2, fail: 1, info: 0, pending: 0, total: 3 },
      { f: 'all', ok: 5, fail: 1, info: 1, pending: 1, total: 8 },
    ]);
  });

  it('buckets completions per second by completion time', () => {
    const p = pairClientOps(H);
    const tp = throughput(p.ops, p.t0, p.tEnd, 2 * S);
    expect(tp.bucketSec).toBe(2);
    expect(tp.t).toEqual([0, 2, 4, 6, 8]);
    // ok completions at 0.5, 1.5 | 5.5 | 7.2 | 10 (last bucket); fail at 3.5; info at 4.5.
    expect(tp.ok).toEqual([1, 0, 0.5, 0.5, 0.5]);
    expect(tp.fail).toEqual([0, 0.5, 0, 0, 0]);
    expect(tp.info).toEqual([0, 0, 0.5, 0, 0]);
  });
});
