import { describe, expect, it } from 'vitest';
import { inLanes } from '../../../harness/gate/lanes.js';

/** A job that finishes when its gate is opened, recording how many jobs ran at once when it started. */
function gatedJobs(count: number) {
  let running = 0;
  let peak = 0;
  const started: number[] = [];
  const opens: (() => void)[] = [];
  const jobs = Array.from({ length: count }, (_, i) => async () => {
    started.push(i);
    running++;
    peak = Math.max(peak, running);
    await new Promise<void>((resolve) => opens.push(resolve));
    running--;
    return i * 10;
  });
  return { jobs, started, opens, peak: () => peak };
}

/** Let queued promise callbacks run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('inLanes', () => {
  it('runs at most `lanes` jobs at once and returns results in the jobs order, whatever order they end in', async () => {
    const { jobs, started, opens, peak } = gatedJobs(5);
    const done = inLanes(jobs, 2);
    await settle();
    expect(started).toEqual([0, 1]);
    opens[1]!(); // the second job ends first: its lane takes the third
    await settle();
    expect(started).toEqual([0, 1, 2]);
    for (let i = 0; i < 10 && started.length < 5; i++) {
      for (const open of opens) open();
      await settle();
    }
    for (const open of opens) open();
    expect(await done).toEqual([0, 10, 20, 30, 40]);
    expect(peak()).toBe(2);
  });

  it('one lane runs the jobs one after another; more lanes than jobs start them all', async () => {
    const one = gatedJobs(3);
    const serial = inLanes(one.jobs, 1);
    await settle();
    expect(one.started).toEqual([0]);
    for (let i = 0; i < 5; i++) {
      for (const open of one.opens) open();
      await settle();
    }
    expect(await serial).toEqual([0, 10, 20]);
    expect(one.peak()).toBe(1);
    const wide = gatedJobs(3);
    const all = inLanes(wide.jobs, 8);
    await settle();
    expect(wide.started).toEqual([0, 1, 2]);
    for (const open of wide.opens) open();
    expect(await all).toEqual([0, 10, 20]);
  });

  it('refuses a lane count that is not a positive integer, and returns [] for no jobs', async () => {
    await expect(inLanes([async () => 1], 0)).rejects.toThrow(/positive integer/);
    await expect(inLanes([async () => 1], 1.5)).rejects.toThrow(/positive integer/);
    expect(await inLanes([], 2)).toEqual([]);
  });
});
