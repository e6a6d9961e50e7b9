/**
 * The latency floor (bench/floor.ts): real processes, real UDP, real files.
 * Every write is fdatasynced by every process and answered once a majority
 * has it; a datagram with a wrong tag does not open.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  FLOOR_FRAME_HEADER_BYTES,
  FLOOR_HEADER_BYTES,
  FLOOR_KIND,
  FLOOR_TAG_BYTES,
  openFloor,
  sealFloor,
} from '../../bench/floor-process.js';
import { floorTable, measureFloor, totalCpuUs } from '../../bench/floor.js';

describe('floor datagrams', () => {
  it('open what they seal, and refuse a flipped bit, a wrong key or a short datagram', () => {
    const key = Buffer.alloc(32, 7);
    const sealed = sealFloor(key, FLOOR_KIND.append, 42, Buffer.from('hello'));
    expect(sealed.length).toBe(FLOOR_HEADER_BYTES + 5 + FLOOR_TAG_BYTES);
    const plain = openFloor(key, sealed);
    expect(plain?.[0]).toBe(FLOOR_KIND.append);
    expect(plain?.readUInt32LE(1)).toBe(42);
    expect(plain?.subarray(FLOOR_HEADER_BYTES).toString()).toBe('hello');
    const flipped = Buffer.from(sealed);
    flipped[6]! ^= 1;
    expect(openFloor(key, flipped)).toBeNull();
    expect(openFloor(Buffer.alloc(32, 8), sealed)).toBeNull();
    expect(openFloor(key, sealed.subarray(0, FLOOR_TAG_BYTES))).toBeNull();
  });
});

describe('measureFloor', () => {
  it('fdatasyncs every write in all five processes and reports the CPU each role spent', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rift-floor-test-'));
    try {
      const writes = 60;
      const warmup = 10;
      const payloadBytes = 64;
      const r = await measureFloor({ writes, warmup, payloadBytes, followers: 4, dir });
      expect(r.writes).toBe(writes);
      expect(r.fsyncs).toEqual([writes + warmup, writes + warmup, writes + warmup, writes + warmup, writes + warmup]);
      // Each process's file holds one frame per write: header, seq and payload.
      const frameBytes = FLOOR_FRAME_HEADER_BYTES + 4 + payloadBytes;
      expect(r.logBytes).toEqual(Array(5).fill((writes + warmup) * frameBytes));
      const files = readdirSync(dir);
      expect(files.length).toBe(5);
      for (const f of files) expect(statSync(join(dir, f)).size).toBe((writes + warmup) * frameBytes);
      expect(r.badMacs).toBe(0);
      expect(r.p50Ms).toBeGreaterThan(0);
      expect(r.p99Ms).toBeGreaterThanOrEqual(r.p50Ms);
      expect(r.leader.userUs + r.leader.systemUs).toBeGreaterThan(0);
      expect(r.follower.userUs + r.follower.systemUs).toBeGreaterThan(0);
      expect(totalCpuUs(r)).toBeGreaterThan(r.leader.userUs + r.leader.systemUs);
      expect(floorTable([r])).toContain('| floor | 60 |');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('a process that cannot start fails the measurement, and no floor process is left running', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'rift-floor-test-')), 'missing');
    // The leader opens its log in a directory that does not exist: it exits before it is ready.
    await expect(measureFloor({ writes: 5, warmup: 0, payloadBytes: 8, followers: 4, dir })).rejects.toThrow(
      /exited \(code 1\) before 'ready'/,
    );
    const left = spawnSync('pgrep', ['-f', `floor-process.js (leader|follower) ${dir}`], { encoding: 'utf8' });
    expect(left.stdout.trim()).toBe('');
    rmSync(join(dir, '..'), { recursive: true, force: true });
  }, 30_000);
});
