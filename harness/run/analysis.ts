/**
 * The analyses of a run and the one function that merges them into its
 * verdict (Jepsen's checker/compose + merge-valid).
 *
 * A run is judged by several independent analyses, each a checker in
 * Jepsen's sense: the linearizability checker on the client history, the
 * wire monitor on what the nodes said to each other, and later others (a
 * progress/availability checker, per-fault evidence). Each gives a verdict
 * and human-readable findings; none of them knows about the others, and the
 * summary and results.json are built from the list, never by patching one
 * analysis's text with another's.
 */
import type { Verdict } from '../../checker/types.js';

export interface Analysis {
  /** Which analysis: 'linearizability', 'wire-monitor' (later e.g. 'progress'). */
  readonly name: string;
  readonly valid: Verdict;
  /**
   * What it concluded, as the clause a summary headline uses after
   * "VALID: " / "INVALID: " / "UNKNOWN: " ("the history is linearizable").
   */
  readonly conclusion: string;
  /**
   * Its verdict in a few words, for naming it beside another analysis's
   * headline ("checker: linearizable").
   */
  readonly brief: string;
  /** Findings, one human-readable line each, at most MAX_FINDINGS + 1 (the last may say how many more). */
  readonly findings: readonly string[];
  /**
   * When its first finding became observable, ms since the history began
   * (the completion of the op no linearization could take, a violation on
   * the wire, the start of a stall); absent when it found nothing or cannot
   * say. The gate's study reports it as the time to detection.
   */
  readonly firstFindingAtMs?: number;
}

/** Findings an analysis shows before it says "... N more" (the full data is in results.json). */
export const MAX_FINDINGS = 10;

/** At most MAX_FINDINGS lines, then `more(n)` for the n left out. */
export function boundFindings(lines: readonly string[], more: (left: number) => string): string[] {
  if (lines.length <= MAX_FINDINGS) return [...lines];
  return [...lines.slice(0, MAX_FINDINGS), more(lines.length - MAX_FINDINGS)];
}

export interface MergedVerdict {
  /** false beats 'unknown' beats true (no analyses at all: true, as Jepsen's empty compose). */
  readonly valid: Verdict;
  /**
   * The analyses that decided it, in list order: those whose own verdict is
   * the merged one. When valid, all of them.
   */
  readonly decidedBy: readonly Analysis[];
}

/**
 * Jepsen's merge-valid: a definite finding (false) beats an inconclusive one
 * ('unknown'), which beats a clean bill (true). One analysis that found a
 * violation makes the run invalid whatever the others say: a history can be
 * linearizable by luck while the protocol is already broken on the wire.
 */
export function mergeAnalyses(analyses: readonly Analysis[]): MergedVerdict {
  const valid: Verdict = analyses.some((a) => a.valid === false) ? false : analyses.some((a) => a.valid === 'unknown') ? 'unknown' : true;
  return { valid, decidedBy: analyses.filter((a) => a.valid === valid) };
}
