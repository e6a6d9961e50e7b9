/**
 * The odds of a k-of-n gate cell (issue 20: detection claims that hold on
 * fresh seeds). A bug cell runs on fresh seeds and passes when at least k
 * of n runs find the bug. With its detection rate p measured by the study
 * (npm run gate -- --study), two chances say what the cell is worth:
 *
 * - a false red: the bug is still found at rate p, yet fewer than k of n
 *   runs find it (the gate fails on noise): P[Bin(n, p) < k];
 * - a missed regression: detection fell to some lower rate q, yet k of n
 *   runs still find it (the gate passes a weakened harness): P[Bin(n, q) >= k].
 *
 * The measured rate is taken with Laplace's rule, (detected + 1) / (runs + 2),
 * so that 10 of 10 does not claim certainty.
 */

/** P[Bin(n, p) = i]. */
function binomialPmf(n: number, i: number, p: number): number {
  let c = 1;
  for (let j = 1; j <= i; j++) c = (c * (n - j + 1)) / j;
  return c * p ** i * (1 - p) ** (n - i);
}

/** P[Bin(n, p) >= k]. */
export function atLeast(n: number, k: number, p: number): number {
  let sum = 0;
  for (let i = k; i <= n; i++) sum += binomialPmf(n, i, p);
  return Math.min(1, sum);
}

/** The detection rate a study's count stands for (Laplace's rule of succession). */
export function estimatedRate(detected: number, runs: number): number {
  return (detected + 1) / (runs + 2);
}

export interface CellOdds {
  readonly n: number;
  readonly k: number;
  /** The rate the odds assume: estimatedRate of the study's count. */
  readonly p: number;
  /** P[fewer than k of n find it | rate p]. */
  readonly falseRed: number;
  /** P[k of n still find it | rate q], for the regressed rate q. */
  readonly missedRegression: number;
  readonly regressedRate: number;
}

/** The rate a regression is assumed to fall to: half the measured one (the 100% → 60% is milder, and costlier to see). */
export function regressedRateOf(p: number): number {
  return p / 2;
}

export function cellOdds(n: number, k: number, detected: number, runs: number): CellOdds {
  const p = estimatedRate(detected, runs);
  const q = regressedRateOf(p);
  return { n, k, p, falseRed: 1 - atLeast(n, k, p), missedRegression: atLeast(n, k, q), regressedRate: q };
}

/**
 * Sequential k-of-n: stop as soon as the outcome is decided (k found, or
 * too few runs left to reach k). Returns whether another run is needed.
 */
export function needsAnotherRun(found: number, runsDone: number, n: number, k: number): boolean {
  if (found >= k) return false;
  return found + (n - runsDone) >= k;
}
