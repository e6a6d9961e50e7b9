/**
 * The latency floor: how fast one client's committed write can be on this
 * machine with rift's shape (five processes, real UDP on loopback, every
 * datagram authenticated, every copy fdatasynced before it counts), doing
 * nothing else (bench/floor-process.ts). `npm run bench -- latency` runs it
 * right after rift, in the same window, so "how far from the physical
 * limit" is a measured ratio, not an estimate from a dd figure.
 *
 * Beside the round trip it reports the CPU each role spends per write, user
 * and kernel apart: on a 2-core machine with six busy processes a write's
 * latency follows the CPU the whole cluster spends on it (issue 21), and the
 * kernel's share (UDP, fdatasync, wake-ups) is what no code change in the
 * node can remove.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { availableParallelism } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { FLOOR_KIND, openFloor, sealFloor, type FloorFromChild, type FloorToChild } from './floor-process.js';
import { cpuUs, ownCpuSplit, processCpuSplit, roleCpuPerOp, type CpuSplit, type RoleCpu, type RoleCpuSample } from './proc-cpu.js';
import { quantile } from './stats.js';

export type { RoleCpu } from './proc-cpu.js';

/** One closed-loop client's writes, measured. */
export interface OneClientFigures {
  readonly name: string;
  readonly writes: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly writesPerSecond: number;
  readonly leader: RoleCpu;
  /** The mean of the followers. */
  readonly follower: RoleCpu;
  readonly followers: number;
  readonly client: RoleCpu;
}

export interface FloorResult extends OneClientFigures {
  /** Per process (leader first): fdatasyncs done and bytes written, over the whole run (warm-up included). */
  readonly fsyncs: readonly number[];
  readonly logBytes: readonly number[];
  readonly badMacs: number;
}

export function totalCpuUs(f: OneClientFigures): number {
  return cpuUs(f.leader) + f.followers * cpuUs(f.follower) + cpuUs(f.client);
}

/** The CPU a leader, its followers and this process (the client) spend from construction until perWrite(), read from /proc. */
export class CpuMeter {
  private readonly before: RoleCpuSample;

  constructor(
    private readonly leaderPid: number,
    private readonly followerPids: readonly number[],
  ) {
    this.before = this.sample();
  }

  private sample(): RoleCpuSample {
    const of = (pid: number): CpuSplit => {
      const s = processCpuSplit(pid);
      if (s === null) throw new Error(`cannot read the CPU time of pid ${pid} (/proc)`);
      return s;
    };
    return { leader: of(this.leaderPid), followers: this.followerPids.map(of), client: ownCpuSplit() };
  }

  /** The CPU of each role since construction divided by `writes`. */
  perWrite(writes: number): { leader: RoleCpu; follower: RoleCpu; client: RoleCpu } {
    return roleCpuPerOp(this.before, this.sample(), writes);
  }
}

interface Child {
  readonly proc: ChildProcess;
  readonly port: number;
}

function nextMessage(proc: ChildProcess, kind: FloorFromChild['kind'], deadlineMs: number): Promise<FloorFromChild> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`floor: no '${kind}' from pid ${proc.pid} within ${deadlineMs} ms`)), deadlineMs);
    const onMessage = (m: FloorFromChild): void => {
      if (m.kind === kind) finish(null, m);
    };
    const onExit = (code: number | null): void => finish(new Error(`floor: pid ${proc.pid} exited (code ${code}) before '${kind}'`));
    const finish = (error: Error | null, m?: FloorFromChild): void => {
      clearTimeout(timer);
      proc.off('message', onMessage);
      proc.off('exit', onExit);
      if (error !== null) reject(error);
      else resolve(m!);
    };
    proc.on('message', onMessage);
    proc.on('exit', onExit);
  });
}

// bench/floor.ts runs from dist/bench/ (npm run bench) or from the sources (vitest): the child is always the compiled one.
const parentDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const repoRoot = basename(parentDir) === 'dist' ? resolve(parentDir, '..') : parentDir;

