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

/** CPU seconds used in user and in kernel mode. */
export interface CpuSplit {
  readonly userSeconds: number;
  readonly systemSeconds: number;
}

/** CPU seconds `pid` has used so far in user and in kernel mode (all threads); null where /proc cannot tell (not Linux, gone). */
export function processCpuSplit(pid: number): CpuSplit | null {
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

/** This process's CPU seconds in user and in kernel mode (all threads). */
export function ownCpuSplit(): CpuSplit {
  const usage = process.cpuUsage();
  return { userSeconds: usage.user / 1e6, systemSeconds: usage.system / 1e6 };
}

/** CPU microseconds per operation of one role, user and kernel apart. */
export interface RoleCpu {
  readonly userUs: number;
  readonly systemUs: number;
}

/** CPU used so far by a cluster's leader, each follower, and the process driving the clients. */
export interface RoleCpuSample {
  readonly leader: CpuSplit;
  readonly followers: readonly CpuSplit[];
  readonly client: CpuSplit;
}

/** What each role spent between two samples, per operation; the followers' mean. */
export function roleCpuPerOp(
  before: RoleCpuSample,
  after: RoleCpuSample,
  ops: number,
): { readonly leader: RoleCpu; readonly follower: RoleCpu; readonly client: RoleCpu } {
  const per = (a: CpuSplit, b: CpuSplit): RoleCpu => ({
    userUs: ((a.userSeconds - b.userSeconds) * 1e6) / ops,
    systemUs: ((a.systemSeconds - b.systemSeconds) * 1e6) / ops,
  });
  const followers = after.followers.map((f, i) => per(f, before.followers[i]!));
  const mean = (pick: (r: RoleCpu) => number): number => followers.reduce((s, r) => s + pick(r), 0) / Math.max(1, followers.length);
  return {
    leader: per(after.leader, before.leader),
    follower: { userUs: mean((r) => r.userUs), systemUs: mean((r) => r.systemUs) },
    client: per(after.client, before.client),
  };
}

/** User plus kernel microseconds. */
export function cpuUs(r: RoleCpu): number {
  return r.userUs + r.systemUs;
}
