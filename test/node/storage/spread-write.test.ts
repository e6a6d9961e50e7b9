// writeSpread: a big write is flushed in the background every piece, so a
// synchronous log fsync beside it never waits for more than one piece of it
// (node/storage/spread-write.ts); a small one makes the calls a plain loop made.
import { describe, expect, it } from 'vitest';
import { SPREAD_PIECE_BYTES, writeSpread } from '../../../node/storage/spread-write.js';
import type { StorageFile } from '../../../node/storage/storage-fs.js';

/** Records the calls; writes at most `maxPerCall` bytes per call (a short write, which the caller must loop on). */
function recordingFile(maxPerCall = Infinity): { file: StorageFile; calls: string[]; content: Uint8Array[] } {
  const calls: string[] = [];
  const content: Uint8Array[] = [];
  const file: StorageFile = {
    writeSync: () => {
      throw new Error('not used');
    },
    write: (buffer, offset, length, position) => {
      const n = Math.min(length, maxPerCall);
      calls.push(`write ${position} ${n}`);
      content.push(buffer.subarray(offset, offset + n));
      return Promise.resolve(n);
    },
    datasync: () => {
      throw new Error('a big write must not fsync on the calling thread');
    },
    datasyncInBackground: () => {
      calls.push('flush');
      return Promise.resolve();
    },
    sync: () => Promise.reject(new Error('the caller syncs at the end, not writeSpread')),
    truncate: () => Promise.reject(new Error('not used')),
    close: () => Promise.resolve(),
  };
  return { file, calls, content };
}

describe('writeSpread', () => {
  it('flushes in the background after every piece but the last, and writes every byte in order', async () => {
    const buf = Buffer.alloc(10 * 1024 * 1024);
    for (let i = 0; i < buf.length; i += 4096) buf[i] = (i / 4096) & 0xff;
    const { file, calls, content } = recordingFile();
    await writeSpread(file, buf, 100);
    const piece = SPREAD_PIECE_BYTES;
    expect(calls).toEqual([
      `write 100 ${piece}`,
      'flush',
      `write ${100 + piece} ${piece}`,
      'flush',
      `write ${100 + 2 * piece} ${buf.length - 2 * piece}`,
    ]);
    expect(Buffer.concat(content).equals(buf)).toBe(true);
  });

  it('a write of one piece or less: the single call a plain loop made, no flush', async () => {
    const { file, calls } = recordingFile();
    await writeSpread(file, Buffer.alloc(SPREAD_PIECE_BYTES), 0);
    expect(calls).toEqual([`write 0 ${SPREAD_PIECE_BYTES}`]);
  });

  it('short writes: loops, and still flushes at each piece boundary (not before, not after)', async () => {
    const { file, calls, content } = recordingFile(3);
    const buf = Buffer.from('abcdefghijk');
    await writeSpread(file, buf, 0, 4);
    expect(calls).toEqual(['write 0 3', 'write 3 1', 'flush', 'write 4 3', 'write 7 1', 'flush', 'write 8 3']);
    expect(Buffer.concat(content).toString()).toBe('abcdefghijk');
  });

  it('a write that makes no progress is an error, not a loop', async () => {
    const { file } = recordingFile(0);
    await expect(writeSpread(file, Buffer.from('x'), 0)).rejects.toThrow(/progress/);
  });
});
