// `npm run bench -- checker --vs knossos --knossos-src DIR --high-scale-lib-src DIR [--knossos-limit S] [--run DIR ...]`:
// the real Knossos (v0.3.10's competition analysis, run from its sources on
// Debian's Clojure) judges the same histories as rift-check, through the
// EDN rift-check exports (`--export edn`) and the models checker/README.md
// documents: the corpus (every file of ../shared/corpus, or RIFT_CORPUS) and
// the `history.jsonl` of each harness run directory given with --run. Per
// file: both verdicts and the keys Knossos left undecided; a file where both
// decided and disagree is a bug of one of them (or of the export), never a
// tolerance. Nothing is downloaded: Knossos and high-scale-lib are source
// trees you point it to (bench/knossos/README.md), compiled in a temp
// directory.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface KnossosFile {
  readonly name: string;
  readonly path: string;
  readonly model: 'cas-register' | 'kv';
}

/** Debian's jars Knossos v0.3.10 needs (`apt-get install -y clojure libmath-combinatorics-clojure libpotemkin-clojure libslingshot-clojure libtools-cli-clojure libtools-logging-clojure`). */
const DEBIAN_JARS = [
  'clojure.jar',
  'spec.alpha.jar',
  'core.specs.alpha.jar',
  'math.combinatorics.jar',
  'potemkin.jar',
  'riddley.jar',
  'slingshot.jar',
  'tools.cli.jar',
  'tools.logging.jar',
];

/**
 * Knossos's classpath, built in `workDir`: its sources, high-scale-lib's
 * classes (javac of the package Knossos imports) and a stub of
 * `multiset.core` (only knossos.model's unordered-queue uses it; rift never
 * checks with that model). Returns why not when something is missing.
 */
function knossosClasspath(knossosSrc: string, highScaleSrc: string, workDir: string): { cp: string } | { error: string } {
  if (spawnSync('java', ['-version'], { stdio: 'ignore' }).status !== 0) return { error: 'java is not installed' };
  const missing = DEBIAN_JARS.filter((j) => !existsSync(join('/usr/share/java', j)));
  if (missing.length > 0) return { error: `Debian's Clojure jars are missing (${missing.join(', ')}): bench/knossos/README.md` };
  if (!existsSync(join(knossosSrc, 'src', 'knossos', 'competition.clj')))
    return { error: `${knossosSrc} is not a Knossos source tree (no src/knossos/competition.clj)` };
  const hslDir = join(highScaleSrc, 'src', 'main', 'java', 'org', 'cliffc', 'high_scale_lib');
  if (!existsSync(hslDir)) return { error: `${highScaleSrc} is not a high-scale-lib source tree (no ${hslDir})` };
  const classes = join(workDir, 'hsl-classes');
  mkdirSync(classes, { recursive: true });
  const sources = readdirSync(hslDir)
    .filter((f) => f.endsWith('.java'))
    .map((f) => join(hslDir, f));
  const javac = spawnSync('javac', ['-nowarn', '-d', classes, ...sources], { encoding: 'utf8' });
  if (javac.status !== 0) return { error: `javac of high-scale-lib failed: ${javac.stderr.trim().split('\n').slice(-3).join(' ')}` };
  const stubs = join(workDir, 'stubs');
  mkdirSync(join(stubs, 'multiset'), { recursive: true });
  writeFileSync(
    join(stubs, 'multiset', 'core.clj'),
    '(ns multiset.core)\n(defn multiset [& _] (throw (UnsupportedOperationException. "multiset: not available here")))\n',
  );
  return { cp: [join(knossosSrc, 'src'), stubs, classes, ...DEBIAN_JARS.map((j) => join('/usr/share/java', j))].join(':') };
}

type KeyVerdict = 'valid' | 'invalid' | 'unknown';

const keyVerdict = (v: unknown): KeyVerdict => (v === true ? 'valid' : v === false ? 'invalid' : 'unknown');

