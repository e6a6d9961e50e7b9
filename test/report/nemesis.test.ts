import { describe, expect, it } from 'vitest';
import type { HistoryOp } from '../../checker/types.js';
import { classifyNemesisF, inSegments, nemesisIntervals, readNemesisCatalogue, unionSegments } from '../../report/nemesis.js';

function ops(rows: [number | string, HistoryOp['type'], string, unknown, number][]): HistoryOp[] {
  return rows.map(([process, type, f, value, time], index) => ({ index, process, type, f, value, time }));
}

describe('nemesisIntervals', () => {
  it('pairs invoke+info pairs: start at the start invoke, end at the stop completion', () => {
    const h = ops([
      [0, 'invoke', 'read', null, 0],
      ['nemesis', 'invoke', 'start-partition', null, 10],
      ['nemesis', 'info', 'start-partition', { isolated: ['n2'] }, 12],
      [0, 'ok', 'read', null, 20],
      ['nemesis', 'invoke', 'stop-partition', null, 30],
      ['nemesis', 'info', 'stop-partition', null, 33],
      [0, 'invoke', 'read', null, 40],
    ]);
    const { intervals, markers } = nemesisIntervals(h, 'ns', 40);
    expect(markers).toEqual([]);
    expect(intervals).toHaveLength(1);
    expect(intervals[0]).toMatchObject({
      kind: 'partition',
      startF: 'start-partition',
      stopF: 'stop-partition',
      start: 10,
      end: 33,
      open: false,
      startIndex: 1,
      endIndex: 5,
    });
    expect(intervals[0]!.values).toEqual([{ isolated: ['n2'] }]);
  });

  it('pairs single info lines: kill→start, pause→resume, clock-*→reset-clock, start-X→stop-X', () => {
    const h = ops([
      ['nemesis', 'info', 'kill', { nodes: ['n1'] }, 1],
      ['nemesis', 'info', 'pause', { nodes: ['n3'] }, 2],
      ['nemesis', 'info', 'clock-bump', { delta: 500 }, 3],
      ['nemesis', 'info', 'start-loss', 0.2, 4],
      ['nemesis', 'info', 'start', { nodes: ['n1'] }, 5],
      ['nemesis', 'info', 'resume', null, 6],
      ['nemesis', 'info', 'reset-clock', null, 7],
      ['nemesis', 'info', 'stop-loss', null, 8],
    ]);
    const { intervals } = nemesisIntervals(h, 'ns', 100);
    const byKind = Object.fromEntries(intervals.map((i) => [i.kind, [i.start, i.end, i.open]]));
    expect(byKind).toEqual({ kill: [1, 5, false], pause: [2, 6, false], clock: [3, 7, false], loss: [4, 8, false] });
  });

  it('runs an interval with no stop to the end of the history', () => {
    const h = ops([
      ['nemesis', 'info', 'start-delay', { ms: 50 }, 5],
      [0, 'invoke', 'read', null, 9],
    ]);
    const { intervals } = nemesisIntervals(h, 'ns', 77);
    expect(intervals).toEqual([expect.objectContaining({ kind: 'delay', start: 5, end: 77, open: true, stopF: null, endIndex: null })]);
  });

  it('pairs a start-X with the next stop-X, folding a repeated start into the open interval', () => {
    const h = ops([
      ['nemesis', 'info', 'start-partition', 'a', 1],
      ['nemesis', 'info', 'start-partition', 'b', 2],
      ['nemesis', 'info', 'stop-partition', null, 3],
      ['nemesis', 'info', 'start-partition', 'c', 4],
      ['nemesis', 'info', 'stop-partition', null, 5],
    ]);
    const { intervals } = nemesisIntervals(h, 'ns', 10);
    expect(intervals.map((i) => [i.start, i.end, i.values])).toEqual([
      [1, 3, ['a', 'b']],
      [4, 5, ['c']],
    ]);
  });

  it("reads old Jepsen's doubled info lines (start/start, stop/stop) as one interval", () => {
    const h = ops([
      ['nemesis', 'info', 'start', null, 1],
      ['nemesis', 'info', 'start', 'Cut off [:n3 ...]', 2],
      ['nemesis', 'info', 'stop', null, 3],
      ['nemesis', 'info', 'stop', 'fully connected', 4],
    ]);
    const { intervals, markers } = nemesisIntervals(h, 'ns', 10);
    expect(markers).toEqual([]);
    expect(intervals).toEqual([expect.objectContaining({ kind: 'fault', start: 1, end: 4, values: ['Cut off [:n3 ...]'] })]);
  });

  it('keeps an unpaired stop and an unknown f as markers, and uses indices when times are missing', () => {
    const h: HistoryOp[] = [
      { index: 0, process: 'nemesis', type: 'info', f: 'stop-partition', value: null },
      { index: 1, process: 'nemesis', type: 'info', f: 'compact', value: 'n1' },
    ];
    const { intervals, markers } = nemesisIntervals(h, 'index', 1);
    expect(intervals).toEqual([]);
    expect(markers.map((m) => [m.f, m.time])).toEqual([
      ['stop-partition', 0],
      ['compact', 1],
    ]);
  });

  it('an invoke that never completes still counts', () => {
    const h = ops([['nemesis', 'invoke', 'kill', { nodes: ['n4'] }, 3]]);
    expect(nemesisIntervals(h, 'ns', 9).intervals).toEqual([expect.objectContaining({ kind: 'kill', start: 3, end: 9, open: true })]);
  });

  it('classifies start as a restart only while a kill is open', () => {
    expect(classifyNemesisF('start', new Set(['kill']))).toEqual({ kind: 'kill', role: 'stop' });
    expect(classifyNemesisF('start', new Set())).toEqual({ kind: 'fault', role: 'start' });
    expect(classifyNemesisF('clock-strobe', new Set())).toEqual({ kind: 'clock', role: 'start' });
    expect(classifyNemesisF('start-duplicate', new Set())).toEqual({ kind: 'duplicate', role: 'start' });
    expect(classifyNemesisF('frobnicate', new Set())).toBeNull();
  });
});

