/**
 * Property: under any schedule of message loss, duplication and reordering,
 * ticks, proposals, reads and crash-restarts on 3-5 nodes, the core keeps
 * Election Safety (at most one leader per term, §5.2), State Machine
 * Safety (no two nodes apply different entries at one index, §5.4.3) and
 * read safety (a ReadIndex read, thesis §6.4, is served at an index no lower
 * than anything committed anywhere when it was asked, nor higher than
 * anything committed when it is served); and
 * once the network heals, a leader is elected and commits a new entry on
 * every node (liveness after faults).
 *
 * A second property adds snapshots and membership changes (below).
 *
 * Replay: the fast-check seed is in the test name and in the failure report
 * (`RAFT_PROPERTY_SEED=<seed> npx vitest run test/node/raft/raft-property.test.ts`).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  applyConfChange,
  decodeConfigEntry,
  describeConfiguration,
  makeConfiguration,
  sameConfiguration,
} from '../../../node/raft/configuration.js';
import { describeProgress, describeStatus } from '../../../node/raft/describe.js';
import {
  safeCoreFlags,
  type ConfChange,
  type Configuration,
  type Entry,
  type NodeId,
  type RaftMessage,
  type UnsafeCoreFlags,
} from '../../../node/raft/types.js';
import { Network, type ConfigOverrides } from './network.js';

type Action =
  | { readonly kind: 'tick'; readonly node: number }
  | { readonly kind: 'tick_all' }
  /** Deliver one of the oldest few messages (mild reordering). */
  | { readonly kind: 'deliver'; readonly pick: number }
  /** Deliver any queued message (arbitrary reordering / long delay). */
  | { readonly kind: 'deliver_any'; readonly pick: number }
  /** Deliver everything queued, in order, and what that provokes (a calm period). */
  | { readonly kind: 'flush' }
  | { readonly kind: 'drop'; readonly pick: number }
  | { readonly kind: 'duplicate'; readonly pick: number }
  | { readonly kind: 'propose'; readonly node: number }
  | { readonly kind: 'read'; readonly node: number }
  | { readonly kind: 'restart'; readonly node: number }
  /**
   * A partition (Jepsen's favourite fault, which independent drops almost
   * never add up to): for `steps` actions every message to or from the node
   * is lost. Without it a deposed leader that keeps serving reads was never
   * seen (a ReadIndex without its leadership round passed 5,000 runs): its
   * cut-off has to last while the others elect and commit.
   */
  | { readonly kind: 'isolate'; readonly node: number; readonly steps: number };

const nat = fc.nat({ max: 1000 });
const actionArb: fc.Arbitrary<Action> = fc.oneof(
  { weight: 12, arbitrary: fc.record({ kind: fc.constant('deliver' as const), pick: nat }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('deliver_any' as const), pick: nat }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'flush' as const }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('tick' as const), node: nat }) },
  { weight: 5, arbitrary: fc.constant({ kind: 'tick_all' as const }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('drop' as const), pick: nat }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('duplicate' as const), pick: nat }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('propose' as const), node: nat }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('read' as const), node: nat }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('restart' as const), node: nat }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('isolate' as const), node: nat, steps: fc.integer({ min: 5, max: 80 }) }) },
);

/**
 * The `isolate` action's partition: while it lasts, every message to or from
 * the isolated node is lost (queued ones at each step, new ones as they are
 * sent), and a `flush` delivers only what the partition lets through.
 */
class Partition {
  private isolation: { readonly id: NodeId; readonly untilStep: number } | null = null;

  constructor(private readonly net: { readonly queue: RaftMessage[]; deliver(message: RaftMessage): void; stabilize(): void }) {}

  isolate(id: NodeId, untilStep: number): void {
    this.isolation = { id, untilStep };
  }

  heal(): void {
    this.isolation = null;
  }

  /** Before each step: end an isolation that ran its course, and lose what it still cuts off. */
  atStep(step: number): void {
    if (this.isolation !== null && step >= this.isolation.untilStep) this.isolation = null;
    this.dropCutOff();
  }

