/**
 * One run of a gate cell: `npm run jepsen` as a child process (a crashing
 * run cannot take the gate down), on a given seed, with --json; what the
 * gate and its study need from its results.json.
 */
import { execa } from 'execa';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EXIT, verdictOfExitCode } from '../../checker/exit-codes.js';

export const repoRoot = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..');
const cliPath = join(repoRoot, 'dist', 'harness', 'cli.js');

export type Expectation = 'valid' | 'invalid';
export type CellVerdict = ReturnType<typeof verdictOfExitCode>;

export interface CellRun {
  readonly seed: number;
  readonly verdict: CellVerdict;
  readonly exitCode: number;
  /** Wall seconds of the whole run (start, workload, heal, check). */
  readonly seconds: number;
  readonly runDir: string | null;
  /** When the run's first finding became observable, s since its history began (results.json detectedAtMs). */
  readonly detectedAtS: number | null;
  /** The analyses that found something, by name (which one caught the bug). */
  readonly caughtBy: readonly string[];
  /** A progress finding the machine's overload made unknown. */
  readonly starved: boolean;
  /** What the run printed on stderr (its summary), its last lines (harness/gate/diagnosis.ts). */
  readonly summary: string;
}

interface ResultsShape {
  runDir?: string;
  detectedAtMs?: number | null;
  analyses?: { name: string; valid: unknown }[] | null;
}

/** Lines of a run's stderr kept with its CellRun: its summary, with room for a long fault list. */
const summaryLinesKept = 80;

/** The reproduce command of one run. */
export function reproduceCommand(args: readonly string[], seed: number): string {
  return ['npm', 'run', 'jepsen', '--', ...args, '--seed', String(seed)].join(' ');
}

export async function runCell(args: readonly string[], seed: number, store: string, testName: string): Promise<CellRun> {
  const started = performance.now();
  const argv = [cliPath, ...args, '--seed', String(seed), '--store', store, '--test-name', testName, '--json', '--quiet'];
  const child = await execa(process.execPath, argv, { cwd: repoRoot, reject: false, all: false, timeout: 10 * 60_000 });
  const exitCode = typeof child.exitCode === 'number' ? child.exitCode : EXIT.crash;
  let parsed: ResultsShape = {};
  try {
    parsed = JSON.parse(String(child.stdout)) as ResultsShape;
  } catch {
    parsed = {};
  }
  if (exitCode === EXIT.crash || exitCode === EXIT.usage) {
    process.stderr.write(`gate: ${testName} seed ${seed} exited ${exitCode}:\n${String(child.stderr).split('\n').slice(-15).join('\n')}\n`);
  }
  const analyses = parsed.analyses ?? [];
  // No results at all: the harness never reached a verdict (node itself failed to load it, say), whatever its exit code.
  const verdict = parsed.runDir === undefined && exitCode !== EXIT.usage ? 'crashed' : verdictOfExitCode(exitCode);
  return {
    seed,
    verdict,
    exitCode,
    seconds: (performance.now() - started) / 1000,
    runDir: parsed.runDir ?? null,
    detectedAtS: typeof parsed.detectedAtMs === 'number' ? parsed.detectedAtMs / 1000 : null,
    caughtBy: analyses.filter((a) => a.valid === false).map((a) => a.name),
    starved: analyses.some((a) => a.name === 'progress' && a.valid === 'unknown'),
    summary: String(child.stderr).split('\n').slice(-summaryLinesKept).join('\n'),
  };
}

/**
 * The seed of run `attempt` of cell `cellIndex` in a gate invocation whose
 * base seed is `base`: distinct per cell and run, and the same again for the
 * same base (`npm run gate -- --seed BASE` repeats an invocation).
 */
export function cellSeed(base: number, cellIndex: number, attempt: number): number {
  return (Math.imul(base ^ 0x5bd1e995, 0x9e3779b1) + Math.imul(cellIndex + 1, 0x85ebca6b) + attempt * 0x27d4eb2f) >>> 0;
}
