import { describe, expect, it } from 'vitest';
import { reproduceArgs } from '../../../harness/run/run-dir.js';

describe('reproduction (test.json)', () => {
  it('reproduceArgs pins the run seed and drops --test-count', () => {
    expect(reproduceArgs(['--nemesis', 'kill', '--seed', '5', '--test-count', '3', '--rate=10'], 7)).toEqual([
      '--nemesis',
      'kill',
      '--rate=10',
      '--seed',
      '7',
    ]);
    expect(reproduceArgs(['--seed=5', '--test-count=2'], 6)).toEqual(['--seed', '6']);
  });
});
