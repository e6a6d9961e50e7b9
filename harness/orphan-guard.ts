/**
 * No node may outlive the harness, paused or not (issue 15 item 8).
 *
 * The harness's own teardown (Cluster.stop, the process 'exit' hook, the
 * SIGINT/SIGTERM handlers) runs only when the harness gets to run code: a
 * SIGKILL, an OOM kill or a hard crash of the harness skips all of it. A
 * running node then notices its IPC channel close and exits by itself
 * (node/main.ts, 'disconnect'), but a node the `pause` nemesis holds in
 * SIGSTOP cannot notice anything: it stays behind in state T forever,
 * holding its port and its data directory.
 *
 * Something outside the node must act, and it must not depend on the
 * harness being alive. Two designs were weighed:
 *
 * - a detached watchdog process per cluster that watches the harness pid
 *   (a pipe that closes when the harness dies, or polling) and then SIGCONTs
 *   and SIGKILLs the nodes. It needs the current node pids (restarts change
 *   them) sent to it over a channel, it must guard against pid reuse before
 *   it signals anything, and it is one more process that can itself be
 *   killed or leak.
 * - the kernel's parent-death signal (prctl PR_SET_PDEATHSIG, Linux): set in
 *   the child just before it execs the node, it makes the kernel send
 *   SIGKILL to the node the moment the harness thread that spawned it exits,
 *   for whatever reason. SIGKILL needs no cooperation from its target and
 *   terminates a stopped process too. No pids to track, no reuse race, no
 *   extra process, nothing to leak.
 *
 * Node.js cannot call prctl, so the node is started through util-linux's
 * `setpriv --pdeathsig KILL --` (in every Debian base system), which sets
 * the signal and execs: the node keeps setpriv's pid, and the setting
 * survives the exec (it is cleared only for set-user-ID programs; `ip netns
 * exec`, which netns mode puts in between, is not one, and execs too).
 *
 * We chose the kernel. Where setpriv is missing (not Linux, a minimal
 * image) the harness says so once and starts the nodes as before: the
 * teardown paths still cover every end but a SIGKILL of the harness.
 */
import { execFileSync } from 'node:child_process';

export interface SpawnCommand {
  readonly command: string;
  readonly args: readonly string[];
}

/** The guard this machine offers, or why there is none. Computed once. */
export type OrphanGuard = { readonly kind: 'pdeathsig'; readonly setpriv: string } | { readonly kind: 'none'; readonly why: string };

let detected: OrphanGuard | null = null;

export function orphanGuard(): OrphanGuard {
  if (detected !== null) return detected;
  if (process.platform !== 'linux') {
    detected = { kind: 'none', why: 'the parent-death signal is Linux only' };
    return detected;
  }
  try {
    const path = execFileSync('sh', ['-c', 'command -v setpriv'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    // Older setpriv builds lack --pdeathsig: ask it to set one on `true`.
    execFileSync(path, ['--pdeathsig', 'KILL', '--', 'true'], { stdio: 'ignore' });
    detected = { kind: 'pdeathsig', setpriv: path };
  } catch {
    detected = { kind: 'none', why: 'setpriv (util-linux) with --pdeathsig is not installed' };
  }
  return detected;
}

/** `spawn` wrapped so the kernel SIGKILLs the node when the harness dies (when the machine offers it). */
export function guardedSpawn(spawn: SpawnCommand, guard: OrphanGuard = orphanGuard()): SpawnCommand {
  if (guard.kind === 'none') return spawn;
  return { command: guard.setpriv, args: ['--pdeathsig', 'KILL', '--', spawn.command, ...spawn.args] };
}
