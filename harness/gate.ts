/**
 * `npm run gate`: the consistency gate. A verification tool that says "valid"
 * to everything is worthless, and so is one whose "invalid" is noise, so the
 * gate proves both ways on real processes:
 *
 * - the correct node under every nemesis must be judged valid;
 * - each deliberately unsafe node flag, under the fault that exposes it, must
 *   be judged invalid.
 *
 * Detection claims must hold on seeds nobody chose (issue 20): every gate
 * invocation draws a fresh base seed (printed; `--seed` repeats one), every
 * run of every cell gets its own seed from it, and a bug cell passes when at
 * least k of n runs catch it (stopping once that is decided), never by a
 * second try of the same seed. Each bug cell's k-of-n is judged against the
 * detection rate the study measured: the table prints the chance of a false
 * red and of a missed regression (gate/odds.ts). A correct cell is one run;
 * a run whose progress analysis was unknown because the machine starved it
 * (not a verdict on the node) gets one more fresh seed.
 *
 * Every cell is one `npm run jepsen` run (a child process), writing its run
 * directory under histories/gate/ (or --store). Cells run two at a time
 * (`--lanes`): each is about one core's worth of processes, and each has its
 * own ports and namespaces. Measured on this 2-core machine (2026-12-06,
 * load ~1 before): the whole gate in 8 min 44 s, against 16 min 37 s one at
 * a time (the last CI run's cells summed), 42 of 42 as expected.
 *
 * `npm run gate -- --study` measures instead of gating: per bug cell the
 * detection rate over N fresh seeds and the time into each run at which it
 * was first caught; per correct cell M runs (false positives).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { randomInt } from 'node:crypto';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { EXIT } from '../checker/exit-codes.js';
import { bugCells, correctCells, etcdCells, inGate, runnable, type GateCell } from './gate/cells.js';
import { cellOdds, needsAnotherRun } from './gate/odds.js';
import { inLanes } from './gate/lanes.js';
import { diagnosis } from './gate/diagnosis.js';
import { cellSeed, repoRoot, reproduceCommand, runCell, type CellRun } from './gate/run-cell.js';
import { keepRunningWhenReaderCloses } from '../node/util/closed-pipe.js';

interface CellOutcome {
  readonly cell: string;
  readonly expect: GateCell['expect'];
  readonly passed: boolean;
  /** 'not run' when the harness lacks what the cell needs. */
  readonly status: string;
  readonly runs: readonly CellRun[];
}

/** --only: cells whose name contains TEXT, or exactly NAME when given as NAME$. */
function matches(cell: GateCell, only: string | undefined): boolean {
  if (only === undefined) return true;
  return only.endsWith('$') ? cell.name === only.slice(0, -1) : cell.name.includes(only);
}

function pad(text: string, width: number): string {
  return text.length >= width ? text : text + ' '.repeat(width - text.length);
}

function pct(x: number): string {
  return `${(x * 100).toFixed(x < 0.01 ? 2 : 1)}%`;
}

function testName(cell: GateCell): string {
  return cell.name.replace('/', '-');
}

async function gateCorrect(cell: GateCell, index: number, base: number, store: string): Promise<CellOutcome> {
  const runs: CellRun[] = [await runCell(cell.args, cellSeed(base, index, 0), store, testName(cell))];
  // Unknown because the machine starved the run says nothing about the node: one more fresh seed.
  if (runs[0]!.verdict === 'unknown' && runs[0]!.starved)
    runs.push(await runCell(cell.args, cellSeed(base, index, 1), store, testName(cell)));
  const last = runs[runs.length - 1]!;
  return { cell: cell.name, expect: 'valid', passed: last.verdict === 'valid', status: last.verdict, runs };
}

async function gateBug(cell: GateCell, index: number, base: number, store: string): Promise<CellOutcome> {
  const { n, k } = cell.plan ?? { n: 1, k: 1 };
  const runs: CellRun[] = [];
  let found = 0;
  while (needsAnotherRun(found, runs.length, n, k)) {
    const run = await runCell(cell.args, cellSeed(base, index, runs.length), store, testName(cell));
    runs.push(run);
    if (run.verdict === 'invalid') found++;
  }
  return { cell: cell.name, expect: 'invalid', passed: found >= k, status: `${found}/${runs.length} caught (need ${k} of ${n})`, runs };
}

