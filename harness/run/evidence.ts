/**
 * What each fault did (issue 20: "every run shows its faults took effect"):
 * for every fault interval of the history, the leader and term before and
 * after, the elections seen and how long the cluster was leaderless, the
 * nodes that could not be reached, what happened to datagrams on each link,
 * the processes killed, restarted and stopped (with pids, the stop confirmed
 * by the kernel), the longest time without an ok op and the info ops it
 * caused. A fault with no observable effect says so, with the reason where
 * one is known (a clock bump: the node keeps time on a monotonic clock).
 *
 * Built after the run from the history (the fault intervals and the client
 * ops), the cluster watch (who led when, who answered) and the relay's
 * per-link counters at each nemesis op. The report draws it (report/evidence.ts).
 */
import type { HistoryOp } from '../../checker/types.js';
import { assertNever } from '../../node/util/assert.js';
import type {
  DatagramEffect,
  ElectionSeen,
  FaultEvidence,
  LeaderTerm,
  LinkEffect,
  ProcessEffect,
  ProcessRef,
} from '../../report/evidence.js';
import { seconds } from '../../report/evidence.js';
import { nemesisIntervals, type FaultInterval } from '../../report/nemesis.js';
import type { ClientOp } from '../../report/ops.js';
import type { LinkCounters } from '../net/types.js';
import { majority, sees } from '../nemesis/partitions.js';
import { isNemesisKind, nemesisCatalogue, type NemesisKind } from '../nemesis/registry.js';
import { clusterLeader, type NetSnapshot, type WatchSample } from './cluster-watch.js';

export interface EvidenceInput {
  readonly history: readonly HistoryOp[];
  /** The client ops, paired (report/ops.ts), times in ns. */
  readonly ops: readonly ClientOp[];
  readonly samples: readonly WatchSample[];
  /** The relay's counters at a nemesis op (by history index), or null. */
  readonly netAt: (historyIndex: number) => NetSnapshot | null;
  /** False where the network layer does not count datagrams (netns). */
  readonly countsLinks: boolean;
  readonly nodeIds: readonly string[];
  readonly pollMs: number;
  readonly electionTimeoutMaxMs: number;
  /** A gap without ok ops longer than this is reported as an effect (availability.ts). */
  readonly stallMs: number;
  /** Whether the machine starved the run during a window (starvation.ts), or null. */
  readonly overloaded?: (
    fromMs: number,
    toMs: number,
  ) => { readonly harnessStalledMs: number; readonly nodeWaitShare: number | null } | null;
}

const NS_PER_MS = 1e6;

/** Sorted ok completion times (ms), for gap queries. */
export function okTimesMs(ops: readonly ClientOp[]): number[] {
  const times: number[] = [];
  for (const op of ops) if (op.outcome === 'ok' && op.end !== null) times.push(op.end / NS_PER_MS);
  return times.sort((a, b) => a - b);
}

/** The longest stretch of [fromMs, toMs] without an ok completion (`oks` sorted); where it starts. */
export function longestGapMs(oks: readonly number[], fromMs: number, toMs: number): { ms: number; atMs: number } {
  let prev = fromMs;
  let best = { ms: 0, atMs: fromMs };
  for (const t of oks) {
    if (t <= fromMs) continue;
    if (t >= toMs) break;
    if (t - prev > best.ms) best = { ms: t - prev, atMs: prev };
    prev = t;
  }
  if (toMs - prev > best.ms) best = { ms: toMs - prev, atMs: prev };
  return best;
}

/** The kept sample in force at `atMs` (the last one at or before it), or the first. */
function sampleAt(samples: readonly WatchSample[], atMs: number): WatchSample | null {
  let found: WatchSample | null = null;
  for (const s of samples) {
    if (s.atMs > atMs) break;
    found = s;
  }
  return found ?? samples[0] ?? null;
}

