import { describe, expect, test } from 'vitest';
import type { MonitorViolation } from '../../harness/net/monitor.js';
import { withMonitor } from '../../harness/run.js';

const summary = ['INVALID: the history is not linearizable  (test t, seed 1, 1.0s)', '  ops: ...', '  files: /x'].join('\n');
const v = (term: number): MonitorViolation => ({
  kind: 'election-safety', term, leaders: ['n2', 'n4'], atMs: 1, message: `election safety violated: n2 and n4 both led term ${term}`,
});

describe('withMonitor (the run summary with the wire monitor findings)', () => {
  test('no violations: the summary is unchanged', () => {
    expect(withMonitor(summary, true, [])).toBe(summary);
  });

  test('a violation with a linearizable history: the headline says what made the run invalid, one line per violation', () => {
    const out = withMonitor(summary, true, [v(7)]).split('\n');
    expect(out[0]).toMatch(/^INVALID: Raft invariant violated on the wire \(checker: linearizable\)/);
    expect(out[1]).toBe('  monitor: election safety violated: n2 and n4 both led term 7');
    expect(out).toHaveLength(4);
  });

  test('the checker also found the history invalid: the headline stays; at most 10 lines', () => {
    const out = withMonitor(summary, false, Array.from({ length: 12 }, (_, i) => v(i + 1))).split('\n');
    expect(out[0]).toBe('INVALID: the history is not linearizable  (test t, seed 1, 1.0s)');
    expect(out.filter((l) => l.startsWith('  monitor: election'))).toHaveLength(10);
    expect(out).toContain('  monitor: ... 2 more (results.json)');
  });
});
