/**
 * The SSH Remote and `--hosts` for real, on one machine: hosts are network
 * namespaces on a bridge, each running Debian's openssh-server with a
 * throw-away key (test/support/ssh-hosts.ts). Needs root, openssh-server,
 * nftables; skipped with the reason elsewhere.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { etcdSystem } from '../../../harness/db/etcd/system.js';
import { SshRemote } from '../../../harness/remote/ssh.js';
import { NODE_EXIT } from '../../../node/exit-codes.js';
import { ensureBuilt, repoRoot } from '../../support/build.js';
import { SshHosts, sshHostsUnavailable } from '../../support/ssh-hosts.js';
import { tempDir } from '../temp-dirs.js';
import { processGone, waitFor } from '../wait.js';

const skipReason = sshHostsUnavailable();
if (skipReason !== null) console.log(`ssh tests skipped: ${skipReason}`);

let hosts: SshHosts;
let store: string;

beforeAll(async () => {
  if (skipReason !== null) return;
  ensureBuilt();
  // Three hosts for the runs; the resize run adds two more for its spare identities.
  hosts = await SshHosts.start(5);
  store = tempDir('rift-ssh-store-');
}, 60_000);

afterAll(() => {
  hosts?.stop();
});

/** The hosts of a three-node run. */
function three(): string {
  return hosts.addresses.slice(0, 3).join(',');
}

function remote(i: number, knownHostsPath: string, keyPath = hosts.clientKey): SshRemote {
  return new SshRemote({
    host: hosts.addresses[i]!,
    user: 'root',
    port: 22,
    keyPath,
    knownHostsPath,
    hostKeyPolicy: 'accept-new',
    connectTimeoutS: 5,
  });
}

function cli(args: string[], timeoutMs = 180_000) {
  return spawnSync(process.execPath, [join(repoRoot, 'dist', 'harness', 'cli.js'), ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: timeoutMs,
  });
}

/** Nothing of the harness's left on any host: no rift_jepsen table, no node of this store. */
function assertHostsClean(marker: string): void {
  for (const ns of hosts.namespaces) {
    const tables = execFileSync('ip', ['netns', 'exec', ns, 'nft', 'list', 'tables'], { encoding: 'utf8' });
    expect(tables, ns).not.toContain('rift_jepsen');
  }
  const ps = execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' });
  expect(ps.split('\n').filter((l) => l.includes(marker) && !l.includes('ps -eo'))).toEqual([]);
}

