/**
 * CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320; the zlib/PNG/gzip
 * CRC), table-driven, one byte per step. Written out here rather than taken
 * from `node:zlib` so the on-disk format does not depend on the runtime
 * version and the simulator can reuse it; the tests check it against
 * `zlib.crc32` where the runtime has it. Ranges of `ZLIB_MIN_BYTES` or more
 * go to `zlib.crc32` when the runtime has it (Node >= 20.15; the same
 * function, about 8x faster past 4 KiB): the table loop took 254 ms of the
 * event loop over an 80 MB snapshot file, longer than an election timeout.
 * Below it the table is as fast (no call into C++).
 *
 * A CRC detects every burst error up to 32 bits and any odd number of flipped
 * bits, and lets a random corruption through with probability 2^-32: enough
 * to tell a torn or flipped record from a good one. It is not a defence
 * against a deliberate forger (nothing on the local disk is).
 */

const TABLE: Uint32Array = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

import zlib from 'node:zlib';

/** zlib's CRC-32 where the runtime has it (Node >= 20.15), else null. */
const zlibCrc32: ((data: Uint8Array, value?: number) => number) | null = typeof zlib.crc32 === 'function' ? zlib.crc32 : null;

/** From this many bytes on, a range goes to zlib (measured: equal at ~100 bytes, 6x faster at 4 KiB). */
export const ZLIB_MIN_BYTES = 256;

/** The table loop alone: the reference the fast path is tested against. */
export function crc32TableUpdate(crc: number, bytes: Uint8Array, start = 0, end = bytes.length): number {
  let c = ~crc;
  for (let i = start; i < end; i++) c = TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

/**
 * Continue a CRC over `bytes[start, end)`. Start a new CRC with `crc = 0`;
 * `crc32Update(crc32Update(0, a), b)` equals the CRC of `a` followed by `b`.
 */
export function crc32Update(crc: number, bytes: Uint8Array, start = 0, end = bytes.length): number {
  if (zlibCrc32 !== null && end - start >= ZLIB_MIN_BYTES) {
    return zlibCrc32(start === 0 && end === bytes.length ? bytes : bytes.subarray(start, end), crc) >>> 0;
  }
  return crc32TableUpdate(crc, bytes, start, end);
}

/** CRC-32 of the whole buffer, as an unsigned 32-bit integer. */
export function crc32(bytes: Uint8Array): number {
  return crc32Update(0, bytes);
}

/**
 * The raw CRC register (no inversions) after one more byte `b`. The step is
 * linear over GF(2): step(c, b) = step(c, 0) ^ step(0, b), which is what
 * lets `wholeFrameLength` (replay.ts) try every length of a frame in one
 * pass instead of one CRC per length.
 */
export function crc32RegisterStep(c: number, b: number): number {
  return TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
}
