/**
 * One long-lived `sh` per host, over one ssh session, that runs the
 * harness's short commands (a signal, a ps, an nft ruleset) one at a time:
 * a command costs a round trip instead of a new ssh connection with its key
 * exchange, authentication and login shell (seconds on a loaded machine).
 *
 * Each command's input, output and error travel base64-encoded between
 * markers that carry a sequence number, so nothing a command prints can be
 * taken for the protocol:
 *
 *   harness → host: t=$(mktemp -d) ... (CMD) <in >out 2>err; s=$?
 *   host → harness: BEGIN n / base64(out) / base64(err) / END n s
 *
 * A command that does not finish by its deadline, or a session that ends,
 * fails the command; the next one opens a new session.
 */
import { execa, type ResultPromise } from 'execa';
import type { CommandResult } from './remote.js';

const sessionOptions = { stdin: 'pipe', stdout: 'pipe', stderr: 'pipe', reject: false, buffer: false, cleanup: true } as const;
type Session = ResultPromise<typeof sessionOptions>;

interface Pending {
  readonly seq: number;
  readonly resolve: (r: CommandResult) => void;
  readonly reject: (e: Error) => void;
  lines: string[];
}

export class ControlShell {
  private child: Session | null = null;
  private buffered = '';
  private stderr = '';
  private pending: Pending | null = null;
  private chain: Promise<unknown> = Promise.resolve();
  private seq = 0;

  /** `sshArgs(command)`: the ssh command line that runs `command` on the host. */
  constructor(
    private readonly sshArgs: (remoteCommand: string) => string[],
    private readonly host: string,
  ) {}

  /** Runs `script` (a shell command line) on the host; queued behind the commands before it. */
  run(script: string, input: string | undefined, timeoutMs: number): Promise<CommandResult> {
    const next = this.chain.then(() => this.runNow(script, input, timeoutMs));
    this.chain = next.catch(() => undefined);
    return next;
  }

  private open(): Session {
    if (this.child !== null) return this.child;
    this.buffered = '';
    this.stderr = '';
    const child = execa('ssh', this.sshArgs('exec sh'), sessionOptions);
    child.stdout?.on('data', (d: Buffer) => this.onData(d.toString()));
    child.stderr?.on('data', (d: Buffer) => {
      if (this.stderr.length < 4000) this.stderr += d.toString();
    });
    void child.then((r) => {
      if (this.child === child) this.child = null;
      const p = this.pending;
      this.pending = null;
      const why = this.stderr.trim().split('\n').slice(-2).join(' ') || `session ended (exit ${String(r.exitCode)})`;
      p?.reject(new Error(`ssh ${this.host}: ${why}`));
    });
    this.child = child;
    return child;
  }

  private async runNow(script: string, input: string | undefined, timeoutMs: number): Promise<CommandResult> {
    const child = this.open();
    const seq = ++this.seq;
    const stdin = input === undefined ? '' : `printf %s ${Buffer.from(input).toString('base64')} | base64 -d >"$t/in"; `;
    const line =
      `t=$(mktemp -d); : >"$t/in"; ${stdin}( ${script}\n) <"$t/in" >"$t/out" 2>"$t/err"; s=$?; ` +
      `echo "BEGIN ${seq}"; base64 -w0 <"$t/out"; echo; base64 -w0 <"$t/err"; echo; echo "END ${seq} $s"; rm -rf "$t"\n`;
    return new Promise<CommandResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending = null;
        this.close(); // the session is in an unknown state: the next command opens a new one
        reject(new Error(`ssh ${this.host}: no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending = {
        seq,
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
        lines: [],
      };
      child.stdin?.write(line);
    });
  }

  private onData(text: string): void {
    this.buffered += text;
    let nl: number;
    while ((nl = this.buffered.indexOf('\n')) >= 0) {
      const line = this.buffered.slice(0, nl);
      this.buffered = this.buffered.slice(nl + 1);
      const p = this.pending;
      if (p === null) continue;
      if (line === `BEGIN ${p.seq}`) {
        p.lines = [];
        continue;
      }
      const end = /^END (\d+) (\d+)$/.exec(line);
      if (end !== null && Number(end[1]) === p.seq) {
        this.pending = null;
        const [out = '', err = ''] = p.lines;
        p.resolve({
          exitCode: Number(end[2]),
          stdout: Buffer.from(out, 'base64').toString(),
          stderr: Buffer.from(err, 'base64').toString(),
        });
        continue;
      }
      p.lines.push(line);
    }
  }

  /** Ends the session (its shell exits at the end of its input). */
  close(): void {
    const child = this.child;
    this.child = null;
    child?.stdin?.end();
    child?.kill('SIGTERM');
  }
}
