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
  // A copy sorted high to low by insertion: a handful of voters, and the leader asks on every acknowledgement
  // (Array#sort with a comparator costs a call per comparison and more than the sort itself here).
  const sorted = values.slice();
  for (let i = 1; i < sorted.length; i++) {
    const v = sorted[i]!;
    let j = i - 1;
    while (j >= 0 && sorted[j]! < v) {
      sorted[j + 1] = sorted[j]!;
      j--;
    }
    sorted[j + 1] = v;
  }
  const value = sorted[quorumSize(values.length) - 1];
  assert(value !== undefined, 'quorum index within voters');
  return value;
}
