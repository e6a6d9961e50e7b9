import { describe, expect, it } from 'vitest';
import { checkHistory } from '../../checker/check.js';
import type { CheckedOp, Counterexample, HistoryOp } from '../../checker/types.js';
import { explainCounterexample } from '../../report/counterexample.js';
import { renderReport } from '../../report/render.js';
import { embeddedData } from './page-data.js';

function hist(rows: Omit<HistoryOp, 'index'>[]): HistoryOp[] {
  return rows.map((r, index) => ({ index, ...r }));
}

const VALID = hist([
  { process: 0, type: 'invoke', f: 'write', key: 'a', value: 1, time: 0 },
  { process: 1, type: 'invoke', f: 'read', key: 'a', value: null, time: 1e6 },
  { process: 0, type: 'ok', f: 'write', key: 'a', value: 1, time: 2e6 },
  { process: 'nemesis', type: 'info', f: 'kill', value: { nodes: ['n2'] }, time: 2.5e6 },
  { process: 1, type: 'ok', f: 'read', key: 'a', value: 1, time: 3e6 },
  { process: 0, type: 'invoke', f: 'cas', key: 'b', value: [null, 4], time: 4e6 },
  { process: 0, type: 'fail', f: 'cas', key: 'b', value: [null, 4], time: 5e6, error: 'not_leader' },
  { process: 'nemesis', type: 'info', f: 'start', value: { nodes: ['n2'] }, time: 6e6 },
  { process: 2, type: 'invoke', f: 'write', key: 'b', value: 2, time: 6.5e6 },
  { process: 2, type: 'info', f: 'write', key: 'b', value: 2, time: 9e6, error: 'timeout' },
]);

// write 5 by p0, then p1 writes 3 concurrently with a read by p2 that returns 5, then p2 reads 5 again after write 3 returned.
const INVALID = hist([
  { process: 0, type: 'invoke', f: 'write', value: 5, time: 0 },
  { process: 0, type: 'ok', f: 'write', value: 5, time: 10e6 },
  { process: 1, type: 'invoke', f: 'write', value: 3, time: 20e6 },
  { process: 2, type: 'invoke', f: 'read', value: null, time: 25e6 },
  { process: 1, type: 'ok', f: 'write', value: 3, time: 30e6 },
  { process: 2, type: 'ok', f: 'read', value: 5, time: 35e6 },
  { process: 2, type: 'invoke', f: 'read', value: null, time: 40e6 },
  { process: 2, type: 'ok', f: 'read', value: 5, time: 50e6 },
]);

