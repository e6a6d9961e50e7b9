/**
 * What every scope of a run shares (Jepsen's test map): the options, the
 * seed, the terminal, the log, the history recorder, the op counters, and
 * the facts the scopes learn as they go (the run directory, the nemesis
 * schedule, timings...), which results.json reports even when the run
 * crashed half way. `withRun` is the outermost scope: it owns harness.log,
 * closed after the summary (whose last line it is).
 */
import type { ReplicaComparison } from './replicas.js';
import type { NemesisEvent } from '../nemesis/schedule.js';
import type { JepsenOptions } from '../options.js';
import type { HostTarget } from '../remote/hosts.js';
import { OpStats, Progress } from '../progress.js';
import { HistoryRecorder } from './recorder.js';
import { RunLog } from './run-log.js';
import type { ClusterWatch } from './cluster-watch.js';
import type { StarvationMonitor } from './starvation.js';
import type { WireProbe } from './wire-monitor.js';

export interface RunIO {
  /** Progress line and log lines. */
  readonly stderr: { write(s: string): unknown; isTTY?: boolean; columns?: number };
  /** Summary (or results.json with --json). */
  readonly stdout: { write(s: string): unknown; isTTY?: boolean };
  /** Aborted on Ctrl-C. */
  readonly signal: AbortSignal;
  /** The repository (for git rev-parse). */
  readonly repoRoot: string;
  /** The command line as given (recorded in test.json). */
  readonly argv: readonly string[];
  /** Index of this run among --test-count runs (0-based). */
  readonly runIndex: number;
  /** Test hook: the node program (default dist/node/main.js). */
  readonly nodeEntry?: string;
  /** The hosts of --hosts, connected and probed by the CLI before any run (remote/hosts.ts). */
  readonly hosts?: readonly HostTarget[];
}

export interface Timings {
  startTime: string;
  clusterStartMs: number | null;
  workloadMs: number | null;
  healMs: number | null;
  finalReadsMs: number | null;
  checkMs: number | null;
  totalMs: number;
}

export interface FinalReads {
  keys: number;
  ok: number;
  /** Keys never read ok before the deadline. */
  missing: string[];
}

/** What the scopes learned, each field written by one scope. */
export interface RunFacts {
  /** The run directory (openRunDir); null until it exists. */
  runDir: string | null;
  /** The nemesis schedule drawn for this seed (openRunDir). */
  schedule: readonly NemesisEvent[];
  /** Nemesis actions completed (workload scope). */
  nemesisActions: number;
  /** Final reads (heal scope). */
  finalReads: FinalReads | null;
  /** How to read the wire monitor's report, where the fault layer has one (cluster scope). */
  wire: WireProbe | null;
  /** Why the system offers no wire monitor (cluster scope); null while unknown or when one runs. */
  wireNotRun: string | null;
  /** Who led when, who answered, the relay's counters per nemesis op (workload scope). */
  watch: ClusterWatch | null;
  /** Whether the machine starved the run: the harness's loop stalls, the nodes' run-queue waits (workload scope). */
  starvation: StarvationMonitor | null;
  /** When the workload's main phase ended, ms since the history began (workload scope). */
  workloadEndMs: number | null;
  /** The final heal (heal scope): when it ended on the history's clock, the leader found after it (null: none in time). */
  heal: HealFacts | null;
  /** Whether every node caught up with the leader after the final reads (heal scope). */
  catchUp: CatchUp | null;
  /** The replicas' state digests compared after the catch-up (heal scope); null when the system has none. */
  replicas: ReplicaComparison | null;
  timings: Timings;
}

/** After the final reads: the leader's commit index then, and the nodes that had not reached it by the deadline. */
export interface CatchUp {
  readonly target: number | null;
  /** startCommitIndex: what the node said when the wait began (absent: not known); equal to commitIndex, it never moved. */
  readonly laggards: readonly { readonly node: string; readonly commitIndex: number | null; readonly startCommitIndex?: number | null }[];
}

export interface HealFacts {
  /** ms since the history began. */
  readonly endedAtMs: number;
  readonly leader: string | null;
  /** How long the leader was waited for. */
  readonly leaderWaitMs: number;
}

/** Thrown where a Ctrl-C is noticed: the run ends without a verdict. */
export class Interrupted extends Error {
  constructor() {
    super('interrupted');
  }
}

export class RunContext {
  readonly startedAt = new Date();
  /** performance.now() at the start: the log's and the timings' origin. */
  readonly originMs = performance.now();
  readonly progress: Progress;
  readonly stats = new OpStats();
  readonly log: RunLog;
  readonly history: HistoryRecorder;
  readonly facts: RunFacts;

  constructor(
    readonly options: JepsenOptions,
    readonly seed: number,
    readonly io: RunIO,
  ) {
    this.progress = new Progress(io.stderr, !options.quiet);
    this.log = new RunLog(this.progress, this.originMs);
    this.history = new HistoryRecorder(this.stats);
    this.facts = {
      runDir: null,
      schedule: [],
      nemesisActions: 0,
      finalReads: null,
      wire: null,
      wireNotRun: null,
      watch: null,
      starvation: null,
      workloadEndMs: null,
      heal: null,
      catchUp: null,
      replicas: null,
      timings: {
        startTime: this.startedAt.toISOString(),
        clusterStartMs: null,
        workloadMs: null,
        healMs: null,
        finalReadsMs: null,
        checkMs: null,
        totalMs: 0,
      },
    };
  }

  /** Milliseconds since `since` (a performance.now() reading), rounded. */
  msSince(since: number): number {
    return Math.round(performance.now() - since);
  }

  get interrupted(): boolean {
    return this.io.signal.aborted;
  }

  throwIfInterrupted(): void {
    if (this.interrupted) throw new Interrupted();
  }
}

/** The outermost scope: the run's context; harness.log is closed at its end, after the summary, whatever happens. */
export async function withRun<T>(options: JepsenOptions, seed: number, io: RunIO, body: (run: RunContext) => Promise<T>): Promise<T> {
  const run = new RunContext(options, seed, io);
  try {
    return await body(run);
  } finally {
    run.log.close();
  }
}
