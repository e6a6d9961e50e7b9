/**
 * A running cluster of any Db (db.ts) on its network fault layer: the one
 * object the runner, the nemesis and the cluster watch act through. It adds
 * to the per-node Db what every system shares: who leads (the live node
 * claiming leadership with the highest term), waiting for a leader, the
 * teardown that always happens (stop: idempotent; SIGINT/SIGTERM handlers;
 * a synchronous process 'exit' hook), and the network's teardown after the
 * nodes'.
 */
import type { ClientLinkControl } from '../net/client-relay.js';
import type { NetworkControl } from '../net/types.js';
import type { ClockState } from '../node-process.js';
import { readLocalDataFile, writeLocalDataFile } from './data-files.js';
import type { ClockChange, Db, MembershipCapability, NodeView } from './db.js';
import type { NodeProcess } from '../run/starvation.js';
import type { StateDigest } from '../../node/protocol.js';

export interface DbClusterOptions {
  /** Harness-level log lines. */
  readonly log?: (line: string) => void;
  /**
   * Install SIGINT/SIGTERM handlers that stop the cluster (default true). After
   * the stop, `onSignal` runs if given (e.g. to write partial results and exit);
   * otherwise the process exits with 128 + the signal number (130, 143).
   */
  readonly handleSignals?: boolean;
  readonly onSignal?: (signal: NodeJS.Signals) => void;
}

/** The network's own teardown, after every node has stopped (the relay's sockets, namespaces and rules). */
export interface NetTeardown {
  stop(): Promise<void>;
  stopSync(): void;
}

export class DbCluster<D extends Db = Db> {
  readonly nodeIds: readonly string[];
  /** The client links' relay, where the system routes its clients through one (rift with client-loss); else null. */
  readonly clientNet: ClientLinkControl | null = null;
  private stopping: Promise<void> | null = null;
  private readonly signalHandlers: [NodeJS.Signals, () => void][] = [];
  private readonly exitHandler = (): void => this.stopSync();

  constructor(
    readonly db: D,
    readonly net: NetworkControl,
    private readonly netTeardown: NetTeardown,
    private readonly clusterOpts: DbClusterOptions,
  ) {
    this.nodeIds = db.nodeIds;
  }

  /** The Db's membership changes, where it has them (the `membership` nemesis). */
  get membership(): MembershipCapability | undefined {
    return this.db.membership;
  }

