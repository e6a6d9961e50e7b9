/**
 * The change-race fault (harness/nemesis/kinds/change-race.ts): its
 * choreography reaches the cluster in the order Ongaro's 2015 bug needs
 * (four voters; one voter hearing only votes while a learner is added and
 * caught up, so it is behind; the leader cut off with the learner and told to promote it;
 * the new leader of the other side told to remove the votes-only voter; the
 * old side together, leading a later term; healed), each step waiting for
 * what the cluster reports, against an in-memory cluster scripted to elect
 * as real nodes do. A correct new leader refuses the removal: the cycle
 * gives up there with the network whole and the votes-only fault off. Too
 * small a cluster, or a network layer without the fault, is skipped; the
 * stop op puts the learner back as a voter. The real nodes: the gate cells
 * correct/change-race-once and conf-change-before-term-commit/change-race.
 */
import { describe, expect, it } from 'vitest';
import type { NodeStatus } from '../../../node/protocol.js';
import { changeRace } from '../../../harness/nemesis/kinds/change-race.js';
import { completeGrudge } from '../../../harness/nemesis/partitions.js';
import { drops, FakeCluster, FakeNet, fakeContext } from './fake-cluster.js';

const SEED = Number(process.env['SEED'] ?? Date.now() % 1_000_000);
console.log(`change-race tests: seed ${SEED} (replay: SEED=${SEED} npx vitest run test/harness/nemesis/change-race.test.ts)`);

const startOp = () => changeRace.decode('start-change-race', null);
const stopOp = () => changeRace.decode('stop-change-race', null);

interface View {
  role: NodeStatus['role'];
  term: number;
  commitIndex: number;
  lastLogIndex: number;
  voters: string[] | null;
}

/**
 * A fake 5-node cluster led by n1 in term 3 whose nodes report their own
 * views: a node that hears only votes stops moving while the leader
 * commits; the first cut elects a node of the votes-only node's side (not
 * itself) a few polls later; a removal asked there is refused unless
 * `unsafe`; the second cut elects the old leader in a later term.
 */
function scriptedCluster(unsafe: boolean, net: FakeNet = new FakeNet()): { cluster: FakeCluster; log: string[] } {
  const cluster = new FakeCluster(5, net);
  cluster.leaderId = 'n1';
  cluster.term = 3;
  const log: string[] = [];
  const views = new Map<string, View>(
    cluster.nodeIds.map((id) => [
      id,
      { role: id === 'n1' ? 'leader' : 'follower', term: 3, commitIndex: 10, lastLogIndex: 10, voters: null },
    ]),
  );
  const view = (id: string): View => views.get(id)!;
  let pending: { polls: number; fire: () => void } | null = null;
  let cuts = 0;
  let newLeader: string | null = null;

  if (net.onlyVotesTo !== undefined) {
    const onlyVotesTo = net.onlyVotesTo.bind(net);
    net.onlyVotesTo = async (node) => {
      await onlyVotesTo(node);
      log.push(`onlyVotesTo ${node ?? 'null'}`);
      // The others move on; the deaf node does not.
      for (const [id, v] of views)
        if (id !== node && node !== null && v.commitIndex === 10) Object.assign(v, { commitIndex: 12, lastLogIndex: 12 });
    };
  }
  const partition = net.partition.bind(net);
  net.partition = async (grudge) => {
    await partition(grudge);
    log.push(`partition ${JSON.stringify(drops(grudge))}`);
    cuts++;
    const deaf = net.votesOnly;
    if (cuts === 1 && deaf !== null) {
      const b = cluster.nodeIds.find((id) => id !== 'n1' && id !== deaf && (grudge[id] ?? []).includes('n1'))!;
      pending = { polls: 3, fire: () => ((newLeader = b), Object.assign(view(b), { role: 'leader', term: 4 })) };
    } else if (cuts === 2) {
      pending = { polls: 3, fire: () => Object.assign(view('n1'), { role: 'leader', term: 5, commitIndex: view('n1').lastLogIndex }) };
    }
  };
  const heal = net.heal.bind(net);
  net.heal = async () => {
    await heal();
    log.push('heal');
  };
  const change = cluster.membership.change;
  (cluster as { membership: typeof cluster.membership }).membership = {
    ...cluster.membership,
    change: async (command, node, timeoutMs, ask) => {
      log.push(`admin ${command} ${node}${ask === undefined ? '' : ` at ${ask}`}`);
      if (command === 'promote' && ask === 'n1') {
        // The cut-off leader appends it (§4.1) but cannot commit it.
        Object.assign(view('n1'), { voters: [...cluster.configuration.voters, node], lastLogIndex: 13 });
        return { type: 'indeterminate', error: 'no answer within 300 ms' };
      }
      if (command === 'remove' && ask !== undefined && ask === newLeader) {
        if (!unsafe) return { type: 'refused', error: 'no entry of term 4 is committed yet; a configuration change waits for one' };
        const r = await change(command, node, timeoutMs);
        Object.assign(view(ask), { commitIndex: 14, lastLogIndex: 14 });
        return r;
      }
      return change(command, node, timeoutMs);
    },
  };
  const status = cluster.status.bind(cluster);
  cluster.status = async (id) => {
    if (pending !== null && --pending.polls <= 0) {
      const fire = pending.fire;
      pending = null;
      fire();
    }
    const base = await status(id);
    if (base === null) return null;
    const v = view(id);
    // The new side keeps committing writes while split.
    if (id === newLeader && v.commitIndex >= 14) v.commitIndex++;
    return {
      ...base,
      role: v.role,
      currentTerm: v.term,
      commitIndex: v.commitIndex,
      lastLogIndex: v.lastLogIndex,
      configuration: { voters: v.voters ?? [...cluster.configuration.voters], learners: [] },
    };
  };
  return { cluster, log };
}

