/**
 * Network faults on real hosts (`--hosts`): the netns code path (netns.ts)
 * generalised to machines the harness reaches through a Remote. Each host
 * gets one nftables table (`inet rift_jepsen`) whose input chain drops what
 * its grudge says it drops: packets from the peers' addresses, so TCP and
 * UDP peer links alike are cut, one way each, while the harness (the
 * control node, never partitioned, as in Jepsen) still reaches every node.
 * Every change replaces the table in one `nft -f -` transaction per host.
 *
 * What the harness puts on a host does not outlive it: the table is
 * removed on heal and teardown, and each host holds a lease
 * (Remote.lease) that removes it when the harness dies without tearing
 * down (crash, SIGKILL, lost connection). A table left by an earlier run
 * is replaced at setup.
 */
import type { Lease, Remote } from '../remote/remote.js';
import {
  grudgeToBlockedLinks,
  linkKey,
  validatePacketFaults,
  type Grudge,
  type NetStats,
  type NetworkControl,
  type PacketFaults,
} from './types.js';

const TABLE = 'rift_jepsen';

export interface HostNode {
  readonly id: string;
  /** The address its peers' packets come from (IPv4 or IPv6). */
  readonly address: string;
  readonly remote: Remote;
}

/** The nft match for "with probability rate" (per mille), "" for always, null for never. */
function chance(rate: number): string | null {
  const permille = Math.round(rate * 1000);
  if (permille <= 0) return null;
  if (permille >= 1000) return '';
  return `numgen random mod 1000 < ${permille} `;
}

export class HostsNetwork implements NetworkControl {
  private blocked = new Set<string>();
  private readonly lossRates = new Map<string, number>();
  private readonly leases: Lease[] = [];
  private torn = false;

  private constructor(private readonly nodes: readonly HostNode[]) {
    for (const a of nodes) for (const b of nodes) if (a.id !== b.id) this.lossRates.set(linkKey(a.id, b.id), 0);
  }

  /** Checks nft on every host, replaces any table an earlier run left, takes the leases. */
  static async create(nodes: readonly HostNode[]): Promise<HostsNetwork> {
    const net = new HostsNetwork(nodes);
    try {
      await Promise.all(
        nodes.map(async (n) => {
          const r = await n.remote.run('sh', ['-c', 'command -v nft']);
          if (r.exitCode !== 0)
            throw new Error(`${n.remote.host}: nftables (nft) is not installed; partitions need it (apt-get install nftables)`);
          net.leases.push(await n.remote.lease(`nft delete table inet ${TABLE} 2>/dev/null`));
        }),
      );
      await net.apply();
    } catch (err) {
      await net.teardown();
      throw err;
    }
    return net;
  }

  private ids(): string[] {
    return this.nodes.map((n) => n.id);
  }

  async partition(grudge: Grudge): Promise<void> {
    this.blocked = grudgeToBlockedLinks(grudge, this.ids());
    await this.apply();
  }

  async heal(): Promise<void> {
    this.blocked = new Set();
    await this.apply();
  }

  async setFaults(faults: PacketFaults, links?: readonly (readonly [string, string])[]): Promise<void> {
    validatePacketFaults(faults);
    if ((faults.delayMs ?? 0) > 0 || (faults.jitterMs ?? 0) > 0 || (faults.duplicateRate ?? 0) > 0) {
      throw new Error('delay, jitter and duplication are not available on --hosts (nftables input rules drop, they do not delay or copy)');
    }
    const keys = links === undefined ? [...this.lossRates.keys()] : links.map(([f, t]) => linkKey(f, t));
    for (const key of keys) {
      if (!this.lossRates.has(key)) throw new Error(`setFaults: no link ${key.replace('>', '→')}`);
      if (faults.lossRate !== undefined) this.lossRates.set(key, faults.lossRate);
    }
    await this.apply();
  }

  async clearFaults(): Promise<void> {
    for (const key of this.lossRates.keys()) this.lossRates.set(key, 0);
    await this.apply();
  }

  /** The kernel keeps the counters: none are read here. */
  stats(): NetStats {
    return { forwarded: 0, dropped: 0, duplicated: 0, delayed: 0 };
  }

  /** The ruleset of one host: its input chain drops the peers it does not hear (exposed for tests and logs). */
  ruleset(id: string): string {
    const rules: string[] = [];
    for (const from of this.nodes) {
      if (from.id === id) continue;
      const key = linkKey(from.id, id);
      const family = from.address.includes(':') ? 'ip6' : 'ip';
      if (this.blocked.has(key)) rules.push(`${family} saddr ${from.address} drop`);
      else {
        const loss = chance(this.lossRates.get(key) ?? 0);
        if (loss !== null) rules.push(`${family} saddr ${from.address} ${loss}drop`);
      }
    }
    return [
      `add table inet ${TABLE}`,
      `delete table inet ${TABLE}`,
      `table inet ${TABLE} {`,
      '  chain input {',
      '    type filter hook input priority 0; policy accept;',
      ...rules.map((r) => `    ${r}`),
      '  }',
      '}',
      '',
    ].join('\n');
  }

  private async apply(): Promise<void> {
    if (this.torn) throw new Error('hosts network already torn down');
    await Promise.all(
      this.nodes.map(async (n) => {
        const r = await n.remote.run('nft', ['-f', '-'], { input: this.ruleset(n.id) });
        if (r.exitCode !== 0) throw new Error(`nft on ${n.remote.host} failed: ${r.stderr.trim()}`);
      }),
    );
  }

  /** Removes the table on every host (through the leases). Idempotent. */
  async teardown(): Promise<void> {
    if (this.torn) return;
    this.torn = true;
    await Promise.all(this.leases.splice(0).map((l) => l.release().catch(() => undefined)));
  }

  teardownSync(): void {
    if (this.torn) return;
    this.torn = true;
    for (const l of this.leases.splice(0)) l.releaseSync();
  }
}
