/**
 * Network namespace mode (root only): every node in its own namespace with a
 * veth into a bridge that lives in a hub namespace (recipe A of
 * shared/notes/fault-injection-on-this-machine.md), plus one veth from the
 * harness's (root) namespace into the bridge so clients reach the nodes
 * directly. Faults are nftables rules in the hub (recipe B): a bridge-family
 * forward chain drops partitioned and lost packets per directed link (it sees
 * the IP header, so `ip saddr A ip daddr B drop` is a one-way cut), and a
 * netdev-family ingress chain per sender port duplicates. Every change
 * replaces the whole ruleset in one `nft -f` transaction.
 *
 * This kernel has no netem, so there is no delay/reorder here: asking for it
 * is a clear error (use the relay).
 *
 * Traffic between the harness (10.99.S.254) and the nodes is never filtered:
 * Jepsen never partitions the control node either.
 */
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import {
  grudgeToBlockedLinks,
  linkKey,
  validatePacketFaults,
  type Grudge,
  type NetStats,
  type NetworkControl,
  type PacketFaults,
} from './types.js';
import { NetnsReaper } from './netns-reaper.js';

const run = promisify(execFile);

interface LinkFaults {
  lossRate: number;
  duplicateRate: number;
}

/** The nft match for "with probability rate" (per mille), "" for always, null for never. */
function chance(rate: number): string | null {
  const permille = Math.round(rate * 1000);
  if (permille <= 0) return null;
  if (permille >= 1000) return '';
  return `numgen random mod 1000 < ${permille} `;
}