describe('change-race choreography', () => {
  it('unsafe leader: promotion pending on the cut-off leader, removal by the new one, the old side leads a later term, healed', async () => {
    const { cluster, log } = scriptedCluster(true);
    const nemesis = changeRace.create(fakeContext(cluster, SEED, 25));
    const value = (await nemesis.invoke(startOp())) as Record<string, unknown>;
    const e = value['learner'] as string;
    const f = value['votesOnly'] as string;
    const bc = value['newSide'] as string[];
    expect(value).toMatchObject({ oldLeader: 'n1', newTerm: 4, refusals: 0, oldSideLeader: 'n1', oldSideTerm: 5, promotionIndex: 13 });
    expect(value['newSideCommitted']).toBe(true);
    expect(bc).toContain(value['newLeader']);
    expect(new Set(['n1', e, f, ...bc]).size).toBe(5);
    expect(log).toEqual([
      `admin remove ${e}`,
      `onlyVotesTo ${f}`,
      `admin add ${e}`,
      `partition ${JSON.stringify(
        drops(
          completeGrudge([
            ['n1', e],
            [...bc, f],
          ]),
        ),
      )}`,
      `admin promote ${e} at n1`,
      `admin remove ${f} at ${String(value['newLeader'])}`,
      `partition ${JSON.stringify(drops(completeGrudge([['n1', e, f], bc])))}`,
      'onlyVotesTo null',
      'heal',
    ]);
    expect(cluster.net.grudge).toBeNull();
    expect(cluster.net.votesOnly).toBeNull();
    expect(nemesis.active()).toEqual([`${e} removed`]); // the learner is promoted by the stop op
    await nemesis.invoke(stopOp());
    expect(nemesis.active()).toEqual([]);
  });

  it('correct leader: the removal is refused until the deadline, and the cycle gives up with the network whole', async () => {
    const { cluster, log } = scriptedCluster(false);
    const nemesis = changeRace.create(fakeContext(cluster, SEED, 25));
    const value = (await nemesis.invoke(startOp())) as Record<string, unknown>;
    expect(value['gaveUp']).toMatch(/did not remove n\d \(refused: no entry of term 4 is committed yet/);
    expect(value['refusals']).toBeGreaterThan(0);
    expect(log.slice(-2)).toEqual(['heal', 'onlyVotesTo null']);
    expect(log.filter((l) => l.startsWith('partition'))).toHaveLength(1);
    expect(cluster.net.grudge).toBeNull();
    expect(cluster.net.votesOnly).toBeNull();
    // The stop op puts the learner back as a voter.
    await nemesis.invoke(stopOp());
    expect(cluster.configuration.voters).toEqual(cluster.nodeIds);
    expect(nemesis.active()).toEqual([]);
  });

  it('skips a cluster of other than five nodes or voters, and a network layer that cannot let only votes through', async () => {
    const three = new FakeCluster(3);
    expect(((await changeRace.create(fakeContext(three, SEED, 10)).invoke(startOp())) as Record<string, unknown>)['skipped']).toMatch(
      /3 nodes/,
    );
    const plain = new FakeNet();
    (plain as { onlyVotesTo?: unknown }).onlyVotesTo = undefined;
    const { cluster, log } = scriptedCluster(true, plain);
    const value = (await changeRace.create(fakeContext(cluster, SEED, 10)).invoke(startOp())) as Record<string, unknown>;
    expect(value['skipped']).toMatch(/only votes/);
    expect(log).toEqual([]);
    // Another kind took a member out: not five voters, so nothing is done.
    const shrunk = scriptedCluster(true);
    shrunk.cluster.configuration.voters = ['n1', 'n2', 'n3', 'n4'];
    const skipped = (await changeRace.create(fakeContext(shrunk.cluster, SEED, 10)).invoke(startOp())) as Record<string, unknown>;
    expect(skipped['skipped']).toMatch(/not 5 voters \(n1, n2, n3, n4;/);
    expect(shrunk.log).toEqual([]);
  });
});
