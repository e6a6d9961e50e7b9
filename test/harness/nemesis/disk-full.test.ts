/**
 * The disk-full nemesis (harness/nemesis/kinds/disk-full.ts) and its
 * analysis (harness/run/disk-full-analysis.ts), on a fake cluster: its ops
 * as data (decode, targets, cycles), its refusal to fill anything but a
 * node's own tmpfs, and (root only: a real tmpfs per fake node) the fill to
 * ENOSPC and how each node's fate is recorded when the fault stops. The
 * real nodes: test/harness/disk-full.integration.test.ts.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { HistoryOp } from '../../../checker/types.js';
import { BALLAST_FILE, whyNotOwnTmpfs } from '../../../harness/data-mounts.js';
import { diskFull, type DiskFullOp } from '../../../harness/nemesis/kinds/disk-full.js';
import { decodeNemesisOp } from '../../../harness/nemesis/registry.js';
import { drawNemesisSchedule } from '../../../harness/nemesis/schedule.js';
import { nodeSetTargets } from '../../../harness/nemesis/targets.js';
import { diskFullAnalysis, filledNodes, unreadableLogs } from '../../../harness/run/disk-full-analysis.js';
import { LOG_FILE_NAME, openFileStorage } from '../../../node/storage/file-storage.js';
import { NodeExitedBeforeReady } from '../../../harness/node-process.js';
import { FakeCluster, fakeContext } from './fake-cluster.js';
import { tempDir } from '../temp-dirs.js';
import { canMountTmpfs } from '../../support/tmpfs.js';

const scheduleOpts = { timeLimitMs: 10_000, intervalMs: 1000, nodeCount: 5, partitionShapes: [] } as const;

describe('disk-full ops as data', () => {
  it('decodes its start for every node-set target and its stop; refuses the voter trap and bad values', () => {
    for (const target of nodeSetTargets)
      expect(decodeNemesisOp('start-disk-full', { target })).toEqual({ kind: 'disk-full', f: 'start-disk-full', value: { target } });
    expect(decodeNemesisOp('stop-disk-full', { target: 'all', final: true })).toEqual({
      kind: 'disk-full',
      f: 'stop-disk-full',
      value: { target: 'all' },
    });
    expect(() => decodeNemesisOp('start-disk-full', { target: 'voter' })).toThrow('the voter target is for kill or disk only');
    expect(() => decodeNemesisOp('start-disk-full', { target: 'everyone' })).toThrow(/bad target "everyone"/);
    expect(() => decodeNemesisOp('start-disk-full', null)).toThrow(/bad target undefined/);
  });

  it('its cycles are start then stop, targets drawn from --targets (defaults otherwise); the biting cycle hits the leader', () => {
    const events = drawNemesisSchedule({ ...scheduleOpts, kinds: ['disk-full'], seed: 7 });
    expect(events.length).toBeGreaterThanOrEqual(6);
    events.forEach((e, i) => expect(e.f).toBe(i % 2 === 0 ? 'start-disk-full' : 'stop-disk-full'));
    const targets = events.filter((e) => e.f === 'start-disk-full').map((e) => (e.value as { target: string }).target);
    for (const t of targets) expect(['one', 'leader', 'minority', 'majority']).toContain(t);
    // Every default run fills the leader's disk at least once (issue 20).
    expect(targets).toContain('leader');
    const chosen = drawNemesisSchedule({ ...scheduleOpts, kinds: ['disk-full'], targets: ['majority', 'all'], seed: 7 })
      .filter((e) => e.f === 'start-disk-full')
      .map((e) => (e.value as { target: string }).target);
    for (const t of chosen) expect(['majority', 'all']).toContain(t);
    expect(chosen).toContain('all');
    expect(diskFull.bitingCycle?.({ ...scheduleOpts, kinds: ['disk-full'], targets: ['one'] })).toBeNull();
    const biting = diskFull.bitingCycle?.({ ...scheduleOpts, kinds: ['disk-full'], targets: ['leader', 'one'] });
    expect(fc.sample(biting!, { seed: 1, numRuns: 20 }).map(([start]) => start.value)).toEqual(
      Array.from({ length: 20 }, () => ({ target: 'leader' })),
    );
  });
});

describe('the disk-full nemesis on a fake cluster', () => {
  it('refuses to fill a data directory that is not a small tmpfs of its own, and says so in the op', async () => {
    const root = tempDir('rift-disk-full-fake-');
    const cluster = new FakeCluster(3, undefined, root);
    for (const id of cluster.nodeIds) mkdirSync(cluster.dataDir(id));
    const nemesis = diskFull.create(fakeContext(cluster, 1));
    const start: DiskFullOp = { kind: 'disk-full', f: 'start-disk-full', value: { target: 'all' } };
    const value = (await nemesis.invoke(start)) as { nodes: string[]; results: Record<string, { error?: string }> };
    expect(value.nodes).toEqual(['n1', 'n2', 'n3']);
    for (const id of value.nodes) {
      expect(value.results[id]?.error).toMatch(/^not filled: .* (is not on a tmpfs|is not a mount point of its own)/);
      expect(existsSync(join(cluster.dataDir(id), BALLAST_FILE))).toBe(false);
    }
    expect(nemesis.active()).toEqual([]);
    expect(await nemesis.heal()).toEqual({ freed: [], results: {} });
  });

  it('whyNotOwnTmpfs: a directory on the root file system is refused', async () => {
    const dir = tempDir('rift-disk-full-plain-');
    expect(await whyNotOwnTmpfs(dir, 1 << 30)).toMatch(/is not on a tmpfs|is not a mount point of its own/);
    expect(await whyNotOwnTmpfs(join(dir, 'missing'), 1 << 30)).toMatch(/^cannot statfs/);
  });
});

/** A fake cluster whose node n's restart fails as `restartFails` says (exit code), else starts. */
class RestartingCluster extends FakeCluster {
  readonly restartFails = new Map<string, number>();

