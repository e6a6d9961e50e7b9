/**
 * The file storage gives the same results on the simulated file system as on
 * the real one for the same sequence of calls: the same recovered state, the
 * same recovery reports (torn tails, compactions) and the same file bytes.
 * So what the simulator exercises is what a node does on its disk.
 *
 * Seeded (printed in the test name); replay with FC_SEED=<seed>.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { Entry, HardState } from '../../node/raft/types.js';
import { LOG_FILE_NAME, openFileStorage, type OpenedFileStorage } from '../../node/storage/file-storage.js';
import type { StorageFs } from '../../node/storage/storage-fs.js';
import type { RecoveryReport } from '../../node/storage/storage.js';
import { EventQueue } from '../../sim/event-queue.js';
import { SimFs } from '../../sim/sim-fs.js';
import { Stream } from '../../sim/streams.js';
import { cleanupTempDirs, tempDir } from '../node/storage/helpers.js';
import { drive } from './disk-driver.js';

afterAll(cleanupTempDirs);

const seed = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : Date.now() % 2 ** 31;

interface Step {
  readonly termBump: number;
  readonly vote: string | null;
  readonly back: number;
  readonly count: number;
  readonly data: string;
  readonly reopenAfter: boolean;
}

const stepArb: fc.Arbitrary<Step> = fc.record({
  termBump: fc.nat({ max: 2 }),
  vote: fc.option(fc.constantFrom('n1', 'n2', 'n3'), { nil: null }),
  back: fc.oneof(fc.constant(0), fc.nat({ max: 6 })),
  count: fc.nat({ max: 6 }),
  data: fc.string({ maxLength: 60 }),
  reopenAfter: fc.nat({ max: 3 }).map((n) => n === 0),
});

/** A valid persist call (as the core makes them) from a step and the state so far. */
function concretize(model: { hardState: HardState; entries: Entry[] }, step: Step): { hardState: HardState | null; entries: Entry[] } {
  const hardState =
    step.termBump > 0 || step.vote !== null ? { currentTerm: model.hardState.currentTerm + step.termBump, votedFor: step.vote } : null;
  const currentTerm = hardState?.currentTerm ?? model.hardState.currentTerm;
  const start = Math.max(1, model.entries.length + 1 - step.back);
  const term = Math.max(start === 1 ? 0 : model.entries[start - 2]!.term, currentTerm);
  const entries = Array.from({ length: step.count }, (_, i): Entry => ({
    index: start + i,
    term,
    type: 'command',
    data: `${step.data}#${start + i}`,
  }));
  return { hardState, entries };
}

/** One storage directory and how to run its operations to completion. */
interface Side {
  readonly fs: StorageFs | undefined;
  readonly dir: string;
  run<T>(p: Promise<T>): Promise<T>;
  bytes(): Promise<Buffer>;
}

const options = { compactMinGarbageBytes: 300 };

function withoutFile(report: RecoveryReport): Omit<RecoveryReport, 'file'> {
  const { file: _file, ...rest } = report;
  return rest;
}

describe('FileRaftStorage on the simulated file system vs on the real one', () => {
  it(`the same calls give the same recovered states, reports and file bytes (seed ${seed})`, async () => {
    let compactions = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { maxLength: 30 }), fc.nat(), async (steps, fsSeed) => {
        const realDir = await tempDir();
        const queue = new EventQueue();
        const simFs = new SimFs(queue, new Stream(fsSeed, 'fs'), { syncMsMin: 1, syncMsMax: 6 });
        const sides: Side[] = [
          { fs: undefined, dir: realDir, run: (p) => p, bytes: () => readFile(path.join(realDir, LOG_FILE_NAME)) },
          {
            fs: simFs.process(),
            dir: '/var/lib/rift/n1',
            run: (p) => drive(queue, p),
            bytes: () => simFs.process().readFile(`/var/lib/rift/n1/${LOG_FILE_NAME}`),
          },
        ];
        const open = (side: Side): Promise<OpenedFileStorage> =>
          side.run(openFileStorage(side.dir, side.fs === undefined ? options : { ...options, fs: side.fs }));
        let opened = await Promise.all(sides.map(open));
        expect(withoutFile(opened[1]!.recovery)).toEqual(withoutFile(opened[0]!.recovery));
        const model: { hardState: HardState; entries: Entry[] } = { hardState: { currentTerm: 0, votedFor: null }, entries: [] };
        for (const step of steps) {
          const call = concretize(model, step);
          for (const [i, side] of sides.entries()) await side.run(opened[i]!.storage.persist(call.hardState, call.entries));
          if (call.hardState !== null) model.hardState = call.hardState;
          const first = call.entries[0];
          if (first !== undefined) model.entries = [...model.entries.slice(0, first.index - 1), ...call.entries];
          if (step.reopenAfter) {
            for (const [i, side] of sides.entries()) await side.run(opened[i]!.storage.close());
            opened = await Promise.all(sides.map(open));
            expect(opened[0]!.stored).toEqual(model);
            expect(opened[1]!.stored).toEqual(opened[0]!.stored);
            expect(withoutFile(opened[1]!.recovery)).toEqual(withoutFile(opened[0]!.recovery));
            if (opened[0]!.recovery.compacted !== null) compactions++;
          }
        }
        for (const [i, side] of sides.entries()) await side.run(opened[i]!.storage.close());
        const [realBytes, simBytes] = await Promise.all(sides.map((s) => s.bytes()));
        expect(simBytes).toEqual(realBytes);
        // A clean close leaves nothing unsynced on the simulated disk: a crash now loses nothing.
        expect(simFs.isQuiescent()).toBe(true);
      }),
      { seed, numRuns: 40 },
    );
    // The comparison covered the compaction path (temp file, fsync, rename, directory fsync) too.
    expect(compactions).toBeGreaterThan(0);
  });
});
