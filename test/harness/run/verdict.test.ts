import { describe, expect, it } from 'vitest';
import type { Analysis } from '../../../harness/run/analysis.js';
import { exitCodeFor, verdictOf, worstExitCode } from '../../../harness/run/verdict.js';
import { checkHistory } from '../../../checker/check.js';

const analysis = (name: string, valid: Analysis['valid']): Analysis => ({ name, valid, conclusion: name, brief: name, findings: [] });
const checker = checkHistory([], { model: 'cas-register' }); // verdictOf reads only the analyses

describe('exit codes', () => {
  it('maps verdicts to Jepsen exit codes', () => {
    expect([true, false, 'unknown', 'crashed', 'interrupted'].map((v) => exitCodeFor(v as never))).toEqual([0, 1, 2, 255, 255]);
  });

  it('the worst of several runs: crash, then invalid, then unknown', () => {
    expect(worstExitCode([0, 0])).toBe(0);
    expect(worstExitCode([0, 2])).toBe(2);
    expect(worstExitCode([2, 1, 0])).toBe(1);
    expect(worstExitCode([1, 255])).toBe(255);
    expect(worstExitCode([])).toBe(0);
  });
});

describe('verdictOf (how the run ended → its verdict)', () => {
  it('an analysed run: the merged verdict of its analyses', () => {
    const end = (valids: Analysis['valid'][]) => ({
      kind: 'analysed' as const,
      analyses: valids.map((v, i) => analysis(`a${i}`, v)),
      checker,
      monitor: null,
      evidence: [],
      availability: { workloadMs: 0, stallMs: 300, longestGapMs: 0, longestGapAtMs: 0, shareWithProgress: 1, stalls: [] },
    });
    expect(verdictOf(end([true, true]))).toBe(true);
    expect(verdictOf(end([true, false]))).toBe(false);
    expect(verdictOf(end(['unknown', true]))).toBe('unknown');
    expect(verdictOf(end(['unknown', false]))).toBe(false);
  });

  it('a run that ended without analyses: crashed or interrupted', () => {
    expect(verdictOf({ kind: 'crashed', error: 'boom' })).toBe('crashed');
    expect(verdictOf({ kind: 'interrupted', error: 'interrupted (Ctrl-C)' })).toBe('interrupted');
  });
});