  override async restart(id: string): Promise<void> {
    const code = this.restartFails.get(id);
    if (code !== undefined) {
      this.calls.push(`restart ${id}`);
      this.exitCodes.set(id, code);
      throw new NodeExitedBeforeReady(`${id} exited before it was ready (code ${code}); log tail:\nrift-node: fake`, code);
    }
    return super.restart(id);
  }
}

const mountable = canMountTmpfs();

describe.skipIf(!mountable)('on a real tmpfs per fake node (root only)', () => {
  const root = mountable ? mkdtempSync(join(tmpdir(), 'rift-disk-full-tmpfs-')) : '';
  const mounted: string[] = [];
  afterAll(() => {
    for (const dir of mounted) execFileSync('umount', [dir]);
    if (root !== '') rmSync(root, { recursive: true, force: true });
  });

  function clusterOnTmpfs(nodeCount: number): RestartingCluster {
    const cluster = new RestartingCluster(nodeCount, undefined, root);
    for (const id of cluster.nodeIds) {
      const dir = cluster.dataDir(id);
      if (!mounted.includes(dir)) {
        mkdirSync(dir, { recursive: true });
        execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', dir]);
        mounted.push(dir);
      }
      writeFileSync(join(dir, 'raft.log'), Buffer.alloc(5000, 1));
    }
    return cluster;
  }

  it('fills the targets to ENOSPC; the stop frees them, restarts exit-7 nodes, and names every other fate', async () => {
    const cluster = clusterOnTmpfs(5);
    const nemesis = diskFull.create(fakeContext(cluster, 3));
    const filled = (await nemesis.invoke({ kind: 'disk-full', f: 'start-disk-full', value: { target: 'all' } })) as {
      results: Record<string, { ballastBytes?: number; error?: string }>;
    };
    for (const id of cluster.nodeIds) {
      expect(filled.results[id]?.error, id).toBeUndefined();
      expect(filled.results[id]?.ballastBytes, id).toBeGreaterThan(1_900_000);
      expect(statfsSync(cluster.dataDir(id)).bavail, `${id}: no block left`).toBe(0);
    }
    expect(nemesis.active()).toEqual(['n1 disk full', 'n2 disk full', 'n3 disk full', 'n4 disk full', 'n5 disk full']);

    // What the nodes did meanwhile: n1 ran on, n2 exited 7 as it must, n3 exited 3 ("corrupt"), n4 was killed (no code
    // of its own), n5 exited 7 but cannot start again.
    for (const id of ['n2', 'n3', 'n4', 'n5']) cluster.alive.delete(id);
    cluster.exitCodes.set('n2', 7);
    cluster.exitCodes.set('n3', 3);
    cluster.exitCodes.set('n5', 7);
    cluster.restartFails.set('n5', 3);
    const freed = (await nemesis.invoke({ kind: 'disk-full', f: 'stop-disk-full', value: { target: 'all' } })) as {
      freed: string[];
      results: Record<string, unknown>;
    };
    expect(freed.freed).toEqual(['n1', 'n2', 'n3', 'n4', 'n5']);
    expect(freed.results).toMatchObject({
      n1: { outcome: 'running' },
      n2: { outcome: 'exited-7', restarted: true },
      n3: { outcome: 'wrong-exit', exit: 3 },
      n4: { outcome: 'killed' },
      n5: { outcome: 'not-back', exit: 3 },
    });
    for (const id of cluster.nodeIds) {
      expect(existsSync(join(cluster.dataDir(id), BALLAST_FILE)), id).toBe(false);
      expect(statfsSync(cluster.dataDir(id)).bavail, `${id}: room again`).toBeGreaterThan(400);
    }
    expect(cluster.isAlive('n2')).toBe(true);
    expect(nemesis.active()).toEqual([]);

    // The analysis reads those values from the history: the wrong exit and the node that did not come back.
    const history: HistoryOp[] = [
      { index: 0, process: 'nemesis', type: 'info', f: 'start-disk-full', value: filled, time: 1e9 },
      { index: 1, process: 'nemesis', type: 'info', f: 'stop-disk-full', value: freed, time: 2e9 },
    ];
    const analysis = diskFullAnalysis(history);
    expect(analysis).toMatchObject({ name: 'disk-full', valid: false, firstFindingAtMs: 2000 });
    expect(analysis?.findings).toEqual([
      expect.stringMatching(/^disk-full: n3 exited with code 3 after its disk was filled: a correct node exits 7/),
      expect.stringMatching(/^disk-full: n5 did not start again once its disk had room \(exit 3\)/),
    ]);

    // The nodes seen running on a disk with room are no longer watched (n1, n2); the two down ones were reported once;
    // the killed one, restarted by its kind, runs.
    await cluster.restart('n4');
    const again = (await nemesis.heal()) as { results: Record<string, unknown> };
    expect(again.results).toEqual({ n4: { outcome: 'running' } });
    expect(((await nemesis.heal()) as { results: Record<string, unknown> }).results).toEqual({});
  });

  it("a node another kind crashed after the fill is that kind's to judge, unless it exits 7", async () => {
    const cluster = clusterOnTmpfs(3);
    const nemesis = diskFull.create(fakeContext(cluster, 4));
    await nemesis.invoke({ kind: 'disk-full', f: 'start-disk-full', value: { target: 'all' } });
    // The disk kind kills n1 and n2 and damages their logs: n1 refuses (exit 3), n2's restart on its full disk exits 7.
    for (const id of ['n1', 'n2']) {
      nemesis.crashed?.(id);
      cluster.alive.delete(id);
    }
    cluster.exitCodes.set('n1', 3);
    cluster.exitCodes.set('n2', 7);
    // n3 exits 3 by itself: a correct node never does on a full disk.
    cluster.alive.delete('n3');
    cluster.exitCodes.set('n3', 3);
    const freed = (await nemesis.invoke({ kind: 'disk-full', f: 'stop-disk-full', value: { target: 'all' } })) as {
      results: Record<string, unknown>;
    };
    expect(freed.results).toEqual({
      n1: { outcome: 'killed', exit: 3 },
      n2: { outcome: 'exited-7', restarted: true },
      n3: { outcome: 'wrong-exit', exit: 3 },
    });
  });
});

