/**
 * `npm run gate`: the consistency gate. A verification tool that says "valid"
 * to everything is worthless, and so is one whose "invalid" is noise, so the
 * gate proves both ways on real processes:
 *
 * - the correct node under every nemesis must be judged valid;
 * - each deliberately unsafe node flag, under the fault that exposes it, must
 *   be judged invalid.
 *
 * Every cell is one `npm run jepsen` run (a child process, so a crashing run
 * cannot take the gate down) with a fixed seed, writing its run directory
 * under histories/gate/. A cell whose verdict differs from its expectation
 * fails the gate (exit 1).
 *
 * `npm run gate -- --study` measures instead of gating: per bug cell the
 * detection rate over N seeds and the time to the first invalid run; and the
 * false-positive rate over M runs of the correct node across all nemeses.
 */
import { execa } from 'execa';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { EXIT, verdictOfExitCode } from '../checker/exit-codes.js';
import { nemesisKinds } from './nemesis/registry.js';

const repoRoot = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
const cliPath = join(repoRoot, 'dist', 'harness', 'cli.js');

export type Expectation = 'valid' | 'invalid';

export interface GateCell {
  readonly name: string;
  readonly expect: Expectation;
  /** Why this fault exposes this bug (printed in the table). */
  readonly why: string;
  readonly args: readonly string[];
  /** Fixed seed for the CI gate, chosen from the study. */
  readonly seed: number;
}

/** Options shared by every cell: short runs, enough load to see anomalies. */
const common = ['--time-limit', '10', '--nemesis-interval', '2', '--rate', '150', '--concurrency', '10', '--keys', '3', '--ops-per-key', '150'];

export const correctCells: readonly GateCell[] = [
  ...['none', ...nemesisKinds].map((nemesis, i) => ({
    name: `correct/${nemesis}`,
    expect: 'valid' as const,
    why: 'the correct node stays linearizable under every fault',
    args: [...common, '--nemesis', nemesis],
    seed: 1000 + i,
  })),
  {
    name: 'correct/lease-drift',
    expect: 'valid',
    why: 'lease reads stay linearizable while the leader\'s clock drifts within the bound the lease assumes (0.85-1.15x against clockDriftBound 1.2)',
    args: [...common, '--time-limit', '20', '--nemesis', 'clock,partition', '--targets', 'leader', '--clock-faults', 'drift', '--partition', 'leader', '--read-mode', 'lease'],
    seed: 1009,
  },
  {
    name: 'correct/kill-voter',
    expect: 'valid',
    why: 'the fault that exposes a forgotten vote (voters crashed as they vote, under heavy loss) finds nothing wrong with the correct node',
    args: [...common, '--nemesis', 'loss,kill', '--targets', 'voter', '--loss-rates', '0.5-0.7'],
    seed: 1008,
  },
];