/** Forks a child and records it in `children` at once, so the caller's cleanup stops it even if it never gets ready. */
async function startChild(role: 'leader' | 'follower', dir: string, keyHex: string, children: ChildProcess[]): Promise<Child> {
  const script = join(repoRoot, 'dist', 'bench', 'floor-process.js');
  const proc = fork(script, [role, dir, keyHex], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  children.push(proc);
  const ready = await nextMessage(proc, 'ready', 10_000);
  if (ready.kind !== 'ready') throw new Error('unreachable');
  return { proc, port: ready.port };
}

async function cpuOf(
  child: Child,
  ask: FloorToChild & { kind: 'cpu' | 'settle' } = { kind: 'cpu' },
): Promise<Extract<FloorFromChild, { kind: 'cpu' }>> {
  const reply = nextMessage(child.proc, 'cpu', 10_000);
  child.proc.send(ask);
  const m = await reply;
  if (m.kind !== 'cpu') throw new Error('unreachable');
  return m;
}

/** The roles' CPU so far (the children's own figures, the leader first), this process as the client. */
async function cpuSample(children: readonly Child[]): Promise<RoleCpuSample> {
  const client = ownCpuSplit();
  const replies = await Promise.all(children.map((c) => cpuOf(c)));
  const split = (m: { userUs: number; systemUs: number }): CpuSplit => ({ userSeconds: m.userUs / 1e6, systemSeconds: m.systemUs / 1e6 });
  return { leader: split(replies[0]!), followers: replies.slice(1).map(split), client };
}

/**
 * Runs the floor: a leader and `followers` followers as processes, this
 * process the client; `warmup` unmeasured writes, then `writes` measured
 * ones of `payloadBytes` each. Log files go to `dir`.
 */
export async function measureFloor(opts: {
  /** Measured writes; with `durationMs`, the most it does (writes stop when either is reached). */
  readonly writes: number;
  readonly durationMs?: number;
  readonly warmup: number;
  readonly payloadBytes: number;
  readonly followers: number;
  readonly dir: string;
  /** A write not answered within this is an error (nothing is lost on loopback with one write in flight). */
  readonly replyDeadlineMs?: number;
}): Promise<FloorResult> {
  const key = randomBytes(32);
  const children: Child[] = [];
  const spawned: ChildProcess[] = [];
  const socket = dgram.createSocket('udp4');
  socket.on('error', (e) => process.stderr.write(`floor client: socket error ${e.message}\n`));
  try {
    const leader = await startChild('leader', opts.dir, key.toString('hex'), spawned);
    children.push(leader);
    for (let i = 0; i < opts.followers; i++) children.push(await startChild('follower', opts.dir, key.toString('hex'), spawned));
    const peersOk = nextMessage(leader.proc, 'peers-ok', 10_000);
    leader.proc.send({ kind: 'peers', ports: children.slice(1).map((c) => c.port) } satisfies FloorToChild);
    await peersOk;
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));

    let waiting: { seq: number; resolve: () => void } | null = null;
    let badMacs = 0;
    socket.on('message', (datagram) => {
      const plain = openFloor(key, datagram);
      if (plain === null) {
        badMacs++;
        return;
      }
      if (plain[0] === FLOOR_KIND.reply && waiting !== null && plain.readUInt32LE(1) === waiting.seq) {
        const w = waiting;
        waiting = null;
        w.resolve();
      }
    });
    const payload = Buffer.alloc(opts.payloadBytes, 0x61);
    const deadlineMs = opts.replyDeadlineMs ?? 5_000;
    const write = (seq: number): Promise<void> =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`floor: write ${seq} not answered within ${deadlineMs} ms`)), deadlineMs);
        waiting = {
          seq,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        };
        socket.send(sealFloor(key, FLOOR_KIND.request, seq, payload), leader.port, '127.0.0.1');
      });

    let seq = 0;
    for (let i = 0; i < opts.warmup; i++) await write(seq++);
    const before = await cpuSample(children);
    const latencies: number[] = [];
    const t0 = performance.now();
    const until = opts.durationMs === undefined ? Infinity : t0 + opts.durationMs;
    for (let i = 0; i < opts.writes && performance.now() < until; i++) {
      const start = performance.now();
      await write(seq++);
      latencies.push(performance.now() - start);
    }
    const elapsedMs = performance.now() - t0;
    const done = latencies.length;
    const after = await cpuSample(children);
    // The counters once every process has made every write durable (a majority answered the last one, so the rest may lag behind by one).
    const settled = await Promise.all(children.map((c) => cpuOf(c, { kind: 'settle', writes: seq })));
    return {
      name: 'floor',
      writes: done,
      p50Ms: quantile(latencies, 0.5),
      p99Ms: quantile(latencies, 0.99),
      writesPerSecond: (done * 1000) / elapsedMs,
      ...roleCpuPerOp(before, after, done),
      followers: opts.followers,
      fsyncs: settled.map((a) => a.fsyncs),
      logBytes: settled.map((a) => a.logBytes),
      badMacs: badMacs + settled.reduce((s, a) => s + a.badMacs, 0),
    };
  } finally {
    socket.close();
    await Promise.all(
      spawned.map(
        (proc) =>
          new Promise<void>((resolve) => {
            if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
            // A child that does not leave on its own within a second is killed (no orphans).
            const kill = setTimeout(() => proc.kill('SIGKILL'), 1_000);
            proc.once('exit', () => {
              clearTimeout(kill);
              resolve();
            });
            if (proc.connected) proc.send({ kind: 'stop' } satisfies FloorToChild);
            else proc.kill('SIGKILL');
          }),
      ),
    );
  }
}

const fmt = (us: number): string => us.toFixed(0);

/**
 * rift beside the floor: the round trip, and the CPU per write of each role
 * (user + kernel), with the whole cluster's CPU per write divided by the
 * cores, which on this machine is about what a write's latency cannot go below
 * while every process competes for them.
 */
export function floorTable(rows: readonly OneClientFigures[]): string {
  const cores = availableParallelism();
  const lines = [
    `| | writes | p50 ms | p99 ms | writes/s | leader µs (user + kernel) | each follower µs | client µs | all processes µs per write | ÷ ${cores} cores, ms |`,
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    const total = totalCpuUs(r);
    lines.push(
      `| ${r.name} | ${r.writes} | ${r.p50Ms.toFixed(3)} | ${r.p99Ms.toFixed(3)} | ${r.writesPerSecond.toFixed(0)} | ` +
        `${fmt(r.leader.userUs)} + ${fmt(r.leader.systemUs)} | ${fmt(r.follower.userUs)} + ${fmt(r.follower.systemUs)} | ` +
        `${fmt(r.client.userUs)} + ${fmt(r.client.systemUs)} | ${fmt(total)} | ${(total / cores / 1000).toFixed(3)} |`,
    );
  }
  return lines.join('\n') + '\n';
}