/** One cell: skipped when it cannot run here, else gated; its line printed when it ends. Seeds follow the cell's place in the whole table (--only does not change them). */
async function gateCell(cell: GateCell, index: number, base: number, store: string): Promise<CellOutcome> {
  const unavailable = cell.unavailable?.() ?? null;
  if (unavailable !== null) {
    process.stdout.write(`  ----  ${pad(cell.name, 32)} not run (${unavailable})\n`);
    return { cell: cell.name, expect: cell.expect, passed: true, status: `not run: ${unavailable}`, runs: [] };
  }
  if (!runnable(cell)) {
    process.stdout.write(`  ----  ${pad(cell.name, 32)} not run (needs the ${cell.needsKind} nemesis)\n`);
    return {
      cell: cell.name,
      expect: cell.expect,
      passed: true,
      status: `not run: needs the ${cell.needsKind} nemesis, which this harness does not have yet`,
      runs: [],
    };
  }
  if (!inGate(cell)) {
    process.stdout.write(`  ----  ${pad(cell.name, 32)} study only (${cell.studyOnly ?? ''})\n`);
    return { cell: cell.name, expect: cell.expect, passed: true, status: `study only: ${cell.studyOnly ?? ''}`, runs: [] };
  }
  const outcome = cell.expect === 'valid' ? await gateCorrect(cell, index, base, store) : await gateBug(cell, index, base, store);
  const seconds = outcome.runs.reduce((s, r) => s + r.seconds, 0);
  process.stdout.write(
    `  ${outcome.passed ? 'PASS' : 'FAIL'}  ${pad(cell.name, 32)} expect ${pad(cell.expect, 8)} ${pad(outcome.status, 30)} ` +
      `${seconds.toFixed(1).padStart(6)} s  seeds ${outcome.runs.map((r) => `${r.seed}:${r.verdict}`).join(' ')}\n`,
  );
  if (!outcome.passed) {
    let text = '';
    for (const r of outcome.runs) {
      text += `        reproduce: ${reproduceCommand(cell.args, r.seed)}\n`;
      // A correct cell that failed: what the run and the checker said, since CI keeps no store.
      if (cell.expect === 'valid') text += await diagnosis(r);
    }
    process.stdout.write(text); // one write: a cell in the other lane cannot cut into it
  }
  return outcome;
}

async function runGate(store: string, base: number, only: string | undefined, jsonOut: string | undefined, lanes: number): Promise<number> {
  const table = [...correctCells, ...bugCells, ...etcdCells];
  const cells = table.filter((c) => matches(c, only));
  process.stdout.write(
    `rift consistency gate: ${cells.length} cells, base seed ${base} (repeat: npm run gate -- --seed ${base}); runs under ${store}/\n`,
  );
  // Cells run `lanes` at a time (each its own child process); the table below keeps the table's order.
  const outcomes = await inLanes(
    cells.map((cell) => () => gateCell(cell, table.indexOf(cell), base, store)),
    lanes,
  );
  const failed = outcomes.filter((o) => !o.passed);
  process.stdout.write('\n| cell | expected | outcome | runs (seed: verdict) | seconds |\n|---|---|---|---|---:|\n');
  for (const o of outcomes) {
    process.stdout.write(
      `| ${o.cell} | ${o.expect} | ${o.passed ? '' : '**'}${o.status}${o.passed ? '' : '**'} | ` +
        `${o.runs.map((r) => `${r.seed}: ${r.verdict}`).join(', ') || '-'} | ${o.runs.reduce((s, r) => s + r.seconds, 0).toFixed(1)} |\n`,
    );
  }
  // What the bug cells' plans are worth, at the rates the study measured.
  const planned = cells.filter(
    (c) => c.expect === 'invalid' && c.plan !== undefined && c.measured !== undefined && inGate(c) && runnable(c),
  );
  if (planned.length > 0) {
    process.stdout.write('\n| bug cell | measured | plan | P(false red) | P(pass after detection halves) |\n|---|---:|---|---:|---:|\n');
    let allGreen = 1;
    for (const c of planned) {
      const odds = cellOdds(c.plan!.n, c.plan!.k, c.measured!.detected, c.measured!.runs);
      allGreen *= 1 - odds.falseRed;
      process.stdout.write(
        `| ${c.name} | ${c.measured!.detected}/${c.measured!.runs} | ${c.plan!.k} of ${c.plan!.n} | ${pct(odds.falseRed)} | ${pct(odds.missedRegression)} |\n`,
      );
    }
    process.stdout.write(
      `\nchance that a correct build fails some bug cell by bad luck: ${pct(1 - allGreen)} (Laplace-estimated rates; a regression is a rate halved)\n`,
    );
  }
  process.stdout.write(
    `\ngate: ${outcomes.length - failed.length} of ${outcomes.length} cells as expected${failed.length > 0 ? `; FAILED: ${failed.map((f) => f.cell).join(', ')}` : ''}\n`,
  );
  if (jsonOut !== undefined) {
    writeFileSync(
      jsonOut,
      `${JSON.stringify({ base, passed: outcomes.length - failed.length, failed: failed.length, outcomes }, null, 2)}\n`,
    );
  }
  return failed.length === 0 ? EXIT.valid : EXIT.invalid;
}

