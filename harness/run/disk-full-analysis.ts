/**
 * The disk-full analysis: every node whose disk the disk-full nemesis filled
 * must, while full, stop with exit 7 (NODE_EXIT.diskFailed: "free space,
 * then restart me") or ride it out, and must start again on its own data once
 * the disk has room. The nemesis records how each node fared in its stop ops
 * and its final-heal step (harness/nemesis/kinds/disk-full.ts); this reads
 * them. Another exit (3, "corrupt storage, replace the node", on a disk that
 * is only full; 1, a crash) or a node that does not come back is a finding:
 * the other analyses would see it only as a replica missing at the end, or
 * not at all.
 *
 * Beside the nodes' exits, each filled node's log as its data directory
 * holds it after the run (unreadableLogs): a correct node's log always
 * replays (a torn tail at most, which recovery drops), so a node that would
 * refuse its own log at its next start is found though nothing restarted it.
 * A node that carried on after a failed write leaves a hole there.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { HistoryOp } from '../../checker/types.js';
import { LOG_FILE_NAME } from '../../node/storage/file-storage.js';
import { replayLog } from '../../node/storage/replay.js';
import { StorageCorruptionError } from '../../node/storage/storage.js';
import { isRecord } from '../../node/transport/validate.js';
import { WRONG_OUTCOMES } from '../nemesis/kinds/disk-full.js';
import { boundFindings, type Analysis } from './analysis.js';

interface Wrong {
  readonly node: string;
  readonly outcome: string;
  readonly exit: unknown;
  readonly error: unknown;
  readonly atMs: number;
}

/** A filled node whose log, after the run, does not replay. */
export interface UnreadableLog {
  readonly node: string;
  readonly reason: string;
}

/** The nodes whose disks a start-disk-full filled (its completion's results with a ballast). */
export function filledNodes(history: readonly HistoryOp[]): string[] {
  const nodes = new Set<string>();
  for (const o of history) {
    if (o.process !== 'nemesis' || o.type === 'invoke' || o.f !== 'start-disk-full' || !isRecord(o.value)) continue;
    const results = o.value['results'];
    if (isRecord(results))
      for (const [node, r] of Object.entries(results)) if (isRecord(r) && typeof r['ballastBytes'] === 'number') nodes.add(node);
  }
  return [...nodes].sort();
}

/**
 * Replays the log of every filled node from its data directory (`dataDirOf`,
 * on this machine) as recovery would at its next start; the ones it would
 * refuse, with why. A missing log is no finding (a node that never wrote).
 */
export async function unreadableLogs(history: readonly HistoryOp[], dataDirOf: (node: string) => string): Promise<UnreadableLog[]> {
  const out: UnreadableLog[] = [];
  for (const node of filledNodes(history)) {
    const file = join(dataDirOf(node), LOG_FILE_NAME);
    let buf: Buffer;
    try {
      buf = await readFile(file);
    } catch {
      continue;
    }
    try {
      replayLog(buf, file);
    } catch (err) {
      if (!(err instanceof StorageCorruptionError)) throw err;
      out.push({ node, reason: err.message.slice(0, 300) });
    }
  }
  return out;
}

/** null when the run filled no disk. */
export function diskFullAnalysis(history: readonly HistoryOp[], unreadable: readonly UnreadableLog[] = []): Analysis | null {
  const ops = history.filter(
    (o) => o.process === 'nemesis' && o.type !== 'invoke' && (o.f === 'start-disk-full' || o.f === 'stop-disk-full'),
  );
  // Every run records the stop in its final heal: the analysis is for runs that filled a disk.
  if (!ops.some((o) => o.f === 'start-disk-full')) return null;
  const wrong: Wrong[] = [];
  let exited7 = 0;
  for (const o of ops) {
    if (o.f !== 'stop-disk-full' || !isRecord(o.value) || !isRecord(o.value['results'])) continue;
    for (const [node, r] of Object.entries(o.value['results'])) {
      if (!isRecord(r) || typeof r['outcome'] !== 'string') continue;
      if (r['outcome'] === 'exited-7') exited7++;
      if ((WRONG_OUTCOMES as readonly string[]).includes(r['outcome']))
        wrong.push({ node, outcome: r['outcome'], exit: r['exit'], error: r['error'], atMs: (o.time ?? 0) / 1e6 });
    }
  }
  if (wrong.length === 0 && unreadable.length === 0) {
    return {
      name: 'disk-full',
      valid: true,
      conclusion: `every node on a full disk stopped with exit 7 or rode it out, and came back (${exited7} exit${exited7 === 1 ? '' : 's'} 7)`,
      brief: `disk-full: ${exited7} node stop${exited7 === 1 ? '' : 's'} with exit 7, all back`,
      findings: [],
    };
  }
  const exitFindings = wrong.map((w) =>
    w.outcome === 'wrong-exit'
      ? `disk-full: ${w.node} exited with code ${String(w.exit)} after its disk was filled: a correct node exits 7 ` +
        '(the disk refused a write: free space and restart), never 3 (corrupt) nor 1 (a crash)'
      : `disk-full: ${w.node} did not start again once its disk had room (exit ${String(w.exit)}): ${String(w.error)}`,
  );
  const logFindings = unreadable.map(
    (u) => `disk-full: ${u.node}'s log after the run would be refused at its next start (a correct node's log always replays): ${u.reason}`,
  );
  return {
    name: 'disk-full',
    valid: false,
    ...(wrong.length > 0 ? { firstFindingAtMs: Math.min(...wrong.map((w) => w.atMs)) } : {}),
    conclusion: wrong.some((w) => w.outcome === 'wrong-exit')
      ? 'a node on a full disk exited with another code than 7 (disk failed)'
      : wrong.length > 0
        ? 'a node that stopped on a full disk did not come back once it had room'
        : 'a node whose disk was filled left a log it would refuse at its next start',
    brief:
      wrong.length > 0
        ? `disk-full: ${wrong.length} node${wrong.length === 1 ? '' : 's'} mishandled a full disk`
        : `disk-full: ${unreadable.length} log${unreadable.length === 1 ? '' : 's'} left unreadable`,
    findings: boundFindings([...exitFindings, ...logFindings], (left) => `disk-full: ... ${left} more (results.json)`),
  };
}
