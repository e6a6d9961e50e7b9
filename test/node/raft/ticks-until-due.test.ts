/**
 * RaftNode.ticksUntilDue: the host sleeps until the tick it names, so every
 * tick before it must be idle (no output) and the role timers it summarises
 * must act exactly then (an answer too large delays an election or a
 * heartbeat; one too small only costs a wake-up, but the tests pin the exact
 * value so that a regression to "always 1" is caught too).
 *
 * Replay the property: `TICKS_PROPERTY_SEED=<seed> npx vitest run test/node/raft/ticks-until-due.test.ts`.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { RaftNode } from '../../../node/raft/raft.js';
import { appendEntries, appendResponse, makeLeader, newNode, ofType, takeMessages } from './helpers.js';
import { Network } from './network.js';

/** Ticks `node` until it has output; returns how many ticks that took (throws past `limit`). */
function ticksToOutput(node: RaftNode, limit = 1000): number {
  for (let n = 1; n <= limit; n++) {
    node.tick();
    if (node.hasReady()) return n;
  }
  throw new Error(`no output within ${limit} ticks`);
}

describe('RaftNode.ticksUntilDue', () => {
  it('a follower: the randomized election timeout, counting down as ticks pass, reset by a heartbeat', () => {
    const node = newNode({ overrides: { electionTimeoutTicksMin: 10, electionTimeoutTicksMax: 19 } });
    const due = node.ticksUntilDue();
    expect(due).toBeGreaterThanOrEqual(10);
    expect(due).toBeLessThanOrEqual(19);
    node.tick();
    node.tick();
    expect(node.hasReady()).toBe(false);
    expect(node.ticksUntilDue()).toBe(due - 2);
    // a leader's heartbeat resets the election timer
    node.step(appendEntries({ from: 'n2', to: 'n1', term: 1, prevLogIndex: 0, prevLogTerm: 0, entries: [], leaderCommit: 0 }));
    node.ready();
    const fresh = node.ticksUntilDue();
    expect(fresh).toBeGreaterThanOrEqual(10);
    expect(ticksToOutput(node)).toBe(fresh);
    expect(node.status().role).toBe('candidate');
  });

  it('a leader: the next heartbeat', () => {
    const node = newNode({ overrides: { heartbeatIntervalTicks: 3, electionTimeoutTicksMin: 10, electionTimeoutTicksMax: 19 } });
    makeLeader(node);
    for (const peer of ['n2', 'n3']) node.step(appendResponse({ from: peer, to: 'n1', term: 1, success: true, matchIndex: 1 }));
    node.ready();
    expect(node.ticksUntilDue()).toBe(3);
    expect(ticksToOutput(node)).toBe(3);
    expect(ofType(takeMessages(node), 'append_entries')).toHaveLength(2);
    expect(node.ticksUntilDue()).toBe(3);
  });

  it('a leader with check-quorum and no heartbeat due first: the end of the check-quorum window', () => {
    // Heartbeat interval 9 > the 5-tick window left: the window ends first and, with no follower heard, the leader steps down.
    const node = newNode({
      overrides: { heartbeatIntervalTicks: 9, electionTimeoutTicksMin: 10, electionTimeoutTicksMax: 19, checkQuorum: true },
    });
    makeLeader(node);
    for (let i = 0; i < 5; i++) node.tick();
    node.ready();
    expect(node.ticksUntilDue()).toBe(4);
    for (let i = 0; i < 4; i++) node.tick();
    expect(node.ticksUntilDue()).toBe(1);
    node.tick();
    expect(node.status().role).toBe('follower');
  });

  it('a candidate: the RequestVote retry every heartbeat interval, before its election timeout', () => {
    const node = newNode({ overrides: { heartbeatIntervalTicks: 4, electionTimeoutTicksMin: 10, electionTimeoutTicksMax: 19 } });
    node.campaign();
    node.ready();
    expect(node.status().role).toBe('candidate');
    expect(node.ticksUntilDue()).toBe(4);
    expect(ticksToOutput(node)).toBe(4);
    expect(ofType(takeMessages(node), 'request_vote')).toHaveLength(2);
  });
});

