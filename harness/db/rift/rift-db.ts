/**
 * rift as a Db (db.ts): one `rift-node` process per node, started from the
 * harness's ClusterConfig. On this machine a node is a child process with
 * an IPC channel (node-process.ts): it reports 'ready', answers status and
 * takes clock changes there (the clock capability). Kills and pauses are
 * signals to its pid.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { addressBook, type ClusterConfig } from '../../../node/config-types.js';
import type { NodeStatus, StateDigest } from '../../../node/protocol.js';
import { NodeProcess, procState, type SpawnSpec } from '../../node-process.js';
import type { SpawnCommand } from '../../orphan-guard.js';
import type { ClockCapability, ClockChange, Db, MembershipCapability, NodeView } from '../db.js';
import type { FaketimeClock } from '../faketime-clock.js';
import { riftMembership } from './membership.js';

export interface RiftDbOptions {
  readonly config: ClusterConfig;
  readonly configPath: string;
  /** The node program (dist/node/main.js, or a test's fake node). */
  readonly entry: string;
  /** Flags for every node (--unsafe-..., --page-cache-crash-model). */
  readonly nodeFlags: readonly string[];
  /** <runDir>/nodes/<id>.log */
  readonly logDir: string;
  readonly cwd: string;
  readonly readyTimeoutMs: number;
  /** How a node's command line is spawned on this machine (the orphan guard, a network namespace). */
  readonly wrap: (id: string, command: SpawnCommand) => SpawnCommand;
  /** Clock faults through libfaketime (wall clock only) instead of the node's own clock (`--clock-via faketime`). */
  readonly faketime?: FaketimeClock;
}

export class RiftDb implements Db {
  readonly name = 'rift';
  readonly nodeIds: readonly string[];
  readonly relayRoutes: boolean;
  private readonly procs = new Map<string, NodeProcess>();
  private readonly spares: ReadonlySet<string>;

  constructor(private readonly opts: RiftDbOptions) {
    // The spare identities (config spareNodes) run too, started with --join: the resize nemesis adds them (issue 18).
    this.nodeIds = addressBook(opts.config).map((n) => n.id);
    this.spares = new Set((opts.config.spareNodes ?? []).map((n) => n.id));
    this.relayRoutes = Object.keys(opts.config.routes ?? {}).length > 0;
    this.clock = opts.faketime ?? { clock: (id: string, change: ClockChange) => this.proc(id).clock(change) };
    this.membership = riftMembership(opts.config);
  }

  /** rift's injectable clock (node/clock/), moved over the IPC channel; or libfaketime's wall-clock offsets. */
  readonly clock: ClockCapability;

  /** Membership changes with the admin key (membership.ts). */
  readonly membership: MembershipCapability;

  private proc(id: string): NodeProcess {
    const p = this.procs.get(id);
    if (p === undefined) throw new Error(`rift: node ${id} was not set up`);
    return p;
  }

  logPath(id: string): string {
    return join(this.opts.logDir, `${id}.log`);
  }

  async setup(id: string): Promise<void> {
    const args = [
      this.opts.entry,
      '--config',
      this.opts.configPath,
      '--id',
      id,
      ...(this.spares.has(id) ? ['--join'] : []),
      ...this.opts.nodeFlags,
    ];
    const node = { command: process.execPath, args };
    const spawn = this.opts.wrap(id, this.opts.faketime !== undefined ? this.opts.faketime.wrap(id, node) : node);
    const spec: SpawnSpec = { ...spawn, logPath: this.logPath(id), cwd: this.opts.cwd };
    this.procs.set(id, new NodeProcess(id, spec));
  }

  start(id: string): Promise<void> {
    this.opts.faketime?.reset(id);
    return this.proc(id).start(this.opts.readyTimeoutMs);
  }

  kill(id: string): Promise<void> {
    return this.proc(id).kill();
  }

  pause(id: string): Promise<void> {
    return this.proc(id).pause();
  }

  async resume(id: string): Promise<void> {
    this.proc(id).resume();
  }

  async wipe(id: string): Promise<void> {
    if (this.isAlive(id)) throw new Error(`cannot wipe ${id}: it is running`);
    await rm(this.dataDir(id), { recursive: true, force: true });
  }

  logFiles(id: string): readonly string[] {
    return [this.logPath(id)];
  }

  /** SIGCONT first (a stopped process would sit on anything but SIGKILL), then SIGKILL; the data stays for the run directory. */
  async teardown(id: string): Promise<void> {
    const p = this.procs.get(id);
    if (p === undefined) return;
    p.resume();
    await p.kill();
  }

  isAlive(id: string): boolean {
    return this.procs.get(id)?.isAlive() ?? false;
  }

  isPaused(id: string): boolean {
    return this.procs.get(id)?.isPaused() ?? false;
  }

  pid(id: string): number | null {
    return this.procs.get(id)?.pid ?? null;
  }

  exitCode(id: string): number | null {
    return this.procs.get(id)?.exitCode ?? null;
  }

  localPid(id: string): number | null {
    return this.pid(id);
  }

  async procState(id: string): Promise<string | null> {
    const pid = this.pid(id);
    return pid === null ? null : procState(pid);
  }

  status(id: string, timeoutMs: number): Promise<NodeView | null> {
    return this.nodeStatus(id, timeoutMs);
  }

  stateDigest(id: string, timeoutMs: number): Promise<StateDigest | null> {
    return this.proc(id).stateDigest(timeoutMs);
  }

  /** rift's whole status (its clock, its drop counters...), not only the NodeView. */
  nodeStatus(id: string, timeoutMs: number): Promise<NodeStatus | null> {
    return this.proc(id).status(timeoutMs);
  }

  dataDir(id: string): string {
    return join(this.opts.config.dataDir, id);
  }

  killSync(id: string): void {
    this.procs.get(id)?.killSync();
  }
}
