/**
 * The disk-recovery analysis (harness/run/disk-recovery.ts) on histories of
 * the shapes the disk nemesis writes (values as in a real run's
 * history.jsonl): a node that started on a flipped log is a finding, and
 * so is one that refused a torn tail.
 */
import { describe, expect, it } from 'vitest';
import type { HistoryOp } from '../../../checker/types.js';
import { diskRecoveryAnalysis } from '../../../harness/run/disk-recovery.js';

const op = (f: string, type: 'invoke' | 'info', value: unknown, timeNs: number): HistoryOp =>
  ({ process: 'nemesis', type, f, value, time: timeNs }) as HistoryOp;

const refused = {
  done: 'flipped-before-torn-write',
  offset: 17222,
  mask: 2,
  outcome: 'refused',
  exit: 3,
  reason: 'storage corruption ...',
};
// n3 of the run that found it (old recovery, `--nemesis disk --disk-faults flip-before-torn-tail --seed 1`).
const accepted = { done: 'flipped-before-torn-write', offset: 19472, mask: 8, tornOffset: 19550, tornBytes: 32, outcome: 'started' };

describe('diskRecoveryAnalysis', () => {
  it('is absent without disk faults', () => {
    expect(diskRecoveryAnalysis([op('start-partition', 'info', { results: { n1: accepted } }, 1e9)])).toBeNull();
    // The final heal of a run without the disk kind.
    expect(diskRecoveryAnalysis([op('stop-disk', 'info', { nodes: [], results: {} }, 1e9)])).toBeNull();
  });

  it('is valid when every flipped log was refused, and when a torn tail was dropped and the node started', () => {
    const a = diskRecoveryAnalysis([
      op('start-disk', 'invoke', { target: 'one', fault: 'flip-before-torn-tail' }, 1e9),
      op('start-disk', 'info', { fault: 'flip-before-torn-tail', nodes: ['n1'], results: { n1: refused } }, 2e9),
      op(
        'start-disk',
        'info',
        { fault: 'torn-tail', nodes: ['n2'], results: { n2: { done: 'appended-torn-write', outcome: 'started' } } },
        3e9,
      ),
      op('stop-disk', 'info', { nodes: ['n1'], results: { n1: { outcome: 'started' } } }, 4e9),
    ]);
    expect(a).toMatchObject({ name: 'disk-recovery', valid: true, findings: [] });
  });

  it('finds a node that refused a torn tail (it must cut it off and start)', () => {
    const a = diskRecoveryAnalysis([
      op(
        'start-disk',
        'info',
        {
          fault: 'torn-tail',
          nodes: ['n2'],
          results: { n2: { done: 'appended-torn-write', offset: 4100, bytes: 17, outcome: 'refused', exit: 3 } },
        },
        3e9,
      ),
    ]);
    expect(a).toMatchObject({ valid: false, conclusion: 'a node refused to start on a log with only a torn tail', firstFindingAtMs: 3000 });
    expect(a?.findings).toEqual([expect.stringMatching(/^disk-recovery: n2 refused to start after appended-torn-write \(at byte 4100\)/)]);
  });

  it('finds a node that started on a flipped log, in start-disk results and in a voter trap bounce, with the time of the first', () => {
    const a = diskRecoveryAnalysis([
      op('start-disk', 'info', { fault: 'flip-before-torn-tail', nodes: ['n3'], results: { n3: accepted } }, 4_665_152_168),
      op(
        'stop-disk',
        'info',
        { nodes: [], results: {}, voterBounces: [{ node: 'n2', term: 4, done: 'flipped', offset: 88, outcome: 'started' }] },
        9e9,
      ),
    ]);
    expect(a?.valid).toBe(false);
    expect(a?.firstFindingAtMs).toBeCloseTo(4665.152168, 6);
    expect(a?.findings).toEqual([
      expect.stringMatching(/^disk-recovery: n3 started on its log after flipped-before-torn-write \(byte 19472\): a correct node refuses/),
      expect.stringMatching(/^disk-recovery: n2 started on its log after flipped \(byte 88\)/),
    ]);
  });
});
