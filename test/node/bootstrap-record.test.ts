/**
 * The bootstrap record (node/bootstrap-record.ts): a node refuses to start
 * when the config file's `nodes` list changed since it first started, as
 * that would change the membership its majorities are counted over without
 * going through the log (dissertation §4.1). Unit tests on a temporary
 * directory, then a real `rift-node` process.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOOTSTRAP_RECORD_FILE, bootstrapChangedMessage, checkBootstrapRecord } from '../../node/bootstrap-record.js';
import { NODE_EXIT } from '../../node/exit-codes.js';
import { NodeExitedBeforeReady, NodeProcess } from '../../harness/node-process.js';
import { pickFreeUdpPorts } from '../../harness/ports.js';
import { ensureBuilt, repoRoot } from '../support/build.js';

describe('checkBootstrapRecord', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'rift-bootstrap-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('records the ids on first start, then accepts the same set in any order and refuses any other', () => {
    const sub = mkdtempSync(join(dir, 'n1-'));
    expect(checkBootstrapRecord(sub, ['n3', 'n1', 'n2'])).toEqual({ kind: 'recorded', file: join(sub, BOOTSTRAP_RECORD_FILE) });
    expect(readFileSync(join(sub, BOOTSTRAP_RECORD_FILE), 'utf8')).toBe('n1,n2,n3\n');
    expect(checkBootstrapRecord(sub, ['n1', 'n2', 'n3'])).toEqual({ kind: 'matches' });
    expect(checkBootstrapRecord(sub, ['n2', 'n3', 'n1'])).toEqual({ kind: 'matches' });
    const fewer = checkBootstrapRecord(sub, ['n1', 'n2']);
    expect(fewer).toEqual({ kind: 'changed', file: join(sub, BOOTSTRAP_RECORD_FILE), recorded: 'n1,n2,n3', now: 'n1,n2' });
    expect(checkBootstrapRecord(sub, ['n1', 'n2', 'n4'])).toMatchObject({ kind: 'changed', recorded: 'n1,n2,n3', now: 'n1,n2,n4' });
    // A refusal changes nothing: the original list is still accepted.
    expect(checkBootstrapRecord(sub, ['n1', 'n2', 'n3'])).toEqual({ kind: 'matches' });
    if (fewer.kind === 'changed') expect(bootstrapChangedMessage(fewer)).toMatch(/"nodes" \(n1,n2\) differ .* \(n1,n2,n3, recorded in /);
  });

  it('throws on a directory it cannot read or write (not a silent pass)', () => {
    expect(() => checkBootstrapRecord(join(dir, 'missing', 'deeper'), ['n1'])).toThrow(/ENOENT/);
  });
});

describe('rift-node refuses an edited "nodes" list with exit 2 (a real process)', () => {
  let dir: string;
  beforeAll(() => {
    ensureBuilt();
    dir = mkdtempSync(join(tmpdir(), 'rift-bootstrap-node-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('starts, is refused with n3 dropped from "nodes", starts again with the list restored (spares and addresses may change)', async () => {
    const ports = await pickFreeUdpPorts(5);
    const address = (i: number, port = ports[i]!) => ({ id: `n${i + 1}`, host: '127.0.0.1', port });
    const configPath = join(dir, 'cluster.json');
    const base = {
      cluster: 'bootstrap-record-test',
      peerSecret: 'bootstrap-test-peer-secret-0123456789',
      clientSecret: 'bootstrap-test-client-secret-0123456789',
      dataDir: join(dir, 'data'),
      nodes: [address(0), address(1), address(2)],
    };
    const write = (config: object): void => writeFileSync(configPath, JSON.stringify(config));
    const node = new NodeProcess('n1', {
      command: process.execPath,
      args: [join(repoRoot, 'dist', 'node', 'main.js'), '--config', configPath, '--id', 'n1'],
      logPath: join(dir, 'n1.log'),
    });
    try {
      write(base);
      await node.start(20_000);
      await node.kill();

      write({ ...base, nodes: [address(0), address(1)] });
      const error = await node.start(20_000).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(NodeExitedBeforeReady);
      expect((error as NodeExitedBeforeReady).exitCode).toBe(NODE_EXIT.usage);
      expect((error as Error).message).toMatch(/refusing to start: the config file's "nodes" \(n1,n2\) differ .*\(n1,n2,n3, recorded in/);

      // The same ids with n3 at a new port and a spare added: the bootstrap configuration is unchanged.
      write({ ...base, nodes: [address(0), address(1), { ...address(2), port: ports[4]! }], spareNodes: [address(3)] });
      await node.start(20_000);
    } finally {
      await node.kill();
    }
  }, 60_000);
});
