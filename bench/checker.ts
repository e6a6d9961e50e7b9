// `npm run bench -- checker [--runs N] [--quick]`: times the linearizability
// search alone (histories are read and prepared first; process start and
// parsing are excluded) on every corpus file (median of N runs, default 5),
// on generated histories of 10,000 and 100,000 ops over many keys with 20–50
// processes (some info ops), and on a single key with 50 concurrent
// processes. Prints a table with Porcupine's figures (Go, this machine; see
// /work/shared/notes/porcupine-references.md §6) beside ours, and memory.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { checkPrepared, checkPreparedAsync, prepareHistory, readHistoryFile, type CheckResult, type HistoryOp, type PreparedHistory } from '../checker/index.js';

// The reference corpus: $RIFT_CORPUS, else shared/corpus beside the repository, else /work/shared/corpus.
const CORPUS = [process.env['RIFT_CORPUS'], join(import.meta.dirname, '..', '..', '..', 'shared', 'corpus'), '/work/shared/corpus']
  .find((dir) => dir !== undefined && dir !== '' && existsSync(join(dir, 'porcupine', 'MANIFEST.tsv'))) ?? '/work/shared/corpus';

/** Porcupine median ms (2 procs), from the notes' table. */
const PORCUPINE_MS: Record<string, number> = {
  'c50-ok': 511.9,
  'etcd_002': 468.2,
  'etcd_007': 281.8,
  'etcd_099': 240.6,
  'etcd_057': 141.5,
  'c50-bad': 63.4,
  'etcd_075': 44.5,
  'etcd_040': 17.1,
  'etcd_080': 9.8,
  'c10-ok': 1.2,
  'c10-bad': 1.0,
  'c01-ok': 0.5,
  'c01-bad': 0.2,
};
const PORCUPINE_TOTAL_MS = 1900;

interface Row {
  name: string;
  ops: number;
  verdict: string;
  median: number;
  min: number;
  max: number;
  ref?: number;
  rssMiB: number;
  heapMiB: number;
}

const MiB = 1024 * 1024;

function verdictText(r: CheckResult): string {
  return r.valid === true ? 'valid' : r.valid === false ? 'INVALID' : 'unknown';
}

/** Generated histories may be too hard (high concurrency on one key): bound them. */
const GENERATED_TIME_LIMIT_MS = 10_000;

function timeRuns(h: PreparedHistory, runs: number, timeLimitMs?: number): { times: number[]; last: CheckResult; rss: number; heap: number } {
  const times: number[] = [];
  let last: CheckResult | undefined;
  let rss = 0;
  let heap = 0;
  for (let i = 0; i < runs; i++) {
    last = checkPrepared(h, timeLimitMs !== undefined ? { workers: false, timeLimitMs } : { workers: false });
    times.push(last.searchMs);
    const m = process.memoryUsage();
    rss = Math.max(rss, m.rss);
    heap = Math.max(heap, m.heapUsed);
  }
  return { times, last: last!, rss, heap };
}

function row(name: string, h: PreparedHistory, runs: number, timeLimitMs?: number): Row {
  const { times, last, rss, heap } = timeRuns(h, runs, timeLimitMs);
  const sorted = [...times].sort((a, b) => a - b);
  const r: Row = {
    name,
    ops: h.clientOpCount,
    verdict: verdictText(last),
    median: sorted[Math.floor(sorted.length / 2)]!,
    min: sorted[0]!,
    max: sorted[sorted.length - 1]!,
    rssMiB: rss / MiB,
    heapMiB: heap / MiB,
  };
  const ref = PORCUPINE_MS[name];
  if (ref !== undefined) r.ref = ref;
  return r;
}

function fmt(n: number): string {
  return n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2);
}

