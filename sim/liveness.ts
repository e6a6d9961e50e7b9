/**
 * Liveness after the heal (issue 20): safety checks say nothing about a
 * cluster that stops serving, so the end of every run is judged too, with
 * bounds stated in election timeouts (one election timeout is
 * electionTimeoutMsMax: the longest a follower waits before campaigning):
 *
 * 1. leader: if a majority of the nodes can run (storage refusals aside),
 *    within `livenessLeaderElectionTimeouts` of the heal some node leads, in
 *    a term no running node has passed;
 * 2. ops: from then on (the liveness phase) every op a client invokes
 *    completes definitely (ok or fail) within `livenessOpElectionTimeouts`
 *    (client.ts; the probes every client sends at the start of the phase
 *    make sure there are some);
 * 3. catch-up: within `catchUpElectionTimeouts` of the heal, every running
 *    node's commitIndex reaches what that leader had committed at the start
 *    of the liveness phase (a follower the leader never repairs, such as one
 *    whose log lost entries it had acknowledged, is a liveness bug: issue 15
 *    defect 4).
 *
 * Pure: the simulator takes the snapshots, this module judges them.
 */
import type { NodeId, Role } from '../node/raft/types.js';
import type { SimOptions } from './scenario.js';

export interface NodeSnapshot {
  readonly id: NodeId;
  /** Running (started and not crashed). A paused process counts as running. */
  readonly running: boolean;
  /** Refused to start (its storage is damaged): it stays down, so it does not count towards a majority. */
  readonly refused: boolean;
  /** Running: the voters of the configuration in effect on it (the newest in its log, §4.1); null while down. */
  readonly voters: readonly NodeId[] | null;
  readonly role: Role | null;
  readonly currentTerm: number;
  readonly commitIndex: number;
  readonly lastLogIndex: number;
}

/** The bounds of one run, in milliseconds after the start of the run. */
export interface LivenessPlan {
  readonly healMs: number;
  /** A leader must exist by then; ops invoked from then on must complete. */
  readonly livenessFromMs: number;
  readonly opTimeoutMs: number;
  readonly catchUpByMs: number;
}

export function electionTimeoutMs(options: SimOptions): number {
  return options.electionTimeoutMsMax;
}

export function livenessPlan(options: SimOptions): LivenessPlan {
  const et = electionTimeoutMs(options);
  const healMs = options.faultWindowMs;
  return {
    healMs,
    livenessFromMs: healMs + options.livenessLeaderElectionTimeouts * et,
    opTimeoutMs: options.livenessOpElectionTimeouts * et,
    catchUpByMs: healMs + options.catchUpElectionTimeouts * et,
  };
}

/**
 * Whether a leader can be asked for: a majority of the nodes could run after
 * the heal (all but those whose storage refused to start), and so could a
 * majority of the voters of every configuration a running node is in
 * (membership changes, issue 18: after a removal of n2 from {n1,n2,n3}, the
 * voters n1 and n3 are both needed; with n1's storage refused nothing can be
 * elected, whatever the original size).
 */
export function majorityCanRun(nodes: readonly NodeSnapshot[]): boolean {
  const usable = new Set(nodes.filter((n) => !n.refused).map((n) => n.id));
  if (usable.size < Math.floor(nodes.length / 2) + 1) return false;
  for (const node of nodes) {
    if (node.voters === null) continue;
    const usableVoters = node.voters.filter((id) => usable.has(id)).length;
    if (usableVoters < Math.floor(node.voters.length / 2) + 1) return false;
  }
  return true;
}

/**
 * The running leader whose term no running node has passed, or null. (Not
 * "has committed an entry of its term": under `--unsafe-commit-old-terms` a
 * leader appends no noop, and the ops of the liveness phase judge whether
 * the leader can serve.)
 */
export function currentLeader(nodes: readonly NodeSnapshot[]): NodeSnapshot | null {
  let best: NodeSnapshot | null = null;
  let maxTerm = 0;
  for (const n of nodes) {
    if (!n.running) continue;
    if (n.currentTerm > maxTerm) maxTerm = n.currentTerm;
    if (n.role === 'leader' && (best === null || n.currentTerm > best.currentTerm)) best = n;
  }
  return best !== null && best.currentTerm === maxTerm ? best : null;
}

export function describeNodes(nodes: readonly NodeSnapshot[]): string {
  return nodes
    .map((n) =>
      n.refused
        ? `${n.id} refused to start`
        : !n.running
          ? `${n.id} down`
          : `${n.id} ${n.role} term ${n.currentTerm} commit ${n.commitIndex} last ${n.lastLogIndex}`,
    )
    .join('; ');
}

/** Check 3: the running nodes whose commitIndex is still below `target`, as a violation message, or null. */
export function judgeCatchUp(
  nodes: readonly NodeSnapshot[],
  leader: NodeId,
  target: number,
  plan: LivenessPlan,
  catchUpElectionTimeouts: number,
): string | null {
  const behind = nodes.filter((n) => n.running && n.commitIndex < target);
  if (behind.length === 0) return null;
  return (
    `catch-up: ${catchUpElectionTimeouts} election timeouts after the heal (at ${plan.catchUpByMs.toFixed(0)} ms), ` +
    `${behind.map((n) => `${n.id} (commit ${n.commitIndex}, last ${n.lastLogIndex})`).join(', ')} still below ` +
    `commit ${target}, what leader ${leader} had committed at ${plan.livenessFromMs.toFixed(0)} ms; nodes: ${describeNodes(nodes)}`
  );
}

/** What the end-of-run check needs of a client (sim/client.ts). */
export interface ClientAtEnd {
  readonly slot: number;
  /** Its workload and probes are all done. */
  readonly done: boolean;
  /** When one of its ops last got an answer (ok or fail; a timeout is none), in simulated ms; -1 before any. */
  readonly lastAnsweredMs: number;
}

/**
 * 4. at the end of the run: a client with work left is a liveness failure
 * when it stalled, none of its ops answered in the last liveness op timeout
 * (`opTimeoutMs`, LivenessPlan). One still answered op after op is live,
 * its workload only longer than the run (a heavy preset: 294 ops of one
 * client, answered every ~25 ms at the end, flagged the correct node,
 * 2026-12-06); an op of the liveness phase not answered in time is flagged by
 * the client itself (rule 2). Returns one message per stalled client.
 */
export function judgeClientsAtEnd(clients: readonly ClientAtEnd[], endMs: number, opTimeoutMs: number): string[] {
  return clients
    .filter((c) => !c.done && endMs - c.lastAnsweredMs > opTimeoutMs)
    .map(
      (c) =>
        `liveness: client slot ${c.slot} still had work at the end of the run (${endMs} ms), ` +
        (c.lastAnsweredMs < 0 ? 'never answered' : `last answered at ${c.lastAnsweredMs.toFixed(0)} ms`),
    );
}