export const bugCells: readonly GateCell[] = [
  {
    name: 'local-reads/partition',
    expect: 'invalid',
    why: 'reads served from local state: a node cut off from the leader serves stale values',
    args: [...common, '--nemesis', 'partition', '--partition', 'one,leader,halves', '--node-flag=--unsafe-local-reads'],
    seed: 2001,
  },
  {
    name: 'local-reads/pause',
    expect: 'invalid',
    why: 'reads served from local state: a paused node wakes up and answers from its stale state',
    args: [...common, '--nemesis', 'pause', '--node-flag=--unsafe-local-reads'],
    seed: 2002,
  },
  {
    name: 'memory-log/kill',
    expect: 'invalid',
    why: 'log kept in memory only: killed nodes restart empty and a majority of them forgets acknowledged writes',
    args: [...common, '--nemesis', 'kill', '--targets', 'all', '--node-flag=--unsafe-memory-log'],
    seed: 2003,
  },
  {
    name: 'ack-before-fsync/kill',
    expect: 'invalid',
    why: 'writes acknowledged before fsync: a killed majority loses its unsynced tail and elects a leader without it',
    args: [...common, '--nemesis', 'kill', '--targets', 'all', '--node-flag=--unsafe-ack-before-fsync'],
    seed: 2004,
  },
  {
    name: 'no-persist-vote/kill',
    expect: 'invalid',
    why: 'votedFor not persisted: each node is crashed and restarted the moment it grants a vote (kill, target voter; the leader ' +
      'is killed to force elections); back in the same term it has forgotten the vote (the monitor\'s lost vote, Figure 2) and, ' +
      'when an election splits under the packet loss, grants it again to the other candidate (double vote, §5.2)',
    // 7 nodes: more voters per election. Loss starts first (kinds start in the order listed), so
    // the elections the voter fault forces run under 50-70% loss and sometimes split.
    args: ['--time-limit', '10', '--nodes', '7', '--nemesis-interval', '0.5', '--rate', '50', '--concurrency', '5', '--keys', '3', '--ops-per-key', '150',
      '--nemesis', 'loss,kill', '--targets', 'voter', '--loss-rates', '0.5-0.7', '--node-flag=--unsafe-no-persist-vote'],
    seed: 1, // study (10 runs, seeds 1-10): detected in 10 (lost vote in all; a double vote too in 2)
  },
  {
    name: 'long-lease/clock',
    expect: 'invalid',
    why: 'lease reads with a lease longer than safe: the leader\'s clock is slowed (0.1-0.5x) and then the leader is cut off; ' +
      'its lease and check-quorum run on its slow ticks, so it serves reads while the majority elects a new leader and takes writes',
    // Kinds start in the order listed: clock first (on the leader), then the partition isolates that same leader.
    // 20 s instead of 10: twice the slow-clock + isolation cycles (study: 8-9 of 10 at 10 s).
    args: [...common, '--time-limit', '20', '--nemesis', 'clock,partition', '--targets', 'leader', '--clock-faults', 'slow', '--partition', 'leader',
      '--read-mode', 'lease', '--node-flag=--unsafe-lease-ms=3000'],
    seed: 1, // studies (10 runs, seeds 1-10): detected in 9 at 10 s; in 10 at 20 s (twice)
  },
  {
    name: 'lease-drift/clock',
    expect: 'invalid',
    why: 'the safe lease (electionTimeoutMin / clockDriftBound) when the drift bound does not hold: the leader\'s clock runs at ' +
      '0.1-0.5x, so its lease outlasts the followers\' election timeout and a cut-off leader serves stale reads (§6.4.1 assumes bounded drift)',
    // Studies (10 runs, seeds 1-10): detected in 8 at 20 s, in 10 at 30 s.
    args: [...common, '--time-limit', '30', '--nemesis', 'clock,partition', '--targets', 'leader', '--clock-faults', 'slow', '--partition', 'leader',
      '--read-mode', 'lease'],
    seed: 1,
  },
];

export interface CellOutcome {
  readonly cell: string;
  readonly expect: Expectation;
  readonly seed: number;
  readonly verdict: 'valid' | 'invalid' | 'unknown' | 'crashed' | 'bad-arguments';
  readonly exitCode: number;
  readonly seconds: number;
  readonly runDir: string | null;
  /** 1 unless a bug cell needed its second attempt. */
  readonly attempt: number;
}

/** Attempts a bug cell gets on its fixed seed (see runGate). */
const bugCellAttempts = 2;


export async function runCell(cell: GateCell, seed: number, store: string, extraArgs: readonly string[] = []): Promise<CellOutcome> {
  const started = performance.now();
  const args = [cliPath, ...cell.args, ...extraArgs, '--seed', String(seed), '--store', store, '--test-name', cell.name.replace('/', '-'), '--json', '--quiet'];
  const child = await execa(process.execPath, args, { cwd: repoRoot, reject: false, all: false, timeout: 10 * 60_000 });
  const exitCode = typeof child.exitCode === 'number' ? child.exitCode : EXIT.crash;
  let runDir: string | null = null;
  try {
    const parsed = JSON.parse(String(child.stdout)) as { runDir?: string };
    runDir = parsed.runDir ?? null;
  } catch {
    runDir = null;
  }
  if (exitCode === EXIT.crash || exitCode === EXIT.usage) {
    process.stderr.write(`gate: ${cell.name} seed ${seed} exited ${exitCode}:\n${String(child.stderr).split('\n').slice(-15).join('\n')}\n`);
  }
  return { cell: cell.name, expect: cell.expect, seed, verdict: verdictOfExitCode(exitCode), exitCode, seconds: (performance.now() - started) / 1000, runDir, attempt: 1 };
}

