/**
 * rift's cluster on this machine: writes the ClusterConfig, builds the rift
 * Db (db/rift/rift-db.ts) and its network, and starts the nodes; the
 * generic DbCluster (db/cluster.ts) kills, restarts, pauses, resumes and
 * re-clocks them on the nemesis's orders.
 *
 * Network: 'relay' (default, no root) routes every directed peer link through
 * the in-process UDP relay (harness/net/relay.ts); 'netns' puts every node in
 * its own network namespace with nftables faults (harness/net/netns.ts).
 * Clients talk to the nodes' own addresses, never through the peer relay;
 * with `clientRelay` (the client-loss nemesis) the harness's clients reach
 * them through the client links' relay (net/client-relay.ts) instead.
 *
 * No orphans: stop() (idempotent) SIGCONTs then SIGKILLs every node (a stopped
 * process keeps a SIGTERM pending until SIGCONT, but SIGKILL works), closes the
 * relay and deletes namespaces; SIGINT/SIGTERM handlers run stop(), and a
 * process 'exit' hook kills synchronously if the harness crashes. Where none
 * of these can run (the harness SIGKILLed), the kernel kills the nodes
 * (orphan-guard.ts: the parent-death signal).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ClusterConfig, NodeAddress } from '../node/config-types.js';
import { configDefaults, defaultSnapshotting } from '../node/config-types.js';
import type { NodeStatus } from '../node/protocol.js';
import { DirectNetwork } from './net/direct.js';
import { NetnsNetwork } from './net/netns.js';
import { UdpRelay } from './net/relay.js';
import { ClientRelay } from './net/client-relay.js';
import type { NetworkControl } from './net/types.js';
import { DbCluster } from './db/cluster.js';
import { RiftDb } from './db/rift/rift-db.js';
import { FaketimeClock, faketimeUnavailableReason, libfaketimePath } from './db/faketime-clock.js';
import { guardedSpawn, orphanGuard } from './orphan-guard.js';
import { DataMounts } from './data-mounts.js';
import { pickFreeUdpPorts } from './ports.js';

export type { Grudge, NetStats, NetworkControl, PacketFaults } from './net/types.js';

// harness/cluster.ts runs from the sources (vitest) or from dist/harness/ (npm run jepsen).
const parentDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const repoRoot = basename(parentDir) === 'dist' ? resolve(parentDir, '..') : parentDir;

/** The node program the harness starts (a test may substitute its own). */
export function riftNodeEntry(nodeEntry?: string): string {
  return resolve(nodeEntry ?? join(repoRoot, 'dist', 'node', 'main.js'));
}

export interface ClusterOptions {
  nodeCount: number; // 1..9
  runDir: string; // node logs go to <runDir>/nodes/<id>.log, data to <runDir>/data/<id>/, config to <runDir>/cluster.json
  nodeFlags: readonly string[]; // extra CLI flags passed to every node (e.g. --unsafe-local-reads)
  /**
   * Start every node with `--page-cache-crash-model` (node/storage/page-cache-fs.ts):
   * its writes stay in its memory until its fsync, so a SIGKILL loses unsynced
   * writes as a power failure does. Default false.
   */
  pageCacheCrashModel?: boolean;
  /** 'relay' (default mode of the harness), 'netns' (root only), or 'direct' (no fault layer: benchmarks). */
  net: 'relay' | 'netns' | 'direct';
  basePort?: number; // default: pick free ports
  electionTimeoutMsMin?: number;
  electionTimeoutMsMax?: number;
  heartbeatIntervalMs?: number;
  readMode?: 'readindex' | 'lease';
  seed: number; // relay randomness (loss/dup/delay) is seeded from this
  log?: (line: string) => void; // harness-level log lines
  /** The node program (default <repo>/dist/node/main.js); tests substitute a fake node. */
  nodeEntry?: string;
  /** Deadline for each node's IPC 'ready' (default 15 s: startup is slow on a loaded 2-core machine). */
  readyTimeoutMs?: number;
  /**
   * Install SIGINT/SIGTERM handlers that stop the cluster (default true). After
   * the stop, `onSignal` runs if given (e.g. to write partial results and exit);
   * otherwise the process exits with 128 + the signal number (130, 143).
   */
  handleSignals?: boolean;
  onSignal?: (signal: NodeJS.Signals) => void;
  /** Snapshot every N applied entries (ClusterConfig.snapshotEveryEntries; trailing entries min(N, the default)); absent: the default. */
  snapshotEveryEntries?: number;
  /** InstallSnapshot chunk bytes (ClusterConfig.snapshotChunkBytes); absent: the node's default. */
  snapshotChunkBytes?: number;
  /** The session table's bound (ClusterConfig.maxSessions); absent: the node's default. */
  maxSessions?: number;
  /** Clock faults through each node's own clock ('node', default) or libfaketime's wall-clock offsets (db/faketime-clock.ts). */
  clockVia?: 'node' | 'faketime';
  /**
   * Spare identities beyond the bootstrap nodes (config spareNodes, ids after
   * theirs): started too, with --join, so the resize nemesis can add them
   * (issue 18). Default 0.
   */
  spareCount?: number;
  /**
   * Start the client links' relay (net/client-relay.ts), through which the
   * harness's clients reach every node, spares included: what the
   * client-loss nemesis drops datagrams in. Default false.
   */
  clientRelay?: boolean;
  /**
   * Each node's data directory on a tmpfs of its own of this many bytes
   * (data-mounts.ts: the disk-full nemesis fills them; root only), unmounted
   * in the cluster's teardown. Absent: ordinary directories.
   */
  dataTmpfsBytes?: number;
}

