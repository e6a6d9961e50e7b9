import { describe, expect, it } from 'vitest';
import { median, quantile, quantileOfSorted } from '../../bench/stats.js';

describe('bench stats', () => {
  it('takes the element at floor(q * n), sorting first where asked, NaN when empty', () => {
    expect(quantileOfSorted([1, 2, 3, 4], 0.5)).toBe(3);
    expect(quantileOfSorted([1, 2, 3, 4], 0.99)).toBe(4);
    expect(quantile([4, 1, 3, 2], 0)).toBe(1);
    expect(quantile([4, 1, 3, 2], 0.5)).toBe(3);
    expect(quantile([], 0.5)).toBeNaN();
  });

  it('gives the median as the middle element, or the mean of the middle two', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });
});
