/**
 * `npm run bench -- snapshots [--writes N] [--clients C] [--keys K] [--value-bytes B] [--out DIR]`
 *
 * Issue 18's figures for snapshots, on real processes over loopback UDP with fsync:
 *
 * - restart: a 1-node cluster takes N writes, is killed (SIGKILL) and
 *   restarted; the time until it answers a linearizable read, with snapshots
 *   (the default policy) and without (`--snapshot-every-entries 0`: the whole
 *   log is replayed);
 * - catch-up: a 3-node cluster, one follower killed, N writes, the follower
 *   restarted; the time until it has applied everything the leader had
 *   committed, by InstallSnapshot (its log is compacted far past the
 *   follower's), with the snapshot's size and the stream's time from the
 *   leader's log.
 *
 * Writes are `put`s from C concurrent clients over K keys of B-byte values.
 * Results: one line per figure on stdout and `<out>/snapshots.json`.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Cluster } from '../harness/cluster.js';
import { RiftClient } from '../node/client.js';

interface Options {
  writes: number;
  clients: number;
  keys: number;
  valueBytes: number;
  out: string;
}

async function waitFor<T>(what: string, deadlineMs: number, probe: () => Promise<T | null | undefined>): Promise<T> {
  const until = Date.now() + deadlineMs;
  while (Date.now() < until) {
    const value = await probe();
    if (value !== null && value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}`);
}

/** N puts from C clients; returns the seconds it took. Logs progress every 10%. */
async function write(cluster: Cluster, opts: Options, tag: string): Promise<number> {
  const leader = await cluster.waitForLeader(30_000);
  const value = 'v'.repeat(opts.valueBytes);
  let next = 0;
  let done = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: opts.clients }, async (_, c) => {
      const client = new RiftClient({
        config: cluster.config,
        clientId: `snapbench-${tag}-${c}`,
        timeoutMs: 30_000,
        seed: c + 1,
        ...(leader !== null ? { initialNode: leader } : {}),
      });
      while (next < opts.writes) {
        const i = next++;
        const r = await client.put(`k${i % opts.keys}`, value);
        if (r.type !== 'ok') throw new Error(`put ${i}: ${JSON.stringify(r)}`);
        done++;
        if (done % Math.max(1, Math.floor(opts.writes / 10)) === 0) {
          process.stderr.write(`  ${tag}: ${done}/${opts.writes} writes, ${Math.round(done / ((performance.now() - started) / 1000))}/s\n`);
        }
      }
      client.close();
    }),
  );
  return (performance.now() - started) / 1000;
}

function nodeLog(runDir: string, id: string): string {
  try {
    return readFileSync(join(runDir, 'nodes', `${id}.log`), 'utf8');
  } catch {
    return '';
  }
}

async function restartFigure(opts: Options, snapshotEvery: number | null): Promise<Record<string, unknown>> {
  const runDir = mkdtempSync(join(tmpdir(), 'rift-snapbench-'));
  // 0: never (neither the entry count nor the 16 MiB bytes bound): the whole log is replayed.
  const flags = snapshotEvery === null ? ['--snapshot-every-entries', '0'] : [];
  const cluster = await Cluster.start({ nodeCount: 1, runDir, nodeFlags: flags, net: 'direct', seed: 1, readyTimeoutMs: 600_000 });
  try {
    const id = cluster.nodeIds[0]!;
    const tag = snapshotEvery === null ? 'restart-nosnap' : 'restart-snap';
    const writeSeconds = await write(cluster, opts, tag);
    const before = (await cluster.status(id, 5000))!;
    await cluster.kill(id);
    const t0 = performance.now();
    await cluster.restart(id);
    const readyMs = performance.now() - t0;
    const reader = new RiftClient({ config: cluster.config, clientId: `snapbench-read-${tag}`, timeoutMs: 60_000, seed: 99 });
    const got = await reader.get('k0');
    const servingMs = performance.now() - t0;
    reader.close();
    if (got.type !== 'ok') throw new Error(`read after restart: ${JSON.stringify(got)}`);
    const after = (await cluster.status(id, 5000))!;
    const restoring = /restoring snapshot (\d+)@\d+ \((\d+) bytes\), then (\d+) log entries/.exec(nodeLog(runDir, id));
    return {
      figure: 'restart',
      snapshots: snapshotEvery === null ? 'off' : 'default',
      writes: opts.writes,
      writeSeconds: Math.round(writeSeconds),
      lastAppliedBefore: before.lastApplied,
      lastAppliedAfter: after.lastApplied,
      snapshotIndex: restoring === null ? null : Number(restoring[1]),
      snapshotBytes: restoring === null ? null : Number(restoring[2]),
      tailEntries: restoring === null ? before.lastLogIndex : Number(restoring[3]),
      readyMs: Math.round(readyMs),
      servingMs: Math.round(servingMs),
    };
  } finally {
    await cluster.stop();
    rmSync(runDir, { recursive: true, force: true });
  }
}

