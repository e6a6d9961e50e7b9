/**
 * From the stage marks of every node (node/latency-probe.ts) and the client's
 * own timings to a per-stage table of one-client latency.
 *
 * Every delta is taken inside one process (each has its own monotonic
 * clock). For a write at log index i, with L the leader that proposed it and
 * F the follower whose acknowledgement completed the majority:
 *
 *   client round trip (bench)            client send → client receive
 *   L  receive → propose                 decode, session check, propose
 *   L  propose → peer send               the hop to the effect loop
 *   L  peer send → persist start         sending before the leader's fsync (§10.2.1)
 *   L  leader fsync                      persist start → persist end
 *   F  peer receive → persist start      the follower's hop to its effect loop
 *   F  follower fsync                    persist start → persist end
 *   F  persist end → ack send
 *   network (both ways), to F            L peer send → ack receive, minus F's peer receive → ack send
 *   L  quorum ack receive → commit       ack to the Ready that commits
 *   L  commit → apply, apply → reply
 *   network (both ways), client ↔ L      client round trip minus L's receive → reply
 *
 * "The quorum ack" is the k-th earliest acknowledgement at L covering i,
 * where k followers make a majority with the leader. If L's own fsync ends
 * after it, the leader's disk, not the follower's, held the commit back: the
 * table says how often. An acknowledgement's arrival is when the leader's
 * event loop took the datagram: while the leader sits in a synchronous
 * fsync, an ack that reached its socket waits there, and the wait shows in
 * the network round trip.
 */
import type { ProbeMark, Stage } from '../node/latency-probe.js';
import { quantileOfSorted } from './stats.js';

