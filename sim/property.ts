/**
 * One run judged: the simulation (Raft invariants after every event,
 * liveness after the heal) plus the linearizability checker on the client
 * history; and campaigns of runs driven by fast-check, which shrink a
 * failing scenario to a minimal one and report the seed and path to replay.
 */
import fc from 'fast-check';
import { checkHistory } from '../checker/index.js';
import type { CheckResult } from '../checker/types.js';
import { scenarioArb, defaultShape, type ScenarioShape } from './arbitraries.js';
import type { Scenario, SimOptions } from './scenario.js';
import { runSimulation, type SimResult, type SimStats, type Violation } from './simulator.js';

export interface Judged {
  readonly sim: SimResult;
  readonly check: CheckResult | null;
  readonly violations: readonly Violation[];
}

/** Runs a scenario and checks its history (the checker is skipped once an invariant already failed). */
export async function judge(scenario: Scenario, options: SimOptions): Promise<Judged> {
  const sim = await runSimulation(scenario, options);
  const violations: Violation[] = [...sim.violations];
  let check: CheckResult | null = null;
  if (violations.length === 0 || !options.stopOnViolation) {
    check = checkHistory(sim.history, { model: 'cas-register', timeLimitMs: options.checkerTimeLimitMs, workers: false });
    if (check.valid === false) {
      const key = check.failures[0] ?? '?';
      const ce = check.keys[key]?.counterexample;
      violations.push({
        kind: 'linearizability',
        atMs: sim.stats.simMs,
        message: `history not linearizable on key ${key}${ce === undefined ? '' : `: cannot linearize ${ce.op.description} (line ${ce.op.invoke.line ?? ce.op.invoke.index})`}`,
      });
    }
  }
  return { sim, check, violations };
}

export function describeViolations(violations: readonly Violation[]): string {
  return violations.map((v) => `  [${v.kind} at ${v.atMs.toFixed(1)} ms] ${v.message}`).join('\n');
}

export class SimulationFailure extends Error {
  constructor(readonly judged: Judged) {
    super(`simulation found ${judged.violations.length} violation(s):\n${describeViolations(judged.violations)}`);
    this.name = 'SimulationFailure';
  }
}

export interface CampaignOptions {
  readonly numRuns: number;
  readonly seed?: number;
  readonly path?: string;
  /** Stop shrinking after this many shrink runs (bounded time). Default 200. */
  readonly maxShrinks?: number;
  readonly shape?: ScenarioShape;
  /** Called after every run (progress, totals). */
  readonly onRun?: (judged: Judged, run: number) => void;
  /** Called once, when the first failing run is found (before shrinking starts). */
  readonly onFailure?: () => void;
}

export interface CampaignResult {
  readonly failed: boolean;
  /** fast-check's seed and counterexample path (replay: `--seed S --path P`). */
  readonly seed: number;
  readonly path: string | null;
  /** Runs until the first failure (1-based), or null. Shrinking runs are not counted. */
  readonly runsToFailure: number | null;
  readonly runs: number;
  readonly shrinks: number;
  readonly counterexample: Scenario | null;
  readonly totals: CampaignTotals;
  readonly report: string;
}

export interface CampaignTotals {
  simMs: number;
  wallMs: number;
  events: number;
  opsOk: number;
  opsInfo: number;
  opsFail: number;
  crashes: number;
  leaderTerms: number;
  committed: number;
  checkerUnknown: number;
  /** Snapshots taken by the nodes, and installed from a leader (issue 18). */
  snapshotsTaken: number;
  snapshotsInstalled: number;
  /** InstallSnapshot chunks sent, and those past a stream's first (streams of several chunks). */
  snapshotChunks: number;
  snapshotChunksPastFirst: number;
  /** kill_in_stream faults that fired: a node killed inside a snapshot stream. */
  streamKills: number;
  /** io_error faults that fired (a file-system call failed), and the nodes that stopped on one. */
  ioFailures: number;
  ioFailureStops: number;
  /** Membership cycles completed (a member removed and voting again, sim/membership.ts). */
  membershipCycles: number;
  /** change_race faults (sim/change-race.ts): removals of the votes-only voter the new leader committed, and refused (ChangeRaceDriver.stats). */
  changeRaceEarlyRemovals: number;
  changeRaceRefusals: number;
  /** divergent_install faults (sim/divergent-install.ts): runs whose S snapshotted below the tail's term, and runs that reached the split. */
  divergentOlderSnapshots: number;
  divergentSplits: number;
}