function commandExists(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Why netns mode cannot run here, or null if it can. */
export function netnsUnavailableReason(): string | null {
  if (process.platform !== 'linux') return 'netns mode needs Linux';
  if (process.getuid?.() !== 0) return 'netns mode needs root (network namespaces and nftables); use --net relay';
  if (!commandExists('ip')) return 'netns mode needs iproute2 (`ip`): apt-get install -y iproute2';
  if (!commandExists('nft')) return 'netns mode needs nftables (`nft`), which is not installed: apt-get install -y nftables';
  return null;
}

export class NetnsNetwork implements NetworkControl {
  private blocked = new Set<string>();
  private readonly faults = new Map<string, LinkFaults>();
  private torn = false;
  private created: string[] = []; // namespaces created so far (for teardown after a failed setup)
  /** Deletes everything this run creates once the harness is gone, even SIGKILLed (netns-reaper.ts). */
  private reaper: NetnsReaper | null = null;

  private constructor(
    readonly nodeIds: readonly string[],
    /** Unique per run: namespaces are `<prefix>-hub`, `<prefix>-<id>`. */
    readonly prefix: string,
    /** The third octet: nodes are 10.99.<subnet>.<index+1>, the harness 10.99.<subnet>.254. */
    readonly subnet: number,
    private readonly rootIf: string,
  ) {
    for (const a of nodeIds) for (const b of nodeIds) if (a !== b) this.faults.set(linkKey(a, b), { lossRate: 0, duplicateRate: 0 });
  }

  static async create(nodeIds: readonly string[]): Promise<NetnsNetwork> {
    const reason = netnsUnavailableReason();
    if (reason !== null) throw new Error(reason);
    if (nodeIds.length > 200) throw new Error('netns mode supports at most 200 nodes');
    const used = new Set<number>();
    const { stdout } = await run('ip', ['-o', '-4', 'addr', 'show']);
    for (const m of stdout.matchAll(/inet 10\.99\.(\d+)\./g)) used.add(Number(m[1]));
    const free = Array.from({ length: 250 }, (_, i) => i + 1).filter((s) => !used.has(s));
    if (free.length === 0) throw new Error('netns mode: no free 10.99.x.0/24 subnet');
    const subnet = free[randomBytes(1)[0]! % free.length]!;
    const tag = randomBytes(3).toString('hex');
    const net = new NetnsNetwork(nodeIds, `rift${process.pid % 100000}${tag}`, subnet, `rift${tag}h`);
    // Before anything exists, so nothing can outlive the harness unreaped.
    net.reaper = NetnsReaper.start([...net.namespaces()].reverse(), net.rootIf);
    try {
      await net.setup();
    } catch (err) {
      await net.teardown();
      throw err;
    }
    return net;
  }

  namespace(id: string): string {
    return id === 'hub' ? `${this.prefix}-hub` : `${this.prefix}-n${this.index(id) + 1}`;
  }

  /** The node's address inside its namespace. */
  address(id: string): string {
    return `10.99.${this.subnet}.${this.index(id) + 1}`;
  }

  get harnessAddress(): string {
    return `10.99.${this.subnet}.254`;
  }

  /** `ip netns exec NS cmd args...` (ip execs, so the PID is the node's own). */
  wrap(id: string, command: string, args: readonly string[]): { command: string; args: string[] } {
    return { command: 'ip', args: ['netns', 'exec', this.namespace(id), command, ...args] };
  }

  async partition(grudge: Grudge): Promise<void> {
    this.blocked = grudgeToBlockedLinks(grudge, this.nodeIds);
    await this.apply();
  }

  async heal(): Promise<void> {
    this.blocked = new Set();
    await this.apply();
  }

  async setFaults(faults: PacketFaults, links?: readonly (readonly [string, string])[]): Promise<void> {
    validatePacketFaults(faults);
    if ((faults.delayMs ?? 0) > 0 || (faults.jitterMs ?? 0) > 0) {
      throw new Error('delay/jitter is not available in netns mode: this kernel has no netem qdisc; use --net relay for delay');
    }
    const keys = links === undefined ? [...this.faults.keys()] : links.map(([f, t]) => linkKey(f, t));
    for (const key of keys) {
      const link = this.faults.get(key);
      if (link === undefined) throw new Error(`setFaults: no link ${key.replace('>', '→')}`);
      if (faults.lossRate !== undefined) link.lossRate = faults.lossRate;
      if (faults.duplicateRate !== undefined) link.duplicateRate = faults.duplicateRate;
    }
    await this.apply();
  }

  async clearFaults(): Promise<void> {
    for (const link of this.faults.values()) {
      link.lossRate = 0;
      link.duplicateRate = 0;
    }
    await this.apply();
  }

  /** Packet counters are kept by the kernel, not here: netns mode reports zeros. */
  stats(): NetStats {
    return { forwarded: 0, dropped: 0, duplicated: 0, delayed: 0 };
  }

  /** The nftables script for the current partition and faults (exposed for tests and logs). */
  ruleset(): string {
    const forward: string[] = [];
    const dupByPort = new Map<number, string[]>();
    for (const [key, link] of this.faults) {
      const [from, to] = key.split('>') as [string, string];
      const match = `ip saddr ${this.address(from)} ip daddr ${this.address(to)}`;
      if (this.blocked.has(key)) {
        forward.push(`${match} drop`);
        continue; // a cut link gets no duplicates either (dup bypasses the bridge chain)
      }
      const loss = chance(link.lossRate);
      if (loss !== null) forward.push(`${match} ${loss}drop`);
      const dup = chance(link.duplicateRate);
      if (dup !== null) {
        const port = this.index(from) + 1;
        const rules = dupByPort.get(port) ?? [];
        rules.push(`ip daddr ${this.address(to)} ${dup}dup to "v${this.index(to) + 1}"`);
        dupByPort.set(port, rules);
      }
    }
    const lines = [
      'add table bridge riftfaults',
      'delete table bridge riftfaults',
      'add table netdev riftdups',
      'delete table netdev riftdups',
      'table bridge riftfaults {',
      '  chain forwardf {',
      '    type filter hook forward priority 0; policy accept;',
      ...forward.map((r) => `    ${r}`),
      '  }',
      '}',
    ];
    if (dupByPort.size > 0) {
      lines.push('table netdev riftdups {');
      for (const [port, rules] of dupByPort) {
        lines.push(
          `  chain in${port} {`,
          `    type filter hook ingress device "v${port}" priority 0;`,
          ...rules.map((r) => `    ${r}`),
          '  }',
        );
      }
      lines.push('}');
    }
    return lines.join('\n') + '\n';
  }

  /** Kill the node processes first: `ip netns del` does not kill them. Idempotent. */
  async teardown(): Promise<void> {
    if (this.torn) return;
    this.torn = true;
    for (const ns of this.created.reverse()) {
      try {
        await run('ip', ['netns', 'del', ns]);
      } catch {
        // already gone
      }
    }
    // Deleting the hub removes the harness-side veth with its peer; make sure.
    try {
      await run('ip', ['link', 'del', this.rootIf]);
    } catch {
      // already gone (expected)
    }
    this.created = [];
    this.reaper?.release();
  }

  /** For the process 'exit' handler. */
  teardownSync(): void {
    if (this.torn) return;
    this.torn = true;
    for (const ns of this.created.reverse()) {
      try {
        execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
      } catch {
        // already gone
      }
    }
    try {
      execFileSync('ip', ['link', 'del', this.rootIf], { stdio: 'ignore' });
    } catch {
      // already gone
    }
    this.created = [];
    this.reaper?.release();
  }

  /** The reaper's process id while it holds this run's namespaces (tests). */
  get reaperPid(): number | null {
    return this.reaper?.pid ?? null;
  }

  /** Namespaces this run created (for tests: none may remain after teardown). */
  namespaces(): string[] {
    return [this.namespace('hub'), ...this.nodeIds.map((id) => this.namespace(id))];
  }

  private index(id: string): number {
    const i = this.nodeIds.indexOf(id);
    if (i < 0) throw new Error(`netns: unknown node ${id}`);
    return i;
  }

  private async ip(...args: string[]): Promise<void> {
    try {
      await run('ip', args);
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new Error(`ip ${args.join(' ')} failed: ${(e.stderr ?? e.message).trim()}`);
    }
  }

  private async addNamespace(name: string): Promise<void> {
    await this.ip('netns', 'add', name);
    this.created.push(name);
    await this.ip('-n', name, 'link', 'set', 'lo', 'up');
  }

  private async setup(): Promise<void> {
    const hub = this.namespace('hub');
    await this.addNamespace(hub);
    await this.ip('-n', hub, 'link', 'add', 'br0', 'type', 'bridge');
    await this.ip('-n', hub, 'link', 'set', 'br0', 'up');
    for (const id of this.nodeIds) {
      const ns = this.namespace(id);
      const port = `v${this.index(id) + 1}`;
      await this.addNamespace(ns);
      await this.ip('-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', port, 'netns', hub);
      await this.ip('-n', hub, 'link', 'set', port, 'master', 'br0');
      await this.ip('-n', hub, 'link', 'set', port, 'up');
      await this.ip('-n', ns, 'addr', 'add', `${this.address(id)}/24`, 'dev', 'eth0');
      await this.ip('-n', ns, 'link', 'set', 'eth0', 'up');
    }
    // The harness's own leg into the bridge (clients and status probes).
    await this.ip('link', 'add', this.rootIf, 'type', 'veth', 'peer', 'name', 'vh', 'netns', hub);
    await this.ip('-n', hub, 'link', 'set', 'vh', 'master', 'br0');
    await this.ip('-n', hub, 'link', 'set', 'vh', 'up');
    await this.ip('addr', 'add', `${this.harnessAddress}/24`, 'dev', this.rootIf);
    await this.ip('link', 'set', this.rootIf, 'up');
    await this.apply();
  }

  private async apply(): Promise<void> {
    if (this.torn) throw new Error('netns network already torn down');
    const script = this.ruleset();
    await new Promise<void>((resolve, reject) => {
      const child = execFile('ip', ['netns', 'exec', this.namespace('hub'), 'nft', '-f', '-'], (err, _stdout, stderr) => {
        if (err) reject(new Error(`nft failed: ${stderr.trim() || err.message}\nscript:\n${script}`));
        else resolve();
      });
      child.stdin?.end(script);
    });
  }
}
