/**
 * How a run ended, its verdict and its exit status. A run either reached
 * its analyses (and their merged verdict, analysis.ts) or did not: it
 * crashed, or Ctrl-C stopped it before a verdict.
 */
import { EXIT, exitCodeOfVerdict } from '../../checker/exit-codes.js';
import type { CheckResult } from '../../checker/types.js';
import { assertNever } from '../../node/util/assert.js';
import type { WireMonitorReport } from '../net/types.js';
import type { FaultEvidence, ProgressAvailability } from '../../report/evidence.js';
import { mergeAnalyses, type Analysis } from './analysis.js';

export type RunVerdict = true | false | 'unknown' | 'crashed' | 'interrupted';

export type RunEnd =
  | {
      readonly kind: 'analysed';
      /** The linearizability checker first, then the wire monitor where there is one, then progress. */
      readonly analyses: readonly Analysis[];
      /** The checker's full result (per-key results, counterexamples, timings). */
      readonly checker: CheckResult;
      /** The wire monitor's report (null without one: --net netns or direct). */
      readonly monitor: WireMonitorReport | null;
      /** What each fault did (evidence.ts). */
      readonly evidence: readonly FaultEvidence[];
      /** Availability over time (availability.ts). */
      readonly availability: ProgressAvailability;
    }
  | { readonly kind: 'crashed'; readonly error: string }
  | { readonly kind: 'interrupted'; readonly error: string };

export function verdictOf(end: RunEnd): RunVerdict {
  switch (end.kind) {
    case 'analysed':
      return mergeAnalyses(end.analyses).valid;
    case 'crashed':
      return 'crashed';
    case 'interrupted':
      return 'interrupted';
    default:
      return assertNever(end, 'run end');
  }
}

/** A verdict reached (valid, invalid or unknown), as opposed to a run that ended without one. */
export function isVerdict(v: RunVerdict): v is true | false | 'unknown' {
  return v === true || v === false || v === 'unknown';
}

export function exitCodeFor(verdict: RunVerdict): number {
  return isVerdict(verdict) ? exitCodeOfVerdict(verdict) : EXIT.crash;
}

/**
 * The exit code of several runs: a crash first (as Jepsen's test-all), then
 * invalid over unknown (Jepsen's merge-valid: false beats :unknown, a
 * definite finding beats an inconclusive one), then valid.
 */
export function worstExitCode(codes: readonly number[]): number {
  for (const c of [EXIT.crash, EXIT.invalid, EXIT.unknown]) if (codes.includes(c)) return c;
  return EXIT.valid;
}