type Action =
  | { readonly kind: 'tick'; readonly node: number; readonly times: number }
  | { readonly kind: 'deliver'; readonly pick: number }
  | { readonly kind: 'drop'; readonly pick: number }
  | { readonly kind: 'propose'; readonly node: number }
  | { readonly kind: 'read'; readonly node: number }
  | { readonly kind: 'transfer'; readonly node: number; readonly to: number }
  | { readonly kind: 'restart'; readonly node: number };

const nat = fc.nat({ max: 1000 });
const actionArb: fc.Arbitrary<Action> = fc.oneof(
  { weight: 10, arbitrary: fc.record({ kind: fc.constant('deliver' as const), pick: nat }) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('tick' as const), node: nat, times: fc.integer({ min: 1, max: 12 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('drop' as const), pick: nat }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('propose' as const), node: nat }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('read' as const), node: nat }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('transfer' as const), node: nat, to: nat }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('restart' as const), node: nat }) },
);

const coverage = { idleTicks: 0, dueTicks: 0, dueTicksThatActed: 0 };

function run(size: number, preVote: boolean, checkQuorum: boolean, prngSeed: number, actions: readonly Action[]): void {
  const net = new Network(
    size,
    { electionTimeoutTicksMin: 8, electionTimeoutTicksMax: 16, heartbeatIntervalTicks: 3, preVote, checkQuorum },
    prngSeed,
  );
  const pick = (n: number): string => net.ids[n % net.ids.length] ?? 'n1';
  for (const [step, action] of actions.entries()) {
    switch (action.kind) {
      case 'tick': {
        const id = pick(action.node);
        const node = net.node(id);
        for (let t = 0; t < action.times; t++) {
          const due = node.ticksUntilDue();
          if (!Number.isSafeInteger(due) || due < 1) throw new Error(`step ${step}: ticksUntilDue() = ${due}`);
          const readyBefore = node.hasReady();
          node.tick();
          if (due > 1) {
            coverage.idleTicks++;
            if (!readyBefore && node.hasReady())
              throw new Error(`step ${step}: ${id} (${node.status().role}) acted on a tick ticksUntilDue() = ${due} called idle`);
          } else {
            coverage.dueTicks++;
            if (!readyBefore && node.hasReady()) coverage.dueTicksThatActed++;
          }
          net.processReady(id);
        }
        break;
      }
      case 'deliver':
      case 'drop': {
        if (net.queue.length === 0) break;
        const [message] = net.queue.splice(action.pick % Math.min(net.queue.length, 4), 1);
        if (action.kind === 'deliver' && message !== undefined) net.deliver(message);
        break;
      }
      case 'propose': {
        const target = net.leader() ?? pick(action.node);
        net.node(target).propose(`v${step}`);
        net.processReady(target);
        break;
      }
      case 'read':
        net.node(pick(action.node)).readIndex(`r${step}`);
        net.processReady(pick(action.node));
        break;
      case 'transfer': {
        const leader = net.leader();
        if (leader === null) break;
        net.node(leader).transferLeadership(pick(action.to));
        net.processReady(leader);
        break;
      }
      case 'restart':
        net.crash(pick(action.node));
        net.restart(pick(action.node));
        break;
    }
    if (net.queue.length > 200) net.queue.splice(0, net.queue.length - 200);
  }
}

const seed = Number(process.env['TICKS_PROPERTY_SEED'] ?? Math.floor(Math.random() * 0x7fffffff));

describe('RaftNode.ticksUntilDue under random schedules (property)', () => {
  it(`every tick it calls idle produces no output (fast-check seed ${seed})`, () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 3, max: 5 }),
        fc.boolean(),
        fc.boolean(),
        fc.noShrink(fc.integer({ min: 1, max: 1_000_000 })),
        fc.array(actionArb, { minLength: 50, maxLength: 400 }),
        (size, preVote, checkQuorum, prngSeed, actions) => run(size, preVote, checkQuorum, prngSeed, actions),
      ),
      { seed, numRuns: Number(process.env['TICKS_PROPERTY_RUNS'] ?? 200) },
    );
  });

  it('checked idle ticks and due ticks that acted (the property is not vacuous)', () => {
    console.log(`ticksUntilDue coverage: ${JSON.stringify(coverage)}`);
    expect(coverage.idleTicks).toBeGreaterThan(1000);
    expect(coverage.dueTicksThatActed).toBeGreaterThan(100);
  });
});
