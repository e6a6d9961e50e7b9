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

describe('scanLog on a durable last frame with one flipped bit, wherever the frame lies against the sectors', () => {
  // A frame that ends a few bytes into a sector, or starts a few bytes before one: its share of that sector can be
  // all zeros by nature (a vote-less term record and a no-op entry end with a 0 byte; a length's low byte can be 0)
  // or hold a single set bit that bit rot clears; either way the share looks like the mark of a lost write. Recovery
  // dropped such a frame as torn whatever bit was flipped (found by the property test below when it was written; the
  // limit the comments knew of was only the second case). replay.ts oneFlipRestores decides it now.
  const filler = (dataBytes: number): Buffer => frameOf({ type: 'entry', entry: entry(1, 1, 'f'.repeat(dataBytes)) });
  const FILLER_FIXED_BYTES = filler(0).length;

  /** The file: header, a filler frame sized so that `frame` ends `into` bytes past a sector boundary (or starts `-into` bytes before one), then `frame`. */
  function placed(frame: Buffer, into: number): { bytes: Buffer; offset: number } {
    const sector = 512;
    const endAt = into > 0 ? into : into + frame.length;
    const dataBytes = (((endAt - FILE_MAGIC.length - FILLER_FIXED_BYTES - frame.length) % sector) + sector) % sector;
    const head = Buffer.concat([FILE_MAGIC, filler(dataBytes)]);
    return { bytes: Buffer.concat([head, frame]), offset: head.length };
  }

  it('a frame whose last sector share is one byte with one set bit: clearing it is refused, not taken for a lost write', () => {
    const frame = frameOf({ type: 'entry', entry: entry(2, 1, 'ends with @') });
    const { bytes, offset } = placed(frame, 1);
    expect((offset + frame.length) % 512).toBe(1);
    expect(bytes[bytes.length - 1]).toBe(0x40);
    const flipped = Buffer.from(bytes);
    flipped[flipped.length - 1] = 0;
    const r = scan(flipped);
    expect(r).toBeInstanceOf(StorageCorruptionError);
    expect((r as StorageCorruptionError).offset).toBe(offset);
    // The same share zeroed by a lost write of a frame that did not have one set bit there is still a torn write.
    const lost = Buffer.from(frameOf({ type: 'entry', entry: entry(2, 1, 'ends with a') }));
    const placedLost = placed(lost, 1);
    placedLost.bytes[placedLost.bytes.length - 1] = 0;
    expect(scan(placedLost.bytes)).toEqual({ frames: 1, tornOffset: placedLost.offset });
  });

  it('a vote-less term record ending one byte into a sector (that byte is 0 by nature): any flipped bit is refused', () => {
    const frame = frameOf({ type: 'hard_state', hardState: { currentTerm: 3, votedFor: null } });
    const { bytes, offset } = placed(frame, 1);
    expect(bytes[bytes.length - 1]).toBe(0);
    for (let bit = offset * 8; bit < bytes.length * 8; bit++) {
      const copy = Buffer.from(bytes);
      copy[bit >> 3]! ^= 1 << (bit & 7);
      expect(scan(copy), `bit ${bit - offset * 8}`).toBeInstanceOf(StorageCorruptionError);
    }
    // Its last sector lost whole (the byte was 0 anyway) is no damage at all; the sector before it lost is a torn write.
    expect(scan(bytes)).toEqual({ frames: 2, tornOffset: null });
    const lostBefore = Buffer.from(bytes);
    lostBefore.fill(0, Math.max(offset, bytes.length - 1 - 512), bytes.length - 1);
    expect(scan(lostBefore)).toEqual({ frames: 1, tornOffset: offset });
  });

  it(`refuses every single flipped bit of random last frames ending 1-16 bytes into a sector or starting 1-16 before one (seed ${seed})`, () => {
    const data = fc.array(fc.constantFrom('a', '@', ' ', 'z', '\u0001', '\u0080', '\u0000'), { maxLength: 40 }).map((cs) => cs.join(''));
    const record = fc.oneof(
      fc
        .record({ term: fc.integer({ min: 1, max: 9 }), data })
        .map(({ term, data }): LogRecord => ({ type: 'entry', entry: entry(2, term, data) })),
      fc
        .integer({ min: 1, max: 2 ** 20 })
        .map((currentTerm): LogRecord => ({ type: 'hard_state', hardState: { currentTerm, votedFor: null } })),
      fc.integer({ min: 2, max: 2 ** 20 }).map((fromIndex): LogRecord => ({ type: 'truncate', fromIndex })),
    );
    let flips = 0;
    fc.assert(
      fc.property(
        fc.array(record, { minLength: 1, maxLength: 3 }),
        fc.oneof(fc.integer({ min: 1, max: 16 }), fc.integer({ min: -16, max: -1 })),
        (records, into) => {
          const frame = frameOf(...records);
          const { bytes, offset } = placed(frame, into);
          for (let bit = offset * 8; bit < bytes.length * 8; bit++) {
            const copy = Buffer.from(bytes);
            copy[bit >> 3]! ^= 1 << (bit & 7);
            const r = scan(copy);
            expect(r, `bit ${bit - offset * 8} of the frame, placed at ${into} against a sector boundary`).toBeInstanceOf(
              StorageCorruptionError,
            );
            flips++;
          }
        },
      ),
      { seed, numRuns: 60 },
    );
    expect(flips).toBeGreaterThan(0);
  });
});

