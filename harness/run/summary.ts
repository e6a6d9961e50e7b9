/**
 * The summary printed at the end of a run (and appended to harness.log),
 * built from data: the headline and the per-analysis lines come from the
 * run's analyses (analysis.ts), so a second analysis that overrules the
 * first says so in its own words and no text is ever patched afterwards.
 */
import { assertNever } from '../../node/util/assert.js';
import { formatElapsed, percent, type StatsSnapshot } from '../progress.js';
import { evidenceLine, progressText, type FaultEvidence, type ProgressAvailability } from '../../report/evidence.js';
import { mergeAnalyses, type Analysis } from './analysis.js';
import type { RunEnd } from './verdict.js';

/** How the run ended, as far as the summary needs it (RunEnd without the raw checker data). */
export type SummaryEnd = Pick<Extract<RunEnd, { kind: 'analysed' }>, 'kind' | 'analyses'> | Exclude<RunEnd, { kind: 'analysed' }>;

export interface SummaryInput {
  end: SummaryEnd;
  seed: number;
  testName: string;
  runDir: string;
  historyPath: string;
  stats: StatsSnapshot;
  checkMs: number | null;
  finalReadsMissing: readonly string[];
  wallMs: number;
  /** What each fault did (empty without an analysis or without faults). */
  evidence: readonly FaultEvidence[];
  /** Availability over time (null without an analysis). */
  progress: ProgressAvailability | null;
  /** Why the wire monitor did not run, or null. */
  monitorNotRun: string | null;
  /** Whether the machine starved the run (null: not measured). */
  machine: { harnessStalledMs: number; longestHarnessStallMs: number; nodeWaitShare: number | null } | null;
}

/** Fault lines the summary shows before "... N more (results.json)". */
const MAX_FAULT_LINES = 12;

const colours = { green: '\x1b[32m', red: '\x1b[31m', yellow: '\x1b[33m', bold: '\x1b[1m', reset: '\x1b[0m' } as const;

/**
 * The headline: the merged verdict in the words of the first analysis that
 * decided it. When that is not the first analysis (the checker), the first
 * one's own verdict follows in parentheses, so "INVALID" never reads as "the
 * history is not linearizable" when the history was fine.
 */
export function headline(end: SummaryEnd): { text: string; colour: 'green' | 'red' | 'yellow' } {
  switch (end.kind) {
    case 'analysed': {
      const merged = mergeAnalyses(end.analyses);
      const word = merged.valid === true ? 'VALID' : merged.valid === false ? 'INVALID' : 'UNKNOWN';
      const colour = merged.valid === true ? 'green' : merged.valid === false ? 'red' : 'yellow';
      const decisive: Analysis | undefined = merged.decidedBy[0];
      const first: Analysis | undefined = end.analyses[0];
      if (decisive === undefined) return { text: `${word}: nothing was analysed`, colour };
      return { text: `${word}: ${decisive.conclusion}${first !== undefined && first !== decisive ? ` (${first.brief})` : ''}`, colour };
    }
    case 'crashed':
      return { text: 'CRASHED: the run did not complete', colour: 'yellow' };
    case 'interrupted':
      return { text: 'INTERRUPTED: stopped before a verdict', colour: 'yellow' };
    default:
      return assertNever(end, 'run end');
  }
}

export function formatSummary(s: SummaryInput, colour: boolean): string {
  const paint = (c: keyof typeof colours, text: string): string => (colour ? `${colours[c]}${text}${colours.reset}` : text);
  const head = headline(s.end);
  const st = s.stats;
  const lines = [`${paint('bold', paint(head.colour, head.text))}  (test ${s.testName}, seed ${s.seed}, ${formatElapsed(s.wallMs)})`];
  if (s.end.kind !== 'analysed') lines.push(`  error: ${s.end.error}`);
  else for (const a of s.end.analyses) for (const f of a.findings) lines.push(`  ${f}`);
  lines.push(
    `  ops: ${st.byType.invoke} invoked, ${st.byType.ok} ok, ${st.byType.fail} fail, ${st.byType.info} info` +
      ` (${Object.entries(st.byF)
        .map(([f, c]) => `${f} ${c.ok}/${c.invoke}`)
        .join(', ')} ok)`,
  );
  const { faults, healed } = st.phases;
  lines.push(
    `  availability: ${percent(st.overall.availability)} of ops answered overall, ${percent(faults.availability)} during faults (${faults.ops} ops),` +
      ` ${percent(healed.availability)} healed (${healed.ops} ops)`,
  );
  if (s.progress !== null) lines.push(`  availability over time: ${progressText(s.progress)}`);
  if (s.evidence.length > 0) {
    const none = s.evidence.filter((e) => e.noEffect !== null).length;
    lines.push(
      `  faults: ${s.evidence.length}, ${s.evidence.filter((e) => e.hitLeader === true).length} hit the leader, ` +
        `${s.evidence.reduce((n, e) => n + e.elections.length, 0)} elections${none > 0 ? `, ${none} with no observable effect` : ''}`,
    );
    for (const e of s.evidence.slice(0, MAX_FAULT_LINES)) lines.push(`    ${evidenceLine(e)}`);
    if (s.evidence.length > MAX_FAULT_LINES) lines.push(`    ... ${s.evidence.length - MAX_FAULT_LINES} more (results.json)`);
  }
  if (s.monitorNotRun !== null && s.end.kind === 'analysed') lines.push(`  wire monitor: ${s.monitorNotRun}`);
  if (s.machine !== null && (s.machine.longestHarnessStallMs > 100 || (s.machine.nodeWaitShare ?? 0) > 0.1)) {
    lines.push(
      `  machine: the harness (relay and clients) stalled ${formatElapsed(s.machine.harnessStalledMs)} in all (longest ${formatElapsed(s.machine.longestHarnessStallMs)})` +
        `${s.machine.nodeWaitShare === null ? '' : `; the nodes waited for a CPU ${percent(s.machine.nodeWaitShare)} of the time`}`,
    );
  }
  const missing = s.finalReadsMissing;
  if (missing.length > 0) lines.push(`  final reads: no ok read of ${missing.length} key(s): ${missing.slice(0, 10).join(', ')}`);
  if (s.checkMs !== null) lines.push(`  checker: ${formatElapsed(s.checkMs)}`);
  lines.push(`  files: ${s.runDir}`);
  lines.push(`  re-check: npm run check -- ${s.historyPath}`);
  return lines.join('\n');
}
