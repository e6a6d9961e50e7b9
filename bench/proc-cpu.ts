/**
 * CPU time a process has used, from Linux's /proc/<pid>/stat (utime +
 * stime, fields 14 and 15, in clock ticks). The bench reports CPU per
 * operation beside ops/s: on a shared 2-core machine ops/s drifts by 10-20%
 * between runs minutes apart, while the CPU a node spends per operation is a
 * property of the code and moves much less.
 */
import { readFileSync } from 'node:fs';

/** USER_HZ: fixed at 100 on Linux for /proc (the kernel ABI; not CONFIG_HZ). */
const CLOCK_TICKS_PER_SECOND = 100;

/** CPU seconds `pid` has used so far in user and in kernel mode (all threads); null where /proc cannot tell (not Linux, gone). */
export function processCpuSplit(pid: number): { readonly userSeconds: number; readonly systemSeconds: number } | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The comm field (2) may hold spaces and parentheses: count fields after its closing one.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state), so utime (14) and stime (15) are at 11 and 12.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return null;
  return { userSeconds: utime / CLOCK_TICKS_PER_SECOND, systemSeconds: stime / CLOCK_TICKS_PER_SECOND };
}

/** CPU seconds (user + system, all threads) `pid` has used so far; null where /proc cannot tell (not Linux, gone). */
export function processCpuSeconds(pid: number): number | null {
  const split = processCpuSplit(pid);
  return split === null ? null : split.userSeconds + split.systemSeconds;
}

/** This process's CPU seconds (user + system, all threads). */
export function ownCpuSeconds(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}
