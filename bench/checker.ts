// `npm run bench -- checker [--runs N] [--quick] [--seed S] [--no-wall] [--compare-plain]`
// (`--vs porcupine`: only the side-by-side run against Porcupine, bench/porcupine.ts;
// `--vs knossos [--run DIR ...]`: only the verdicts of the real Knossos on the corpus and on harness runs, bench/knossos.ts;
// `--family NAME --seeds N [--scale F]`: only NAME of bench/hard-histories.ts over
// seeds S..S+N-1, in process, 10 s limit each: the distribution of times, to find heavy tails):
// 1. the reference corpus: search time alone (histories read and prepared
//    first; median of N runs, default 5) and the wall time of the whole
//    command (`rift-check FILE`: process start, reading, parsing, search,
//    explanation of invalid keys, exit; one run per file);
// 2. easy large files (generated, many keys): the whole command's wall time;
// 3. generated cas-register histories: search time;
// 4. the hard history families of issue 17 (bench/hard-histories.ts): the
//    whole command's wall time and peak RSS per file; with --compare-plain
//    also the plain WGL search (`--no-fast-paths`, 10 s limit) on the same
//    file, run right after it.
// Figures of other systems are stored, never measured here, and are
// labelled with where and when they were measured.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  checkPrepared,
  checkPreparedAsync,
  prepareHistory,
  readHistoryFile,
  type CheckResult,
  type HistoryOp,
  type PreparedHistory,
} from '../checker/index.js';
import { corpusFiles, runFile, runVsKnossos } from './knossos.js';
import { generateFamily, hardFamilies, historyShape, rng } from './hard-histories.js';
import { runVsPorcupine, type VsFile } from './porcupine.js';

// The reference corpus: $RIFT_CORPUS, else shared/corpus beside the repository, else /work/shared/corpus.
const CORPUS =
  [process.env['RIFT_CORPUS'], join(import.meta.dirname, '..', '..', '..', 'shared', 'corpus'), '/work/shared/corpus'].find(
    (dir) => dir !== undefined && dir !== '' && existsSync(join(dir, 'porcupine', 'MANIFEST.tsv')),
  ) ?? '/work/shared/corpus';

/** The command under test: the compiled `rift-check` entry (one bundled module, scripts/build.mjs). */
const CLI = join(import.meta.dirname, '..', 'checker', 'rift-check.js');
/** The same program as tsc emits it, module by module (the start-up the bundle saves, in `--vs porcupine`). */
const UNBUNDLED_CLI = join(import.meta.dirname, '..', 'report', 'check-cli.js');
/** GNU time, for a child's peak RSS (absent: the column says n/a). */
const GNU_TIME = '/usr/bin/time';

/**
 * STORED, not measured by this benchmark: Porcupine v1.3.0 `CheckEvents`
 * time per file (parsing excluded), median of 5 runs, GOMAXPROCS=2, from
 * /work/shared/notes/porcupine-references.md §6 (measured on this machine
 * when those notes were written, load average 4-12; the notes record no
 * date).
 */
const PORCUPINE_STORED_MS: Record<string, number> = {
  'c50-ok': 511.9,
  etcd_002: 468.2,
  etcd_007: 281.8,
  etcd_099: 240.6,
  etcd_057: 141.5,
  'c50-bad': 63.4,
  etcd_075: 44.5,
  etcd_040: 17.1,
  etcd_080: 9.8,
  'c10-ok': 1.2,
  'c10-bad': 1.0,
  'c01-ok': 0.5,
  'c01-bad': 0.2,
};
const PORCUPINE_STORED_TOTAL_MS = 1900;
const PORCUPINE_SOURCE = 'stored: Porcupine v1.3.0, search only, porcupine-references.md §6, this machine, load 4-12, undated';
/** STORED: issue 17's whole-process wall times of Porcupine v1.3.0 on its own easy files (not the files generated here), measured with our checker at commit 2ec063a. */
const PORCUPINE_STORED_WALL =
  "stored (issue 17, measured at commit 2ec063a on that issue's own files): Porcupine v1.3.0 whole process 10k ops 0.08 s, 100k ops 0.84 s";
/** STORED: issue 17's Knossos figures on Porcupine's etcd histories. */
const KNOSSOS_STORED =
  'stored (issue 17): Knossos competition checker, 30 s budget, leaves etcd_057 and etcd_099 undecided and takes 20.8 s on etcd_040';

