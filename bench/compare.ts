/**
 * `npm run bench -- compare --before DIR --after DIR`: two builds of rift
 * measured side by side in one sitting (issue 15: "before and after in one
 * sitting ... give the ratio"). Each DIR is a checkout with its own `dist/`
 * built; each runs its own `dist/bench/main.js cluster`, so an old build
 * measures itself with its own code. Rounds alternate before, after, before,
 * after..., so the shared machine's drift hits both alike; the medians and
 * their ratio (after / before) are printed per load.
 *
 * Measuring two builds from one harness would not work across versions (the
 * config format and the client changed); comparing their own reports does.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { median } from './stats.js';

/** One load line of a build's cluster report. */
export interface LoadFigure {
  readonly workload: string;
  readonly clients: number;
  readonly opsPerSecond: number;
  readonly p50Ms: number;
  /** The total CPU per op, where the build reports it (newer builds); null otherwise. */
  readonly cpuUsPerOp: number | null;
}

/**
 * The load lines of `cluster`'s output, of any build since the bench existed:
 * `[rift] write  clients= 64   9976 ops/s  p50 5.55 ms ... [cpu µs/op: ..., total T]`.
 */
export function parseClusterReport(text: string): LoadFigure[] {
  const figures: LoadFigure[] = [];
  for (const line of text.split('\n')) {
    const m = /^(?:\[\d+\/\d+\] )?(?:rift\s+)?(write|mixed)\s+clients=\s*(\d+)\s+(\d+) ops\/s\s+p50 ([\d.]+) ms/.exec(line);
    if (m === null) continue;
    const total = /total (\d+)\s*$/.exec(line);
    figures.push({
      workload: m[1]!,
      clients: Number(m[2]),
      opsPerSecond: Number(m[3]),
      p50Ms: Number(m[4]),
      cpuUsPerOp: total === null ? null : Number(total[1]),
    });
  }
  return figures;
}

/** The table: per load, the median ops/s and p50 of each build and after / before. */
export function comparisonTable(before: readonly LoadFigure[], after: readonly LoadFigure[]): string {
  const keys: string[] = [];
  for (const f of [...before, ...after]) {
    const key = `${f.workload} ${f.clients}`;
    if (!keys.includes(key)) keys.push(key);
  }
  const rows = [
    '| load | before ops/s | after ops/s | after / before | before p50 ms | after p50 ms | runs |',
    '|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const key of keys) {
    const of = (figures: readonly LoadFigure[]): LoadFigure[] => figures.filter((f) => `${f.workload} ${f.clients}` === key);
    const [b, a] = [of(before), of(after)];
    if (b.length === 0 || a.length === 0) continue;
    const [bOps, aOps] = [median(b.map((f) => f.opsPerSecond)), median(a.map((f) => f.opsPerSecond))];
    const [bP50, aP50] = [median(b.map((f) => f.p50Ms)), median(a.map((f) => f.p50Ms))];
    rows.push(
      `| ${key.replace(' ', ', clients=')} | ${bOps.toFixed(0)} | ${aOps.toFixed(0)} | ${(aOps / bOps).toFixed(2)} | ${bP50.toFixed(2)} | ${aP50.toFixed(2)} | ${b.length} + ${a.length} |`,
    );
  }
  return rows.join('\n');
}

export async function runCompareBench(argv: readonly string[]): Promise<void> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      before: { type: 'string' },
      after: { type: 'string', default: '.' },
      rounds: { type: 'string', default: '3' },
      seconds: { type: 'string', default: '5' },
      clients: { type: 'string', default: '1,64' },
    },
    strict: true,
  });
  const rounds = Number(values.rounds);
  const usage = 'usage: npm run bench -- compare --before DIR [--after DIR] [--rounds N] [--seconds S] [--clients 1,64]\n';
  if (values.before === undefined || !(Number.isInteger(rounds) && rounds >= 1)) {
    process.stderr.write(usage);
    process.exitCode = 254;
    return;
  }
  const builds = { before: resolve(values.before), after: resolve(values.after) };
  for (const dir of Object.values(builds)) {
    if (!existsSync(join(dir, 'dist', 'bench', 'main.js'))) {
      process.stderr.write(`bench compare: ${dir} has no dist/bench/main.js (run npm run build there first)\n`);
      process.exitCode = 2;
      return;
    }
  }
  // Builds from before the cluster bench's warm-up measure cold nodes; a newer build facing one runs cold too (--warmup-seconds 0).
  const warm = { before: hasWarmup(builds.before), after: hasWarmup(builds.after) };
  const coldOnly = !(warm.before && warm.after);
  const figures: { before: LoadFigure[]; after: LoadFigure[] } = { before: [], after: [] };
  for (let round = 1; round <= rounds; round++) {
    for (const which of ['before', 'after'] as const) {
      const dir = builds[which];
      const run = spawnSync(
        process.execPath,
        [
          'dist/bench/main.js',
          'cluster',
          '--seconds',
          values.seconds,
          '--kills',
          '0',
          '--clients',
          values.clients,
          ...(coldOnly && warm[which] ? ['--warmup-seconds', '0'] : []),
        ],
        { cwd: dir, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 },
      );
      const found = parseClusterReport(run.stdout ?? '');
      if (run.status !== 0 || found.length === 0) {
        process.stderr.write(`bench compare: the ${which} build (${dir}) failed (exit ${run.status}):\n${run.stderr ?? ''}\n`);
        process.exitCode = 1;
        return;
      }
      figures[which].push(...found);
      for (const f of found) {
        process.stdout.write(
          `[${round}/${rounds}] ${which.padEnd(6)} ${f.workload} clients=${String(f.clients).padStart(3)}  ${f.opsPerSecond} ops/s  p50 ${f.p50Ms} ms` +
            `${f.cpuUsPerOp === null ? '' : `  cpu ${f.cpuUsPerOp} µs/op`}\n`,
        );
      }
    }
  }
  process.stdout.write(`\nbefore = ${builds.before}\nafter  = ${builds.after}\nmedians over ${rounds} interleaved rounds:\n`);
  process.stdout.write(`${comparisonTable(figures.before, figures.after)}\n`);
}

/** Whether the build's cluster bench knows --warmup-seconds (added 2026-12-06). */
function hasWarmup(dir: string): boolean {
  const file = join(dir, 'dist', 'bench', 'cluster.js');
  return existsSync(file) && readFileSync(file, 'utf8').includes('warmup-seconds');
}
