import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AssertionError } from '../../../node/util/assert.js';
import { encodeFrames, encodeRecord, readFrame, MAX_PAYLOAD_BYTES, type LogRecord } from '../../../node/storage/record.js';

function frameOf(records: readonly LogRecord[]): Buffer {
  const { frames } = encodeFrames(records.map(encodeRecord));
  expect(frames).toHaveLength(1);
  return frames[0]!;
}

const nonNeg = fc.maxSafeNat();
const recordArb: fc.Arbitrary<LogRecord> = fc.oneof(
  fc.record({
    type: fc.constant('entry' as const),
    entry: fc.record({
      term: nonNeg,
      index: nonNeg,
      type: fc.constantFrom('command' as const, 'noop' as const),
      // Include lone surrogates and BOMs: both must survive the round trip exactly.
      data: fc.oneof(fc.string({ unit: 'binary' }), fc.constantFrom('\uD800', 'a\uDC00b', '\uFEFFbom', '')),
    }),
  }),
  fc.record({
    type: fc.constant('hard_state' as const),
    hardState: fc.record({ currentTerm: nonNeg, votedFor: fc.option(fc.string({ unit: 'grapheme' }), { nil: null }) }),
  }),
  fc.record({ type: fc.constant('truncate' as const), fromIndex: nonNeg }),
);

describe('record encoding', () => {
  it('round-trips every batch of records exactly (fast-check prints seed on failure)', () => {
    fc.assert(
      fc.property(fc.array(recordArb, { minLength: 1, maxLength: 8 }), (records) => {
        const buf = frameOf(records);
        const r = readFrame(buf, 0);
        expect(r.kind).toBe('ok');
        if (r.kind === 'ok') {
          expect(r.records).toEqual(records);
          expect(r.recordBytes).toEqual(records.map((x) => encodeRecord(x).length));
          expect(r.end).toBe(buf.length);
        }
      }),
    );
  });

  it('splits a batch over the size limit into several frames that read back in order', () => {
    const big = 'b'.repeat(3 * 1024 * 1024);
    const records: LogRecord[] = [1, 2, 3, 4].map((index) => ({ type: 'entry', entry: { term: 1, index, type: 'command', data: big } }));
    const { frames, frameOf: where } = encodeFrames(records.map(encodeRecord));
    expect(frames).toHaveLength(2);
    expect(where).toEqual([0, 0, 1, 1]);
    const all = Buffer.concat(frames);
    const first = readFrame(all, 0);
    expect(first.kind).toBe('ok');
    if (first.kind !== 'ok') return;
    const second = readFrame(all, first.end);
    expect(second.kind).toBe('ok');
    if (second.kind !== 'ok') return;
    expect([...first.records, ...second.records]).toEqual(records);
    expect(second.end).toBe(all.length);
  });

  it('reports every single flipped bit as damaged (checksum covers length, type and payload)', () => {
    const buf = frameOf([
      { type: 'hard_state', hardState: { currentTerm: 3, votedFor: 'n1' } },
      { type: 'entry', entry: { term: 3, index: 7, type: 'command', data: 'hello' } },
    ]);
    for (let bit = 0; bit < buf.length * 8; bit++) {
      const copy = Buffer.from(buf);
      copy[bit >> 3]! ^= 1 << (bit & 7);
      expect(readFrame(copy, 0).kind, `bit ${bit}`).toBe('damaged');
    }
  });

  it('treats a huge length as damage without allocating', () => {
    const buf = Buffer.alloc(9);
    buf.writeUInt32LE(0xffffffff, 0);
    const r = readFrame(buf, 0);
    expect(r.kind).toBe('damaged');
    if (r.kind === 'damaged') expect(r.reason).toContain('exceeds');
  });

  it('reports a checksummed frame with undecodable content as invalid (never torn)', () => {
    const good = frameOf([{ type: 'truncate', fromIndex: 3 }]);
    const bad = Buffer.from(good);
    bad[9] = 77; // unknown record type; fix up the checksum so only the content is wrong
    const fixed = encodeFramesRaw(bad.subarray(9));
    const r = readFrame(fixed, 0);
    expect(r.kind).toBe('invalid');
    if (r.kind === 'invalid') expect(r.reason).toContain('unknown record type 77');
  });

  it('refuses to encode a record over the size limit or with a non-integer term', () => {
    expect(() =>
      encodeRecord({ type: 'entry', entry: { term: 1, index: 1, type: 'command', data: 'x'.repeat(MAX_PAYLOAD_BYTES) } }),
    ).toThrow(AssertionError);
    expect(() => encodeRecord({ type: 'hard_state', hardState: { currentTerm: 1.5, votedFor: null } })).toThrow(AssertionError);
    expect(() => encodeRecord({ type: 'truncate', fromIndex: -1 })).toThrow(AssertionError);
  });
});

/** Frame arbitrary payload bytes with a correct checksum (to reach the content checks). */
function encodeFramesRaw(payload: Uint8Array): Buffer {
  // encodeFrames only concatenates records, so a single raw "record" yields exactly this payload.
  const { frames } = encodeFrames([Buffer.from(payload)]);
  return frames[0]!;
}
