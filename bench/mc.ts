/**
 * `npm run bench -- mc [-- mc flags...]`: the model checker's speed
 * (distinct states per second) and the size of each reduction's effect,
 * measured side by side in one run: the same bounds with every reduction,
 * and with symmetry, the partial-order reduction, dead-message removal and
 * the node-transition memo each switched off in turn, then none; and with
 * the one-step sleep sets (--sleep: the same states, fewer fingerprints).
 * CPU seconds are printed next to wall seconds: on a shared machine they
 * are the fair measure. Each row
 * is an in-process `runModelChecker` (mc/run.ts) with a visited set sized
 * by --max-states; a row whose search did not finish within the states it
 * was given says so (its rate is still the rate).
 *
 * Default bounds: a small space every configuration exhausts in seconds
 * (a put and a read against a leader, one crash). Extra arguments are mc
 * flags appended to every row (e.g. `-- --timeouts 1 --max-states 2000000`).
 */
import { parseOptions } from '../mc/options.js';
import { runModelChecker } from '../mc/run.js';

const DEFAULT_BOUNDS = [
  '--start',
  'leader',
  '--writes',
  '1',
  '--reads',
  '1',
  '--crashes',
  '1',
  '--drops',
  '0',
  '--dups',
  '0',
  '--timeouts',
  '0',
  '--max-states',
  '1000000',
];

const ROWS: readonly (readonly [string, readonly string[]])[] = [
  ['all reductions (POR: unsound)', ['--por']],
  ['default (no POR)', []],
  ['sleep sets (sound)', ['--sleep']],
  ['no symmetry', ['--no-symmetry']],
  ['no dead-message removal', ['--no-dead-messages']],
  ['no memo', ['--no-memo']],
  ['none (no symmetry, no POR)', ['--no-symmetry', '--no-por', '--no-dead-messages']],
];

export async function runMcBench(args: string[]): Promise<void> {
  const base = [...DEFAULT_BOUNDS, ...args.filter((a) => a !== '--')];
  process.stdout.write(`bench mc: ${base.join(' ')}\n`);
  process.stdout.write(
    `${'configuration'.padEnd(30)}${'stopped'.padEnd(14)}${'distinct'.padStart(12)}${'transitions'.padStart(14)}${'wall s'.padStart(9)}${'cpu s'.padStart(8)}${'states/s'.padStart(11)}${'asleep'.padStart(12)}  verdict\n`,
  );
  for (const [label, extra] of ROWS) {
    const options = parseOptions([...base, ...extra, '--quiet', '--out', '/tmp/rift-mc-bench']);
    if (options === 'help') return;
    const lines: string[] = [];
    const r = await runModelChecker(options, (line) => lines.push(line));
    const s = r.result.stats;
    const wallS = r.result.wallMs / 1000;
    const verdict =
      r.result.finding === null ? 'no violation' : `${r.result.finding.violation.property} (${r.counterexampleEvents} events)`;
    process.stdout.write(
      `${label.padEnd(30)}${r.result.stopped.padEnd(14)}${s.distinct.toLocaleString('en-US').padStart(12)}${s.transitions.toLocaleString('en-US').padStart(14)}` +
        `${wallS.toFixed(1).padStart(9)}${(r.cpuMs / 1000).toFixed(1).padStart(8)}${Math.round(s.distinct / Math.max(wallS, 1e-3))
          .toLocaleString('en-US')
          .padStart(11)}${s.slept.toLocaleString('en-US').padStart(12)}  ${verdict}\n`,
    );
  }
}
