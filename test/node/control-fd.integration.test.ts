/**
 * `rift-node --control-fd N` (node/main.ts): the harness's control channel
 * where no IPC channel reaches (a node on a host driven over ssh, harness
 * db/rift/remote-rift-db.ts): requests as JSON lines on standard input,
 * answers as JSON lines on descriptor N; bad lines are ignored, never fatal;
 * the input ending is the harness gone, and the node shuts down cleanly.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pickFreeUdpPorts } from '../../harness/ports.js';
import { NODE_EXIT } from '../../node/exit-codes.js';
import type { ControlReply } from '../../node/protocol.js';
import { ensureBuilt, repoRoot } from '../support/build.js';

const CONTROL_FD = 4;

describe('rift-node --control-fd', () => {
  let dir: string;
  let configPath: string;
  const main = (): string => join(repoRoot, 'dist', 'node', 'main.js');
  beforeAll(async () => {
    ensureBuilt();
    dir = mkdtempSync(join(tmpdir(), 'rift-control-'));
    const [port] = await pickFreeUdpPorts(1);
    configPath = join(dir, 'cluster.json');
    writeFileSync(
      configPath,
      JSON.stringify({
        cluster: 'control-test',
        peerSecret: 'control-test-peer-secret-0123456789',
        clientSecret: 'control-test-client-secret-0123456789',
        dataDir: join(dir, 'data'),
        nodes: [{ id: 'n1', host: '127.0.0.1', port }],
      }),
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('answers clock, status and digest requests on its descriptor, ignores bad lines, and stops when its input ends', async () => {
    const child: ChildProcess = spawn(
      process.execPath,
      [main(), '--config', configPath, '--id', 'n1', '--control-fd', String(CONTROL_FD)],
      {
        stdio: ['pipe', 'ignore', 'pipe', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const replies: ControlReply[] = [];
    const waiters: (() => void)[] = [];
    createInterface({ input: child.stdio[CONTROL_FD] as Readable }).on('line', (line) => {
      replies.push(JSON.parse(line) as ControlReply);
      for (const w of waiters.splice(0)) w();
    });
    const next = async (type: ControlReply['type'], deadlineMs = 10_000): Promise<ControlReply> => {
      const until = Date.now() + deadlineMs;
      for (;;) {
        const found = replies.findIndex((r) => r.type === type);
        if (found >= 0) return replies.splice(found, 1)[0]!;
        if (Date.now() > until) throw new Error(`no ${type} answer within ${deadlineMs} ms; stderr: ${stderr}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 100);
        });
      }
    };
    const stdin = child.stdin as Writable;
    const send = (line: string): void => void stdin.write(`${line}\n`);

    expect(await next('ready')).toMatchObject({ type: 'ready', id: 'n1' });
    send(JSON.stringify({ type: 'clock', offsetMs: 250, rate: 1.5 }));
    expect(await next('clock_ok')).toMatchObject({ offsetMs: 250, rate: 1.5 });
    // Not JSON, not an object, an unknown type, a clock change out of range: ignored or refused, the node goes on.
    send('not json');
    send('42');
    send(JSON.stringify({ type: 'reboot' }));
    send(JSON.stringify({ type: 'clock', rate: -3 }));
    expect(await next('clock_ok')).toMatchObject({ offsetMs: 250, rate: 1.5 });
    send(JSON.stringify({ type: 'status' }));
    expect(await next('status')).toMatchObject({ type: 'status', status: expect.objectContaining({ id: 'n1' }) });
    send(JSON.stringify({ type: 'state_digest' }));
    expect(await next('state_digest')).toMatchObject({
      type: 'state_digest',
      digest: expect.objectContaining({ appliedIndex: expect.any(Number) }),
    });
    expect(stderr).toContain('control: ignored a request that is not JSON');
    stdin.end(); // the harness is gone
    expect(await exited).toBe(NODE_EXIT.clean);
    expect(stderr).toContain('control input ended');
  });

  it.each(['2', '0', 'x', '4.5', '5000'])('--control-fd %s: exit 2 with one line', (value) => {
    const r = spawnSync(process.execPath, [main(), '--config', configPath, '--id', 'n1', '--control-fd', value], { encoding: 'utf8' });
    expect(r.status).toBe(NODE_EXIT.usage);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/--control-fd must be an integer in 3\.\.1023/);
  });
});
