/**
 * rift as a Db on hosts reached through a Remote (`--hosts`): the node
 * program (dist/node: node/ imports nothing outside itself) and the
 * cluster config are copied to each host, the node runs there under the
 * host's `node` on a lease (remote/host-scripts.ts), and the harness
 * learns that it is up, and what it says about itself, over rift's own UDP
 * status request (node/client.ts RiftClient.status). No IPC channel reaches
 * across machines: the node's control requests (its injectable clock, the
 * digest of its replicated state) go over its ssh session instead
 * (`--control-fd`: requests on its standard input, answers on CONTROL_FD,
 * remote/host-scripts.ts), the same requests as over IPC. At teardown its
 * log and data directory come back into the run directory and the host
 * keeps nothing.
 */
import { copyFileSync, cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AdminConfig } from '../../../node/admin-client.js';
import { RiftClient, type ClientConfig } from '../../../node/client.js';
import type { ControlReply, ControlRequest, NodeStatus, StateDigest } from '../../../node/protocol.js';
import { NodeExitedBeforeReady, type ClockState } from '../../node-process.js';
import type { HostTarget } from '../../remote/hosts.js';
import { CONTROL_FD, describeExit, type HostProcess, type ProcessExit } from '../../remote/remote.js';
import type { ClockCapability, ClockChange, Db, MembershipCapability, NodeView } from '../db.js';
import { riftMembership } from './membership.js';

export interface RemoteRiftDbOptions {
  readonly hosts: ReadonlyMap<string, HostTarget>;
  /** Local files to copy: the node program's directory (dist/node), the config (cluster.json). */
  readonly programDir: string;
  readonly configPath: string;
  /** This run's directory on every host (remoteDir/<cluster name>). */
  readonly hostDir: string;
  readonly nodeFlags: readonly string[];
  /** Spare identities (config spareNodes): started with --join, empty, until the admin path adds them. */
  readonly joining?: ReadonlySet<string>;
  readonly clientConfig: ClientConfig;
  /** The peer secret and address book, for membership changes with the admin key (membership.ts). */
  readonly adminConfig: AdminConfig;
  /** The local run directory: logs come back to nodes/<id>.log, data to data/<id>/. */
  readonly runDir: string;
  readonly readyTimeoutMs: number;
}

interface Running {
  readonly proc: HostProcess;
  exit: ProcessExit | null;
  paused: boolean;
  /** Control requests go one at a time (answers carry no request id): each waits for the one before it. */
  controlQueue: Promise<unknown>;
}

/** How long a control request waits for its answer over the ssh session (a round trip, the node's event loop). */
export const CONTROL_ANSWER_MS = 5000;

export class RemoteRiftDb implements Db {
  readonly name = 'rift';
  readonly nodeIds: readonly string[];
  readonly relayRoutes = false;
  private readonly running = new Map<string, Running>();
  private readonly collected = new Set<string>();

  /** Membership changes: admin datagrams reach the nodes on their hosts as on loopback (membership.ts). */
  readonly membership: MembershipCapability;

  /** The node's own injectable clock (offsets, rates, jumps), over its control channel. */
  readonly clock: ClockCapability = {
    clock: async (id: string, change: ClockChange): Promise<ClockState> => {
      const reply = await this.control(id, { type: 'clock', ...change }, 'clock_ok');
      if (reply.type !== 'clock_ok') throw new Error(`${id}: unexpected answer ${reply.type}`);
      return { nowMs: reply.nowMs, offsetMs: reply.offsetMs, rate: reply.rate };
    },
  };

  constructor(private readonly opts: RemoteRiftDbOptions) {
    this.nodeIds = [...opts.hosts.keys()];
    this.membership = riftMembership(opts.adminConfig);
  }

  private host(id: string): HostTarget {
    const h = this.opts.hosts.get(id);
    if (h === undefined) throw new Error(`rift: no host for node ${id}`);
    return h;
  }

  /**
   * Everything of one node lives under its own directory on its host
   * (hostDir/<id>: the program, the config, the log) and its data under
   * hostDir/data/<id> (the config's dataDir + its id): two nodes never
   * share a path, even on hosts that share a file system.
   */
  private nodeDir(id: string): string {
    return `${this.opts.hostDir}/${id}`;
  }

  private logPath(id: string): string {
    return `${this.nodeDir(id)}/${id}.log`;
  }

  dataDir(id: string): string {
    return `${this.opts.hostDir}/data/${id}`;
  }

  /** One copy per host of what the node needs, staged once here: rift/node (dist/node), rift/package.json (ES modules), cluster.json. */
  async setup(id: string): Promise<void> {
    await this.host(id).remote.upload(this.stage(), this.nodeDir(id));
  }

