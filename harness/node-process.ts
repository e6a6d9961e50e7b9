/**
 * One spawned rift node: the process, its IPC control channel and its log file.
 *
 * stdout and stderr are appended to one log file that survives restarts; every
 * start, kill and restart writes a "=== <what> at <time> ===" marker line first,
 * so a reader can tell the incarnations apart.
 *
 * Control replies carry no request id: the node answers in order, so waiters are
 * kept FIFO per reply type. A reply that arrives after its waiter timed out
 * resolves the next waiter of that type with slightly older data, which is
 * harmless for status and clock_ok.
 */
import type { ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, readSync, statSync, writeSync } from 'node:fs';
import { execa } from 'execa';
import type { ControlReply, ControlRequest, NodeStatus, StateDigest } from '../node/protocol.js';

export interface SpawnSpec {
  /** Executable and arguments (e.g. process.execPath + [main.js, --config, ...], or `ip netns exec NS node ...`). */
  readonly command: string;
  readonly args: readonly string[];
  readonly logPath: string;
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
}

export interface ClockState {
  readonly nowMs: number;
  readonly offsetMs: number;
  readonly rate: number;
}

/**
 * The node process ended before it reported ready. `exitCode` says why when
 * it exited on its own (node/exit-codes.ts: 3 is a refusal to start on
 * corrupt storage, an expected outcome of the disk nemesis); null for a
 * signal.
 */
export class NodeExitedBeforeReady extends Error {
  constructor(
    message: string,
    readonly exitCode: number | null,
  ) {
    super(message);
    this.name = 'NodeExitedBeforeReady';
  }
}

interface Waiter<T> {
  resolve: (value: T | null) => void;
  timer: NodeJS.Timeout;
}

/** The last `bytes` of a log file, for error messages. */
export function logTail(path: string, bytes = 3000): string {
  try {
    const size = statSync(path).size;
    const length = Math.min(size, bytes);
    const buffer = Buffer.alloc(length);
    const fd = openSync(path, 'r');
    try {
      readSync(fd, buffer, 0, length, size - length);
    } finally {
      closeSync(fd);
    }
    return buffer.toString('utf8');
  } catch {
    return '(no log file)';
  }
}

/** The scheduler state letter of a process (R, S, T...), or null if unknown. */
export function procState(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = stat.lastIndexOf(')'); // the comm field may contain spaces and parens
    return stat.slice(close + 2, close + 3) || null;
  } catch {
    return null;
  }
}

function appendMarker(path: string, what: string): void {
  const fd = openSync(path, 'a');
  try {
    writeSync(fd, `=== ${what} at ${new Date().toISOString()} ===\n`);
  } finally {
    closeSync(fd);
  }
}

export class NodeProcess {
  private child: ChildProcess | null = null;
  private exitPromise: Promise<void> | null = null;
  private alive = false;
  private stopped = false; // SIGSTOPped
  private starts = 0;
  private lastExit: string | null = null;
  private readonly statusWaiters: Waiter<NodeStatus>[] = [];
  private readonly digestWaiters: Waiter<StateDigest>[] = [];
  private readonly clockWaiters: Waiter<ClockState>[] = [];
  private onReady: ((reply: Extract<ControlReply, { type: 'ready' }>) => void) | null = null;
  private onEarlyExit: ((why: string) => void) | null = null;
  private lastExitCode: number | null = null;

  constructor(
    readonly id: string,
    private readonly spec: SpawnSpec,
  ) {}

  get pid(): number | null {
    return this.alive ? (this.child?.pid ?? null) : null;
  }
  isAlive(): boolean {
    return this.alive;
  }
  isPaused(): boolean {
    return this.alive && this.stopped;
  }
  /** How the last incarnation ended ("code 0", "signal SIGKILL"), or null. */
  get exitDescription(): string | null {
    return this.lastExit;
  }
  /** The exit code of the last incarnation when it exited on its own (node/exit-codes.ts NODE_EXIT), else null (running, or a signal). */
  get exitCode(): number | null {
    return this.alive ? null : this.lastExitCode;
  }

