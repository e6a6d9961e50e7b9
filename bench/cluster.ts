/**
 * `npm run bench -- cluster`: a 5-node rift cluster on loopback, fsync on.
 *
 * - Throughput and p50/p99 latency, write-only and 50/50 read/write, at 1, 16
 *   and 64 concurrent clients (each client one op at a time, closed loop, on
 *   the leader).
 * - CPU per successful op of the leader, a follower (mean) and the clients,
 *   from /proc (bench/proc-cpu.ts): steadier than ops/s on a shared machine,
 *   so a slowdown shows where it comes from.
 * - Failover: SIGKILL the leader N times under a steady writer; the
 *   unavailability window is kill → first successful write after it, and
 *   its stages from the nodes' logs (bench/failover-stages.ts).
 * - Before measuring, `--warmup-seconds` of unmeasured load per system (the
 *   nodes' JIT warm-up: see bench/README.md).
 *
 * `--vs etcd` measures the reference in the same window rather than quoting
 * a figure: a 5-member etcd 3.4 cluster on loopback (bench/etcd.ts) with the
 * same client shape (clients on the leader, the same keys and value sizes,
 * the same durations), each configuration run for rift and then for etcd,
 * repeated (--repeats) and interleaved so that the machine's drift over the
 * run hits both alike; the medians and their ratios are printed. Without
 * etcd installed it says so and measures rift alone.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultTimings } from '../node/config-types.js';
import { Cluster } from '../harness/cluster.js';
import { RiftClient } from '../node/client.js';
import { EtcdCluster, etcdVersion } from './etcd.js';
import { failoverStages, type FailoverStages } from './failover-stages.js';
import { measureFloor, type FloorResult } from './floor.js';
import { median, quantileOfSorted } from './stats.js';
import { cpuUs, ownCpuSplit, processCpuSplit, roleCpuPerOp, type CpuSplit, type RoleCpuSample } from './proc-cpu.js';

type Workload = 'write' | 'mixed';

interface LoadResult {
  readonly system: string;
  readonly workload: Workload;
  readonly clients: number;
  readonly ops: number;
  readonly errors: number;
  readonly seconds: number;
  readonly opsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** CPU microseconds per successful op, by role; null where the system cannot say (etcd, no /proc). */
  readonly cpuUsPerOp: CpuPerOp | null;
}

/** Where the CPU went during one load, per successful op. */
interface CpuPerOp {
  readonly leader: number;
  /** The mean over the followers. */
  readonly follower: number;
  /** The bench process: the clients (and the bench's own bookkeeping). */
  readonly client: number;
  /** Every node and the clients together. */
  readonly total: number;
}

/** One closed-loop client of a system under test: an op at a time. */
interface BenchClient {
  put(key: string, value: string): Promise<boolean>;
  get(key: string): Promise<boolean>;
  close(): void;
}

/** A system the bench drives: clients placed on its current leader, and a leader kill for failover. */
interface System {
  readonly name: string;
  /** Clients for one load, on the leader as it is now. */
  clients(count: number, tag: string): Promise<BenchClient[]>;
  /** CPU used so far by the leader the clients were placed on, the other nodes and this process; null when unknown. */
  cpu(): RoleCpuSample | null;
}