describe("scanLog with the disk's sector size (StorageFs sectorBytes)", () => {
  // A lost write leaves zeros at the disk's own grain: what reads as a lost page on a disk of 16-byte sectors is,
  // on a disk of 512-byte sectors, a damaged share that no whole sector of zeros explains.
  it('takes a zeroed aligned 16 bytes of the last frame for a lost write only on a disk whose sectors are 16 bytes', () => {
    const head = Buffer.concat([FILE_MAGIC, frameOf({ type: 'hard_state', hardState: { currentTerm: 1, votedFor: 'n1' } })]);
    const frame = frameOf({ type: 'entry', entry: entry(1, 1, 'x'.repeat(100)) });
    const bytes = Buffer.concat([head, frame]);
    const at = Math.ceil((head.length + 48) / 16) * 16; // inside the entry's data: no zero byte there by nature
    bytes.fill(0, at, at + 16);
    expect(scanLog(bytes, 'raft.log', { sectorBytes: 16 }).tornTail?.offset).toBe(head.length);
    expect(() => scanLog(bytes, 'raft.log', { sectorBytes: 512 })).toThrow(StorageCorruptionError);
    expect(() => scanLog(bytes, 'raft.log')).toThrow(/no zeroed sector/);
    // Zeros that do not fill a whole 16-byte sector: not a lost write on either disk.
    const partial = Buffer.concat([head, frame]);
    partial.fill(0, at + 1, at + 16);
    expect(() => scanLog(partial, 'raft.log', { sectorBytes: 16 })).toThrow(StorageCorruptionError);
  });
});

describe('scanLog on a large damaged last frame', () => {
  it('refuses a flipped bit in a 4 MiB frame, and cuts the same frame torn, in seconds (checksums only where a frame can start)', () => {
    const records: LogRecord[] = [];
    let bytes = 0;
    for (let index = 1; bytes < 4 * 1024 * 1024; index++) {
      const r: LogRecord = { type: 'entry', entry: entry(index, 3, JSON.stringify({ key: `k${index % 97}`, value: `v${index * 7919}` })) };
      records.push(r);
      bytes += encodeRecord(r).length;
    }
    const frames = encodeFrames(records.map(encodeRecord)).frames;
    expect(frames).toHaveLength(1);
    const whole = Buffer.concat([FILE_MAGIC, frames[0]!]);
    const flipped = Buffer.from(whole);
    flipped[FILE_MAGIC.length + 20]! ^= 4;
    // Every record header inside the frame reads as a plausible frame length; with a checksum over each of them this
    // took minutes (1 MiB: 2 s; 7.5 MiB: over 10 minutes). Now well under a second here; the bound allows a slow CI.
    const started = performance.now();
    expect(scan(flipped)).toBeInstanceOf(StorageCorruptionError);
    expect(scan(whole.subarray(0, whole.length - 1000))).toEqual({ frames: 0, tornOffset: FILE_MAGIC.length });
    expect(performance.now() - started).toBeLessThan(20_000);
  }, 60_000);
});
