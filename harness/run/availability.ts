/**
 * Availability as time, beside the op ratio (issue 20: the kill run reported
 * 95.8% of ops answered during faults with 2.5 s in which nothing
 * completed). From the ok completions of the workload: the longest time
 * without one, and the share of the workload's time outside stalls, a stall
 * being a gap between ok completions longer than `stallMs`.
 */
import type { ProgressAvailability } from '../../report/evidence.js';

/** Stalls listed in results.json. */
const MAX_STALLS = 10;

/**
 * The stall threshold: an election timeout (a healthy cluster never waits
 * that long between completions at the default rate), or ten inter-op
 * intervals at a low --rate, whichever is longer.
 */
export function stallThresholdMs(electionTimeoutMaxMs: number, ratePerS: number): number {
  return Math.max(electionTimeoutMaxMs, 10_000 / ratePerS);
}

/** `oks`: sorted ok completion times (ms since the history began); the workload spans [0, workloadMs]. */
export function progressAvailability(oks: readonly number[], workloadMs: number, stallMs: number): ProgressAvailability {
  const gaps: { atMs: number; ms: number }[] = [];
  let prev = 0;
  for (const t of oks) {
    if (t > workloadMs) break;
    gaps.push({ atMs: prev, ms: t - prev });
    prev = t;
  }
  gaps.push({ atMs: prev, ms: Math.max(0, workloadMs - prev) });
  const stalls = gaps.filter((g) => g.ms > stallMs).sort((a, b) => b.ms - a.ms);
  const longest = gaps.reduce((a, b) => (b.ms > a.ms ? b : a), { atMs: 0, ms: 0 });
  const stalled = stalls.reduce((sum, g) => sum + g.ms, 0);
  return {
    workloadMs,
    stallMs,
    longestGapMs: longest.ms,
    longestGapAtMs: longest.atMs,
    shareWithProgress: workloadMs <= 0 ? 1 : Math.max(0, 1 - stalled / workloadMs),
    stalls: stalls.slice(0, MAX_STALLS),
  };
}