async function catchUpFigure(opts: Options): Promise<Record<string, unknown>> {
  const runDir = mkdtempSync(join(tmpdir(), 'rift-snapbench-'));
  const cluster = await Cluster.start({ nodeCount: 3, runDir, nodeFlags: [], net: 'direct', seed: 2, readyTimeoutMs: 600_000 });
  try {
    const leader = (await cluster.waitForLeader(30_000))!;
    const follower = cluster.nodeIds.find((id) => id !== leader)!;
    await cluster.kill(follower);
    const writeSeconds = await write(cluster, opts, 'catchup');
    const target = (await cluster.status(leader, 5000))!;
    const t0 = performance.now();
    await cluster.restart(follower);
    const readyMs = performance.now() - t0;
    await waitFor(`${follower} to apply ${target.commitIndex}`, 600_000, async () => {
      const s = await cluster.status(follower, 5000);
      return s !== null && s.lastApplied >= target.commitIndex ? s : null;
    });
    const caughtUpMs = performance.now() - t0;
    const leaderLog = nodeLog(runDir, leader);
    const streams = [...leaderLog.matchAll(/snapshot (\d+)@\d+ to (\S+): streaming (\d+) bytes in (\d+) chunks/g)].filter(
      (m) => m[2] === follower,
    );
    const completes = [...leaderLog.matchAll(/snapshot \d+@\d+ to (\S+): complete in (\d+) ms \((\d+) chunks sent for (\d+)\)/g)].filter(
      (m) => m[1] === follower,
    );
    const last = streams[streams.length - 1];
    const done = completes[completes.length - 1];
    return {
      figure: 'catch-up',
      writes: opts.writes,
      writeSeconds: Math.round(writeSeconds),
      leaderCommitIndex: target.commitIndex,
      installedSnapshot: /installed snapshot/.test(nodeLog(runDir, follower)),
      streams: streams.length,
      snapshotBytes: last === undefined ? null : Number(last[3]),
      chunks: last === undefined ? null : Number(last[4]),
      streamMs: done === undefined ? null : Number(done[2]),
      chunksSent: done === undefined ? null : Number(done[3]),
      readyMs: Math.round(readyMs),
      caughtUpMs: Math.round(caughtUpMs),
      // What the leader said about each stream to the follower (started, complete, rejected, given up).
      streamLog: leaderLog
        .split('\n')
        .filter((line) => line.includes(`to ${follower}`) && line.includes('snapshot'))
        .slice(0, 20),
    };
  } finally {
    await cluster.stop();
    rmSync(runDir, { recursive: true, force: true });
  }
}

/**
 * big-state: 5 nodes (fsync, loopback) take N writes from C clients over K keys of B bytes, so the state grows to
 * about K x B bytes and every node snapshots it several times. What a snapshot costs the cluster: how many times the
 * leader changed meanwhile (a node that stops answering for an election timeout loses its leadership) and how long
 * the slowest writes waited. Run it as `--only big-state --writes 40000 --keys 40000 --value-bytes 2000 --clients 32`
 * (an 80 MB state; README "Snapshots" has the figures before and after the snapshot was built off the event loop).
 */
