/**
 * The run-queue wait from /proc/PID/schedstat (node/util/schedstat.ts): the
 * parser on hand-made text, and the real file of this process where Linux has one.
 */
import { describe, expect, it } from 'vitest';
import { parseSchedstatWaitMs, runQueueWaitMs } from '../../../node/util/schedstat.js';

describe('schedstat', () => {
  it('reads the second field (ns runnable but not running) as ms; anything else is null', () => {
    expect(parseSchedstatWaitMs('123456789 2500000 42\n')).toBe(2.5);
    expect(parseSchedstatWaitMs('1 0 0')).toBe(0);
    expect(parseSchedstatWaitMs('')).toBeNull();
    expect(parseSchedstatWaitMs('1 x 3')).toBeNull();
    expect(parseSchedstatWaitMs('1 -5 3')).toBeNull();
  });

  it.runIf(process.platform === 'linux')('reads this process as "self" and by pid; a process that does not exist is null', () => {
    expect(runQueueWaitMs('self')).toEqual(expect.any(Number));
    expect(runQueueWaitMs(process.pid)).toEqual(expect.any(Number));
    expect(runQueueWaitMs(2 ** 30)).toBeNull();
  });
});
