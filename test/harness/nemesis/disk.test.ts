/**
 * The disk nemesis (harness/nemesis/kinds/disk.ts) on real log files: a
 * cluster fake whose restart is the real storage recovery (openFileStorage
 * on the node's data directory: a refusal is the node's exit 3), so every
 * fault meets the recovery code a node runs.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NodeExitedBeforeReady } from '../../../harness/node-process.js';
import { SETTLE_MS } from '../../../harness/nemesis/kinds/disk.js';
import { NemesisRunner, type NemesisOpRecord } from '../../../harness/nemesis/runner.js';
import type { NemesisEvent } from '../../../harness/nemesis/wire.js';
import type { Entry } from '../../../node/raft/types.js';
import { LOG_FILE_NAME, openFileStorage } from '../../../node/storage/file-storage.js';
import { scanLog } from '../../../node/storage/replay.js';
import { StorageCorruptionError, type RecoveryReport } from '../../../node/storage/storage.js';
import { PREVIOUS_SNAPSHOT_FILE, SNAPSHOT_FILE, SnapshotStore, SnapshotUnusableError } from '../../../node/storage/snapshot-store.js';
import { nodeFs } from '../../../node/storage/node-fs.js';
import { recoverNodeState } from '../../../node/snapshot/recover.js';
import type { StoredState } from '../../../node/raft/types.js';
import { FakeCluster, FakeMonitoredNet, type FakeNet } from './fake-cluster.js';
import { tempDir } from '../temp-dirs.js';
import { waitFor } from '../wait.js';

/** Restarting a node = recovering its storage (log and snapshots) for real; corrupt storage = exit 3. */
class StorageCluster extends FakeCluster {
  readonly recovered = new Map<string, { stored: StoredState; recovery: RecoveryReport; notes: readonly string[] }>();

  constructor(
    nodeCount: number,
    net: FakeNet,
    root: string,
    private readonly tornTailAlwaysDropped = false,
  ) {
    super(nodeCount, net, root);
  }

  override async restart(id: string): Promise<void> {
    this.calls.push(`restart ${id}`);
    try {
      const opened = await recoverNodeState(this.dataDir(id), { tornTailAlwaysDropped: this.tornTailAlwaysDropped });
      await opened.storage.close();
      this.recovered.set(id, { stored: opened.stored, recovery: opened.recovery, notes: opened.notes });
    } catch (err) {
      if (err instanceof StorageCorruptionError || err instanceof SnapshotUnusableError)
        throw new NodeExitedBeforeReady(
          `${id} exited before it was ready (code 3); log tail:\nrift-node: refusing to start: ${err.message}`,
          3,
        );
      throw err;
    }
    this.alive.add(id);
  }
}

const entry = (index: number, term: number): Entry => ({ index, term, type: 'command', data: `put k${index}` });

/** Every node gets a log of three persist calls: term 1 (vote n1) + entries 1-2, entry 3, then term 2 (vote n2) + entry 4. */
async function cluster(nodeCount: number, opts: { unsafe?: boolean; net?: FakeNet } = {}): Promise<StorageCluster> {
  const c = new StorageCluster(nodeCount, opts.net ?? new FakeMonitoredNet(), tempDir('rift-disk-nemesis-'), opts.unsafe === true);
  for (const id of c.nodeIds) {
    const { storage } = await openFileStorage(c.dataDir(id));
    await storage.persist({ currentTerm: 1, votedFor: 'n1' }, [entry(1, 1), entry(2, 1)]);
    await storage.persist(null, [entry(3, 1)]);
    await storage.persist({ currentTerm: 2, votedFor: 'n2' }, [entry(4, 2)]);
    await storage.close();
  }
  return c;
}

async function run(
  c: FakeCluster,
  schedule: readonly NemesisEvent[],
  seed = 3,
): Promise<{ runner: NemesisRunner; records: NemesisOpRecord[]; logs: string[] }> {
  const records: NemesisOpRecord[] = [];
  const logs: string[] = [];
  const runner = new NemesisRunner(c, schedule, { seed, record: (op) => records.push(op), log: (l) => logs.push(l) });
  runner.start(Date.now());
  await waitFor(() => records.filter((r) => r.phase === 'complete').length >= schedule.length, 10_000, 'nemesis ops complete');
  return { runner, records, logs };
}