describe('renderReport', () => {
  it('renders a valid run: verdict, options, embedded columnar data, fault intervals, inlined assets only', () => {
    const check = checkHistory(VALID);
    expect(check.valid).toBe(true);
    const html = renderReport({
      title: 'valid run',
      history: VALID,
      check,
      test: { name: 'rift-test', seed: 42, options: { nemesis: 'kill', rate: 50 } },
    });
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).toContain('class="verdict valid"');
    expect(html).toContain('Valid — linearizable');
    expect(html).toMatch(/<th>options\.nemesis<\/th><td>kill<\/td>/);
    expect(html).toMatch(/<th>seed<\/th><td>42<\/td>/);
    expect(html).not.toContain('id="counterexample"');
    // Self-contained: no external scripts, styles or images.
    expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)=/i);
    expect(html).toContain('uPlot');
    const d = embeddedData(html);
    expect(d.timeUnit).toBe('ns');
    expect(d.laneMode).toBe('process');
    expect(d.lanes).toEqual(['p0', 'p1', 'p2']);
    expect(d.laneOff).toEqual([0, 2, 3, 4]);
    expect(d.op.s).toHaveLength(4);
    // Lane 0: write a (0–2 ms, ok) then cas b (4–5 ms, fail); lane 2: write b, info.
    expect(d.op.s.slice(0, 2)).toEqual([0, 0.004]);
    expect(d.op.e.slice(0, 2)).toEqual([0.002, 0.005]);
    expect(d.op.o).toEqual([0, 1, 0, 2]);
    expect(d.op.err[1]).toBe('"not_leader"');
    expect(d.op.i).toEqual([0, 5, 1, 8]);
    expect(d.op.c).toEqual([2, 6, 4, 9]);
    expect(d.keys).toEqual(['a', 'b']);
    expect(d.faults).toEqual([expect.objectContaining({ kind: 'kill', s: 0.0025, e: 0.006, open: false })]);
    expect(d.failing).toEqual([]);
    // Phase table: 4 ops, one invoked during the kill (cas at 4 ms, failed).
    expect(html).toMatch(
      /<tr data-phase="faults active"><td>faults active<\/td><td>[^<]*<\/td><td>1<\/td><td>0<\/td><td>1<\/td><td>0<\/td><td class="avail">0\.0%<\/td>/,
    );
    expect(html).toMatch(
      /<tr data-phase="whole test"><td>whole test<\/td><td>[^<]*<\/td><td>4<\/td><td>2<\/td><td>1<\/td><td>1<\/td><td class="avail">50\.0%<\/td>/,
    );
  });

  it('renders an invalid run with the counterexample of the failing key (real checker)', () => {
    const check = checkHistory(INVALID);
    expect(check.valid).toBe(false);
    const html = renderReport({ title: 'invalid run', history: INVALID, check });
    expect(html).toContain('class="verdict invalid"');
    expect(html).toContain('id="counterexample"');
    expect(html).toContain('<div class="cx" data-key="">');
    expect(html).toContain('The history is not linearizable: read -&gt; 5 (op #6, process 2) could not be placed.');
    expect(html).toContain('the register held 3 after write 3 (op #2, process 1)');
    expect(html).toContain('<svg');
    expect(html).toContain('class="cx-op cx-failing" data-index="6"');
    expect(embeddedData(html).failing).toEqual([{ key: '', index: 6 }]);
  });

  it('says "not checked" without a check result, and renders the same page twice', () => {
    const a = renderReport({ title: 't', history: VALID, check: null });
    expect(a).toContain('class="verdict unchecked"');
    expect(a).toContain('No test options recorded.');
    expect(renderReport({ title: 't', history: VALID, check: null })).toBe(a);
  });

  it('renders an empty history and a history without times', () => {
    const empty = renderReport({ title: 'empty', history: [], check: null });
    expect(embeddedData(empty).op.s).toEqual([]);
    const noTimes = INVALID.map(({ time: _t, ...rest }) => rest);
    const html = renderReport({ title: 'no times', history: noTimes, check: checkHistory(noTimes) });
    const d = embeddedData(html);
    expect(d.timeUnit).toBe('index');
    expect(d.throughput).toBeNull();
    expect(d.op.s).toEqual([0, 2, 3, 6]);
    expect(html).toContain('the x axis is the op index');
  });

  it("uses the run's nemesis catalogue from test.json: its labels, and its fs' meaning", () => {
    const history = hist([
      ...VALID.map(({ index: _index, ...op }) => op),
      { process: 'nemesis', type: 'info', f: 'start', value: { final: true }, time: 9.5e6 },
    ]);
    const nemesisCatalogue = [{ kind: 'kill', label: 'crash (SIGKILL)', startFs: ['kill'], stopF: 'start' }];
    const rift = embeddedData(renderReport({ title: 't', history, check: null, test: { name: 'rift', nemesisCatalogue } }));
    expect(rift.faults).toEqual([expect.objectContaining({ kind: 'kill', label: 'crash (SIGKILL)', s: 0.0025, e: 0.006 })]);
    expect(rift.markers.map((m) => m.f)).toEqual(['start']);
    // Without a catalogue the second start reads as Jepsen's partitioner starting a fault.
    const generic = embeddedData(renderReport({ title: 't', history, check: null }));
    expect(generic.faults.map((f) => [f.kind, f.label])).toEqual([
      ['kill', 'kill'],
      ['fault', 'fault'],
    ]);
    expect(renderReport({ title: 't', history, check: null, test: { nemesisCatalogue } })).toContain(
      'data-kind="kill"></span>crash (SIGKILL)</td>',
    );
  });

  it('escapes everything that came from the history or the test', () => {
    const evil = '</script><script>alert(1)</script><!--';
    const h = hist([
      { process: 0, type: 'invoke', f: 'write', key: '<b>k</b>', value: evil, time: 0 },
      { process: 0, type: 'ok', f: 'write', key: '<b>k</b>', value: evil, time: 1e6 },
      { process: 0, type: 'invoke', f: 'read', key: '<b>k</b>', value: null, time: 2e6 },
      { process: 0, type: 'fail', f: 'read', key: '<b>k</b>', value: null, time: 3e6, error: evil },
    ]);
    const html = renderReport({
      title: `title ${evil}`,
      history: h,
      check: checkHistory(h),
      test: { name: evil, options: { [evil]: evil } },
    });
    expect(html).not.toContain('<script>alert(1)');
    expect(html).not.toContain('<b>k</b>');
    expect(html).not.toContain('<!--');
    // Exactly the page's own three script elements are closed.
    expect(html.match(/<\/script>/g)).toHaveLength(3);
    const d = embeddedData(html);
    expect(d.keys).toEqual(['<b>k</b>']);
    expect(d.op.v[0]).toBe(JSON.stringify(evil));
    expect(d.op.err[1]).toContain('</script>');
    expect(d.title).toBe(`title ${evil}`);
  });
});