function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function runStudy(
  store: string,
  base: number,
  bugRuns: number,
  correctRuns: number,
  only: string | undefined,
  timeLimit: string | undefined,
  jsonOut: string | undefined,
  lanes: number,
): Promise<number> {
  const extra = timeLimit !== undefined ? ['--time-limit', timeLimit] : [];
  const selected = (c: GateCell): boolean => runnable(c) && matches(c, only);
  process.stdout.write(`rift gate study: base seed ${base} (fresh: npm run gate -- --study --seed ${base} repeats it)\n`);
  // The etcd cells last, so that every rift cell keeps the seeds it had before they were studied too.
  const all = [...correctCells, ...bugCells, ...etcdCells];
  const studiedBugs = [...bugCells, ...etcdCells.filter((c) => c.expect === 'invalid')];
  const studiedControls = [...correctCells, ...etcdCells.filter((c) => c.expect === 'valid')];
  // Every run is a job; `lanes` of them at a time, each line printed as its run ends.
  const study = async (cell: GateCell, count: number, line: (run: CellRun) => string): Promise<{ cell: GateCell; runs: CellRun[] }> => ({
    cell,
    runs: await inLanes(
      Array.from({ length: count }, (_, i) => async () => {
        const run = await runCell([...cell.args, ...extra], cellSeed(base, all.indexOf(cell), i), store, testName(cell));
        process.stdout.write(`  ${pad(cell.name, 32)} seed ${run.seed}: ${line(run)} (${run.seconds.toFixed(1)} s)\n`);
        return run;
      }),
      lanes,
    ),
  });
  const bugs: { cell: GateCell; runs: CellRun[] }[] = [];
  for (const cell of studiedBugs.filter(selected))
    bugs.push(
      await study(
        cell,
        bugRuns,
        (run) =>
          `${run.verdict}${run.caughtBy.length > 0 ? ` by ${run.caughtBy.join('+')}` : ''}` +
          `${run.detectedAtS !== null ? ` at ${run.detectedAtS.toFixed(1)} s` : ''}`,
      ),
    );
  const controls: { cell: GateCell; runs: CellRun[] }[] = [];
  for (const cell of studiedControls.filter(selected))
    controls.push(await study(cell, correctRuns, (run) => `${run.verdict}${run.starved ? ' (machine starved)' : ''}`));
  const falsePositives = (name: string | undefined): string => {
    const c = controls.find((x) => x.cell.name === name);
    if (c === undefined) return '-';
    return `${c.runs.filter((r) => r.verdict === 'invalid').length}/${c.runs.length} (${name})`;
  };
  process.stdout.write(
    '\n| flag | nemesis | detected | median s to first detection | median run s | caught by | false positives (control) |\n|---|---|---:|---:|---:|---|---|\n',
  );
  for (const { cell, runs } of bugs) {
    const [flag, nemesis] = cell.name.split('/') as [string, string];
    const caught = runs.filter((r) => r.verdict === 'invalid');
    const at = median(caught.map((r) => r.detectedAtS).filter((x): x is number => x !== null));
    const by = [...new Set(caught.flatMap((r) => r.caughtBy))].join(', ');
    process.stdout.write(
      `| ${flag.startsWith('etcd-') ? `--db etcd --${flag.slice('etcd-'.length)}` : `--unsafe-${flag}`} | ${nemesis} | ${caught.length}/${runs.length} | ${at === null ? '-' : at.toFixed(1)} | ` +
        `${median(runs.map((r) => r.seconds))?.toFixed(1) ?? '-'} | ${by || '-'} | ${falsePositives(cell.control)} |\n`,
    );
  }
  process.stdout.write(
    '\n| correct cell | valid | invalid | unknown (machine starved) | crashed | median run s |\n|---|---:|---:|---:|---:|---:|\n',
  );
  let invalid = 0;
  for (const { cell, runs } of controls) {
    const count = (v: string): number => runs.filter((r) => r.verdict === v).length;
    invalid += count('invalid') + count('crashed') + count('bad-arguments');
    process.stdout.write(
      `| ${cell.name} | ${count('valid')}/${runs.length} | ${count('invalid')} | ${count('unknown')} (${runs.filter((r) => r.starved).length}) | ` +
        `${count('crashed') + count('bad-arguments')} | ${median(runs.map((r) => r.seconds))?.toFixed(1) ?? '-'} |\n`,
    );
  }
  if (jsonOut !== undefined) {
    writeFileSync(
      jsonOut,
      `${JSON.stringify({ base, bugs: bugs.map((b) => ({ cell: b.cell.name, runs: b.runs })), correct: controls.map((c) => ({ cell: c.cell.name, runs: c.runs })) }, null, 2)}\n`,
    );
  }
  return invalid > 0 ? EXIT.invalid : EXIT.valid;
}