/** New leaders first seen in (fromMs, toMs], each with the leaderless time before it. */
export function electionsBetween(samples: readonly WatchSample[], fromMs: number, toMs: number): ElectionSeen[] {
  const out: ElectionSeen[] = [];
  const at = sampleAt(samples, fromMs);
  let leader: LeaderTerm | null = at === null ? null : clusterLeader(at.nodes);
  let lastTerm = leader?.term ?? 0;
  let leaderlessSince: number | null = leader === null ? fromMs : null;
  for (const s of samples) {
    if (s.atMs <= fromMs) continue;
    if (s.atMs > toMs) break;
    const now = clusterLeader(s.nodes);
    if (now === null) {
      leaderlessSince ??= s.atMs;
      continue;
    }
    if (now.term > lastTerm) {
      out.push({
        term: now.term,
        leader: now.id,
        atMs: s.atMs - fromMs,
        leaderlessMs: leaderlessSince === null ? 0 : s.atMs - leaderlessSince,
      });
      lastTerm = now.term;
    }
    leader = now;
    leaderlessSince = null;
  }
  return out;
}

/**
 * Nodes that could not be asked during [fromMs, toMs]: down or paused at any
 * sample, or silent (no status answer) for at least `silentMs` in a row (one
 * slow answer on a loaded machine is not a fault's effect).
 */
export function unreachableBetween(samples: readonly WatchSample[], fromMs: number, toMs: number, silentMs: number): Set<string> {
  const out = new Set<string>();
  const start = sampleAt(samples, fromMs);
  const silentSince = new Map<string, number>();
  const visit = (s: WatchSample, atMs: number): void => {
    for (const [id, o] of Object.entries(s.nodes)) {
      if (o.kind === 'down' || o.kind === 'paused') out.add(id);
      if (o.kind !== 'silent') {
        silentSince.delete(id);
        continue;
      }
      const since = silentSince.get(id) ?? atMs;
      silentSince.set(id, since);
    }
  };
  const closeSilences = (atMs: number): void => {
    for (const [id, since] of silentSince) if (atMs - since >= silentMs) out.add(id);
  };
  if (start !== null) visit(start, Math.max(fromMs, start.atMs));
  for (const s of samples) {
    if (s.atMs <= fromMs) continue;
    if (s.atMs > toMs) break;
    closeSilences(s.atMs);
    visit(s, s.atMs);
  }
  closeSilences(toMs);
  return out;
}

function field(v: unknown, name: string): unknown {
  return typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[name] : undefined;
}

function stringsField(v: unknown, name: string): string[] {
  const x = field(v, name);
  return Array.isArray(x) ? x.filter((s): s is string => typeof s === 'string') : [];
}

function pidsOf(v: unknown, nodes: readonly string[]): ProcessRef[] {
  const pids = field(v, 'pids');
  return nodes.map((node) => {
    const pid = field(pids, node);
    return { node, pid: typeof pid === 'number' ? pid : null };
  });
}

