/**
 * The disk-recovery analysis: every node the disk nemesis restarted on a
 * log with a flipped bit in a durable frame must have refused to start
 * (exit 3). The nemesis records each hit's damage and outcome in the
 * history (harness/nemesis/kinds/disk.ts); a node that started on such a
 * log accepted or dropped data that was durable and may have been
 * acknowledged (a vote, an entry). The other analyses see that only when
 * what was lost shows later (a vote granted twice on the wire, a read that
 * misses a write), which a run of a few seconds often does not reach: a
 * recovery that dropped a durable frame as torn passed the harness until
 * this analysis.
 */
import type { HistoryOp } from '../../checker/types.js';
import { REFUSAL_REQUIRED } from '../nemesis/kinds/disk.js';
import { boundFindings, type Analysis } from './analysis.js';

interface Accepted {
  readonly node: string;
  readonly done: string;
  readonly offset: unknown;
  readonly atMs: number;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Hits in a disk op's value: `results` maps node ids to hits (start-disk,
 * and a voter trap's first hit), `voterBounces` lists the trap's hits, each
 * with its `node` (stop-disk).
 */
function acceptedHits(value: unknown, atMs: number, out: Accepted[]): void {
  if (!isRecord(value)) return;
  const check = (node: string, hit: unknown): void => {
    if (!isRecord(hit)) return;
    const done = hit['done'];
    if (typeof done === 'string' && (REFUSAL_REQUIRED as readonly string[]).includes(done) && hit['outcome'] === 'started')
      out.push({ node, done, offset: hit['offset'], atMs });
  };
  const results = value['results'];
  if (isRecord(results)) for (const [node, hit] of Object.entries(results)) check(node, hit);
  const bounces = value['voterBounces'];
  if (Array.isArray(bounces)) for (const b of bounces) if (isRecord(b) && typeof b['node'] === 'string') check(b['node'], b);
}

/** null when the run had no disk faults (no analysis to show). */
export function diskRecoveryAnalysis(history: readonly HistoryOp[]): Analysis | null {
  const diskOps = history.filter((o) => o.process === 'nemesis' && o.type !== 'invoke' && (o.f === 'start-disk' || o.f === 'stop-disk'));
  // A run without the disk kind may still record its stop in the final heal: the analysis is for runs that damaged a disk.
  if (!diskOps.some((o) => o.f === 'start-disk')) return null;
  const accepted: Accepted[] = [];
  for (const o of diskOps) acceptedHits(o.value, (o.time ?? 0) / 1e6, accepted);
  if (accepted.length === 0) {
    return {
      name: 'disk-recovery',
      valid: true,
      conclusion: 'every node with a flipped bit in a durable frame refused to start',
      brief: 'disk: every flipped log refused',
      findings: [],
    };
  }
  return {
    name: 'disk-recovery',
    valid: false,
    firstFindingAtMs: Math.min(...accepted.map((a) => a.atMs)),
    conclusion: 'a node started on a log with a flipped bit in a durable frame',
    brief: `disk: ${accepted.length} flipped log${accepted.length === 1 ? '' : 's'} accepted`,
    findings: boundFindings(
      accepted.map(
        (a) =>
          `disk-recovery: ${a.node} started on its log after ${a.done} (byte ${String(a.offset)}): a correct node refuses (exit 3); ` +
          'it took or dropped data that was durable',
      ),
      (left) => `disk-recovery: ... ${left} more (results.json)`,
    ),
  };
}
