/**
 * etcd as a system under test (`--db etcd`): a cluster of Debian's etcd 3.4
 * (`etcd-server`), one member per node, either each in its own network
 * namespace (`--net netns`, root: partitions are nftables rules that cut
 * its TCP peer links) or on loopback without network faults (`--net
 * loopback`); its register client over the v3 JSON gateway. No wire
 * monitor: it reads rift's datagrams only.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { HostsNetwork } from '../../net/hosts.js';
import type { HostTarget } from '../../remote/hosts.js';
import { DirectNetwork } from '../../net/direct.js';
import { NetnsNetwork } from '../../net/netns.js';
import { LocalRemote } from '../../remote/local.js';
import { DbCluster } from '../cluster.js';
import type { RunningSystem, SystemStart, SystemUnderTest } from '../system.js';
import { etcdVersion, freeTcpPort } from './etcd-binary.js';
import { EtcdClient } from './etcd-client.js';
import { clientUrl, EtcdDb, type EtcdNode } from './etcd-db.js';

/** etcd's own defaults (100 ms heartbeats, 1 s election timeout, drawn up to 2 s): its members fsync on a shared, loaded machine. */
export const etcdTimings = { electionTimeoutMs: [1000, 2000] as const, heartbeatIntervalMs: 100 };

export const etcdSystem: SystemUnderTest = {
  name: 'etcd',
  // membership: etcd's member add (as a learner), promote and remove over the gateway (membership.ts); a removed member
  // comes back as a new member with empty data.
  kinds: ['partition', 'kill', 'pause', 'membership'],
  // A Go binary: it reads the clock through the vDSO, out of libfaketime's reach, and has no injectable clock.
  clockVia: [],
  nets: ['netns', 'loopback', 'hosts'],
  hostKinds: ['partition', 'kill', 'pause', 'membership'],
  defaultNet: (isRoot) => (isRoot ? 'netns' : 'loopback'),
  timings: etcdTimings,
  nodeFlags: false,
  // On --hosts etcd must be installed on the hosts (setup checks each), not here.
  unavailable: () => (etcdVersion() === null ? 'etcd is not installed here (Debian: apt-get install etcd-server)' : null),
  async start(spec: SystemStart): Promise<RunningSystem> {
    if (spec.hosts !== null) return startEtcdOnHosts(spec, spec.hosts.targets, spec.hosts.remoteDir);
    const { options, runDir, log } = spec;
    const found = etcdVersion();
    if (found === null) throw new Error('etcd is not installed (Debian: apt-get install etcd-server)');
    const ids = Array.from({ length: options.nodes }, (_, i) => `n${i + 1}`);
    const remote = new LocalRemote();
    const netns = options.net === 'netns' ? await NetnsNetwork.create(ids) : null;
    try {
      const nodes: EtcdNode[] = [];
      for (const id of ids) {
        nodes.push({
          id,
          address: netns !== null ? netns.address(id) : '127.0.0.1',
          clientPort: netns !== null ? 2379 : await freeTcpPort(),
          peerPort: netns !== null ? 2380 : await freeTcpPort(),
          remote,
          dataDir: join(runDir, 'data', id),
          logPath: join(runDir, 'nodes', `${id}.log`),
          wrap: (command) => (netns !== null ? netns.wrap(id, command.command, command.args) : command),
        });
      }
      const db = new EtcdDb({
        bin: found.bin,
        nodes,
        heartbeatIntervalMs: options.heartbeatIntervalMs,
        electionTimeoutMs: options.electionTimeoutMs[0],
        clusterToken: `rift-jepsen-${process.pid}-${randomBytes(4).toString('hex')}`,
        readyTimeoutMs: 20_000,
      });
      const cluster = new DbCluster(
        db,
        netns ?? new DirectNetwork(),
        { stop: async () => netns?.teardown(), stopSync: () => netns?.teardownSync() },
        { log, handleSignals: false },
      );
      await cluster.startAll();
      log(`etcd ${found.version}: ${ids.length} members (${options.net}), ${nodes.map((n) => `${n.id}=${clientUrl(n)}`).join(' ')}`);
      return {
        cluster,
        openClient: (spec) =>
          new EtcdClient({
            url: clientUrl(db.node(spec.node)),
            timeoutMs: spec.timeoutMs,
            serializableReads: options.etcdSerializableReads,
            values: spec.values,
          }),
        watchWire: () => ({ notRun: "not run: it reads rift's peer datagrams, and etcd speaks its own protocol over TCP" }),
        description: `etcd members ${nodes.map((n) => clientUrl(n)).join(', ')}`,
      };
    } catch (err) {
      await netns?.teardown();
      throw err;
    }
  },
};

/** etcd on the hosts of --hosts: the hosts' own `etcd` (the package), ports 2379/2380, nftables on each host. */
async function startEtcdOnHosts(spec: SystemStart, hosts: readonly HostTarget[], remoteDir: string): Promise<RunningSystem> {
  const { options, runDir, log } = spec;
  const token = `rift-jepsen-${process.pid}-${randomBytes(4).toString('hex')}`;
  const hostDir = `${remoteDir}/${token}`;
  const nodes: EtcdNode[] = hosts.map((h, i) => ({
    id: `n${i + 1}`,
    address: h.address,
    clientPort: 2379,
    peerPort: 2380,
    remote: h.remote,
    // One directory per node: hosts that share a file system (the tests' namespaces) never share a path.
    dataDir: `${hostDir}/n${i + 1}/data`,
    logPath: `${hostDir}/n${i + 1}/n${i + 1}.log`,
    wrap: (command) => command,
  }));
  const net = await HostsNetwork.create(nodes.map((n) => ({ id: n.id, address: n.address, remote: n.remote })));
  const db = new EtcdDb({
    bin: 'etcd',
    nodes,
    heartbeatIntervalMs: options.heartbeatIntervalMs,
    electionTimeoutMs: options.electionTimeoutMs[0],
    clusterToken: token,
    readyTimeoutMs: 30_000,
    collect: async (n) => {
      mkdirSync(join(runDir, 'nodes'), { recursive: true });
      await n.remote.download(n.logPath, join(runDir, 'nodes', `${n.id}.log`)).catch((e: Error) => log(`${n.id}: ${e.message}`));
      await n.remote.run('sh', ['-c', `rm -rf ${hostDir}/${n.id}; rmdir ${hostDir} 2>/dev/null; true`]);
    },
  });
  const cluster = new DbCluster(db, net, { stop: () => net.teardown(), stopSync: () => net.teardownSync() }, { log, handleSignals: false });
  await cluster.startAll();
  log(`etcd: ${nodes.length} members on ${nodes.map((n) => `${n.id}=${n.remote.host}`).join(' ')}`);
  return {
    cluster,
    openClient: (s) =>
      new EtcdClient({
        url: clientUrl(db.node(s.node)),
        timeoutMs: s.timeoutMs,
        serializableReads: options.etcdSerializableReads,
        values: s.values,
      }),
    watchWire: () => ({ notRun: "not run: it reads rift's peer datagrams, and etcd speaks its own protocol over TCP" }),
    description: `etcd members ${nodes.map((n) => clientUrl(n)).join(', ')}`,
  };
}
