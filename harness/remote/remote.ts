/**
 * A node's host as the harness reaches it (Jepsen's control/Remote): run a
 * command there, copy files to and from it, start a long-lived process on it
 * and signal processes by pid. Two implementations: `local.ts` (this
 * machine, child processes) and `ssh.ts` (system ssh/scp). Everything the
 * Dbs and the nemeses do to a host goes through this interface, so a test
 * that runs on loopback runs on real machines unchanged.
 */

/** The signals the harness sends: kill, pause, resume (and a polite stop). */
export type HostSignal = 'SIGKILL' | 'SIGSTOP' | 'SIGCONT' | 'SIGTERM';

export interface CommandResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** How a started process ended: its exit code, or the signal that ended it. */
export type ProcessExit = { readonly kind: 'code'; readonly code: number } | { readonly kind: 'signal'; readonly signal: string };

export function describeExit(exit: ProcessExit): string {
  return exit.kind === 'code' ? `code ${exit.code}` : `signal ${exit.signal}`;
}

/**
 * The descriptor a process started with `control` writes its answers to
 * (its standard input carries the requests): rift's `--control-fd`.
 */
export const CONTROL_FD = 4;

/** A line channel to a process the harness started (rift's control requests where no IPC channel reaches). */
export interface ControlChannel {
  /** Writes one line to the process's standard input (dropped once it has ended). */
  send(line: string): void;
  /** Calls `listener` with each line the process writes on CONTROL_FD; returns the unsubscribe. */
  onLine(listener: (line: string) => void): () => void;
}

/** A long-lived process on a host (a database node). */
export interface HostProcess {
  /** Its pid on its host. */
  readonly pid: number;
  /** Resolves once it has ended, however that happened. */
  readonly exited: Promise<ProcessExit>;
  /** With StartSpec.control: its control channel. */
  readonly control?: ControlChannel;
}

export interface StartSpec {
  readonly command: string;
  readonly args: readonly string[];
  /** stdout and stderr are appended to this file on the host. */
  readonly logPath: string;
  readonly cwd?: string;
  readonly env?: Readonly<Record<string, string>>;
  /** Give it a control channel: requests on its standard input, its answers from CONTROL_FD (HostProcess.control). */
  readonly control?: boolean;
}

/** Fans a process's control lines out to the listeners (both Remotes). */
export class ControlLines {
  private readonly listeners = new Set<(line: string) => void>();

  constructor(private readonly write: (line: string) => void) {}

  readonly channel: ControlChannel = {
    send: (line) => this.write(line),
    onLine: (listener) => {
      this.listeners.add(listener);
      return () => this.listeners.delete(listener);
    },
  };

  deliver(line: string): void {
    for (const listener of [...this.listeners]) listener(line);
  }
}

export interface Remote {
  /** The host's name for messages and the run's records ("local", "root@10.0.0.5"). */
  readonly host: string;
  /** Runs a command to completion on the host; never rejects on a non-zero exit (the result says), rejects when the host cannot be reached. */
  run(command: string, args: readonly string[], opts?: { readonly timeoutMs?: number; readonly input?: string }): Promise<CommandResult>;
  /** Copies a local file to `remotePath` on the host (creating its directory). */
  upload(localPath: string, remotePath: string): Promise<void>;
  /** Copies `remotePath` on the host to a local file. */
  download(remotePath: string, localPath: string): Promise<void>;
  /**
   * Starts a long-lived process whose life is bound to the harness's: when
   * the harness dies (crash, SIGKILL), the process is killed too, paused or
   * not (local: the kernel's parent-death signal; ssh: the session's end).
   */
  start(spec: StartSpec): Promise<HostProcess>;
  /** Sends a signal to a pid on the host; resolves false when no such process exists. */
  signal(pid: number, signal: HostSignal): Promise<boolean>;
  /** SIGCONT then SIGKILL in one step (a stopped process would sit on anything but SIGKILL); false when it is gone. */
  killHard(pid: number): Promise<boolean>;
  /** The scheduler state letter of a process on the host (R, S, T...), or null if it is gone or unknown. */
  procState(pid: number): Promise<string | null>;
  /** Synchronous last resort for the process 'exit' hook: SIGCONT then SIGKILL, no waiting (best effort). */
  killSync(pid: number): void;
  /**
   * Runs `cleanup` (a shell command) on the host when the lease is released,
   * or when the harness goes away without releasing it (crash, SIGKILL,
   * lost connection): what the harness changed on a host (firewall rules)
   * does not outlive it.
   */
  lease(cleanup: string): Promise<Lease>;
  /** Releases connections to the host. */
  close(): Promise<void>;
}

/** A host's promise to run a cleanup when the harness goes (Remote.lease). */
export interface Lease {
  /** Runs the cleanup now and waits for it. Idempotent. */
  release(): Promise<void>;
  /** Synchronous last resort (process 'exit' hook): ends the lease; the host runs the cleanup on its own. */
  releaseSync(): void;
}

/** A word for a POSIX shell, single-quoted. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