/** What the nemesis did, from its start op's completion value, in a few words. */
function describeStart(kind: NemesisKind, v: unknown): string {
  const nodes = stringsField(v, 'nodes');
  const onNodes = nodes.length === 0 ? 'no node' : nodes.join(', ');
  const leader = field(v, 'leader');
  const leaderMark = (list: readonly string[]): string =>
    typeof leader === 'string' && list.includes(leader) ? ` (leader ${leader})` : '';
  switch (kind) {
    case 'partition': {
      const shape = String(field(v, 'shape') ?? '?');
      const fallback = field(v, 'fallback') === 'one' ? ', no leader found: a random node instead' : '';
      return `${shape}${typeof leader === 'string' ? ` of leader ${leader}` : ''}${fallback}: ${String(field(v, 'description') ?? '')}`;
    }
    case 'kill':
      if (field(v, 'target') === 'voter')
        return `voter trap${typeof field(v, 'killedLeader') === 'string' ? `, killed leader ${String(field(v, 'killedLeader'))}` : ''}`;
      return `killed ${onNodes}${leaderMark(nodes)}`;
    case 'pause':
      return `stopped ${onNodes}${leaderMark(nodes)}`;
    case 'clock': {
      const delta = field(v, 'deltaMs');
      const rate = field(v, 'rate');
      const what =
        typeof delta === 'number' ? `bump ${delta > 0 ? '+' : ''}${delta} ms` : typeof rate === 'number' ? `rate ${rate}x` : 'change';
      return `${what} on ${onNodes}${leaderMark(nodes)}`;
    }
    case 'loss':
      return `drop ${Math.round(Number(field(v, 'rate') ?? 0) * 100)}% on every link`;
    case 'client-loss':
      return `drop ${Math.round(Number(field(v, 'rate') ?? 0) * 100)}% of ${field(v, 'direction') === 'both' ? 'datagrams both ways' : 'replies'} on the clients' links`;
    case 'delay':
      return `delay ${String(field(v, 'delayMs'))}±${String(field(v, 'jitterMs'))} ms on every link`;
    case 'duplicate':
      return `duplicate ${Math.round(Number(field(v, 'rate') ?? 0) * 100)}% on every link`;
    case 'disk': {
      const results = field(v, 'results');
      const outcomes = nodes.map((id) => `${id} ${String(field(field(results, id), 'outcome') ?? '?')}`);
      if (field(v, 'target') === 'voter') return `${String(field(v, 'fault') ?? '?')} trap on voters`;
      return `${String(field(v, 'fault') ?? '?')} on ${onNodes}${leaderMark(nodes)}${outcomes.length > 0 ? ` (${outcomes.join(', ')})` : ''}`;
    }
    case 'disk-full': {
      const results = field(v, 'results');
      const errors = nodes.map((id) => field(field(results, id), 'error')).filter((e) => typeof e === 'string');
      return `filled the disk of ${onNodes}${leaderMark(nodes)}${errors.length > 0 ? ` (${errors.length} not filled: ${String(errors[0])})` : ''}`;
    }
    case 'lease-restart': {
      if (typeof field(v, 'skipped') === 'string') return `skipped: ${String(field(v, 'skipped'))}`;
      const voters = stringsField(v, 'voters');
      const restarted = voters.length > 0 ? voters.join(', ') : 'no node';
      return (
        (field(v, 'cut') === 'after-restart'
          ? `${restarted} restarted away from leader ${String(leader)}, then it cut off, `
          : `leader ${String(leader)} cut off, ${restarted} restarted, `) +
        `candidate ${String(field(v, 'candidate'))} at ${String(field(v, 'candidateRate'))}x`
      );
    }
    case 'relead': {
      if (typeof field(v, 'skipped') === 'string') return `skipped: ${String(field(v, 'skipped'))}`;
      const gaveUp = field(v, 'gaveUp');
      const successor = typeof field(v, 'successor') === 'string' ? `, ${String(field(v, 'successor'))} led meanwhile` : '';
      return (
        `leader ${String(leader)}'s AppendEntries held${successor}` +
        (typeof gaveUp === 'string'
          ? `; gave up: ${gaveUp}`
          : `; it led again (term ${String(field(v, 'newTerm'))}), then was cut off at ${String(field(v, 'slowRate'))}x clock` +
            (field(v, 'stillLeading') === true ? ' (still leading at the deadline)' : ''))
      );
    }
    case 'membership': {
      if (typeof field(v, 'skipped') === 'string') return `skipped: ${String(field(v, 'skipped'))}`;
      const node = String(field(v, 'node') ?? '?');
      const gaveUp = field(v, 'gaveUp');
      return (
        `removed ${node}${field(v, 'wasLeader') === true ? ' (the leader)' : ''} (admin: ${String(field(v, 'admin') ?? '?')})` +
        (typeof gaveUp === 'string' ? `; gave up: ${gaveUp}` : '')
      );
    }
    case 'resize': {
      if (typeof field(v, 'skipped') === 'string') return `skipped: ${String(field(v, 'skipped'))}`;
      const grown = field(field(v, 'grow') ?? v, 'nodes');
      const removed = field(v, 'nodes');
      const list = (x: unknown): string => (Array.isArray(x) && x.length > 0 ? x.join(', ') : 'none');
      return `grew by ${list(grown)}` + (field(v, 'shrink') !== undefined ? `; removed ${list(removed)}` : '');
    }
    case 'rejoin': {
      if (typeof field(v, 'skipped') === 'string') return `skipped: ${String(field(v, 'skipped'))}`;
      const gaveUp = field(v, 'gaveUp');
      if (typeof gaveUp === 'string') return `gave up: ${gaveUp}`;
      return (
        `${String(field(v, 'removed'))} removed and re-added while ${String(field(v, 'witness'))} was cut off; ` +
        `${String(field(v, 'leader'))} led term ${String(field(v, 'term'))}, ` +
        `${String(field(v, 'witness'))} ${field(v, 'witnessCaughtUp') === true ? 'caught up' : 'did not catch up'} (its leader: ${String(field(v, 'witnessLeader') ?? 'none')})`
      );
    }
    case 'change-race': {
      if (typeof field(v, 'skipped') === 'string') return `skipped: ${String(field(v, 'skipped'))}`;
      const gaveUp = field(v, 'gaveUp');
      if (typeof gaveUp === 'string') return `gave up: ${gaveUp}`;
      const exited = field(v, 'exited');
      return (
        `${String(field(v, 'votesOnly'))} removed by ${String(field(v, 'newLeader'))} (term ${String(field(v, 'newTerm'))}) ` +
        `while ${String(field(v, 'oldLeader'))}'s promotion of ${String(field(v, 'learner'))} was pending; ` +
        `${String(field(v, 'oldSideLeader'))} led term ${String(field(v, 'oldSideTerm'))} with it` +
        (exited !== undefined ? `; exited after the heal: ${JSON.stringify(exited)}` : '')
      );
    }
    case 'replay': {
      const mode = field(v, 'mode');
      return mode === 'hold'
        ? `hold ${Math.round(Number(field(v, 'fraction') ?? 0) * 100)}% of AppendEntries up to ${seconds(Number(field(v, 'maxAgeMs') ?? 0))}`
        : `replay old AppendEntries up to ${seconds(Number(field(v, 'maxAgeMs') ?? 0))} old`;
    }
    default:
      return assertNever(kind, 'nemesis kind');
  }
}