  dropCutOff(): void {
    const cut = this.isolation;
    if (cut === null) return;
    const queue = this.net.queue;
    for (let i = queue.length - 1; i >= 0; i--) if (queue[i]!.from === cut.id || queue[i]!.to === cut.id) queue.splice(i, 1);
  }

  /** Deliver everything the partition lets through, one message at a time (bounded: a live cluster keeps talking). */
  flush(): void {
    if (this.isolation === null) {
      this.net.stabilize();
      return;
    }
    for (let i = 0; i < 1000 && this.net.queue.length > 0; i++) {
      this.net.deliver(this.net.queue.shift()!);
      this.dropCutOff();
    }
  }
}

const MAX_QUEUE = 300;

/** Coverage counters, so the property cannot pass vacuously (no elections, nothing committed). */
const coverage = { runs: 0, maxTerm: 0, leaderChanges: 0, applied: 0, restarts: 0, readsServed: 0, isolations: 0 };

function run(size: number, preVote: boolean, checkQuorum: boolean, prngSeed: number, actions: readonly Action[]): void {
  const net = new Network(
    size,
    { electionTimeoutTicksMin: 4, electionTimeoutTicksMax: 8, heartbeatIntervalTicks: 1, preVote, checkQuorum, maxInflightAppends: 4 },
    prngSeed,
  );
  const leaders = new Map<number, NodeId>();
  const committed = new Map<number, string>();
  const checked = new Map<NodeId, number>();
  let proposals = 0;
  const pickNode = (n: number): NodeId => net.ids[n % net.ids.length] ?? 'n1';
  /** The highest index committed anywhere now: whatever any node knows committed is committed (§5.4). */
  const committedAnywhere = (): number => Math.max(0, ...net.ids.map((id) => net.node(id).status().commitIndex));
  /** Reads asked and not yet served: where, and the highest committed index when asked. */
  const pendingReads = new Map<string, { readonly node: NodeId; readonly minIndex: number }>();
  const readsSeen = new Map<NodeId, number>();

  const checkInvariants = (step: number): void => {
    for (const id of net.ids) {
      const status = net.node(id).status();
      if (status.role === 'leader') {
        const other = leaders.get(status.currentTerm);
        if (other !== undefined && other !== id)
          throw new Error(`step ${step}: two leaders in term ${status.currentTerm}: ${other} and ${id}`);
        leaders.set(status.currentTerm, id);
      }
      const applied = net.applied.get(id) ?? [];
      let from = checked.get(id) ?? 0;
      if (from > applied.length) from = 0; // restarted: the state machine is rebuilt from index 1
      for (let i = from; i < applied.length; i++) {
        const entry = applied[i];
        if (entry === undefined) continue;
        const key = `${entry.term}:${entry.type}:${entry.data}`;
        const seen = committed.get(entry.index);
        if (seen !== undefined && seen !== key)
          throw new Error(`step ${step}: ${id} applied ${key} at index ${entry.index}, another node applied ${seen}`);
        committed.set(entry.index, key);
      }
      checked.set(id, applied.length);
      // Read safety: each read the node served (ReadIndex, thesis §6.4) reflects every entry committed before it was asked.
      const served = net.readStates.get(id) ?? [];
      let seen = readsSeen.get(id) ?? 0;
      if (seen > served.length) seen = 0; // restarted: its pending reads are gone
      for (const read of served.slice(seen)) {
        const asked = pendingReads.get(read.requestId);
        if (asked === undefined) throw new Error(`step ${step}: ${id} served read ${read.requestId} that nobody asked it`);
        if (asked.node !== id) throw new Error(`step ${step}: read ${read.requestId} asked of ${asked.node} was served by ${id}`);
        pendingReads.delete(read.requestId);
        if (read.readIndex < asked.minIndex) {
          throw new Error(
            `step ${step}: ${id} served read ${read.requestId} at index ${read.readIndex}, below index ${asked.minIndex} committed before it was asked (stale read)`,
          );
        }
        const now = committedAnywhere();
        if (read.readIndex > now)
          throw new Error(
            `step ${step}: ${id} served read ${read.requestId} at index ${read.readIndex}, above anything committed (${now})`,
          );
        coverage.readsServed++;
      }
      readsSeen.set(id, served.length);
    }
  };

  const partition = new Partition(net);

  for (const [step, action] of actions.entries()) {
    partition.atStep(step);
    switch (action.kind) {
      case 'tick':
        net.node(pickNode(action.node)).tick();
        net.processReady(pickNode(action.node));
        break;
      case 'tick_all':
        for (const id of net.ids) net.node(id).tick();
        net.processAll();
        break;
      case 'deliver':
      case 'deliver_any':
      case 'drop': {
        if (net.queue.length === 0) break;
        const window = action.kind === 'deliver' ? Math.min(net.queue.length, 4) : net.queue.length;
        const [message] = net.queue.splice(action.pick % window, 1);
        if (action.kind !== 'drop' && message !== undefined) net.deliver(message);
        break;
      }
      case 'flush':
        partition.flush();
        break;
      case 'isolate':
        partition.isolate(pickNode(action.node), step + action.steps);
        coverage.isolations++;
        break;
      case 'duplicate': {
        const message = net.queue[action.pick % Math.max(1, net.queue.length)];
        if (message !== undefined) net.queue.push(message);
        break;
      }
      case 'propose': {
        // Mostly to a leader (clients find it through leader hints), sometimes anywhere.
        const target = action.node % 4 !== 0 ? (net.leader() ?? pickNode(action.node)) : pickNode(action.node);
        net.node(target).propose(`v${proposals++}`);
        net.processReady(target);
        break;
      }
      case 'read': {
        // Mostly to a node that believes it leads, deposed ones included (a client with a stale
        // leader hint asks one of those), sometimes anywhere (a follower refuses them).
        const claimants = net.ids.filter((id) => !net.isDown(id) && net.node(id).status().role === 'leader');
        const target = action.node % 4 !== 0 && claimants.length > 0 ? claimants[action.node % claimants.length]! : pickNode(action.node);
        pendingReads.set(`r${step}`, { node: target, minIndex: committedAnywhere() });
        net.node(target).readIndex(`r${step}`);
        net.processReady(target);
        break;
      }
      case 'restart':
        coverage.restarts++;
        net.crash(pickNode(action.node));
        net.restart(pickNode(action.node));
        break;
    }
    partition.dropCutOff();
    if (net.queue.length > MAX_QUEUE) net.queue.splice(0, net.queue.length - MAX_QUEUE); // a bounded, lossy network
    checkInvariants(step);
  }

  coverage.runs++;
  coverage.leaderChanges += leaders.size;
  coverage.applied += committed.size;
  for (const id of net.ids) coverage.maxTerm = Math.max(coverage.maxTerm, net.node(id).status().currentTerm);

  // Liveness after the faults: heal, let a leader emerge, and commit one more entry everywhere.
  partition.heal();
  net.heal();
  net.stabilize();
  // A client retries: a node healed after a long cut-off may depose the leader once (without pre-vote it
  // comes back with a higher term) and take an uncommitted 'final' with it; the next leader gets it again.
  const appliedFinal = (id: NodeId): boolean => net.applied.get(id)?.some((e) => e.data === 'final') === true;
  for (let attempt = 0; attempt < 3 && !net.ids.every(appliedFinal); attempt++) {
    net.propose(net.waitForLeader(300), 'final');
    net.tick(10);
  }
  checkInvariants(actions.length);
  for (const id of net.ids) {
    expect(appliedFinal(id), `${id} applied the final entry`).toBe(true);
  }
  // And a read asked of the leader now is served, at an index that includes the final entry.
  const finalLeader = net.waitForLeader(300);
  pendingReads.set('final-read', { node: finalLeader, minIndex: committedAnywhere() });
  net.node(finalLeader).readIndex('final-read');
  net.processReady(finalLeader);
  net.stabilize();
  net.tick(5);
  checkInvariants(actions.length + 1);
  expect(pendingReads.has('final-read'), `the read asked of ${finalLeader} after the heal was served`).toBe(false);
}

