/**
 * `npm run bench -- latency`: where one client's write and read spend their
 * time. A 5-node cluster on loopback (fsync on) runs with `--latency-trace`;
 * one closed-loop client on the leader does writes, then reads; the nodes
 * are stopped with SIGTERM (each writes its marks), and the marks become a
 * per-stage table (bench/latency-breakdown.ts) of medians and p99s.
 *
 * `--compare-off` also measures the same one-client load with tracing off,
 * interleaved with it, so the probe's own cost shows (it should be noise).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { Cluster } from '../harness/cluster.js';
import { RiftClient } from '../node/client.js';
import { parseProbeTrace, type ProbeMark } from '../node/latency-probe.js';
import { breakdownTable, latencyBreakdown, type Breakdown } from './latency-breakdown.js';

const CLUSTER_SIZE = 5;

interface OneClientRun {
  readonly writeMs: number[];
  readonly readMs: number[];
}

async function oneClient(cluster: Cluster, writes: number, reads: number, tag: string): Promise<OneClientRun> {
  const leader = await cluster.waitForLeader(15_000);
  if (leader === null) throw new Error('no leader within 15 s');
  const client = new RiftClient({ config: cluster.config, clientId: `latency-${tag}`, timeoutMs: 5000, seed: 1, initialNode: leader });
  const writeMs: number[] = [];
  const readMs: number[] = [];
  try {
    for (let i = 0; i < writes; i++) {
      const t0 = performance.now();
      const result = await client.put(`k${i % 16}`, `v${i}`);
      if (result.type !== 'ok') throw new Error(`write ${i} failed: ${JSON.stringify(result)}`);
      writeMs.push(performance.now() - t0);
    }
    for (let i = 0; i < reads; i++) {
      const t0 = performance.now();
      const result = await client.get(`k${i % 16}`);
      if (result.type !== 'ok') throw new Error(`read ${i} failed: ${JSON.stringify(result)}`);
      readMs.push(performance.now() - t0);
    }
  } finally {
    client.close();
  }
  return { writeMs, readMs };
}

/** SIGTERM every node (each writes its trace on the way out) and wait for the files. */
async function collectTraces(cluster: Cluster, traceDir: string): Promise<Map<string, ProbeMark[]>> {
  for (const id of cluster.nodeIds) {
    const pid = cluster.pid(id);
    if (pid !== null) process.kill(pid, 'SIGTERM');
  }
  const deadline = performance.now() + 10_000;
  const files = cluster.nodeIds.map((id) => join(traceDir, `${id}.trace`));
  while (!files.every((f) => existsSync(f))) {
    if (performance.now() > deadline) throw new Error(`traces missing after 10 s: ${files.filter((f) => !existsSync(f)).join(', ')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  // A file appears when its write starts: wait until each node has exited, so each is whole.
  await Promise.all(cluster.nodeIds.map((id) => waitGone(cluster.pid(id), deadline)));
  const traces = new Map<string, ProbeMark[]>();
  for (const id of cluster.nodeIds) {
    const { marks, badLines } = parseProbeTrace(readFileSync(join(traceDir, `${id}.trace`), 'utf8'));
    if (badLines > 0) throw new Error(`${id}.trace: ${badLines} lines do not parse`);
    traces.set(id, marks);
  }
  return traces;
}

async function waitGone(pid: number | null, deadline: number): Promise<void> {
  if (pid === null) return;
  for (;;) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    if (performance.now() > deadline) throw new Error(`node pid ${pid} did not exit after SIGTERM`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

/**
 * One traced run: a 5-node cluster with `--latency-trace` under `runDir`, one
 * client doing `writes` writes then `reads` reads on the leader, the nodes
 * stopped and their marks turned into the breakdown.
 */
export async function measureLatency(writes: number, reads: number, runDir: string): Promise<Breakdown> {
  const traceDir = join(runDir, 'traces');
  mkdirSync(traceDir, { recursive: true });
  const cluster = await Cluster.start({
    nodeCount: CLUSTER_SIZE,
    runDir,
    nodeFlags: ['--latency-trace', traceDir],
    net: 'direct',
    seed: 1,
  });
  let run: OneClientRun;
  let traces: Map<string, ProbeMark[]>;
  try {
    run = await oneClient(cluster, writes, reads, 'traced');
    traces = await collectTraces(cluster, traceDir);
  } finally {
    await cluster.stop();
  }
  return latencyBreakdown(traces, CLUSTER_SIZE, run.writeMs, run.readMs);
}

export async function runLatencyBench(argv: readonly string[]): Promise<void> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      writes: { type: 'string', default: '2000' },
      reads: { type: 'string', default: '1000' },
      'compare-off': { type: 'boolean', default: false },
      repeats: { type: 'string', default: '3' },
    },
    strict: true,
  });
  const writes = Number(values.writes);
  const reads = Number(values.reads);
  const repeats = Number(values.repeats);
  if (![writes, reads, repeats].every((n) => Number.isInteger(n) && n >= 0) || writes < 1 || repeats < 1) {
    process.stderr.write('usage: npm run bench -- latency [--writes N] [--reads N] [--compare-off [--repeats R]]\n');
    process.exit(254);
  }
  const runDir = mkdtempSync(join(tmpdir(), 'rift-latency-'));
  try {
    const breakdown = await measureLatency(writes, reads, join(runDir, 'traced'));
    process.stdout.write(`one client, ${writes} writes then ${reads} reads, 5 nodes on loopback, fsync on\n${breakdownTable(breakdown)}`);

    if (values['compare-off']) {
      // The probe's own cost: the same load with tracing on and off, interleaved.
      const rows: string[] = [];
      for (let r = 0; r < repeats; r++) {
        for (const on of [false, true]) {
          const cluster = await Cluster.start({
            nodeCount: CLUSTER_SIZE,
            runDir: join(runDir, `cmp-${r}-${on ? 'on' : 'off'}`),
            nodeFlags: on ? ['--latency-trace', join(runDir, `cmp-${r}`)] : [],
            net: 'direct',
            seed: 1,
          });
          try {
            const result = await oneClient(cluster, writes, 0, `cmp-${r}-${on}`);
            rows.push(
              `| ${r + 1} | ${on ? 'on' : 'off'} | ${quantile(result.writeMs, 0.5).toFixed(3)} | ${quantile(result.writeMs, 0.99).toFixed(3)} |`,
            );
          } finally {
            await cluster.stop();
          }
        }
      }
      process.stdout.write(
        `\nprobe cost (one-client writes, tracing off vs on, interleaved)\n| repeat | trace | p50 ms | p99 ms |\n|---|---|---:|---:|\n${rows.join('\n')}\n`,
      );
    }
  } finally {
    rmSync(runDir, { recursive: true, force: true });
  }
}
