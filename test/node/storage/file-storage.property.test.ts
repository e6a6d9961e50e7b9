// Property tests of the file storage against an in-memory model, and of
// recovery against arbitrary bytes. Each test prints its seed in its name;
// replay one with FC_SEED=<seed> npx vitest run test/node/storage.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { Entry, HardState, StoredState } from '../../../node/raft/types.js';
import { LOG_FILE_NAME, StorageCorruptionError, openFileStorage, type RaftStorage } from '../../../node/storage/index.js';
import { FILE_MAGIC, encodeFrames, encodeRecord, type LogRecord } from '../../../node/storage/record.js';
import { cleanupTempDirs, tempDir } from './helpers.js';

afterAll(cleanupTempDirs);

const seed = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : Date.now() % 2 ** 31;

/**
 * One abstract step, made concrete against the model's current state so it
 * is always a valid persist call (the Raft core only makes valid ones).
 */
interface Step {
  readonly termBump: number; // 0 = no hard state in this call
  readonly vote: string | null;
  readonly back: number; // how far before lastIndex + 1 the new entries start (a §5.3 overwrite when > 0)
  readonly count: number;
  readonly termRises: readonly boolean[];
  readonly data: string;
  readonly reopenAfter: boolean;
  /** Event-loop turns after the step: a background rewrite (file-storage.ts) makes progress between persists. */
  readonly yields: number;
  /**
   * After the persist, a snapshot covers the log up to here: null (none), a
   * fraction of the way along the log, or a point past its end with a term
   * the log may not agree with (an installed snapshot, §7).
   */
  readonly compact: null | { readonly fraction: number; readonly past: number; readonly termAgrees: boolean };
}

const stepArb: fc.Arbitrary<Step> = fc.record({
  termBump: fc.nat({ max: 2 }),
  vote: fc.option(fc.constantFrom('n1', 'n2', 'n3'), { nil: null }),
  back: fc.oneof(fc.constant(0), fc.nat({ max: 6 })),
  count: fc.nat({ max: 6 }),
  termRises: fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }),
  data: fc.string({ maxLength: 40 }),
  reopenAfter: fc.nat({ max: 3 }).map((n) => n === 0), // reopen after about a quarter of the steps
  yields: fc.nat({ max: 3 }),
  compact: fc.option(
    fc.record({
      fraction: fc.double({ min: 0, max: 1, noNaN: true }),
      past: fc.oneof(fc.constant(0), fc.nat({ max: 5 })),
      termAgrees: fc.boolean(),
    }),
    { nil: null, freq: 3 },
  ),
});

/** What the storage must give back on reopen: the hard state, and the log from firstIndex (after a compaction, what the snapshot does not cover). */
interface Model {
  hardState: HardState;
  entries: Entry[];
  /** Last index and term a compaction covers, or null. */
  compactedThrough: { index: number; term: number } | null;
}

function firstIndexOf(model: Model): number {
  return (model.compactedThrough?.index ?? 0) + 1;
}

function termAt(model: Model, index: number): number | null {
  if (index === firstIndexOf(model) - 1) return model.compactedThrough?.term ?? 0;
  return model.entries[index - firstIndexOf(model)]?.term ?? null;
}

function concretize(model: Model, step: Step): { hardState: HardState | null; entries: Entry[] } {
  const hardState =
    step.termBump > 0 || step.vote !== null ? { currentTerm: model.hardState.currentTerm + step.termBump, votedFor: step.vote } : null;
  const currentTerm = hardState?.currentTerm ?? model.hardState.currentTerm;
  const first = firstIndexOf(model);
  const start = Math.max(first, first + model.entries.length - step.back);
  let term = termAt(model, start - 1)!;
  const entries: Entry[] = [];
  for (let i = 0; i < step.count; i++) {
    if (step.termRises[i] === true || term === 0) term = Math.max(term, currentTerm);
    entries.push({ index: start + i, term, type: i % 3 === 0 ? 'noop' : 'command', data: `${step.data}#${start + i}` });
  }
  return { hardState, entries };
}

