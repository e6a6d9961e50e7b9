/**
 * rift as a system under test: its cluster (harness/cluster.ts: the rift Db
 * on the relay or netns), its client (rift-client.ts), and the wire monitor
 * where the relay carries its peer datagrams.
 */
import type { ClientConfig } from '../../../node/client.js';
import { Cluster } from '../../cluster.js';
import { DATA_TMPFS_BYTES } from '../../data-mounts.js';
import { resizeSpares } from '../../nemesis/kinds/resize.js';
import { nemesisKinds, powerLossKinds } from '../../nemesis/registry.js';
import { watchWire } from '../../run/wire-monitor.js';
import type { RunningSystem, SystemStart, SystemUnderTest } from '../system.js';
import { startRiftOnHosts } from './on-hosts.js';
import { RiftDbClient } from './rift-client.js';

export const riftSystem: SystemUnderTest = {
  name: 'rift',
  kinds: nemesisKinds,
  clockVia: ['node', 'faketime'],
  nets: ['relay', 'netns', 'hosts'],
  // membership: admin datagrams reach the hosts (db/rift/membership.ts); clock: the node's own clock over its ssh session
  // (remote-rift-db.ts, --control-fd); loss: random drops in each host's nftables input chain (net/hosts.ts); disk: the
  // node's files copied from its host, damaged here and copied back while it is down (remote-rift-db.ts readDataFile);
  // resize: its two spare identities on the last two hosts of the list (options.ts); lease-restart: its cuts, kills and
  // clock as above (checked by hand on the test's hosts, 2026-12-06: valid, and --unsafe-forget-lease-on-restart caught,
  // with and without --net relay).
  hostKinds: ['partition', 'kill', 'pause', 'membership', 'clock', 'loss', 'disk', 'resize', 'lease-restart'],
  // With --net relay the peer datagrams go through the relay on this machine (on-hosts.ts), which delays, duplicates,
  // replays and holds them; partitions and loss then happen there too.
  hostRelayKinds: ['delay', 'duplicate', 'replay', 'relead'],
  defaultNet: () => 'relay',
  nodeFlags: true,
  unavailable: () => null,
  async start(spec: SystemStart): Promise<RunningSystem> {
    if (spec.hosts !== null) return startRiftOnHosts(spec, spec.hosts.targets, spec.hosts.remoteDir);
    const { options, seed, runDir, log, nodeEntry } = spec;
    const cluster = await Cluster.start({
      nodeCount: options.nodes,
      // The resize nemesis grows the cluster by spare identities (config spareNodes, started with --join).
      ...(options.nemesis.includes('resize') ? { spareCount: resizeSpares } : {}),
      runDir,
      nodeFlags: options.nodeFlags,
      // A kill is a power failure for the node's disk (registry.ts, powerLossKinds).
      pageCacheCrashModel: options.nemesis.some((k) => powerLossKinds.includes(k)),
      net: options.net === 'netns' ? 'netns' : options.net === 'relay' ? 'relay' : 'direct',
      readMode: options.readMode,
      clockVia: options.clockVia,
      ...(options.snapshotEveryEntries !== null ? { snapshotEveryEntries: options.snapshotEveryEntries } : {}),
      ...(options.snapshotChunkBytes !== null ? { snapshotChunkBytes: options.snapshotChunkBytes } : {}),
      ...(options.maxSessions !== null ? { maxSessions: options.maxSessions } : {}),
      // client-loss drops datagrams on the clients' links: the clients then reach the nodes through the client relay.
      clientRelay: options.nemesis.includes('client-loss'),
      // The disk-full nemesis fills each node's own tmpfs (harness/data-mounts.ts; the options refuse it without root).
      ...(options.nemesis.includes('disk-full') ? { dataTmpfsBytes: DATA_TMPFS_BYTES } : {}),
      electionTimeoutMsMin: options.electionTimeoutMs[0],
      electionTimeoutMsMax: options.electionTimeoutMs[1],
      heartbeatIntervalMs: options.heartbeatIntervalMs,
      seed,
      log,
      handleSignals: false, // the CLI owns Ctrl-C: it stops the run, which stops the cluster
      ...(nodeEntry !== undefined ? { nodeEntry } : {}),
    });
    // Clients hold the client secret, never the peer secret.
    const { config } = cluster;
    // The nodes' own addresses, or the client relay's fronts for them (client-loss).
    const addresses = cluster.clientAddresses();
    const clientConfig: ClientConfig = {
      cluster: config.cluster,
      clientSecret: config.clientSecret,
      nodes: addresses.nodes,
      // A spare may come to lead: clients follow its redirect (node/client.ts looks addresses up in nodes and spareNodes).
      ...(addresses.spareNodes !== undefined ? { spareNodes: addresses.spareNodes } : {}),
      ...(config.clientFreshnessMs !== undefined ? { clientFreshnessMs: config.clientFreshnessMs } : {}),
    };
    return {
      cluster,
      openClient: (spec) => new RiftDbClient(clientConfig, spec),
      watchWire: (onViolation, nowMs) => {
        const probe = watchWire(cluster.net, cluster.config, onViolation, nowMs);
        return probe !== null
          ? { probe }
          : { notRun: 'not run: with --net netns the kernel carries the peer datagrams, and the harness does not see them' };
      },
      description: `config ${cluster.configPath}`,
    };
  },
};
