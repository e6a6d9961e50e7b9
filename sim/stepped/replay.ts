/**
 * Replays a stepped trace (trace.ts) on a fresh stepped cluster and judges
 * it with the simulator's own checks, independent of whatever wrote it:
 *
 * - the Raft invariants of sim/invariants.ts (Figure 3: election safety,
 *   leader append-only, log matching, leader completeness, state machine
 *   safety; the leader commit rule; durability across restarts), fed the
 *   same observations the random simulator feeds them;
 * - commit quorums across configurations (commit-quorum.ts): a leader's
 *   commit is held by a majority of its newest configuration's voters;
 * - read safety at every served read (read-safety.ts);
 * - the linearizability of the client history (checker/);
 * - a core or host that throws (a broken assertion);
 * - with `checkLiveness`, the end-of-path liveness check (heal.ts).
 *
 * `npm run sim -- --replay FILE` prints the numbered steps in the core's
 * transcript text (describeMessage) and the violations, and exits 1 when
 * there is one: a model-checker counterexample becomes a regression test
 * with one command.
 */
import { checkHistory } from '../../checker/check.js';
import type { HistoryOp } from '../../checker/types.js';
import { describeStatus } from '../../node/raft/describe.js';
import type { Entry } from '../../node/raft/types.js';
import { InvariantChecker } from '../invariants.js';
import { completeOp, invokeOp, judgeReply } from './clients.js';
import { EventNotPossible, SteppedCluster } from './cluster.js';
import { commitQuorumProblem, uncommittedSnapshotProblem } from './commit-quorum.js';
import { answerProblem } from './answer-rules.js';
import { configChangeProblem } from './config-change-rule.js';
import { checkLiveness } from './heal.js';
import { describeSteppedMessage } from './network.js';
import { durableLog } from './node.js';
import { latestWriteIndex, readSafetyViolation } from './read-safety.js';
import { describeEvent, type SteppedTrace } from './trace.js';

export type ReplayViolationKind = 'invariant' | 'read_safety' | 'linearizability' | 'node_error' | 'liveness' | 'diverged';

export interface ReplayViolation {
  readonly kind: ReplayViolationKind;
  /** 1-based event number (0: before the first, events.length + 1: at the end). */
  readonly step: number;
  readonly message: string;
}

export interface ReplayReport {
  readonly steps: number;
  readonly violations: readonly ReplayViolation[];
  /** The numbered listing: each event, then what it made the node send, apply and answer. */
  readonly lines: readonly string[];
  readonly history: readonly HistoryOp[];
}

