/**
 * RaftNode.acceptedPeers: whom the driver hears peer datagrams from
 * (issue 18; dissertation §4.1, §4.2.3). The members of the configuration in
 * effect at the commit index and of every newer one: a server added by an
 * entry only appended is heard at once (it takes effect on append); one
 * removed is heard until its removal is known committed, then no more.
 */
import { describe, expect, it } from 'vitest';
import { createPrng } from '../../../node/raft/prng.js';
import { RaftNode } from '../../../node/raft/raft.js';
import { Network, makeConfig, type ConfigOverrides } from './network.js';

const plain: ConfigOverrides = { preVote: false, checkQuorum: false };

describe('RaftNode.acceptedPeers (issue 18)', () => {
  it('a bootstrap node hears the other bootstrap voters', () => {
    const net = new Network(3, plain);
    expect(net.node('n1').acceptedPeers()).toEqual(['n2', 'n3']);
  });

  it('a joiner that knows no configuration hears anyone (null), then only the members once it has one', () => {
    const net = new Network(3, plain);
    net.campaign('n1');
    net.addNode('n4', plain);
    expect(net.node('n4').acceptedPeers()).toBeNull();
    expect(net.node('n1').proposeConfChange({ type: 'add_learner', node: 'n4' })).toMatchObject({ ok: true });
    net.stabilize();
    expect(net.node('n4').acceptedPeers()).toEqual(['n1', 'n2', 'n3']);
  });

  it('an added learner is heard as soon as its entry is appended, before it commits', () => {
    const net = new Network(3, plain);
    net.campaign('n1');
    net.isolate('n2');
    net.isolate('n3');
    expect(net.node('n1').proposeConfChange({ type: 'add_learner', node: 'n4' })).toMatchObject({ ok: true });
    net.processAll();
    expect(net.node('n1').status().commitIndex).toBeLessThan(net.node('n1').status().lastLogIndex);
    expect(net.node('n1').acceptedPeers()).toEqual(['n2', 'n3', 'n4']);
  });

  it('a removed voter is heard until its removal is known committed, then never', () => {
    const net = new Network(3, plain);
    net.campaign('n1');
    net.isolate('n2');
    net.isolate('n3');
    expect(net.node('n1').proposeConfChange({ type: 'remove', node: 'n3' })).toMatchObject({ ok: true });
    net.processAll();
    // Appended, not committed: the old configuration may still be the one that commits (§4.1), so n3 stays heard.
    expect(net.node('n1').configuration().voters).toEqual(['n1', 'n2']);
    expect(net.node('n1').acceptedPeers()).toEqual(['n2', 'n3']);
    net.heal();
    net.stabilize();
    expect(net.node('n1').status().commitIndex).toBe(net.node('n1').status().lastLogIndex);
    expect(net.node('n1').acceptedPeers()).toEqual(['n2']);
    expect(net.node('n2').acceptedPeers()).toEqual(['n1']);
  });

  it('a node restarted from a log holding a committed removal hears only the remaining members', () => {
    const net = new Network(3, plain);
    net.campaign('n1');
    expect(net.node('n1').proposeConfChange({ type: 'remove', node: 'n3' })).toMatchObject({ ok: true });
    net.stabilize();
    const log = net.node('n2').log();
    // On restart the commit index is not yet known (0): every configuration in the log is still possible.
    const restarted = new RaftNode(
      makeConfig('n2', ['n1', 'n2', 'n3'], plain),
      { hardState: net.node('n2').hardState(), entries: log },
      createPrng(1),
    );
    expect(restarted.acceptedPeers()).toEqual(['n1', 'n3']);
  });

  it('returns the same array until its answer changes, and sees an uncommitted config entry replaced by another leader', () => {
    const net = new Network(3, plain);
    net.campaign('n1');
    net.addNode('n4', plain);
    net.addNode('n5', plain);
    net.isolate('n2');
    net.isolate('n3');
    expect(net.node('n1').proposeConfChange({ type: 'add_learner', node: 'n4' })).toMatchObject({ ok: true });
    net.processAll();
    const first = net.node('n1').acceptedPeers();
    expect(first).toEqual(['n2', 'n3', 'n4']);
    expect(net.node('n1').acceptedPeers()).toBe(first); // the host compares by identity
    // n2 leads term 2 without n1 and adds n5 instead: n1's entry for n4 is truncated and replaced.
    net.heal();
    net.isolate('n1');
    net.campaign('n2');
    expect(net.node('n2').proposeConfChange({ type: 'add_learner', node: 'n5' })).toMatchObject({ ok: true });
    net.stabilize();
    net.heal();
    net.tick(3, ['n2']); // a heartbeat round: n2's term reaches n1, which then takes n2's log
    net.stabilize();
    expect(net.node('n1').configuration().learners).toEqual(['n5']);
    expect(net.node('n1').acceptedPeers()).toEqual(['n2', 'n3', 'n5']);
  });
});