const seed = Number(process.env['RAFT_PROPERTY_SEED'] ?? Math.floor(Math.random() * 0x7fffffff));

describe('Raft safety under lossy, duplicating, reordering networks (property)', () => {
  it(`never two leaders in a term nor two entries applied at one index (fast-check seed ${seed})`, () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 3, max: 5 }),
        fc.boolean(),
        fc.boolean(),
        fc.noShrink(fc.integer({ min: 1, max: 1_000_000 })),
        fc.array(actionArb, { minLength: 100, maxLength: 600 }),
        (size, preVote, checkQuorum, prngSeed, actions) => run(size, preVote, checkQuorum, prngSeed, actions),
      ),
      { seed, numRuns: Number(process.env['RAFT_PROPERTY_RUNS'] ?? 300) },
    );
  });

  it('covers elections, commits and restarts (the property is not vacuous)', () => {
    // Runs after the property above (same file, sequential).
    console.log(`raft property coverage: ${JSON.stringify(coverage)}`);
    expect(coverage.runs).toBeGreaterThan(0);
    expect(coverage.maxTerm).toBeGreaterThanOrEqual(3);
    expect(coverage.leaderChanges / coverage.runs).toBeGreaterThanOrEqual(1);
    expect(coverage.applied / coverage.runs).toBeGreaterThanOrEqual(2);
    // The read check above judged reads, not none.
    expect(coverage.readsServed / coverage.runs).toBeGreaterThanOrEqual(1);
  });
});