interface Row {
  name: string;
  ops: number;
  verdict: string;
  median: number;
  min: number;
  max: number;
  ref?: number;
  wallMs?: number;
  rssMiB: number;
}

const MiB = 1024 * 1024;

function verdictText(r: CheckResult | boolean | 'unknown'): string {
  const v = typeof r === 'object' ? r.valid : r;
  return v === true ? 'valid' : v === false ? 'INVALID' : 'unknown';
}

/** --compare-plain: the plain WGL search's time limit on a hard family (it decides few of them). */
const PLAIN_COMPARE_LIMIT_S = 10;

/** Generated histories may be too hard (high concurrency on one key): bound them. */
const GENERATED_TIME_LIMIT_MS = 10_000;

function timeRuns(h: PreparedHistory, runs: number, timeLimitMs?: number): { times: number[]; last: CheckResult; rss: number } {
  const times: number[] = [];
  let last: CheckResult | undefined;
  let rss = 0;
  for (let i = 0; i < runs; i++) {
    last = checkPrepared(h, { workers: false, minimizeMs: 0, ...(timeLimitMs !== undefined ? { timeLimitMs } : {}) });
    times.push(last.searchMs);
    rss = Math.max(rss, process.memoryUsage.rss());
  }
  return { times, last: last!, rss };
}

function row(name: string, h: PreparedHistory, runs: number, timeLimitMs?: number): Row {
  const { times, last, rss } = timeRuns(h, runs, timeLimitMs);
  const sorted = [...times].sort((a, b) => a - b);
  const r: Row = {
    name,
    ops: h.clientOpCount,
    verdict: verdictText(last),
    median: sorted[Math.floor(sorted.length / 2)]!,
    min: sorted[0]!,
    max: sorted[sorted.length - 1]!,
    rssMiB: rss / MiB,
  };
  const ref = PORCUPINE_STORED_MS[name];
  if (ref !== undefined) r.ref = ref;
  return r;
}

function fmt(n: number): string {
  return n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2);
}

