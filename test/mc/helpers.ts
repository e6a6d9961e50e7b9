/** Runs the model checker in-process on command-line flags (the same parser as `npm run mc`), quietly, writing traces to a temp dir. */
import { tempDir } from '../harness/temp-dirs.js';
import { parseOptions, type McOptions } from '../../mc/options.js';
import { runModelChecker, type RunReport } from '../../mc/run.js';

export interface Checked extends RunReport {
  readonly lines: readonly string[];
}

export function optionsOf(args: readonly string[]): McOptions {
  const parsed = parseOptions([...args, '--quiet', '--max-states', '2000000', '--out', tempDir('rift-mc-')]);
  if (parsed === 'help') throw new Error('unexpected --help');
  return parsed;
}

export async function check(args: readonly string[]): Promise<Checked> {
  const lines: string[] = [];
  const report = await runModelChecker(optionsOf(args), (line) => lines.push(line));
  // The figures a reader of the test log wants (bounds, states, time): the summary line.
  console.log(`mc ${args.join(' ')}\n  ${lines.find((l) => l.startsWith('summary:')) ?? '(no summary)'}`);
  return { ...report, lines };
}