async function runLoad(system: System, workload: Workload, clients: number, durationMs: number, tag: string): Promise<LoadResult> {
  const latencies: number[] = [];
  let errors = 0;
  const pool = await system.clients(clients, tag);
  const cpuBefore = system.cpu();
  const started = performance.now();
  const until = started + durationMs;
  await Promise.all(
    pool.map(async (client, c) => {
      let i = 0;
      while (performance.now() < until) {
        // The same keys and values for every system: 16 keys per client, values "v<i>".
        const key = `k${c}-${i % 16}`;
        const t0 = performance.now();
        const ok = workload === 'mixed' && i % 2 === 1 ? await client.get(key) : await client.put(key, `v${i}`);
        if (ok) latencies.push(performance.now() - t0);
        else errors += 1;
        i += 1;
      }
      client.close();
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const cpuAfter = system.cpu();
  latencies.sort((a, b) => a - b);
  return {
    system: system.name,
    workload,
    clients,
    ops: latencies.length,
    errors,
    seconds,
    opsPerSecond: latencies.length / seconds,
    p50Ms: quantileOfSorted(latencies, 0.5),
    p99Ms: quantileOfSorted(latencies, 0.99),
    cpuUsPerOp: cpuPerOp(cpuBefore, cpuAfter, latencies.length),
  };
}

function cpuPerOp(before: RoleCpuSample | null, after: RoleCpuSample | null, ops: number): CpuPerOp | null {
  if (before === null || after === null || ops === 0 || before.followers.length !== after.followers.length) return null;
  const per = roleCpuPerOp(before, after, ops);
  const [leader, follower, client] = [cpuUs(per.leader), cpuUs(per.follower), cpuUs(per.client)];
  return { leader, follower, client, total: leader + follower * after.followers.length + client };
}

function riftSystem(cluster: Cluster): System {
  let leaderNow: string | null = null;
  return {
    name: 'rift',
    cpu() {
      if (leaderNow === null) return null;
      const leader = leaderNow;
      const cpuOf = (id: string): CpuSplit | null => {
        const pid = cluster.pid(id);
        return pid === null ? null : processCpuSplit(pid);
      };
      const leaderCpu = cpuOf(leader);
      const followers = cluster.nodeIds.filter((id) => id !== leader).map(cpuOf);
      if (leaderCpu === null || followers.some((f) => f === null)) return null;
      return { leader: leaderCpu, followers: followers as CpuSplit[], client: ownCpuSplit() };
    },
    async clients(count, tag) {
      const leader = await cluster.waitForLeader(15_000);
      leaderNow = leader;
      return Array.from({ length: count }, (_, c): BenchClient => {
        const client = new RiftClient({
          config: cluster.config,
          clientId: `bench-${tag}-${c}`,
          timeoutMs: 5000,
          seed: c + 1,
          ...(leader !== null ? { initialNode: leader } : {}),
        });
        return {
          put: async (k, v) => (await client.put(k, v)).type === 'ok',
          get: async (k) => (await client.get(k)).type === 'ok',
          close: () => client.close(),
        };
      });
    },
  };
}

function etcdSystem(etcd: EtcdCluster): System {
  return {
    name: 'etcd',
    cpu: () => null,
    async clients(count) {
      const leader = await etcd.waitForLeader(15_000);
      return Array.from({ length: count }, (): BenchClient => ({
        put: (k, v) => etcd.put(leader, k, v),
        get: (k) => etcd.get(leader, k),
        close: () => undefined,
      }));
    },
  };
}

interface RiftFailover {
  readonly windows: number[];
  readonly stages: FailoverStages[];
}

async function riftFailover(cluster: Cluster, kills: number, logDir: string): Promise<RiftFailover> {
  const windows: number[] = [];
  const stages: FailoverStages[] = [];
  const writer = new RiftClient({
    config: cluster.config,
    clientId: `bench-failover-${process.pid}`,
    timeoutMs: 10_000,
    seed: 7,
    attemptTimeoutMs: 50,
    backoffMsMin: 2,
    backoffMsMax: 20,
  });
  let seq = 0;
  for (let k = 0; k < kills; k++) {
    const leader = await cluster.waitForLeader(15_000);
    if (leader === null) throw new Error('no leader');
    // A steady writer: make sure writes flow before the kill.
    for (let i = 0; i < 5; i++) await writer.put('failover', `w${seq++}`);
    // Kill at a random point of the heartbeat interval, as in the paper's Fig. 16 method.
    await new Promise((r) => setTimeout(r, Math.random() * 50));
    const killedAt = performance.now();
    const killedAtWallMs = Date.now();
    await cluster.kill(leader);
    for (;;) {
      const result = await writer.put('failover', `w${seq++}`);
      if (result.type === 'ok') break;
    }
    windows.push(performance.now() - killedAt);
    stages.push(failoverStages(readLogs(logDir), killedAtWallMs, Date.now()));
    await cluster.restart(leader);
    // Let the restarted node catch up before the next round.
    await new Promise((r) => setTimeout(r, 300));
  }
  writer.close();
  return { windows, stages };
}

/** Every node's log text (node/main.ts's stderr, kept by the harness in `<runDir>/nodes/<id>.log`). */
function readLogs(logDir: string): string[] {
  return readdirSync(logDir)
    .filter((f) => f.endsWith('.log'))
    .map((f) => readFileSync(join(logDir, f), 'utf8'));
}

/** Medians of the failover stages, or '' when the logs showed none. */
function stagesLine(stages: readonly FailoverStages[]): string {
  const med = (pick: (s: FailoverStages) => number | null): string => {
    const xs = stages.map(pick).filter((x): x is number => x !== null);
    return xs.length === 0 ? '-' : `${median(xs).toFixed(0)} ms (${xs.length})`;
  };
  return (
    `      stages, medians (from the nodes' logs): kill -> first candidacy ${med((s) => s.detectionMs)}, ` +
    `candidacy -> leader ${med((s) => s.electionMs)}, leader -> client's first write ${med((s) => s.clientMs)}`
  );
}

async function etcdFailover(etcd: EtcdCluster, kills: number): Promise<number[]> {
  const windows: number[] = [];
  let seq = 0;
  for (let k = 0; k < kills; k++) {
    const leader = await etcd.waitForLeader(15_000);
    for (let i = 0; i < 5; i++) await etcd.put(leader, 'failover', `w${seq++}`);
    await new Promise((r) => setTimeout(r, Math.random() * 50));
    const killedAt = performance.now();
    await etcd.kill(leader);
    // The writer goes round the live members (each forwards to the leader once there is one), each attempt
    // given 50 ms like the rift writer's (a member forwarding to the dead leader would otherwise hold it 5 s).
    const live = etcd.members.filter((m) => m !== leader);
    for (let i = 0; ; i++) {
      if (await etcd.put(live[i % live.length]!, 'failover', `w${seq++}`, 50)) break;
    }
    windows.push(performance.now() - killedAt);
    etcd.restart(leader);
    await etcd.waitForLeader(15_000);
    await new Promise((r) => setTimeout(r, 300));
  }
  return windows;
}

function failoverLine(system: string, windows: readonly number[]): string {
  const sorted = [...windows].sort((a, b) => a - b);
  return (
    `${system.padEnd(5)} failover (${windows.length} leader kills): min ${sorted[0]!.toFixed(0)} ms  median ${quantileOfSorted(sorted, 0.5).toFixed(0)} ms  ` +
    `p90 ${quantileOfSorted(sorted, 0.9).toFixed(0)} ms  max ${sorted[sorted.length - 1]!.toFixed(0)} ms`
  );
}

function resultLine(r: LoadResult): string {
  return (
    `${r.system.padEnd(5)} ${r.workload.padEnd(6)} clients=${String(r.clients).padStart(3)}  ${r.opsPerSecond.toFixed(0).padStart(6)} ops/s  ` +
    `p50 ${r.p50Ms.toFixed(2)} ms  p99 ${r.p99Ms.toFixed(2)} ms  (${r.ops} ok, ${r.errors} not ok, ${r.seconds.toFixed(1)} s)` +
    (r.cpuUsPerOp === null
      ? ''
      : `  cpu µs/op: leader ${r.cpuUsPerOp.leader.toFixed(0)}, follower ${r.cpuUsPerOp.follower.toFixed(0)}, ` +
        `client ${r.cpuUsPerOp.client.toFixed(0)}, total ${r.cpuUsPerOp.total.toFixed(0)}`)
  );
}

export async function runClusterBench(argv: readonly string[]): Promise<void> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      seconds: { type: 'string', default: '5' },
      'warmup-seconds': { type: 'string', default: '3' },
      kills: { type: 'string', default: '10' },
      clients: { type: 'string', default: '1,16,64' },
      vs: { type: 'string' },
      repeats: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const durationMs = Number(values.seconds) * 1000;
  const warmupMs = Number(values['warmup-seconds']) * 1000;
  const kills = Number(values.kills);
  const clientCounts = values.clients.split(',').map(Number);
  const repeats = values.repeats === undefined ? (values.vs === undefined ? 1 : 2) : Number(values.repeats);
  if (
    !(durationMs > 0) ||
    !(warmupMs >= 0) ||
    !Number.isInteger(kills) ||
    kills < 0 ||
    clientCounts.some((c) => !Number.isInteger(c) || c < 1) ||
    !Number.isInteger(repeats) ||
    repeats < 1 ||
    (values.vs !== undefined && values.vs !== 'etcd') ||
    values.help
  ) {
    process.stderr.write(
      'usage: npm run bench -- cluster [--seconds S] [--warmup-seconds S] [--kills N] [--clients 1,16,64] [--vs etcd] [--repeats R] [--json]\n',
    );
    process.exit(values.help ? 0 : 254);
  }
  const runDir = mkdtempSync(join(tmpdir(), 'rift-bench-'));
  const cluster = await Cluster.start({ nodeCount: 5, runDir, nodeFlags: [], net: 'direct', seed: 1 });
  let etcd: EtcdCluster | null = null;
  try {
    const systems: System[] = [riftSystem(cluster)];
    if (values.vs === 'etcd') {
      const found = etcdVersion();
      if (found === null) {
        process.stdout.write('etcd is not installed (Debian: apt-get install etcd-server): no reference measured, rift alone below\n');
      } else {
        // The same timers as rift's: heartbeat 50 ms, election timeout rift's maximum (etcd randomizes from it to twice it).
        const timings = { heartbeatMs: defaultTimings.heartbeatIntervalMs, electionTimeoutMs: defaultTimings.electionTimeoutMsMax };
        etcd = await EtcdCluster.start(found.bin, join(runDir, 'etcd'), 5, timings);
        process.stdout.write(
          `etcd ${found.version}: 5 members on loopback (heartbeat ${timings.heartbeatMs} ms, election timeout ${timings.electionTimeoutMs} ms, ` +
            `v3 JSON gateway over HTTP keep-alive, linearizable reads); each configuration alternates rift and etcd, ${repeats} times\n`,
        );
        systems.push(etcdSystem(etcd));
      }
    }
    let tag = 0;
    if (warmupMs > 0) {
      // Unmeasured load first, the same shapes at the largest client count: a rift node is a V8 process whose code
      // runs interpreted until it is hot (one client, 2026-12-06: p50 2.13 ms over a run's first 5 s, 1.31 ms over
      // 20 s), and a measurement should not depend on which cell came first.
      const most = Math.max(...clientCounts);
      for (const system of systems)
        for (const workload of ['write', 'mixed'] as const) await runLoad(system, workload, most, warmupMs / 2, `warmup-${tag++}`);
      process.stdout.write(`warm-up: ${warmupMs / 1000} s of unmeasured load per system (write, then mixed, ${most} clients)\n`);
    }
    const results: LoadResult[] = [];
    // With --vs etcd, the one-client writes also run on the floor (bench/floor.ts): the same machine's limit for a
    // five-process cluster that does nothing but UDP with HMAC and fdatasync, in the same window as both systems.
    const floors: FloorResult[] = [];
    for (let r = 0; r < repeats; r++) {
      for (const workload of ['write', 'mixed'] as const) {
        for (const clients of clientCounts) {
          for (const system of systems) {
            const result = await runLoad(system, workload, clients, durationMs, String(tag++));
            results.push(result);
            process.stdout.write(`${repeats > 1 ? `[${r + 1}/${repeats}] ` : ''}${resultLine(result)}\n`);
          }
          if (values.vs === 'etcd' && workload === 'write' && clients === 1) {
            const dir = join(runDir, `floor-${r}`);
            mkdirSync(dir);
            const floor = await measureFloor({
              writes: Number.MAX_SAFE_INTEGER,
              durationMs,
              warmup: 500,
              payloadBytes: 64,
              followers: 4,
              dir,
            });
            floors.push(floor);
            process.stdout.write(
              `${repeats > 1 ? `[${r + 1}/${repeats}] ` : ''}floor  write  clients=  1  ${floor.writesPerSecond.toFixed(0).padStart(6)} ops/s  ` +
                `p50 ${floor.p50Ms.toFixed(2)} ms  p99 ${floor.p99Ms.toFixed(2)} ms  (${floor.writes} ok; bench/floor.ts)\n`,
            );
          }
        }
      }
    }
    const failover: Record<string, number[]> = {};
    if (kills > 0) {
      const rift = await riftFailover(cluster, kills, join(runDir, 'nodes'));
      failover['rift'] = rift.windows;
      process.stdout.write(`${failoverLine('rift', rift.windows)}\n${stagesLine(rift.stages)}\n`);
      if (etcd !== null) {
        failover['etcd'] = await etcdFailover(etcd, kills);
        process.stdout.write(`${failoverLine('etcd', failover['etcd'])}\n`);
      }
    }
    if (etcd !== null) {
      process.stdout.write(`\nmedians over ${repeats} interleaved repeats, measured in this window:\n`);
      process.stdout.write(
        '| workload | clients | rift ops/s | etcd ops/s | rift / etcd | rift p50 ms | etcd p50 ms | etcd p50 / rift p50 |\n|---|---:|---:|---:|---:|---:|---:|---:|\n',
      );
      for (const workload of ['write', 'mixed'] as const) {
        for (const clients of clientCounts) {
          const of = (system: string): LoadResult[] =>
            results.filter((x) => x.system === system && x.workload === workload && x.clients === clients);
          const [rift, ref] = [of('rift'), of('etcd')];
          const [riftOps, refOps] = [median(rift.map((x) => x.opsPerSecond)), median(ref.map((x) => x.opsPerSecond))];
          const [riftP50, refP50] = [median(rift.map((x) => x.p50Ms)), median(ref.map((x) => x.p50Ms))];
          process.stdout.write(
            `| ${workload} | ${clients} | ${riftOps.toFixed(0)} | ${refOps.toFixed(0)} | ${(riftOps / refOps).toFixed(2)} | ` +
              `${riftP50.toFixed(2)} | ${refP50.toFixed(2)} | ${(refP50 / riftP50).toFixed(2)} |\n`,
          );
        }
      }
      if (floors.length > 0) {
        const floorOps = median(floors.map((f) => f.writesPerSecond));
        const floorP50 = median(floors.map((f) => f.p50Ms));
        const of = (system: string): LoadResult[] =>
          results.filter((x) => x.system === system && x.workload === 'write' && x.clients === 1);
        const riftOps = median(of('rift').map((x) => x.opsPerSecond));
        const etcdOps = median(of('etcd').map((x) => x.opsPerSecond));
        process.stdout.write(
          `floor (bench/floor.ts), write, 1 client: ${floorOps.toFixed(0)} ops/s, p50 ${floorP50.toFixed(2)} ms; ` +
            `floor / etcd ${(floorOps / etcdOps).toFixed(2)}, rift / floor ${(riftOps / floorOps).toFixed(2)} in ops/s\n`,
        );
      }
      if (failover['rift'] !== undefined && failover['etcd'] !== undefined) {
        process.stdout.write(
          `failover median: rift ${median(failover['rift']).toFixed(0)} ms, etcd ${median(failover['etcd']).toFixed(0)} ms\n`,
        );
      }
    }
    if (values.json) process.stdout.write(`${JSON.stringify({ results, failoverMs: failover, floor: floors })}\n`);
  } finally {
    etcd?.stop();
    await cluster.stop();
    rmSync(runDir, { recursive: true, force: true });
  }
}
