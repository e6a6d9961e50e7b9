/**
 * How long a process has waited for a CPU: the second field of Linux's
 * /proc/PID/schedstat (ns spent runnable but not running). The harness's
 * starvation monitor reads it for nodes on its own machine; a node reports
 * its own in its status, so the monitor has it for nodes on other hosts too.
 */
import { readFileSync } from 'node:fs';

/** The run-queue wait in ms from a schedstat file's text, or null when it does not parse. */
export function parseSchedstatWaitMs(text: string): number | null {
  const ns = Number(text.trim().split(/\s+/)[1]);
  return Number.isFinite(ns) && ns >= 0 ? ns / 1e6 : null;
}

/**
 * The run-queue wait of process `pid` (`self`: this process's main thread; `thread-self`: the calling thread) so far,
 * in ms; null where there is no such file (no process, not Linux).
 */
export function runQueueWaitMs(pid: number | 'self' | 'thread-self'): number | null {
  try {
    return parseSchedstatWaitMs(readFileSync(`/proc/${pid}/schedstat`, 'utf8'));
  } catch {
    return null;
  }
}
