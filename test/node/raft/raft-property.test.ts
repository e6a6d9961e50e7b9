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
 * Replay: the fast-check seed is in the test name and in the failure report
 * (`RAFT_PROPERTY_SEED=<seed> npx vitest run test/node/raft/raft-property.test.ts`).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { NodeId } from '../../../node/raft/types.js';
import { Network } from './network.js';

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
  | { readonly kind: 'restart'; readonly node: number };

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
);

const MAX_QUEUE = 300;

/** Coverage counters, so the property cannot pass vacuously (no elections, nothing committed). */
const coverage = { runs: 0, maxTerm: 0, leaderChanges: 0, applied: 0, restarts: 0, readsServed: 0 };

function run(size: number, preVote: boolean, checkQuorum: boolean, prngSeed: number, actions: readonly Action[]): void {
  const net = new Network(size, { electionTimeoutTicksMin: 4, electionTimeoutTicksMax: 8, heartbeatIntervalTicks: 1, preVote, checkQuorum, maxInflightAppends: 4 }, prngSeed);
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
        if (other !== undefined && other !== id) throw new Error(`step ${step}: two leaders in term ${status.currentTerm}: ${other} and ${id}`);
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
        if (seen !== undefined && seen !== key) throw new Error(`step ${step}: ${id} applied ${key} at index ${entry.index}, another node applied ${seen}`);
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
          throw new Error(`step ${step}: ${id} served read ${read.requestId} at index ${read.readIndex}, below index ${asked.minIndex} committed before it was asked (stale read)`);
        }
        const now = committedAnywhere();
        if (read.readIndex > now) throw new Error(`step ${step}: ${id} served read ${read.requestId} at index ${read.readIndex}, above anything committed (${now})`);
        coverage.readsServed++;
      }
      readsSeen.set(id, served.length);
    }
  };

  for (const [step, action] of actions.entries()) {
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
        net.stabilize();
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
    if (net.queue.length > MAX_QUEUE) net.queue.splice(0, net.queue.length - MAX_QUEUE); // a bounded, lossy network
    checkInvariants(step);
  }

  coverage.runs++;
  coverage.leaderChanges += leaders.size;
  coverage.applied += committed.size;
  for (const id of net.ids) coverage.maxTerm = Math.max(coverage.maxTerm, net.node(id).status().currentTerm);

  // Liveness after the faults: heal, let a leader emerge, and commit one more entry everywhere.
  net.heal();
  net.stabilize();
  const leader = net.waitForLeader(300);
  net.propose(leader, 'final');
  net.tick(10);
  checkInvariants(actions.length);
  for (const id of net.ids) {
    expect(net.applied.get(id)?.some((e) => e.data === 'final'), `${id} applied the final entry`).toBe(true);
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