function printTable(title: string, rows: Row[]): void {
  process.stdout.write(`\n${title}\n`);
  const header = ['history', 'client ops', 'verdict', 'median ms', 'min–max ms', 'Porcupine ms', 'rss MiB', 'heapUsed MiB'];
  const lines = rows.map((r) => [
    r.name,
    String(r.ops),
    r.verdict,
    fmt(r.median),
    `${fmt(r.min)}–${fmt(r.max)}`,
    r.ref !== undefined ? fmt(r.ref) : '',
    r.rssMiB.toFixed(0),
    r.heapMiB.toFixed(0),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const out = (cells: string[]) => '| ' + cells.map((c, i) => (i === 0 || i === 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ') + ' |\n';
  process.stdout.write(out(header));
  process.stdout.write('|' + widths.map((w, i) => (i === 0 || i === 2 ? '-' : '') + '-'.repeat(w + 1) + (i === 0 || i === 2 ? '' : ':')).map((s) => s.slice(0, Math.max(3, s.length))).join('|') + '|\n');
  for (const l of lines) process.stdout.write(out(l));
}

/** Deterministic PRNG (mulberry32) so generated histories are reproducible. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Simulates `processes` clients on a cas-register per key: each op takes
 * effect at a random moment between its invoke and its completion, so the
 * history is linearizable; `infoRate` of the ops crash (info, process retired).
 */
export function generateHistory(opts: { ops: number; keys: number; processes: number; infoRate: number; seed: number; values?: number }): HistoryOp[] {
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

export async function runCheckerBench(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    strict: true,
    allowPositionals: false,
    options: { runs: { type: 'string' }, quick: { type: 'boolean', default: false } },
  });
  const runs = values.runs === undefined ? 5 : Math.max(1, Number(values.runs) || 5);
  const quick = values.quick;
  process.stdout.write(`checker benchmark: search time only (median of ${runs} runs), node ${process.version}\n`);

  for (const dir of ['porcupine', 'knossos']) {
    const manifest = readFileSync(join(CORPUS, dir, 'MANIFEST.tsv'), 'utf8').split('\n').slice(1).filter((l) => l.trim().length > 0);
    const rows: Row[] = [];
    let wrong = 0;
    for (const line of manifest) {
      const [file, model, expected] = line.split('\t') as [string, 'cas-register' | 'kv', string];
      const h = prepareHistory(await readHistoryFile(join(CORPUS, dir, file)), model);
      const r = row(file.replace(/\.jsonl$/, ''), h, runs);
      if ((r.verdict === 'valid') !== (expected === 'linearizable')) wrong++;
      rows.push(r);
    }
    const total = rows.reduce((s, r) => s + r.median, 0);
    const shown = rows.filter((r) => r.ref !== undefined || r.median >= 1).sort((a, b) => b.median - a.median);
    printTable(`corpus/${dir}: ${rows.length} files, ${rows.length - shown.length} more under 1 ms not shown`, shown);
    process.stdout.write(
      `total (sum of medians) ${fmt(total)} ms over ${rows.length} files` +
        (dir === 'porcupine' ? ` (Porcupine ≈ ${PORCUPINE_TOTAL_MS} ms)` : '') +
        `; verdicts differing from the manifest: ${wrong}\n`,
    );
  }

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
    const ops = generateHistory({ ...g, seed: 42 });
    const h = prepareHistory(ops, 'cas-register');
    rows.push(row(g.name, h, g.ops >= 100_000 || g.keys === 1 ? Math.min(runs, 3) : runs, GENERATED_TIME_LIMIT_MS));
    if (g.keys > 1) {
      const t0 = performance.now();
      const r = await checkPreparedAsync(h, { workerMinOps: 1, timeLimitMs: GENERATED_TIME_LIMIT_MS });
      const m = process.memoryUsage();
      rows.push({
        name: `${g.name} (${r.workers} workers, wall)`,
        ops: h.clientOpCount,
        verdict: verdictText(r),
        median: performance.now() - t0,
        min: r.searchMs,
        max: r.searchMs,
        rssMiB: m.rss / MiB,
        heapMiB: m.heapUsed / MiB,
      });
    }
  }
  printTable(`generated cas-register histories (seed 42, values 0–4, ${GENERATED_TIME_LIMIT_MS / 1000} s limit; workers rows: one run, wall time incl. thread start and copying ops)`, rows);
  const peak = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(`\npeak RSS of the whole benchmark process: ${peak.toFixed(0)} MiB\n`);
}