/** A Markdown table; text columns left-aligned, numbers right-aligned. */
function table(title: string, header: string[], lines: string[][], textCols: readonly number[] = [0]): void {
  process.stdout.write(`\n${title}\n`);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const text = new Set(textCols);
  const out = (cells: string[]): string =>
    '| ' + cells.map((c, i) => (text.has(i) ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ') + ' |\n';
  process.stdout.write(out(header));
  process.stdout.write('|' + widths.map((w, i) => (text.has(i) ? '-'.repeat(w + 2) : '-'.repeat(w + 1) + ':')).join('|') + '|\n');
  for (const l of lines) process.stdout.write(out(l));
}

/** Runs `rift-check ARGS` as its own process: wall time from spawn to exit, exit code, and peak RSS (GNU time) when available. */
function runCli(args: string[]): { wallMs: number; code: number; rssMiB: number | null; stdout: string } {
  const useTime = existsSync(GNU_TIME);
  const cmd = useTime ? GNU_TIME : process.execPath;
  const argv = useTime ? ['-f', 'RIFT_PEAK_KIB=%M', process.execPath, CLI, ...args] : [CLI, ...args];
  const t0 = performance.now();
  const r = spawnSync(cmd, argv, { encoding: 'utf8', maxBuffer: 1 << 28 });
  const wallMs = performance.now() - t0;
  const m = /RIFT_PEAK_KIB=(\d+)/.exec(r.stderr ?? '');
  return { wallMs, code: r.status ?? -1, rssMiB: m !== null ? Number(m[1]) / 1024 : null, stdout: r.stdout ?? '' };
}

const CODE_VERDICT: Record<number, string> = { 0: 'valid', 1: 'INVALID', 2: 'unknown' };

/**
 * Simulates `processes` clients on a cas-register per key: each op takes
 * effect at a random moment between its invoke and its completion, so the
 * history is linearizable; `infoRate` of the ops crash (info, process retired).
 */
export function generateHistory(opts: {
  ops: number;
  keys: number;
  processes: number;
  infoRate: number;
  seed: number;
  values?: number;
}): HistoryOp[] {
  // values: size of the value domain; 0 = every write/cas writes a fresh value.
  const domain = opts.values ?? 5;
  let fresh = 1000;
  const rand = rng(opts.seed);
  const out: HistoryOp[] = [];
  const state = new Map<number, number | null>();
  type P = { id: number; op: HistoryOp | null; applied: boolean; result: unknown; crash: boolean };
  const procs: P[] = Array.from({ length: opts.processes }, (_, i) => ({ id: i, op: null, applied: false, result: null, crash: false }));
  let nextId = opts.processes;
  let invoked = 0;
  const emit = (o: Omit<HistoryOp, 'index'>): HistoryOp => {
    const op = { ...o, index: out.length } as HistoryOp;
    out.push(op);
    return op;
  };
  while (invoked < opts.ops || procs.some((p) => p.op !== null)) {
    const p = procs[Math.floor(rand() * procs.length)]!;
    if (p.op === null) {
      if (invoked >= opts.ops) continue;
      invoked++;
      const key = Math.floor(rand() * opts.keys);
      const x = rand();
      const f = x < 0.45 ? 'read' : x < 0.8 ? 'write' : 'cas';
      const v = domain === 0 ? fresh++ : Math.floor(rand() * domain);
      // A cas expects the current value half of the time so some succeed.
      const expected = rand() < 0.5 ? (state.get(key) ?? null) : domain === 0 ? fresh++ : Math.floor(rand() * domain);
      const value = f === 'read' ? null : f === 'write' ? v : [expected, v];
      p.op = emit({ process: p.id, type: 'invoke', f, key, value });
      p.applied = false;
      p.crash = rand() < opts.infoRate;
      continue;
    }
    const key = p.op.key as number;
    if (!p.applied) {
      const s = state.get(key) ?? null;
      if (p.op.f === 'read') p.result = s;
      else if (p.op.f === 'write') state.set(key, p.op.value as number);
      else {
        const [a, b] = p.op.value as [number | null, number];
        p.result = s === a;
        if (s === a) state.set(key, b);
      }
      p.applied = true;
      continue;
    }
    const base = { process: p.id, f: p.op.f, key };
    if (p.crash) {
      emit({ ...base, type: 'info', value: p.op.value });
      p.id = nextId++;
    } else if (p.op.f === 'cas' && p.result === false) emit({ ...base, type: 'fail', value: p.op.value });
    else emit({ ...base, type: 'ok', value: p.op.f === 'read' ? p.result : p.op.value });
    p.op = null;
  }
  return out;
}

/**
 * The files of `--vs porcupine`: the corpus's largest easy files (decided
 * by both in well under a second; c50-ok and c50-bad are left out: Porcupine
 * v1.3.0 takes about 19 s on c50-ok here) and generated easy files of 2,000,
 * 10,000 and 100,000 client ops over many keys (written to `tmp`).
 */
function vsPorcupineFiles(tmp: string, seed: number): VsFile[] {
  const corpus = [
    ['knossos', 'data_cas-register_good_mongodb-v0-ack-rollback-8.jsonl'],
    ['knossos', 'data_cas-register_bad_mongodb-v0-ack-rollback-6.jsonl'],
    ['porcupine', 'etcd_029.jsonl'],
    ['porcupine', 'c10-ok.jsonl'],
    ['porcupine', 'c10-bad.jsonl'],
  ];
  const files: VsFile[] = corpus.map(([dir, file]) => {
    const path = join(CORPUS, dir!, file!);
    const clientOps = readFileSync(path, 'utf8')
      .split('\n')
      .filter((l) => l.includes('"invoke"')).length;
    return { name: `${dir}/${file}`, path, clientOps };
  });
  for (const e of [
    { name: 'easy-2k-50keys-10p', ops: 2_000, keys: 50, processes: 10, infoRate: 0.01 },
    { name: 'easy-10k-200keys-20p', ops: 10_000, keys: 200, processes: 20, infoRate: 0.01 },
    { name: 'easy-100k-2000keys-50p', ops: 100_000, keys: 2000, processes: 50, infoRate: 0.01 },
  ]) {
    const path = join(tmp, `${e.name}.jsonl`);
    writeFileSync(
      path,
      generateHistory({ ...e, seed })
        .map((o) => JSON.stringify(o))
        .join('\n') + '\n',
    );
    files.push({ name: `${e.name} (generated, seed ${seed})`, path, clientOps: e.ops });
  }
  return files;
}

/**
 * One hard family over many seeds (in process: the check alone, history
 * generation excluded): every verdict must be the expected one; prints the
 * seeds that took longest and the distribution.
 */
function familySurvey(name: string, from: number, seeds: number, scale: number): void {
  const times: { seed: number; ms: number; verdict: string }[] = [];
  let wrong = 0;
  for (let s = from; s < from + seeds; s++) {
    const c = hardFamilies(s, scale).find((x) => x.name === name);
    if (c === undefined)
      throw new Error(
        `--family ${name}: no such family (${hardFamilies(0)
          .map((x) => x.name)
          .join(', ')})`,
      );
    const history = generateFamily(c.params);
    const t0 = performance.now();
    const r = checkPrepared(prepareHistory(history), { timeLimitMs: 10_000 });
    const ms = performance.now() - t0;
    if (r.valid !== (c.expected === 'valid')) wrong++;
    times.push({ seed: s, ms, verdict: verdictText(r) });
  }
  const sorted = [...times].sort((a, b) => a.ms - b.ms);
  const q = (p: number): string => fmt(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!.ms);
  process.stdout.write(
    `${name} at scale ${scale}, seeds ${from}..${from + seeds - 1} (10 s limit; load ${load()}): ${seeds - wrong} of ${seeds} as expected; ` +
      `median ${q(0.5)} ms, p90 ${q(0.9)} ms, p99 ${q(0.99)} ms, max ${fmt(sorted[sorted.length - 1]!.ms)} ms\n` +
      `slowest: ${sorted
        .slice(-5)
        .reverse()
        .map((t) => `seed ${t.seed} ${fmt(t.ms)} ms (${t.verdict})`)
        .join(', ')}\n`,
  );
}

function load(): string {
  return loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
}

export async function runCheckerBench(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    strict: true,
    allowPositionals: false,
    options: {
      runs: { type: 'string' },
      quick: { type: 'boolean', default: false },
      'no-wall': { type: 'boolean', default: false },
      'compare-plain': { type: 'boolean', default: false },
      seed: { type: 'string' },
      vs: { type: 'string' },
      'porcupine-src': { type: 'string' },
      'knossos-src': { type: 'string' },
      'high-scale-lib-src': { type: 'string' },
      'knossos-limit': { type: 'string' },
      run: { type: 'string', multiple: true },
      repeats: { type: 'string' },
      family: { type: 'string' },
      seeds: { type: 'string' },
      scale: { type: 'string' },
    },
  });
  const runs = values.runs === undefined ? 5 : Math.max(1, Number(values.runs) || 5);
  const quick = values.quick;
  const wall = !values['no-wall'];
  const comparePlain = values['compare-plain'];
  const seed = values.seed === undefined ? 42 : Number(values.seed) || 42;
  const tmp = mkdtempSync(join(tmpdir(), 'rift-bench-checker-'));
  if (values.family !== undefined) {
    rmSync(tmp, { recursive: true, force: true });
    familySurvey(values.family, seed, Math.max(1, Number(values.seeds ?? 200) || 200), Number(values.scale ?? 0.2) || 0.2);
    return;
  }
  if (values.vs === 'knossos') {
    try {
      runVsKnossos({
        cli: CLI,
        knossosSrc: values['knossos-src'] ?? process.env['KNOSSOS_SRC'],
        highScaleSrc: values['high-scale-lib-src'] ?? process.env['HIGH_SCALE_LIB_SRC'],
        files: [...corpusFiles(CORPUS), ...(values.run ?? []).map(runFile)],
        limitS: values['knossos-limit'] === undefined ? 10 : Math.max(1, Number(values['knossos-limit']) || 10),
        tmp,
      });
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
    return;
  }
  if (values.vs !== undefined) {
    if (values.vs !== 'porcupine') throw new Error(`--vs ${values.vs}: porcupine or knossos`);
    try {
      runVsPorcupine({
        cli: CLI,
        unbundledCli: UNBUNDLED_CLI,
        src: values['porcupine-src'] ?? process.env['PORCUPINE_SRC'],
        files: vsPorcupineFiles(tmp, seed),
        repeats: values.repeats === undefined ? 3 : Math.max(1, Number(values.repeats) || 3),
        tmp,
      });
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
    return;
  }
  process.stdout.write(
    `checker benchmark, node ${process.version}; load average at start ${load()} (1, 5, 15 min; the machine's other work makes timings noisy)\n`,
  );

  // 1. The corpus.
  for (const dir of ['porcupine', 'knossos']) {
    const manifest = readFileSync(join(CORPUS, dir, 'MANIFEST.tsv'), 'utf8')
      .split('\n')
      .slice(1)
      .filter((l) => l.trim().length > 0);
    const rows: Row[] = [];
    let wrong = 0;
    for (const line of manifest) {
      const [file, model, expected] = line.split('\t') as [string, 'cas-register' | 'kv', string];
      const path = join(CORPUS, dir, file);
      const h = prepareHistory(await readHistoryFile(path), model);
      const r = row(file.replace(/\.jsonl$/, ''), h, quick ? 1 : runs);
      if (wall) {
        const c = runCli([path, '--model', model]);
        r.wallMs = c.wallMs;
        if ((c.code === 0) !== (expected === 'linearizable') || c.code > 1) wrong++;
      }
      if ((r.verdict === 'valid') !== (expected === 'linearizable')) wrong++;
      rows.push(r);
    }
    const total = rows.reduce((s, r) => s + r.median, 0);
    const totalWall = rows.reduce((s, r) => s + (r.wallMs ?? 0), 0);
    const shown = rows.filter((r) => r.ref !== undefined || r.median >= 1).sort((a, b) => b.median - a.median);
    table(
      `corpus/${dir}: ${rows.length} files (${rows.length - shown.length} more, each under 1 ms of search, not shown)`,
      ['history', 'client ops', 'verdict', 'search median ms', 'min–max ms', 'wall ms (whole command)', 'Porcupine ms (stored)', 'rss MiB'],
      shown.map((r) => [
        r.name,
        String(r.ops),
        r.verdict,
        fmt(r.median),
        `${fmt(r.min)}–${fmt(r.max)}`,
        r.wallMs !== undefined ? fmt(r.wallMs) : '',
        r.ref !== undefined ? fmt(r.ref) : '',
        r.rssMiB.toFixed(0),
      ]),
      [0, 2],
    );
    process.stdout.write(
      `total search (sum of medians) ${fmt(total)} ms` +
        (wall
          ? `; total wall of ${rows.length} commands ${fmt(totalWall)} ms (median ${fmt([...rows].map((r) => r.wallMs!).sort((a, b) => a - b)[rows.length >> 1]!)} ms each)`
          : '') +
        (dir === 'porcupine' ? `; Porcupine ≈ ${PORCUPINE_STORED_TOTAL_MS} ms search (${PORCUPINE_SOURCE})` : '') +
        `; verdicts differing from the manifest: ${wrong}\n`,
    );
    if (dir === 'porcupine') process.stdout.write(`${KNOSSOS_STORED}\n`);
  }

  // 2. Easy large files: the whole command, as a user runs it.
  if (wall) {
    const easy = [
      { name: 'easy-10k-200keys-20p', ops: 10_000, keys: 200, processes: 20, infoRate: 0.01 },
      { name: 'easy-100k-2000keys-50p', ops: 100_000, keys: 2000, processes: 50, infoRate: 0.01 },
    ];
    const lines: string[][] = [];
    for (const e of quick ? easy.slice(0, 1) : easy) {
      const path = join(tmp, `${e.name}.jsonl`);
      writeFileSync(
        path,
        generateHistory({ ...e, seed })
          .map((o) => JSON.stringify(o))
          .join('\n') + '\n',
      );
      const times: number[] = [];
      let last = runCli([path]);
      for (let i = 0; i < 3; i++) {
        last = runCli([path]);
        times.push(last.wallMs);
      }
      times.sort((a, b) => a - b);
      lines.push([
        e.name,
        String(e.ops),
        String(e.keys),
        CODE_VERDICT[last.code] ?? `exit ${last.code}`,
        fmt(times[1]!),
        `${fmt(times[0]!)}–${fmt(times[2]!)}`,
        last.rssMiB !== null ? last.rssMiB.toFixed(0) : 'n/a',
      ]);
    }
    table(
      `easy large files (seed ${seed}): whole command \`rift-check FILE\`, median of 3 after a warm-up run`,
      ['history', 'client ops', 'keys', 'verdict', 'wall ms', 'min–max ms', 'peak RSS MiB'],
      lines,
      [0, 3],
    );
    process.stdout.write(`${PORCUPINE_STORED_WALL}\n`);
  }

  // 3. Generated cas-register histories: search time.
  const generated: { name: string; ops: number; keys: number; processes: number; infoRate: number; values?: number }[] = [
    { name: 'gen-10k-200keys-20p', ops: 10_000, keys: 200, processes: 20, infoRate: 0.01 },
    { name: 'gen-100k-2000keys-50p', ops: 100_000, keys: 2000, processes: 50, infoRate: 0.01 },
    { name: 'gen-100k-100keys-50p', ops: 100_000, keys: 100, processes: 50, infoRate: 0.01 },
    { name: 'gen-1key-50p-200ops', ops: 200, keys: 1, processes: 50, infoRate: 0 },
    { name: 'gen-1key-50p-200ops-info', ops: 200, keys: 1, processes: 50, infoRate: 0.01 },
    { name: 'gen-1key-50p-2000ops (10 s limit)', ops: 2000, keys: 1, processes: 50, infoRate: 0 },
  ];
  const rows: Row[] = [];
  for (const g of quick ? generated.slice(0, 1) : generated) {
    const h = prepareHistory(generateHistory({ ...g, seed: 42 }), 'cas-register');
    rows.push(row(g.name, h, g.ops >= 100_000 || g.keys === 1 ? Math.min(runs, 3) : runs, GENERATED_TIME_LIMIT_MS));
    if (g.keys > 1) {
      const t0 = performance.now();
      const r = await checkPreparedAsync(h, { workerMinOps: 1, timeLimitMs: GENERATED_TIME_LIMIT_MS, minimizeMs: 0 });
      const t = performance.now() - t0;
      rows.push({
        name: `${g.name} (${r.workers} workers, wall)`,
        ops: h.clientOpCount,
        verdict: verdictText(r),
        median: t,
        min: r.searchMs,
        max: r.searchMs,
        rssMiB: process.memoryUsage.rss() / MiB,
      });
    }
  }
  table(
    `generated cas-register histories (seed 42, values 0–4, ${GENERATED_TIME_LIMIT_MS / 1000} s limit): search time; workers rows: one run, wall incl. thread start and copying ops`,
    ['history', 'client ops', 'verdict', 'median ms', 'min–max ms', 'rss MiB'],
    rows.map((r) => [r.name, String(r.ops), r.verdict, fmt(r.median), `${fmt(r.min)}–${fmt(r.max)}`, r.rssMiB.toFixed(0)]),
    [0, 2],
  );

  // 4. The hard families of issue 17: the whole command per file.
  if (wall) {
    const lines: string[][] = [];
    let undecided = 0;
    let wrong = 0;
    for (const c of hardFamilies(seed, quick ? 0.2 : 1)) {
      const ops = generateFamily(c.params);
      const path = join(tmp, `${c.name}.jsonl`);
      writeFileSync(path, ops.map((o) => JSON.stringify(o)).join('\n') + '\n');
      const shape = historyShape(ops);
      const r = runCli([path]);
      const verdict = CODE_VERDICT[r.code] ?? `exit ${r.code}`;
      if (r.code === 2 || r.code > 2) undecided++;
      else if ((r.code === 0) !== (c.expected === 'valid')) wrong++;
      const line = [
        c.family,
        c.name,
        String(shape.clientOps),
        String(shape.inFlight),
        `${(shape.infoShare * 100).toFixed(0)}%`,
        c.expected,
        verdict,
        fmt(r.wallMs / 1000),
        r.rssMiB !== null ? r.rssMiB.toFixed(0) : 'n/a',
      ];
      if (comparePlain) {
        const p = runCli([path, '--no-fast-paths', '--time-limit', String(PLAIN_COMPARE_LIMIT_S)]);
        line.push(CODE_VERDICT[p.code] ?? `exit ${p.code}`, fmt(p.wallMs / 1000), p.rssMiB !== null ? p.rssMiB.toFixed(0) : 'n/a');
      }
      lines.push(line);
    }
    table(
      `hard families of issue 17 (seed ${seed}${quick ? ', scale 0.2' : ''}): whole command \`rift-check FILE\` (defaults: no time limit, 512 MiB cap; invalid files include shrinking to a minimal sub-history)` +
        (comparePlain ? `; plain: the same command with --no-fast-paths --time-limit ${PLAIN_COMPARE_LIMIT_S}, run right after` : ''),
      [
        'family',
        'file',
        'client ops',
        'in flight (peak)',
        'info share',
        'expected',
        'verdict',
        'wall s',
        'peak RSS MiB',
        ...(comparePlain ? ['plain verdict', 'plain wall s', 'plain RSS MiB'] : []),
      ],
      lines,
      comparePlain ? [0, 1, 5, 6, 9] : [0, 1, 5, 6],
    );
    process.stdout.write(`undecided: ${undecided}; wrong: ${wrong}\n`);
  }
  rmSync(tmp, { recursive: true, force: true });
  process.stdout.write(
    `\nload average at end ${load()}; peak RSS of the benchmark process itself: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB\n`,
  );
}
