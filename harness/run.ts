/**
 * One test run, end to end (Jepsen's core/run!, §1.2 of the notes):
 * run dir → cluster up → leader → clients + nemesis for --time-limit →
 * stop generating → heal everything → wait for a leader → final reads of
 * every key ever used → stop clients and cluster → check the history →
 * results.json → summary.
 *
 * Teardown always happens (finally); Ctrl-C stops the run, keeps the history
 * and skips the check (exit 255: no verdict was reached). The history is
 * written as ops happen, so even a crashed run leaves one to re-check.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { checkFile } from '../checker/index.js';
import { writeCheckArtifacts } from '../checker/run-artifacts.js';
import type { CheckResult } from '../checker/types.js';
import { EXIT } from '../checker/exit-codes.js';
import { ClientPool } from './clients.js';
import { Cluster } from './cluster.js';
import { OpGenerator, Stagger } from './generator.js';
import { HistoryWriter, type HistoryEntry } from './history.js';
import { drawNemesisSchedule, type NemesisEvent } from './nemesis/schedule.js';
import { NemesisRunner } from './nemesis/runner.js';
import { RaftWireMonitor, type MonitorReport, type MonitorViolation } from './net/monitor.js';
import { UdpRelay } from './net/relay.js';
import type { JepsenOptions } from './options.js';
import { OpStats, Progress, formatSummary, statusLine, type Phase, type StatsSnapshot, type SummaryInput } from './progress.js';
import { createRunDir, gitCommit, gitDirty, updateLatest, writeJsonAtomic } from './store.js';

export type RunVerdict = true | false | 'unknown' | 'crashed' | 'interrupted';


export function exitCodeFor(verdict: RunVerdict): number {
  switch (verdict) {
    case true: return EXIT.valid;
    case false: return EXIT.invalid;
    case 'unknown': return EXIT.unknown;
    case 'crashed':
    case 'interrupted':
      return EXIT.crash;
  }
}

/**
 * The exit code of several runs: a crash first (as Jepsen's test-all), then
 * invalid over unknown (Jepsen's merge-valid: false beats :unknown, a
 * definite finding beats an inconclusive one), then valid.
 */
export function worstExitCode(codes: readonly number[]): number {
  for (const c of [EXIT.crash, EXIT.invalid, EXIT.unknown]) if (codes.includes(c)) return c;
  return EXIT.valid;
}

/** How long to wait for a leader before the workload and after the heal. */
const LEADER_WAIT_MS = 15_000;
/** Budget for the final reads (every key read ok once). */
const FINAL_READS_MS = 20_000;

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
}

export interface RunOutcome {
  readonly verdict: RunVerdict;
  readonly exitCode: number;
  readonly runDir: string | null;
  readonly results: ResultsJson | null;
}

export interface ResultsJson {
  /** Top-level verdict as the checker gave it (null when no check ran). */
  valid: true | false | 'unknown' | null;
  verdict: RunVerdict;
  exitCode: number;
  testName: string;
  seed: number;
  runDir: string;
  error: string | null;
  /** The checker's full result: per-key results, counterexamples, timings. */
  checker: CheckResult | null;
  /**
   * The wire invariant monitor (harness/net/monitor.ts): Election Safety and
   * one vote per term, judged from the peer datagrams. Any violation makes the
   * run invalid whatever the checker says. Null without a relay (--net netns).
   */
  monitor: (MonitorReport & { unmonitored: number }) | null;
  /** The first failing key's counterexample, for a quick look. */
  counterexample: CheckResult['keys'][string]['counterexample'] | null;
  counts: { byType: StatsSnapshot['byType']; byF: StatsSnapshot['byF'] };
  availability: { overall: StatsSnapshot['overall'] } & StatsSnapshot['phases'];
  finalReads: { keys: number; ok: number; missing: string[] } | null;
  nemesis: { kinds: readonly string[]; scheduled: number; actions: number };
  history: { lines: number; jsonl: string; txt: string };
  timings: {
    startTime: string;
    clusterStartMs: number | null;
    workloadMs: number | null;
    healMs: number | null;
    finalReadsMs: number | null;
    checkMs: number | null;
    totalMs: number;
  };
}

