/**
 * Real SSH hosts on one machine, for the --hosts tests (root only): one
 * network namespace per host with its own address on a bridge in the root
 * namespace, and Debian's openssh-server running in each (`sshd -D -f
 * CONFIG`: its own host key, an AuthorizedKeysFile holding a throw-away
 * client key). Traffic stays on these namespaces and the bridge. stop()
 * removes every sshd, namespace, bridge and key; the sshds run under the
 * parent-death signal, so a crashed test leaves no sshd behind.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NetnsReaper } from '../../harness/net/netns-reaper.js';

/** Why the fixture cannot run here, or null. */
export function sshHostsUnavailable(): string | null {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return 'needs root on Linux (network namespaces)';
  for (const [cmd, pkg] of [
    ['/usr/sbin/sshd', 'openssh-server'],
    ['ssh', 'openssh-client'],
    ['ssh-keygen', 'openssh-client'],
    ['ip', 'iproute2'],
    ['nft', 'nftables'],
    ['setpriv', 'util-linux'],
  ] as const) {
    try {
      execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    } catch {
      return `needs ${cmd} (apt-get install -y ${pkg})`;
    }
  }
  return null;
}

function sh(cmd: string, args: string[]): void {
  execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    const done = (ok: boolean): void => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(500, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

export class SshHosts {
  readonly dir: string;
  readonly clientKey: string;
  /** A key no host accepts (for the authentication failure test). */
  readonly strangerKey: string;
  readonly addresses: string[] = [];
  readonly namespaces: string[] = [];
  private readonly sshds: ChildProcess[] = [];
  private readonly bridge: string;
  private readonly createdRunSshd: boolean;
  /**
   * Deletes the namespaces and the bridge once this process is gone, however it went (the harness's reaper,
   * harness/net/netns-reaper.ts): a test run killed part-way left its hosts behind before (2026-12-05).
   */
  private reaper: NetnsReaper | null = null;

  private constructor(
    readonly count: number,
    readonly subnet: number,
    private readonly tag: string,
  ) {
    this.dir = mkdtempSync(join(tmpdir(), 'rift-ssh-hosts-'));
    this.clientKey = join(this.dir, 'client_key');
    this.strangerKey = join(this.dir, 'stranger_key');
    this.bridge = `rjb${tag}`;
    // sshd insists on its privilege separation directory.
    this.createdRunSshd = !existsSync('/run/sshd');
  }

  /** An address on the bridge where nothing listens. */
  get deadAddress(): string {
    return `10.97.${this.subnet}.200`;
  }

  static async start(count: number): Promise<SshHosts> {
    const used = execFileSync('ip', ['-o', '-4', 'addr', 'show'], { encoding: 'utf8' });
    const free = Array.from({ length: 250 }, (_, i) => i + 1).filter((s) => !used.includes(`10.97.${s}.`));
    const subnet = free[randomBytes(1)[0]! % free.length]!;
    const hosts = new SshHosts(count, subnet, randomBytes(3).toString('hex'));
    try {
      await hosts.setUp();
    } catch (err) {
      hosts.stop();
      throw err;
    }
    return hosts;
  }

  private async setUp(): Promise<void> {
    if (this.createdRunSshd) mkdirSync('/run/sshd', { mode: 0o755 });
    sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', this.clientKey]);
    sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', this.strangerKey]);
    const authorized = join(this.dir, 'authorized_keys');
    execFileSync('cp', [`${this.clientKey}.pub`, authorized]);
    this.reaper = NetnsReaper.start(
      Array.from({ length: this.count }, (_, i) => `rjh${this.tag}${i + 1}`),
      this.bridge,
    );
    sh('ip', ['link', 'add', 'name', this.bridge, 'type', 'bridge']);
    sh('ip', ['addr', 'add', `10.97.${this.subnet}.254/24`, 'dev', this.bridge]);
    sh('ip', ['link', 'set', this.bridge, 'up']);
    for (let i = 1; i <= this.count; i++) {
      const ns = `rjh${this.tag}${i}`;
      const veth = `rjv${this.tag}${i}`;
      const address = `10.97.${this.subnet}.${i}`;
      sh('ip', ['netns', 'add', ns]);
      this.namespaces.push(ns);
      sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
      sh('ip', ['link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
      sh('ip', ['link', 'set', veth, 'master', this.bridge]);
      sh('ip', ['link', 'set', veth, 'up']);
      sh('ip', ['-n', ns, 'addr', 'add', `${address}/24`, 'dev', 'eth0']);
      sh('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
      const hostDir = join(this.dir, `host${i}`);
      mkdirSync(hostDir);
      const hostKey = join(hostDir, 'ssh_host_ed25519_key');
      sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey]);
      const config = join(hostDir, 'sshd_config');
      writeFileSync(
        config,
        [
          'Port 22',
          `ListenAddress ${address}`,
          `HostKey ${hostKey}`,
          'PidFile none',
          `AuthorizedKeysFile ${authorized}`,
          'StrictModes no',
          'PermitRootLogin prohibit-password',
          'PasswordAuthentication no',
          'KbdInteractiveAuthentication no',
          'UsePAM no',
          'PrintMotd no',
          'Subsystem sftp internal-sftp', // scp speaks SFTP (OpenSSH 9)
          'LogLevel ERROR',
          '',
        ].join('\n'),
      );
      // Each host gets an empty home for root, as a fresh machine has: bash sources ~/.bashrc for
      // commands sshd runs, and this image's (pyenv init and more) cost ~1.5 s per ssh session (2.1-2.4 s a
      // session against 0.3 s with an empty home, 2026-12-05). The bind mount lives in the mount namespace
      // `ip netns exec` makes (a slave of the host's), so the host's /root is untouched.
      const home = join(hostDir, 'home');
      mkdirSync(home);
      const sshd = spawn(
        'setpriv',
        [
          '--pdeathsig',
          'KILL',
          '--',
          'ip',
          'netns',
          'exec',
          ns,
          'sh',
          '-c',
          'mount --bind "$0" /root && exec /usr/sbin/sshd -D -e -f "$1"',
          home,
          config,
        ],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
      let err = '';
      sshd.stderr?.on('data', (d: Buffer) => (err += d.toString()));
      this.sshds.push(sshd);
      this.addresses.push(address);
      const deadline = Date.now() + 10_000;
      while (!(await accepts(address, 22))) {
        if (sshd.exitCode !== null || Date.now() > deadline) throw new Error(`sshd in ${ns} did not start: ${err.trim()}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  /** Every process, namespace, bridge and file of the fixture. Idempotent. */
  stop(): void {
    for (const s of this.sshds.splice(0)) s.kill('SIGKILL');
    for (const ns of this.namespaces.splice(0)) {
      try {
        sh('ip', ['netns', 'del', ns]);
      } catch {
        // gone
      }
    }
    try {
      sh('ip', ['link', 'del', this.bridge]);
    } catch {
      // gone
    }
    this.reaper?.release();
    this.reaper = null;
    if (this.createdRunSshd) rmSync('/run/sshd', { recursive: true, force: true });
    rmSync(this.dir, { recursive: true, force: true });
  }
}
