/**
 * What a gate line says about a correct cell that failed: the run's own
 * summary (its faults and elections, as `npm run jepsen` prints it) and,
 * when the checker found the history not linearizable, the checker's
 * minimal failing sub-history. Why: CI keeps only the gate's output, not
 * the run's store, and a correct cell that fails rarely may not fail again
 * on the same seed (its timing is the machine's: correct/membership-cut
 * failed once in CI, then 147 runs here, its seed among them, were valid);
 * without these lines such a failure cannot be studied at all.
 */
import { execa } from 'execa';
import { join } from 'node:path';
import type { CellRun } from './run-cell.js';
import { repoRoot } from './run-cell.js';

/** Lines kept of each part: enough for a minimal sub-history and a run's fault list, bounded for a CI log. */
export const diagnosisLinesMax = 40;

function indent(lines: readonly string[]): string {
  return lines.map((l) => `        | ${l}\n`).join('');
}

/** The lines to print under a failed correct cell's run (empty when there is nothing to add); `root` holds dist/. */
export async function diagnosis(run: CellRun, root: string = repoRoot): Promise<string> {
  let out = '';
  const summary = run.summary.split('\n').filter((l) => l.trim() !== '');
  if (summary.length > 0) out += indent(summary.slice(0, diagnosisLinesMax));
  if (run.verdict === 'invalid' && run.runDir !== null && run.caughtBy.includes('linearizability')) {
    const check = await execa(process.execPath, [join(root, 'dist', 'checker', 'rift-check.js'), join(run.runDir, 'history.jsonl')], {
      cwd: root,
      reject: false,
      timeout: 120_000,
    });
    const lines = String(check.stdout)
      .split('\n')
      .filter((l) => l.trim() !== '');
    out += indent(lines.slice(0, diagnosisLinesMax));
  }
  return out;
}
