/**
 * A disk that refuses an operation (ENOSPC, EROFS, EIO) is not damaged data:
 * the node exits with NODE_EXIT.diskFailed (7) and one line that says so,
 * never with NODE_EXIT.corruptStorage (3) and the advice to replace the node,
 * and it restarts on the same directory once the disk is fixed.
 *
 * Found by the full-disk probe (real processes on tiny tmpfs mounts): a node
 * restarted on a full disk could open its log but not write its incarnation,
 * and exited 3 with "refusing to start ... replace the node" though nothing
 * stored was damaged. The first test reproduces that without root: the
 * incarnation's temp file is a symlink to /dev/full, whose writes fail with
 * ENOSPC. The second (root and tmpfs only, skipped elsewhere) fills a real
 * tmpfs under a running single-node cluster.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, unlinkSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NODE_EXIT } from '../../node/exit-codes.js';
import { RiftClient } from '../../node/client.js';
import { NodeExitedBeforeReady, NodeProcess } from '../../harness/node-process.js';
import { pickFreeUdpPorts } from '../../harness/ports.js';
import { ensureBuilt, repoRoot } from '../support/build.js';
import { canMountTmpfs } from '../support/tmpfs.js';

async function singleNode(dir: string, dataDir: string): Promise<{ node: NodeProcess; config: object }> {
  const [port] = await pickFreeUdpPorts(1);
  const config = {
    cluster: 'disk-failed-test',
    peerSecret: 'disk-failed-test-peer-secret-0123456789',
    clientSecret: 'disk-failed-test-client-secret-0123456789',
    dataDir,
    nodes: [{ id: 'n1', host: '127.0.0.1', port: port! }],
  };
  const configPath = join(dir, 'cluster.json');
  writeFileSync(configPath, JSON.stringify(config));
  const node = new NodeProcess('n1', {
    command: process.execPath,
    args: [join(repoRoot, 'dist', 'node', 'main.js'), '--config', configPath, '--id', 'n1'],
    logPath: join(dir, 'n1.log'),
  });
  return { node, config };
}

describe('a disk that refuses a write at start: exit 7 (disk failed), not 3 (corrupt storage)', () => {
  let dir: string;
  beforeAll(() => {
    ensureBuilt();
    dir = mkdtempSync(join(tmpdir(), 'rift-disk-failed-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.skipIf(!existsSync('/dev/full'))(
    'the incarnation cannot be written (ENOSPC): exit 7 with a clear line; once the disk takes writes the node starts',
    async () => {
      const { node } = await singleNode(dir, join(dir, 'data'));
      try {
        await node.start(20_000);
        await node.kill();
        // The next start writes <dataDir>/n1/incarnation.tmp: make every write to it fail with ENOSPC.
        const tmp = join(dir, 'data', 'n1', 'incarnation.tmp');
        rmSync(tmp, { force: true });
        symlinkSync('/dev/full', tmp);
        const error = await node.start(20_000).then(
          () => null,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(NodeExitedBeforeReady);
        const message = (error as Error).message;
        expect((error as NodeExitedBeforeReady).exitCode, message).toBe(NODE_EXIT.diskFailed);
        expect(message).toMatch(/cannot persist the incarnation in .*ENOSPC/);
        expect(message).toMatch(/the disk refused an operation \(ENOSPC\); this is not damage to the stored data: free space/);
        expect(message).not.toMatch(/refusing to start|replace the node \(README/);
        unlinkSync(tmp);
        await node.start(20_000);
      } finally {
        await node.kill();
      }
    },
    60_000,
  );
});

describe('a disk that fills under a running node (root: a 1 MiB tmpfs)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rift-disk-full-'));
  const mountPoint = join(dir, 'data', 'n1');
  mkdirSync(mountPoint, { recursive: true });
  const mountable = canMountTmpfs(mountPoint);
  let mounted = false;
  beforeAll(() => {
    ensureBuilt();
    if (mountable) {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mountPoint]);
      mounted = true;
    }
  });
  afterAll(() => {
    if (mounted) execFileSync('umount', [mountPoint]);
    rmSync(dir, { recursive: true, force: true });
  });

  it.skipIf(!mountable)(
    'the node stops with exit 7 and one line (no stack), and after the disk grows every acknowledged write reads back',
    async () => {
      const { node, config } = await singleNode(dir, join(dir, 'data'));
      let clients = 0;
      const client = (): RiftClient =>
        new RiftClient({ config: config as never, clientId: `disk-full-${process.pid}-${++clients}`, timeoutMs: 2000 });
      const acked = new Map<string, string>();
      try {
        await node.start(20_000);
        const writer = client();
        for (let i = 0; i < 2000 && node.isAlive(); i++) {
          const value = `v${i}-${'x'.repeat(4000)}`;
          const r = await writer.put(`k${i}`, value);
          if (r.type === 'ok') acked.set(`k${i}`, value);
        }
        writer.close();
        expect(node.isAlive(), 'the node stopped once its disk was full').toBe(false);
        expect(node.exitCode, node.exitDescription ?? '').toBe(NODE_EXIT.diskFailed);
        const log = readFileSync(join(dir, 'n1.log'), 'utf8');
        expect(log).toMatch(/FATAL: stopping: storage write to .*raft\.log at offset \d+ failed: ENOSPC/);
        expect(log).not.toMatch(/^\s+at /m);
        expect(acked.size).toBeGreaterThan(50);

        execFileSync('mount', ['-o', 'remount,size=16m', mountPoint]);
        await node.start(20_000);
        const reader = client();
        for (const [key, value] of acked) {
          const r = await reader.get(key);
          expect(r, key).toEqual({ type: 'ok', value });
        }
        reader.close();
      } finally {
        await node.kill();
      }
    },
    120_000,
  );
});
