/**
 * The failover stages (bench/failover-stages.ts) from hand-made node logs in
 * the form node/main.ts writes them.
 */
import { describe, expect, it } from 'vitest';
import { failoverStages } from '../../bench/failover-stages.js';

const at = (iso: string): number => Date.parse(iso);

describe('failoverStages', () => {
  const n1 = [
    '2026-12-06T08:00:00.000Z n1 started term=3 lastLogIndex=10',
    '2026-12-06T08:00:00.010Z n1 role follower term=3 leader=n5 commitIndex=10',
    '2026-12-06T08:00:01.160Z n1 role pre_candidate term=3 leader=- commitIndex=40',
    '2026-12-06T08:00:01.163Z n1 role candidate term=4 leader=- commitIndex=40',
    '2026-12-06T08:00:01.168Z n1 role leader term=4 leader=n1 commitIndex=40',
  ].join('\n');
  const n2 = [
    // n2 was a candidate long before the kill: not this failover's.
    '2026-12-06T07:59:59.000Z n2 role candidate term=3 leader=- commitIndex=5',
    '2026-12-06T08:00:01.190Z n2 role pre_candidate term=4 leader=- commitIndex=40',
    'a line that is not a role change',
  ].join('\n');

  it('kill -> first candidacy -> first leader -> client success, from every node log, only after the kill', () => {
    const stages = failoverStages([n2, n1], at('2026-12-06T08:00:01.000Z'), at('2026-12-06T08:00:01.190Z'));
    expect(stages).toEqual({ detectionMs: 160, electionMs: 8, clientMs: 22 });
  });

  it('says null for what the logs do not show', () => {
    expect(failoverStages([n1], at('2026-12-06T08:00:02.000Z'), at('2026-12-06T08:00:02.100Z'))).toEqual({
      detectionMs: null,
      electionMs: null,
      clientMs: null,
    });
    // A leader logged without a candidacy after the kill (its candidacy fell in the kill's millisecond or before).
    const onlyLeader = '2026-12-06T08:00:01.168Z n1 role leader term=4 leader=n1 commitIndex=40';
    expect(failoverStages([onlyLeader], at('2026-12-06T08:00:01.000Z'), at('2026-12-06T08:00:01.200Z'))).toEqual({
      detectionMs: null,
      electionMs: null,
      clientMs: 32,
    });
  });
});