  private staged: string | null = null;

  private stage(): string {
    if (this.staged !== null) return this.staged;
    const dir = join(this.opts.runDir, 'host-stage');
    mkdirSync(join(dir, 'rift'), { recursive: true });
    cpSync(this.opts.programDir, join(dir, 'rift', 'node'), { recursive: true });
    writeFileSync(join(dir, 'rift', 'package.json'), '{"type":"module"}\n');
    copyFileSync(this.opts.configPath, join(dir, 'cluster.json'));
    this.staged = dir;
    return dir;
  }

  async start(id: string): Promise<void> {
    if (this.isAlive(id)) throw new Error(`${id} is already running`);
    const { remote } = this.host(id);
    const dir = this.nodeDir(id);
    const proc = await remote.start({
      command: 'node',
      args: [
        `${dir}/rift/node/main.js`,
        '--config',
        `${dir}/cluster.json`,
        '--id',
        id,
        '--control-fd',
        String(CONTROL_FD),
        ...(this.opts.joining?.has(id) === true ? ['--join'] : []),
        ...this.opts.nodeFlags,
      ],
      logPath: this.logPath(id),
      cwd: dir,
      control: true,
    });
    const entry: Running = { proc, exit: null, paused: false, controlQueue: Promise.resolve() };
    this.running.set(id, entry);
    void proc.exited.then((exit) => {
      entry.exit = exit;
      entry.paused = false;
    });
    const deadline = performance.now() + this.opts.readyTimeoutMs;
    for (;;) {
      if (entry.exit !== null) {
        throw new NodeExitedBeforeReady(
          `${id} on ${remote.host} exited before it was ready (${describeExit(entry.exit)}); see ${this.logPath(id)} there`,
          entry.exit.kind === 'code' ? entry.exit.code : null,
        );
      }
      if ((await RiftClient.status(this.opts.clientConfig, id, 300)) !== null) return;
      if (performance.now() >= deadline)
        throw new Error(`${id} on ${remote.host} did not answer a status request within ${this.opts.readyTimeoutMs} ms`);
    }
  }

  async kill(id: string): Promise<void> {
    const entry = this.running.get(id);
    if (entry === undefined || entry.exit !== null) return;
    await this.host(id).remote.signal(entry.proc.pid, 'SIGKILL');
    await entry.proc.exited;
  }

  async pause(id: string): Promise<void> {
    const entry = this.running.get(id);
    if (entry === undefined || entry.exit !== null) throw new Error(`cannot pause ${id}: not running`);
    await this.host(id).remote.signal(entry.proc.pid, 'SIGSTOP');
    entry.paused = true;
  }

  async resume(id: string): Promise<void> {
    const entry = this.running.get(id);
    if (entry === undefined || entry.exit !== null) return;
    await this.host(id).remote.signal(entry.proc.pid, 'SIGCONT');
    entry.paused = false;
  }

  async wipe(id: string): Promise<void> {
    if (this.isAlive(id)) throw new Error(`cannot wipe ${id}: it is running`);
    await this.host(id).remote.run('rm', ['-rf', this.dataDir(id)]);
  }

  logFiles(id: string): readonly string[] {
    return [this.logPath(id)];
  }

  /** Kills the node, brings its log and data back into the run directory, and removes the run's files from its host. */
  async teardown(id: string): Promise<void> {
    const { remote } = this.host(id);
    const entry = this.running.get(id);
    if (entry !== undefined && entry.exit === null) {
      await remote.killHard(entry.proc.pid);
      await entry.proc.exited;
    }
    if (this.collected.has(id)) return;
    this.collected.add(id);
    rmSync(join(this.opts.runDir, 'host-stage'), { recursive: true, force: true }); // every host has its copy by now
    mkdirSync(join(this.opts.runDir, 'nodes'), { recursive: true });
    mkdirSync(join(this.opts.runDir, 'data'), { recursive: true });
    const errors: string[] = [];
    await Promise.all([
      remote.download(this.logPath(id), join(this.opts.runDir, 'nodes', `${id}.log`)).catch((e: Error) => errors.push(e.message)),
      remote.download(this.dataDir(id), join(this.opts.runDir, 'data', id)).catch((e: Error) => errors.push(e.message)),
    ]);
    // Its own files, then the run's directories if no other node (on a shared file system) still has any.
    const h = this.opts.hostDir;
    await remote.run('sh', ['-c', `rm -rf ${h}/${id} ${h}/data/${id}; rmdir ${h}/data ${h} 2>/dev/null; true`]);
    if (errors.length > 0) throw new Error(`collecting ${id}'s files from ${remote.host}: ${errors.join('; ')}`);
  }