/** The argv of a single-run reproduction: same options, this run's seed, one run. */
export function reproduceArgs(argv: readonly string[], seed: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--seed' || a === '--test-count') {
      i++;
      continue;
    }
    if (a.startsWith('--seed=') || a.startsWith('--test-count=')) continue;
    out.push(a);
  }
  return [...out, '--seed', String(seed)];
}

function shellQuote(a: string): string {
  return /^[A-Za-z0-9_./=:,@%+-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`;
}

export async function runTest(options: JepsenOptions, seed: number, io: RunIO): Promise<RunOutcome> {
  const wallStart = performance.now();
  const startedAt = new Date();
  const progress = new Progress(io.stderr, !options.quiet);
  const stats = new OpStats();
  let runDir: string | null = null;
  let logFd: number | null = null;
  let cluster: Cluster | null = null;
  let history: HistoryWriter | null = null;
  let runner: NemesisRunner | null = null;
  let pool: ClientPool | null = null;
  let workload: Promise<void> | null = null;
  const stopWorkload = new AbortController();
  let leaderPoll: NodeJS.Timeout | null = null;
  let leader: string | null = null;
  let phaseName = 'setup';
  let finalPhase = false;
  let schedule: NemesisEvent[] = [];
  let nemesisActions = 0;
  let checkResult: CheckResult | null = null;
  let finalReads: ResultsJson['finalReads'] = null;
  let verdict: RunVerdict = 'crashed';
  let monitorReport: ResultsJson['monitor'] = null;
  let error: string | null = null;
  const timings: ResultsJson['timings'] = {
    startTime: startedAt.toISOString(), clusterStartMs: null, workloadMs: null, healMs: null, finalReadsMs: null, checkMs: null, totalMs: 0,
  };
  const onInterrupt = (): void => stopWorkload.abort();
  io.signal.addEventListener('abort', onInterrupt, { once: true });

  const log = (line: string): void => {
    const stamped = `${((performance.now() - wallStart) / 1000).toFixed(3).padStart(8)}s ${line}`;
    if (logFd !== null) {
      try {
        writeSync(logFd, stamped + '\n');
      } catch {
        // the log is best effort; the history is what matters
      }
    }
    progress.log(stamped);
  };
  const phaseNow = (): Phase => (finalPhase ? 'final' : runner !== null && runner.activeFaults().length > 0 ? 'faults' : 'healed');
  const record = (entry: HistoryEntry): void => {
    if (history === null) return;
    history.append(entry);
    stats.onEntry(entry, phaseNow());
  };
  const interrupted = (): boolean => io.signal.aborted;

  try {
    runDir = createRunDir(options.store, options.testName, startedAt);
    updateLatest(options.store, runDir);
    logFd = openSync(join(runDir, 'harness.log'), 'a');
    if (options.nemesis.length > 0) {
      schedule = drawNemesisSchedule({
        kinds: options.nemesisOrder,
        timeLimitMs: Math.round(options.timeLimitS * 1000),
        intervalMs: Math.max(4, Math.round(options.nemesisIntervalS * 1000)),
        nodeCount: options.nodes,
        partitionShapes: options.partitionShapes,
        targets: options.targets,
        clockFaults: options.clockFaults,
        lossPct: options.lossPct,
        seed,
      });
    }
    const reproduce = ['npm', 'run', 'jepsen', '--', ...reproduceArgs(io.argv, seed)].map(shellQuote).join(' ');
    writeJsonAtomic(join(runDir, 'test.json'), {
      name: options.testName,
      startTime: startedAt.toISOString(),
      seed,
      runIndex: io.runIndex,
      options: { ...options, seed },
      argv: io.argv,
      reproduce,
      git: { commit: gitCommit(io.repoRoot), dirty: gitDirty(io.repoRoot) },
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
      nemesisSchedule: schedule,
    });
    log(`test ${options.testName}, seed ${seed}: ${options.nodes} nodes (${options.net}, ${options.readMode}), ${options.timeLimitS} s, ` +
      `concurrency ${options.concurrency}, rate ${options.rate}/s, keys ${options.keys} x ${options.opsPerKey} ops, ` +
      `nemesis ${options.nemesis.length === 0 ? 'none' : `${options.nemesis.join(',')} every ${options.nemesisIntervalS} s (${schedule.length} events)`}` +
      `${options.nodeFlags.length > 0 ? `, node flags ${options.nodeFlags.join(' ')}` : ''}`);
    log(`run directory ${runDir}`);

    // --- cluster ---
    const t0 = performance.now();
    cluster = await Cluster.start({
      nodeCount: options.nodes,
      runDir,
      nodeFlags: options.nodeFlags,
      net: options.net,
      readMode: options.readMode,
      electionTimeoutMsMin: options.electionTimeoutMs[0],
      electionTimeoutMsMax: options.electionTimeoutMs[1],
      heartbeatIntervalMs: options.heartbeatIntervalMs,
      seed,
      log: (l) => log(`cluster: ${l}`),
      handleSignals: false, // the CLI owns Ctrl-C: it stops the run, which stops the cluster
      ...(io.nodeEntry !== undefined ? { nodeEntry: io.nodeEntry } : {}),
    });
    const c = cluster;
    if (c.net instanceof UdpRelay) {
      // The relay kept the datagrams since it started: the monitor sees the first election too.
      c.net.attachMonitor(new RaftWireMonitor({
        secret: c.config.secret,
        cluster: c.config.cluster,
        onViolation: (v) => {
          log(`MONITOR: ${v.message}`);
          record({ process: 'monitor', type: 'info', f: 'monitor-violation', value: violationValue(v) });
        },
      }));
    }
    if (interrupted()) throw new Interrupted();
    leader = await c.waitForLeader(LEADER_WAIT_MS);
    if (leader === null) throw new Error(`no leader elected within ${LEADER_WAIT_MS / 1000} s of starting the cluster (see ${join(runDir, 'nodes')})`);
    timings.clusterStartMs = Math.round(performance.now() - t0);
    log(`leader ${leader} after ${timings.clusterStartMs} ms`);
    if (interrupted()) throw new Interrupted();

    // --- workload + nemesis (time zero of the history) ---
    history = new HistoryWriter(runDir, process.hrtime.bigint());
    const h = history;
    pool = new ClientPool({ config: c.config, concurrency: options.concurrency, seed, opTimeoutMs: options.opTimeoutMs, record });
    const generator = new OpGenerator({ seed, keys: options.keys, opsPerKey: options.opsPerKey });
    const stagger = new Stagger(options.rate, seed ^ 0x5eed);
    if (schedule.length > 0) {
      runner = new NemesisRunner(c, schedule, {
        seed,
        record: (op) => {
          nemesisActions += op.phase === 'complete' ? 1 : 0;
          record({ process: 'nemesis', type: op.phase === 'invoke' ? 'invoke' : 'info', f: op.f, value: op.value });
        },
        log: (l) => log(l),
      });
    }
    const workloadStart = performance.now();
    const timeLimitMs = options.timeLimitS * 1000;
    phaseName = 'workload';
    progress.start(() => statusLine({
      elapsedMs: performance.now() - workloadStart, timeLimitMs, phase: phaseName, ok: stats.ok, fail: stats.fail, info: stats.info,
      faults: runner?.activeFaults() ?? [], leader,
    }));
    let polling = false;
    leaderPoll = setInterval(() => {
      if (polling) return;
      polling = true;
      c.leader(500).then((l) => { leader = l; }, () => { leader = null; }).finally(() => { polling = false; });
    }, 1000);
    runner?.start(performance.now());
    const timeLimit = setTimeout(() => stopWorkload.abort(), timeLimitMs);
    workload = pool.runWorkload(generator, stagger, stopWorkload.signal);
    try {
      await workload;
    } finally {
      clearTimeout(timeLimit);
    }
    timings.workloadMs = Math.round(performance.now() - workloadStart);
    if (interrupted()) throw new Interrupted();
    log(`workload done: ${generator.opsIssued} ops issued over ${generator.keysUsed().length} keys`);

    // --- heal, recover, final reads ---
    phaseName = 'heal';
    const healStart = performance.now();
    if (runner !== null) await runner.healAll();
    finalPhase = true;
    leader = await c.waitForLeader(LEADER_WAIT_MS);
    timings.healMs = Math.round(performance.now() - healStart);
    log(leader === null ? `no leader ${LEADER_WAIT_MS / 1000} s after the heal; final reads will likely fail` : `healed; leader ${leader}`);
    if (interrupted()) throw new Interrupted();
    phaseName = 'final reads';
    const readsStart = performance.now();
    const keys = generator.keysUsed();
    const reads = await pool.finalReads(keys, performance.now() + FINAL_READS_MS, io.signal);
    finalReads = { keys: keys.length, ok: reads.ok, missing: reads.missing };
    timings.finalReadsMs = Math.round(performance.now() - readsStart);
    log(`final reads: ${reads.ok}/${keys.length} keys read${reads.missing.length > 0 ? `; never read ok: ${reads.missing.join(', ')}` : ''}`);
    if (interrupted()) throw new Interrupted();

    // --- stop, then check ---
    phaseName = 'stopping';
    clearInterval(leaderPoll);
    leaderPoll = null;
    pool.close();
    if (!options.leaveRunning) await c.stop();
    h.close();
    progress.stop();

    const checkStart = performance.now();
    log(`checking ${h.count} history lines (cas-register, budget ${options.checkTimeLimitS} s)...`);
    checkResult = await checkFile(h.jsonlPath, { model: 'cas-register', timeLimitMs: Math.round(options.checkTimeLimitS * 1000), allKeys: true, witness: true });
    timings.checkMs = Math.round(performance.now() - checkStart);
    verdict = checkResult.valid;
    monitorReport = c.net.monitorReport?.() ?? null;
    if (monitorReport !== null && monitorReport.violations.length > 0) {
      // A broken protocol invariant is a definite finding, whatever the history shows.
      verdict = false;
      log(`monitor: ${monitorReport.violations.length} violation(s): ${monitorReport.violations.map((v) => v.message).join('; ')}`);
    }
  } catch (err) {
    if (err instanceof Interrupted || interrupted()) {
      verdict = 'interrupted';
      error = 'interrupted (Ctrl-C)';
    } else {
      verdict = 'crashed';
      error = (err as Error).message;
      log(`CRASH: ${(err as Error).stack ?? String(err)}`);
    }
  } finally {
    // Teardown in an order that loses nothing: stop generating and wait for
    // ops in flight (they still get their completion lines), stop the nemesis,
    // close the clients, then the cluster, then the history.
    stopWorkload.abort();
    if (leaderPoll !== null) clearInterval(leaderPoll);
    pool?.close();
    await workload?.catch(() => undefined);
    await runner?.stop().catch(() => undefined);
    progress.stop();
    const keepUp = options.leaveRunning && (verdict === true || verdict === false || verdict === 'unknown');
    if (cluster !== null && !keepUp) await cluster.stop().catch((e: unknown) => log(`cluster stop failed: ${(e as Error).message}`));
    try {
      history?.close();
    } catch (e) {
      log(`closing the history failed: ${(e as Error).message}`);
    }
    io.signal.removeEventListener('abort', onInterrupt);
  }

  timings.totalMs = Math.round(performance.now() - wallStart);
  const snapshot = stats.snapshot();
  const exitCode = exitCodeFor(verdict);
  let results: ResultsJson | null = null;
  if (runDir !== null) {
    const firstFailure = checkResult?.failures[0];
    results = {
      valid: checkResult?.valid ?? null,
      verdict,
      exitCode,
      testName: options.testName,
      seed,
      runDir,
      error,
      checker: checkResult,
      monitor: monitorReport ?? cluster?.net.monitorReport?.() ?? null,
      counterexample: firstFailure !== undefined ? checkResult?.keys[firstFailure]?.counterexample ?? null : null,
      counts: { byType: snapshot.byType, byF: snapshot.byF },
      availability: { overall: snapshot.overall, ...snapshot.phases },
      finalReads,
      nemesis: { kinds: options.nemesis, scheduled: schedule.length, actions: nemesisActions },
      history: { lines: history?.count ?? 0, jsonl: join(runDir, 'history.jsonl'), txt: join(runDir, 'history.txt') },
      timings,
    };
    try {
      writeJsonAtomic(join(runDir, 'results.json'), results);
      updateLatest(options.store, runDir);
    } catch (e) {
      log(`writing results.json failed: ${(e as Error).message}`);
    }
    await writeHtmlReport(runDir, log);
    // history.edn (Jepsen's format) and certificate.json (checker/run-artifacts.ts) beside results.json.
    await writeCheckArtifacts(runDir, join(runDir, 'history.jsonl'), checkResult, 'cas-register', log);
  }
  const summary: SummaryInput = {
    verdict, seed, testName: options.testName, runDir: runDir ?? '(none)', historyPath: join(runDir ?? '.', 'history.jsonl'), stats: snapshot,
    checkMs: timings.checkMs, failures: checkResult?.failures ?? [], unknownKeys: checkResult?.unknownKeys ?? [], unknownReason: checkResult?.unknownReason,
    finalReadsMissing: finalReads?.missing ?? [], error: error ?? undefined, wallMs: timings.totalMs,
  };
  const monitorViolations = monitorReport?.violations ?? [];
  const summaryText = (colour: boolean): string => withMonitor(formatSummary(summary, colour), checkResult?.valid ?? null, monitorViolations);
  if (logFd !== null) {
    writeSync(logFd, summaryText(false) + '\n');
    closeSync(logFd);
    logFd = null;
  }
  if (options.json) {
    // One run: results.json as is. Several (--test-count): one compact line per run (JSON Lines).
    io.stdout.write((options.testCount > 1 ? JSON.stringify(results) : JSON.stringify(results, null, 2)) + '\n');
    io.stderr.write(summaryText(io.stderr.isTTY === true) + '\n');
  } else {
    io.stdout.write(summaryText(io.stdout.isTTY === true) + '\n');
  }

  if (options.leaveRunning && cluster !== null && (verdict === true || verdict === false || verdict === 'unknown')) {
    io.stderr.write(`cluster left running (config ${join(runDir ?? '.', 'cluster.json')}); press Ctrl-C to stop it\n`);
    await new Promise<void>((resolve) => {
      if (io.signal.aborted) resolve();
      else io.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    await cluster.stop();
    io.stderr.write('cluster stopped\n');
  }
  return { verdict, exitCode, runDir, results };
}

/** A violation as a history value (the `monitor` process's info op). */
function violationValue(v: MonitorViolation): Record<string, unknown> {
  return { ...v, atMs: Math.round(v.atMs) };
}

/**
 * The summary with the monitor's findings: one line per violation (at most
 * 10), and when the checker found the history linearizable the headline says
 * what made the run invalid instead.
 */
export function withMonitor(summary: string, checkerValid: CheckResult['valid'] | null, violations: readonly MonitorViolation[]): string {
  if (violations.length === 0) return summary;
  const lines = summary.split('\n');
  if (checkerValid !== false && lines[0] !== undefined) {
    lines[0] = lines[0].replace('INVALID: the history is not linearizable', `INVALID: Raft invariant violated on the wire (checker: ${checkerValid === true ? 'linearizable' : String(checkerValid)})`);
  }
  const extra = violations.slice(0, 10).map((v) => `  monitor: ${v.message}`);
  if (violations.length > 10) extra.push(`  monitor: ... ${violations.length - 10} more (results.json)`);
  lines.splice(1, 0, ...extra);
  return lines.join('\n');
}

class Interrupted extends Error {
  constructor() {
    super('interrupted');
  }
}

/**
 * report.html beside the history (report/, through harness/results/run-report.ts): best
 * effort, loaded lazily, never allowed to change the run's outcome.
 */
async function writeHtmlReport(runDir: string, log: (l: string) => void): Promise<void> {
  try {
    const mod = (await import('./results/run-report.js')) as { writeReport?: (dir: string) => Promise<unknown> };
    if (typeof mod.writeReport !== 'function') return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('timed out after 30 s')), 30_000);
    });
    try {
      await Promise.race([mod.writeReport(runDir), timeout]);
    } finally {
      clearTimeout(timer);
    }
  } catch (e) {
    log(`report.html not written: ${(e as Error).message}`);
  }
}
