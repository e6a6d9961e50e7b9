import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { cpuUs, ownCpuSeconds, processCpuSeconds, roleCpuPerOp } from '../../bench/proc-cpu.js';

const onLinux = process.platform === 'linux';

describe('processCpuSeconds (/proc/<pid>/stat)', () => {
  it.skipIf(!onLinux)("reads this process's CPU time as process.cpuUsage() sees it, and it grows with work", () => {
    const before = processCpuSeconds(process.pid);
    expect(before).not.toBeNull();
    // Within a tick or two of what Node reports for the same process (clock ticks are 10 ms).
    expect(Math.abs(before! - ownCpuSeconds())).toBeLessThan(0.5);
    const until = ownCpuSeconds() + 0.3;
    let x = 0;
    while (ownCpuSeconds() < until) x += Math.sqrt(x + 1);
    expect(x).toBeGreaterThan(0);
    const after = processCpuSeconds(process.pid)!;
    expect(after - before!).toBeGreaterThanOrEqual(0.2);
  });

  it.skipIf(!onLinux)('is null for a process that is gone', () => {
    const child = spawnSync(process.execPath, ['-e', '0']);
    expect(child.status).toBe(0);
    expect(processCpuSeconds(child.pid!)).toBeNull();
  });
});

describe('roleCpuPerOp', () => {
  it('divides what each role spent between two samples by the ops, user and kernel apart, the followers averaged', () => {
    const s = (u: number, k: number) => ({ userSeconds: u, systemSeconds: k });
    const before = { leader: s(1, 1), followers: [s(0, 0), s(2, 2)], client: s(0.5, 0.5) };
    const after = { leader: s(1.3, 1.1), followers: [s(0.1, 0.05), s(2.3, 2.15)], client: s(0.6, 0.5) };
    const r = roleCpuPerOp(before, after, 1000);
    expect(r.leader.userUs).toBeCloseTo(300);
    expect(r.leader.systemUs).toBeCloseTo(100);
    expect(r.follower.userUs).toBeCloseTo(200);
    expect(r.follower.systemUs).toBeCloseTo(100);
    expect(cpuUs(r.client)).toBeCloseTo(100);
  });
});
