/**
 * The disk-recovery analysis: every node the disk nemesis restarted on a
 * log with a flipped bit in a durable frame must have refused to start
 * (exit 3), and every node restarted on a log with only a torn tail must
 * have started. The nemesis records each hit's damage and outcome in the
 * history (harness/nemesis/kinds/disk.ts); a node that started on a flipped
 * log accepted or dropped data that was durable and may have been
 * acknowledged (a vote, an entry); one that refused a torn tail stays down
 * for nothing (the nemesis gives it its log back when the fault stops, so
 * no other analysis sees it). The other analyses see that only when
 * what was lost shows later (a vote granted twice on the wire, a read that
 * misses a write), which a run of a few seconds often does not reach: a
 * recovery that dropped a durable frame as torn passed the harness until
 * this analysis.
 */
import type { HistoryOp } from '../../checker/types.js';
import { isRecord } from '../../node/transport/validate.js';
import { REFUSAL_REQUIRED, START_REQUIRED } from '../nemesis/kinds/disk.js';
import { boundFindings, type Analysis } from './analysis.js';

interface Wrong {
  readonly node: string;
  readonly done: string;
  /** What it did: started on a flipped log, or refused a torn tail. */
  readonly did: 'started' | 'refused';
  readonly offset: unknown;
  readonly atMs: number;
}

/**
 * Hits in a disk op's value: `results` maps node ids to hits (start-disk,
 * and a voter trap's first hit), `voterBounces` lists the trap's hits, each
 * with its `node` (stop-disk).
 */
function wrongHits(value: unknown, atMs: number, out: Wrong[]): void {
  if (!isRecord(value)) return;
  const check = (node: string, hit: unknown): void => {
    if (!isRecord(hit)) return;
    const done = hit['done'];
    if (typeof done !== 'string') return;
    if ((REFUSAL_REQUIRED as readonly string[]).includes(done) && hit['outcome'] === 'started')
      out.push({ node, done, did: 'started', offset: hit['offset'], atMs });
    if ((START_REQUIRED as readonly string[]).includes(done) && hit['outcome'] === 'refused')
      out.push({ node, done, did: 'refused', offset: hit['offset'], atMs });
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
  const wrong: Wrong[] = [];
  for (const o of diskOps) wrongHits(o.value, (o.time ?? 0) / 1e6, wrong);
  if (wrong.length === 0) {
    return {
      name: 'disk-recovery',
      valid: true,
      conclusion: 'every node with a flipped bit in a durable frame refused to start, and every torn tail was cut off',
      brief: 'disk: recoveries as they must be',
      findings: [],
    };
  }
  const started = wrong.filter((w) => w.did === 'started').length;
  return {
    name: 'disk-recovery',
    valid: false,
    firstFindingAtMs: Math.min(...wrong.map((w) => w.atMs)),
    conclusion:
      started > 0
        ? 'a node started on a log with a flipped bit in a durable frame'
        : 'a node refused to start on a log with only a torn tail',
    brief: `disk: ${wrong.length} wrong recover${wrong.length === 1 ? 'y' : 'ies'}`,
    findings: boundFindings(
      wrong.map((w) =>
        w.did === 'started'
          ? `disk-recovery: ${w.node} started on its log after ${w.done} (byte ${String(w.offset)}): a correct node refuses (exit 3); ` +
            'it took or dropped data that was durable'
          : `disk-recovery: ${w.node} refused to start after ${w.done} (at byte ${String(w.offset)}): the remains of an append never ` +
            'acknowledged; a correct node cuts them off and starts',
      ),
      (left) => `disk-recovery: ... ${left} more (results.json)`,
    ),
  };
}
