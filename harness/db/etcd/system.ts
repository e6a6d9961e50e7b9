/**
 * etcd as a system under test (`--db etcd`): a cluster of Debian's etcd 3.4
 * (`etcd-server`), one member per node, either each in its own network
 * namespace (`--net netns`, root: partitions are nftables rules that cut
 * its TCP peer links) or on loopback without network faults (`--net
 * loopback`); its register client over the v3 JSON gateway. No wire
 * monitor: it reads rift's datagrams only.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
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
  kinds: ['partition', 'kill', 'pause'],
  nets: ['netns', 'loopback', 'hosts'],
  hostKinds: ['partition', 'kill', 'pause'],
  defaultNet: (isRoot) => (isRoot ? 'netns' : 'loopback'),
  timings: etcdTimings,
  nodeFlags: false,
  unavailable: () => (etcdVersion() === null ? 'etcd is not installed (Debian: apt-get install etcd-server)' : null),
  async start({ options, runDir, log }: SystemStart): Promise<RunningSystem> {
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
          new EtcdClient({ url: clientUrl(db.node(spec.node)), timeoutMs: spec.timeoutMs, serializableReads: options.etcdSerializableReads }),
        watchWire: () => ({ notRun: "not run: it reads rift's peer datagrams, and etcd speaks its own protocol over TCP" }),
        description: `etcd members ${nodes.map((n) => clientUrl(n)).join(', ')}`,
      };
    } catch (err) {
      await netns?.teardown();
      throw err;
    }
  },
};