/** Why a fault of this kind may change nothing a correct node does (null: it should have an effect). */
/** Whether the fault works on datagrams (so its effect shows in the network layer's counters). */
function actsOnDatagrams(kind: NemesisKind): boolean {
  switch (kind) {
    case 'partition':
    case 'loss':
    case 'delay':
    case 'duplicate':
    case 'client-loss':
    case 'replay':
    case 'lease-restart':
    case 'relead':
    case 'rejoin':
    case 'change-race':
      return true;
    case 'kill':
    case 'pause':
    case 'clock':
    case 'disk':
    case 'disk-full':
    case 'membership':
    case 'resize':
      return false;
    default:
      return assertNever(kind, 'nemesis kind');
  }
}

function whyNoEffect(kind: NemesisKind, v: unknown): string | null {
  switch (kind) {
    case 'clock':
      // node/host.ts: ticks, timers and leases run on the clock's monotonic timeline; wall time only feeds the status report.
      // With --clock-via faketime only the wall clock moves: rift reads it for datagram stamps and the client freshness window.
      if (typeof field(v, 'deltaMs') !== 'number') return null;
      return field(v, 'clock') === 'wall'
        ? "a wall-clock jump (faketime): rift times with the monotonic clock; a jump past the client freshness window (±30 s by default) drops that node's client requests"
        : 'monotonic time: the node reads the wall clock only for its status report';
    case 'partition':
    case 'kill':
    case 'pause':
    case 'loss':
    case 'delay':
    case 'duplicate':
    case 'client-loss':
    case 'replay':
    case 'disk':
    case 'disk-full':
    case 'lease-restart':
    case 'relead':
    case 'membership':
    case 'resize':
    case 'rejoin':
    case 'change-race':
      return null;
    default:
      return assertNever(kind, 'nemesis kind');
  }
}

function linkDiff(before: LinkCounters | undefined, after: LinkCounters): LinkEffect {
  const d = (k: keyof LinkCounters): number => after[k] - (before?.[k] ?? 0);
  return {
    dropped: d('blocked') + d('lost') + d('overflow'),
    delayed: d('delayed'),
    duplicated: d('duplicated'),
    held: d('held'),
    replayed: d('replayed'),
    heldAcrossTerms: d('heldAcrossTerms'),
  };
}

function datagramsBetween(start: NetSnapshot | null, end: NetSnapshot | null): DatagramEffect | null {
  if (start === null || end === null) return null;
  const total: { -readonly [K in keyof LinkEffect]: number } = {
    dropped: 0,
    delayed: 0,
    duplicated: 0,
    held: 0,
    replayed: 0,
    heldAcrossTerms: 0,
  };
  const byLink: Record<string, LinkEffect> = {};
  for (const [link, after] of Object.entries(end.links)) {
    const e = linkDiff(start.links[link], after);
    if (e.dropped + e.delayed + e.duplicated + e.held + e.replayed + e.heldAcrossTerms === 0) continue;
    byLink[link] = e;
    for (const k of Object.keys(total) as (keyof LinkEffect)[]) total[k] += e[k];
  }
  return { ...total, byLink };
}

