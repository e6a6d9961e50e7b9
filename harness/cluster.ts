/**
 * The cluster manager: writes the ClusterConfig, spawns the nodes, and kills,
 * restarts, pauses, resumes and re-clocks them on the nemesis's orders.
 *
 * Network: 'relay' (default, no root) routes every directed peer link through
 * the in-process UDP relay (harness/net/relay.ts); 'netns' puts every node in
 * its own network namespace with nftables faults (harness/net/netns.ts).
 * Clients always talk to the nodes' own addresses, never through the relay.
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
import { configDefaults } from '../node/config-types.js';
import type { NodeStatus } from '../node/protocol.js';
import { DirectNetwork } from './net/direct.js';
import { NetnsNetwork } from './net/netns.js';
import { UdpRelay } from './net/relay.js';
import type { NetworkControl } from './net/types.js';
import { NodeProcess, type ClockState } from './node-process.js';
import { guardedSpawn, orphanGuard } from './orphan-guard.js';
import { pickFreeUdpPorts } from './ports.js';

export type { Grudge, NetStats, NetworkControl, PacketFaults } from './net/types.js';

// harness/cluster.ts runs from the sources (vitest) or from dist/harness/ (npm run jepsen).
const parentDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const repoRoot = basename(parentDir) === 'dist' ? resolve(parentDir, '..') : parentDir;

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
}

export class Cluster {
  readonly nodeIds: readonly string[];
  private readonly procs = new Map<string, NodeProcess>();
  private stopping: Promise<void> | null = null;
  private readonly signalHandlers: [NodeJS.Signals, () => void][] = [];
  private readonly exitHandler = (): void => this.stopSync();

  private constructor(
    readonly config: ClusterConfig,
    readonly configPath: string,
    readonly net: NetworkControl,
    private readonly relay: UdpRelay | null,
    private readonly netns: NetnsNetwork | null,
    private readonly opts: ClusterOptions,
  ) {
    this.nodeIds = config.nodes.map((n) => n.id);
  }

  /** Writes the config, spawns all nodes and waits for each one's 'ready'. */
  static async start(opts: ClusterOptions): Promise<Cluster> {
    if (!Number.isInteger(opts.nodeCount) || opts.nodeCount < 1 || opts.nodeCount > 9) {
      throw new Error(`nodeCount must be an integer from 1 to 9, got ${opts.nodeCount}`);
    }
    if (opts.net !== 'relay' && opts.net !== 'netns' && opts.net !== 'direct') {
      throw new Error(`net must be 'relay', 'netns' or 'direct', got ${String(opts.net)}`);
    }
    const entry = resolve(opts.nodeEntry ?? join(repoRoot, 'dist', 'node', 'main.js'));
    if (!existsSync(entry)) throw new Error(`node program ${entry} does not exist (build first: node scripts/build.mjs)`);
    const runDir = resolve(opts.runDir);
    mkdirSync(join(runDir, 'nodes'), { recursive: true });
    mkdirSync(join(runDir, 'data'), { recursive: true });
    const ids = Array.from({ length: opts.nodeCount }, (_, i) => `n${i + 1}`);

    let relay: UdpRelay | null = null;
    let netns: NetnsNetwork | null = null;
    let nodes: NodeAddress[];
    let routes: Record<string, Record<string, string>> = {};
    if (opts.net === 'relay' || opts.net === 'direct') {
      const ports = opts.basePort !== undefined ? ids.map((_, i) => opts.basePort! + i) : await pickFreeUdpPorts(ids.length);
      nodes = ids.map((id, i) => ({ id, host: '127.0.0.1', port: ports[i]! }));
      if (opts.net === 'relay') {
        relay = await UdpRelay.start({ nodes, seed: opts.seed });
        routes = relay.routes();
      }
    } else {
      netns = await NetnsNetwork.create(ids);
      nodes = ids.map((id) => ({ id, host: netns!.address(id), port: opts.basePort ?? 7000 }));
    }

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
      routes,
      readMode: opts.readMode ?? configDefaults.readMode,
      clockDriftBound: configDefaults.clockDriftBound,
      maxKeyBytes: configDefaults.maxKeyBytes,
      maxValueBytes: configDefaults.maxValueBytes,
    };
    const configPath = join(runDir, 'cluster.json');
    writeFileSync(configPath, JSON.stringify(config, null, 2) + '\n');

    const net: NetworkControl = relay ?? netns ?? new DirectNetwork();
    const cluster = new Cluster(config, configPath, net, relay, netns, opts);
    // No node outlives the harness, paused or not (orphan-guard.ts).
    const guard = orphanGuard();
    if (guard.kind === 'none') cluster.log(`no orphan guard (${guard.why}): a SIGKILLed harness can leave paused nodes behind`);
    for (const id of ids) {
      const args = [
        entry,
        '--config',
        configPath,
        '--id',
        id,
        ...(opts.pageCacheCrashModel === true ? ['--page-cache-crash-model'] : []),
        ...opts.nodeFlags,
      ];
      const spawn = guardedSpawn(netns !== null ? netns.wrap(id, process.execPath, args) : { command: process.execPath, args }, guard);
      cluster.procs.set(id, new NodeProcess(id, { ...spawn, logPath: join(runDir, 'nodes', `${id}.log`), cwd: repoRoot }));
    }
    cluster.installHandlers();
    try {
      await Promise.all([...cluster.procs.values()].map((p) => p.start(opts.readyTimeoutMs ?? 15_000)));
    } catch (err) {
      await cluster.stop();
      throw err;
    }
    cluster.log(`cluster up: ${ids.length} nodes (${opts.net}), config ${configPath}`);
    return cluster;
  }

  private log(line: string): void {
    this.opts.log?.(line);
  }

  private proc(id: string): NodeProcess {
    const p = this.procs.get(id);
    if (p === undefined) throw new Error(`unknown node "${id}" (nodes: ${this.nodeIds.join(', ')})`);
    return p;
  }

  isAlive(id: string): boolean {
    return this.proc(id).isAlive();
  }

  isPaused(id: string): boolean {
    return this.proc(id).isPaused();
  }

  /** The node's data directory (its log file is `raft.log` in it). */
  dataDir(id: string): string {
    this.proc(id);
    return join(this.config.dataDir, id);
  }

  /** The node's OS process id while it runs, else null. */
  pid(id: string): number | null {
    return this.proc(id).pid;
  }

  /** Every node process id ever seen running now (for orphan checks). */
  pids(): number[] {
    return this.nodeIds.map((id) => this.proc(id).pid).filter((p): p is number => p !== null);
  }

  /** Status over IPC; null when the node is dead, paused or does not answer in time. */
  status(id: string, timeoutMs = 1000): Promise<NodeStatus | null> {
    return this.proc(id).status(timeoutMs);
  }

  /**
   * The current leader: among the live, unpaused nodes that answer and claim
   * role 'leader', the one with the highest term (a deposed leader that has
   * not heard of the new term yet still claims a lower one, §5.1). Null if none.
   */
  async leader(timeoutMs = 500): Promise<string | null> {
    const statuses = await Promise.all(this.nodeIds.map((id) => this.proc(id).status(timeoutMs)));
    let best: { id: string; term: number } | null = null;
    for (const [i, s] of statuses.entries()) {
      if (s === null || s.role !== 'leader') continue;
      if (best === null || s.currentTerm > best.term) best = { id: this.nodeIds[i]!, term: s.currentTerm };
    }
    return best?.id ?? null;
  }

  async waitForLeader(timeoutMs: number): Promise<string | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const leader = await this.leader();
      if (leader !== null || Date.now() >= deadline) return leader;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async kill(id: string): Promise<void> {
    await this.proc(id).kill();
    this.log(`${id} killed`);
  }

  /** Respawns a dead node with the same config and data; waits for 'ready'. */
  async restart(id: string): Promise<void> {
    const p = this.proc(id);
    if (p.isAlive()) throw new Error(`cannot restart ${id}: it is still running (kill it first)`);
    if (this.stopping !== null) throw new Error(`cannot restart ${id}: the cluster is stopping`);
    await p.start(this.opts.readyTimeoutMs ?? 15_000);
    this.log(`${id} restarted (pid ${p.pid})`);
  }

  async pause(id: string): Promise<void> {
    await this.proc(id).pause();
    this.log(`${id} paused`);
  }

  async resume(id: string): Promise<void> {
    this.proc(id).resume();
    this.log(`${id} resumed`);
  }

  /** Changes the node's injected clock (offset, rate, or a one-off bump) and waits for the acknowledgement. */
  async clock(id: string, change: { offsetMs?: number; rate?: number; bumpMs?: number }): Promise<ClockState> {
    const state = await this.proc(id).clock(change);
    this.log(`${id} clock offsetMs=${state.offsetMs} rate=${state.rate}`);
    return state;
  }

  /** Kills every node, closes the relay, removes namespaces and rules. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      const errors: string[] = [];
      await Promise.all(
        [...this.procs.values()].map(async (p) => {
          try {
            p.resume(); // SIGCONT first: a stopped process would sit on anything but SIGKILL
            await p.kill();
          } catch (err) {
            p.killSync();
            errors.push((err as Error).message);
          }
        }),
      );
      this.relay?.close();
      if (this.netns !== null) await this.netns.teardown();
      this.removeHandlers();
      if (errors.length > 0) this.log(`cluster stop: ${errors.join('; ')}`);
      this.log('cluster stopped');
    })();
    return this.stopping;
  }

  private stopSync(): void {
    for (const p of this.procs.values()) p.killSync();
    this.relay?.close();
    this.netns?.teardownSync();
  }

  private installHandlers(): void {
    process.on('exit', this.exitHandler);
    if (this.opts.handleSignals === false) return;
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      const handler = (): void => {
        this.log(`${signal}: stopping the cluster`);
        void this.stop().finally(() => {
          if (this.opts.onSignal !== undefined) this.opts.onSignal(signal);
          // Not a re-raise: execa's cleanup (signal-exit) keeps its own listeners,
          // so the default "terminate on signal" would never happen.
          else process.exit(128 + (signal === 'SIGINT' ? 2 : 15));
        });
      };
      process.on(signal, handler);
      this.signalHandlers.push([signal, handler]);
    }
  }

  private removeHandlers(): void {
    process.off('exit', this.exitHandler);
    for (const [signal, handler] of this.signalHandlers.splice(0)) process.off(signal, handler);
  }
}
