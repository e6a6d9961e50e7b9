/**
 * `rift-node admin` on bad input (issue 18): one line naming the problem and
 * the documented exit code (node/exit-codes.ts ADMIN_EXIT), never a stack
 * trace, and nothing sent. The commands against a live cluster are in
 * test/node/membership.integration.test.ts.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { formatMembership, runAdminCli } from '../../node/admin-cli.js';
import { ADMIN_EXIT } from '../../node/exit-codes.js';

const dir = mkdtempSync(join(tmpdir(), 'rift-admin-cli-'));
const configPath = join(dir, 'cluster.json');
writeFileSync(
  configPath,
  JSON.stringify({
    cluster: 'admin-cli',
    peerSecret: 'admin-cli-peer-secret-0123456789',
    clientSecret: 'admin-cli-client-secret-0123456789',
    dataDir: dir,
    nodes: [{ id: 'n1', host: '127.0.0.1', port: 7001 }],
    spareNodes: [{ id: 'n2', host: '127.0.0.1', port: 7002 }],
  }),
);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const sink = (append: (s: string) => void) =>
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        append(chunk.toString());
        done();
      },
    });
  const code = await runAdminCli(
    argv,
    sink((s) => (out += s)),
    sink((s) => (err += s)),
  );
  return { code, out, err };
}

describe('rift-node admin: bad input', () => {
  it.each([
    [[], /a command is required/],
    [['frob', '--config', configPath], /unknown command "frob"/],
    [['add', '--config', configPath], /add needs the id of a node/],
    [['add', 'bad id!', '--config', configPath], /is not a node id/],
    [['status', 'n1', '--config', configPath], /status takes no node id/],
    [['add', 'n2'], /--config is required/],
    [['add', 'n2', '--config', configPath, '--timeout-ms', 'soon'], /--timeout-ms must be an integer/],
    [['add', 'n2', '--config', configPath, '--wait-caught-up'], /--wait-caught-up goes with promote only/],
    [['add', 'n2', '--config', configPath, '--bogus'], /Unknown option '--bogus'/],
    [['add', 'n9', '--config', configPath], /n9 has no address in .*spareNodes/],
    [['status', '--config', configPath, '--node', 'n7'], /--node n7 is not in/],
    [['status', '--config', join(dir, 'missing.json')], /cannot read config file/],
  ])('%j: exit 2, one clear line, no stack trace', async (argv, message) => {
    const { code, err, out } = await run(...argv);
    expect(code).toBe(ADMIN_EXIT.usage);
    expect(err).toMatch(message);
    expect(err.split('\n')[0]).toMatch(/^rift-node admin: /);
    expect(err).not.toMatch(/\n\s+at /);
    expect(out).toBe('');
  });

  it('--help prints the usage and exits 0', async () => {
    const { code, out } = await run('--help');
    expect(code).toBe(ADMIN_EXIT.ok);
    expect(out).toMatch(/usage: rift-node admin COMMAND/);
  });

  it('no node answering: exit 5 (unavailable), not a refusal', async () => {
    // Nothing listens on these ports: every attempt goes unanswered until the deadline.
    const { code, err } = await run('status', '--config', configPath, '--timeout-ms', '300');
    expect(code).toBe(ADMIN_EXIT.unavailable);
    expect(err).toMatch(/no answer within 300 ms/);
  });

  it('status prints the configuration and each member with its match index', () => {
    const text = formatMembership({
      leaderId: 'n1',
      term: 3,
      commitIndex: 10,
      lastLogIndex: 11,
      voters: ['n1', 'n2'],
      learners: ['n3'],
      configurationCommitted: false,
      members: [
        { id: 'n1', role: 'voter', matchIndex: 11, caughtUp: true },
        { id: 'n2', role: 'voter', matchIndex: 10, caughtUp: true },
        { id: 'n3', role: 'learner', matchIndex: 4, caughtUp: false },
      ],
    });
    expect(text).toMatch(/^leader n1 {2}term 3 {2}commitIndex 10 {2}lastLogIndex 11 {2}configuration not yet committed/);
    expect(text).toMatch(/\nvoters {3}n1 n2\nlearners n3\n/);
    expect(text).toMatch(/\nn3 +learner +4 {2}no\n/);
    expect(text).toMatch(/\nn1 +voter +11 {2}yes \(leader\)\n/);
  });
});
