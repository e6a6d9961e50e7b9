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

/** Nodes that could run after the heal: all but those whose storage refused to start. */
export function majorityCanRun(nodes: readonly NodeSnapshot[]): boolean {
  const usable = nodes.filter((n) => !n.refused).length;
  return usable >= Math.floor(nodes.length / 2) + 1;
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