function pad(text: string, width: number): string {
  return text.length >= width ? text : text + ' '.repeat(width - text.length);
}

function passed(outcome: CellOutcome): boolean {
  return outcome.verdict === outcome.expect;
}

async function runGate(store: string, only: string | undefined, jsonOut: string | undefined): Promise<number> {
  const cells = [...correctCells, ...bugCells].filter((c) => only === undefined || c.name.includes(only));
  const outcomes: CellOutcome[] = [];
  process.stdout.write(`rift consistency gate: ${cells.length} cells (runs under ${store}/)\n`);
  for (const cell of cells) {
    // Real processes on a shared machine: the same seed gives the same ops and
    // fault schedule but not the same timing. A bug cell whose fault needs a
    // race (the double vote) gets one more attempt with the same seed; a
    // correct cell never does (one invalid verdict on the correct node is a bug).
    const attempts = cell.expect === 'invalid' ? bugCellAttempts : 1;
    let outcome = await runCell(cell, cell.seed, store);
    for (let attempt = 2; attempt <= attempts && !passed(outcome); attempt++) {
      process.stdout.write(`  ....  ${pad(cell.name, 26)} not caught on attempt ${attempt - 1} (${outcome.verdict}); attempt ${attempt} with the same seed\n`);
      outcome = { ...(await runCell(cell, cell.seed, store)), attempt };
    }
    outcomes.push(outcome);
    process.stdout.write(`  ${passed(outcome) ? 'PASS' : 'FAIL'}  ${pad(cell.name, 26)} expect ${pad(cell.expect, 8)} got ${pad(outcome.verdict, 8)} ${outcome.seconds.toFixed(1).padStart(6)} s${outcome.attempt > 1 ? ` (attempt ${outcome.attempt})` : ''}\n`);
  }
  const failed = outcomes.filter((o) => !passed(o));
  process.stdout.write('\n| cell | expected | verdict | seed | attempt | seconds | run |\n|---|---|---|---:|---:|---:|---|\n');
  for (const o of outcomes) {
    process.stdout.write(`| ${o.cell} | ${o.expect} | ${passed(o) ? '' : '**'}${o.verdict}${passed(o) ? '' : '**'} | ${o.seed} | ${o.attempt} | ${o.seconds.toFixed(1)} | ${o.runDir ?? '-'} |\n`);
  }
  process.stdout.write(`\ngate: ${outcomes.length - failed.length} of ${outcomes.length} cells as expected${failed.length > 0 ? `; FAILED: ${failed.map((f) => f.cell).join(', ')}` : ''}\n`);
  if (jsonOut !== undefined) {
    writeFileSync(jsonOut, `${JSON.stringify({ passed: outcomes.length - failed.length, failed: failed.length, outcomes }, null, 2)}\n`);
  }
  return failed.length === 0 ? EXIT.valid : EXIT.invalid;
}

