/**
 * rift on the hosts of `--hosts`: the config names each host's address
 * (port 7000) and a data directory under the run's directory on the host;
 * the nodes run there (remote-rift-db.ts) and partitions are nftables
 * rules on each host (net/hosts.ts). With `--net relay` the config routes
 * every peer link through the relay (net/relay.ts) instead, bound on this
 * machine's address toward the hosts: partitions, loss, delay,
 * duplication, replays and the wire monitor work as on loopback, while
 * clients and the admin path still reach the nodes directly.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ClientConfig } from '../../../node/client.js';
import { configDefaults, type ClusterConfig } from '../../../node/config-types.js';
import { riftNodeEntry } from '../../cluster.js';
import { HostsNetwork } from '../../net/hosts.js';
import { localAddressToward } from '../../net/local-address.js';
import { UdpRelay } from '../../net/relay.js';
import type { NetworkControl } from '../../net/types.js';
import { watchWire } from '../../run/wire-monitor.js';
import { powerLossKinds } from '../../nemesis/registry.js';
import type { HostTarget } from '../../remote/hosts.js';
import { DbCluster } from '../cluster.js';
import type { RunningSystem, SystemStart } from '../system.js';
import { RemoteRiftDb } from './remote-rift-db.js';
import { RiftDbClient } from './rift-client.js';

/** The UDP port every node listens on, on its own host. */
export const RIFT_HOST_PORT = 7000;

export async function startRiftOnHosts(spec: SystemStart, hosts: readonly HostTarget[], remoteDir: string): Promise<RunningSystem> {
  const { options, runDir, log } = spec;
  const entry = riftNodeEntry(spec.nodeEntry);
  if (!existsSync(entry)) throw new Error(`node program ${entry} does not exist (build first: node scripts/build.mjs)`);
  const ids = hosts.map((_, i) => `n${i + 1}`);
  const addresses = hosts.map((h, i) => ({ id: ids[i]!, host: h.address, port: RIFT_HOST_PORT }));
  const relayHost = options.net === 'relay' ? await localAddressToward(hosts[0]!.address) : null;
  const relay = relayHost === null ? null : await UdpRelay.start({ nodes: addresses, seed: spec.seed, host: relayHost });
  const name = `rift-${process.pid}-${randomBytes(4).toString('hex')}`;
  const hostDir = `${remoteDir}/${name}`;
  const config: ClusterConfig = {
    cluster: name,
    peerSecret: randomBytes(24).toString('hex'),
    clientSecret: randomBytes(24).toString('hex'),
    clientFreshnessMs: configDefaults.clientFreshnessMs,
    dataDir: `${hostDir}/data`,
    electionTimeoutMsMin: options.electionTimeoutMs[0],
    electionTimeoutMsMax: options.electionTimeoutMs[1],
    heartbeatIntervalMs: options.heartbeatIntervalMs,
    tickMs: Math.min(configDefaults.tickMs, options.heartbeatIntervalMs),
    nodes: addresses.slice(0, options.nodes),
    // The resize nemesis's spare identities run on the last hosts (options.ts: --hosts lists them after the nodes).
    ...(addresses.length > options.nodes ? { spareNodes: addresses.slice(options.nodes) } : {}),
    routes: relay?.routes() ?? {},
    readMode: options.readMode,
    clockDriftBound: configDefaults.clockDriftBound,
    maxKeyBytes: configDefaults.maxKeyBytes,
    maxValueBytes: configDefaults.maxValueBytes,
  };
  const configPath = join(runDir, 'cluster.json');
  let hostsNet: HostsNetwork | null = null;
  try {
    writeFileSync(configPath, JSON.stringify(config, null, 2) + '\n');
    if (relay === null) hostsNet = await HostsNetwork.create(hosts.map((h, i) => ({ id: ids[i]!, address: h.address, remote: h.remote })));
  } catch (e) {
    relay?.close(); // nothing else holds it yet
    throw e;
  }
  const net: NetworkControl = relay ?? hostsNet!;
  const clientConfig: ClientConfig = {
    cluster: config.cluster,
    clientSecret: config.clientSecret,
    nodes: config.nodes,
    // A spare may come to lead: clients follow its redirect (node/client.ts looks addresses up in nodes and spareNodes).
    ...(config.spareNodes !== undefined ? { spareNodes: config.spareNodes } : {}),
    clientFreshnessMs: configDefaults.clientFreshnessMs,
  };
  const targets = new Map(hosts.map((h, i) => [ids[i]!, h] as const));
  const db = new RemoteRiftDb({
    hosts: targets,
    programDir: dirname(entry),
    configPath,
    hostDir,
    // A kill is a power failure for the node's disk (registry.ts, powerLossKinds).
    nodeFlags: [...(options.nemesis.some((k) => powerLossKinds.includes(k)) ? ['--page-cache-crash-model'] : []), ...options.nodeFlags],
    clientConfig,
    adminConfig: config,
    // Spares start empty and wait to be added (--join, HostOptions.joining).
    joining: new Set(ids.slice(options.nodes)),
    runDir,
    readyTimeoutMs: 20_000,
  });
  const stopNet = {
    stop: async (): Promise<void> => (relay !== null ? relay.close() : hostsNet!.teardown()),
    stopSync: (): void => (relay !== null ? relay.close() : hostsNet!.teardownSync()),
  };
  const cluster = new DbCluster(db, net, stopNet, { log, handleSignals: false });
  await cluster.startAll();
  const spares = ids.length - options.nodes;
  log(
    `cluster up: ${options.nodes} nodes${spares > 0 ? ` and ${spares} spare identities (--join)` : ''} on ${hosts.map((h, i) => `${ids[i]}=${h.remote.host}`).join(' ')}, ` +
      `${relayHost === null ? "peer links on the hosts' kernels" : `peer links through the relay on ${relayHost}`}, config ${configPath}`,
  );
  return {
    cluster,
    openClient: (s) => new RiftDbClient(clientConfig, s),
    watchWire: (onViolation, nowMs) => {
      const probe = relay === null ? null : watchWire(relay, config, onViolation, nowMs);
      return probe !== null
        ? { probe }
        : {
            notRun:
              "not run: on --hosts the hosts' kernels carry the peer datagrams, and the harness does not see them (--net relay shows them)",
          };
    },
    description: `config ${configPath}, nodes on ${hosts.map((h) => h.remote.host).join(', ')}`,
  };
}
