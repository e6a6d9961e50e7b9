/**
 * `rift-node admin add|promote|remove ID | status --config FILE`: membership
 * changes from the command line (README "Membership"). Authenticated with
 * the admin key, derived from the config's peer secret (node/transport/keys.ts),
 * so it runs where a node's config file is; a client secret cannot do this.
 *
 * Every problem is one line on stderr and an exit code from
 * node/exit-codes.ts ADMIN_EXIT, never a stack trace.
 */
import { parseArgs } from 'node:util';
import type { Writable } from 'node:stream';
import { ConfigError, loadConfig } from './config.js';
import { addressBook, type ClusterConfig } from './config-types.js';
import { ADMIN_EXIT, type AdminExitCode } from './exit-codes.js';
import { RiftAdmin, type AdminResult } from './admin-client.js';
import type { MembershipStatus } from './protocol.js';

export const adminUsage = `usage: rift-node admin COMMAND --config FILE [options]

Commands (each answered by the leader; a change returns once it is committed):
  add ID        make ID a learner: a spare identity (the config's spareNodes) already
                started with \`rift-node --config FILE --id ID --join\`
  promote ID    make the learner ID a voter; refused until it has caught up
                (its last catch-up round took under an election timeout, thesis 4.2.1)
  remove ID     take ID (a voter or a learner) out of the configuration
  status        print the configuration (voters, learners) and each member's match index

Options:
  --config FILE       the cluster configuration (its peerSecret authenticates the command)
  --node ID           the node to ask first (default: the first in the config)
  --timeout-ms N      give up after N ms (default 10000)
  --wait-caught-up    promote: retry while the learner has not caught up, until the timeout
  --json              status: print the JSON the leader sent
  --help              show this help

Exit codes: 0 done, 1 internal error, 2 bad arguments or config, 4 refused (not done),
5 no leader answered in time or the outcome is unknown (run status).
`;

const defaultTimeoutMs = 10_000;

type Parsed =
  | { readonly kind: 'help' }
  | {
      readonly kind: 'run';
      readonly command: 'add' | 'promote' | 'remove' | 'status';
      readonly node: string | null;
      readonly configPath: string;
      readonly first: string | null;
      readonly timeoutMs: number;
      readonly waitCaughtUp: boolean;
      readonly json: boolean;
    };

class UsageError extends Error {}

const nodeIdPattern = /^[A-Za-z0-9_-]{1,32}$/;

