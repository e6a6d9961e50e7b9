/**
 * The first analysis of a run: the linearizability checker (checker/) on the
 * client history, as a cas-register per key (Jepsen's independent checker
 * over linearizable).
 */
import { checkFile } from '../../checker/index.js';
import type { CheckResult } from '../../checker/types.js';
import { assertNever } from '../../node/util/assert.js';
import type { Analysis } from './analysis.js';

/** Keys named on one findings line; the rest are in results.json. */
const MAX_KEYS_NAMED = 20;

/** Checks every key of the history in `jsonlPath` within `timeLimitMs` (then 'unknown'). */
export function checkLinearizable(jsonlPath: string, timeLimitMs: number): Promise<CheckResult> {
  // witness: each decided key's linearization or minimal failing sub-history, for certificate.json (analyze.ts).
  return checkFile(jsonlPath, { model: 'cas-register', timeLimitMs, allKeys: true, witness: true });
}

export function linearizabilityAnalysis(result: CheckResult): Analysis {
  const keys = (ks: readonly string[]): string => `${ks.slice(0, MAX_KEYS_NAMED).join(', ')}${ks.length > MAX_KEYS_NAMED ? ' ...' : ''}`;
  const findings: string[] = [];
  if (result.failures.length > 0) findings.push(`not linearizable: ${keys(result.failures)}`);
  if (result.unknownKeys.length > 0) findings.push(`unknown (${result.unknownReason ?? 'limit'}): ${keys(result.unknownKeys)}`);
  const at = firstCounterexampleMs(result);
  return {
    name: 'linearizability',
    valid: result.valid,
    ...words(result.valid),
    findings,
    ...(at !== null ? { firstFindingAtMs: at } : {}),
  };
}

/** The earliest moment a failing key's counterexample op completed (or was invoked, if it never completed), ms. */
function firstCounterexampleMs(result: CheckResult): number | null {
  let at: number | null = null;
  for (const k of result.failures) {
    const op = result.keys[k]?.counterexample?.op;
    const t = op?.completion?.time ?? op?.invoke.time;
    if (typeof t === 'number' && (at === null || t / 1e6 < at)) at = t / 1e6;
  }
  return at;
}

function words(valid: CheckResult['valid']): { conclusion: string; brief: string } {
  switch (valid) {
    case true:
      return { conclusion: 'the history is linearizable', brief: 'checker: linearizable' };
    case false:
      return { conclusion: 'the history is not linearizable', brief: 'checker: not linearizable' };
    case 'unknown':
      return { conclusion: 'the checker ran out of time or memory', brief: 'checker: unknown' };
    default:
      return assertNever(valid, 'verdict');
  }
}
