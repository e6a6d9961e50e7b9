import { describe, expect, it } from 'vitest';
import { checkHistory } from '../../../checker/check.js';
import type { Verdict } from '../../../checker/types.js';
import type { MonitorViolation } from '../../../harness/net/monitor.js';
import { OpStats } from '../../../harness/progress.js';
import type { Analysis } from '../../../harness/run/analysis.js';
import { linearizabilityAnalysis } from '../../../harness/run/linearizability.js';
import { formatSummary, type SummaryEnd, type SummaryInput } from '../../../harness/run/summary.js';
import { wireMonitorAnalysis } from '../../../harness/run/wire-monitor.js';

const stats = new OpStats().snapshot();
const input = (end: SummaryEnd, over: Partial<SummaryInput> = {}): SummaryInput => ({
  end,
  seed: 1,
  testName: 't',
  runDir: '/r',
  historyPath: '/r/history.jsonl',
  stats,
  checkMs: 12,
  finalReadsMissing: [],
  wallMs: 1000,
  evidence: [],
  progress: null,
  monitorNotRun: null,
  machine: null,
  ...over,
});
const analysed = (...analyses: Analysis[]): SummaryEnd => ({ kind: 'analysed', analyses });

/** The checker's analysis of a result with these failing and unknown keys. */
function checker(valid: Verdict, keys: { failures?: string[]; unknownKeys?: string[] } = {}): Analysis {
  return linearizabilityAnalysis({
    ...checkHistory([], { model: 'cas-register' }),
    valid,
    failures: keys.failures ?? [],
    unknownKeys: keys.unknownKeys ?? [],
    ...(keys.unknownKeys !== undefined ? { unknownReason: 'time_limit' as const } : {}),
  });
}
const v = (term: number): MonitorViolation => ({
  kind: 'election-safety',
  term,
  leaders: ['n2', 'n4'],
  atMs: 1,
  message: `election safety violated: n2 and n4 both led term ${term}`,
});
const monitor = (violations: MonitorViolation[]): Analysis =>
  wireMonitorAnalysis({
    violations,
    counts: {
      datagrams: 1,
      appendEntries: 1,
      votesGranted: 0,
      decoded: 1,
      undecodable: 0,
      violationsDropped: 0,
      acksJudged: 0,
      acksUnmatched: 0,
    },
    maxLeaderTerm: 1,
    leadersByTerm: {},
    unmonitored: 0,
  });

describe('formatSummary (built from the run end and its analyses)', () => {
  it('shows the verdict, counts, availability and the re-check command', () => {
    const text = formatSummary(input(analysed(checker(false, { failures: ['k3'] })), { seed: 7 }), false);
    expect(text).toContain('INVALID');
    expect(text).toContain('seed 7');
    expect(text).toContain('not linearizable: k3');
    expect(text).toContain('npm run check -- /r/history.jsonl');
    expect(text).not.toContain('\x1b[');
    expect(formatSummary(input(analysed(checker(true)), { checkMs: null }), true)).toContain('\x1b[32m');
  });

  it('valid with a clean monitor: the checker headline, no monitor lines', () => {
    const out = formatSummary(input(analysed(checker(true), monitor([]))), false).split('\n');
    expect(out[0]).toBe('VALID: the history is linearizable  (test t, seed 1, 1.0s)');
    expect(out.filter((l) => l.includes('monitor'))).toEqual([]);
  });

  it('checker-only invalid: the checker headline and its finding', () => {
    const out = formatSummary(input(analysed(checker(false, { failures: ['k3'] }), monitor([]))), false).split('\n');
    expect(out[0]).toBe('INVALID: the history is not linearizable  (test t, seed 1, 1.0s)');
    expect(out).toContain('  not linearizable: k3');
  });

  it('monitor-only violation with a linearizable history: the headline says what made the run invalid, one line per violation', () => {
    const out = formatSummary(input(analysed(checker(true), monitor([v(7)]))), false).split('\n');
    expect(out[0]).toMatch(/^INVALID: Raft invariant violated on the wire \(checker: linearizable\)  \(test t/);
    expect(out[1]).toBe('  monitor: election safety violated: n2 and n4 both led term 7');
    expect(out.filter((l) => l.startsWith('  monitor:'))).toHaveLength(1);
  });

  it('both invalid: the checker headline stays; at most 10 monitor lines, then how many more', () => {
    const out = formatSummary(
      input(analysed(checker(false, { failures: ['k3'] }), monitor(Array.from({ length: 12 }, (_, i) => v(i + 1))))),
      false,
    ).split('\n');
    expect(out[0]).toBe('INVALID: the history is not linearizable  (test t, seed 1, 1.0s)');
    expect(out).toContain('  not linearizable: k3');
    expect(out.filter((l) => l.startsWith('  monitor: election'))).toHaveLength(10);
    expect(out).toContain('  monitor: ... 2 more (results.json)');
  });

  it("unknown checker + monitor violation: invalid, in the monitor's words, naming the checker's verdict", () => {
    const text = formatSummary(input(analysed(checker('unknown', { unknownKeys: ['k1'] }), monitor([v(3)]))), true);
    const out = text.split('\n');
    expect(out[0]).toContain('INVALID: Raft invariant violated on the wire (checker: unknown)');
    expect(out[0]).toContain('\x1b[31m');
    expect(out).toContain('  unknown (time_limit): k1');
    expect(out).toContain('  monitor: election safety violated: n2 and n4 both led term 3');
  });

  it('unknown checker, clean monitor: unknown', () => {
    expect(formatSummary(input(analysed(checker('unknown'), monitor([]))), false)).toMatch(
      /^UNKNOWN: the checker ran out of time or memory  \(/,
    );
  });

  it('a crashed or interrupted run: its headline and the error, no analyses', () => {
    const crashed = formatSummary(input({ kind: 'crashed', error: 'no leader' }, { checkMs: null, runDir: '(none)' }), false).split('\n');
    expect(crashed[0]).toMatch(/^CRASHED: the run did not complete  \(/);
    expect(crashed[1]).toBe('  error: no leader');
    expect(crashed).toContain('  files: (none)');
    const interrupted = formatSummary(input({ kind: 'interrupted', error: 'interrupted (Ctrl-C)' }, { checkMs: null }), false).split('\n');
    expect(interrupted[0]).toMatch(/^INTERRUPTED: stopped before a verdict/);
    expect(interrupted[1]).toBe('  error: interrupted (Ctrl-C)');
  });

  it('names the keys never read ok after the heal', () => {
    expect(formatSummary(input(analysed(checker(true)), { finalReadsMissing: ['k1', 'k2'] }), false)).toContain(
      '  final reads: no ok read of 2 key(s): k1, k2',
    );
  });
});
