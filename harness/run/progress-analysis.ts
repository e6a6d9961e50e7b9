/**
 * The progress analysis (issue 20; Jepsen's stats checker, where every f
 * needs some ok): a run whose system stopped serving is not valid, however
 * linearizable its few completed ops are. A correct Raft cluster elects a
 * leader within a few election timeouts once its faults are healed (§5.2:
 * randomized timeouts make split votes rare), so progress is judged against
 * a bound stated in election timeouts:
 *
 * - no leader within the leader wait after the final heal: invalid;
 * - a key never read ok by the final reads: invalid (its last write may be
 *   lost, and the cluster did not serve a read of it for the whole budget);
 * - the first ok final read later than the bound after the final heal:
 *   invalid;
 * - a node that has not caught up with the leader's commit index within
 *   CATCH_UP_MS of the final reads (a follower that lost its log's tail must
 *   be brought back by the leader: issue 15 defect 4): invalid;
 * - while no fault was in force during the workload, a gap between ok ops
 *   longer than the bound (counting from the heal that began the stretch):
 *   invalid. A node that stops serving after its first fault fails here.
 *
 * The bound: RECOVERY_ELECTION_TIMEOUTS election timeouts (the maximum of
 * the range), and never less than two client op timeouts (a client whose op
 * went to a dead node waits that long before it tries another) nor ten
 * inter-op intervals at a low --rate.
 *
 * A finding whose window the machine starved (starvation.ts: the harness,
 * which carries every peer datagram, stalled, or the nodes waited for a CPU,
 * a quarter of the window or more) cannot be blamed on the system: it makes
 * the analysis unknown, with the measurement, instead of invalid.
 */
import type { Analysis } from './analysis.js';
import { boundFindings } from './analysis.js';
import type { FinalReads } from './context.js';
import { longestGapMs } from './evidence.js';
import { seconds } from '../../report/evidence.js';
import type { Overload } from './starvation.js';

/** Election timeouts a healed cluster may take to complete an op again. */
export const RECOVERY_ELECTION_TIMEOUTS = 10;

export interface ProgressBound {
  readonly ms: number;
  /** How the bound reads in a finding ("3.00 s = 10 election timeouts of 300 ms"). */
  readonly text: string;
  readonly electionTimeoutMaxMs: number;
}

export function recoveryBound(electionTimeoutMaxMs: number, opTimeoutMs: number, ratePerS: number): ProgressBound {
  const byElections = RECOVERY_ELECTION_TIMEOUTS * electionTimeoutMaxMs;
  const ms = Math.max(byElections, 2 * opTimeoutMs, 10_000 / ratePerS);
  const why =
    ms === byElections
      ? `${RECOVERY_ELECTION_TIMEOUTS} election timeouts of ${electionTimeoutMaxMs} ms`
      : `${(ms / electionTimeoutMaxMs).toFixed(1)} election timeouts, set by ${ms === 2 * opTimeoutMs ? 'two client op timeouts' : 'the op rate'}`;
  return { ms, text: `${seconds(ms)} (${why})`, electionTimeoutMaxMs };
}

export interface ProgressInput {
  readonly bound: ProgressBound;
  /** Sorted ok completion times, ms since the history began. */
  readonly oks: readonly number[];
  /** Stretches of the workload with no fault in force: [fromMs, toMs]. */
  readonly healedStretches: readonly (readonly [number, number])[];
  /** The final heal: when it ended (ms since the history began), the leader found after it (null: none within leaderWaitMs). */
  readonly heal: { readonly endedAtMs: number; readonly leader: string | null; readonly leaderWaitMs: number } | null;
  readonly finalReads: FinalReads | null;
  /** The first ok final read, ms since the history began (null: none). */
  readonly firstFinalOkMs: number | null;
  readonly finalReadsBudgetMs: number;
  /** Every node's catch-up after the final reads (null: not checked), and when the check ended (ms since the history began). */
  readonly catchUp?: {
    readonly target: number | null;
    readonly laggards: readonly { readonly node: string; readonly commitIndex: number | null; readonly startCommitIndex?: number | null }[];
    readonly waitedMs: number;
  } | null;
  /** Whether the machine starved the run during a window (null: it did not, or it was not measured). */
  readonly overloaded: (fromMs: number, toMs: number) => Overload | null;
}

/**
 * A node stuck behind the leader is excused by a starved machine only when the harness ran less than this much of the
 * window: a correct leader repairs a follower in a few round trips through the relay (a few heartbeats, well under 1 s),
 * so 2 s of a running relay leave a wide margin. Measured (issue 15 defect 4, at load 25-30): the harness stalled 7-13 s of
 * the 15 s catch-up wait while the stuck followers stayed at commit index 0.
 */
export const STUCK_EXCUSE_RUNNING_MS = 2000;

interface Finding {
  readonly text: string;
  readonly fromMs: number;
  readonly toMs: number;
  /**
   * A stuck node (it answered status polls for the whole window but its commit index never moved): a starved machine
   * excuses it only if the harness, whose relay carries every datagram the node needs, ran less than STUCK_EXCUSE_RUNNING_MS
   * of the window. Nodes waiting for a CPU, or a harness that stalled part of the time, make a node slow, not stuck.
   */
  readonly stuck?: boolean;
}

/** The complement of the (possibly overlapping) fault intervals within [0, endMs]. */
export function healedStretches(faults: readonly { readonly fromMs: number; readonly toMs: number }[], endMs: number): [number, number][] {
  const sorted = [...faults].sort((a, b) => a.fromMs - b.fromMs);
  const out: [number, number][] = [];
  let at = 0;
  for (const f of sorted) {
    if (f.fromMs > at) out.push([at, Math.min(f.fromMs, endMs)]);
    at = Math.max(at, f.toMs);
    if (at >= endMs) break;
  }
  if (at < endMs) out.push([at, endMs]);
  return out.filter(([a, b]) => b > a);
}

