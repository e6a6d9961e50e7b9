/**
 * `npm run bench -- latency`: where one client's write and read spend their
 * time. A 5-node cluster on loopback (fsync on) runs with `--latency-trace`;
 * one closed-loop client on the leader does writes, then reads; the nodes
 * are stopped with SIGTERM (each writes its marks), and the marks become a
 * per-stage table (bench/latency-breakdown.ts) of medians and p99s.
 *
 * Then (unless `--no-floor`) rift untraced and the floor (bench/floor.ts:
 * five processes doing only what a committed write needs), each after the
 * same warm-up, interleaved `--floor-repeats` times, with each role's CPU per
 * write: how far rift is from this machine's limit, and where (user or
 * kernel time). The client's CPU is this whole process's, the cluster's
 * bookkeeping included.
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
import { CpuMeter, floorTable, measureFloor, totalCpuUs, type OneClientFigures } from './floor.js';
import { quantile } from './stats.js';
import { breakdownTable, latencyBreakdown, type Breakdown } from './latency-breakdown.js';

const CLUSTER_SIZE = 5;

interface OneClientRun {
  readonly writeMs: number[];
  readonly readMs: number[];
  /** The writes' figures, CPU per write by role included (read from /proc while the writes ran). */
  readonly writeFigures: OneClientFigures;
}

/** `warmupWrites` go first, unmeasured (the traced run has none: its marks are matched to the writes in order). */
async function oneClient(cluster: Cluster, writes: number, reads: number, tag: string, warmupWrites = 0): Promise<OneClientRun> {
  const leader = await cluster.waitForLeader(15_000);
  if (leader === null) throw new Error('no leader within 15 s');
  const client = new RiftClient({ config: cluster.config, clientId: `latency-${tag}`, timeoutMs: 5000, seed: 1, initialNode: leader });
  const writeMs: number[] = [];
  const readMs: number[] = [];
  const pidOf = (id: string): number => {
    const pid = cluster.pid(id);
    if (pid === null) throw new Error(`${id} is not running`);
    return pid;
  };
  let writeFigures: OneClientFigures;
  try {
    for (let i = 0; i < warmupWrites; i++) {
      const result = await client.put(`w${i % 16}`, `v${i}`);
      if (result.type !== 'ok') throw new Error(`warm-up write ${i} failed: ${JSON.stringify(result)}`);
    }
    const meter = new CpuMeter(pidOf(leader), cluster.nodeIds.filter((id) => id !== leader).map(pidOf));
    const writesStart = performance.now();
    for (let i = 0; i < writes; i++) {
      const t0 = performance.now();
      const result = await client.put(`k${i % 16}`, `v${i}`);
      if (result.type !== 'ok') throw new Error(`write ${i} failed: ${JSON.stringify(result)}`);
      writeMs.push(performance.now() - t0);
    }
    const cpu = meter.perWrite(writes);
    writeFigures = {
      name: `rift (${tag})`,
      writes,
      p50Ms: quantile(writeMs, 0.5),
      p99Ms: quantile(writeMs, 0.99),
      writesPerSecond: (writes * 1000) / (performance.now() - writesStart),
      ...cpu,
      followers: CLUSTER_SIZE - 1,
    };
    for (let i = 0; i < reads; i++) {
      const t0 = performance.now();
      const result = await client.get(`k${i % 16}`);
      if (result.type !== 'ok') throw new Error(`read ${i} failed: ${JSON.stringify(result)}`);
      readMs.push(performance.now() - t0);
    }
  } finally {
    client.close();
  }
  return { writeMs, readMs, writeFigures };
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

/**
 * One traced run: a 5-node cluster with `--latency-trace` under `runDir`, one
 * client doing `writes` writes then `reads` reads on the leader, the nodes
 * stopped and their marks turned into the breakdown.
 */
export async function measureLatency(
  writes: number,
  reads: number,
  runDir: string,
): Promise<{ breakdown: Breakdown; writeFigures: OneClientFigures }> {
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
  return { breakdown: latencyBreakdown(traces, CLUSTER_SIZE, run.writeMs, run.readMs), writeFigures: run.writeFigures };
}

export async function runLatencyBench(argv: readonly string[]): Promise<void> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      writes: { type: 'string', default: '2000' },
      reads: { type: 'string', default: '1000' },
      'compare-off': { type: 'boolean', default: false },
      'no-floor': { type: 'boolean', default: false },
      repeats: { type: 'string', default: '3' },
      'floor-repeats': { type: 'string', default: '2' },
    },
    strict: true,
  });
  const writes = Number(values.writes);
  const reads = Number(values.reads);
  const repeats = Number(values.repeats);
  const floorRepeats = Number(values['floor-repeats']);
  if (
    ![writes, reads, repeats, floorRepeats].every((n) => Number.isInteger(n) && n >= 0) ||
    writes < 1 ||
    repeats < 1 ||
    floorRepeats < 1
  ) {
    process.stderr.write(
      'usage: npm run bench -- latency [--writes N] [--reads N] [--no-floor | --floor-repeats R] [--compare-off [--repeats R]]\n',
    );
    process.exit(254);
  }
  const runDir = mkdtempSync(join(tmpdir(), 'rift-latency-'));
  try {
    const { breakdown } = await measureLatency(writes, reads, join(runDir, 'traced'));
    process.stdout.write(`one client, ${writes} writes then ${reads} reads, 5 nodes on loopback, fsync on\n${breakdownTable(breakdown)}`);

    if (!values['no-floor']) {
      // The same writes with nothing but what they physically need (bench/floor.ts), in the same window: rift
      // untraced and the floor, each after the same warm-up, interleaved.
      const warmup = Math.min(1000, writes);
      const rows: OneClientFigures[] = [];
      for (let r = 0; r < floorRepeats; r++) {
        const cluster = await Cluster.start({
          nodeCount: CLUSTER_SIZE,
          runDir: join(runDir, `floor-rift-${r}`),
          nodeFlags: [],
          net: 'direct',
          seed: 1,
        });
        try {
          rows.push({ ...(await oneClient(cluster, writes, 0, `untraced-${r}`, warmup)).writeFigures, name: `rift, round ${r + 1}` });
        } finally {
          await cluster.stop();
        }
        const floorDir = join(runDir, `floor-${r}`);
        mkdirSync(floorDir);
        const floor = await measureFloor({ writes, warmup, payloadBytes: 64, followers: CLUSTER_SIZE - 1, dir: floorDir });
        rows.push({ ...floor, name: `floor, round ${r + 1}` });
      }
      const median = (name: string, pick: (f: OneClientFigures) => number): number =>
        quantile(rows.filter((f) => f.name.startsWith(name)).map(pick), 0.5);
      process.stdout.write(
        `\nrift untraced beside the floor (five processes doing only UDP with HMAC-SHA256, pwrite + fdatasync and a ` +
          `majority; bench/floor.ts), ${writes} writes after ${warmup} unmeasured, interleaved; CPU per write from /proc ` +
          `(rift, 10-ms ticks) and process.cpuUsage (floor)\n${floorTable(rows)}` +
          `rift / floor, medians: p50 ${(median('rift', (f) => f.p50Ms) / median('floor', (f) => f.p50Ms)).toFixed(2)}x, ` +
          `CPU per write ${(median('rift', totalCpuUs) / median('floor', totalCpuUs)).toFixed(2)}x\n`,
      );
    }

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
