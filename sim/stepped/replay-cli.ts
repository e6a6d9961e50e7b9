/**
 * `npm run sim -- --replay FILE`: replays a stepped trace (a model-checker
 * counterexample, mc/) and prints its steps and verdict. Exit codes as the
 * simulator's (checker/exit-codes.ts): 0 no violation, 1 a violation, 254
 * an unreadable or malformed file.
 */
import { readFileSync } from 'node:fs';
import { EXIT } from '../../checker/exit-codes.js';
import { replayTrace } from './replay.js';
import { TraceFormatError, parseTrace } from './trace.js';

export function runReplay(file: string, quiet: boolean): void {
  let trace;
  try {
    trace = parseTrace(JSON.parse(readFileSync(file, 'utf8')));
  } catch (error) {
    const why =
      error instanceof TraceFormatError || error instanceof SyntaxError || (error as NodeJS.ErrnoException).code !== undefined
        ? (error as Error).message
        : String(error);
    process.stderr.write(`rift-sim: cannot replay ${file}: ${why}\n`);
    process.exitCode = EXIT.usage;
    return;
  }
  const report = replayTrace(trace);
  process.stdout.write(
    `rift-sim: replaying ${file}: ${trace.params.nodeCount} nodes, ${report.steps} events, ${trace.ops.length} client operation(s)\n`,
  );
  if (trace.finding !== undefined) process.stdout.write(`written for: ${trace.finding.property}: ${trace.finding.message}\n`);
  if (!quiet) process.stdout.write(`${report.lines.join('\n')}\n`);
  if (report.violations.length === 0) {
    process.stdout.write('no violation\n');
    return;
  }
  process.stdout.write(`VIOLATION (${report.violations.length}):\n`);
  for (const v of report.violations) process.stdout.write(`  at step ${v.step} [${v.kind}] ${v.message}\n`);
  process.exitCode = EXIT.invalid;
}
