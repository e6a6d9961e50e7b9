import zlib from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32, crc32TableUpdate, crc32Update, ZLIB_MIN_BYTES } from '../../../node/storage/crc32.js';

describe('crc32', () => {
  it('matches the standard check value', () => {
    // The CRC-32/ISO-HDLC check value from the CRC catalogue.
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
  });

  it('agrees with zlib.crc32 and composes incrementally (fast-check prints seed on failure)', () => {
    const zcrc = (zlib as unknown as { crc32?: (b: Uint8Array) => number }).crc32;
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), fc.nat(), (bytes, cut) => {
        const c = crc32(bytes);
        if (typeof zcrc === 'function') expect(c).toBe(zcrc(bytes));
        const k = bytes.length === 0 ? 0 : cut % (bytes.length + 1);
        expect(crc32Update(crc32Update(0, bytes, 0, k), bytes, k)).toBe(c);
      }),
    );
  });

  it('the zlib fast path (long ranges) equals the table loop, across the threshold and from any start (fast-check prints seed on failure)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: ZLIB_MIN_BYTES - 2, maxLength: 3 * ZLIB_MIN_BYTES }),
        fc.nat(),
        fc.nat(),
        fc.nat(),
        (bytes, a, b, seed) => {
          const start = a % (bytes.length + 1);
          const end = start + (b % (bytes.length - start + 1));
          const crc = seed >>> 0;
          expect(crc32Update(crc, bytes, start, end)).toBe(crc32TableUpdate(crc, bytes, start, end));
          expect(crc32Update(0, bytes)).toBe(crc32TableUpdate(0, bytes));
        },
      ),
    );
  });
});
