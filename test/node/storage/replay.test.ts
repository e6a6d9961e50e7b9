// The torn-tail decision of node/storage/replay.ts: what a power failure can
// leave at the end of the log is cut off, what bit rot did to durable data is
// refused. The random test prints its seed in its name; replay one with
// FC_SEED=<seed> npx vitest run test/node/storage/replay.test.ts.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FILE_MAGIC, FRAME_HEADER_BYTES, encodeFrames, encodeRecord, readFrame, type LogRecord } from '../../../node/storage/record.js';
import { scanLog, wholeFrameLength } from '../../../node/storage/replay.js';
import { StorageCorruptionError } from '../../../node/storage/storage.js';
import { entry } from './helpers.js';

const seed = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : Date.now() % 2 ** 31;

const frameOf = (...records: LogRecord[]): Buffer => encodeFrames(records.map(encodeRecord)).frames[0]!;

/** The definition: the smallest length whose rewritten frame has a good checksum and records, found one CRC per length. */
function wholeFrameLengthSlowly(buf: Uint8Array, offset: number): number | null {
  for (let length = 0; offset + FRAME_HEADER_BYTES + length <= buf.length; length++) {
    const copy = Buffer.from(buf.subarray(offset, offset + FRAME_HEADER_BYTES + length));
    copy.writeUInt32LE(length, 0);
    if (readFrame(copy, 0).kind === 'ok') return length;
  }
  return null;
}

/** Scans `bytes`; the error if it refuses, else what it kept and dropped. */
function scan(bytes: Buffer): StorageCorruptionError | { frames: number; tornOffset: number | null } {
  try {
    const r = scanLog(bytes, 'raft.log');
    return { frames: r.frames.length, tornOffset: r.tornTail?.offset ?? null };
  } catch (e) {
    if (e instanceof StorageCorruptionError) return e;
    throw e;
  }
}

describe('wholeFrameLength', () => {
  it(`finds the same length as one CRC per candidate length, on frames with damaged length fields and trailing bytes (seed ${seed})`, () => {
    const record = fc.oneof(
      fc
        .record({ index: fc.integer({ min: 1, max: 1000 }), term: fc.integer({ min: 1, max: 9 }), data: fc.string({ maxLength: 40 }) })
        .map(({ index, term, data }): LogRecord => ({ type: 'entry', entry: entry(index, term, data) })),
      fc
        .record({ currentTerm: fc.integer({ min: 0, max: 9 }), votedFor: fc.option(fc.constantFrom('n1', 'n2', 'n3')) })
        .map((hardState): LogRecord => ({ type: 'hard_state', hardState })),
    );
    fc.assert(
      fc.property(
        fc.array(record, { minLength: 1, maxLength: 4 }),
        fc.nat({ max: 31 }),
        fc.boolean(),
        fc.uint8Array({ maxLength: 40 }),
        fc.nat({ max: 1000 }),
        (records, bit, damage, trailing, cut) => {
          const frame = frameOf(...records);
          const buf = Buffer.concat([frame, trailing]);
          if (damage) buf.writeUInt32LE((buf.readUInt32LE(0) ^ (2 ** bit)) >>> 0, 0);
          // Also the torn case: the frame itself cut short somewhere.
          const torn = buf.subarray(0, Math.min(buf.length, FRAME_HEADER_BYTES + (cut % (frame.length + 1))));
          expect(wholeFrameLength(buf, 0)).toBe(wholeFrameLengthSlowly(buf, 0));
          expect(wholeFrameLength(torn, 0)).toBe(wholeFrameLengthSlowly(torn, 0));
          // An undamaged frame is whole at its own length whatever follows it.
          if (!damage) expect(wholeFrameLength(buf, 0)).toBe(frame.length - FRAME_HEADER_BYTES);
        },
      ),
      { seed, numRuns: 400 },
    );
  });

  it('finds a frame at an offset inside a larger buffer, and nothing in fewer bytes than a header', () => {
    const frame = frameOf({ type: 'hard_state', hardState: { currentTerm: 2, votedFor: 'n2' } });
    const buf = Buffer.concat([Buffer.alloc(13, 0x5a), frame, Buffer.from([0x27, 0x00])]);
    expect(wholeFrameLength(buf, 13)).toBe(frame.length - FRAME_HEADER_BYTES);
    expect(wholeFrameLength(frame.subarray(0, FRAME_HEADER_BYTES - 1), 0)).toBeNull();
  });
});