export function progressAnalysis(input: ProgressInput): Analysis {
  const { bound } = input;
  const et = (ms: number): string => `${(ms / bound.electionTimeoutMaxMs).toFixed(1)} election timeouts`;
  const found: Finding[] = [];
  const heal = input.heal;
  if (heal !== null && heal.leader === null) {
    found.push({
      text: `progress: no leader within ${seconds(heal.leaderWaitMs)} (${et(heal.leaderWaitMs)}) of the final heal`,
      fromMs: heal.endedAtMs,
      toMs: heal.endedAtMs + heal.leaderWaitMs,
    });
  }
  const missing = input.finalReads?.missing ?? [];
  if (missing.length > 0 && heal !== null) {
    found.push({
      text: `progress: ${missing.length} key(s) never read ok in the ${seconds(input.finalReadsBudgetMs)} after the heal: ${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ' ...' : ''}`,
      fromMs: heal.endedAtMs,
      toMs: heal.endedAtMs + heal.leaderWaitMs + input.finalReadsBudgetMs,
    });
  }
  if (heal !== null && heal.leader !== null && input.finalReads !== null && input.finalReads.keys > 0 && input.firstFinalOkMs !== null) {
    const wait = input.firstFinalOkMs - heal.endedAtMs;
    if (wait > bound.ms) {
      found.push({
        text: `progress: the first final read completed ${seconds(wait)} (${et(wait)}) after the heal, over the bound of ${bound.text}`,
        fromMs: heal.endedAtMs,
        toMs: input.firstFinalOkMs,
      });
    }
  }
  const catchUp = input.catchUp;
  if (catchUp !== undefined && catchUp !== null && catchUp.target !== null && catchUp.laggards.length > 0 && heal !== null) {
    // A laggard that answered at both ends of the wait with the same commit index never moved: stuck (issue 15 defect 4).
    const stuck = (l: (typeof catchUp.laggards)[number]): boolean =>
      l.commitIndex !== null && l.startCommitIndex !== undefined && l.startCommitIndex === l.commitIndex;
    for (const group of [catchUp.laggards.filter((l) => !stuck(l)), catchUp.laggards.filter(stuck)]) {
      if (group.length === 0) continue;
      const isStuck = stuck(group[0]!);
      found.push({
        text:
          `progress: ${group.map((l) => `${l.node} (commit index ${l.commitIndex ?? 'no answer'})`).join(', ')} never caught up with the ` +
          `leader's commit index ${catchUp.target} in the ${seconds(catchUp.waitedMs)} after the final reads` +
          (isStuck ? ` (${group.length === 1 ? 'its commit index' : 'their commit indexes'} did not move)` : ''),
        fromMs: heal.endedAtMs,
        toMs: heal.endedAtMs + catchUp.waitedMs,
        ...(isStuck ? { stuck: true } : {}),
      });
    }
  }
  for (const [fromMs, toMs] of input.healedStretches) {
    if (toMs - fromMs <= bound.ms) continue;
    const gap = longestGapMs(input.oks, fromMs, toMs);
    if (gap.ms > bound.ms) {
      found.push({
        text:
          `progress: no ok op for ${seconds(gap.ms)} (${et(gap.ms)}) from ${seconds(gap.atMs)} while no fault was in force ` +
          `(${seconds(fromMs)}-${seconds(toMs)}), over the bound of ${bound.text}`,
        fromMs: gap.atMs,
        toMs: gap.atMs + gap.ms,
      });
    }
  }
  const blamed: string[] = [];
  const starved: string[] = [];
  let firstBlamedMs: number | null = null;
  for (const f of found) {
    const over = input.overloaded(f.fromMs, f.toMs);
    const o = over !== null && f.stuck === true && f.toMs - f.fromMs - over.harnessStalledMs >= STUCK_EXCUSE_RUNNING_MS ? null : over;
    if (o === null) {
      blamed.push(f.text);
      firstBlamedMs = firstBlamedMs === null ? f.fromMs : Math.min(firstBlamedMs, f.fromMs);
    } else
      starved.push(
        `${f.text}; but the machine starved the run then (the harness, which carries every datagram, stalled ` +
          `${seconds(o.harnessStalledMs)} of it${o.nodeWaitShare === null ? '' : `, the nodes waited for a CPU ${(o.nodeWaitShare * 100).toFixed(0)}% of it`})`,
      );
  }
  if (blamed.length === 0 && starved.length === 0) {
    return {
      name: 'progress',
      valid: true,
      conclusion: 'the cluster made progress whenever no fault was in force',
      brief: 'progress: ok',
      findings: [],
    };
  }
  const findings = boundFindings([...blamed, ...starved], (left) => `progress: ... ${left} more (results.json)`);
  if (blamed.length === 0) {
    return {
      name: 'progress',
      valid: 'unknown',
      conclusion: 'the cluster stalled with no fault in force while the machine starved the run',
      brief: `progress: unknown (machine overloaded)`,
      findings,
    };
  }
  return {
    name: 'progress',
    valid: false,
    conclusion: 'the cluster stopped making progress with no fault in force',
    brief: `progress: ${blamed.length} finding${blamed.length === 1 ? '' : 's'}`,
    findings,
    ...(firstBlamedMs !== null ? { firstFindingAtMs: firstBlamedMs } : {}),
  };
}
