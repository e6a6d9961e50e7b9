/**
 * harness/gate/diagnosis.ts: a correct cell's failure is printed with the
 * run's summary and the checker's minimal failing sub-history, since CI
 * keeps only the gate's output (seen: correct/membership-cut failed once in
 * CI and did not fail again on its seed).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { diagnosis } from '../../../harness/gate/diagnosis.js';
import type { CellRun } from '../../../harness/gate/run-cell.js';
import { ensureBuilt, repoRoot } from '../../support/build.js';
import { tempDir } from '../temp-dirs.js';

function run(runDir: string | null, verdict: CellRun['verdict'], caughtBy: string[]): CellRun {
  return {
    seed: 7,
    verdict,
    exitCode: verdict === 'invalid' ? 1 : 0,
    seconds: 1,
    runDir,
    detectedAtS: null,
    caughtBy,
    starved: false,
    summary: 'INVALID: the history is not linearizable\n\n  faults: 1, 1 hit the leader\n',
  };
}

describe('gate diagnosis of a failed correct cell', () => {
  it("prints the run's summary and the checker's minimal failing sub-history, indented", async () => {
    ensureBuilt();
    const dir = tempDir('rift-gate-diagnosis-');
    // A stale read: write 1 completes, then a read that starts afterwards returns null.
    const ops = [
      { index: 0, time: 1, process: 0, type: 'invoke', f: 'write', key: 'k1', value: 1 },
      { index: 1, time: 2, process: 0, type: 'ok', f: 'write', key: 'k1', value: 1 },
      { index: 2, time: 3, process: 1, type: 'invoke', f: 'read', key: 'k1', value: null },
      { index: 3, time: 4, process: 1, type: 'ok', f: 'read', key: 'k1', value: null },
    ];
    writeFileSync(join(dir, 'history.jsonl'), ops.map((o) => JSON.stringify(o)).join('\n') + '\n');
    const text = await diagnosis(run(dir, 'invalid', ['linearizability']), repoRoot);
    const lines = text.split('\n').filter((l) => l !== '');
    expect(lines.every((l) => l.startsWith('        | '))).toBe(true);
    expect(text).toContain('| INVALID: the history is not linearizable');
    expect(text).toContain('|   faults: 1, 1 hit the leader');
    expect(text).toMatch(/key "k1": not linearizable/);
    expect(text).toMatch(/minimal failing sub-history: 2 ops/);
    expect(text).toMatch(/cannot linearize: read -> null/);
  }, 60_000);

  it('a failure the checker did not find (a crash, a wire-monitor finding) prints the summary alone', async () => {
    const text = await diagnosis(run(null, 'crashed', []), repoRoot);
    expect(text).toContain('| INVALID: the history is not linearizable');
    expect(text).not.toMatch(/minimal failing/);
  });
});
