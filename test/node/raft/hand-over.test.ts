import { describe, expect, it } from 'vitest';
import { handOverTarget } from '../../../node/raft/hand-over.js';

describe('handOverTarget (thesis §3.10 before a leader removes itself)', () => {
  const match: Record<string, number> = { n1: 9, n2: 4, n3: 7, n4: 8 };
  const matchIndexOf = (id: string): number => match[id] ?? 0;

  it('picks the most caught-up other voter, never itself nor a learner', () => {
    expect(handOverTarget('n1', { voters: ['n1', 'n2', 'n3'], learners: ['n4'] }, matchIndexOf)).toBe('n3');
    expect(handOverTarget('n3', { voters: ['n1', 'n2', 'n3', 'n4'], learners: [] }, matchIndexOf)).toBe('n1');
  });

  it('keeps the first of equals (the configuration order) and has nobody when the leader is the only voter', () => {
    expect(handOverTarget('n1', { voters: ['n1', 'n5', 'n6'], learners: [] }, matchIndexOf)).toBe('n5');
    expect(handOverTarget('n1', { voters: ['n1'], learners: ['n2'] }, matchIndexOf)).toBeNull();
  });
});