async function bigStateFigure(opts: Options): Promise<Record<string, unknown>> {
  const runDir = mkdtempSync(join(tmpdir(), 'rift-snapbench-'));
  const cluster = await Cluster.start({ nodeCount: 5, runDir, nodeFlags: [], net: 'direct', seed: 3, readyTimeoutMs: 120_000 });
  let watching = true;
  const terms: number[] = [];
  const watcher = (async () => {
    while (watching) {
      for (const id of cluster.nodeIds) {
        const s = await cluster.status(id, 1000).catch(() => null);
        if (s !== null && s.currentTerm > (terms.at(-1) ?? 0)) terms.push(s.currentTerm);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  try {
    const leader = await cluster.waitForLeader(30_000);
    const firstTerm = terms.at(-1) ?? 0;
    const value = 'v'.repeat(opts.valueBytes);
    const latenciesMs: number[] = [];
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: opts.clients }, async (_, c) => {
        const client = new RiftClient({
          config: cluster.config,
          clientId: `bigstate-${c}`,
          timeoutMs: 30_000,
          seed: c + 1,
          ...(leader !== null ? { initialNode: leader } : {}),
        });
        while (next < opts.writes) {
          const i = next++;
          const t0 = performance.now();
          const r = await client.put(`k${i % opts.keys}`, value);
          latenciesMs.push(performance.now() - t0);
          if (r.type !== 'ok') throw new Error(`put ${i}: ${JSON.stringify(r)}`);
        }
        client.close();
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    latenciesMs.sort((a, b) => a - b);
    const saved = cluster.nodeIds.flatMap((id) =>
      [...nodeLog(runDir, id).matchAll(/snapshot \d+@\d+ saved \((\d+) bytes\)/g)].map((m) => Number(m[1])),
    );
    return {
      figure: 'big-state',
      writes: opts.writes,
      seconds: Number(seconds.toFixed(1)),
      leaderChanges: (terms.at(-1) ?? firstTerm) - firstTerm,
      snapshotsSaved: saved.length,
      largestSnapshotBytes: Math.max(0, ...saved),
      writesOver300Ms: latenciesMs.filter((l) => l > 300).length,
      p99Ms: Number((latenciesMs[Math.floor(latenciesMs.length * 0.99)] ?? 0).toFixed(1)),
      maxMs: Math.round(latenciesMs.at(-1) ?? 0),
    };
  } finally {
    watching = false;
    await watcher;
    await cluster.stop();
    rmSync(runDir, { recursive: true, force: true });
  }
}

export async function runSnapshotsBench(argv: readonly string[]): Promise<void> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      writes: { type: 'string' },
      clients: { type: 'string' },
      keys: { type: 'string' },
      'value-bytes': { type: 'string' },
      out: { type: 'string' },
      only: { type: 'string' },
    },
    strict: true,
  });
  const opts: Options = {
    writes: Number(values.writes ?? 1_000_000),
    clients: Number(values.clients ?? 64),
    keys: Number(values.keys ?? 10_000),
    valueBytes: Number(values['value-bytes'] ?? 100),
    out: values.out ?? join('histories', 'bench'),
  };
  mkdirSync(opts.out, { recursive: true });
  process.stdout.write(
    `snapshots bench: ${opts.writes} writes from ${opts.clients} clients over ${opts.keys} keys of ${opts.valueBytes}-byte values\n`,
  );
  const results: Record<string, unknown>[] = [];
  const only = values.only;
  const figures: [string, () => Promise<Record<string, unknown>>][] = [
    ['restart-snap', () => restartFigure(opts, 10_000)],
    ['restart-nosnap', () => restartFigure(opts, null)],
    ['catch-up', () => catchUpFigure(opts)],
    ['big-state', () => bigStateFigure(opts)],
  ];
  for (const [name, run] of figures) {
    // big-state wants other sizes than the rest (see bigStateFigure): only when asked for.
    if (only === undefined ? name === 'big-state' : !only.split(',').includes(name)) continue;
    const result = await run();
    results.push(result);
    process.stdout.write(`${name}: ${JSON.stringify(result)}\n`);
    writeFileSync(join(opts.out, 'snapshots.json'), JSON.stringify({ options: opts, results }, null, 2) + '\n');
  }
}