// ---------------------------------------------------------------- with snapshots and membership changes

/**
 * The same adversary, plus log compaction and InstallSnapshot (§7) and
 * single-server membership changes (dissertation ch. 4): the core asks for
 * snapshots every few entries and the driver sometimes takes one on its
 * own; snapshot streams are delivered late, duplicated or lost (and then
 * reported failed); leaders add fresh servers as learners (never reusing a
 * removed identity, the issue's replacement procedure), promote them and
 * remove members, including themselves. Checked after every step:
 * - Election Safety across configurations: at most one leader per term,
 *   over every node that ever existed (old and new configurations alike);
 * - Log Matching: two logs holding an entry with the same index and term
 *   hold the same entry there and agree on every index both hold before it;
 * - State Machine Safety: no two nodes apply different entries at one
 *   index, also through snapshots (a restored state machine is the
 *   snapshot's applied prefix, so a snapshot holding uncommitted state
 *   shows up as a disagreement), and every node applies each index once,
 *   in order (the driver fails otherwise);
 * - every configuration entry in every log is one single-server change
 *   from the configuration in effect before it.
 * - what a leader counts towards commits is true: a follower it counts as
 *   holding index i holds the leader's entry at i.
 * Then liveness: heal, shut down servers the newest (committed)
 * configuration removed, and a final entry commits on every member.
 * `RAFT_PROPERTY_UNSAFE=<UnsafeCoreFlags key>` runs it with that flag on.
 */
type MembershipAction =
  | Action
  | { readonly kind: 'deliver_snapshot'; readonly pick: number }
  | { readonly kind: 'drop_snapshot'; readonly pick: number }
  | { readonly kind: 'duplicate_snapshot'; readonly pick: number }
  | { readonly kind: 'conf'; readonly pick: number; readonly which: number }
  | { readonly kind: 'driver_snapshot'; readonly node: number };

const membershipActionArb: fc.Arbitrary<MembershipAction> = fc.oneof(
  { weight: 40, arbitrary: actionArb },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('deliver_snapshot' as const), pick: nat }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('drop_snapshot' as const), pick: nat }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('duplicate_snapshot' as const), pick: nat }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('conf' as const), pick: nat, which: nat }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('driver_snapshot' as const), node: nat }) },
);

const SPARE_IDS = ['n6', 'n7', 'n8'] as const;
const MAX_SNAPSHOT_QUEUE = 20;
const membershipCoverage = { runs: 0, snapshotsTaken: 0, snapshotsInstalled: 0, confChanges: 0, promotions: 0, removals: 0, applied: 0 };

