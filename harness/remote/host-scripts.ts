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
import { shellQuote } from './remote.js';

/**
 * `sh -c SCRIPT sh COMMAND ARGS...`: starts COMMAND in the background
 * (under `setpriv --pdeathsig KILL` where the host has it, so it also dies
 * with this shell), prints `pid N`, watches standard input in a background
 * subshell (job control is off: its input must be named, fd 3), and prints
 * `exit S` when COMMAND ends (S > 128: killed by signal S - 128). The
 * watcher is stopped before `exit` is printed, so ending the session after
 * a normal exit kills nothing.
 */
export function leasedProcessScript(logPath: string, cwd: string | undefined): string {
  return [
    'exec 3<&0',
    cwd === undefined ? ':' : `cd ${shellQuote(cwd)} || exit 97`,
    'if command -v setpriv >/dev/null 2>&1; then set -- setpriv --pdeathsig KILL -- "$@"; fi',
    `"$@" >>${shellQuote(logPath)} 2>&1 </dev/null &`,
    'p=$!',
    'echo "pid $p"',
    '( cat <&3 >/dev/null; kill -CONT $p 2>/dev/null; kill -KILL $p 2>/dev/null ) >/dev/null 2>&1 &',
    'w=$!',
    'wait $p',
    's=$?',
    'kill $w 2>/dev/null',
    'echo "exit $s"',
  ].join('\n');
}

/** `sh -c SCRIPT`: waits for the end of standard input, then runs `cleanup`. */
export function leaseScript(cleanup: string): string {
  return `cat >/dev/null\n${cleanup}\n`;
}

/** The full command line of a leased process, as one string for a remote shell. */
export function leasedProcessCommand(command: string, args: readonly string[], logPath: string, cwd: string | undefined): string {
  return ['sh', '-c', shellQuote(leasedProcessScript(logPath, cwd)), 'sh', ...[command, ...args].map(shellQuote)].join(' ');
}

/** Parses the leased process's report lines: its pid, then its exit status. */
export function parseLeaseLine(line: string): { readonly pid: number } | { readonly status: number } | null {
  const pid = /^pid (\d+)$/.exec(line.trim());
  if (pid !== null) return { pid: Number(pid[1]) };
  const exit = /^exit (\d+)$/.exec(line.trim());
  if (exit !== null) return { status: Number(exit[1]) };
  return null;
}
