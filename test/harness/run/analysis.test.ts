import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { checkHistory } from '../../../checker/check.js';
import type { HistoryOp, Verdict } from '../../../checker/types.js';
import type { MonitorViolation } from '../../../harness/net/monitor.js';
import type { WireMonitorReport } from '../../../harness/net/types.js';
import { boundFindings, MAX_FINDINGS, mergeAnalyses, type Analysis } from '../../../harness/run/analysis.js';
import { linearizabilityAnalysis } from '../../../harness/run/linearizability.js';
import { wireMonitorAnalysis } from '../../../harness/run/wire-monitor.js';

const analysis = (name: string, valid: Verdict, findings: string[] = []): Analysis => ({
  name,
  valid,
  conclusion: `${name} says ${String(valid)}`,
  brief: name,
  findings,
});

describe('mergeAnalyses (Jepsen merge-valid: false beats unknown beats true)', () => {
  it('all valid: valid, decided by all of them', () => {
    const as = [analysis('linearizability', true), analysis('wire-monitor', true)];
    expect(mergeAnalyses(as)).toEqual({ valid: true, decidedBy: as });
  });

  it('one invalid analysis makes the run invalid whatever the others say; it alone decided', () => {
    const lin = analysis('linearizability', true);
    const wire = analysis('wire-monitor', false);
    expect(mergeAnalyses([lin, wire])).toEqual({ valid: false, decidedBy: [wire] });
  });

  it('unknown beats valid, invalid beats unknown', () => {
    const unknown = analysis('linearizability', 'unknown');
    expect(mergeAnalyses([unknown, analysis('wire-monitor', true)])).toEqual({ valid: 'unknown', decidedBy: [unknown] });
    const wire = analysis('wire-monitor', false);
    expect(mergeAnalyses([unknown, wire])).toEqual({ valid: false, decidedBy: [wire] });
  });

  it('both invalid: decided by both, in list order', () => {
    const lin = analysis('linearizability', false);
    const wire = analysis('wire-monitor', false);
    expect(mergeAnalyses([lin, wire]).decidedBy.map((a) => a.name)).toEqual(['linearizability', 'wire-monitor']);
  });

  it('no analyses at all: valid (an empty compose), decided by none', () => {
    expect(mergeAnalyses([])).toEqual({ valid: true, decidedBy: [] });
  });

  const verdicts = fc.constantFrom<Verdict>(true, false, 'unknown');
  test.prop([fc.array(verdicts, { maxLength: 6 })])('the merged verdict is the worst one, whatever the order', (valids) => {
    const as = valids.map((v, i) => analysis(`a${i}`, v));
    const rank = (v: Verdict): number => (v === false ? 2 : v === 'unknown' ? 1 : 0);
    const worst = valids.reduce<Verdict>((w, v) => (rank(v) > rank(w) ? v : w), true);
    const merged = mergeAnalyses(as);
    expect(merged.valid).toBe(worst);
    expect(mergeAnalyses([...as].reverse()).valid).toBe(worst);
    expect(merged.decidedBy).toEqual(as.filter((a) => a.valid === worst));
  });
});

describe('boundFindings', () => {
  it('keeps up to MAX_FINDINGS lines, then says how many more', () => {
    const lines = Array.from({ length: MAX_FINDINGS + 3 }, (_, i) => `f${i}`);
    expect(boundFindings(lines.slice(0, MAX_FINDINGS), (n) => `${n} more`)).toEqual(lines.slice(0, MAX_FINDINGS));
    expect(boundFindings(lines, (n) => `${n} more`)).toEqual([...lines.slice(0, MAX_FINDINGS), '3 more']);
  });
});

function hist(rows: Omit<HistoryOp, 'index'>[]): HistoryOp[] {
  return rows.map((r, index) => ({ index, ...r }));
}

