/**
 * This machine as a node's host: child processes (execa), the local file
 * system, process.kill. A started process runs under the kernel's
 * parent-death signal (orphan-guard.ts), so it cannot outlive the harness.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { cp } from 'node:fs/promises';
import { dirname } from 'node:path';
import { execa } from 'execa';
import { procState } from '../node-process.js';
import { guardedSpawn } from '../orphan-guard.js';
import { leaseScript } from './host-scripts.js';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import {
  CONTROL_FD,
  ControlLines,
  type CommandResult,
  type HostProcess,
  type HostSignal,
  type Lease,
  type ProcessExit,
  type Remote,
  type StartSpec,
} from './remote.js';

export class LocalRemote implements Remote {
  readonly host = 'local';
  /** Marks the host as this machine: a Db may then use what only a child process offers (an IPC channel). */
  readonly isLocal = true;

  async run(
    command: string,
    args: readonly string[],
    opts: { readonly timeoutMs?: number; readonly input?: string } = {},
  ): Promise<CommandResult> {
    const r = await execa(command, [...args], {
      reject: false,
      ...(opts.input !== undefined ? { input: opts.input } : { stdin: 'ignore' as const }),
      ...(opts.timeoutMs !== undefined ? { timeout: opts.timeoutMs } : {}),
    });
    if (r.failed && r.exitCode === undefined) throw new Error(`${command}: ${r.shortMessage ?? 'could not run'}`);
    return { exitCode: r.exitCode ?? 255, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') };
  }

  async upload(localPath: string, remotePath: string): Promise<void> {
    mkdirSync(dirname(remotePath), { recursive: true });
    if (localPath !== remotePath) await cp(localPath, remotePath, { recursive: true });
  }

  async download(remotePath: string, localPath: string): Promise<void> {
    mkdirSync(dirname(localPath), { recursive: true });
    if (localPath !== remotePath) await cp(remotePath, localPath, { recursive: true });
  }

  async start(spec: StartSpec): Promise<HostProcess> {
    mkdirSync(dirname(spec.logPath), { recursive: true });
    const guarded = guardedSpawn({ command: spec.command, args: spec.args });
    const fd = openSync(spec.logPath, 'a');
    let subprocess;
    try {
      subprocess = execa(guarded.command, [...guarded.args], {
        // execa accepts a file descriptor at run time; its types list only 1/2 (node-process.ts). With a control
        // channel: requests on stdin, answers on CONTROL_FD (a pipe; 3 is unused).
        stdio: (spec.control === true ? ['pipe', fd, fd, 'ignore', 'pipe'] : ['ignore', fd, fd]) as never,
        reject: false,
        cleanup: true,
        buffer: false,
        ...(spec.cwd !== undefined ? { cwd: spec.cwd } : {}),
        ...(spec.env !== undefined ? { env: spec.env } : {}),
      });
    } finally {
      closeSync(fd);
    }
    const pid = subprocess.pid;
    if (pid === undefined) throw new Error(`could not start ${spec.command} (see ${spec.logPath})`);
    const exited = subprocess.then((r): ProcessExit =>
      r.signal !== undefined
        ? { kind: 'signal', signal: r.signal }
        : { kind: 'code', code: typeof r.exitCode === 'number' ? r.exitCode : 255 },
    );
    if (spec.control !== true) return { pid, exited };
    const stdin = subprocess.stdin as Writable | null;
    const answers = (subprocess.stdio as unknown as (Readable | null)[])[CONTROL_FD] ?? null;
    if (stdin === null || answers === null) throw new Error(`could not open a control channel to ${spec.command}`);
    let ended = false;
    stdin.on('error', () => undefined); // it ended first: nothing to deliver to
    void exited.then(() => {
      ended = true;
      stdin.end();
    });
    const control = new ControlLines((line) => ended || stdin.write(`${line}\n`));
    createInterface({ input: answers, crlfDelay: Infinity }).on('line', (line) => control.deliver(line));
    return { pid, exited, control: control.channel };
  }

  async signal(pid: number, signal: HostSignal): Promise<boolean> {
    try {
      process.kill(pid, signal);
      return true;
    } catch {
      return false;
    }
  }

  async killHard(pid: number): Promise<boolean> {
    await this.signal(pid, 'SIGCONT');
    return this.signal(pid, 'SIGKILL');
  }

  async procState(pid: number): Promise<string | null> {
    return procState(pid);
  }

  killSync(pid: number): void {
    for (const s of ['SIGCONT', 'SIGKILL'] as const) {
      try {
        process.kill(pid, s);
      } catch {
        // already gone
      }
    }
  }

  /** `sh -c 'cat; cleanup'` in its own process group (a Ctrl-C to the harness's group must not end it before its input does). */
  async lease(cleanup: string): Promise<Lease> {
    const child = execa('sh', ['-c', leaseScript(cleanup)], {
      stdin: 'pipe',
      stdout: 'ignore',
      stderr: 'ignore',
      reject: false,
      cleanup: false,
      detached: true,
    });
    let released: Promise<void> | null = null;
    return {
      release: () => {
        released ??= (async () => {
          child.stdin?.end();
          await child;
        })();
        return released;
      },
      releaseSync: () => {
        child.stdin?.destroy();
      },
    };
  }

  async close(): Promise<void> {}
}

/** Whether a command is on this machine's PATH. */
export function localCommandExists(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