describe('the disk-full analysis', () => {
  const op = (f: string, value: unknown, ms: number): HistoryOp => ({
    index: 0,
    process: 'nemesis',
    type: 'info',
    f,
    value,
    time: ms * 1e6,
  });

  it('is absent from runs that filled no disk (the final heal records its stop in every run)', () => {
    expect(diskFullAnalysis([op('stop-disk-full', { freed: [], results: {} }, 5)])).toBeNull();
  });

  it('is valid when every filled node exited 7 and came back, or rode it out, or was killed by another kind', () => {
    const a = diskFullAnalysis([
      op('start-disk-full', { nodes: ['n1', 'n2'] }, 1),
      op('stop-disk-full', { results: { n1: { outcome: 'exited-7', restarted: true }, n2: { outcome: 'running' } } }, 2),
      op('start-disk-full', { nodes: ['n3'] }, 3),
      op('stop-disk-full', { results: { n3: { outcome: 'killed' }, n1: { outcome: 'exited-7', restarted: true } } }, 4),
    ]);
    expect(a).toMatchObject({ name: 'disk-full', valid: true, brief: 'disk-full: 2 node stops with exit 7, all back', findings: [] });
  });

  it("finds a filled node's log that its next start would refuse: a hole where a write the node ignored should be", async () => {
    const root = tempDir('rift-disk-full-logs-');
    const history = [
      op(
        'start-disk-full',
        { nodes: ['n1', 'n2', 'n3'], results: { n1: { ballastBytes: 9 }, n2: { ballastBytes: 9 }, n3: { error: 'x' } } },
        1,
      ),
    ];
    expect(filledNodes(history)).toEqual(['n1', 'n2']);
    for (const id of ['n1', 'n2']) {
      const { storage } = await openFileStorage(join(root, id));
      for (let i = 1; i <= 3; i++)
        await storage.persist(i === 1 ? { currentTerm: 1, votedFor: 'n1' } : null, [
          { index: i, term: 1, type: 'command', data: `put k${i} ${'v'.repeat(100)}` },
        ]);
      await storage.close();
    }
    expect(await unreadableLogs(history, (id) => join(root, id))).toEqual([]);
    // n2's second frame never reached the disk (a write it ignored): zeros where it should be, the third frame after them.
    const file = join(root, 'n2', LOG_FILE_NAME);
    const buf = readFileSync(file);
    buf.fill(0, 8 + 200, 8 + 300);
    writeFileSync(file, buf);
    const unreadable = await unreadableLogs(history, (id) => join(root, id));
    expect(unreadable.map((u) => u.node)).toEqual(['n2']);
    expect(unreadable[0]!.reason).toMatch(/storage corruption/);
    const a = diskFullAnalysis(history, unreadable);
    expect(a).toMatchObject({ valid: false, brief: 'disk-full: 1 log left unreadable' });
    expect(a?.findings).toEqual([expect.stringMatching(/^disk-full: n2's log after the run would be refused at its next start/)]);
  });
});