describe('explainCounterexample', () => {
  const mk = (index: number, process: number, f: string, value: unknown, description: string): CheckedOp => ({
    invoke: { index, process, type: 'invoke', f, value },
    outcome: 'ok',
    description,
  });

  it('names the state, the op that set it, and why each candidate could not come next', () => {
    const w5 = mk(812, 1, 'write', 5, 'write 5');
    const r5 = mk(815, 4, 'read', null, 'read -> 5');
    const w3 = mk(790, 2, 'write', 3, 'write 3');
    const r3 = mk(820, 3, 'read', null, 'read -> 3');
    const cx: Counterexample = {
      key: 'x',
      op: r3,
      linearized: [
        { op: w5, stateAfter: 5 },
        { op: r5, stateAfter: 5 },
      ],
      stateBefore: 5,
      candidates: [
        { op: r3, reason: 'read 3 but the register holds 5' },
        { op: w3, reason: 'after write 3 no order places read -> 5 (op #815)' },
      ],
    };
    const e = explainCounterexample(cx, 'cas-register');
    expect(e.headline).toBe('Key "x" is not linearizable: read -> 3 (op #820, process 3) could not be placed.');
    expect(e.detail).toContain('legal order for 2 ops of this key');
    expect(e.detail).toContain('the register held 5 after write 5 (op #812, process 1)');
    expect(e.reasons).toEqual([
      'read -> 3 (op #820, process 3 — the op that returned) could not come next: read 3 but the register holds 5',
      'write 3 (op #790, process 2) could not come next: after write 3 no order places read -> 5 (op #815)',
    ]);
  });

  it('handles an empty prefix and no candidates', () => {
    const r = mk(1, 0, 'read', null, 'read -> 7');
    const e = explainCounterexample({ key: '', op: r, linearized: [], stateBefore: null, candidates: [] }, 'cas-register');
    expect(e.detail).toContain('No op could be placed at all. At that point the register held null initially.');
    expect(e.headline).toBe('The history is not linearizable: read -> 7 (op #1, process 0) could not be placed.');
    expect(e.reasons).toEqual(['read -> 7 could not take effect from null, and no other op was concurrent with it.']);
  });
});

describe('renderReport with a foreign results.json', () => {
  it('still renders when a counterexample has an unexpected shape', () => {
    const check = checkHistory(INVALID);
    const broken = JSON.parse(JSON.stringify(check)) as typeof check;
    (broken.keys['']!.counterexample as unknown as Record<string, unknown>)['linearized'] = 'nope';
    const html = renderReport({ title: 'x', history: INVALID, check: broken });
    expect(html).toContain('class="verdict invalid"');
    expect(html).toMatch(/is not linearizable \(the counterexample could not be drawn: /);
  });
});
