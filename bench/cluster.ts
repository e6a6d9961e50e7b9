/**
 * `npm run bench -- cluster`: a 5-node rift cluster on loopback, fsync on.
 *
 * - Throughput and p50/p99 latency, write-only and 50/50 read/write, at 1, 16
 *   and 64 concurrent clients (each client one op at a time, closed loop).
 * - Failover: SIGKILL the leader N times under a steady writer; the
 *   unavailability window is kill → first successful write after it.
 *
 * Reference (etcd 3.4 on this machine, JSON gateway, fsync, 5 nodes): ~290
 * ops/s at 1 client, ~1,500 ops/s at 64 clients writing; failover median ~370
 * ms with 50/300 ms timers.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Cluster } from '../harness/cluster.js';
import { RiftClient } from '../node/client.js';

interface LoadResult {
  readonly workload: string;
  readonly clients: number;
  readonly ops: number;
  readonly errors: number;
  readonly seconds: number;
  readonly opsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

async function runLoad(cluster: Cluster, workload: 'write' | 'mixed', clients: number, durationMs: number, tag: string): Promise<LoadResult> {
  const latencies: number[] = [];
  let errors = 0;
  const leader = await cluster.waitForLeader(15_000);
  const started = performance.now();
  const until = started + durationMs;
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      const client = new RiftClient({
        config: cluster.config,
        clientId: `bench-${tag}-${workload}-${clients}-${c}`,
        timeoutMs: 5000,
        seed: c + 1,
        ...(leader !== null ? { initialNode: leader } : {}),
      });
      let i = 0;
      while (performance.now() < until) {
        const key = `k${c}-${i % 16}`;
        const t0 = performance.now();
        const read = workload === 'mixed' && i % 2 === 1;
        const result = read ? await client.get(key) : await client.put(key, `v${i}`);
        const t1 = performance.now();
        if (result.type === 'ok') latencies.push(t1 - t0);
        else errors += 1;
        i += 1;
      }
      client.close();
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    workload, clients, ops: latencies.length, errors, seconds,
    opsPerSecond: latencies.length / seconds,
    p50Ms: quantile(latencies, 0.5),
    p99Ms: quantile(latencies, 0.99),
  };
}

async function runFailover(cluster: Cluster, kills: number): Promise<number[]> {
  const windows: number[] = [];
  const writer = new RiftClient({ config: cluster.config, clientId: `bench-failover-${process.pid}`, timeoutMs: 10_000, seed: 7, attemptTimeoutMs: 50, backoffMsMin: 2, backoffMsMax: 20 });
  let seq = 0;
  for (let k = 0; k < kills; k++) {
    const leader = await cluster.waitForLeader(15_000);
    if (leader === null) throw new Error('no leader');
    // A steady writer: make sure writes flow before the kill.
    for (let i = 0; i < 5; i++) await writer.put('failover', `w${seq++}`);
    // Kill at a random point of the heartbeat interval, as in the paper's Fig. 16 method.
    await new Promise((r) => setTimeout(r, Math.random() * 50));
    const killedAt = performance.now();
    await cluster.kill(leader);
    for (;;) {
      const result = await writer.put('failover', `w${seq++}`);
      if (result.type === 'ok') break;
    }
    windows.push(performance.now() - killedAt);
    await cluster.restart(leader);
    // Let the restarted node catch up before the next round.
    await new Promise((r) => setTimeout(r, 300));
  }
  writer.close();
  return windows;
}

export async function runClusterBench(argv: readonly string[]): Promise<void> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      seconds: { type: 'string', default: '5' },
      kills: { type: 'string', default: '10' },
      clients: { type: 'string', default: '1,16,64' },
      json: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const durationMs = Number(values.seconds) * 1000;
  const kills = Number(values.kills);
  const clientCounts = values.clients.split(',').map(Number);
  if (!(durationMs > 0) || !Number.isInteger(kills) || kills < 0 || clientCounts.some((c) => !Number.isInteger(c) || c < 1)) {
    process.stderr.write('usage: npm run bench -- cluster [--seconds S] [--kills N] [--clients 1,16,64] [--json]\n');
    process.exit(254);
  }
  const runDir = mkdtempSync(join(tmpdir(), 'rift-bench-'));
  const cluster = await Cluster.start({ nodeCount: 5, runDir, nodeFlags: [], net: 'direct', seed: 1 });
  try {
    const results: LoadResult[] = [];
    for (const workload of ['write', 'mixed'] as const) {
      for (const clients of clientCounts) {
        const result = await runLoad(cluster, workload, clients, durationMs, String(results.length));
        results.push(result);
        process.stdout.write(
          `${workload.padEnd(6)} clients=${String(clients).padStart(3)}  ${result.opsPerSecond.toFixed(0).padStart(6)} ops/s  ` +
          `p50 ${result.p50Ms.toFixed(2)} ms  p99 ${result.p99Ms.toFixed(2)} ms  (${result.ops} ok, ${result.errors} not ok, ${result.seconds.toFixed(1)} s)\n`,
        );
      }
    }
    const windows = kills > 0 ? await runFailover(cluster, kills) : [];
    const sorted = [...windows].sort((a, b) => a - b);
    if (windows.length > 0) {
      process.stdout.write(
        `failover (${windows.length} leader kills): min ${sorted[0]!.toFixed(0)} ms  median ${quantile(sorted, 0.5).toFixed(0)} ms  ` +
        `p90 ${quantile(sorted, 0.9).toFixed(0)} ms  max ${sorted[sorted.length - 1]!.toFixed(0)} ms\n`,
      );
    }
    process.stdout.write('reference etcd 3.4 (same machine): ~290 ops/s at 1 client, ~1,500 ops/s at 64 writing; failover median ~370 ms\n');
    if (values.json) process.stdout.write(`${JSON.stringify({ results, failoverMs: windows })}\n`);
  } finally {
    await cluster.stop();
    rmSync(runDir, { recursive: true, force: true });
  }
}