describe('file storage vs an in-memory model', () => {
  it(`random persist sequences with truncations, compactions and reopens match the model (seed ${seed})`, async () => {
    let compactions = 0;
    let rewrites = 0;
    let rewritesBesidePersists = 0;
    const abandoned: string[] = [];
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { maxLength: 25 }), fc.boolean(), async (steps, smallRewrites) => {
        const dir = await tempDir();
        const model: Model = { hardState: { currentTerm: 0, votedFor: null }, entries: [], compactedThrough: null };
        // A tiny threshold makes compaction rewrite the file often (the online rewrite path).
        const opts = {
          ...(smallRewrites ? { compactMinGarbageBytes: 64 } : {}),
          log: (line: string) => {
            if (line.includes('rewrote')) rewrites++;
            // Nothing damages these files: a rewrite that gives up means the index's offsets were wrong.
            if (line.includes('abandoned')) abandoned.push(line);
            if (/rewrote .*\([1-9][0-9]* bytes written meanwhile\)/.test(line)) rewritesBesidePersists++;
          },
        };
        const expectReopened = (opened: Awaited<ReturnType<typeof openFileStorage>>): void => {
          expect(opened.stored).toEqual({ hardState: model.hardState, entries: model.entries });
          expect(opened.recovery.compactedThrough).toEqual(model.compactedThrough);
          expect(opened.recovery.tornTail).toBeNull();
        };
        let { storage } = await openFileStorage(dir, opts);
        try {
          for (const step of steps) {
            const call = concretize(model, step);
            await storage.persist(call.hardState, call.entries);
            if (call.hardState !== null) model.hardState = call.hardState;
            const first = call.entries[0];
            if (first !== undefined) model.entries = [...model.entries.slice(0, first.index - firstIndexOf(model)), ...call.entries];
            if (step.compact !== null && firstIndexOf(model) + model.entries.length + step.compact.past > 1) {
              const lastIndex = firstIndexOf(model) - 1 + model.entries.length;
              const base = firstIndexOf(model) - 1;
              const through = Math.max(
                1,
                step.compact.past > 0 ? lastIndex + step.compact.past : base + Math.round(step.compact.fraction * (lastIndex - base)),
              );
              const agreed = termAt(model, through);
              const term = step.compact.termAgrees && agreed !== null ? agreed : Math.max(agreed ?? 0, model.hardState.currentTerm) + 1;
              await storage.compact(through + 1, term);
              compactions++;
              const keeps = agreed !== null && agreed === term;
              model.entries = keeps ? model.entries.slice(through + 1 - firstIndexOf(model)) : [];
              model.compactedThrough = { index: through, term };
            }
            for (let i = 0; i < step.yields; i++) await new Promise((resolve) => setImmediate(resolve));
            if (step.reopenAfter) {
              await storage.close();
              const opened = await openFileStorage(dir, opts);
              storage = opened.storage;
              expectReopened(opened);
            }
          }
        } finally {
          await storage.close();
        }
        const final = await openFileStorage(dir, opts);
        await final.storage.close();
        expectReopened(final);
      }),
      { seed, numRuns: 60 },
    );
    expect(compactions).toBeGreaterThan(0);
    expect(rewrites).toBeGreaterThan(0);
    // The swap appended persists made while the copy was written (printed: how often the runs reached that path).
    console.log(`rewrites ${rewrites}, of which with persists meanwhile ${rewritesBesidePersists}`);
    expect(rewritesBesidePersists).toBeGreaterThan(0);
    expect(abandoned).toEqual([]);
  });
});

/** Invariants every recovered state must have. */
function expectValidState(stored: StoredState): void {
  expect(Number.isSafeInteger(stored.hardState.currentTerm) && stored.hardState.currentTerm >= 0).toBe(true);
  const first = stored.entries[0]?.index ?? 1;
  stored.entries.forEach((e, i) => {
    expect(e.index).toBe(first + i);
    if (i > 0) expect(e.term).toBeGreaterThanOrEqual(stored.entries[i - 1]!.term);
  });
}

