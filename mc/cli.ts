/**
 * `npm run mc`: exhaustive, bounded model checking of the real Raft core
 * (mc/README.md; every option: `npm run mc -- --help`, mc/options.ts).
 * Exit codes (checker/exit-codes.ts): 0 no violation in the explored
 * space, 1 violation, 2 unknown (the search stopped before covering the
 * bounded space: visited set full), 254 bad arguments, 255 internal error.
 */
import { writeFileSync } from 'node:fs';
import { EXIT } from '../checker/exit-codes.js';
import { OptionError, USAGE, parseOptions, type McOptions } from './options.js';
import { runModelChecker } from './run.js';
import { keepRunningWhenReaderCloses } from '../node/util/closed-pipe.js';

async function main(): Promise<void> {
  let options: McOptions | 'help';
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    if (error instanceof OptionError) {
      process.stderr.write(`rift-mc: ${error.message}\n\n${USAGE()}\n`);
      process.exitCode = EXIT.usage;
      return;
    }
    throw error;
  }
  if (options === 'help') {
    process.stdout.write(`${USAGE()}\n`);
    return;
  }
  const report = await runModelChecker(options, (line) => process.stdout.write(`${line}\n`));
  if (options.json !== null) {
    const r = report.result;
    writeFileSync(
      options.json,
      `${JSON.stringify({ stopped: r.stopped, complete: report.complete, ...r.stats, wallMs: Math.round(r.wallMs), cpuMs: Math.round(report.cpuMs), peakRssBytes: report.peakRssBytes, violation: r.finding?.violation ?? null, counterexampleEvents: report.counterexampleEvents, traceFile: report.traceFile, replayConfirmed: report.replayConfirmed, flagsNeeded: report.flagsNeeded }, null, 1)}\n`,
    );
  }
  process.exitCode = report.result.finding !== null ? EXIT.invalid : report.complete ? EXIT.valid : EXIT.unknown;
}

keepRunningWhenReaderCloses();
main().catch((error: unknown) => {
  process.stderr.write(`rift-mc: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(EXIT.crash);
});