describe.skipIf(skipReason !== null)('SSH hosts (network namespaces running sshd)', () => {
  it('SshRemote: run, upload and download, a leased process signalled by pid, host keys learned into the given file', async () => {
    const dir = tempDir('rift-ssh-remote-');
    const knownHosts = join(dir, 'known_hosts');
    const r = remote(0, knownHosts);
    const ran = await r.run('sh', ['-c', 'ip -4 -o addr show dev eth0; echo "$1"', 'sh', "it's quoted"]);
    expect(ran.exitCode).toBe(0);
    expect(ran.stdout).toContain(hosts.addresses[0]!);
    expect(ran.stdout).toContain("it's quoted");
    expect(readFileSync(knownHosts, 'utf8')).toContain(hosts.addresses[0]!);
    writeFileSync(join(dir, 'up.txt'), 'payload\n');
    await r.upload(join(dir, 'up.txt'), `${dir}/on-host/up.txt`);
    await r.download(`${dir}/on-host/up.txt`, join(dir, 'down.txt'));
    expect(readFileSync(join(dir, 'down.txt'), 'utf8')).toBe('payload\n');

    const proc = await r.start({ command: 'sleep', args: ['1000'], logPath: join(dir, 'sleep.log') });
    expect(processGone(proc.pid)).toBe(false);
    expect(await r.signal(proc.pid, 'SIGSTOP')).toBe(true);
    await waitFor(async () => (await r.procState(proc.pid)) === 'T', 5000, 'the process stopped');
    expect(await r.signal(proc.pid, 'SIGKILL')).toBe(true);
    expect(await proc.exited).toEqual({ kind: 'signal', signal: 'SIGKILL' });
    expect(await r.signal(proc.pid, 'SIGKILL')).toBe(false);
    await r.close();
  }, 60_000);

  it('a harness SIGKILLed while it holds a leased, paused process and a lease leaves neither behind', async () => {
    const dir = tempDir('rift-ssh-lease-');
    const script = join(dir, 'holder.mjs');
    const remoteModule = join(repoRoot, 'dist', 'harness', 'remote', 'ssh.js');
    writeFileSync(
      script,
      `import { SshRemote } from ${JSON.stringify(remoteModule)};
const r = new SshRemote({ host: ${JSON.stringify(hosts.addresses[1])}, user: 'root', port: 22, keyPath: ${JSON.stringify(hosts.clientKey)},
  knownHostsPath: ${JSON.stringify(join(dir, 'known_hosts'))}, hostKeyPolicy: 'accept-new', connectTimeoutS: 5 });
const p = await r.start({ command: 'sleep', args: ['1001'], logPath: ${JSON.stringify(join(dir, 'sleep.log'))} });
await r.signal(p.pid, 'SIGSTOP');
await r.lease('touch ${join(dir, 'cleaned')}');
await r.close(); // its control session: only the leases are left to hold
console.log('pid ' + p.pid);
setInterval(() => {}, 1000);
`,
    );
    const holder = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    holder.stdout.on('data', (d: Buffer) => (out += d.toString()));
    await waitFor(() => /pid \d+/.test(out), 20_000, 'the holder started its process');
    const pid = Number(/pid (\d+)/.exec(out)![1]);
    expect(processGone(pid)).toBe(false);
    holder.kill('SIGKILL');
    await waitFor(() => processGone(pid), 20_000, `the paused leased process ${pid} is killed`);
    await waitFor(() => existsSync(join(dir, 'cleaned')), 20_000, 'the lease ran its cleanup');
  }, 60_000);

  it('bad host lists, unreachable hosts and refused keys: exit 254 with a clear message, nothing started', () => {
    const h = three();
    const bad = cli(['--hosts', `${hosts.addresses[0]},not_a host`, '--ssh-key', hosts.clientKey, '--store', store]);
    expect(bad.status).toBe(254);
    expect(bad.stderr).toContain('is not a host name or an IP address');
    const twice = cli(['--hosts', `${hosts.addresses[0]},${hosts.addresses[0]}`, '--store', store]);
    expect(twice.status).toBe(254);
    expect(twice.stderr).toContain('listed twice');
    const nodes = cli(['--hosts', h, '--nodes', '5', '--store', store]);
    expect(nodes.status).toBe(254);
    expect(nodes.stderr).toContain('one node per host');
    const delay = cli(['--hosts', h, '--nemesis', 'delay', '--store', store]);
    expect(delay.status).toBe(254);
    expect(delay.stderr).toContain('not on --hosts');
    expect(delay.stderr).toContain('with --net relay it does');
    const sshOnly = cli(['--ssh-user', 'root']);
    expect(sshOnly.status).toBe(254);
    expect(sshOnly.stderr).toContain('needs --hosts');

    const dead = cli(['--hosts', `${h},${hosts.deadAddress}`, '--ssh-key', hosts.clientKey, '--store', store, '--time-limit', '5']);
    expect(dead.status).toBe(254);
    expect(dead.stderr).toContain(hosts.deadAddress);
    expect(dead.stderr).toContain('cannot use a host');
    const refused = cli(['--hosts', h, '--ssh-key', hosts.strangerKey, '--store', store, '--time-limit', '5']);
    expect(refused.status).toBe(254);
    expect(refused.stderr).toMatch(/Permission denied/);
    assertHostsClean(store);
  }, 120_000);

  it('rift through --hosts: a partition, kill, pause, clock, loss and disk run is valid; logs and data come back; hosts keep nothing', () => {
    const r = cli([
      ...['--hosts', three(), '--ssh-key', hosts.clientKey, '--remote-dir', join(store, 'on-hosts')],
      ...['--nemesis', 'partition,kill,pause,clock,loss,disk', '--time-limit', '12', '--seed', '7', '--store', store, '--json', '--quiet'],
    ]);
    expect(r.status, r.stderr).toBe(0);
    const results = JSON.parse(r.stdout) as {
      verdict: unknown;
      runDir: string;
      nemesis: { actions: number };
      faults: { kind?: string; what?: string }[];
      machine: { nodeWaitShare: number | null } | null;
    };
    expect(results.verdict).toBe(true);
    expect(results.nemesis.actions).toBeGreaterThan(0);
    // The nodes' run-queue waits came from their own statuses (no /proc of theirs on this side): the starvation monitor measured them.
    expect(results.machine?.nodeWaitShare).toEqual(expect.any(Number));
    const kinds = new Set(results.faults.map((f) => f.kind));
    expect([...kinds].sort(), JSON.stringify(results.faults)).toEqual(expect.arrayContaining(['clock', 'loss', 'disk']));
    // What the disk faults of this run did depends on what the kills left up (the next test pins the refusal down).
    const logs = ['n1', 'n2', 'n3'].map((id) => readFileSync(join(results.runDir, 'nodes', `${id}.log`), 'utf8'));
    for (const [i, id] of ['n1', 'n2', 'n3'].entries()) {
      expect(logs[i]!.length, id).toBeGreaterThan(0);
      expect(existsSync(join(results.runDir, 'data', id)), id).toBe(true);
    }
    // The clock requests went over the nodes' ssh sessions (--control-fd) and the nodes moved their own clocks.
    const moved = logs.flatMap((log) =>
      [...log.matchAll(/clock offsetMs=(-?[\d.]+) rate=([\d.]+)/g)].filter((m) => Number(m[1]) !== 0 || Number(m[2]) !== 1),
    );
    expect(moved.length).toBeGreaterThan(0);
    // So did the state digests: the replicas were compared at the end, as on loopback.
    expect(readFileSync(join(results.runDir, 'harness.log'), 'utf8')).toMatch(/replicas: the \d replicas that answered agree/);
    expect(readFileSync(join(store, 'known_hosts'), 'utf8')).toContain(hosts.addresses[2]!);
    expect(existsSync(join(store, 'on-hosts')) ? execFileSync('ls', [join(store, 'on-hosts')], { encoding: 'utf8' }).trim() : '').toBe('');
    assertHostsClean(join(store, 'on-hosts'));
  }, 200_000);

  it('rift through --hosts --net relay: partitions, delay, duplication, replays and loss in the relay here; the wire monitor judged it; valid', () => {
    const remoteDir = join(store, 'on-hosts-relay');
    const r = cli([
      ...['--hosts', three(), '--ssh-key', hosts.clientKey, '--remote-dir', remoteDir, '--net', 'relay'],
      ...['--nemesis', 'partition,delay,duplicate,replay,loss', '--time-limit', '12', '--seed', '7', '--store', store, '--json', '--quiet'],
    ]);
    expect(r.status, r.stderr).toBe(0);
    const results = JSON.parse(r.stdout) as {
      verdict: unknown;
      runDir: string;
      monitor: { violations: unknown[]; maxLeaderTerm: number; counts: Record<string, number> } | null;
      monitorNotRun: string | null;
      faults: { kind?: string }[];
    };
    expect(results.verdict).toBe(true);
    // Every peer datagram went through this machine: the monitor saw the leaders' AppendEntries and judged them.
    expect(results.monitorNotRun).toBeNull();
    expect(results.monitor?.violations).toEqual([]);
    expect(results.monitor?.maxLeaderTerm).toBeGreaterThanOrEqual(1);
    const kinds = new Set(results.faults.map((f) => f.kind));
    expect([...kinds].sort(), JSON.stringify(results.faults)).toEqual(expect.arrayContaining(['delay', 'duplicate', 'partition']));
    const log = readFileSync(join(results.runDir, 'harness.log'), 'utf8');
    expect(log).toMatch(/peer links through the relay on \d+\.\d+\.\d+\.\d+/);
    assertHostsClean(remoteDir);
  }, 200_000);

  // Alone, so what the disk fault does depends on no other fault: the mixed run above once had no refused node in a
  // full-suite run on a loaded machine (2026-12-06; it passed 3 of 3 alone; cause not established).
  it('rift through --hosts: a flipped frame is copied back to its host, the node refuses it there, the heal restores its file', () => {
    const remoteDir = join(store, 'on-hosts-disk');
    const r = cli([
      ...['--hosts', three(), '--ssh-key', hosts.clientKey, '--remote-dir', remoteDir],
      ...['--nemesis', 'disk', '--disk-faults', 'flip-frame,flip-last-frame', '--time-limit', '6', '--seed', '7'],
      ...['--store', store, '--json', '--quiet'],
    ]);
    expect(r.status, r.stderr).toBe(0);
    const results = JSON.parse(r.stdout) as { verdict: unknown; faults: { kind?: string; what?: string }[] };
    expect(results.verdict).toBe(true);
    // A flip of a durable frame must be refused (exit 3): a node that started on one, or failed otherwise, is wrong.
    const disk = results.faults.filter((f) => f.kind === 'disk');
    expect(disk.length, JSON.stringify(results.faults)).toBeGreaterThan(0);
    expect(
      disk.some((f) => /\(n\d refused/.test(f.what ?? '')),
      JSON.stringify(disk),
    ).toBe(true);
    expect(
      disk.filter((f) => /n\d (started|failed)/.test(f.what ?? '')),
      JSON.stringify(disk),
    ).toEqual([]);
    assertHostsClean(remoteDir);
  }, 120_000);

  it('rift through --hosts: membership changes (remove, restart, re-add, promote) are valid; a removed node exits 6 on its host', () => {
    const remoteDir = join(store, 'on-hosts-membership');
    const r = cli([
      ...['--hosts', three(), '--ssh-key', hosts.clientKey, '--remote-dir', remoteDir],
      ...['--nemesis', 'membership', '--time-limit', '10', '--seed', '5', '--store', store, '--json', '--quiet'],
    ]);
    expect(r.status, r.stderr).toBe(0);
    const results = JSON.parse(r.stdout) as { verdict: unknown; runDir: string; nemesis: { actions: number } };
    expect(results.verdict).toBe(true);
    expect(results.nemesis.actions).toBeGreaterThan(0);
    // The admin datagrams reached the hosts: a node was removed, told so, and exited with NODE_EXIT.removed there.
    expect(readFileSync(join(results.runDir, 'history.jsonl'), 'utf8')).toContain(`"exited":"code ${NODE_EXIT.removed}"`);
    assertHostsClean(remoteDir);
  }, 200_000);

  it('rift through --hosts: resize grows 3 to 5 with the spares on the last two hosts, shrinks to 3 and grows back; valid', () => {
    const remoteDir = join(store, 'on-hosts-resize');
    const five = hosts.addresses.join(',');
    const wrong = cli(['--hosts', hosts.addresses.slice(0, 2).join(','), '--nemesis', 'resize', '--store', store]);
    expect(wrong.status).toBe(254);
    expect(wrong.stderr).toContain('list 2 hosts more than --nodes');
    const r = cli([
      ...['--hosts', five, '--ssh-key', hosts.clientKey, '--remote-dir', remoteDir],
      ...['--nemesis', 'resize', '--time-limit', '12', '--seed', '4', '--store', store, '--json', '--quiet'],
    ]);
    expect(r.status, r.stderr).toBe(0);
    const results = JSON.parse(r.stdout) as { verdict: unknown; runDir: string; nemesis: { actions: number } };
    expect(results.verdict).toBe(true);
    expect(results.nemesis.actions).toBeGreaterThan(0);
    const config = JSON.parse(readFileSync(join(results.runDir, 'cluster.json'), 'utf8')) as {
      nodes: { id: string; host: string }[];
      spareNodes: { id: string; host: string }[];
    };
    expect(config.nodes.map((n) => n.host)).toEqual(hosts.addresses.slice(0, 3));
    expect(config.spareNodes.map((n) => n.host)).toEqual(hosts.addresses.slice(3));
    // The spares joined (added, caught up, promoted on their own hosts) and a shrink's removed node exited there.
    const history = readFileSync(join(results.runDir, 'history.jsonl'), 'utf8');
    expect(history).toContain('"f":"start-resize"');
    expect(history).toContain(`"exited":"code ${NODE_EXIT.removed}"`);
    // Each spare (started with --join: a spare refuses to start without it) was added, heard its peers and caught up.
    for (const id of ['n4', 'n5']) {
      const log = readFileSync(join(results.runDir, 'nodes', `${id}.log`), 'utf8');
      expect(log, id).toMatch(/peers heard: (n\d, )+n\d/);
      expect(log, id).toMatch(/commitIndex=[1-9]/);
    }
    assertHostsClean(remoteDir);
  }, 200_000);

  it.skipIf(etcdSystem.unavailable() !== null)(
    'etcd through --hosts: partition, kill, pause and membership, valid; logs come back; hosts keep nothing',
    () => {
      const remoteDir = join(store, 'on-hosts-etcd');
      const r = cli([
        ...['--db', 'etcd', '--hosts', three(), '--ssh-key', hosts.clientKey, '--remote-dir', remoteDir],
        ...['--nemesis', 'partition,kill,pause,membership', '--time-limit', '20', '--seed', '3', '--store', store, '--json', '--quiet'],
      ]);
      expect(r.status, r.stderr).toBe(0);
      const results = JSON.parse(r.stdout) as {
        verdict: unknown;
        runDir: string;
        nemesis: { actions: number };
        machine: { nodeWaitShare: number | null } | null;
        faults: { kind?: string }[];
      };
      expect(results.verdict).toBe(true);
      expect(results.nemesis.actions).toBeGreaterThan(0);
      // etcd's member remove / add (a learner, started empty on its host) / promote ran there too.
      expect(
        results.faults.map((f) => f.kind),
        JSON.stringify(results.faults),
      ).toContain('membership');
      // etcd reports no run-queue wait: the Db read each node's /proc/PID/schedstat on its host, and the monitor measured it.
      expect(results.machine?.nodeWaitShare).toEqual(expect.any(Number));
      for (const id of ['n1', 'n2', 'n3']) expect(readFileSync(join(results.runDir, 'nodes', `${id}.log`), 'utf8'), id).toContain('etcd');
      assertHostsClean(remoteDir);
    },
    240_000,
  );

  it('Ctrl-C during a --hosts run: exit 255, every node gone, every rule gone', async () => {
    const remoteDir = join(store, 'on-hosts-int');
    const child = spawn(
      process.execPath,
      [
        join(repoRoot, 'dist', 'harness', 'cli.js'),
        ...['--hosts', three(), '--ssh-key', hosts.clientKey, '--remote-dir', remoteDir],
        ...['--nemesis', 'partition,pause', '--time-limit', '60', '--store', store],
      ],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout.on('data', () => undefined);
    const code = new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    await waitFor(() => err.includes('start-partition') || err.includes(' paused'), 90_000, 'a fault in force');
    child.kill('SIGINT');
    expect(await code).toBe(255);
    assertHostsClean(remoteDir);
  }, 150_000);
});