/** rift-check's verdict of a file (its exit code), of every key (`--all-keys --json`), and the EDN it exports. */
function ours(cli: string, f: KnossosFile, edn: string): { verdict: string; keys: Map<string, KeyVerdict>; exported: boolean } {
  const r = spawnSync(process.execPath, [cli, f.path, '--model', f.model, '--all-keys', '--json'], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const keys = new Map<string, KeyVerdict>();
  try {
    const j = JSON.parse(r.stdout) as { keys: Record<string, { valid: unknown }> };
    for (const [k, v] of Object.entries(j.keys)) keys.set(k, keyVerdict(v.valid));
  } catch {
    // No JSON: the exit code below says why.
  }
  const e = spawnSync(process.execPath, [cli, f.path, '--model', f.model, '--export', 'edn', '--out', edn], { stdio: 'ignore' });
  return {
    verdict: ({ 0: 'valid', 1: 'invalid', 2: 'unknown' } as Record<number, string>)[r.status ?? -1] ?? `exit ${r.status}`,
    keys,
    exported: e.status === 0,
  };
}

/** The corpus's files with the model each is checked with (MANIFEST.tsv). */
export function corpusFiles(corpus: string): KnossosFile[] {
  const files: KnossosFile[] = [];
  for (const dir of ['porcupine', 'knossos']) {
    for (const line of readFileSync(join(corpus, dir, 'MANIFEST.tsv'), 'utf8')
      .split('\n')
      .slice(1)) {
      const [file, model] = line.split('\t');
      if (file === undefined || file === '' || (model !== 'cas-register' && model !== 'kv')) continue;
      files.push({ name: `${dir}/${file}`, path: join(corpus, dir, file), model });
    }
  }
  return files;
}

/** A harness run directory's history (the harness's workload is a register: harness/run/linearizability.ts). */
export function runFile(dir: string): KnossosFile {
  return { name: `run ${dir}`, path: join(dir, 'history.jsonl'), model: 'cas-register' };
}

export function runVsKnossos(opts: {
  cli: string;
  knossosSrc: string | undefined;
  highScaleSrc: string | undefined;
  files: readonly KnossosFile[];
  limitS: number;
  tmp: string;
}): void {
  if (opts.knossosSrc === undefined || opts.highScaleSrc === undefined) {
    process.stdout.write(
      '--vs knossos: skipped: no Knossos or high-scale-lib source tree (--knossos-src, --high-scale-lib-src; bench/knossos/README.md)\n',
    );
    return;
  }
  const built = knossosClasspath(opts.knossosSrc, opts.highScaleSrc, opts.tmp);
  if ('error' in built) {
    process.stdout.write(`--vs knossos: skipped: ${built.error}\n`);
    return;
  }
  const ednDir = join(opts.tmp, 'edn');
  mkdirSync(ednDir, { recursive: true });
  const rows = opts.files.map((f, i) => {
    const edn = join(ednDir, `${i}.edn`);
    return { f, edn, ...ours(opts.cli, f, edn) };
  });
  const specs = rows.filter((r) => r.exported).map((r) => `${r.f.model}:${r.edn}`);
  const t0 = performance.now();
  const k = spawnSync(
    'java',
    [
      '-Xmx6g',
      '-cp',
      built.cp,
      'clojure.main',
      join(import.meta.dirname, '..', '..', 'bench', 'knossos', 'rift_knossos.clj'),
      String(opts.limitS),
      ...specs,
    ],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  const javaMs = performance.now() - t0;
  const theirs = new Map<string, { verdict: string; ms: string; keys: string }>();
  for (const line of k.stdout.split('\n')) {
    const m = /^(\S+) (valid|invalid|unknown|error)(?: (\d+)ms)?(?: keys: (.*)| (.*))?$/.exec(line);
    if (m) theirs.set(m[1]!, { verdict: m[2]!, ms: m[3] ?? '', keys: m[4] ?? m[5] ?? '' });
  }
  let agree = 0;
  let undecided = 0;
  const disagree: string[] = [];
  const lines: string[] = [];
  // Key by key: Knossos's line names the keys it did not find valid (`k=false`, `k=:unknown`); the others it found
  // valid. A history without keys is one key on both sides, whatever each calls it.
  const keyTally = { agree: 0, undecided: 0, disagree: [] as string[] };
  for (const r of rows) {
    const t = theirs.get(r.edn);
    if (t !== undefined && (t.verdict === 'valid' || t.verdict === 'invalid' || t.verdict === 'unknown')) {
      const notValid = new Map<string, KeyVerdict>();
      for (const part of t.keys === '' ? [] : t.keys.split(',')) {
        const eq = part.lastIndexOf('=');
        notValid.set(part.slice(0, eq), part.slice(eq + 1) === 'false' ? 'invalid' : 'unknown');
      }
      const single = r.keys.size === 1;
      for (const [key, v] of r.keys) {
        const knossosKey = single ? ([...notValid.values()][0] ?? 'valid') : (notValid.get(key) ?? 'valid');
        if (v === 'unknown' || knossosKey === 'unknown') keyTally.undecided++;
        else if (v === knossosKey) keyTally.agree++;
        else keyTally.disagree.push(`${r.f.name} key ${key} (rift ${v}, Knossos ${knossosKey})`);
      }
    }
    const kv = t?.verdict ?? (r.exported ? 'no answer' : 'export failed');
    const decided = (v: string): boolean => v === 'valid' || v === 'invalid';
    if (decided(r.verdict) && decided(kv)) {
      if (r.verdict === kv) agree++;
      else disagree.push(r.f.name);
    } else undecided++;
    if (r.verdict !== kv) lines.push(`| ${r.f.name} | ${r.verdict} | ${kv} | ${t?.ms ?? ''} | ${t?.keys ?? ''} |`);
  }
  process.stdout.write(
    `\nrift-check vs Knossos (v0.3.10 sources at ${opts.knossosSrc}, competition analysis, ${opts.limitS} s per key, one JVM: ${(javaMs / 1000).toFixed(0)} s in all)\n` +
      `${rows.length} files: both decided and agree ${agree}; disagree ${disagree.length}${disagree.length > 0 ? ` (${disagree.join(', ')})` : ''}; ` +
      `undecided by one of them ${undecided}\n` +
      `keys: both decided and agree ${keyTally.agree}; disagree ${keyTally.disagree.length}${keyTally.disagree.length > 0 ? ` (${keyTally.disagree.join('; ')})` : ''}; undecided by one of them ${keyTally.undecided}\n` +
      (lines.length > 0
        ? `\n| file | rift | Knossos | Knossos ms | Knossos: keys not valid |\n|---|---|---|---|---|\n${lines.join('\n')}\n`
        : '') +
      (k.status !== 0 ? `knossos exited ${k.status}: ${k.stderr.trim().split('\n').slice(-3).join(' ')}\n` : ''),
  );
}
