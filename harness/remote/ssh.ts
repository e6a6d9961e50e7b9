/**
 * A node's host over SSH (Jepsen's control over ssh), with the system's
 * `ssh` and `scp` (OpenSSH) through execa: no SSH library to trust, and
 * the user's own client configuration, agent and keys work as they do in
 * a terminal.
 *
 * Known hosts are explicit: every connection names the run's own
 * known_hosts file (UserKnownHostsFile) and accepts a host's key the first
 * time it is seen there and only that key afterwards
 * (StrictHostKeyChecking=accept-new), or, given a known_hosts file of the
 * user's (`--ssh-known-hosts`), accepts only the keys in it (yes). Never
 * an interactive prompt (BatchMode=yes), never a hang on a dead host
 * (ConnectTimeout, ServerAlive*).
 *
 * Long-lived processes are leased to the session (host-scripts.ts): the
 * ssh client holds the remote shell's input open; when the harness dies,
 * however it dies, the input ends and the host kills the node.
 */
import { execFileSync } from 'node:child_process';
import { execa } from 'execa';
import {
  describeExit,
  type CommandResult,
  type HostProcess,
  type HostSignal,
  type Lease,
  type ProcessExit,
  type Remote,
  type StartSpec,
  ControlLines,
} from './remote.js';
import { ControlShell } from './control-shell.js';
import { leasedProcessCommand, leaseScript, parseLeaseLine } from './host-scripts.js';
import { shellQuote } from './remote.js';

export interface SshTarget {
  readonly host: string;
  readonly user: string;
  readonly port: number;
  /** Private key file (-i); absent: ssh's own defaults and agent. */
  readonly keyPath?: string;
  /** The known_hosts file every connection uses. */
  readonly knownHostsPath: string;
  /** 'accept-new': learn a host's key on first sight into knownHostsPath; 'yes': only keys already in it. */
  readonly hostKeyPolicy: 'accept-new' | 'yes';
  readonly connectTimeoutS: number;
}

/** Options common to ssh and scp. */
export function sshOptions(t: SshTarget): string[] {
  return [
    ...(t.keyPath !== undefined ? ['-i', t.keyPath, '-o', 'IdentitiesOnly=yes'] : []),
    '-o',
    'BatchMode=yes',
    '-o',
    `StrictHostKeyChecking=${t.hostKeyPolicy}`,
    '-o',
    `UserKnownHostsFile=${t.knownHostsPath}`,
    '-o',
    'GlobalKnownHostsFile=/dev/null',
    '-o',
    'HashKnownHosts=no', // the run's file says in plain text which hosts it pinned
    '-o',
    `ConnectTimeout=${t.connectTimeoutS}`,
    '-o',
    'ServerAliveInterval=2',
    '-o',
    'ServerAliveCountMax=3',
    '-o',
    'LogLevel=ERROR',
  ];
}

export class SshRemote implements Remote {
  readonly host: string;

  private readonly control: ControlShell;

  constructor(private readonly target: SshTarget) {
    this.host = `${target.user}@${target.host}`;
    this.control = new ControlShell((command) => this.sshArgs(command), this.host);
  }

  private sshArgs(remoteCommand: string): string[] {
    return [...sshOptions(this.target), '-p', String(this.target.port), '-l', this.target.user, this.target.host, '--', remoteCommand];
  }

  private scpTarget(path: string): string {
    const host = this.target.host.includes(':') ? `[${this.target.host}]` : this.target.host;
    return `${this.target.user}@${host}:${shellQuote(path)}`;
  }

  /** Short commands go through the host's control shell (control-shell.ts): one session, not one per command. */
  run(
    command: string,
    args: readonly string[],
    opts: { readonly timeoutMs?: number; readonly input?: string } = {},
  ): Promise<CommandResult> {
    const line = [command, ...args].map(shellQuote).join(' ');
    return this.control.run(line, opts.input, opts.timeoutMs ?? (this.target.connectTimeoutS + 60) * 1000);
  }

  async upload(localPath: string, remotePath: string): Promise<void> {
    const dir = remotePath.replace(/\/[^/]*$/, '') || '/';
    const mk = await this.run('mkdir', ['-p', dir]);
    if (mk.exitCode !== 0) throw new Error(`ssh ${this.host}: mkdir -p ${dir}: ${mk.stderr.trim()}`);
    await this.scp(['-r', localPath, this.scpTarget(remotePath)]);
  }

  async download(remotePath: string, localPath: string): Promise<void> {
    await this.scp(['-r', this.scpTarget(remotePath), localPath]);
  }

  private async scp(args: string[]): Promise<void> {
    const r = await execa('scp', ['-q', ...sshOptions(this.target), '-P', String(this.target.port), ...args], {
      reject: false,
      stdin: 'ignore',
      timeout: 5 * 60_000,
    });
    if (r.exitCode !== 0) throw new Error(`scp ${args.slice(-2).join(' -> ')}: ${String(r.stderr ?? '').trim() || `exit ${r.exitCode}`}`);
  }

