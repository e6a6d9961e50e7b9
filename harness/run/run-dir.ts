/**
 * The run directory: <store>/<test>/<timestamp>/, pointed at by <store>/latest,
 * with harness.log (open until the summary, run-log.ts) and test.json: what
 * was run (options, seed, the nemesis schedule drawn from it, git commit)
 * and the command that reproduces it.
 */
import { join } from 'node:path';
import { nemesisCatalogue } from '../nemesis/registry.js';
import { drawNemesisSchedule, type NemesisEvent } from '../nemesis/schedule.js';
import type { JepsenOptions } from '../options.js';
import { createRunDir, gitCommit, gitDirty, updateLatest, writeJsonAtomic } from '../store.js';
import type { RunContext } from './context.js';

/** Creates the run directory, opens harness.log, writes test.json; returns the directory. */
export function openRunDir(run: RunContext): string {
  const { options, seed, io } = run;
  const runDir = createRunDir(options.store, options.testName, run.startedAt);
  run.facts.runDir = runDir;
  updateLatest(options.store, runDir);
  run.log.openFile(join(runDir, 'harness.log'));
  const schedule = nemesisSchedule(options, seed);
  run.facts.schedule = schedule;
  const reproduce = ['npm', 'run', 'jepsen', '--', ...reproduceArgs(io.argv, seed)].map(shellQuote).join(' ');
  writeJsonAtomic(join(runDir, 'test.json'), {
    name: options.testName,
    startTime: run.startedAt.toISOString(),
    seed,
    runIndex: io.runIndex,
    options: { ...options, seed },
    argv: io.argv,
    reproduce,
    git: { commit: gitCommit(io.repoRoot), dirty: gitDirty(io.repoRoot) },
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    nemesisSchedule: schedule,
    // What the nemesis ops' f names mean, for report.html (report/ cannot import the harness's table).
    nemesisCatalogue: nemesisCatalogue(),
  });
  const nemesis =
    options.nemesis.length === 0 ? 'none' : `${options.nemesis.join(',')} every ${options.nemesisIntervalS} s (${schedule.length} events)`;
  run.log.line(
    `test ${options.testName}, seed ${seed}: ${options.nodes} nodes (${options.net}, ${options.readMode}), ${options.timeLimitS} s, ` +
      `concurrency ${options.concurrency}, rate ${options.rate}/s, keys ${options.keys} x ${options.opsPerKey} ops, nemesis ${nemesis}` +
      `${options.nodeFlags.length > 0 ? `, node flags ${options.nodeFlags.join(' ')}` : ''}`,
  );
  run.log.line(`run directory ${runDir}`);
  return runDir;
}

/** The whole nemesis schedule of this seed, drawn up front (recorded in test.json, replayed by the workload). */
export function nemesisSchedule(options: JepsenOptions, seed: number): NemesisEvent[] {
  if (options.nemesis.length === 0) return [];
  return drawNemesisSchedule({
    kinds: options.nemesisOrder,
    timeLimitMs: Math.round(options.timeLimitS * 1000),
    intervalMs: Math.max(4, Math.round(options.nemesisIntervalS * 1000)),
    nodeCount: options.nodes,
    partitionShapes: options.partitionShapes,
    targets: options.targets,
    clockFaults: options.clockFaults,
    lossPct: options.lossPct,
    clientLossPct: options.clientLossPct,
    clientLossDirections: options.clientLossDirections,
    replayModes: options.replayModes,
    ...(options.pauseWakeAloneMs !== null ? { pauseWakeAloneMs: options.pauseWakeAloneMs } : {}),
    diskFaults: options.diskFaults,
    seed,
  });
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