export interface StageStats {
  readonly name: string;
  readonly samples: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

export interface Breakdown {
  readonly leader: string;
  readonly writes: number;
  readonly reads: number;
  readonly writeStages: readonly StageStats[];
  readonly readStages: readonly StageStats[];
  /** Writes whose commit waited for the leader's own fsync rather than the quorum follower's ack. */
  readonly leaderFsyncBound: number;
}

/** The first mark of each (stage, key) in one node's trace: stage → key → time. */
type FirstMarks = Map<Stage, Map<number, number>>;
/** Every mark of each (stage, key): for the leader's acknowledgements, one per follower. */
type AllMarks = Map<Stage, Map<number, number[]>>;

function index(marks: readonly ProbeMark[]): { first: FirstMarks; all: AllMarks } {
  const first: FirstMarks = new Map();
  const all: AllMarks = new Map();
  for (const mark of marks) {
    let f = first.get(mark.stage);
    if (f === undefined) first.set(mark.stage, (f = new Map()));
    if (!f.has(mark.key)) f.set(mark.key, mark.timeMs);
    let a = all.get(mark.stage);
    if (a === undefined) all.set(mark.stage, (a = new Map()));
    const list = a.get(mark.key);
    if (list === undefined) a.set(mark.key, [mark.timeMs]);
    else list.push(mark.timeMs);
  }
  return { first, all };
}

function stats(name: string, values: readonly number[]): StageStats {
  const sorted = [...values].sort((a, b) => a - b);
  return { name, samples: sorted.length, p50Ms: quantileOfSorted(sorted, 0.5), p99Ms: quantileOfSorted(sorted, 0.99) };
}

/**
 * `traces`: node id → its marks. `clientWriteMs` / `clientReadMs`: the
 * client's round trips, in order (the bench issues one op at a time, so the
 * n-th write the leader proposed is the n-th write the client timed).
 * `clusterSize` fixes the majority.
 */
export function latencyBreakdown(
  traces: ReadonlyMap<string, readonly ProbeMark[]>,
  clusterSize: number,
  clientWriteMs: readonly number[],
  clientReadMs: readonly number[],
): Breakdown {
  const nodes = new Map([...traces].map(([id, marks]) => [id, index(marks)]));
  // The leader: the node that proposed the most writes (a one-client run has one leader throughout).
  let leader: string | null = null;
  let most = -1;
  for (const [id, marks] of nodes) {
    const proposed = marks.first.get('propose')?.size ?? 0;
    if (proposed > most) [leader, most] = [id, proposed];
  }
  if (leader === null || most <= 0) throw new Error('no node proposed a write: was the cluster started with --latency-trace?');
  const L = nodes.get(leader)!;
  const followers = [...nodes].filter(([id]) => id !== leader).map(([, marks]) => marks);
  const acksNeeded = Math.floor(clusterSize / 2); // followers that make a majority with the leader

  const t = (marks: FirstMarks, stage: Stage, key: number): number | undefined => marks.get(stage)?.get(key);
  const series = new Map<string, number[]>();
  const add = (name: string, value: number | undefined): void => {
    if (value === undefined || !Number.isFinite(value)) return;
    let list = series.get(name);
    if (list === undefined) series.set(name, (list = []));
    list.push(value);
  };
  const diff = (a: number | undefined, b: number | undefined): number | undefined =>
    a === undefined || b === undefined ? undefined : b - a;

  const proposed = [...(L.first.get('propose') ?? new Map<number, number>()).keys()].sort((a, b) => a - b);
  let leaderFsyncBound = 0;
  let writes = 0;
  for (const i of proposed) {
    const receive = t(L.first, 'client_request', i);
    const propose = t(L.first, 'propose', i);
    const persistStart = t(L.first, 'persist_start', i);
    const persistEnd = t(L.first, 'persist_end', i);
    const peerSend = t(L.first, 'peer_send', i);
    const commit = t(L.first, 'commit', i);
    const apply = t(L.first, 'apply', i);
    const reply = t(L.first, 'reply_send', i);
    if (receive === undefined || reply === undefined) continue;
    writes++;
    // Acknowledgements covering i: an ack up to j >= i covers it; the earliest such per follower.
    const ackTimes = acksCovering(L.all.get('ack_receive'), i, peerSend ?? receive, commit ?? reply);
    const quorumAck = ackTimes.length >= acksNeeded ? ackTimes[acksNeeded - 1] : undefined;
    add('L receive → propose', diff(receive, propose));
    add('L propose → peer send (effect-loop hop)', diff(propose, peerSend));
    add('L peer send → persist start (sent before the own fsync, §10.2.1)', diff(peerSend, persistStart));
    add('L fsync (persist start → end)', diff(persistStart, persistEnd));
    // The follower whose ack made the majority: match it by its ack time at L (the k-th ack).
    const f = quorumFollower(followers, i);
    if (f !== null) {
      add('F peer receive → persist start (effect-loop hop)', diff(f.receive, f.persistStart));
      add('F fsync (persist start → end)', diff(f.persistStart, f.persistEnd));
      add('F persist end → ack send', diff(f.persistEnd, f.ackSend));
      const held = diff(f.receive, f.ackSend);
      const roundTrip = diff(peerSend, f.ackReceiveAtLeader(L.all.get('ack_receive'), peerSend));
      if (held !== undefined && roundTrip !== undefined) add('network L → F → L (round trip minus F holding it)', roundTrip - held);
    }
    add('L peer send → quorum ack receive', diff(peerSend, quorumAck));
    if (persistEnd !== undefined && quorumAck !== undefined && persistEnd > quorumAck) leaderFsyncBound++;
    const committedBy = quorumAck === undefined ? persistEnd : persistEnd === undefined ? quorumAck : Math.max(quorumAck, persistEnd);
    add('L quorum ack (or own fsync, if later) → commit', diff(committedBy, commit));
    add('L commit → apply', diff(commit, apply));
    add('L apply → reply send', diff(apply, reply));
    add('L receive → reply send (leader total)', diff(receive, reply));
  }
  const leaderTotals = series.get('L receive → reply send (leader total)') ?? [];
  const writeStages = [stats('client round trip (client send → receive)', clientWriteMs)];
  for (const [name, values] of series) writeStages.push(stats(name, values));
  // Client ↔ leader network: the client's round trip minus the leader's share, matched by order (one op at a time).
  const clientNet: number[] = [];
  for (let n = 0; n < Math.min(leaderTotals.length, clientWriteMs.length); n++) {
    const offset = clientWriteMs.length - leaderTotals.length; // the client may have timed writes the trace lost to its ring
    const client = clientWriteMs[n + Math.max(0, offset)];
    if (client !== undefined) clientNet.push(client - leaderTotals[n]!);
  }
  writeStages.push(stats('network client → L → client (round trip minus L total)', clientNet));

  // Reads (ReadIndex): receive → confirmed → reply at the leader.
  const readSeries = new Map<string, number[]>();
  const addRead = (name: string, value: number | undefined): void => {
    if (value === undefined) return;
    let list = readSeries.get(name);
    if (list === undefined) readSeries.set(name, (list = []));
    list.push(value);
  };
  let reads = 0;
  for (const [seq, received] of L.first.get('read_request') ?? new Map<number, number>()) {
    const confirmed = t(L.first, 'read_confirmed', seq);
    const replied = t(L.first, 'read_reply', seq);
    if (replied === undefined) continue;
    reads++;
    addRead('L read receive → confirmed (leadership round)', diff(received, confirmed));
    addRead('L confirmed → reply send (wait for apply)', diff(confirmed, replied));
    addRead('L read receive → reply send (leader total)', diff(received, replied));
  }
  const readStages = [stats('client round trip (client send → receive)', clientReadMs)];
  for (const [name, values] of readSeries) readStages.push(stats(name, values));
  return { leader, writes, reads, writeStages, readStages, leaderFsyncBound };
}

/** Arrival times at the leader of every acknowledgement covering index i (matchIndex >= i) within [from, to], sorted. */
function acksCovering(acks: Map<number, number[]> | undefined, i: number, from: number, to: number): number[] {
  if (acks === undefined) return [];
  const times: number[] = [];
  for (const [matchIndex, list] of acks) {
    if (matchIndex < i) continue;
    for (const time of list) if (time >= from && time <= to) times.push(time);
  }
  return times.sort((a, b) => a - b);
}

interface FollowerView {
  readonly receive: number | undefined;
  readonly persistStart: number | undefined;
  readonly persistEnd: number | undefined;
  readonly ackSend: number | undefined;
  /** The leader's arrival time of this follower's ack: the first ack covering i after `after` (the follower's is among them). */
  ackReceiveAtLeader(acks: Map<number, number[]> | undefined, after: number | undefined): number | undefined;
}

/**
 * The follower that held entry i the shortest (receive → ack send): with
 * equal network paths on loopback, its ack is the first to reach the
 * leader, and the k-th ack is within a few microseconds of it for k = 2 on
 * an idle machine. Its ack arrival at the leader is the first covering i.
 */
function quorumFollower(followers: readonly { first: FirstMarks }[], i: number): FollowerView | null {
  let best: FollowerView | null = null;
  let bestHeld = Number.POSITIVE_INFINITY;
  for (const f of followers) {
    const receive = f.first.get('peer_receive')?.get(i);
    const ackSend = firstAckCovering(f.first.get('ack_send'), i);
    if (receive === undefined || ackSend === undefined) continue;
    const held = ackSend - receive;
    if (held < bestHeld) {
      bestHeld = held;
      best = {
        receive,
        persistStart: f.first.get('persist_start')?.get(i),
        persistEnd: f.first.get('persist_end')?.get(i),
        ackSend,
        ackReceiveAtLeader: (acks, after) => {
          if (after === undefined) return undefined;
          const times = acksCovering(acks, i, after, Number.POSITIVE_INFINITY);
          return times[0];
        },
      };
    }
  }
  return best;
}

function firstAckCovering(acks: Map<number, number> | undefined, i: number): number | undefined {
  if (acks === undefined) return undefined;
  let first: number | undefined;
  for (const [matchIndex, time] of acks) if (matchIndex >= i && (first === undefined || time < first)) first = time;
  return first;
}

/** The table as Markdown. */
export function breakdownTable(breakdown: Breakdown): string {
  const rows = (stages: readonly StageStats[]): string =>
    stages.map((s) => `| ${s.name} | ${s.samples} | ${s.p50Ms.toFixed(3)} | ${s.p99Ms.toFixed(3)} |`).join('\n');
  return (
    `leader ${breakdown.leader}; ${breakdown.writes} writes, ${breakdown.reads} reads traced; ` +
    `${breakdown.leaderFsyncBound} writes waited for the leader's own fsync past the quorum ack\n\n` +
    `| write stage | samples | p50 ms | p99 ms |\n|---|---:|---:|---:|\n${rows(breakdown.writeStages)}\n\n` +
    `| read stage | samples | p50 ms | p99 ms |\n|---|---:|---:|---:|\n${rows(breakdown.readStages)}\n`
  );
}