describe('scanLog on a durable last frame with a flipped bit and a torn later append after it', () => {
  // The log of the case the simulator found (`--faults-of torn-tail-dropped`, seed 71216): a candidate's
  // fsynced vote for itself in term 2, then as leader its no-op entry, torn by a power failure after 2 bytes,
  // while a bit of the vote frame's length field flipped (16 -> 16400). Recovery took the vote frame for the
  // torn append and dropped it: the node restarted in term 1, free to vote again in term 2.
  const earlier = frameOf(
    { type: 'hard_state', hardState: { currentTerm: 1, votedFor: null } },
    { type: 'entry', entry: entry(1, 1, 'a') },
  );
  const vote = frameOf({ type: 'hard_state', hardState: { currentTerm: 2, votedFor: 'n2' } });
  const next = frameOf({ type: 'entry', entry: entry(2, 2, '', 'noop') });
  const voteOffset = FILE_MAGIC.length + earlier.length;
  const nextOffset = voteOffset + vote.length;
  const secondSectorZeroed = (frame: Buffer): Buffer => {
    const copy = Buffer.from(frame);
    copy.fill(0, (Math.floor(nextOffset / 512) + 1) * 512 - nextOffset);
    return copy;
  };
  const remnants: Array<{ name: string; bytes: Buffer }> = [
    { name: 'nothing', bytes: Buffer.alloc(0) },
    ...[1, 2, 5, FRAME_HEADER_BYTES, next.length - 1].map((n) => ({ name: `${n} bytes of the next frame`, bytes: next.subarray(0, n) })),
    // A longer append whose second sector never reached the disk (it reads back as zeros).
    {
      name: 'a longer next frame with its second sector zeroed',
      bytes: secondSectorZeroed(frameOf({ type: 'entry', entry: entry(2, 2, 'x'.repeat(700)) })),
    },
    { name: '4096 zeros (a file extended, not written)', bytes: Buffer.alloc(4096) },
  ];

  it('the case the simulator found is refused, naming the damaged length field', () => {
    const bytes = Buffer.concat([FILE_MAGIC, earlier, vote, next.subarray(0, 2)]);
    bytes[voteOffset + 1]! ^= 0x40; // the length 16 becomes 16400
    const r = scan(bytes);
    expect(r).toBeInstanceOf(StorageCorruptionError);
    expect((r as StorageCorruptionError).offset).toBe(voteOffset);
    expect((r as StorageCorruptionError).message).toMatch(/damaged length field \(read as 16 payload bytes .*; 2 bytes follow it\)/);
  });

  it('refuses every single flipped bit of the durable frame, whatever the torn append left after it', () => {
    let checked = 0;
    for (const remnant of remnants) {
      const clean = Buffer.concat([FILE_MAGIC, earlier, vote, remnant.bytes]);
      for (let bit = voteOffset * 8; bit < (voteOffset + vote.length) * 8; bit++) {
        const bytes = Buffer.from(clean);
        bytes[bit >> 3]! ^= 1 << (bit & 7);
        const r = scan(bytes);
        expect(r, `${remnant.name}, bit ${bit - voteOffset * 8} of the frame`).toBeInstanceOf(StorageCorruptionError);
        expect((r as StorageCorruptionError).offset, `${remnant.name}, bit ${bit - voteOffset * 8}`).toBe(voteOffset);
        checked++;
      }
    }
    expect(checked).toBe(remnants.length * vote.length * 8);
  });

  it('without the flip, keeps the durable frame and cuts off only what the torn append left', () => {
    for (const remnant of remnants) {
      const r = scan(Buffer.concat([FILE_MAGIC, earlier, vote, remnant.bytes]));
      expect(r, remnant.name).toEqual({ frames: 2, tornOffset: remnant.bytes.length === 0 ? null : voteOffset + vote.length });
    }
  });

  it('still cuts off the frame being appended when it is itself torn at every length', () => {
    const whole = Buffer.concat([FILE_MAGIC, earlier, vote]);
    for (let end = voteOffset + 1; end < whole.length; end++) {
      expect(scan(whole.subarray(0, end)), `cut at ${end}`).toEqual({ frames: 1, tornOffset: voteOffset });
    }
  });
});