  /** Spawns the node and waits for its IPC 'ready'. Rejects (with the log tail) if it exits or the deadline passes first. */
  async start(readyTimeoutMs: number): Promise<void> {
    if (this.alive) throw new Error(`${this.id} is already running (pid ${this.child?.pid})`);
    appendMarker(this.spec.logPath, this.starts === 0 ? 'start' : 'restart');
    this.starts++;
    const fd = openSync(this.spec.logPath, 'a');
    let subprocess;
    try {
      subprocess = execa(this.spec.command, [...this.spec.args], {
        ipc: true,
        stdin: 'ignore',
        // execa 9 accepts any file descriptor at run time but its types only
        // list 1/2 for stdout/stderr: the node writes straight into the log
        // file (O_APPEND), with no pipe through the harness.
        stdout: fd as never,
        stderr: fd as never,
        reject: false,
        cleanup: true, // killed if the harness process exits
        buffer: false, // never accumulate IPC messages (a long run sends many)
        ...(this.spec.env === undefined ? {} : { env: this.spec.env }),
        ...(this.spec.cwd === undefined ? {} : { cwd: this.spec.cwd }),
      });
    } finally {
      closeSync(fd); // the child holds its own copy (spawn dups it synchronously)
    }
    const child = subprocess as unknown as ChildProcess;
    this.child = child;
    this.alive = true;
    this.stopped = false;
    this.lastExit = null;
    child.on('message', (message: unknown) => this.onMessage(message));
    child.on('error', () => undefined); // IPC channel errors surface as exits or timeouts
    this.exitPromise = subprocess.then((result) => {
      this.alive = false;
      this.stopped = false;
      const how =
        result.signal !== undefined
          ? `signal ${result.signal}`
          : result.exitCode !== undefined
            ? `code ${result.exitCode}`
            : (result.shortMessage ?? 'unknown exit');
      this.lastExit = how;
      this.lastExitCode = result.signal === undefined && typeof result.exitCode === 'number' ? result.exitCode : null;
      this.flushWaiters();
      this.onEarlyExit?.(how);
    });

    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.onReady = null;
        this.onEarlyExit = null;
        reject(
          new Error(
            `${this.id} did not report ready within ${readyTimeoutMs} ms; log tail (${this.spec.logPath}):\n${logTail(this.spec.logPath)}`,
          ),
        );
      }, readyTimeoutMs);
      this.onReady = () => {
        clearTimeout(timer);
        this.onReady = null;
        this.onEarlyExit = null;
        resolve();
      };
      this.onEarlyExit = (why) => {
        clearTimeout(timer);
        this.onReady = null;
        this.onEarlyExit = null;
        reject(
          new NodeExitedBeforeReady(
            `${this.id} exited before it was ready (${why}); log tail (${this.spec.logPath}):\n${logTail(this.spec.logPath)}`,
            this.lastExitCode,
          ),
        );
      };
    });
  }

  /** SIGKILL (works on a stopped process too) and wait for the exit. */
  async kill(deadlineMs = 10_000): Promise<void> {
    if (!this.alive || this.child === null) return;
    appendMarker(this.spec.logPath, 'kill');
    this.child.kill('SIGKILL');
    await this.waitExit(deadlineMs);
  }

  async waitExit(deadlineMs: number): Promise<void> {
    if (this.exitPromise === null) return;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.exitPromise,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`${this.id} (pid ${this.child?.pid}) did not exit within ${deadlineMs} ms`)),
            deadlineMs,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** SIGSTOP; on Linux waits (briefly) until /proc shows the process stopped, since signal delivery is asynchronous. */
  async pause(): Promise<void> {
    if (!this.alive || this.child === null) throw new Error(`cannot pause ${this.id}: not running`);
    this.child.kill('SIGSTOP');
    this.stopped = true;
    // A stopped node cannot answer: pending requests resolve null now.
    this.flushWaiters();
    const pid = this.child.pid;
    if (pid === undefined || process.platform !== 'linux') return;
    const deadline = Date.now() + 1000;
    while (Date.now() < deadline && this.alive) {
      const state = procState(pid);
      if (state === null || state === 'T' || state === 't') return;
      await new Promise((r) => setTimeout(r, 2));
    }
  }

  resume(): void {
    if (!this.alive || this.child === null) return;
    this.child.kill('SIGCONT');
    this.stopped = false;
  }

  /** Synchronous last-resort kill (process 'exit' handler): SIGCONT then SIGKILL, no waiting. */
  killSync(): void {
    const pid = this.child?.pid;
    if (!this.alive || pid === undefined) return;
    for (const signal of ['SIGCONT', 'SIGKILL'] as const) {
      try {
        process.kill(pid, signal);
      } catch {
        // already gone
      }
    }
  }

  /** The node's status over IPC; null if dead, paused or no answer in time. */
  status(timeoutMs = 1000): Promise<NodeStatus | null> {
    if (!this.alive || this.stopped) return Promise.resolve(null);
    return this.request({ type: 'status' }, this.statusWaiters, timeoutMs);
  }

  /** The digest of the node's replicated state over IPC (protocol.ts StateDigest); null if dead, paused or no answer in time. */
  stateDigest(timeoutMs = 5000): Promise<StateDigest | null> {
    if (!this.alive || this.stopped) return Promise.resolve(null);
    return this.request({ type: 'state_digest' }, this.digestWaiters, timeoutMs);
  }

  /** Adjusts the node's injected clock; resolves with the new clock state. */
  async clock(change: { offsetMs?: number; rate?: number; bumpMs?: number }, timeoutMs = 2000): Promise<ClockState> {
    if (!this.alive) throw new Error(`cannot change the clock of ${this.id}: not running`);
    if (this.stopped) throw new Error(`cannot change the clock of ${this.id}: paused`);
    const request: ControlRequest = {
      type: 'clock',
      ...(change.offsetMs === undefined ? {} : { offsetMs: change.offsetMs }),
      ...(change.rate === undefined ? {} : { rate: change.rate }),
      ...(change.bumpMs === undefined ? {} : { bumpMs: change.bumpMs }),
    };
    const reply = await this.request(request, this.clockWaiters, timeoutMs);
    if (reply === null) throw new Error(`${this.id} did not acknowledge the clock change within ${timeoutMs} ms`);
    return reply;
  }

  private request<T>(message: ControlRequest, waiters: Waiter<T>[], timeoutMs: number): Promise<T | null> {
    const child = this.child;
    if (child === null || !child.connected) return Promise.resolve(null);
    return new Promise<T | null>((resolve) => {
      const waiter: Waiter<T> = {
        resolve,
        timer: setTimeout(() => {
          const i = waiters.indexOf(waiter);
          if (i >= 0) waiters.splice(i, 1);
          resolve(null);
        }, timeoutMs),
      };
      waiters.push(waiter);
      try {
        child.send(message, (err) => {
          if (err) this.settle(waiters, waiter, null);
        });
      } catch {
        this.settle(waiters, waiter, null);
      }
    });
  }

  private settle<T>(waiters: Waiter<T>[], waiter: Waiter<T>, value: T | null): void {
    const i = waiters.indexOf(waiter);
    if (i < 0) return;
    waiters.splice(i, 1);
    clearTimeout(waiter.timer);
    waiter.resolve(value);
  }

  private onMessage(message: unknown): void {
    if (typeof message !== 'object' || message === null) return;
    const reply = message as ControlReply;
    switch (reply.type) {
      case 'ready':
        this.onReady?.(reply);
        return;
      case 'status': {
        const w = this.statusWaiters[0];
        if (w !== undefined) this.settle(this.statusWaiters, w, reply.status);
        return;
      }
      case 'state_digest': {
        const w = this.digestWaiters[0];
        if (w !== undefined) this.settle(this.digestWaiters, w, reply.digest);
        return;
      }
      case 'clock_ok': {
        const w = this.clockWaiters[0];
        if (w !== undefined) this.settle(this.clockWaiters, w, { nowMs: reply.nowMs, offsetMs: reply.offsetMs, rate: reply.rate });
        return;
      }
      default:
        return; // unknown messages from a node are ignored, never fatal
    }
  }

  private flushWaiters(): void {
    for (const w of this.digestWaiters.splice(0)) {
      clearTimeout(w.timer);
      w.resolve(null);
    }
    for (const w of this.statusWaiters.splice(0)) {
      clearTimeout(w.timer);
      w.resolve(null);
    }
    for (const w of this.clockWaiters.splice(0)) {
      clearTimeout(w.timer);
      w.resolve(null);
    }
  }
}
