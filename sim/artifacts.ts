/**
 * Failure artefacts: for a failing scenario, a directory under
 * histories/sim/ (git-ignored) with the client history (JSON Lines, the
 * shared format, readable by `npm run check`), the full event trace, the
 * scenario as JSON and a summary with the replay command.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeViolations, judge, type Judged } from './property.js';
import type { Scenario, SimOptions } from './scenario.js';

export interface ArtifactInfo {
  readonly dir: string;
  readonly replay: string;
  readonly judged: Judged;
}

export function replayCommand(seed: number, path: string | null, unsafeName: string | null, extra: readonly string[] = []): string {
  const parts = ['npm run sim --', '--seed', String(seed)];
  if (path !== null) parts.push('--path', path);
  if (unsafeName !== null) parts.push('--unsafe', unsafeName);
  parts.push(...extra);
  return parts.join(' ');
}

/** Re-runs the scenario with every trace line kept and writes the artefacts. */
export async function writeArtifacts(
  outDir: string,
  scenario: Scenario,
  options: SimOptions,
  label: { seed: number; path: string | null; unsafeName: string | null; extraArgs?: readonly string[] },
): Promise<ArtifactInfo> {
  const judged = await judge(scenario, { ...options, traceLines: true });
  const name = `${label.seed}-${(label.path ?? 'run').replace(/[^0-9:]/g, '').replace(/:/g, '_') || 'run'}${label.unsafeName === null ? '' : `-${label.unsafeName}`}`;
  const dir = join(outDir, name);
  mkdirSync(dir, { recursive: true });
  const replay = replayCommand(label.seed, label.path, label.unsafeName, label.extraArgs ?? []);
  writeFileSync(join(dir, 'history.jsonl'), judged.sim.history.map((op) => JSON.stringify(op)).join('\n') + '\n');
  writeFileSync(join(dir, 'trace.log'), judged.sim.trace.join('\n') + '\n');
  writeFileSync(join(dir, 'scenario.json'), JSON.stringify({ scenario, options: { ...options, traceLines: false } }, null, 2) + '\n');
  const summary = [
    `replay: ${replay}`,
    `trace hash: ${judged.sim.traceHash}`,
    `stats: ${JSON.stringify(judged.sim.stats)}`,
    `violations (${judged.violations.length}):`,
    describeViolations(judged.violations),
    '',
  ].join('\n');
  writeFileSync(join(dir, 'summary.txt'), summary);
  return { dir, replay, judged };
}
