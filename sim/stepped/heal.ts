/**
 * The end-of-path liveness check (issue 16): after the faults stop, the
 * cluster must make progress. From a given state every node is restarted
 * and woken, the disks fsync, and the network becomes perfect (every
 * message delivered, in order, none lost); then time runs, one tick per
 * node per round, with one node's clock running twice as fast (the real
 * nodes draw random election timeouts; here the schedule breaks the
 * symmetry), and with chunked snapshots every stream's retransmission
 * timer goes off once a round. A probe write is sent to whichever node leads. The check passes
 * when every node has applied the probe within the bound of rounds, for
 * some choice of the fast node (tried in id order).
 *
 * "Every node applied it" rather than "it committed": a leader that never
 * catches up one follower (issue 15 defect 4) still commits on a majority,
 * and must fail this check. With membership changes (issue 18) "every
 * node" is every member of the leader's configuration: a spare never added,
 * or a removed node, applies nothing (§4.2.2).
 */
import type { ClientRequest } from '../../node/protocol.js';
import type { NodeId } from '../../node/raft/types.js';
import { judgeReply, STEPPED_CLIENT_INSTANCE } from './clients.js';
import { SteppedCluster, type SteppedClusterState } from './cluster.js';
import { describeSteppedMessage } from './network.js';

export const PROBE_KEY = 'liveness-probe';
const probeRequest: ClientRequest = {
  type: 'client_request',
  clientId: 'liveness-probe',
  instance: STEPPED_CLIENT_INSTANCE,
  seq: 1,
  op: { type: 'put', key: PROBE_KEY, value: '1' },
};
/** Bound on deliveries while settling one round (a cluster that never goes quiet is itself a finding). */
const maxDeliveriesPerRound = 20_000;

export interface HealResult {
  readonly ok: boolean;
  /** How it went, for the counterexample report. */
  readonly detail: string;
  /** Rounds the successful attempt took. */
  readonly rounds: number;
}

export function healRounds(electionTicks: number): number {
  return 10 * electionTicks + 10;
}

export function checkLiveness(from: SteppedCluster): HealResult {
  const start = from.state();
  const rounds = healRounds(from.params.electionTicks);
  const attempts: string[] = [];
  for (const fast of from.ids) {
    const result = attempt(from, start, fast, rounds);
    if (result.ok) return result;
    attempts.push(`fast clock ${fast}: ${result.detail}`);
  }
  return {
    ok: false,
    detail: `after the heal no leader got a new entry applied on every node within ${rounds} rounds (${attempts.join('; ')})`,
    rounds,
  };
}

function attempt(from: SteppedCluster, start: SteppedClusterState, fast: NodeId, rounds: number): HealResult {
  const cluster = new SteppedCluster(from.params, from.ops, from.rules, start);
  for (const id of cluster.ids) {
    if (cluster.isPaused(id)) cluster.run({ kind: 'resume', node: id, backlogTicks: 0 });
    if (!cluster.node(id).up) {
      cluster.repairDisk(id);
      cluster.run({ kind: 'restart', node: id });
    }
  }
  let probeAttempt = 0;
  let probeOutstanding = false;
  for (let round = 1; round <= rounds; round++) {
    for (const id of cluster.ids) {
      cluster.run({ kind: 'tick', node: id });
      if (id === fast) cluster.run({ kind: 'tick', node: id });
      // Chunked snapshots: a stream's retransmission timer goes off once a round (chunks lost before the heal are resent).
      // Every round delivers everything, so a stream whose timeouts go without progress until it gives up is stuck
      // on something no retransmission mends (a follower that lost what it had staged and acknowledged).
      for (const peer of cluster.node(id).streamPeers()) {
        const outcome = cluster.run({ kind: 'stream_timeout', node: id, peer });
        if ((outcome.effects?.streamsGivenUp.length ?? 0) > 0)
          return { ok: false, detail: `${id}'s snapshot stream to ${peer} gave up on a perfect network in round ${round}`, rounds: round };
      }
    }
    if (!settle(cluster)) return { ok: false, detail: `the network did not go quiet in round ${round}`, rounds: round };
    if (!probeOutstanding) {
      const leader = cluster.ids.find((id) => cluster.node(id).core()?.status().role === 'leader');
      if (leader !== undefined) {
        probeOutstanding = true;
        const outcome = cluster.inject(leader, (node) => node.clientRequest({ op: -1, attempt: probeAttempt++ }, probeRequest));
        for (const reply of outcome.effects?.replies ?? []) if (judgeReply(reply.outcome).kind === 'retry') probeOutstanding = false;
        if (!settle(cluster)) return { ok: false, detail: `the network did not go quiet in round ${round}`, rounds: round };
      }
    }
    if (members(cluster).every((id) => cluster.node(id).stateMachine()?.read(PROBE_KEY) === '1'))
      return { ok: true, detail: `probe applied everywhere after ${round} rounds`, rounds: round };
    // A leader that lost its leadership answered `unavailable`: ask the next one.
    if (probeOutstanding && !cluster.ids.some((id) => cluster.node(id).core()?.status().role === 'leader')) probeOutstanding = false;
  }
  const applied = cluster.ids.filter((id) => cluster.node(id).stateMachine()?.read(PROBE_KEY) === '1');
  const leaders = cluster.ids.filter((id) => cluster.node(id).core()?.status().role === 'leader');
  return { ok: false, detail: `leaders [${leaders.join(',')}], probe applied on [${applied.join(',')}]`, rounds };
}

/** Who must apply the probe: the members of the (first) leader's configuration in effect; every node while none leads. */
function members(cluster: SteppedCluster): readonly NodeId[] {
  const leader = cluster.ids.map((id) => cluster.node(id).core()).find((core) => core?.status().role === 'leader');
  if (leader === undefined || leader === null) return cluster.ids;
  const { voters, learners } = leader.configuration();
  return [...voters, ...learners];
}

/**
 * Perfect disks and network: fsync, and deliver until nothing is left, the
 * message with the smallest text first (an order that does not depend on
 * the order messages entered the network, so the model checker and the
 * replay heal a state the same way).
 */
function settle(cluster: SteppedCluster): boolean {
  for (let delivered = 0; delivered <= maxDeliveriesPerRound; delivered++) {
    for (const id of cluster.ids) if (cluster.node(id).hasUnsynced()) cluster.run({ kind: 'fsync', node: id });
    const inFlight = cluster.inFlight();
    if (inFlight.length === 0) return true;
    let text = describeSteppedMessage(inFlight[0]!);
    for (let i = 1; i < inFlight.length; i++) {
      const other = describeSteppedMessage(inFlight[i]!);
      if (other < text) text = other;
    }
    const to = inFlight.find((m) => describeSteppedMessage(m) === text)!.to;
    if (cluster.node(to).up) cluster.run({ kind: 'deliver', message: text });
    else cluster.run({ kind: 'drop', message: text });
  }
  return false;
}