describe('linearizabilityAnalysis (the checker as an analysis)', () => {
  it('a linearizable history: valid, no findings', () => {
    const result = checkHistory(
      hist([
        { process: 0, type: 'invoke', f: 'write', key: 'k1', value: 1, time: 0 },
        { process: 0, type: 'ok', f: 'write', key: 'k1', value: 1, time: 1e6 },
        { process: 1, type: 'invoke', f: 'read', key: 'k1', value: null, time: 2e6 },
        { process: 1, type: 'ok', f: 'read', key: 'k1', value: 1, time: 3e6 },
      ]),
      { model: 'cas-register' },
    );
    expect(linearizabilityAnalysis(result)).toEqual({
      name: 'linearizability',
      valid: true,
      conclusion: 'the history is linearizable',
      brief: 'checker: linearizable',
      findings: [],
    });
  });

  it('a stale read: invalid, the failing key named', () => {
    const result = checkHistory(
      hist([
        { process: 0, type: 'invoke', f: 'write', key: 'k3', value: 1, time: 0 },
        { process: 0, type: 'ok', f: 'write', key: 'k3', value: 1, time: 1e6 },
        { process: 0, type: 'invoke', f: 'write', key: 'k3', value: 2, time: 2e6 },
        { process: 0, type: 'ok', f: 'write', key: 'k3', value: 2, time: 3e6 },
        { process: 1, type: 'invoke', f: 'read', key: 'k3', value: null, time: 4e6 },
        { process: 1, type: 'ok', f: 'read', key: 'k3', value: 1, time: 5e6 },
      ]),
      { model: 'cas-register' },
    );
    const a = linearizabilityAnalysis(result);
    expect(a.valid).toBe(false);
    expect(a.conclusion).toBe('the history is not linearizable');
    expect(a.brief).toBe('checker: not linearizable');
    expect(a.findings).toEqual(['not linearizable: k3']);
  });

  it('unknown: the keys left undecided and why; more than 20 keys end in "..."', () => {
    const base = checkHistory([], { model: 'cas-register' });
    const keys = Array.from({ length: 22 }, (_, i) => `k${i}`);
    const a = linearizabilityAnalysis({ ...base, valid: 'unknown', unknownKeys: keys, unknownReason: 'time_limit' });
    expect(a.valid).toBe('unknown');
    expect(a.conclusion).toBe('the checker ran out of time or memory');
    expect(a.brief).toBe('checker: unknown');
    expect(a.findings).toEqual([`unknown (time_limit): ${keys.slice(0, 20).join(', ')} ...`]);
  });
});

const violation = (term: number): MonitorViolation => ({
  kind: 'election-safety',
  term,
  leaders: ['n2', 'n4'],
  atMs: 1,
  message: `election safety violated: n2 and n4 both led term ${term}`,
});
const report = (violations: MonitorViolation[], violationsDropped = 0): WireMonitorReport => ({
  violations,
  counts: {
    datagrams: 100,
    appendEntries: 50,
    votesGranted: 3,
    decoded: 10,
    undecodable: 0,
    violationsDropped,
    acksJudged: 0,
    acksUnmatched: 0,
  },
  maxLeaderTerm: 3,
  leadersByTerm: { 3: ['n1'] },
  unmonitored: 0,
});

describe('wireMonitorAnalysis (the wire monitor as a second checker)', () => {
  it('no violation: valid, no findings', () => {
    expect(wireMonitorAnalysis(report([]))).toEqual({
      name: 'wire-monitor',
      valid: true,
      conclusion: 'no Raft invariant violated on the wire',
      brief: 'monitor: no violation',
      findings: [],
    });
  });

  it('a violation: invalid, one finding per violation', () => {
    const a = wireMonitorAnalysis(report([violation(7)]));
    expect(a.valid).toBe(false);
    expect(a.conclusion).toBe('Raft invariant violated on the wire');
    expect(a.findings).toEqual(['monitor: election safety violated: n2 and n4 both led term 7']);
  });

  it('at most 10 findings, then how many more; dropped violations still count', () => {
    const a = wireMonitorAnalysis(
      report(
        Array.from({ length: 12 }, (_, i) => violation(i + 1)),
        5,
      ),
    );
    expect(a.findings).toHaveLength(11);
    expect(a.findings[10]).toBe('monitor: ... 2 more (results.json)');
    expect(a.brief).toBe('monitor: 17 violations');
  });
});
