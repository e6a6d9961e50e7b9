import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ownCpuSeconds, processCpuSeconds } from '../../bench/proc-cpu.js';

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