function checkLogMatching(step: number, logs: ReadonlyMap<NodeId, readonly Entry[]>): void {
  const entries = [...logs.entries()];
  for (let a = 0; a < entries.length; a++) {
    for (let b = a + 1; b < entries.length; b++) {
      const [idA, logA] = entries[a] ?? ['', []];
      const [idB, logB] = entries[b] ?? ['', []];
      const byIndex = new Map(logB.map((e) => [e.index, e]));
      // The highest index where both hold an entry of the same term: everything both hold up to it must agree.
      let anchor = 0;
      for (const e of logA) if (byIndex.get(e.index)?.term === e.term) anchor = Math.max(anchor, e.index);
      for (const e of logA) {
        if (e.index > anchor) break;
        const other = byIndex.get(e.index);
        if (other !== undefined && (other.term !== e.term || other.type !== e.type || other.data !== e.data)) {
          throw new Error(
            `step ${step}: Log Matching: ${idA} and ${idB} agree at ${anchor} but differ at ${e.index} (${e.term}/${other.term})`,
          );
        }
      }
    }
  }
}

function checkSingleServerSteps(step: number, id: NodeId, start: Configuration, log: readonly Entry[]): void {
  let current = start;
  for (const entry of log) {
    if (entry.type !== 'config') continue;
    const decoded = decodeConfigEntry(entry.data);
    if (!decoded.ok) throw new Error(`step ${step}: ${id} holds a malformed config entry at ${entry.index}`);
    const expected = applyConfChange(current, decoded.data.change);
    if (!expected.ok || !sameConfiguration(expected.configuration, decoded.data.configuration)) {
      throw new Error(
        `step ${step}: ${id}'s config entry at ${entry.index} (${entry.data}) is not one change from ${JSON.stringify(current)}; ` +
          `log ${log.map((e) => `${e.index}@${e.term}`).join(' ')}`,
      );
    }
    current = decoded.data.configuration;
  }
}

