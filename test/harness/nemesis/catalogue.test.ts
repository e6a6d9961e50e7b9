/**
 * The harness's table of fault kinds, as the report reads it: through the
 * catalogue a run writes into test.json (report/ may not import the harness),
 * every kind's ops are classified as the table says, and as the generic
 * rules for foreign histories classify them where both apply.
 */
import { describe, expect, it } from 'vitest';
import type { HistoryOp } from '../../../checker/types.js';
import { classifyNemesisF, nemesisIntervals, readNemesisCatalogue } from '../../../report/nemesis.js';
import { finalHealOrder, kindSpecs, nemesisCatalogue, startFs, stopF } from '../../../harness/nemesis/registry.js';

/** The catalogue as a report reads it back from test.json. */
const catalogue = readNemesisCatalogue(JSON.parse(JSON.stringify({ nemesisCatalogue: nemesisCatalogue() })).nemesisCatalogue);

function ops(rows: [HistoryOp['type'], string, number][]): HistoryOp[] {
  return rows.map(([type, f, time], index) => ({ index, process: 'nemesis', type, f, value: null, time }));
}

describe('the nemesis catalogue in the report', () => {
  it('survives test.json', () => {
    expect(catalogue).toEqual(nemesisCatalogue());
  });

  it('classifies every kind of the table as the table says, and the generic rules agree', () => {
    for (const spec of kindSpecs) {
      for (const f of startFs(spec.kind)) {
        expect(classifyNemesisF(f, new Set(), catalogue), f).toEqual({ kind: spec.kind, role: 'start' });
        expect(classifyNemesisF(f, new Set()), `${f} (generic)`).toEqual({ kind: spec.kind, role: 'start' });
      }
      const stop = stopF(spec.kind);
      expect(classifyNemesisF(stop, new Set([spec.kind]), catalogue), stop).toEqual({ kind: spec.kind, role: 'stop' });
      // The generic rules read `start` as a restart only while a kill is open (Jepsen's partitioner uses start/stop).
      expect(classifyNemesisF(stop, new Set([spec.kind])), `${stop} (generic)`).toEqual({ kind: spec.kind, role: 'stop' });
    }
  });

  it("each kind's start and stop make one interval, the same with or without the catalogue, labelled from it", () => {
    for (const spec of kindSpecs) {
      for (const f of startFs(spec.kind)) {
        const h = ops([
          ['invoke', f, 1],
          ['info', f, 2],
          ['invoke', stopF(spec.kind), 5],
          ['info', stopF(spec.kind), 6],
        ]);
        const withCatalogue = nemesisIntervals(h, 'ns', 10, catalogue);
        const generic = nemesisIntervals(h, 'ns', 10);
        expect(withCatalogue.markers).toEqual([]);
        expect(withCatalogue.intervals).toEqual([
          expect.objectContaining({
            kind: spec.kind,
            label: spec.label,
            startF: f,
            stopF: stopF(spec.kind),
            start: 1,
            end: 6,
            open: false,
          }),
        ]);
        expect(generic.intervals.map(({ label: _label, ...rest }) => rest)).toEqual(
          withCatalogue.intervals.map(({ label: _label, ...rest }) => rest),
        );
      }
    }
  });

  it('the final heal after the faults stopped is a row of markers with the catalogue (the generic rules misread it)', () => {
    const finals = finalHealOrder.flatMap((s, i): [HistoryOp['type'], string, number][] => [
      ['invoke', s.f, 20 + 2 * i],
      ['info', s.f, 21 + 2 * i],
    ]);
    const h = ops([
      ['invoke', 'start-partition', 1],
      ['info', 'start-partition', 2],
      ['invoke', 'stop-partition', 5],
      ['info', 'stop-partition', 6],
      ...finals,
    ]);
    const rift = nemesisIntervals(h, 'ns', 40, catalogue);
    expect(rift.intervals).toEqual([expect.objectContaining({ kind: 'partition', start: 1, end: 6, open: false })]);
    expect(rift.markers.map((m) => m.f)).toEqual(finalHealOrder.map((s) => s.f));
    // Without it: the final stop-partition is taken for old Jepsen's doubled stop line and stretches the
    // partition to the heal, and the final `start` (no kill open) opens a Jepsen-style `fault` to the end.
    const generic = nemesisIntervals(h, 'ns', 40);
    const startAt = 20 + 2 * finalHealOrder.findIndex((s) => s.f === 'start');
    expect(generic.intervals.map((i) => [i.kind, i.start, i.end])).toEqual([
      ['partition', 1, 21],
      ['fault', startAt, 40],
    ]);
  });
});