  async start(spec: StartSpec): Promise<HostProcess> {
    const env = Object.entries(spec.env ?? {}).map(([k, v]) => `${k}=${v}`);
    const command = env.length > 0 ? 'env' : spec.command;
    const args = env.length > 0 ? [...env, spec.command, ...spec.args] : spec.args;
    const child = execa('ssh', this.sshArgs(leasedProcessCommand(command, args, spec.logPath, spec.cwd, spec.control === true)), {
      stdin: 'pipe', // held open: the lease (host-scripts.ts)
      stdout: 'pipe',
      stderr: 'pipe',
      reject: false,
      buffer: false,
      cleanup: true,
    });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      if (stderr.length < 4000) stderr += d.toString();
    });
    let pidResolve: (pid: number) => void = () => undefined;
    let status: number | null = null;
    const pid = new Promise<number>((resolve) => (pidResolve = resolve));
    let buffered = '';
    let ended = false;
    // The session's input is the lease; with a control channel it also carries the requests (host-scripts.ts).
    const control = spec.control === true ? new ControlLines((line) => ended || child.stdin?.write(`${line}\n`)) : null;
    child.stdin?.on('error', () => undefined); // the session ended first: nothing to deliver to
    child.stdout?.on('data', (d: Buffer) => {
      buffered += d.toString();
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const parsed = parseLeaseLine(buffered.slice(0, nl));
        buffered = buffered.slice(nl + 1);
        if (parsed === null) continue;
        if ('pid' in parsed) pidResolve(parsed.pid);
        else if ('control' in parsed) control?.deliver(parsed.control);
        else status = parsed.status;
      }
    });
    const exited: Promise<ProcessExit> = child.then(() => {
      if (status === null)
        return { kind: 'signal', signal: `ssh session to ${this.host} ended (${stderr.trim().split('\n').pop() ?? 'no message'})` };
      return status > 128 ? { kind: 'signal', signal: signalName(status - 128) } : { kind: 'code', code: status };
    });
    // The session ends once the process has: nothing more to hold.
    void exited.then(() => {
      ended = true;
      child.stdin?.end();
    });
    const first = await Promise.race([pid, exited]);
    if (typeof first !== 'number') {
      throw new Error(
        `could not start ${spec.command} on ${this.host}: ${describeExit(first)}${stderr.trim() !== '' ? `: ${stderr.trim()}` : ''}`,
      );
    }
    return { pid: first, exited, ...(control !== null ? { control: control.channel } : {}) };
  }

  async signal(pid: number, signal: HostSignal): Promise<boolean> {
    const r = await this.run('kill', ['-s', signal.replace(/^SIG/, ''), String(pid)]);
    return r.exitCode === 0;
  }

  async killHard(pid: number): Promise<boolean> {
    const r = await this.run('sh', ['-c', `kill -CONT ${pid} 2>/dev/null; kill -KILL ${pid}`]);
    return r.exitCode === 0;
  }

  async procState(pid: number): Promise<string | null> {
    const r = await this.run('ps', ['-o', 'stat=', '-p', String(pid)]);
    const state = r.stdout.trim();
    return r.exitCode === 0 && state !== '' ? state.slice(0, 1) : null;
  }

  killSync(pid: number): void {
    try {
      execFileSync('ssh', this.sshArgs(`kill -CONT ${pid}; kill -KILL ${pid}`), { stdio: 'ignore', timeout: 5000 });
    } catch {
      // unreachable or already gone: the lease ends with the harness anyway
    }
  }

  async lease(cleanup: string): Promise<Lease> {
    const child = execa('ssh', this.sshArgs(`sh -c ${shellQuote(leaseScript(cleanup))}`), {
      stdin: 'pipe',
      stdout: 'ignore',
      stderr: 'pipe',
      reject: false,
      cleanup: false, // the lease must outlive a dying harness long enough to see its input end
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

  async close(): Promise<void> {
    this.control.close();
  }
}

function signalName(n: number): string {
  const names: Record<number, string> = { 1: 'SIGHUP', 2: 'SIGINT', 6: 'SIGABRT', 9: 'SIGKILL', 11: 'SIGSEGV', 15: 'SIGTERM' };
  return names[n] ?? `signal ${n}`;
}

/**
 * Checks that every host answers (`true` over ssh, in parallel); resolves
 * with one message per host that does not (unreachable, authentication
 * refused, unknown host key under 'yes').
 */
export async function probeHosts(remotes: readonly SshRemote[]): Promise<string[]> {
  const results = await Promise.all(
    remotes.map(async (r) => {
      try {
        const res = await r.run('true', []);
        return res.exitCode === 0 ? null : `${r.host}: \`true\` exited ${res.exitCode}`;
      } catch (err) {
        return (err as Error).message;
      }
    }),
  );
  return results.filter((m): m is string => m !== null);
}