function parse(argv: readonly string[]): Parsed {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: true,
      options: {
        config: { type: 'string' },
        node: { type: 'string' },
        'timeout-ms': { type: 'string' },
        'wait-caught-up': { type: 'boolean' },
        json: { type: 'boolean' },
        help: { type: 'boolean' },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const v = parsed.values;
  if (v.help === true) return { kind: 'help' };
  const [command, node, ...extra] = parsed.positionals;
  if (command === undefined) throw new UsageError('a command is required: add, promote, remove or status');
  if (command !== 'add' && command !== 'promote' && command !== 'remove' && command !== 'status')
    throw new UsageError(`unknown command ${JSON.stringify(command)}: expected add, promote, remove or status`);
  if (command === 'status') {
    if (node !== undefined) throw new UsageError(`status takes no node id (got ${JSON.stringify(node)})`);
  } else {
    if (node === undefined) throw new UsageError(`${command} needs the id of a node`);
    if (!nodeIdPattern.test(node)) throw new UsageError(`${JSON.stringify(node)} is not a node id (${nodeIdPattern})`);
  }
  if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
  if (v.config === undefined) throw new UsageError('--config is required');
  let timeoutMs = defaultTimeoutMs;
  if (v['timeout-ms'] !== undefined) {
    timeoutMs = Number(v['timeout-ms']);
    if (!Number.isSafeInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > 3_600_000)
      throw new UsageError(`--timeout-ms must be an integer in 1..3600000 (got ${v['timeout-ms']})`);
  }
  if (v['wait-caught-up'] === true && command !== 'promote') throw new UsageError('--wait-caught-up goes with promote only');
  if (v.json === true && command !== 'status') throw new UsageError('--json goes with status only');
  return {
    kind: 'run',
    command,
    node: node ?? null,
    configPath: v.config,
    first: v.node ?? null,
    timeoutMs,
    waitCaughtUp: v['wait-caught-up'] === true,
    json: v.json === true,
  };
}

/** Runs the admin command; returns the exit code. Writes nothing but lines to `out` and `err`. */
export async function runAdminCli(argv: readonly string[], out: Writable, err: Writable): Promise<AdminExitCode> {
  let args: Parsed;
  try {
    args = parse(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    err.write(`rift-node admin: ${error.message}\n${adminUsage}`);
    return ADMIN_EXIT.usage;
  }
  if (args.kind === 'help') {
    out.write(adminUsage);
    return ADMIN_EXIT.ok;
  }
  let config: ClusterConfig;
  try {
    config = loadConfig(args.configPath);
  } catch (error) {
    if (error instanceof ConfigError) {
      err.write(`rift-node admin: ${error.message}\n`);
      return ADMIN_EXIT.usage;
    }
    throw error;
  }
  const book = addressBook(config).map((n) => n.id);
  if (args.first !== null && !book.includes(args.first)) {
    err.write(`rift-node admin: --node ${args.first} is not in ${args.configPath} (nodes and spareNodes: ${book.join(', ')})\n`);
    return ADMIN_EXIT.usage;
  }
  if (args.command === 'add' && args.node !== null && !book.includes(args.node)) {
    err.write(
      `rift-node admin: ${args.node} has no address in ${args.configPath}: list it (id, host, port) in "spareNodes" ` +
        `of every node's config file first (README "Membership")\n`,
    );
    return ADMIN_EXIT.usage;
  }
  const admin = new RiftAdmin({
    config,
    timeoutMs: args.timeoutMs,
    ...(args.first !== null ? { initialNode: args.first } : {}),
  });
  try {
    const deadline = Date.now() + args.timeoutMs;
    let result: AdminResult;
    for (;;) {
      result = await run(admin, args.command, args.node);
      // --wait-caught-up: a promotion refused only because the learner is still catching up is asked again.
      const retry =
        args.waitCaughtUp && result.type === 'refused' && result.error.includes('has not caught up') && Date.now() + 200 < deadline;
      if (!retry) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    switch (result.type) {
      case 'ok':
        if (args.command === 'status' && args.json) out.write(`${JSON.stringify(result.membership, null, 2)}\n`);
        else {
          if (args.command !== 'status') out.write(`${args.command} ${args.node}: committed\n`);
          out.write(formatMembership(result.membership));
        }
        return ADMIN_EXIT.ok;
      case 'refused':
        err.write(`rift-node admin: ${args.command}${args.node === null ? '' : ` ${args.node}`} refused: ${result.error}\n`);
        return ADMIN_EXIT.refused;
      case 'indeterminate':
        err.write(`rift-node admin: ${args.command}${args.node === null ? '' : ` ${args.node}`}: ${result.error}\n`);
        return ADMIN_EXIT.unavailable;
      default: {
        const never: never = result;
        return never;
      }
    }
  } finally {
    admin.close();
  }
}

function run(admin: RiftAdmin, command: 'add' | 'promote' | 'remove' | 'status', node: string | null): Promise<AdminResult> {
  switch (command) {
    case 'status':
      return admin.status();
    case 'add':
      return admin.add(node ?? '');
    case 'promote':
      return admin.promote(node ?? '');
    case 'remove':
      return admin.remove(node ?? '');
    default: {
      const never: never = command;
      return never;
    }
  }
}

/** The leader's view as a few aligned lines. */
export function formatMembership(m: MembershipStatus): string {
  const lines = [
    `leader ${m.leaderId}  term ${m.term}  commitIndex ${m.commitIndex}  lastLogIndex ${m.lastLogIndex}  ` +
      `configuration ${m.configurationCommitted ? 'committed' : 'not yet committed (a change is in flight)'}`,
    `voters   ${m.voters.join(' ') || '-'}`,
    `learners ${m.learners.join(' ') || '-'}`,
    `${'member'.padEnd(12)} ${'role'.padEnd(8)} ${'matchIndex'.padStart(10)}  caughtUp`,
  ];
  for (const member of m.members) {
    const note = member.id === m.leaderId ? ' (leader)' : '';
    lines.push(
      `${member.id.padEnd(12)} ${member.role.padEnd(8)} ${String(member.matchIndex).padStart(10)}  ${member.caughtUp ? 'yes' : 'no'}${note}`,
    );
  }
  return `${lines.join('\n')}\n`;
}
