/**
 * etcd as a Db (db.ts): one `etcd` process per node, started on its host
 * through its Remote with its own name, data directory and ports (the peer
 * URL on 2380-style ports, the client URL the gateway answers on). Kills
 * and pauses are signals to its pid on that host. etcd has no injectable
 * clock and speaks TCP between peers, so it offers neither the clock
 * capability nor relay routes: partitions cut its links in the kernel
 * (netns + nftables).
 *
 * etcd does not report how long it waited for a CPU (a rift node does, in
 * its status): for a node on another host the Db reads its
 * /proc/PID/schedstat there, at most once per `WAIT_READ_EVERY_MS`, beside
 * the status polls (never in their way), and reports the last reading in
 * the status, so the starvation monitor (run/starvation.ts) has it as for
 * a rift node. On this machine the monitor reads /proc itself.
 *
 * A node counts as started once its client port accepts connections: etcd
 * opens its listeners after replaying its WAL but answers requests only
 * once it has joined a quorum, and a killed majority restarts one node at a
 * time (nemesis/kinds/kill.ts), so waiting for answers would wait forever.
 */
import { connect } from 'node:net';
import { logTail, NodeExitedBeforeReady } from '../../node-process.js';
import type { SpawnCommand } from '../../orphan-guard.js';
import { describeExit, shellQuote, type HostProcess, type ProcessExit, type Remote } from '../../remote/remote.js';
import type { Db, MembershipCapability, NodeView } from '../db.js';
import { etcdMembership, peerUrlOf, type EtcdMembershipHost } from './membership.js';
import { parseSchedstatWaitMs } from '../../../node/util/schedstat.js';
import { gatewayCall } from './gateway.js';

export interface EtcdNode {
  readonly id: string;
  /** The address peers and clients reach it on. */
  readonly address: string;
  readonly clientPort: number;
  readonly peerPort: number;
  readonly remote: Remote;
  /** Its data directory and log file on its host. */
  readonly dataDir: string;
  readonly logPath: string;
  /** How its command line runs on its host (a network namespace on this machine; as is over ssh). */
  readonly wrap: (command: SpawnCommand) => SpawnCommand;
}

export interface EtcdDbOptions {
  readonly bin: string;
  readonly nodes: readonly EtcdNode[];
  /** etcd's --heartbeat-interval and --election-timeout (it randomizes elections between this and twice it). */
  readonly heartbeatIntervalMs: number;
  readonly electionTimeoutMs: number;
  readonly clusterToken: string;
  readonly readyTimeoutMs: number;
  /** After a node's teardown: bring its files back from its host (on --hosts), and leave nothing there. */
  readonly collect?: (node: EtcdNode) => Promise<void>;
}

interface Running {
  readonly proc: HostProcess;
  exit: ProcessExit | null;
  paused: boolean;
  /** The last run-queue wait read on its host (ms), when (performance.now()), and whether a read is in flight. */
  waitMs: number | null;
  waitReadAtMs: number;
  waitReading: boolean;
}

/** A remote node's /proc/PID/schedstat is read at most this often: one command on its host's control shell each. */
export const WAIT_READ_EVERY_MS = 1000;

export function clientUrl(node: EtcdNode): string {
  return `http://${node.address}:${node.clientPort}`;
}

function peerUrl(node: EtcdNode): string {
  return peerUrlOf(node);
}