  /** How the node's last process exited (a removed node exits with NODE_EXIT.removed), or null while it runs or never ran. */
  exitCode(id: string): number | null {
    const exit = this.running.get(id)?.exit ?? null;
    return exit !== null && exit.kind === 'code' ? exit.code : null;
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

  /** Its pid is on another host: the starvation monitor cannot read its /proc. */
  localPid(_id: string): number | null {
    return null;
  }

  async procState(id: string): Promise<string | null> {
    const pid = this.pid(id);
    return pid === null ? null : this.host(id).remote.procState(pid);
  }

  status(id: string, timeoutMs: number): Promise<NodeView | null> {
    return this.nodeStatus(id, timeoutMs);
  }

  nodeStatus(id: string, timeoutMs: number): Promise<NodeStatus | null> {
    return RiftClient.status(this.opts.clientConfig, id, timeoutMs);
  }

  /**
   * A file of the node's data directory on its host (the disk nemesis damages the log while the node is down): copied
   * here through the Remote, read, and the scratch copy removed; null when the host has no such file.
   */
  async readDataFile(id: string, name: string): Promise<Buffer | null> {
    const { remote } = this.host(id);
    const path = `${this.dataDir(id)}/${name}`;
    if ((await remote.run('test', ['-f', path])).exitCode !== 0) return null;
    const local = this.scratchFile(id, name);
    try {
      await remote.download(path, local);
      return readFileSync(local);
    } finally {
      rmSync(local, { force: true });
    }
  }

  /** Replaces a file of the node's data directory on its host (written here, copied there). */
  async writeDataFile(id: string, name: string, bytes: Buffer): Promise<void> {
    const local = this.scratchFile(id, name);
    writeFileSync(local, bytes);
    try {
      await this.host(id).remote.upload(local, `${this.dataDir(id)}/${name}`);
    } finally {
      rmSync(local, { force: true });
    }
  }

  private scratchCount = 0;

  /** A fresh local path for one copy of a node's data file (under the run directory, removed after use). */
  private scratchFile(id: string, name: string): string {
    const dir = join(this.opts.runDir, 'data-file-copies');
    mkdirSync(dir, { recursive: true });
    return join(dir, `${id}-${++this.scratchCount}-${name}`);
  }

  /** The digest of the node's replicated state (run/replicas.ts compares them at the end of a run); null when it is down, paused or silent. */
  async stateDigest(id: string, timeoutMs: number): Promise<StateDigest | null> {
    if (!this.isAlive(id) || this.isPaused(id)) return null;
    try {
      const reply = await this.control(id, { type: 'state_digest' }, 'state_digest', timeoutMs);
      return reply.type === 'state_digest' ? reply.digest : null;
    } catch {
      return null;
    }
  }

  /**
   * One control request and its answer (the first line of type `answer` after it was sent), after the requests
   * before it: rejects when the node is not running, is paused (a stopped process answers nothing), ends, or
   * does not answer within `timeoutMs`.
   */
  private control(id: string, request: ControlRequest, answer: ControlReply['type'], timeoutMs = CONTROL_ANSWER_MS): Promise<ControlReply> {
    const entry = this.running.get(id);
    if (entry === undefined || entry.exit !== null) return Promise.reject(new Error(`${id} is not running`));
    if (entry.paused) return Promise.reject(new Error(`${id} is paused`));
    const channel = entry.proc.control;
    if (channel === undefined) return Promise.reject(new Error(`${id} has no control channel`));
    const ask = (): Promise<ControlReply> =>
      new Promise<ControlReply>((resolve, reject) => {
        const done = (fn: () => void): void => {
          clearTimeout(timer);
          off();
          fn();
        };
        const timer = setTimeout(
          () => done(() => reject(new Error(`${id} did not answer ${request.type} within ${timeoutMs} ms`))),
          timeoutMs,
        );
        const off = channel.onLine((line) => {
          let reply: ControlReply;
          try {
            reply = JSON.parse(line) as ControlReply;
          } catch {
            return;
          }
          if (typeof reply === 'object' && reply !== null && reply.type === answer) done(() => resolve(reply));
        });
        void entry.proc.exited.then(() => done(() => reject(new Error(`${id} ended before it answered ${request.type}`))));
        channel.send(JSON.stringify(request));
      });
    const result = entry.controlQueue.then(ask, ask);
    entry.controlQueue = result.catch(() => undefined);
    return result;
  }

  killSync(id: string): void {
    const entry = this.running.get(id);
    if (entry !== undefined && entry.exit === null) this.host(id).remote.killSync(entry.proc.pid);
  }
}