function runWithMembership(
  size: number,
  preVote: boolean,
  checkQuorum: boolean,
  snapshotEveryEntries: number,
  snapshotTrailingEntries: number,
  prngSeed: number,
  actions: readonly MembershipAction[],
  unsafe: UnsafeCoreFlags = safeCoreFlags,
): void {
  const overrides: ConfigOverrides = {
    electionTimeoutTicksMin: 4,
    electionTimeoutTicksMax: 8,
    heartbeatIntervalTicks: 1,
    preVote,
    checkQuorum,
    maxInflightAppends: 4,
    snapshotEveryEntries,
    snapshotTrailingEntries,
    unsafe,
  };
  const net = new Network(size, overrides, prngSeed);
  const bootstrap = makeConfiguration(net.ids);
  const leaders = new Map<number, NodeId>();
  const committed = new Map<number, string>();
  let proposals = 0;
  let spare = 0;
  const pickNode = (n: number): NodeId => net.ids[n % net.ids.length] ?? 'n1';

  const checkInvariants = (step: number): void => {
    const logs = new Map<NodeId, readonly Entry[]>();
    for (const id of net.ids) {
      const node = net.node(id);
      const status = node.status();
      if (status.role === 'leader') {
        const other = leaders.get(status.currentTerm);
        if (other !== undefined && other !== id)
          throw new Error(`step ${step}: two leaders in term ${status.currentTerm}: ${other} and ${id}`);
        leaders.set(status.currentTerm, id);
      }
      const applied = net.applied.get(id) ?? [];
      for (const entry of applied) {
        const key = `${entry.term}:${entry.type}:${entry.data}`;
        const seen = committed.get(entry.index);
        if (seen !== undefined && seen !== key)
          throw new Error(`step ${step}: ${id} applied ${key} at index ${entry.index}, another node applied ${seen}`);
        committed.set(entry.index, key);
      }
      // A snapshot holds the applied prefix up to its index, and says the term of its last entry.
      const disk = net.disks.get(id);
      if (disk?.snapshot != null) {
        const last = disk.snapshotData[disk.snapshot.index - 1];
        if (disk.snapshotData.length !== disk.snapshot.index || last?.term !== disk.snapshot.term) {
          throw new Error(`step ${step}: ${id}'s snapshot ${disk.snapshot.index}@${disk.snapshot.term} does not match its contents`);
        }
        // Its configuration is the newest one its contents applied (or the bootstrap one).
        const lastConfig = [...disk.snapshotData].reverse().find((e) => e.type === 'config');
        const expected = lastConfig === undefined ? bootstrap : decodeConfigEntry(lastConfig.data);
        const expectedConfiguration = 'ok' in expected ? (expected.ok ? expected.data.configuration : null) : expected;
        if (expectedConfiguration === null || !sameConfiguration(expectedConfiguration, disk.snapshot.configuration)) {
          throw new Error(
            `step ${step}: ${id}'s snapshot at ${disk.snapshot.index} says ${JSON.stringify(disk.snapshot.configuration)}; its contents say ${JSON.stringify(expectedConfiguration)}`,
          );
        }
      }
      logs.set(id, node.log());
      const start = status.snapshot?.configuration ?? (net.ids.indexOf(id) < size ? bootstrap : null);
      if (start !== null && status.firstIndex <= (status.snapshot?.index ?? 0) + 1) {
        try {
          checkSingleServerSteps(
            step,
            id,
            start,
            node.log().filter((e) => e.index > (status.snapshot?.index ?? 0)),
          );
        } catch (error) {
          throw new Error(
            `${String(error)}; status ${JSON.stringify(status)} disk snapshot ${JSON.stringify(net.disks.get(id)?.snapshot)}`,
          );
        }
      }
    }
    checkLogMatching(step, logs);
    checkLeaderViews(step);
  };

  /**
   * What a leader counts towards commits is true: for every follower in its
   * term, the follower holds the leader's entry at the matchIndex the leader
   * has for it (or has compacted it, so it was committed). A follower that
   * acknowledges entries it does not hold (a kept conflicting log, a lost
   * write) breaks this before any commit goes wrong.
   */
  const termAt = (id: NodeId, index: number): number | null | 'compacted' => {
    const status = net.node(id).status();
    if (status.snapshot !== null && index === status.snapshot.index) return status.snapshot.term;
    if (index < status.firstIndex) return 'compacted';
    return (
      net
        .node(id)
        .log()
        .find((e) => e.index === index)?.term ?? null
    );
  };
  const checkLeaderViews = (step: number): void => {
    for (const leaderId of net.ids) {
      const leader = net.node(leaderId);
      if (leader.status().role !== 'leader') continue;
      for (const peer of net.ids) {
        const progress = leader.progressOf(peer);
        if (progress === null || progress.matchIndex === 0 || net.node(peer).status().currentTerm !== leader.status().currentTerm) continue;
        const mine = termAt(leaderId, progress.matchIndex);
        const theirs = termAt(peer, progress.matchIndex);
        if (mine === 'compacted' || theirs === 'compacted' || mine === null) continue;
        if (mine !== theirs) {
          throw new Error(
            `step ${step}: leader ${leaderId} counts ${peer} as holding ${progress.matchIndex}@${mine}; it holds ${theirs === null ? 'nothing' : `term ${theirs}`} there`,
          );
        }
      }
    }
  };

  const proposeConf = (pick: number, which: number): void => {
    const leaderId = net.leader();
    if (leaderId === null) return;
    const leader = net.node(leaderId);
    const configuration = leader.configuration();
    let change: ConfChange | null = null;
    switch (which % 3) {
      case 0: {
        const fresh = SPARE_IDS[spare];
        if (fresh === undefined) return;
        if (!net.ids.includes(fresh)) net.addNode(fresh, overrides);
        change = { type: 'add_learner', node: fresh };
        break;
      }
      case 1: {
        const learner = configuration.learners[pick % Math.max(1, configuration.learners.length)];
        if (learner !== undefined) change = { type: 'promote', node: learner };
        break;
      }
      default: {
        const members = [...configuration.voters, ...configuration.learners];
        const member = members[pick % members.length];
        if (member !== undefined) change = { type: 'remove', node: member };
      }
    }
    if (change === null) return;
    const result = leader.proposeConfChange(change);
    if (!result.ok) return;
    if (change.type === 'add_learner') spare++;
    membershipCoverage.confChanges++;
    if (change.type === 'promote') membershipCoverage.promotions++;
    if (change.type === 'remove') membershipCoverage.removals++;
    net.processReady(leaderId);
  };

  const partition = new Partition(net);

  for (const [step, action] of actions.entries()) {
    partition.atStep(step);
    switch (action.kind) {
      case 'tick':
        net.node(pickNode(action.node)).tick();
        net.processReady(pickNode(action.node));
        break;
      case 'tick_all':
        for (const id of net.ids) net.node(id).tick();
        net.processAll();
        break;
      case 'deliver':
      case 'deliver_any':
      case 'drop': {
        if (net.queue.length === 0) break;
        const window = action.kind === 'deliver' ? Math.min(net.queue.length, 4) : net.queue.length;
        const [message] = net.queue.splice(action.pick % window, 1);
        if (action.kind !== 'drop' && message !== undefined) net.deliver(message);
        break;
      }
      case 'flush':
        partition.flush();
        break;
      case 'isolate':
        partition.isolate(pickNode(action.node), step + action.steps);
        break;
      case 'duplicate': {
        const message = net.queue[action.pick % Math.max(1, net.queue.length)];
        if (message !== undefined) net.queue.push(message);
        break;
      }
      case 'propose': {
        const target = action.node % 4 !== 0 ? (net.leader() ?? pickNode(action.node)) : pickNode(action.node);
        net.node(target).propose(`v${proposals++}`);
        net.processReady(target);
        break;
      }
      case 'read':
        net.node(pickNode(action.node)).readIndex(`r${step}`);
        net.processReady(pickNode(action.node));
        break;
      case 'restart':
        net.crash(pickNode(action.node));
        net.restart(pickNode(action.node));
        break;
      case 'deliver_snapshot':
      case 'drop_snapshot': {
        const [stream] = net.snapshotQueue.splice(action.pick % Math.max(1, net.snapshotQueue.length), 1);
        if (stream === undefined) break;
        if (action.kind === 'deliver_snapshot') net.deliverSnapshot(stream);
        else net.dropSnapshot(stream);
        break;
      }
      case 'duplicate_snapshot': {
        const stream = net.snapshotQueue[action.pick % Math.max(1, net.snapshotQueue.length)];
        if (stream !== undefined) net.snapshotQueue.push(stream);
        break;
      }
      case 'conf':
        proposeConf(action.pick, action.which);
        break;
      case 'driver_snapshot':
        net.snapshotNow(pickNode(action.node));
        break;
    }
    if (net.queue.length > MAX_QUEUE) net.queue.splice(0, net.queue.length - MAX_QUEUE);
    while (net.snapshotQueue.length > MAX_SNAPSHOT_QUEUE) {
      const [oldest] = net.snapshotQueue.splice(0, 1);
      if (oldest !== undefined) net.dropSnapshot(oldest);
    }
    checkInvariants(step);
  }

  membershipCoverage.runs++;
  membershipCoverage.snapshotsTaken += net.snapshotCounts.taken;
  membershipCoverage.snapshotsInstalled += net.snapshotCounts.installed;
  membershipCoverage.applied += committed.size;

  // Liveness: heal, elect, shut down whoever the newest configuration no longer has, commit a final entry everywhere.
  const explain = (): string =>
    net.ids
      .map(
        (n) =>
          `${n}${net.isDown(n) ? '(down)' : ''}: ${describeStatus(net.node(n).status())} ${describeConfiguration(net.node(n).configuration())} ` +
          `log ${net
            .node(n)
            .log()
            .map((e) => `${e.index}@${e.term}${e.type[0]}`)
            .join(' ')}`,
      )
      .join('\n');
  const waitForLeader = (): NodeId => {
    try {
      return net.waitForLeader(300);
    } catch (error) {
      throw new Error(`${String(error)}\n${explain()}`);
    }
  };
  net.heal();
  net.stabilize();
  waitForLeader();
  net.tick(30); // a pending configuration change commits (a removed leader hands over)
  let leader = waitForLeader();
  const members = (): NodeId[] => {
    const configuration = net.node(leader).configuration();
    return [...configuration.voters, ...configuration.learners];
  };
  // Only once the leader's configuration is committed are the servers it leaves out really gone.
  const lastConfig =
    net
      .node(leader)
      .log()
      .filter((e) => e.type === 'config')
      .at(-1)?.index ?? 0;
  if (lastConfig <= net.node(leader).status().commitIndex) {
    for (const id of net.ids) if (!members().includes(id) && !net.isDown(id)) net.crash(id);
  }
  leader = waitForLeader();
  net.stabilize();
  const result = net.node(leader).propose('final');
  if (!result.ok) {
    leader = waitForLeader();
    net.propose(leader, 'final');
  } else net.stabilize();
  net.tick(20);
  checkInvariants(actions.length);
  for (const id of members()) {
    if (net.isDown(id)) continue;
    const state = (): string =>
      net.ids
        .map(
          (n) =>
            `${n}${net.isDown(n) ? '(down)' : ''}: ${describeStatus(net.node(n).status())} ${describeConfiguration(net.node(n).configuration())}` +
            ` ${net.node(leader).progressOf(n) === null ? '' : describeProgress(net.node(leader).progressOf(n)!)}`,
        )
        .join('\n');
    expect(
      net.applied.get(id)?.some((e) => e.data === 'final'),
      `${id} applied the final entry (leader ${leader})\n${state()}`,
    ).toBe(true);
  }
}

