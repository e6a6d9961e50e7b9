/**
 * The workload scope (Jepsen's with-client+nemesis-setup-teardown around
 * run-case!): the history (its time zero is now), the client pool, the
 * nemesis on its schedule, the status line, and the cluster watch (who led
 * when: the per-fault evidence, and the leader the status line shows).
 * `runForTimeLimit` is the main phase; heal.ts the final one. Released in an
 * order that loses nothing: stop generating and wait for the ops in flight
 * (they still get their completion lines), stop the nemesis, stop the status
 * line, then close the history (fsync).
 */
import { valueForm } from '../../checker/values.js';
import { configDefaults } from '../../node/config-types.js';
import { ClientPool } from '../clients.js';
import type { RunningSystem } from '../db/system.js';
import { OpGenerator, Stagger } from '../generator.js';
import { NemesisRunner } from '../nemesis/runner.js';
import { leaseTimingsOf, unsafeFlagsOfNodeFlags } from '../options.js';
import { statusLine, type Phase } from '../progress.js';
import { ClusterWatch } from './cluster-watch.js';
import { nodeWaits, StarvationMonitor } from './starvation.js';
import type { RunContext } from './context.js';
import { messageOf, withResource } from './scope.js';

export class Workload {
  readonly pool: ClientPool;
  readonly generator: OpGenerator;
  readonly nemesis: NemesisRunner | null;
  /** The status line's phase: workload, heal, final reads. */
  phaseName = 'workload';
  /** The leader as last seen (status line; the watch's, once it has seen one). */
  leader: string | null;
  /** Who led when, for the per-fault evidence (and the status line's leader). */
  readonly watch: ClusterWatch;
  /** Whether the machine starved the run (starvation.ts). */
  readonly starvation: StarvationMonitor;
  /** Set for the final reads: their ops count in the 'final' phase, apart from the workload's. */
  private finalPhase = false;
  private readonly stagger: Stagger;
  private readonly stop = new AbortController();
  private readonly onInterrupt = (): void => this.stop.abort();
  private readonly startMs = performance.now();
  private running: Promise<void> | null = null;

  private constructor(
    private readonly run: RunContext,
    system: RunningSystem,
    leader: string,
    runDir: string,
  ) {
    const { options, seed } = run;
    const { cluster } = system;
    this.leader = leader;
    run.history.open(runDir, () => this.phaseNow());
    this.starvation = new StarvationMonitor(() => run.history.nowMs());
    run.facts.starvation = this.starvation;
    this.watch = new ClusterWatch(cluster, {
      nowMs: () => run.history.nowMs(),
      afterPoll: (reported) => this.starvation.sampleNodes(nodeWaits(cluster.processes(), reported)),
    });
    run.facts.watch = this.watch;
    try {
      this.generator = new OpGenerator({ seed, keys: options.keys, opsPerKey: options.opsPerKey });
      this.stagger = new Stagger(options.rate, seed ^ 0x5eed);
      this.nemesis =
        run.facts.schedule.length === 0
          ? null
          : new NemesisRunner(cluster, run.facts.schedule, {
              seed,
              // A fault aimed at the leader waits up to 4 election timeouts for one mid-election.
              leaderWaitMs: 4 * options.electionTimeoutMs[1],
              leaseTimings: leaseTimingsOf(
                options.readMode,
                unsafeFlagsOfNodeFlags(options.nodeFlags).leaseMs,
                options.electionTimeoutMs[0],
                options.heartbeatIntervalMs,
              ),
              record: (op) => {
                run.facts.nemesisActions += op.phase === 'complete' ? 1 : 0;
                const line = run.history.record({
                  process: 'nemesis',
                  type: op.phase === 'invoke' ? 'invoke' : 'info',
                  f: op.f,
                  value: op.value,
                });
                // The relay's counters as this op happens: a fault's effect on each link is its stop's minus its start's.
                if (line !== null) this.watch.snapshotNet(line.index);
              },
              log: (l) => run.log.line(l),
            });
      this.pool = new ClientPool({
        nodeIds: cluster.nodeIds,
        openClient: (spec) => system.openClient(spec),
        concurrency: options.concurrency,
        seed,
        opTimeoutMs: options.opTimeoutMs,
        values: valueForm(options.values, configDefaults.maxValueBytes),
        record: (e) => run.history.record(e),
      });
    } catch (err) {
      run.history.close(); // the only thing acquired so far
      throw err;
    }
    // Nothing below can fail.
    if (run.io.signal.aborted) this.stop.abort();
    else run.io.signal.addEventListener('abort', this.onInterrupt, { once: true });
    const timeLimitMs = options.timeLimitS * 1000;
    run.progress.start(() =>
      statusLine({
        elapsedMs: performance.now() - this.startMs,
        timeLimitMs,
        phase: this.phaseName,
        ok: run.stats.ok,
        fail: run.stats.fail,
        info: run.stats.info,
        faults: this.nemesis?.activeFaults() ?? [],
        leader: this.watch.currentLeader() ?? this.leader,
      }),
    );
    this.starvation.start();
    this.watch.start();
  }

  /** Opens the workload on a cluster with a leader, runs `body`, and releases it (see the file comment). */
  static async with<T>(
    run: RunContext,
    runDir: string,
    system: RunningSystem,
    leader: string,
    body: (w: Workload) => Promise<T>,
  ): Promise<T> {
    return withResource(
      new Workload(run, system, leader, runDir),
      body,
      (w) => w.close(),
      (e) => run.log.line(`closing the history failed: ${messageOf(e)}`),
    );
  }

  /** Clients and nemesis until --time-limit passes (or Ctrl-C); resolves once every op in flight completed. */
  async runForTimeLimit(): Promise<void> {
    const { run } = this;
    this.nemesis?.start(performance.now());
    const timeLimit = setTimeout(() => this.stop.abort(), run.options.timeLimitS * 1000);
    this.running = this.pool.runWorkload(this.generator, this.stagger, this.stop.signal);
    try {
      await this.running;
    } finally {
      clearTimeout(timeLimit);
    }
    run.facts.timings.workloadMs = run.msSince(this.startMs);
    run.facts.workloadEndMs = run.history.nowMs();
    run.throwIfInterrupted();
    run.log.line(`workload done: ${this.generator.opsIssued} ops issued over ${this.generator.keysUsed().length} keys`);
  }

  /** From now on client ops belong to the final phase (the final reads after the heal). */
  enterFinalPhase(): void {
    this.finalPhase = true;
  }

  private phaseNow(): Phase {
    return this.finalPhase ? 'final' : this.nemesis !== null && this.nemesis.activeFaults().length > 0 ? 'faults' : 'healed';
  }

  private async close(): Promise<void> {
    this.stop.abort();
    this.run.io.signal.removeEventListener('abort', this.onInterrupt);
    this.pool.close();
    await this.running?.catch(() => undefined);
    await this.nemesis?.stop().catch(() => undefined);
    await this.watch.stop();
    this.starvation.stop();
    this.run.progress.stop();
    this.run.history.close();
  }
}
