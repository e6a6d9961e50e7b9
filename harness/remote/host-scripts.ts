/**
 * The shell scripts a host runs for the harness (POSIX sh, on the host's
 * side of an ssh session, or here): a process on a lease, and a cleanup on
 * a lease. Both tie what the harness leaves on a host to the session's
 * standard input: while the harness lives it holds that input open; when
 * it goes (released, crashed, SIGKILLed, the connection lost) the input
 * ends, and the host kills the process (SIGCONT then SIGKILL: a paused one
 * too) or runs the cleanup on its own. The same idea as the local orphan
 * guard (orphan-guard.ts), with the session in place of the parent process.
 */
import { CONTROL_FD, shellQuote } from './remote.js';

/**
 * `sh -c SCRIPT sh COMMAND ARGS...`: starts COMMAND in the background
 * (under `setpriv --pdeathsig KILL` where the host has it, so it also dies
 * with this shell), prints `pid N`, watches standard input in a background
 * subshell (job control is off: its input must be named, fd 3), and prints
 * `exit S` when COMMAND ends (S > 128: killed by signal S - 128). The
 * watcher is stopped before `exit` is printed, so ending the session after
 * a normal exit kills nothing.
 */
export function leasedProcessScript(logPath: string, cwd: string | undefined, control = false): string {
  const log = shellQuote(logPath);
  return [
    'exec 3<&0',
    cwd === undefined ? ':' : `cd ${shellQuote(cwd)} || exit 97`,
    'if command -v setpriv >/dev/null 2>&1; then set -- setpriv --pdeathsig KILL -- "$@"; fi',
    ...(control
      ? [
          // A control channel (StartSpec.control): the session's input reaches the process's standard input through a
          // private FIFO (the watcher copies it there), and the process answers on descriptor CONTROL_FD, a copy of the
          // session's output, beside the pid and exit lines.
          'f=$(mktemp -u "${TMPDIR:-/tmp}/rift-control.XXXXXXXX") && mkfifo -m 600 "$f" || exit 96',
          `"$@" ${CONTROL_FD}>&1 >>${log} 2>&1 <"$f" &`,
          'p=$!',
          'echo "pid $p"',
          '( cat <&3 >"$f"; kill -CONT $p 2>/dev/null; kill -KILL $p 2>/dev/null ) >/dev/null 2>&1 &',
        ]
      : [
          `"$@" >>${log} 2>&1 </dev/null &`,
          'p=$!',
          'echo "pid $p"',
          '( cat <&3 >/dev/null; kill -CONT $p 2>/dev/null; kill -KILL $p 2>/dev/null ) >/dev/null 2>&1 &',
        ]),
    'w=$!',
    'wait $p',
    's=$?',
    'kill $w 2>/dev/null',
    ...(control ? ['rm -f "$f"'] : []),
    'echo "exit $s"',
  ].join('\n');
}

/** `sh -c SCRIPT`: waits for the end of standard input, then runs `cleanup`. */
export function leaseScript(cleanup: string): string {
  return `cat >/dev/null\n${cleanup}\n`;
}

/** The full command line of a leased process, as one string for a remote shell. */
export function leasedProcessCommand(
  command: string,
  args: readonly string[],
  logPath: string,
  cwd: string | undefined,
  control = false,
): string {
  return ['sh', '-c', shellQuote(leasedProcessScript(logPath, cwd, control)), 'sh', ...[command, ...args].map(shellQuote)].join(' ');
}

/** Parses the leased process's report lines: its pid, then its exit status; with a control channel, its answers in between. */
export function parseLeaseLine(line: string): { readonly pid: number } | { readonly status: number } | { readonly control: string } | null {
  const pid = /^pid (\d+)$/.exec(line.trim());
  if (pid !== null) return { pid: Number(pid[1]) };
  const exit = /^exit (\d+)$/.exec(line.trim());
  if (exit !== null) return { status: Number(exit[1]) };
  // The process's own answers are JSON objects (rift's ControlReply), one per line.
  if (line.startsWith('{')) return { control: line };
  return null;
}