function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function runStudy(store: string, runsPerBug: number, correctRuns: number, firstSeed: number, only: string | undefined, timeLimit: string | undefined, jsonOut: string | undefined): Promise<number> {
  const extra = timeLimit !== undefined ? ['--time-limit', timeLimit] : [];
  const rows: { cell: string; detected: number; runs: number; medianSecondsToFirst: number; firstInvalidSeeds: number[]; seconds: number[] }[] = [];
  for (const cell of bugCells.filter((c) => only === undefined || c.name.includes(only))) {
    const seconds: number[] = [];
    const invalidSeeds: number[] = [];
    let elapsedUntilFirst: number | null = null;
    let elapsed = 0;
    for (let i = 0; i < runsPerBug; i++) {
      const outcome = await runCell(cell, firstSeed + i, store, extra);
      seconds.push(outcome.seconds);
      elapsed += outcome.seconds;
      if (outcome.verdict === 'invalid') {
        invalidSeeds.push(outcome.seed);
        elapsedUntilFirst ??= elapsed;
      }
      process.stdout.write(`  ${pad(cell.name, 26)} seed ${outcome.seed}: ${outcome.verdict} (${outcome.seconds.toFixed(1)} s)\n`);
    }
    rows.push({ cell: cell.name, detected: invalidSeeds.length, runs: runsPerBug, medianSecondsToFirst: elapsedUntilFirst ?? Number.NaN, firstInvalidSeeds: invalidSeeds, seconds });
  }
  const falsePositives: CellOutcome[] = [];
  const correctOutcomes: CellOutcome[] = [];
  const cells = correctCells.filter((c) => only === undefined || c.name.includes(only));
  for (let i = 0; i < correctRuns && cells.length > 0; i++) {
    const cell = cells[i % cells.length]!;
    const outcome = await runCell(cell, firstSeed + 500 + i, store, extra);
    correctOutcomes.push(outcome);
    if (outcome.verdict !== 'valid') falsePositives.push(outcome);
    process.stdout.write(`  ${pad(cell.name, 26)} seed ${outcome.seed}: ${outcome.verdict} (${outcome.seconds.toFixed(1)} s)\n`);
  }
  process.stdout.write('\n| bug cell | detected | runs | time to first invalid (s) | median run (s) | invalid seeds |\n|---|---:|---:|---:|---:|---|\n');
  for (const r of rows) {
    process.stdout.write(`| ${r.cell} | ${r.detected} | ${r.runs} | ${Number.isNaN(r.medianSecondsToFirst) ? '-' : r.medianSecondsToFirst.toFixed(1)} | ${median(r.seconds).toFixed(1)} | ${r.firstInvalidSeeds.join(' ')} |\n`);
  }
  const unknown = correctOutcomes.filter((o) => o.verdict === 'unknown').length;
  const invalid = correctOutcomes.filter((o) => o.verdict === 'invalid').length;
  const crashed = correctOutcomes.filter((o) => o.verdict === 'crashed' || o.verdict === 'bad-arguments').length;
  process.stdout.write(`\ncorrect node: ${correctOutcomes.length} runs across ${cells.length} nemeses: ${correctOutcomes.length - falsePositives.length} valid, ${invalid} invalid (false positives), ${unknown} unknown, ${crashed} crashed\n`);
  if (jsonOut !== undefined) writeFileSync(jsonOut, `${JSON.stringify({ bugs: rows, correct: correctOutcomes }, null, 2)}\n`);
  return invalid > 0 || crashed > 0 ? EXIT.invalid : EXIT.valid;
}

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: process.argv.slice(2),
      strict: true,
      options: {
        study: { type: 'boolean', default: false },
        runs: { type: 'string', default: '10' },
        'correct-runs': { type: 'string', default: '30' },
        'first-seed': { type: 'string', default: '1' },
        'time-limit': { type: 'string' },
        only: { type: 'string' },
        store: { type: 'string', default: join(repoRoot, 'histories', 'gate') },
        'json-out': { type: 'string' },
        help: { type: 'boolean', default: false },
      },
    }));
  } catch (error) {
    process.stderr.write(`gate: ${(error as Error).message}\nsee npm run gate -- --help\n`);
    return EXIT.usage;
  }
  if (values.help) {
    process.stdout.write(`usage: npm run gate [-- options]

Runs the consistency gate: the correct node under every nemesis must be valid,
each --unsafe-... flag under its nemesis must be invalid. Exit 0 if every cell
is as expected, 1 otherwise.

  --only TEXT        run only cells whose name contains TEXT
  --store DIR        where run directories go (default histories/gate)
  --json-out FILE    also write the outcomes as JSON
  --study            measure detection and false-positive rates instead
  --runs N           study: seeds per bug cell (default 10)
  --correct-runs N   study: runs of the correct node (default 30)
  --first-seed N     study: first seed (default 1)
  --time-limit S     study: override the per-run workload seconds
`);
    return EXIT.valid;
  }
  const store = values.store;
  mkdirSync(store, { recursive: true });
  if (values.study) {
    const runs = Number(values.runs);
    const correctRuns = Number(values['correct-runs']);
    const firstSeed = Number(values['first-seed']);
    if (![runs, correctRuns, firstSeed].every((n) => Number.isInteger(n) && n >= 0)) {
      process.stderr.write('gate: --runs, --correct-runs and --first-seed must be non-negative integers\n');
      return EXIT.usage;
    }
    return runStudy(store, runs, correctRuns, firstSeed, values.only, values['time-limit'], values['json-out']);
  }
  return runGate(store, values.only, values['json-out']);
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`gate: internal error: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(EXIT.crash);
  },
);