/** Whether a TCP connection to host:port is accepted within timeoutMs. */
function accepts(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export class EtcdDb implements Db {
  readonly name = 'etcd';
  readonly nodeIds: readonly string[];
  readonly relayRoutes = false;
  private readonly running = new Map<string, Running>();
  /** etcd's member ids (hex) as each node reported its own, to name a leader by node id. */
  private readonly memberIds = new Map<string, string>();

  constructor(private readonly opts: EtcdDbOptions) {
    this.nodeIds = opts.nodes.map((n) => n.id);
    this.membership = etcdMembership(this.membershipHost());
  }

  node(id: string): EtcdNode {
    const n = this.opts.nodes.find((x) => x.id === id);
    if (n === undefined) throw new Error(`etcd: unknown node ${id}`);
    return n;
  }

  /**
   * Members the membership capability took out (membership.ts): `removed`
   * cannot start again; `joining` was added back as a new member and starts
   * on an empty data directory joining the existing cluster with this
   * --initial-cluster. Absent: a bootstrap member.
   */
  private readonly standing = new Map<
    string,
    { readonly kind: 'removed' } | { readonly kind: 'joining'; readonly initialCluster: string }
  >();

  readonly membership: MembershipCapability;

  private membershipHost(): EtcdMembershipHost {
    return {
      nodes: this.opts.nodes,
      isAlive: (id) => this.isAlive(id),
      isPaused: (id) => this.isPaused(id),
      removed: (id) => this.standing.set(id, { kind: 'removed' }),
      joining: async (id, initialCluster) => {
        // A new member starts empty: the removed member's data (its old member ID, its WAL) must go.
        await this.wipe(id);
        this.standing.set(id, { kind: 'joining', initialCluster });
      },
    };
  }

  private args(n: EtcdNode): string[] {
    const standing = this.standing.get(n.id);
    return [
      '--name',
      n.id,
      '--data-dir',
      n.dataDir,
      '--listen-client-urls',
      clientUrl(n),
      '--advertise-client-urls',
      clientUrl(n),
      '--listen-peer-urls',
      peerUrl(n),
      '--initial-advertise-peer-urls',
      peerUrl(n),
      '--initial-cluster',
      standing?.kind === 'joining' ? standing.initialCluster : this.opts.nodes.map((x) => `${x.id}=${peerUrl(x)}`).join(','),
      // Ignored once the data directory holds a member: a restart rejoins as itself.
      '--initial-cluster-state',
      standing?.kind === 'joining' ? 'existing' : 'new',
      '--initial-cluster-token',
      this.opts.clusterToken,
      '--heartbeat-interval',
      String(this.opts.heartbeatIntervalMs),
      '--election-timeout',
      String(this.opts.electionTimeoutMs),
      '--logger',
      'zap',
      '--log-outputs',
      'stderr',
    ];
  }

  async setup(id: string): Promise<void> {
    const n = this.node(id);
    // One round trip: etcd is there, and its data directory (mode 700: etcd 3.4 warns about a readable one).
    const q = shellQuote(n.dataDir);
    const r = await n.remote.run('sh', [
      '-c',
      `command -v ${shellQuote(this.opts.bin)} >/dev/null || exit 90; mkdir -p ${q} && chmod 700 ${q}`,
    ]);
    if (r.exitCode === 90) throw new Error(`${n.remote.host}: etcd is not installed (Debian: apt-get install etcd-server)`);
    if (r.exitCode !== 0) throw new Error(`etcd setup on ${n.remote.host}: mkdir ${n.dataDir}: ${r.stderr.trim()}`);
  }

  async start(id: string): Promise<void> {
    const n = this.node(id);
    if (this.isAlive(id)) throw new Error(`${id} is already running`);
    if (this.standing.get(id)?.kind === 'removed')
      throw new Error(`${id} was removed from the cluster: etcd takes it back only as a new member (membership add first)`);
    const cmd = n.wrap({ command: this.opts.bin, args: this.args(n) });
    const proc = await n.remote.start({ command: cmd.command, args: cmd.args, logPath: n.logPath });
    const entry: Running = { proc, exit: null, paused: false, waitMs: null, waitReadAtMs: -Infinity, waitReading: false };
    this.running.set(id, entry);
    void proc.exited.then((exit) => {
      entry.exit = exit;
      entry.paused = false;
    });
    const deadline = performance.now() + this.opts.readyTimeoutMs;
    for (;;) {
      if (entry.exit !== null) {
        const tail = n.remote.host === 'local' ? logTail(n.logPath) : '(log on the host)';
        throw new NodeExitedBeforeReady(
          `${id} exited before it was ready (${describeExit(entry.exit)}); log tail (${n.logPath}):\n${tail}`,
          entry.exit.kind === 'code' ? entry.exit.code : null,
        );
      }
      if (await accepts(n.address, n.clientPort, 500)) return;
      if (performance.now() >= deadline) {
        throw new Error(
          `${id} did not open its client port ${n.address}:${n.clientPort} within ${this.opts.readyTimeoutMs} ms (log ${n.logPath})`,
        );
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async kill(id: string): Promise<void> {
    const entry = this.running.get(id);
    if (entry === undefined || entry.exit !== null) return;
    await this.node(id).remote.signal(entry.proc.pid, 'SIGKILL');
    await entry.proc.exited;
  }

  async pause(id: string): Promise<void> {
    const entry = this.running.get(id);
    if (entry === undefined || entry.exit !== null) throw new Error(`cannot pause ${id}: not running`);
    const remote = this.node(id).remote;
    await remote.signal(entry.proc.pid, 'SIGSTOP');
    entry.paused = true;
    // Signal delivery is asynchronous: wait (briefly) until the kernel shows it stopped.
    const deadline = performance.now() + 1000;
    while (performance.now() < deadline && entry.exit === null) {
      const state = await remote.procState(entry.proc.pid);
      if (state === null || state === 'T' || state === 't') return;
      await new Promise((r) => setTimeout(r, 2));
    }
  }

  async resume(id: string): Promise<void> {
    const entry = this.running.get(id);
    if (entry === undefined || entry.exit !== null) return;
    await this.node(id).remote.signal(entry.proc.pid, 'SIGCONT');
    entry.paused = false;
  }

  async wipe(id: string): Promise<void> {
    if (this.isAlive(id)) throw new Error(`cannot wipe ${id}: it is running`);
    const n = this.node(id);
    await n.remote.run('rm', ['-rf', n.dataDir]);
  }

  logFiles(id: string): readonly string[] {
    return [this.node(id).logPath];
  }

  async teardown(id: string): Promise<void> {
    await this.stopProcess(id);
    await this.opts.collect?.(this.node(id));
  }

  private async stopProcess(id: string): Promise<void> {
    const entry = this.running.get(id);
    if (entry === undefined || entry.exit !== null) return;
    const remote = this.node(id).remote;
    await remote.killHard(entry.proc.pid);
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        entry.proc.exited,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`${id} (pid ${entry.proc.pid}) did not exit within 10 s of SIGKILL`)), 10_000);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  isAlive(id: string): boolean {
    const e = this.running.get(id);
    return e !== undefined && e.exit === null;
  }

  isPaused(id: string): boolean {
    const e = this.running.get(id);
    return e !== undefined && e.exit === null && e.paused;
  }

  pid(id: string): number | null {
    return this.isAlive(id) ? this.running.get(id)!.proc.pid : null;
  }

  localPid(id: string): number | null {
    return this.node(id).remote.host === 'local' ? this.pid(id) : null;
  }

  async procState(id: string): Promise<string | null> {
    const pid = this.pid(id);
    return pid === null ? null : this.node(id).remote.procState(pid);
  }

  /**
   * The node's run-queue wait as last read on its host (ms), starting the
   * next read when one is due; null on this machine (the monitor reads
   * /proc itself), before the first reading, or when it cannot be read.
   */
  private remoteWaitMs(id: string): number | null {
    const n = this.node(id);
    const entry = this.running.get(id);
    if (n.remote.host === 'local' || entry === undefined || entry.exit !== null) return null;
    const now = performance.now();
    if (!entry.waitReading && !entry.paused && now - entry.waitReadAtMs >= WAIT_READ_EVERY_MS) {
      entry.waitReading = true;
      entry.waitReadAtMs = now;
      n.remote
        .run('cat', [`/proc/${entry.proc.pid}/schedstat`], { timeoutMs: WAIT_READ_EVERY_MS })
        .then(
          (r) => {
            if (r.exitCode === 0) entry.waitMs = parseSchedstatWaitMs(r.stdout) ?? entry.waitMs;
          },
          () => undefined, // an unreachable host: the reading stays as it was
        )
        .finally(() => {
          entry.waitReading = false;
        });
    }
    return entry.waitMs;
  }

  /** Maintenance.Status: the member's term, its leader, its commit index (raftIndex); the run-queue wait read on its host. */
  async status(id: string, timeoutMs: number): Promise<NodeView | null> {
    const waitMs = this.remoteWaitMs(id);
    const r = await gatewayCall(clientUrl(this.node(id)), '/v3/maintenance/status', {}, timeoutMs);
    if (r.kind !== 'answer' || r.status !== 200) return null;
    const header = r.body['header'] as { member_id?: unknown } | undefined;
    const self = typeof header?.member_id === 'string' ? header.member_id : null;
    if (self !== null) this.memberIds.set(self, id);
    const leader = typeof r.body['leader'] === 'string' && r.body['leader'] !== '0' ? r.body['leader'] : null;
    return {
      role: leader !== null && leader === self ? 'leader' : 'follower',
      currentTerm: Number(r.body['raftTerm'] ?? 0),
      votedFor: null, // etcd does not report its vote
      leaderId: leader === null ? null : (this.memberIds.get(leader) ?? null),
      commitIndex: Number(r.body['raftIndex'] ?? 0),
      ...(waitMs === null ? {} : { runQueueWaitMs: waitMs }),
    };
  }

  dataDir(id: string): string {
    return this.node(id).dataDir;
  }

  killSync(id: string): void {
    const entry = this.running.get(id);
    if (entry !== undefined && entry.exit === null) this.node(id).remote.killSync(entry.proc.pid);
  }
}
