/**
 * Clock faults through libfaketime (--clock-via faketime): the offset file,
 * the command line, and, for real, a rift node whose wall clock jumped
 * beyond the client freshness window: it drops client requests as stale
 * until the jump is undone. (Skipped with a printed reason where libfaketime
 * is not installed.)
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { Cluster } from '../../../harness/cluster.js';
import { FaketimeClock, faketimeOffsetText, faketimeUnavailableReason, libfaketimePath } from '../../../harness/db/faketime-clock.js';
import { RiftClient } from '../../../node/client.js';
import { tempDir } from '../temp-dirs.js';
import { waitFor } from '../wait.js';

const reason = faketimeUnavailableReason();
if (reason !== null) console.log(`skipping the real faketime test: ${reason}`);
const clusters: Cluster[] = [];

afterEach(async () => {
  for (const c of clusters.splice(0)) await c.stop();
});

describe('FaketimeClock', () => {
  test("writes libfaketime's relative offsets", () => {
    expect(faketimeOffsetText(0)).toBe('+0\n');
    expect(faketimeOffsetText(600_500)).toBe('+600.5\n');
    expect(faketimeOffsetText(-250)).toBe('-0.25\n');
  });

  test('wraps the command in env with the preload and a reset offset file; jumps accumulate; a rate is refused', async () => {
    const dir = tempDir('rift-faketime-');
    const clock = new FaketimeClock(dir, '/lib/libfaketime.so.1');
    const wrapped = clock.wrap('n1', { command: '/bin/node', args: ['main.js', '--id', 'n1'] });
    expect(wrapped).toEqual({
      command: 'env',
      args: [
        'LD_PRELOAD=/lib/libfaketime.so.1',
        `FAKETIME_TIMESTAMP_FILE=${join(dir, 'n1.faketime')}`,
        'FAKETIME_NO_CACHE=1',
        'FAKETIME_DONT_FAKE_MONOTONIC=1',
        '/bin/node',
        'main.js',
        '--id',
        'n1',
      ],
    });
    const file = (): string => readFileSync(clock.fileOf('n1'), 'utf8');
    expect(file()).toBe('+0\n');
    expect((await clock.clock('n1', { bumpMs: 2000 })).offsetMs).toBe(2000);
    expect((await clock.clock('n1', { bumpMs: -500 })).offsetMs).toBe(1500);
    expect(file()).toBe('+1.5\n');
    await expect(clock.clock('n1', { rate: 2 })).rejects.toThrow(/a clock rate \(2x\) needs the node's own clock/);
    expect((await clock.clock('n1', { offsetMs: 0, rate: 1 })).offsetMs).toBe(0);
    expect(file()).toBe('+0\n');
    await clock.clock('n1', { bumpMs: 64 });
    clock.reset('n1'); // a restart
    expect(file()).toBe('+0\n');
  });

  test.skipIf(reason !== null)(
    'a real node whose wall clock jumped past the freshness window drops client requests as stale, and serves again once undone',
    async () => {
      expect(libfaketimePath()).not.toBeNull();
      const cluster = await Cluster.start({
        nodeCount: 1,
        runDir: tempDir('rift-faketime-run-'),
        nodeFlags: [],
        net: 'direct',
        seed: 1,
        clockVia: 'faketime',
        readyTimeoutMs: 20_000,
      });
      clusters.push(cluster);
      await waitFor(async () => (await cluster.leader()) === 'n1', 15_000, 'n1 to lead');
      const client = new RiftClient({ config: cluster.config, clientId: 'c1', timeoutMs: 1500, seed: 1 });
      try {
        expect(await client.put('k', 'v1')).toEqual({ type: 'ok', value: 'v1' });
        const freshnessMs = cluster.config.clientFreshnessMs ?? 30_000;
        const jumped = await cluster.clock('n1', { bumpMs: 20 * freshnessMs });
        expect(jumped.offsetMs).toBe(20 * freshnessMs);
        const stale = (): Promise<number> => cluster.status('n1').then((s) => s?.dropped['stale_timestamp'] ?? 0);
        const before = await stale();
        expect((await client.put('k', 'v2')).type).toBe('timeout');
        expect(await stale()).toBeGreaterThan(before);
        await cluster.clock('n1', { offsetMs: 0, rate: 1 });
        await waitFor(async () => (await client.put('k', 'v3')).type === 'ok', 15_000, 'n1 to serve again once its clock is back');
        expect(await client.get('k')).toEqual({ type: 'ok', value: 'v3' });
      } finally {
        client.close();
      }
    },
  );
});