export function replayTrace(trace: SteppedTrace): ReplayReport {
  const rules = trace.network;

  const violations: ReplayViolation[] = [];
  const lines: string[] = [];
  const history: HistoryOp[] = [];
  let step = 0;
  const violate = (kind: ReplayViolationKind, message: string): void => {
    if (violations.length < 50) violations.push({ kind, step, message });
  };
  const { params, ops } = trace;
  const durability = !(params.unsafe.memoryLog || params.unsafe.ackBeforeFsync);
  const invariants = new InvariantChecker((message) => violate('invariant', message), durability);
  const cluster = SteppedCluster.start(params, ops, rules);
  for (const id of cluster.ids) invariants.onStart(id, { hardState: { currentTerm: 0, votedFor: null }, entries: [] });
  let committed: readonly Entry[] = [];
  const floors = new Map<number, number>();
  // With membership changes only (admin events or spare ids): with a fixed membership Figure 3 covers it, and the
  // storage flags (memory-log, ack-before-fsync) would be reported here first, before the violation they are known by.
  const judgeCommitQuorums = (params.spareCount ?? 0) > 0 || trace.events.some((event) => event.kind === 'admin');
  /**
   * Per node, after its last event: its term and commit index (a leader's commit that advances is judged), the term of
   * its entry there, its role and last index (a leader's appended configuration entries are judged).
   */
  const commits = new Map<
    string,
    { term: number; commitIndex: number; termAtCommit: number | null; leading: boolean; lastIndex: number }
  >();
  const completed = new Set<number>();
  const record = (op: Omit<HistoryOp, 'index'>): void => {
    history.push({ index: history.length, ...op });
  };

  for (const event of trace.events) {
    step++;
    lines.push(`${String(step).padStart(3)}. ${describeEvent(event, ops)}`);
    if (event.kind === 'request' && cluster.attemptsOf(event.op) === 0) {
      const spec = ops[event.op];
      if (spec !== undefined) {
        record(invokeOp(spec, event.op));
        if (spec.op.type === 'get') floors.set(event.op, latestWriteIndex(committed, spec.op.key));
      }
    }
    let outcome;
    try {
      outcome = cluster.run(event);
    } catch (error) {
      if (error instanceof EventNotPossible) {
        violate('diverged', `event ${step} cannot run: ${error.message}`);
        break;
      }
      violate('node_error', `${'node' in event ? event.node : 'a node'} threw: ${error instanceof Error ? error.message : String(error)}`);
      break;
    }
    const id = outcome.node;
    const effects = outcome.effects;
    if (id === null || effects === null) continue;
    // An answer sent at once echoes its request's seq only in its term (answer-rules.ts; what it vouches for is the
    // wire ledger's, invariants.ts, which bounds the commit index from what was sent).
    const delivered = outcome.delivered;
    if (delivered !== undefined) {
      for (const answer of effects.messages) {
        const problem = answerProblem(delivered, answer, null);
        if (problem !== null) violate('invariant', `stale echo: ${problem}`);
      }
    }
    if (effects.crashed) invariants.onStop(id);
    if (effects.started !== null) invariants.onStart(id, effects.started);
    for (const message of effects.messages) {
      if (message.type === 'install_snapshot' || message.type === 'snapshot_chunk') invariants.onSnapshotChunk(message);
      else if (message.type !== 'snapshot_ack') invariants.onSend(id, message);
      lines.push(`       ${describeSteppedMessage(message)}`);
    }
    // §7 across configurations: the snapshot's own, the one now in effect on the node and a leader's newest (a leader
    // counts it for entries before it: commit-quorum.ts, mc/model.ts checkSnapshotCommitted).
    const meta = effects.snapshotSerialised;
    if (meta !== null) {
      const configurations = [meta.configuration, cluster.node(id).core()?.status().configuration ?? meta.configuration];
      for (const other of cluster.ids) {
        const status = cluster.node(other).core()?.status();
        if (status?.role === 'leader') configurations.push(status.configuration);
      }
      const problem = uncommittedSnapshotProblem(id, meta.index, meta.term, configurations, (voter) =>
        holdsEntry(cluster, voter, meta.index, meta.term),
      );
      if (problem !== null) violate('invariant', problem);
    }
    if (effects.snapshotSaved !== null)
      lines.push(`       ${id} saves snapshot ${effects.snapshotSaved.index}@${effects.snapshotSaved.term}`);
    for (const { entry } of effects.applied) {
      invariants.onApply(id, entry);
    }
    if (effects.applied.length > 0)
      lines.push(`       ${id} applies ${effects.applied.map(({ entry }) => `${entry.index}@${entry.term}`).join(', ')}`);
    const core = cluster.node(id).core();
    if (core !== null) {
      invariants.checkNode(id, core);
      const status = core.status();
      const before = commits.get(id);
      const termAt = (index: number): number | null =>
        core.log().find((entry) => entry.index === index)?.term ??
        (index === status.firstIndex - 1 ? core.snapshotState().logPrevTerm : null);
      commits.set(id, {
        term: status.currentTerm,
        commitIndex: status.commitIndex,
        termAtCommit: termAt(status.commitIndex),
        leading: status.role === 'leader',
        lastIndex: status.lastLogIndex,
      });
      if (
        before?.leading === true &&
        status.role === 'leader' &&
        before.term === status.currentTerm &&
        status.lastLogIndex > before.lastIndex
      ) {
        const appended = core.log().filter((entry) => entry.index > before.lastIndex);
        const previousConfig = core
          .log()
          .filter((entry) => entry.type === 'config' && entry.index <= before.lastIndex)
          .at(-1);
        const problem = configChangeProblem({
          leader: id,
          term: status.currentTerm,
          appended,
          commitIndexBefore: before.commitIndex,
          termAtCommit: before.termAtCommit,
          previousConfigIndex: previousConfig?.index ?? 0,
        });
        if (problem !== null) violate('invariant', problem);
      }
      if (
        judgeCommitQuorums &&
        status.role === 'leader' &&
        before?.term === status.currentTerm &&
        status.commitIndex > before.commitIndex
      ) {
        const index = status.commitIndex;
        const term = core.log().find((entry) => entry.index === index)?.term ?? core.snapshotState().logPrevTerm;
        const problem = commitQuorumProblem(id, status.configuration, index, term, (voter) => holdsEntry(cluster, voter, index, term));
        if (problem !== null) violate('invariant', problem);
      }
      if (status.commitIndex > committed.length) {
        // The committed prefix grows from this node's log (a compacted log holds only what follows its snapshot).
        const grown = committed.slice();
        for (const entry of core.log()) if (entry.index === grown.length + 1 && entry.index <= status.commitIndex) grown.push(entry);
        committed = grown;
      }
      lines.push(`       ${id}: ${describeStatus(status)}`);
    }
    for (const served of effects.served) {
      const floor = floors.get(served.ref.op) ?? 0;
      const problem = readSafetyViolation(served.ref.op, served.key, served.value, served.lastApplied, floor);
      if (problem !== null) violate('read_safety', problem);
    }
    for (const reply of effects.replies) {
      const verdict = judgeReply(reply.outcome);
      const spec = ops[reply.ref.op];
      lines.push(`       reply to op${reply.ref.op}: ${JSON.stringify(reply.outcome)}`);
      if (spec === undefined || verdict.kind === 'retry' || completed.has(reply.ref.op)) continue;
      completed.add(reply.ref.op);
      record(completeOp(spec, reply.ref.op, verdict));
    }
  }

  if (history.length > 0) {
    const result = checkHistory(history, { model: 'cas-register', timeLimitMs: 10_000 });
    if (result.valid === false) violate('linearizability', `the client history is not linearizable (keys ${result.failures.join(', ')})`);
  }
  if (trace.checkLiveness && !violations.some((v) => v.kind === 'diverged' || v.kind === 'node_error')) {
    step = trace.events.length + 1;
    try {
      const heal = checkLiveness(cluster);
      lines.push(`  liveness: ${heal.detail}`);
      if (!heal.ok) violate('liveness', `liveness: ${heal.detail}`);
    } catch (error) {
      violate('node_error', `the liveness check threw: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return { steps: trace.events.length, violations, lines, history };
}

/**
 * Whether node `id` holds entry `index`@`term`: in its core's log, or its
 * disk's while down; under its compaction point (a snapshot covers only
 * committed entries) or at it (its last included entry).
 */
function holdsEntry(cluster: SteppedCluster, id: string, index: number, term: number): boolean {
  const node = cluster.node(id);
  const core = node.core();
  if (core !== null) {
    const first = core.status().firstIndex;
    if (index < first - 1) return true;
    if (index === first - 1) return core.snapshotState().logPrevTerm === term;
    return core.log()[index - first]?.term === term;
  }
  const log = durableLog(node.durableState());
  if (index < log.prevIndex) return true;
  if (index === log.prevIndex) return log.prevTerm === term;
  return log.entries[index - log.prevIndex - 1]?.term === term;
}
