// `npm run bench -- checker --vs porcupine [--porcupine-src DIR] [--repeats N]`:
// rift-check and Porcupine (bench/porcupine/main.go, built here against a
// Porcupine source tree) on the same files, each as its own process, timed
// from spawn to exit, interleaved (rift, Porcupine, rift, ...), `--repeats`
// times (default 3): the corpus's largest easy files and generated easy
// files of 2,000, 10,000 and 100,000 client ops over many keys. Prints the
// medians, their ratio and both verdicts (which must agree).
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';

export interface VsFile {
  name: string;
  path: string;
  clientOps: number;
}

/** Exit code to verdict, shared by both commands (rift-check's codes; main.go uses the same). */
const VERDICT: Record<number, string> = { 0: 'valid', 1: 'INVALID', 2: 'unknown' };

/** Whether `go` runs here. */
function goVersion(): string | null {
  const r = spawnSync('go', ['version'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

/**
 * Builds bench/porcupine/main.go against the Porcupine tree at `src`, in a
 * temp directory, offline. Returns the binary's path, or why not.
 */
export function buildPorcupine(src: string, workDir: string): { bin: string } | { error: string } {
  if (goVersion() === null) return { error: 'go is not installed (apt-get install -y golang-go)' };
  if (!existsSync(join(src, 'checker.go'))) return { error: `${src} is not a Porcupine source tree (no checker.go)` };
  const dir = join(workDir, 'porc');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  copyFileSync(join(import.meta.dirname, '..', '..', 'bench', 'porcupine', 'main.go'), join(dir, 'main.go'));
  writeFileSync(
    join(dir, 'go.mod'),
    `module riftporc\n\ngo 1.16\n\nrequire github.com/anishathalye/porcupine v1.3.0\n\nreplace github.com/anishathalye/porcupine => ${src}\n`,
  );
  const bin = join(dir, 'porc');
  const r = spawnSync('go', ['build', '-o', bin, '.'], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, GOFLAGS: '-mod=mod', GOPROXY: 'off', GOPATH: join(workDir, 'gopath') },
  });
  if (r.status !== 0) return { error: `go build failed: ${r.stderr.trim()}` };
  return { bin };
}

function timed(cmd: string, args: string[]): { ms: number; code: number } {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { stdio: 'ignore' });
  return { ms: performance.now() - t0, code: r.status ?? -1 };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

/**
 * Runs the comparison and prints its table. `cli` is the compiled rift-check
 * entry (one bundled module); `unbundledCli` the same program as tsc emits
 * it, an empty script run by the same `node` (Node's own start-up and
 * exit, the floor under any rift-check run), and a script that only reads
 * the file and JSON.parses each line (the floor under any checker written
 * for Node that reads this format), all five interleaved.
 */
export function runVsPorcupine(opts: {
  cli: string;
  unbundledCli: string;
  src: string | undefined;
  files: VsFile[];
  repeats: number;
  tmp: string;
}): void {
  if (opts.src === undefined) {
    process.stdout.write(
      '--vs porcupine: skipped: no Porcupine source tree (set PORCUPINE_SRC or --porcupine-src; bench/porcupine/README.md)\n',
    );
    return;
  }
  const built = buildPorcupine(opts.src, opts.tmp);
  if ('error' in built) {
    process.stdout.write(`--vs porcupine: skipped: ${built.error}\n`);
    return;
  }
  process.stdout.write(`${goVersion()}; Porcupine from ${opts.src}\n`);
  const empty = join(opts.tmp, 'empty.mjs');
  writeFileSync(empty, '');
  const readParse = join(opts.tmp, 'read-parse.mjs');
  writeFileSync(
    readParse,
    "import { readFileSync } from 'node:fs';\n" +
      'let n = 0;\n' +
      "for (const l of readFileSync(process.argv[2], 'utf8').split('\\n')) if (l.length > 0) n += JSON.parse(l) === null ? 0 : 1;\n" +
      'if (n < 0) console.log(n);\n',
  );
  const lines: string[] = [];
  for (const f of opts.files) {
    const ours: number[] = [];
    const unbundled: number[] = [];
    const floor: number[] = [];
    const parseOnly: number[] = [];
    const theirs: number[] = [];
    let oursCode = -1;
    let theirsCode = -1;
    for (let i = 0; i < opts.repeats; i++) {
      const a = timed(process.execPath, [opts.cli, f.path]);
      const b = timed(built.bin, [f.path, '60']);
      const u = timed(process.execPath, [opts.unbundledCli, f.path]);
      const n = timed(process.execPath, [empty]);
      const p = timed(process.execPath, [readParse, f.path]);
      if (p.code !== 0) throw new Error(`${f.name}: the read-and-parse script failed (exit ${p.code})`);
      if (u.code !== a.code) throw new Error(`${f.name}: the bundled and unbundled rift-check disagree (exit ${a.code} vs ${u.code})`);
      ours.push(a.ms);
      unbundled.push(u.ms);
      floor.push(n.ms);
      parseOnly.push(p.ms);
      theirs.push(b.ms);
      oursCode = a.code;
      theirsCode = b.code;
    }
    const o = median(ours);
    const t = median(theirs);
    const runs = (xs: number[]): string => `${median(xs).toFixed(0)} (${xs.map((x) => x.toFixed(0)).join(', ')})`;
    lines.push(
      `| ${f.name} | ${f.clientOps} | ${VERDICT[oursCode] ?? `exit ${oursCode}`} | ${VERDICT[theirsCode] ?? `exit ${theirsCode}`} | ${runs(ours)} | ${runs(theirs)} | ${(o / t).toFixed(2)} | ${median(unbundled).toFixed(0)} | ${median(floor).toFixed(0)} | ${median(parseOnly).toFixed(0)} |`,
    );
  }
  process.stdout.write(
    `\nrift-check vs Porcupine, whole process (spawn to exit), interleaved, median of ${opts.repeats}; load average at end ${loadavg()
      .map((l) => l.toFixed(1))
      .join(
        ' ',
      )}\n\n| file | client ops | rift | Porcupine | rift ms (runs) | Porcupine ms (runs) | rift / Porcupine | rift unbundled ms | node, empty script ms | node, read + JSON.parse only ms |\n|---|---|---|---|---|---|---|---|---|---|\n${lines.join('\n')}\n`,
  );
}