const debugUnsafe: UnsafeCoreFlags =
  process.env['RAFT_PROPERTY_UNSAFE'] === undefined ? safeCoreFlags : { ...safeCoreFlags, [process.env['RAFT_PROPERTY_UNSAFE']]: true };
const membershipSeed = Number(process.env['RAFT_PROPERTY_SEED'] ?? Math.floor(Math.random() * 0x7fffffff));

describe('Raft safety with snapshots and membership changes (property)', () => {
  it(`election safety across configurations, log matching, state machine safety (fast-check seed ${membershipSeed})`, () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 3, max: 5 }),
        fc.boolean(),
        fc.boolean(),
        fc.integer({ min: 2, max: 8 }),
        fc.integer({ min: 0, max: 3 }),
        fc.noShrink(fc.integer({ min: 1, max: 1_000_000 })),
        fc.array(membershipActionArb, { minLength: 100, maxLength: 500 }),
        (size, preVote, checkQuorum, every, trailing, prngSeed, actions) =>
          runWithMembership(size, preVote, checkQuorum, every, trailing, prngSeed, actions, debugUnsafe),
      ),
      { seed: membershipSeed, numRuns: Number(process.env['RAFT_PROPERTY_RUNS'] ?? 150) },
    );
  });

  it('catches a snapshot taken past the commit index (--unsafe-snapshot-past-commit; measured seed 1: 21 runs)', () => {
    // The other two issue-18 flags need a precise interleaving the random
    // schedule rarely builds; snapshot.test.ts and membership.test.ts build it.
    const result = fc.check(
      fc.property(
        fc.integer({ min: 3, max: 5 }),
        fc.boolean(),
        fc.boolean(),
        fc.integer({ min: 2, max: 8 }),
        fc.integer({ min: 0, max: 3 }),
        fc.noShrink(fc.integer({ min: 1, max: 1_000_000 })),
        fc.array(membershipActionArb, { minLength: 100, maxLength: 500 }),
        (size, preVote, checkQuorum, every, trailing, prngSeed, actions) =>
          runWithMembership(size, preVote, checkQuorum, every, trailing, prngSeed, actions, { ...safeCoreFlags, snapshotPastCommit: true }),
      ),
      { seed: 1, numRuns: 100, endOnFailure: true },
    );
    expect(result.failed, 'no violation within 100 runs (seed 1)').toBe(true);
    expect(String(result.errorInstance)).toMatch(/applied .* at index \d+, another node applied|Log Matching|counts n\d+ as holding/);
  });

  it('covers snapshots, installs and configuration changes (the property is not vacuous)', () => {
    console.log(`raft membership property coverage: ${JSON.stringify(membershipCoverage)}`);
    expect(membershipCoverage.runs).toBeGreaterThan(0);
    expect(membershipCoverage.snapshotsTaken / membershipCoverage.runs).toBeGreaterThanOrEqual(1);
    expect(membershipCoverage.snapshotsInstalled).toBeGreaterThan(0);
    expect(membershipCoverage.confChanges / membershipCoverage.runs).toBeGreaterThanOrEqual(0.5);
    expect(membershipCoverage.promotions).toBeGreaterThan(0);
    expect(membershipCoverage.removals).toBeGreaterThan(0);
  });
});
