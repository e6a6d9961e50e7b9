/**
 * EtcdDb's run-queue waits for members on other hosts (harness/db/etcd/etcd-db.ts):
 * etcd does not report one, so the Db reads /proc/PID/schedstat on the
 * member's host, at most once per WAIT_READ_EVERY_MS and never in the way of
 * a status poll, and reports the last reading in the status. A unit test of
 * the one module: the Remote is a fake that records its commands, and a
 * local HTTP server answers the gateway's status call as etcd would. The
 * real path (ssh, a real etcd) is in test/harness/remote/ssh.test.ts.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { EtcdDb, WAIT_READ_EVERY_MS } from '../../../harness/db/etcd/etcd-db.js';
import { gatewayCall } from '../../../harness/db/etcd/gateway.js';
import { outcomeUnknown } from '../../../harness/db/etcd/membership.js';
import type { CommandResult, HostProcess, ProcessExit, Remote } from '../../../harness/remote/remote.js';
import { waitFor } from '../wait.js';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** Answers /v3/maintenance/status as a leader of term 2 would. */
async function fakeGateway(): Promise<number> {
  const server = createServer((req, res) => {
    req.resume();
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ header: { member_id: '11' }, leader: '11', raftTerm: '2', raftIndex: '9' }));
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

function fakeRemote(host: string, schedstat: () => string): { remote: Remote; commands: string[] } {
  const commands: string[] = [];
  let end: (e: ProcessExit) => void = () => undefined;
  const exited = new Promise<ProcessExit>((r) => (end = r));
  const remote = {
    host,
    run: async (command: string, args: readonly string[]): Promise<CommandResult> => {
      commands.push([command, ...args].join(' '));
      return { exitCode: 0, stdout: command === 'cat' ? schedstat() : '', stderr: '' };
    },
    start: async (): Promise<HostProcess> => ({ pid: 4242, exited }),
    signal: async () => {
      end({ kind: 'signal', signal: 'SIGKILL' });
      return true;
    },
  } as unknown as Remote;
  return { remote, commands };
}

function db(remote: Remote, clientPort: number): EtcdDb {
  return new EtcdDb({
    bin: '/usr/bin/etcd',
    nodes: [{ id: 'n1', address: '127.0.0.1', clientPort, peerPort: 1, remote, dataDir: '/d', logPath: '/l', wrap: (c) => c }],
    heartbeatIntervalMs: 50,
    electionTimeoutMs: 500,
    clusterToken: 't',
    readyTimeoutMs: 5000,
  });
}

describe('EtcdDb run-queue waits', () => {
  it('on another host: read from its /proc there, at most once per interval, and reported in the status', async () => {
    let waitNs = 5_000_000;
    const { remote, commands } = fakeRemote('10.9.0.2', () => `123 ${waitNs} 7\n`);
    const etcd = db(remote, await fakeGateway());
    await etcd.start('n1');
    const firstReadAt = performance.now();
    const first = await etcd.status('n1', 1000);
    expect(first).toMatchObject({ role: 'leader', currentTerm: 2, commitIndex: 9 });
    // The first read was started by that poll; the next polls report it.
    await waitFor(async () => (await etcd.status('n1', 1000))?.runQueueWaitMs === 5, 5000, 'the first reading is reported');
    waitNs = 9_000_000;
    const reads = (): number => commands.filter((c) => c === 'cat /proc/4242/schedstat').length;
    // Polled every 20 ms until the new value shows: read once more, and not before the interval ran out.
    await waitFor(async () => (await etcd.status('n1', 1000))?.runQueueWaitMs === 9, 5000, 'the second reading is reported');
    expect(performance.now() - firstReadAt).toBeGreaterThanOrEqual(WAIT_READ_EVERY_MS);
    expect(reads()).toBe(2);
    await etcd.kill('n1');
  });

  it('on this machine: nothing read (the monitor reads /proc itself), nothing reported', async () => {
    const { remote, commands } = fakeRemote('local', () => '1 2 3\n');
    const etcd = db(remote, await fakeGateway());
    await etcd.start('n1');
    const s = await etcd.status('n1', 1000);
    expect(s?.runQueueWaitMs).toBeUndefined();
    expect(commands.filter((c) => c.startsWith('cat'))).toEqual([]);
    await etcd.kill('n1');
  });
});

describe('gatewayCall', () => {
  it('takes a deadline that is not a whole number of ms (the membership steps pass what is left of theirs)', async () => {
    const port = await fakeGateway();
    const r = await gatewayCall(`http://127.0.0.1:${port}`, '/v3/maintenance/status', {}, 999.37);
    expect(r).toMatchObject({ kind: 'answer', status: 200 });
  });
});

describe('etcd membership answers (outcomeUnknown)', () => {
  it("an error that leaves the change's fate unknown is told apart from etcd's definite refusals", () => {
    // Messages as etcd 3.4's gateway sends them ({error, code, message}; both kinds carry gRPC Unavailable, 14).
    const answer = (message: string): Record<string, unknown> => ({ error: message, code: 14, message });
    expect(outcomeUnknown(answer('etcdserver: request timed out'))).toBe(true);
    expect(outcomeUnknown(answer('etcdserver: leader changed'))).toBe(true);
    expect(outcomeUnknown(answer('etcdserver: request timed out, possibly due to previous leader failure'))).toBe(true);
    // A leader that applies its own removal stops; what waited on it hears ErrStopped, after the change committed.
    expect(outcomeUnknown(answer('etcdserver: server stopped'))).toBe(true);
    expect(outcomeUnknown(answer('etcdserver: unhealthy cluster'))).toBe(false);
    expect(outcomeUnknown(answer('etcdserver: re-configuration failed due to not enough started members'))).toBe(false);
    expect(outcomeUnknown({ error: 'etcdserver: member not found', code: 5 })).toBe(false);
    expect(outcomeUnknown({})).toBe(false);
  });
});