const completion = (records: NemesisOpRecord[], f: string, nth = 0): Record<string, unknown> =>
  records.filter((r) => r.phase === 'complete' && r.f === f)[nth]!.value as Record<string, unknown>;

const logOf = (c: FakeCluster, id: string): Promise<Buffer> => readFile(join(c.dataDir(id), LOG_FILE_NAME));

describe('the disk nemesis', () => {
  it('flip-last-frame: the node refuses to start (exit 3), an outcome not an error; stop-disk gives its log back and it starts', async () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const c = await cluster(3);
      const before = await logOf(c, 'n1');
      const { runner, records, logs } = await run(
        c,
        [{ atMs: 0, f: 'start-disk', value: { target: 'leader', fault: 'flip-last-frame' } }],
        seed,
      );
      const value = completion(records, 'start-disk');
      expect(value, `seed ${seed}`).toMatchObject({ fault: 'flip-last-frame', nodes: ['n1'], wasLeader: true });
      const result = (value['results'] as Record<string, Record<string, unknown>>)['n1']!;
      expect(result, `seed ${seed}`).toMatchObject({ done: 'flipped', frame: 2, frames: 3, outcome: 'refused', exit: 3 });
      expect(String(result['reason'])).toMatch(/storage corruption .* the last frame is damaged/);
      expect(result).not.toHaveProperty('backup');
      expect(logs.some((l) => /disk: n1 refused to start on its damaged log \(exit 3\), as it must/.test(l))).toBe(true);
      // Exactly one bit differs, inside the last frame.
      const after = await logOf(c, 'n1');
      const diff = [...after]
        .map((b, i) => b ^ before[i]!)
        .map((x, i) => [i, x] as const)
        .filter(([, x]) => x !== 0);
      expect(diff).toHaveLength(1);
      expect(diff[0]![0]).toBe(result['offset']);
      expect([1, 2, 4, 8, 16, 32, 64, 128]).toContain(diff[0]![1]);
      expect(c.isAlive('n1')).toBe(false);
      expect(runner.activeFaults()).toEqual(['n1 refused (corrupt log)']);

      await runner.healAll();
      const restored = records.filter((r) => r.phase === 'complete' && r.f === 'stop-disk').at(-1)!.value;
      expect(restored).toMatchObject({ nodes: ['n1'], results: { n1: { outcome: 'started' } } });
      expect(await logOf(c, 'n1')).toEqual(before);
      expect(c.recovered.get('n1')?.stored.hardState).toEqual({ currentTerm: 2, votedFor: 'n2' });
      expect(c.isAlive('n1')).toBe(true);
      expect(runner.activeFaults()).toEqual([]);
    }
  });

  it('flip-before-torn-tail: a flipped bit in the durable last frame with torn bytes after it is refused; stop-disk restores', async () => {
    // Seeds 1-12 put the flip in the frame's 9-byte header 4 times (seeds 4, 6, 9, 11), in its length field once (seed 4: its
    // top byte, an impossible length; before wholeFrameLength recovery dropped that frame as torn and this test failed).
    let inLength = 0;
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]) {
      const c = await cluster(3);
      const before = await logOf(c, 'n1');
      const { runner, records } = await run(
        c,
        [{ atMs: 0, f: 'start-disk', value: { target: 'leader', fault: 'flip-before-torn-tail' } }],
        seed,
      );
      const result = (completion(records, 'start-disk')['results'] as Record<string, Record<string, unknown>>)['n1']!;
      expect(result, `seed ${seed}`).toMatchObject({
        done: 'flipped-before-torn-write',
        tornOffset: before.length,
        outcome: 'refused',
        exit: 3,
      });
      expect(String(result['reason']), `seed ${seed}`).toMatch(/storage corruption .* the last frame is damaged/);
      // One bit flipped inside the last frame, and a prefix of it appended.
      const after = await logOf(c, 'n1');
      expect(after.length).toBe(before.length + Number(result['tornBytes']));
      const diff = [...after.subarray(0, before.length)].map((b, i) => [i, b ^ before[i]!] as const).filter(([, x]) => x !== 0);
      expect(diff).toEqual([[result['offset'], result['mask']]]);
      const last = scanLog(before, LOG_FILE_NAME).frames.at(-1)!;
      expect(Number(result['offset'])).toBeGreaterThanOrEqual(last.offset);
      if (Number(result['offset']) < last.offset + 4) inLength++;
      process.stdout.write(`flip-before-torn-tail seed ${seed}: byte ${Number(result['offset']) - last.offset} of the last frame\n`);
      await runner.healAll();
      expect(await logOf(c, 'n1'), `seed ${seed}`).toEqual(before);
      expect(c.isAlive('n1')).toBe(true);
    }
    expect(inLength, 'flips in the length field').toBeGreaterThan(0);
  });

  it('flip-frame: damage before valid frames is refused too', async () => {
    const c = await cluster(3);
    const { records } = await run(c, [{ atMs: 0, f: 'start-disk', value: { target: 'one', fault: 'flip-frame' } }], 11);
    const value = completion(records, 'start-disk');
    const [id] = value['nodes'] as string[];
    expect((value['results'] as Record<string, unknown>)[id!]).toMatchObject({ done: 'flipped', outcome: 'refused', exit: 3 });
  });

  it('torn-tail: the node drops the interrupted write and comes back with everything it had', async () => {
    for (const seed of [1, 2, 3]) {
      const c = await cluster(3);
      const before = await logOf(c, 'n1');
      const { records } = await run(c, [{ atMs: 0, f: 'start-disk', value: { target: 'leader', fault: 'torn-tail' } }], seed);
      const result = (completion(records, 'start-disk')['results'] as Record<string, Record<string, unknown>>)['n1']!;
      expect(result, `seed ${seed}`).toMatchObject({ done: 'appended-torn-write', offset: before.length, outcome: 'started' });
      const recovered = c.recovered.get('n1')!;
      expect(recovered.recovery.tornTail).toEqual({ offset: before.length, bytesDropped: result['bytes'] });
      expect(recovered.stored.entries.map((e) => e.index)).toEqual([1, 2, 3, 4]);
      expect(await logOf(c, 'n1')).toEqual(before);
    }
  });

  it('with --unsafe-torn-tail-dropped a flipped last frame is dropped: the acknowledged vote and entry vanish', async () => {
    const c = await cluster(3, { unsafe: true });
    const { records } = await run(c, [{ atMs: 0, f: 'start-disk', value: { target: 'leader', fault: 'flip-last-frame' } }]);
    const result = (completion(records, 'start-disk')['results'] as Record<string, Record<string, unknown>>)['n1']!;
    expect(result).toMatchObject({ done: 'flipped', outcome: 'started' });
    expect(c.recovered.get('n1')?.stored).toEqual({
      hardState: { currentTerm: 1, votedFor: 'n1' },
      entries: [entry(1, 1), entry(2, 1), entry(3, 1)],
    });
  });

  it('hands every restarted node to the monitor with the last vote the wire saw it grant', async () => {
    const net = new FakeMonitoredNet();
    const c = await cluster(3, { net });
    const records: NemesisOpRecord[] = [];
    const runner = new NemesisRunner(
      c,
      [
        { atMs: 0, f: 'start-disk', value: { target: 'leader', fault: 'torn-tail' } },
        { atMs: 400, f: 'start-disk', value: { target: 'leader', fault: 'torn-tail' } },
      ],
      { seed: 1, record: (op) => records.push(op) },
    );
    runner.start(Date.now());
    await waitFor(() => records.some((r) => r.phase === 'complete'), 10_000, 'the first disk fault');
    expect(net.voteListenerCount).toBe(1);
    expect(net.restartedVoters).toEqual([]); // no vote seen yet: nothing to check
    net.grant({ voter: 'n1', term: 1, candidate: 'n3' });
    await waitFor(() => records.filter((r) => r.phase === 'complete').length >= 2, 10_000, 'the second disk fault');
    expect(net.restartedVoters).toEqual(['n1']);
    // The fake reports term 1 and no vote: what a node that lost its vote would say.
    expect((completion(records, 'start-disk', 1)['results'] as Record<string, unknown>)['n1']).toMatchObject({
      outcome: 'started',
      vote: { term: 1, grantedTo: 'n3', after: { currentTerm: 1, votedFor: null }, kept: false },
    });
    await runner.healAll();
    expect(net.voteListenerCount).toBe(0);
  });

  it('voter: the leader is hit first; each node seen granting a vote is hit at once, a refusal restored at once; stop-disk disarms', async () => {
    for (const unsafe of [false, true]) {
      const net = new FakeMonitoredNet();
      const c = await cluster(5, { net, unsafe });
      const records: NemesisOpRecord[] = [];
      const runner = new NemesisRunner(c, [{ atMs: 0, f: 'start-disk', value: { target: 'voter', fault: 'flip-last-frame' } }], {
        seed: 2,
        record: (op) => records.push(op),
      });
      runner.start(Date.now());
      await waitFor(() => records.some((r) => r.phase === 'complete'), 10_000, 'the trap armed');
      expect(completion(records, 'start-disk')).toMatchObject({
        target: 'voter',
        armed: true,
        leader: 'n1',
        results: { n1: { done: 'flipped', outcome: unsafe ? 'started' : 'refused' } },
      });
      expect(runner.activeFaults()).toEqual(unsafe ? ['disk voter trap'] : ['disk voter trap', 'n1 refused (corrupt log)']);
      net.grant({ voter: 'n2', term: 2, candidate: 'n3' });
      net.grant({ voter: 'n2', term: 2, candidate: 'n3' }); // in flight: one bounce
      await waitFor(() => c.calls.filter((call) => call === 'restart n2').length >= (unsafe ? 1 : 2), 10_000, 'n2 bounced');
      await runner.healAll();
      const stop = records.filter((r) => r.phase === 'complete' && r.f === 'stop-disk')[0]!.value as Record<string, unknown>;
      const bounces = stop['voterBounces'] as Record<string, unknown>[];
      expect(bounces).toHaveLength(1);
      if (unsafe) {
        // The flipped frame held the term-2 vote: dropped, and the monitor is told (the fake says term 1, no vote).
        expect(bounces[0]).toMatchObject({
          node: 'n2',
          term: 2,
          done: 'flipped',
          outcome: 'started',
          vote: { term: 2, grantedTo: 'n3', kept: false },
        });
        expect(net.restartedVoters).toEqual(['n2']);
      } else {
        expect(bounces[0]).toMatchObject({
          node: 'n2',
          term: 2,
          done: 'flipped',
          outcome: 'refused',
          exit: 3,
          restored: { outcome: 'started' },
        });
        expect(stop['results']).toMatchObject({ n1: { outcome: 'started' } });
      }
      expect(net.voteListenerCount).toBe(0);
      expect(c.nodeIds.every((id) => c.isAlive(id))).toBe(true);
      expect(runner.activeFaults()).toEqual([]);
    }
  });

  it('never leaves more than a minority down: a majority or all target is cut to what keeps a majority running', async () => {
    const c = await cluster(5);
    const { records } = await run(c, [
      { atMs: 0, f: 'start-disk', value: { target: 'all', fault: 'flip-last-frame' } },
      { atMs: 1, f: 'start-disk', value: { target: 'majority', fault: 'flip-last-frame' } },
    ]);
    const first = completion(records, 'start-disk', 0);
    expect(first['nodes']).toHaveLength(2);
    expect(first['skipped']).toHaveLength(3);
    expect(first['why']).toBe('a majority stays up');
    const second = completion(records, 'start-disk', 1);
    expect(second['nodes']).toEqual([]);
    expect(c.nodeIds.filter((id) => c.isAlive(id))).toHaveLength(3);
  });

  it('truncate-synced (outside the fault model, never a default) cuts the last frame off: the node starts without it', async () => {
    const c = await cluster(3);
    const { records } = await run(c, [{ atMs: 0, f: 'start-disk', value: { target: 'leader', fault: 'truncate-synced' } }]);
    expect((completion(records, 'start-disk')['results'] as Record<string, unknown>)['n1']).toMatchObject({
      done: 'truncated-synced-frame',
      outcome: 'started',
    });
    expect(c.recovered.get('n1')?.stored).toEqual({
      hardState: { currentTerm: 1, votedFor: 'n1' },
      entries: [entry(1, 1), entry(2, 1), entry(3, 1)],
    });
    // Frozen first, killed once what it sent was delivered: the frame it loses is one it acknowledged.
    expect(c.calls.slice(0, 3)).toEqual(['pause n1', 'kill n1', 'restart n1']);
    const frozenMs = (completion(records, 'start-disk')['results'] as Record<string, Record<string, unknown>>)['n1']!['frozenMs'];
    expect(frozenMs).toBeGreaterThanOrEqual(SETTLE_MS - 1);
  });

  it('truncate-synced leaves a last frame without entries (a vote) alone: that would be a lost vote, not a lost tail', async () => {
    const c = await cluster(3);
    {
      const { storage } = await openFileStorage(c.dataDir('n1'));
      await storage.persist({ currentTerm: 3, votedFor: 'n3' }, []);
      await storage.close();
    }
    const { records } = await run(c, [{ atMs: 0, f: 'start-disk', value: { target: 'leader', fault: 'truncate-synced' } }]);
    expect((completion(records, 'start-disk')['results'] as Record<string, unknown>)['n1']).toMatchObject({
      done: 'nothing',
      outcome: 'started',
    });
    expect(c.recovered.get('n1')?.stored.hardState).toEqual({ currentTerm: 3, votedFor: 'n3' });
    expect(c.recovered.get('n1')?.stored.entries).toHaveLength(4);
  });

  it('truncate-acked cuts the last two frames of entries (the older one surely acknowledged): the node starts without both', async () => {
    const c = await cluster(3);
    {
      const { storage } = await openFileStorage(c.dataDir('n1'));
      await storage.persist(null, [entry(5, 2)]);
      await storage.persist(null, [entry(6, 2), entry(7, 2)]);
      await storage.close();
    }
    const { records } = await run(c, [{ atMs: 0, f: 'start-disk', value: { target: 'leader', fault: 'truncate-acked' } }]);
    expect((completion(records, 'start-disk')['results'] as Record<string, unknown>)['n1']).toMatchObject({
      done: 'truncated-acked-frames',
      frames: 2,
      outcome: 'started',
    });
    expect(c.recovered.get('n1')?.stored).toEqual({
      hardState: { currentTerm: 2, votedFor: 'n2' },
      entries: [entry(1, 1), entry(2, 1), entry(3, 1), entry(4, 2)],
    });
    expect(c.calls.slice(0, 3)).toEqual(['pause n1', 'kill n1', 'restart n1']);
  });

  it('truncate-acked leaves the log alone when one of the last two frames holds a vote', async () => {
    const c = await cluster(3);
    const { records } = await run(c, [{ atMs: 0, f: 'start-disk', value: { target: 'leader', fault: 'truncate-acked' } }]);
    const result = (completion(records, 'start-disk')['results'] as Record<string, Record<string, unknown>>)['n1']!;
    expect(result).toMatchObject({ done: 'nothing', outcome: 'started' });
    expect(String(result['why'])).toMatch(/holds a vote/);
    expect(c.recovered.get('n1')?.stored.entries).toHaveLength(4);
  });

  /**
   * Every node also holds two snapshots (index 2, then 4: `snapshot.prev` and `snapshot`) and a log compacted to
   * `logFrom`: from 3 the log still reaches back to the previous snapshot (what compactableIndex keeps), from 5 it does not.
   */
  async function withSnapshots(c: StorageCluster, logFrom: number): Promise<void> {
    for (const id of c.nodeIds) {
      const { store } = await SnapshotStore.open(nodeFs, c.dataDir(id));
      const configuration = { voters: [...c.nodeIds], learners: [] };
      await store.save({ meta: { index: 2, term: 1, configuration }, data: Buffer.from('{"state":"at 2"}') });
      await store.save({ meta: { index: 4, term: 2, configuration }, data: Buffer.from('{"state":"at 4"}') });
      const { storage } = await openFileStorage(c.dataDir(id));
      await storage.compact(logFrom, logFrom === 3 ? 1 : 2);
      await storage.close();
    }
  }

  it('flip-snapshot: a correct node skips the damaged newest snapshot for the previous one and the log', async () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const c = await cluster(3);
      await withSnapshots(c, 3);
      const before = await readFile(join(c.dataDir('n1'), SNAPSHOT_FILE));
      const { records } = await run(c, [{ atMs: 0, f: 'start-disk', value: { target: 'leader', fault: 'flip-snapshot' } }], seed);
      const result = (completion(records, 'start-disk')['results'] as Record<string, Record<string, unknown>>)['n1']!;
      expect(result, `seed ${seed}`).toMatchObject({ done: 'flipped-snapshot', snapshotBytes: before.length, outcome: 'started' });
      expect(result).not.toHaveProperty('backup');
      // Exactly one bit of the newest snapshot differs; the node started from the previous one, the log reaching back to it.
      const after = await readFile(join(c.dataDir('n1'), SNAPSHOT_FILE));
      const diff = [...after].map((b, i) => b ^ before[i]!).filter((x) => x !== 0);
      expect(diff, `seed ${seed}`).toHaveLength(1);
      const recovered = c.recovered.get('n1')!;
      expect(recovered.stored.snapshot?.index, `seed ${seed}`).toBe(2);
      expect(recovered.stored.entries.map((e) => e.index)).toEqual([3, 4]);
      expect(recovered.notes.join('\n')).toMatch(/snapshot is damaged .*trying the previous snapshot/);
    }
  });

  it('flip-snapshot: when the log no longer reaches back to the previous snapshot the node refuses (exit 3); stop-disk gives the file back', async () => {
    const c = await cluster(3);
    await withSnapshots(c, 5);
    const before = await readFile(join(c.dataDir('n1'), SNAPSHOT_FILE));
    const { runner, records, logs } = await run(c, [{ atMs: 0, f: 'start-disk', value: { target: 'leader', fault: 'flip-snapshot' } }]);
    const result = (completion(records, 'start-disk')['results'] as Record<string, Record<string, unknown>>)['n1']!;
    expect(result).toMatchObject({ done: 'flipped-snapshot', outcome: 'refused', exit: 3 });
    expect(String(result['reason'])).toMatch(/the newest snapshot is damaged .* would be lost/);
    expect(logs.some((l) => /disk: n1 refused to start/.test(l))).toBe(true);
    expect(c.isAlive('n1')).toBe(false);
    await runner.healAll();
    expect(await readFile(join(c.dataDir('n1'), SNAPSHOT_FILE))).toEqual(before);
    expect(c.isAlive('n1')).toBe(true);
    expect(c.recovered.get('n1')?.stored.snapshot?.index).toBe(4);
    expect(await readFile(join(c.dataDir('n1'), PREVIOUS_SNAPSHOT_FILE))).toBeDefined();
  });

  it('flip-snapshot on a node without a snapshot yet: killed and restarted, nothing damaged', async () => {
    const c = await cluster(3);
    const { records } = await run(c, [{ atMs: 0, f: 'start-disk', value: { target: 'leader', fault: 'flip-snapshot' } }]);
    expect((completion(records, 'start-disk')['results'] as Record<string, unknown>)['n1']).toMatchObject({
      done: 'nothing',
      why: 'no snapshot yet',
      outcome: 'started',
    });
  });

  it('a node without a log yet is killed and restarted, nothing damaged', async () => {
    const c = new StorageCluster(3, new FakeMonitoredNet(), tempDir('rift-disk-nemesis-'));
    const { records } = await run(c, [{ atMs: 0, f: 'start-disk', value: { target: 'leader', fault: 'flip-last-frame' } }]);
    expect((completion(records, 'start-disk')['results'] as Record<string, unknown>)['n1']).toMatchObject({
      done: 'nothing',
      why: 'no log file',
      outcome: 'started',
    });
  });
});