/** Nodes a grudge leaves without a quorum in view. */
function cutOffBy(grudge: unknown, nodeIds: readonly string[]): string[] {
  if (typeof grudge !== 'object' || grudge === null) return [];
  const g = grudge as Record<string, readonly string[]>;
  return nodeIds.filter((a) => sees(g, nodeIds, a).size < majority(nodeIds.length));
}

export function buildEvidence(input: EvidenceInput): FaultEvidence[] {
  const { history } = input;
  const tEnd = history.length === 0 ? 0 : (history[history.length - 1]!.time ?? 0);
  const { intervals } = nemesisIntervals(history, 'ns', tEnd, nemesisCatalogue());
  const oks = okTimesMs(input.ops);
  // Elections that follow a fault closely are its effect too (the majority side elects after the cut).
  const settleMs = 5 * input.electionTimeoutMaxMs;
  return intervals.map((iv) => evidenceOf(iv, intervals, input, oks, settleMs));
}

function evidenceOf(
  iv: FaultInterval,
  all: readonly FaultInterval[],
  input: EvidenceInput,
  oks: readonly number[],
  settleMs: number,
): FaultEvidence {
  const { history, samples, nodeIds } = input;
  const fromMs = iv.start / NS_PER_MS;
  const toMs = iv.end / NS_PER_MS;
  const kind: NemesisKind | null = isNemesisKind(iv.kind) ? iv.kind : null;
  const startValue = iv.values[0];
  const stopValue = iv.endIndex === null ? undefined : history[iv.endIndex]?.value;
  const what = kind === null ? JSON.stringify(startValue ?? null) : describeStart(kind, startValue);
  const overlaps = all.filter((o) => o !== iv && o.start < iv.end && o.end > iv.start).map((o) => o.label);

  const before = sampleAt(samples, fromMs);
  const after = sampleAt(samples, toMs);
  const leaderBefore = before === null ? null : clusterLeader(before.nodes);
  const leaderAfter = after === null ? null : clusterLeader(after.nodes);
  const elections = electionsBetween(samples, fromMs, toMs + settleMs);

  const unreachable = unreachableBetween(samples, fromMs, toMs, 3 * input.pollMs);
  const cutOff = kind === 'partition' ? cutOffBy(field(startValue, 'grudge'), nodeIds) : [];

  const startNodes = stringsField(startValue, 'nodes');
  const stoppedRaw = field(startValue, 'stopped');
  const processes: ProcessEffect = {
    killed: kind === 'kill' || kind === 'disk' || kind === 'lease-restart' ? pidsOf(startValue, startNodes) : [],
    restarted: kind === 'kill' ? pidsOf(stopValue, stringsField(stopValue, 'nodes')) : [],
    stopped: Array.isArray(stoppedRaw)
      ? stoppedRaw.map((x) => ({
          node: String(field(x, 'node')),
          pid: typeof field(x, 'pid') === 'number' ? (field(x, 'pid') as number) : null,
          state: typeof field(x, 'state') === 'string' ? (field(x, 'state') as string) : null,
        }))
      : [],
  };

  let hitLeader: boolean | null = null;
  const leaderId = leaderBefore?.id ?? (typeof field(startValue, 'leader') === 'string' ? String(field(startValue, 'leader')) : null);
  if (kind === 'partition') hitLeader = leaderId !== null && cutOff.includes(leaderId);
  else if (kind === 'lease-restart' || kind === 'relead')
    hitLeader = typeof field(startValue, 'leader') === 'string'; // it cut that leader off
  else if (kind === 'kill' || kind === 'pause' || kind === 'clock' || kind === 'disk' || kind === 'disk-full') {
    hitLeader =
      field(startValue, 'wasLeader') === true ||
      (field(startValue, 'target') === 'voter' && typeof field(startValue, 'killedLeader') === 'string');
  } else if (kind === 'membership') hitLeader = field(startValue, 'wasLeader') === true;
  else if (kind === 'rejoin')
    hitLeader = typeof field(startValue, 'term') === 'number'; // its star deposed the old leader
  else if (kind === 'change-race')
    hitLeader = typeof field(startValue, 'newLeader') === 'string'; // it cut the old leader off
  else if (kind === 'resize') {
    // The shrink removed the leader (it handed over first, §3.10, and stepped down, §4.2.2).
    const shrink = field(startValue, 'shrink');
    hitLeader = Array.isArray(shrink) && shrink.some((r) => field(r, 'wasLeader') === true);
  }

  const datagrams = input.countsLinks
    ? datagramsBetween(input.netAt(iv.startIndex), iv.endIndex === null ? null : input.netAt(iv.endIndex))
    : null;
  const gap = longestGapMs(oks, fromMs, toMs);
  let infoCaused = 0;
  for (const op of input.ops) {
    const at = op.start / NS_PER_MS;
    if (at >= fromMs && at <= toMs && (op.outcome === 'info' || op.outcome === 'pending')) infoCaused++;
  }

  const effects: string[] = [];
  if (hitLeader === true && leaderId !== null) {
    effects.push(
      `leader ${leaderId} ${kind === 'partition' || kind === 'lease-restart' || kind === 'relead' ? 'cut off a quorum' : kind === 'kill' ? 'killed' : kind === 'pause' ? 'stopped' : 'hit'}`,
    );
  }
  if (cutOff.length > 0) effects.push(`no quorum in view: ${cutOff.join(', ')}`);
  if (elections.length > 0) {
    effects.push(
      `${elections.length} election${elections.length === 1 ? '' : 's'}: ${elections.map((e) => `${e.leader}/t${e.term} after ${seconds(e.leaderlessMs)} leaderless`).join(', ')}`,
    );
  }
  const silent = [...unreachable].filter((id) => !cutOff.includes(id)).sort();
  if (silent.length > 0) effects.push(`unreachable: ${silent.join(', ')}`);
  if (datagrams !== null) {
    const parts = (['dropped', 'delayed', 'duplicated', 'held', 'replayed'] as const)
      .filter((k) => datagrams[k] > 0)
      .map((k) => `${datagrams[k]} ${k}`);
    if (datagrams.heldAcrossTerms > 0) parts.push(`${datagrams.heldAcrossTerms} held ones delivered in their sender's later term`);
    if (parts.length > 0) effects.push(`datagrams ${parts.join(', ')} on ${Object.keys(datagrams.byLink).length} links`);
  }
  if (processes.killed.length > 0) effects.push(`killed ${processes.killed.map((p) => `${p.node} (pid ${p.pid ?? '?'})`).join(', ')}`);
  if (processes.stopped.length > 0)
    effects.push(`stopped ${processes.stopped.map((p) => `${p.node} (pid ${p.pid ?? '?'}, state ${p.state ?? 'unknown'})`).join(', ')}`);
  if (processes.restarted.length > 0)
    effects.push(`restarted ${processes.restarted.map((p) => `${p.node} (pid ${p.pid ?? '?'})`).join(', ')}`);
  if (gap.ms > input.stallMs) effects.push(`no ok op for ${seconds(gap.ms)}`);
  if (infoCaused > 0) effects.push(`${infoCaused} info op${infoCaused === 1 ? '' : 's'}`);
  const leaderChanged =
    leaderBefore !== null && leaderAfter !== null && (leaderBefore.id !== leaderAfter.id || leaderBefore.term !== leaderAfter.term);
  if (leaderChanged && elections.length === 0)
    effects.push(`leader ${leaderBefore.id}/t${leaderBefore.term} → ${leaderAfter.id}/t${leaderAfter.term}`);

  const expectedNoEffect = kind === null ? null : whyNoEffect(kind, startValue);
  // Where the network layer counts nothing (netns: the kernel carries the datagrams), a datagram fault's
  // own effect cannot be seen: "no change" would overstate what was observed.
  const unobserved =
    datagrams === null && kind !== null && actsOnDatagrams(kind) ? 'its datagrams are not counted in this network mode' : null;
  const noEffect =
    effects.length === 0
      ? `no change in behaviour${[expectedNoEffect, unobserved].some((x) => x !== null) ? ` (${[expectedNoEffect, unobserved].filter((x) => x !== null).join('; ')})` : ''}`
      : null;
  return {
    kind: iv.kind,
    label: iv.label,
    startF: iv.startF,
    stopF: iv.stopF,
    fromMs,
    toMs,
    what,
    overlaps,
    leaderBefore,
    leaderAfter,
    hitLeader,
    elections,
    unreachable: [...unreachable].sort(),
    cutOff,
    datagrams,
    processes,
    longestNoOkMs: gap.ms,
    infoCaused,
    effects,
    noEffect,
    expectedNoEffect,
    machine: input.overloaded?.(fromMs, toMs) ?? null,
  };
}