/** The per-run figures a campaign adds up (a run's SimStats, or a worker's report of one). */
export type RunFigures = Pick<
  SimStats,
  | 'simMs'
  | 'wallMs'
  | 'events'
  | 'opsOk'
  | 'opsInfo'
  | 'opsFail'
  | 'crashes'
  | 'leaderTerms'
  | 'committed'
  | 'snapshotsTaken'
  | 'snapshotsInstalled'
  | 'snapshotChunks'
  | 'snapshotChunksPastFirst'
  | 'streamKills'
  | 'ioFailures'
  | 'ioFailureStops'
  | 'membershipCycles'
  | 'changeRaceEarlyRemovals'
  | 'changeRaceRefusals'
  | 'divergentOlderSnapshots'
  | 'divergentSplits'
>;

export function emptyTotals(): CampaignTotals {
  return {
    simMs: 0,
    wallMs: 0,
    events: 0,
    opsOk: 0,
    opsInfo: 0,
    opsFail: 0,
    crashes: 0,
    leaderTerms: 0,
    committed: 0,
    checkerUnknown: 0,
    snapshotsTaken: 0,
    snapshotsInstalled: 0,
    snapshotChunks: 0,
    snapshotChunksPastFirst: 0,
    streamKills: 0,
    ioFailures: 0,
    ioFailureStops: 0,
    membershipCycles: 0,
    changeRaceEarlyRemovals: 0,
    changeRaceRefusals: 0,
    divergentOlderSnapshots: 0,
    divergentSplits: 0,
  };
}

export function addTotals(t: CampaignTotals, s: RunFigures, checkerUnknown: boolean): void {
  t.simMs += s.simMs;
  t.wallMs += s.wallMs;
  t.events += s.events;
  t.opsOk += s.opsOk;
  t.opsInfo += s.opsInfo;
  t.opsFail += s.opsFail;
  t.crashes += s.crashes;
  t.leaderTerms += s.leaderTerms;
  t.committed += s.committed;
  t.snapshotsTaken += s.snapshotsTaken;
  t.snapshotsInstalled += s.snapshotsInstalled;
  t.snapshotChunks += s.snapshotChunks;
  t.snapshotChunksPastFirst += s.snapshotChunksPastFirst;
  t.streamKills += s.streamKills;
  t.ioFailures += s.ioFailures;
  t.ioFailureStops += s.ioFailureStops;
  t.membershipCycles += s.membershipCycles;
  t.changeRaceEarlyRemovals += s.changeRaceEarlyRemovals;
  t.changeRaceRefusals += s.changeRaceRefusals;
  t.divergentOlderSnapshots += s.divergentOlderSnapshots;
  t.divergentSplits += s.divergentSplits;
  if (checkerUnknown) t.checkerUnknown++;
}

/** A fast-check campaign: `numRuns` scenarios, shrinking the first failure. */
export async function campaign(options: SimOptions, opts: CampaignOptions): Promise<CampaignResult> {
  const seed = opts.seed ?? (Date.now() ^ (process.pid << 8)) >>> 0;
  const totals = emptyTotals();
  let runs = 0;
  let runsToFailure: number | null = null;
  let shrinking = false;
  let shrinks = 0;
  const maxShrinks = opts.maxShrinks ?? 200;
  const property = fc.asyncProperty(scenarioArb(options, opts.shape ?? defaultShape), async (scenario) => {
    // Bounded shrinking: past the budget every candidate "passes" at once, so
    // fast-check stops with the smallest failing scenario found so far.
    if (shrinking && shrinks >= maxShrinks) return;
    const judged = await judge(scenario, options);
    if (shrinking) shrinks++;
    else {
      runs++;
      addTotals(totals, judged.sim.stats, judged.check?.valid === 'unknown');
      opts.onRun?.(judged, runs);
    }
    if (judged.violations.length > 0) {
      if (runsToFailure === null) {
        runsToFailure = runs;
        opts.onFailure?.();
      }
      shrinking = true;
      throw new SimulationFailure(judged);
    }
  });
  const details = await fc.check(property, {
    seed,
    numRuns: opts.numRuns,
    ...(opts.path === undefined ? {} : { path: opts.path, endOnFailure: true }),
  });
  const failed = details.failed;
  const counterexample = failed && details.counterexample !== null ? details.counterexample[0] : null;
  return {
    failed,
    // Unsigned, as it is printed: fast-check reports an int32, and "-123" would read as an option in a replay command.
    seed: details.seed >>> 0,
    path: failed ? details.counterexamplePath : null,
    runsToFailure,
    runs,
    shrinks,
    counterexample,
    totals,
    report: failed ? (fc.defaultReportMessage(details) ?? '') : '',
  };
}
