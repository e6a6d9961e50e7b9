/**
 * `--hosts`: the machines a cluster runs on, one node per host, each
 * reached over SSH (ssh.ts). The host list is checked as it is parsed (a
 * bad list is a usage error, exit 254), and every host is probed before a
 * run starts (unreachable, refused authentication, a host key that does not
 * match: exit 254 with one line per host, nothing started anywhere).
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { readFileSync } from 'node:fs';
import type { Remote } from './remote.js';
import { probeHosts, SshRemote } from './ssh.js';

export interface HostsSpec {
  readonly hosts: readonly string[];
  readonly user: string;
  /** --ssh-key; null: ssh's defaults and agent. */
  readonly keyPath: string | null;
  readonly port: number;
  /** --ssh-known-hosts: only these host keys are accepted; null: the store's known_hosts, learned on first sight. */
  readonly knownHosts: string | null;
  /** Where on each host the harness keeps its files (the node program, configs, data, logs). */
  readonly remoteDir: string;
}

/** A node's host: the address its peers and the clients use, and how the harness acts on it. */
export interface HostTarget {
  readonly name: string;
  readonly address: string;
  readonly remote: Remote;
}

const hostPattern = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** Checks one host name or address; returns why it is bad, or null. */
export function badHost(host: string): string | null {
  if (isIP(host) !== 0) return null;
  return hostPattern.test(host) ? null : `"${host}" is not a host name or an IP address`;
}

/** `h1,h2,...` or the lines of a hosts file (blank lines and # comments skipped): validated, no duplicates, 1..9 hosts. */
export function parseHostList(items: readonly string[], source: string): string[] {
  const hosts = items.map((s) => s.trim()).filter((s) => s !== '');
  if (hosts.length === 0) throw new Error(`${source}: no hosts`);
  for (const h of hosts) {
    const why = badHost(h);
    if (why !== null) throw new Error(`${source}: ${why}`);
  }
  const seen = new Set<string>();
  for (const h of hosts) {
    if (seen.has(h)) throw new Error(`${source}: ${h} is listed twice (one node per host)`);
    seen.add(h);
  }
  if (hosts.length > 9) throw new Error(`${source}: ${hosts.length} hosts; at most 9 (one node per host)`);
  return hosts;
}

export function readHostsFile(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`--hosts-file ${path}: ${(err as Error).message}`);
  }
  return parseHostList(
    text.split('\n').map((l) => l.replace(/#.*/, '')),
    `--hosts-file ${path}`,
  );
}

/**
 * The SSH remotes of the hosts, probed: resolves with them, or rejects with
 * one line per host that cannot be used. `knownHostsPath` is the file every
 * connection uses (spec.knownHosts, or the store's).
 */
export async function connectHosts(spec: HostsSpec, knownHostsPath: string): Promise<HostTarget[]> {
  const remotes = spec.hosts.map(
    (host) =>
      new SshRemote({
        host,
        user: spec.user,
        port: spec.port,
        ...(spec.keyPath !== null ? { keyPath: spec.keyPath } : {}),
        knownHostsPath,
        hostKeyPolicy: spec.knownHosts !== null ? 'yes' : 'accept-new',
        connectTimeoutS: 5,
      }),
  );
  const failures = await probeHosts(remotes);
  if (failures.length > 0) throw new HostsUnusable(failures, remotes);
  // nftables matches addresses: a host given by name is resolved here, as the control node sees it.
  return Promise.all(
    spec.hosts.map(async (host, i) => ({
      name: host,
      address: isIP(host) !== 0 ? host : (await lookup(host)).address,
      remote: remotes[i]!,
    })),
  );
}

export class HostsUnusable extends Error {
  constructor(
    readonly failures: readonly string[],
    /** To close (their control sessions). */
    readonly remotes: readonly Remote[],
  ) {
    super(`cannot use ${failures.length === 1 ? 'a host' : `${failures.length} hosts`}:\n  ${failures.join('\n  ')}`);
    this.name = 'HostsUnusable';
  }
}