describe('segments', () => {
  it('unions overlapping intervals and finds points in them', () => {
    const segs = unionSegments([
      { start: 5, end: 8 },
      { start: 1, end: 3 },
      { start: 2, end: 4 },
      { start: 8, end: 9 },
    ]);
    expect(segs).toEqual([
      [1, 4],
      [5, 9],
    ]);
    expect([0, 1, 4, 4.5, 5, 9, 10].map((t) => inSegments(segs, t))).toEqual([false, true, true, false, true, true, false]);
  });
});

describe('nemesis catalogue', () => {
  const catalogue = [
    { kind: 'disk', label: 'disk corruption', startFs: ['corrupt-disk', 'truncate-log'], stopF: 'restore-disk' },
    { kind: 'kill', label: 'kill', startFs: ['kill'], stopF: 'start' },
  ];

  it('classifies by the catalogue first, so a new fault kind needs no report code; other fs fall to the generic rules', () => {
    expect(classifyNemesisF('truncate-log', new Set(), catalogue)).toEqual({ kind: 'disk', role: 'start' });
    expect(classifyNemesisF('restore-disk', new Set(['disk']), catalogue)).toEqual({ kind: 'disk', role: 'stop' });
    expect(classifyNemesisF('truncate-log', new Set())).toBeNull();
    expect(classifyNemesisF('start', new Set(), catalogue)).toEqual({ kind: 'kill', role: 'stop' });
    expect(classifyNemesisF('start-loss', new Set(), catalogue)).toEqual({ kind: 'loss', role: 'start' });
  });

  it('labels intervals from the catalogue; a catalogued stop with nothing open is a marker, never a doubled line', () => {
    const h = ops([
      ['nemesis', 'invoke', 'truncate-log', { node: 'n2' }, 1],
      ['nemesis', 'info', 'truncate-log', { node: 'n2', bytes: 9 }, 2],
      ['nemesis', 'invoke', 'restore-disk', null, 5],
      ['nemesis', 'info', 'restore-disk', null, 6],
      ['nemesis', 'invoke', 'restore-disk', null, 8],
      ['nemesis', 'info', 'restore-disk', null, 9],
      ['nemesis', 'info', 'start-loss', 0.2, 10],
    ]);
    const { intervals, markers } = nemesisIntervals(h, 'ns', 20, catalogue);
    expect(intervals.map((i) => [i.kind, i.label, i.start, i.end, i.open])).toEqual([
      ['disk', 'disk corruption', 1, 6, false],
      ['loss', 'loss', 10, 20, true],
    ]);
    expect(markers.map((m) => [m.f, m.time])).toEqual([['restore-disk', 8]]);
  });

  it('reads a catalogue from JSON, refusing malformed ones', () => {
    expect(readNemesisCatalogue(catalogue)).toEqual(catalogue);
    for (const bad of [
      undefined,
      null,
      [],
      'kill',
      [{ kind: 'kill' }],
      [{ kind: 'k', label: 'l', startFs: [], stopF: 's' }],
      [{ kind: 'k', label: 'l', startFs: [1], stopF: 's' }],
    ]) {
      expect(readNemesisCatalogue(bad), JSON.stringify(bad)).toBeNull();
    }
  });
});