  /** Sets up and starts every node (in parallel); on a failure stops what started and rethrows. */
  async startAll(): Promise<void> {
    this.installHandlers();
    try {
      // In parallel: on --hosts each setup is a few ssh round trips to its own host.
      await Promise.all(this.nodeIds.map((id) => this.db.setup(id)));
      await Promise.all(this.nodeIds.map((id) => this.db.start(id)));
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  protected log(line: string): void {
    this.clusterOpts.log?.(line);
  }

  private check(id: string): void {
    if (!this.nodeIds.includes(id)) throw new Error(`unknown node "${id}" (nodes: ${this.nodeIds.join(', ')})`);
  }

  isAlive(id: string): boolean {
    this.check(id);
    return this.db.isAlive(id);
  }

  isPaused(id: string): boolean {
    this.check(id);
    return this.db.isPaused(id);
  }

  dataDir(id: string): string {
    this.check(id);
    return this.db.dataDir(id);
  }

  readDataFile(id: string, name: string): Promise<Buffer | null> {
    this.check(id);
    return this.db.readDataFile !== undefined ? this.db.readDataFile(id, name) : readLocalDataFile(this.db.dataDir(id), name);
  }

  writeDataFile(id: string, name: string, bytes: Buffer): Promise<void> {
    this.check(id);
    return this.db.writeDataFile !== undefined
      ? this.db.writeDataFile(id, name, bytes)
      : writeLocalDataFile(this.db.dataDir(id), name, bytes);
  }

  /** The node's OS process id while it runs, else null. */
  pid(id: string): number | null {
    this.check(id);
    return this.db.pid(id);
  }

  /** How the node's process last exited on its own (rift: NODE_EXIT, 6 when removed from the cluster), else null. */
  exitCode(id: string): number | null {
    this.check(id);
    return this.db.exitCode?.(id) ?? null;
  }

  /** Every node process id running now (for orphan checks). */
  pids(): number[] {
    return this.nodeIds.map((id) => this.db.pid(id)).filter((p): p is number => p !== null);
  }

  /** Every running node's pid on its host, and on this machine where it runs here (null elsewhere): the starvation monitor reads their /proc or their reports. */
  processes(): NodeProcess[] {
    return this.nodeIds.flatMap((id) => {
      const pid = this.db.pid(id);
      return pid === null ? [] : [{ id, pid, localPid: this.db.localPid(id) }];
    });
  }

  procState(id: string): Promise<string | null> {
    this.check(id);
    return this.db.procState(id);
  }

  /** Status; null when the node is dead, paused or does not answer in time. */
  status(id: string, timeoutMs = 1000): Promise<NodeView | null> {
    this.check(id);
    if (!this.db.isAlive(id) || this.db.isPaused(id)) return Promise.resolve(null);
    return this.db.status(id, timeoutMs).catch(() => null);
  }

  /** Whether the system can digest a node's replicated state (Db.stateDigest). */
  get digestsState(): boolean {
    return this.db.stateDigest !== undefined;
  }

  /** The node's state digest; null when the system has none, or the node is dead, paused or silent. */
  stateDigest(id: string, timeoutMs = 5000): Promise<StateDigest | null> {
    this.check(id);
    if (this.db.stateDigest === undefined || !this.db.isAlive(id) || this.db.isPaused(id)) return Promise.resolve(null);
    return this.db.stateDigest(id, timeoutMs).catch(() => null);
  }

  /**
   * The current leader: among the live, unpaused nodes that answer and claim
   * role 'leader', the one with the highest term (a deposed leader that has
   * not heard of the new term yet still claims a lower one, §5.1). Null if none.
   */
  async leader(timeoutMs = 500): Promise<string | null> {
    const statuses = await Promise.all(this.nodeIds.map((id) => this.status(id, timeoutMs)));
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
    this.check(id);
    await this.db.kill(id);
    this.log(`${id} killed`);
  }

  /** Starts a dead node again with the same config and data; waits until it serves. */
  async restart(id: string): Promise<void> {
    this.check(id);
    if (this.db.isAlive(id)) throw new Error(`cannot restart ${id}: it is still running (kill it first)`);
    if (this.stopping !== null) throw new Error(`cannot restart ${id}: the cluster is stopping`);
    await this.db.start(id);
    this.log(`${id} restarted (pid ${this.db.pid(id)})`);
  }

  async pause(id: string): Promise<void> {
    this.check(id);
    await this.db.pause(id);
    this.log(`${id} paused`);
  }

  async resume(id: string): Promise<void> {
    this.check(id);
    await this.db.resume(id);
    this.log(`${id} resumed`);
  }

  /** Changes the node's injected clock, where the Db has one (ClockCapability). */
  async clock(id: string, change: ClockChange): Promise<ClockState> {
    this.check(id);
    if (this.db.clock === undefined) throw new Error(`${this.db.name} has no injectable clock`);
    const state = await this.db.clock.clock(id, change);
    this.log(`${id} clock offsetMs=${state.offsetMs} rate=${state.rate}`);
    return state;
  }

  /** Whether clock faults move the wall clock only (faketime), not the node's own timers. */
  get wallClockOnly(): boolean {
    return this.db.clock?.rates === false;
  }

  /** Tears every node down, then the network. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      const errors: string[] = [];
      await Promise.all(
        this.nodeIds.map(async (id) => {
          try {
            await this.db.teardown(id);
          } catch (err) {
            this.db.killSync(id);
            errors.push((err as Error).message);
          }
        }),
      );
      await this.netTeardown.stop();
      this.removeHandlers();
      if (errors.length > 0) this.log(`cluster stop: ${errors.join('; ')}`);
      this.log('cluster stopped');
    })();
    return this.stopping;
  }

  private stopSync(): void {
    for (const id of this.nodeIds) this.db.killSync(id);
    this.netTeardown.stopSync();
  }

  private installHandlers(): void {
    process.on('exit', this.exitHandler);
    if (this.clusterOpts.handleSignals === false) return;
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      const handler = (): void => {
        this.log(`${signal}: stopping the cluster`);
        void this.stop().finally(() => {
          if (this.clusterOpts.onSignal !== undefined) this.clusterOpts.onSignal(signal);
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
