/**
 * `npm run bench -- membership [--nodes 3|5] [--preload N] [--clients C] [--value-bytes B] [--repeats R] [--out DIR]`
 *
 * Issue 18's figure: the time to add a node to a loaded cluster until it is
 * a voting, caught-up member. Real processes over loopback UDP with fsync:
 * an N-node cluster takes `--preload` puts, then C clients keep writing
 * while a spare identity starts with `--join` and empty state, is added
 * (`RiftAdmin.add`, answered once committed), and is promoted as soon as the
 * leader accepts it as caught up (§4.2.1: its last catch-up round took under
 * an election timeout; a refused promotion is asked again every 50 ms).
 *
 * Per repeat: the process's start until it listens, the add until committed,
 * then until the promotion committed (the catch-up: a snapshot and the
 * entries after it), the total, and the write throughput during the change
 * against the throughput before it. Results on stdout and `<out>/membership.json`.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { NodeProcess } from '../harness/node-process.js';
import { pickFreeUdpPorts } from '../harness/ports.js';
import { RiftClient } from '../node/client.js';
import { RiftAdmin, type AdminResult } from '../node/admin-client.js';
import type { ClusterConfig } from '../node/config-types.js';

interface Options {
  nodes: number;
  preload: number;
  clients: number;
  valueBytes: number;
  repeats: number;
  out: string;
}

interface Figure {
  readonly nodes: number;
  readonly preload: number;
  readonly logIndexAtAdd: number;
  readonly startMs: number;
  readonly addMs: number;
  readonly catchUpAndPromoteMs: number;
  readonly totalMs: number;
  readonly snapshotsInstalled: number;
  readonly writesPerSecBefore: number;
  readonly writesPerSecDuring: number;
}

function ok(result: AdminResult, what: string): AdminResult & { type: 'ok' } {
  if (result.type !== 'ok') throw new Error(`${what}: ${JSON.stringify(result)}`);
  return result;
}

async function once(opts: Options, repeat: number): Promise<Figure> {
  const dir = mkdtempSync(join(tmpdir(), 'rift-bench-membership-'));
  const ports = await pickFreeUdpPorts(opts.nodes + 1);
  const address = (i: number) => ({ id: `n${i + 1}`, host: '127.0.0.1', port: ports[i]! });
  const config: ClusterConfig = {
    cluster: 'rift-bench-membership',
    peerSecret: 'bench-membership-peer-secret-0123456789',
    clientSecret: 'bench-membership-client-secret-0123456789',
    clientFreshnessMs: 30_000,
    dataDir: join(dir, 'data'),
    electionTimeoutMsMin: 300,
    electionTimeoutMsMax: 600,
    heartbeatIntervalMs: 50,
    tickMs: 10,
    nodes: Array.from({ length: opts.nodes }, (_, i) => address(i)),
    spareNodes: [address(opts.nodes)],
    routes: {},
    readMode: 'readindex',
    clockDriftBound: 1.2,
    maxKeyBytes: 256,
    maxValueBytes: 8192,
  };
  const configPath = join(dir, 'cluster.json');
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  const processes: NodeProcess[] = [];
  const spawn = (id: string, joining: boolean): NodeProcess => {
    const p = new NodeProcess(id, {
      command: process.execPath,
      args: [join(import.meta.dirname, '..', 'node', 'main.js'), '--config', configPath, '--id', id, ...(joining ? ['--join'] : [])],
      logPath: join(dir, `${id}.log`),
    });
    processes.push(p);
    return p;
  };
  const admin = new RiftAdmin({ config, timeoutMs: 60_000, seed: repeat + 1 });
  let writing = true;
  let done = 0;
  try {
    await Promise.all(config.nodes.map((n) => spawn(n.id, false).start(120_000)));
    ok(await admin.status(), 'status');
    const value = 'v'.repeat(opts.valueBytes);
    const writers = Array.from({ length: opts.clients }, async (_, c) => {
      const client = new RiftClient({ config, clientId: `bench-mem-${repeat}-${c}`, timeoutMs: 30_000, seed: c + 1 });
      try {
        for (let i = 0; writing; i++) {
          const r = await client.put(`k${(c * 7919 + i) % 10_000}`, value);
          if (r.type === 'fail') throw new Error(`put: ${r.error}`);
          if (r.type === 'ok') done++;
        }
      } finally {
        client.close();
      }
    });
    const preloadStarted = performance.now();
    let lastReport = 0;
    while (done < opts.preload) {
      await new Promise((r) => setTimeout(r, 50));
      if (done - lastReport >= opts.preload / 5) {
        lastReport = done;
        process.stderr.write(`  preload: ${done}/${opts.preload}\n`);
      }
    }
    const writesPerSecBefore = done / ((performance.now() - preloadStarted) / 1000);
    const logIndexAtAdd = ok(await admin.status(), 'status').membership.lastLogIndex;
    const doneAtAdd = done;

    const joiner = config.spareNodes![0]!.id;
    const t0 = performance.now();
    await spawn(joiner, true).start(120_000);
    const t1 = performance.now();
    ok(await admin.add(joiner), `add ${joiner}`);
    const t2 = performance.now();
    for (;;) {
      const r = await admin.promote(joiner);
      if (r.type === 'ok') break;
      if (r.type === 'refused' && /has not caught up/.test(r.error)) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        continue;
      }
      throw new Error(`promote ${joiner}: ${JSON.stringify(r)}`);
    }
    const t3 = performance.now();
    const writesPerSecDuring = (done - doneAtAdd) / ((t3 - t0) / 1000);
    const joinerStatus = await processes[processes.length - 1]!.status(5000);
    writing = false;
    await Promise.all(writers);
    return {
      nodes: opts.nodes,
      preload: opts.preload,
      logIndexAtAdd,
      startMs: Math.round(t1 - t0),
      addMs: Math.round(t2 - t1),
      catchUpAndPromoteMs: Math.round(t3 - t2),
      totalMs: Math.round(t3 - t0),
      snapshotsInstalled: joinerStatus?.snapshots?.installed ?? -1,
      writesPerSecBefore: Math.round(writesPerSecBefore),
      writesPerSecDuring: Math.round(writesPerSecDuring),
    };
  } finally {
    writing = false;
    admin.close();
    await Promise.all(processes.map((p) => p.kill()));
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function runMembershipBench(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      nodes: { type: 'string', default: '3' },
      preload: { type: 'string', default: '20000' },
      clients: { type: 'string', default: '16' },
      'value-bytes': { type: 'string', default: '100' },
      repeats: { type: 'string', default: '3' },
      out: { type: 'string', default: join(tmpdir(), 'rift-bench-membership') },
    },
  });
  const int = (name: string, v: string, min: number): number => {
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min} (got ${v})`);
    return n;
  };
  const opts: Options = {
    nodes: int('nodes', values.nodes, 1),
    preload: int('preload', values.preload, 0),
    clients: int('clients', values.clients, 1),
    valueBytes: int('value-bytes', values['value-bytes'], 1),
    repeats: int('repeats', values.repeats, 1),
    out: values.out,
  };
  const figures: Figure[] = [];
  for (let r = 0; r < opts.repeats; r++) {
    const f = await once(opts, r);
    figures.push(f);
    process.stdout.write(
      `membership: ${f.nodes} nodes + 1, log at ${f.logIndexAtAdd}: listening ${f.startMs} ms, add committed ${f.addMs} ms, ` +
        `caught up and promoted ${f.catchUpAndPromoteMs} ms, total ${f.totalMs} ms (snapshots installed ${f.snapshotsInstalled}; ` +
        `writes/s ${f.writesPerSecBefore} before, ${f.writesPerSecDuring} during)\n`,
    );
  }
  const totals = figures.map((f) => f.totalMs).sort((a, b) => a - b);
  process.stdout.write(`membership: median total ${totals[Math.floor(totals.length / 2)]} ms over ${totals.length} repeats\n`);
  mkdirSync(opts.out, { recursive: true });
  writeFileSync(join(opts.out, 'membership.json'), JSON.stringify({ options: opts, figures }, null, 2));
}
