/**
 * Majority arithmetic (§5.2, §5.3): a quorum is any strict majority of the
 * voting members, so any two quorums intersect.
 */
import { assert, assertionFailed } from '../util/assert.js';

export function quorumSize(voters: number): number {
  if (!(Number.isInteger(voters) && voters >= 1)) assertionFailed(`voters must be a positive integer, got ${voters}`);
  return Math.floor(voters / 2) + 1;
}

/**
 * The largest value that at least a quorum of `values` (one per voter) is
 * greater than or equal to: with matchIndex values, the highest index stored
 * on a majority (§5.3); with tick values, the latest instant a majority had
 * heard from the leader by.
 */
export function quorumValue(values: readonly number[]): number {
  assert(values.length >= 1, 'quorumValue needs at least one voter');
  const sorted = [...values].sort((a, b) => b - a);
  const value = sorted[quorumSize(values.length) - 1];
  assert(value !== undefined, 'quorum index within voters');
  return value;
}