const recordArb: fc.Arbitrary<LogRecord> = fc.oneof(
  fc.record({
    type: fc.constant('entry' as const),
    entry: fc.record({
      term: fc.nat({ max: 4 }),
      index: fc.nat({ max: 6 }),
      type: fc.constantFrom('command' as const, 'noop' as const),
      data: fc.string({ maxLength: 12 }),
    }),
  }),
  fc.record({
    type: fc.constant('hard_state' as const),
    hardState: fc.record({ currentTerm: fc.nat({ max: 4 }), votedFor: fc.option(fc.string({ maxLength: 4 }), { nil: null }) }),
  }),
  fc.record({ type: fc.constant('truncate' as const), fromIndex: fc.nat({ max: 6 }) }),
  fc.record({ type: fc.constant('compact' as const), firstIndex: fc.integer({ min: 1, max: 7 }), prevTerm: fc.nat({ max: 4 }) }),
);

type Mutation = { kind: 'flip'; at: number; bit: number } | { kind: 'cut'; at: number } | { kind: 'insert'; at: number; bytes: Uint8Array };
const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat({ max: 7 }) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
);

function mutate(buf: Buffer, m: Mutation): Buffer {
  if (buf.length === 0) return buf;
  const at = m.at % buf.length;
  switch (m.kind) {
    case 'flip': {
      const copy = Buffer.from(buf);
      copy[at]! ^= 1 << m.bit;
      return copy;
    }
    case 'cut':
      return buf.subarray(0, at);
    case 'insert':
      return Buffer.concat([buf.subarray(0, at), m.bytes, buf.subarray(at)]);
  }
}

/** Well-framed batches of records (often semantically wrong), or frames around raw payload bytes. */
const framesArb: fc.Arbitrary<Buffer[]> = fc.array(
  fc.oneof(
    fc.array(recordArb, { minLength: 1, maxLength: 4 }).map((records) => encodeFrames(records.map(encodeRecord)).frames[0]!),
    fc.uint8Array({ minLength: 1, maxLength: 64 }).map((payload) => encodeFrames([Buffer.from(payload)]).frames[0]!),
  ),
  { maxLength: 6 },
);

/** Garbage: raw bytes, bytes after a good header, or well-framed files, then mutated. */
const garbageArb: fc.Arbitrary<Buffer> = fc.oneof(
  fc.uint8Array({ maxLength: 256 }).map((b) => Buffer.from(b)),
  fc.uint8Array({ maxLength: 256 }).map((b) => Buffer.concat([FILE_MAGIC, b])),
  fc
    .tuple(framesArb, fc.array(mutationArb, { maxLength: 3 }))
    .map(([frames, mutations]) => mutations.reduce(mutate, Buffer.concat([FILE_MAGIC, ...frames]))),
);

describe('recovery from arbitrary bytes', () => {
  it(`never throws anything but StorageCorruptionError, and a recovered state is valid and stable (seed ${seed})`, async () => {
    const dir = await tempDir();
    const file = path.join(dir, LOG_FILE_NAME);
    let opened = 0;
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(garbageArb, async (bytes) => {
        await writeFile(file, bytes);
        let storage: RaftStorage;
        let stored: StoredState;
        try {
          ({ storage, stored } = await openFileStorage(dir, {}));
        } catch (e) {
          expect(e).toBeInstanceOf(StorageCorruptionError);
          expect((e as Error).message).toContain(file);
          expect((e as Error).message).toMatch(/byte offset \d+/);
          refused++;
          return;
        }
        opened++;
        await storage.close();
        expectValidState(stored);
        // Recovery is idempotent: the repaired file reopens to the same state, without another repair.
        const again = await openFileStorage(dir, {});
        await again.storage.close();
        expect(again.stored).toEqual(stored);
        expect(again.recovery.tornTail).toBeNull();
      }),
      { seed, numRuns: 400 },
    );
    // The generator must exercise both outcomes, or the property says little.
    expect(opened).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
  });
});