export class Cluster extends DbCluster<RiftDb> {
  private constructor(
    readonly config: ClusterConfig,
    readonly configPath: string,
    db: RiftDb,
    net: NetworkControl,
    relay: UdpRelay | null,
    netns: NetnsNetwork | null,
    /** The client links' relay (ClusterOptions.clientRelay), or null: clients reach the nodes directly. */
    override readonly clientNet: ClientRelay | null,
    mounts: DataMounts | null,
    opts: ClusterOptions,
  ) {
    super(
      db,
      net,
      {
        // The data mounts last: every node has stopped, so nothing holds a file on them.
        stop: async () => {
          relay?.close();
          clientNet?.close();
          try {
            if (netns !== null) await netns.teardown();
          } finally {
            await mounts?.release();
          }
        },
        stopSync: () => {
          relay?.close();
          clientNet?.close();
          netns?.teardownSync();
          mounts?.releaseSync();
        },
      },
      {
        ...(opts.log !== undefined ? { log: opts.log } : {}),
        ...(opts.handleSignals !== undefined ? { handleSignals: opts.handleSignals } : {}),
        ...(opts.onSignal !== undefined ? { onSignal: opts.onSignal } : {}),
      },
    );
  }

  /** Writes the config, spawns all nodes and waits for each one's 'ready'. */
  static async start(opts: ClusterOptions): Promise<Cluster> {
    if (!Number.isInteger(opts.nodeCount) || opts.nodeCount < 1 || opts.nodeCount > 9) {
      throw new Error(`nodeCount must be an integer from 1 to 9, got ${opts.nodeCount}`);
    }
    if (opts.net !== 'relay' && opts.net !== 'netns' && opts.net !== 'direct') {
      throw new Error(`net must be 'relay', 'netns' or 'direct', got ${String(opts.net)}`);
    }
    const entry = riftNodeEntry(opts.nodeEntry);
    if (!existsSync(entry)) throw new Error(`node program ${entry} does not exist (build first: node scripts/build.mjs)`);
    const runDir = resolve(opts.runDir);
    mkdirSync(join(runDir, 'nodes'), { recursive: true });
    mkdirSync(join(runDir, 'data'), { recursive: true });
    const spareCount = opts.spareCount ?? 0;
    if (!Number.isInteger(spareCount) || spareCount < 0 || opts.nodeCount + spareCount > 9)
      throw new Error(`spareCount must be an integer >= 0 with at most 9 nodes in all, got ${spareCount}`);
    // Every identity that runs: the bootstrap nodes, then the spares.
    const ids = Array.from({ length: opts.nodeCount + spareCount }, (_, i) => `n${i + 1}`);

    let relay: UdpRelay | null = null;
    let netns: NetnsNetwork | null = null;
    let addresses: NodeAddress[];
    let routes: Record<string, Record<string, string>> = {};
    if (opts.net === 'relay' || opts.net === 'direct') {
      const ports = opts.basePort !== undefined ? ids.map((_, i) => opts.basePort! + i) : await pickFreeUdpPorts(ids.length);
      addresses = ids.map((id, i) => ({ id, host: '127.0.0.1', port: ports[i]! }));
      if (opts.net === 'relay') {
        relay = await UdpRelay.start({ nodes: addresses, seed: opts.seed });
        routes = relay.routes();
      }
    } else {
      netns = await NetnsNetwork.create(ids);
      addresses = ids.map((id) => ({ id, host: netns!.address(id), port: opts.basePort ?? 7000 }));
    }
    const nodes = addresses.slice(0, opts.nodeCount);
    const spareNodes = addresses.slice(opts.nodeCount);

    const heartbeatIntervalMs = opts.heartbeatIntervalMs ?? configDefaults.heartbeatIntervalMs;
    const config: ClusterConfig = {
      cluster: `rift-${process.pid}-${randomBytes(4).toString('hex')}`,
      peerSecret: randomBytes(24).toString('hex'),
      clientSecret: randomBytes(24).toString('hex'),
      clientFreshnessMs: configDefaults.clientFreshnessMs,
      dataDir: join(runDir, 'data'),
      electionTimeoutMsMin: opts.electionTimeoutMsMin ?? configDefaults.electionTimeoutMsMin,
      electionTimeoutMsMax: opts.electionTimeoutMsMax ?? configDefaults.electionTimeoutMsMax,
      heartbeatIntervalMs,
      tickMs: Math.min(configDefaults.tickMs, heartbeatIntervalMs),
      nodes,
      ...(spareNodes.length > 0 ? { spareNodes } : {}),
      routes,
      readMode: opts.readMode ?? configDefaults.readMode,
      clockDriftBound: configDefaults.clockDriftBound,
      ...(opts.snapshotEveryEntries !== undefined
        ? {
            snapshotEveryEntries: opts.snapshotEveryEntries,
            snapshotTrailingEntries: Math.min(opts.snapshotEveryEntries, defaultSnapshotting.snapshotTrailingEntries),
          }
        : {}),
      ...(opts.snapshotChunkBytes !== undefined ? { snapshotChunkBytes: opts.snapshotChunkBytes } : {}),
      ...(opts.maxSessions !== undefined ? { maxSessions: opts.maxSessions } : {}),
      maxKeyBytes: configDefaults.maxKeyBytes,
      maxValueBytes: configDefaults.maxValueBytes,
    };
    const configPath = join(runDir, 'cluster.json');
    writeFileSync(configPath, JSON.stringify(config, null, 2) + '\n');

    const net: NetworkControl = relay ?? netns ?? new DirectNetwork();
    // No node outlives the harness, paused or not (orphan-guard.ts).
    const guard = orphanGuard();
    if (guard.kind === 'none') opts.log?.(`no orphan guard (${guard.why}): a SIGKILLed harness can leave paused nodes behind`);
    let faketime: FaketimeClock | undefined;
    if (opts.clockVia === 'faketime') {
      const library = libfaketimePath();
      if (library === null) throw new Error(faketimeUnavailableReason() ?? 'libfaketime not found');
      faketime = new FaketimeClock(runDir, library);
    }
    const db = new RiftDb({
      config,
      configPath,
      entry,
      nodeFlags: [...(opts.pageCacheCrashModel === true ? ['--page-cache-crash-model'] : []), ...opts.nodeFlags],
      logDir: join(runDir, 'nodes'),
      cwd: repoRoot,
      readyTimeoutMs: opts.readyTimeoutMs ?? 15_000,
      wrap: (id, command) => guardedSpawn(netns !== null ? netns.wrap(id, command.command, command.args) : command, guard),
      ...(faketime !== undefined ? { faketime } : {}),
    });
    // The client links' relay, then the data mounts: the last resources made before the cluster exists (nothing after
    // them can throw). If one fails, what was made so far goes; from then on the cluster's stop releases them.
    let clientNet: ClientRelay | null = null;
    let mounts: DataMounts | null = null;
    try {
      if (opts.clientRelay === true) clientNet = await ClientRelay.start({ nodes: addresses, seed: (opts.seed ^ 0xc11e47) >>> 0 });
      if (opts.dataTmpfsBytes !== undefined) {
        mounts = await DataMounts.mount(
          ids.map((id) => join(config.dataDir, id)),
          opts.dataTmpfsBytes,
        );
      }
    } catch (err) {
      relay?.close();
      clientNet?.close();
      if (netns !== null) await netns.teardown();
      throw err;
    }
    const cluster = new Cluster(config, configPath, db, net, relay, netns, clientNet, mounts, opts);
    await cluster.startAll();
    cluster.log(
      `cluster up: ${opts.nodeCount} nodes${spareCount > 0 ? ` and ${spareCount} spare identities (${spareNodes.map((n) => n.id).join(', ')}, --join)` : ''} (${opts.net}), config ${configPath}`,
    );
    return cluster;
  }

  /**
   * The addresses the harness's clients use for the nodes (bootstrap and
   * spares): the client relay's fronts with one, else the nodes' own.
   */
  clientAddresses(): { readonly nodes: NodeAddress[]; readonly spareNodes: NodeAddress[] | undefined } {
    const via = (n: NodeAddress): NodeAddress => (this.clientNet === null ? n : { id: n.id, ...this.clientNet.frontAddress(n.id) });
    return { nodes: this.config.nodes.map(via), spareNodes: this.config.spareNodes?.map(via) };
  }

  /** Status over IPC (rift's whole NodeStatus); null when the node is dead, paused or does not answer in time. */
  override async status(id: string, timeoutMs = 1000): Promise<NodeStatus | null> {
    if (!this.isAlive(id) || this.isPaused(id)) return null;
    return this.db.nodeStatus(id, timeoutMs);
  }
}
