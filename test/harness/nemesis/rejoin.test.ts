/**
 * The rejoin fault (harness/nemesis/kinds/rejoin.ts): its choreography
 * reaches the cluster in the order the transport defect needs (a follower
 * removed; a witness that applied the removal cut off; the follower added
 * back and promoted while the witness is out; a star around it until it
 * leads; healed), each step waiting for what the cluster reports, against an
 * in-memory cluster scripted to elect the star's hub; a cluster that does not
 * get there makes the cycle give up, saying where, with the network healed;
 * too small a cluster is skipped; the stop op undoes it. The real nodes:
 * the gate cells correct/rejoin and members-only-transport/rejoin.
 */
import { describe, expect, it } from 'vitest';
import { rejoin } from '../../../harness/nemesis/kinds/rejoin.js';
import { starAround } from '../../../harness/nemesis/kinds/relead.js';
import { completeGrudge } from '../../../harness/nemesis/partitions.js';
import { drops, FakeCluster, fakeContext } from './fake-cluster.js';

const SEED = Number(process.env['SEED'] ?? Date.now() % 1_000_000);
console.log(`rejoin tests: seed ${SEED} (replay: SEED=${SEED} npx vitest run test/harness/nemesis/rejoin.test.ts)`);

const startOp = () => rejoin.decode('start-rejoin', null);
const stopOp = () => rejoin.decode('stop-rejoin', null);

/**
 * A fake cluster whose admin calls and network changes land in one log, and
 * which (when `elects`) makes the hub of a star leader in a later term a few
 * status polls after the star is cut, as a real one does once check-quorum
 * and leader stickiness run out.
 */
function scriptedCluster(nodeCount: number, elects: boolean): { cluster: FakeCluster; log: string[] } {
  const cluster = new FakeCluster(nodeCount);
  cluster.leaderId = 'n1';
  cluster.term = 3;
  const log: string[] = [];
  let pending: { leader: string; polls: number } | null = null;
  const partition = cluster.net.partition.bind(cluster.net);
  cluster.net.partition = async (grudge) => {
    await partition(grudge);
    log.push(`partition ${JSON.stringify(drops(grudge))}`);
    if (!elects) return;
    for (const hub of cluster.nodeIds)
      for (const out of cluster.nodeIds)
        if (hub !== out && JSON.stringify(drops(grudge)) === JSON.stringify(drops(starAround(cluster.nodeIds, hub, out))))
          pending = { leader: hub, polls: 3 };
  };
  const heal = cluster.net.heal.bind(cluster.net);
  cluster.net.heal = async () => {
    await heal();
    log.push('heal');
  };
  const change = cluster.membership.change;
  (cluster as { membership: typeof cluster.membership }).membership = {
    ...cluster.membership,
    change: async (command, node, timeoutMs) => {
      log.push(`admin ${command} ${node}`);
      return change(command, node, timeoutMs);
    },
  };
  const status = cluster.status.bind(cluster);
  cluster.status = async (id) => {
    if (pending !== null && --pending.polls <= 0) {
      cluster.leaderId = pending.leader;
      cluster.term++;
      pending = null;
    }
    return status(id);
  };
  return { cluster, log };
}

describe('rejoin choreography', () => {
  it('removes a follower, cuts off a witness, puts the follower back unseen by it, makes it lead, then heals', async () => {
    const { cluster, log } = scriptedCluster(5, true);
    const nemesis = rejoin.create(fakeContext(cluster, SEED, 25));
    const value = (await nemesis.invoke(startOp())) as Record<string, unknown>;
    const x = value['removed'] as string;
    const w = value['witness'] as string;
    expect(value).toMatchObject({ oldLeader: 'n1', leader: x, term: 4, witnessCaughtUp: true, nodes: [x, w] });
    expect(x).not.toBe('n1');
    expect([x, 'n1']).not.toContain(w);
    const others = cluster.nodeIds.filter((id) => id !== w);
    expect(log).toEqual([
      `admin remove ${x}`,
      `partition ${JSON.stringify(drops(completeGrudge([[w], others])))}`,
      `admin add ${x}`,
      `admin promote ${x}`,
      `partition ${JSON.stringify(drops(starAround(cluster.nodeIds, x, w)))}`,
      'heal',
    ]);
    expect(cluster.configuration.voters).toEqual(cluster.nodeIds);
    expect(cluster.net.grudge).toBeNull();
    expect(nemesis.active()).toEqual([]);
  });

  it('gives up, saying where, when the star elects no one; the network is healed all the same', async () => {
    const { cluster, log } = scriptedCluster(5, false);
    const nemesis = rejoin.create(fakeContext(cluster, SEED, 10));
    const value = (await nemesis.invoke(startOp())) as Record<string, unknown>;
    expect(value['gaveUp']).toMatch(/did not lead before the deadline/);
    expect(log[log.length - 1]).toBe('heal');
    expect(cluster.net.grudge).toBeNull();
    expect(cluster.configuration.voters).toEqual(cluster.nodeIds); // the member came back before the star
  });

  it('skips a 3-node cluster: with the witness out, the removal leaves no majority to re-add with', async () => {
    const { cluster, log } = scriptedCluster(3, true);
    const value = (await rejoin.create(fakeContext(cluster, SEED, 10)).invoke(startOp())) as Record<string, unknown>;
    expect(value['skipped']).toMatch(/3 nodes/);
    expect(log).toEqual([]);
  });

  it('the stop op heals the network and puts back a member a cut-short cycle left out', async () => {
    const { cluster } = scriptedCluster(5, true);
    const nemesis = rejoin.create(fakeContext(cluster, SEED, 10));
    await cluster.membership.change('remove', 'n4', 1000);
    await cluster.net.partition(completeGrudge([['n2'], ['n1', 'n3', 'n4', 'n5']]));
    await nemesis.invoke(stopOp());
    expect(cluster.net.grudge).toBeNull();
    // This kind did not take n4 out, so its stop leaves the configuration to whoever did (the membership kind's rule).
    expect(cluster.configuration.voters).not.toContain('n4');
    expect(await nemesis.heal()).toBeDefined();
    expect(cluster.net.grudge).toBeNull();
  });
});