/** Cells at once: each run is about one core's worth of processes (5 nodes, the clients, the checker). */
const DEFAULT_LANES = 2;
const MAX_LANES = 8;

const HELP = `usage: npm run gate [-- options]

Runs the consistency gate on fresh seeds: the correct node under every nemesis
must be valid, each --unsafe-... flag under its nemesis must be caught in k of
n runs. Exit 0 if every cell is as expected, 1 otherwise.

  --seed N           base seed of the invocation (default: random, printed)
  --only TEXT        run only cells whose name contains TEXT (NAME$: exactly NAME)
  --store DIR        where run directories go (default histories/gate)
  --json-out FILE    also write the outcomes as JSON
  --lanes N          cells run N at a time (default ${DEFAULT_LANES}; 1 for one at a time)
  --study            measure detection and false-positive rates instead
  --runs N           study: runs per bug cell (default 10)
  --correct-runs N   study: runs per correct cell (default 30)
  --time-limit S     study: override the per-run workload seconds
`;

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
        seed: { type: 'string' },
        'time-limit': { type: 'string' },
        only: { type: 'string' },
        store: { type: 'string', default: join(repoRoot, 'histories', 'gate') },
        'json-out': { type: 'string' },
        lanes: { type: 'string', default: String(DEFAULT_LANES) },
        help: { type: 'boolean', default: false },
      },
    }));
  } catch (error) {
    process.stderr.write(`gate: ${(error as Error).message}\nsee npm run gate -- --help\n`);
    return EXIT.usage;
  }
  if (values.help) {
    process.stdout.write(HELP);
    return EXIT.valid;
  }
  const base = values.seed === undefined ? randomInt(0, 2 ** 31) : Number(values.seed);
  const runs = Number(values.runs);
  const correctRuns = Number(values['correct-runs']);
  const lanes = Number(values.lanes);
  if (!Number.isInteger(lanes) || lanes < 1 || lanes > MAX_LANES) {
    process.stderr.write(`gate: --lanes must be an integer from 1 to ${MAX_LANES}\n`);
    return EXIT.usage;
  }
  if (![base, runs, correctRuns].every((n) => Number.isInteger(n) && n >= 0) || base > 0xffff_ffff) {
    process.stderr.write('gate: --seed, --runs and --correct-runs must be non-negative integers (the seed at most 4294967295)\n');
    return EXIT.usage;
  }
  const store = values.store;
  mkdirSync(store, { recursive: true });
  if (values.study) return runStudy(store, base, runs, correctRuns, values.only, values['time-limit'], values['json-out'], lanes);
  return runGate(store, base, values.only, values['json-out'], lanes);
}

keepRunningWhenReaderCloses();
main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`gate: internal error: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(EXIT.crash);
  },
);
