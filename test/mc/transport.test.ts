/**
 * The transport's membership filter in the model (sim/stepped/node.ts `deliver`, the rule of
 * node/transport/node-endpoint.ts peerDatagramHeard): a peer message reaches the core only if the
 * transport would pass it. A correct node hears what a leader sends from anyone; under --unsafe
 * members-only-transport only from the members it knows, so a node that missed a member's addition
 * never hears that member once it leads. The search finds it from scratch (the end-of-path heal: the
 * node never applies the probe), the replay confirms it, and the same events are harmless without it.
 */
import { describe, expect, it } from 'vitest';
import type { NodeId, RaftMessage } from '../../node/raft/types.js';
import { noUnsafeFlags } from '../../node/unsafe-flags.js';
import { SteppedNode } from '../../sim/stepped/node.js';
import { coreConfigFor, type SteppedParams } from '../../sim/stepped/params.js';
import { check, flags } from './helpers.js';

/** n1 leads {n1,n2,n3}; spare n4 is added, caught up, promoted, and handed leadership, while n3's copies are dropped. */
const SPARE_ADDED_AND_LEADS = flags({
  nodes: 4,
  spares: 1,
  start: 'leader',
  'config-changes': 2,
  changes: 'add,promote',
  transfers: 1,
  writes: 0,
  reads: 0,
  drops: 4,
  dups: 0,
  crashes: 0,
  timeouts: 1,
  'max-term': 2,
  retries: 0,
});

const PARAMS: SteppedParams = {
  nodeCount: 4,
  spareCount: 1,
  electionTicks: 3,
  heartbeatTicks: 1,
  readMode: 'readindex',
  clockDriftBound: 1.2,
  unsafe: noUnsafeFlags,
  skipReadQuorum: false,
};

describe('the transport membership filter in the model', () => {
  it('a stepped node hears an AppendEntries from a node it never knew; with the flag it drops it and nothing changes', () => {
    // n3 of {n1,n2,n3} (n4 a spare it has never seen in a configuration), just started on an empty disk.
    const started = (membersOnlyTransport: boolean): SteppedNode => {
      const unsafe = { ...noUnsafeFlags, membersOnlyTransport };
      const node = SteppedNode.fresh('n3', coreConfigFor({ ...PARAMS, unsafe }, 'n3'), unsafe);
      node.restart();
      return node;
    };
    const heartbeat = (from: NodeId): RaftMessage => ({
      type: 'append_entries',
      term: 2,
      from,
      to: 'n3',
      prevLogIndex: 0,
      prevLogTerm: 0,
      entries: [],
      leaderCommit: 0,
      seq: 1,
    });
    const vote = (from: NodeId): RaftMessage => ({
      type: 'request_vote',
      term: 3,
      from,
      to: 'n3',
      lastLogIndex: 0,
      lastLogTerm: 0,
      preVote: false,
    });
    const correct = started(false);
    expect(correct.deliver(vote('n4'))).toBe(false); // what only members may send stays unheard (§4.2.3)
    expect(correct.core()!.term()).toBe(0);
    expect(correct.deliver(heartbeat('n4'))).toBe(true); // what a leader sends is heard from anyone
    expect(correct.core()!.status()).toMatchObject({ currentTerm: 2, leaderId: 'n4' });

    const unsafe = started(true);
    expect(unsafe.deliver(heartbeat('n4'))).toBe(false);
    expect(unsafe.core()!.term()).toBe(0);
    expect(unsafe.deliver(heartbeat('n1'))).toBe(true); // a member is heard
    expect(unsafe.core()!.status()).toMatchObject({ currentTerm: 2, leaderId: 'n1' });
  });

  it('--unsafe members-only-transport: found from scratch by swarm walks; replayed; not without the flag', async () => {
    const found = await check([
      ...SPARE_ADDED_AND_LEADS,
      '--unsafe',
      'members-only-transport',
      '--mode',
      'swarm',
      '--seed',
      '1',
      '--walks',
      '6000',
    ]);
    expect(found.result.finding?.violation.property).toBe('liveness');
    expect(found.result.finding?.violation.message).toMatch(/probe applied on \[n1,n2,n4\]/);
    expect(found.replayConfirmed).toBe(true);
    expect(found.flagsNeeded).toBe(true);
  });

  it('the correct node passes the first 3,000 of those walks (it hears the new leader, a member it never knew, and catches up)', async () => {
    const correct = await check([...SPARE_ADDED_AND_LEADS, '--mode', 'swarm', '--seed', '1', '--walks', '3000']);
    expect(correct.result.finding).toBeNull();
    expect(correct.result.stopped).toBe('walks-done');
  });
});
