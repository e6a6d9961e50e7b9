#!/usr/bin/env node
/**
 * `rift-node --config cluster.json --id n1 [--unsafe-...]`: one Raft KV node.
 *
 * Exit codes: 0 clean shutdown (SIGTERM/SIGINT), 1 internal error (an
 * assertion: the node refuses to continue with broken invariants), 2 bad
 * arguments or config, 3 the stored log is corrupt (refuses to start rather
 * than silently drop committed entries), 6 removed from the cluster (a
 * committed configuration no longer includes this node), 7 the disk refused
 * an operation (ENOSPC, EROFS, EIO: not damaged data; fix the disk and
 * restart; node/exit-codes.ts).
 */
import { createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ConfigError, loadConfig, peerAddress } from './config.js';
import { addressBook, leaseProblem, type ClusterConfig, type ReadMode } from './config-types.js';
import {
  unsafeConflict,
  unsafeFlagsFromArgs,
  unsafeParseArgsOptions,
  unsafeReadModeMismatch,
  unsafeUsageLines,
  type UnsafeFlags,
} from './unsafe-flags.js';
import { NodeHost, SnapshotRestoreError } from './host.js';
import { AdjustableClock } from './clock/adjustable-clock.js';
import { UdpTransport } from './transport/udp.js';
import { KeyRing } from './transport/keys.js';
import { NodeEndpoint } from './transport/node-endpoint.js';
import { IncarnationError, nextIncarnation } from './incarnation.js';
import { bootstrapChangedMessage, checkBootstrapRecord, type BootstrapCheck } from './bootstrap-record.js';
import { diskErrorCode, nodeFs, openMemoryStorage, pageCacheFs, SnapshotUnusableError, StorageCorruptionError } from './storage/index.js';
import { recoverNodeState } from './snapshot/recover.js';
import { defaultStreamerOptions } from './snapshot/streamer.js';
import { emptySnapshotStart, type SnapshotStart } from './snapshot/local-snapshots.js';
import { defaultSnapshotting } from './config-types.js';
import type { ControlReply, ControlRequest } from './protocol.js';
import { UNSENDABLE_MARK } from './log-marks.js';
import { NODE_EXIT } from './exit-codes.js';
import { RecordingProbe } from './latency-recorder.js';
import { worthLogging } from './util/worth-logging.js';
import { runQueueWaitMs } from './util/schedstat.js';

const usage = `usage: rift-node --config FILE --id ID [options]
       rift-node admin add|promote|remove ID | status --config FILE   (rift-node admin --help)

  --config FILE              cluster configuration (JSON): nodes, dataDir, timeouts, peerSecret, clientSecret
  --id ID                    this node's id (one of the config's nodes, or of its spareNodes with --join)
  --join                     join a running cluster as a new member with empty state: the id is a spare
                             identity (the config's spareNodes); the node waits, without campaigning,
                             until \`rift-node admin add ID\` makes it a learner and the leader catches
                             it up (README "Membership"). Keep the flag on restarts.
  --read-mode MODE           readindex (default, from the config) or lease
  --seed N                   seed for election jitter (default: random)
  --snapshot-every-entries N snapshot the state machine and compact the log every N applied
                             entries (overrides the config's snapshotEveryEntries; default
                             ${defaultSnapshotting.snapshotEveryEntries}, or every ${defaultSnapshotting.snapshotEveryBytes / (1024 * 1024)} MiB of entries;
                             0 = never: the log grows without bound)
  --snapshot-trailing-entries N  entries kept before a snapshot for slow followers (overrides
                             snapshotTrailingEntries; default ${defaultSnapshotting.snapshotTrailingEntries})
  --help                     show this help

Testing (safe: the node stays correct):
  --page-cache-crash-model   keep written data in this process until its fsync, so that
                             SIGKILL loses unsynced writes as a power failure does
                             (the test harness's kill and disk nemeses use it)
  --latency-trace DIR        record when each write and read passes each stage (monotonic,
                             this process's clock) and write the marks to DIR/<id>.trace at
                             shutdown (npm run bench -- latency; off by default)
  --control-fd N             the test harness's control channel on a host it reaches over ssh:
                             requests (JSON lines: clock, status) on standard input, answers
                             as JSON lines on file descriptor N; standard input ending is the
                             harness gone (the node shuts down). Without it, only a parent
                             process's IPC channel controls it; never a network port

Deliberately unsafe flags (for testing the harness; never in production):
${unsafeUsageLines(27).join('\n')}

Exit codes: 0 clean shutdown, 1 internal error, 2 bad arguments or config, 3 corrupt storage,
6 removed from the cluster (a committed configuration no longer includes this node; its data
directory is intact: restart it and \`rift-node admin add\` it to bring it back as the same id),
7 the disk refused an operation (ENOSPC, EROFS, EIO: not damage to the stored data; free space or
make the file system writable, then restart on the same data directory).
`;

/**
 * What exit 3 (damaged storage) tells the operator to do: never wipe the data
 * and restart under the same identity (an empty voter may vote twice in a
 * term it already voted in, §5.2), but replace the node (README "Replacing a
 * node that lost its disk").
 */
const replaceAdvice =
  "if this node's data cannot be repaired, do not wipe it and restart as the same id: replace the node " +
  '(README "Replacing a node that lost its disk": `rift-node admin remove ID`, then start a NEW id from ' +
  'spareNodes with --join and empty storage, `rift-node admin add NEW`, wait until it caught up, `rift-node admin promote NEW`)';

/**
 * The one line for a disk operation that failed (NODE_EXIT.diskFailed): what failed, and that the data is not
 * known damaged, so the remedy is the disk, not replacing the node.
 */
function diskFailedMessage(what: string, error: unknown, code: string): string {
  const remedy =
    code === 'ENOSPC' || code === 'EDQUOT'
      ? 'free space on that file system'
      : code === 'EROFS'
        ? 'make that file system writable again'
        : 'check the disk and the file system (and the kernel log)';
  return (
    `${what}: ${(error as Error).message}\n` +
    `the disk refused an operation (${code}); this is not damage to the stored data: ${remedy}, then restart this node ` +
    'on the same data directory (recovery keeps every write that was durable; do not wipe it or replace the node for this)'
  );
}

/** Exits with NODE_EXIT.diskFailed and its one line when `error` is a disk's refusal (diskErrorCode); else returns. */
function failIfDiskRefused(what: string, error: unknown): void {
  const code = diskErrorCode(error);
  if (code !== null) fail(NODE_EXIT.diskFailed, diskFailedMessage(what, error, code));
}

function fail(code: number, message: string): never {
  process.stderr.write(`rift-node: ${message}\n`);
  process.exit(code);
}

interface Args {
  configPath: string;
  id: string;
  unsafe: UnsafeFlags;
  readMode: ReadMode | null;
  seed: number;
  /** --page-cache-crash-model (node/storage/page-cache-fs.ts). */
  pageCacheCrashModel: boolean;
  /** --snapshot-every-entries: overrides the config's snapshotEveryEntries (null: never snapshot); undefined when absent. */
  snapshotEveryEntries: number | null | undefined;
  /** --snapshot-trailing-entries: overrides the config's snapshotTrailingEntries. */
  snapshotTrailingEntries: number | null;
  /** --latency-trace DIR (node/latency-probe.ts): the file the marks go to; null when off. */
  latencyTrace: string | null;
  /** --join: a spare identity joining a running cluster (HostOptions.joining). */
  join: boolean;
  /** --control-fd N: control requests on stdin, answers on fd N (the harness on --hosts); null: IPC only. */
  controlFd: number | null;
}

function parseCommandLine(argv: string[]): Args {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        config: { type: 'string' },
        id: { type: 'string' },
        'read-mode': { type: 'string' },
        seed: { type: 'string' },
        'snapshot-every-entries': { type: 'string' },
        'snapshot-trailing-entries': { type: 'string' },
        'page-cache-crash-model': { type: 'boolean' },
        'latency-trace': { type: 'string' },
        join: { type: 'boolean' },
        'control-fd': { type: 'string' },
        help: { type: 'boolean' },
        ...unsafeParseArgsOptions(),
      },
    });
  } catch (error) {
    fail(NODE_EXIT.usage, `${(error as Error).message}\n${usage}`);
  }
  const v = parsed.values;
  if (v.help === true) {
    process.stdout.write(usage);
    process.exit(NODE_EXIT.clean);
  }
  if (v.config === undefined) fail(NODE_EXIT.usage, `--config is required\n${usage}`);
  if (v.id === undefined) fail(NODE_EXIT.usage, `--id is required\n${usage}`);
  const unsafe = unsafeFlagsFromArgs(v);
  if (!unsafe.ok) fail(NODE_EXIT.usage, unsafe.error);
  let readMode: ReadMode | null = null;
  if (v['read-mode'] !== undefined) {
    if (v['read-mode'] !== 'readindex' && v['read-mode'] !== 'lease')
      fail(NODE_EXIT.usage, `--read-mode must be readindex or lease (got ${v['read-mode']})`);
    readMode = v['read-mode'];
  }
  let seed = randomBytes(4).readUInt32LE(0);
  if (v.seed !== undefined) {
    seed = Number(v.seed);
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff)
      fail(NODE_EXIT.usage, `--seed must be an integer in 0..4294967295 (got ${v.seed})`);
  }
  let snapshotEveryEntries: number | null | undefined;
  if (v['snapshot-every-entries'] !== undefined) {
    const every = Number(v['snapshot-every-entries']);
    if (!Number.isSafeInteger(every) || every < 0)
      fail(NODE_EXIT.usage, `--snapshot-every-entries must be a non-negative integer (got ${v['snapshot-every-entries']})`);
    snapshotEveryEntries = every === 0 ? null : every;
  }
  let snapshotTrailingEntries: number | null = null;
  if (v['snapshot-trailing-entries'] !== undefined) {
    snapshotTrailingEntries = Number(v['snapshot-trailing-entries']);
    if (!Number.isSafeInteger(snapshotTrailingEntries) || snapshotTrailingEntries < 0)
      fail(NODE_EXIT.usage, `--snapshot-trailing-entries must be a non-negative integer (got ${v['snapshot-trailing-entries']})`);
  }
  let controlFd: number | null = null;
  if (v['control-fd'] !== undefined) {
    controlFd = Number(v['control-fd']);
    // 0-2 are the node's own standard streams (stdin carries the requests); a descriptor past 1023 is no pipe the harness made.
    if (!Number.isInteger(controlFd) || controlFd < 3 || controlFd > 1023)
      fail(NODE_EXIT.usage, `--control-fd must be an integer in 3..1023 (got ${v['control-fd']})`);
  }
  const conflict = unsafeConflict(unsafe.flags);
  if (conflict !== null) fail(NODE_EXIT.usage, conflict);
  return {
    configPath: v.config,
    id: v.id,
    readMode,
    seed,
    unsafe: unsafe.flags,
    pageCacheCrashModel: v['page-cache-crash-model'] === true,
    snapshotEveryEntries,
    snapshotTrailingEntries,
    latencyTrace: v['latency-trace'] === undefined ? null : join(v['latency-trace'], `${v.id}.trace`),
    join: v.join === true,
    controlFd,
  };
}

async function main(): Promise<void> {
  if (process.argv[2] === 'admin') {
    // `rift-node admin ...`: the membership command (node/admin-cli.ts), not a node.
    const { runAdminCli } = await import('./admin-cli.js');
    process.exit(await runAdminCli(process.argv.slice(3), process.stdout, process.stderr));
  }
  const args = parseCommandLine(process.argv.slice(2));
  let config: ClusterConfig;
  try {
    config = loadConfig(args.configPath);
  } catch (error) {
    if (error instanceof ConfigError) fail(NODE_EXIT.usage, error.message);
    throw error;
  }
  if (args.readMode !== null) config = { ...config, readMode: args.readMode };
  if (config.readMode === 'lease' && args.unsafe.leaseMs === null) {
    const problem = leaseProblem(config);
    if (problem !== null) fail(NODE_EXIT.usage, problem);
  }
  if (args.snapshotEveryEntries !== undefined) config = { ...config, snapshotEveryEntries: args.snapshotEveryEntries };
  if (args.snapshotTrailingEntries !== null) config = { ...config, snapshotTrailingEntries: args.snapshotTrailingEntries };
  const self = addressBook(config).find((n) => n.id === args.id);
  if (self === undefined)
    fail(
      NODE_EXIT.usage,
      `--id "${args.id}" is not in the config (nodes: ${config.nodes.map((n) => n.id).join(', ')}; spareNodes: ${(config.spareNodes ?? []).map((n) => n.id).join(', ') || 'none'})`,
    );
  const isSpare = !config.nodes.some((n) => n.id === args.id);
  // A bootstrap node never joins (it is a voter of the bootstrap configuration), and a spare
  // never starts as one: it has no configuration until the cluster's leader gives it one.
  if (args.join && !isSpare)
    fail(
      NODE_EXIT.usage,
      `--join: "${args.id}" is a bootstrap node (the config's nodes), not a spare identity; a node that joins is a new ` +
        `identity listed in spareNodes (to replace a node, see README "Replacing a node that lost its disk")`,
    );
  if (!args.join && isSpare)
    fail(
      NODE_EXIT.usage,
      `"${args.id}" is a spare identity (the config's spareNodes): start it with --join, then add it with \`rift-node admin add ${args.id}\``,
    );
  const mismatch = unsafeReadModeMismatch(args.unsafe, config.readMode);
  if (mismatch !== null) fail(NODE_EXIT.usage, mismatch);

  const started = Date.now();
  const probe = args.latencyTrace === null ? null : new RecordingProbe();
  const log = (line: string): void => {
    process.stderr.write(`${new Date().toISOString()} ${args.id} ${line}\n`);
  };
  const dataDir = join(config.dataDir, args.id);

  // The socket first: an address this node cannot listen on is a configuration
  // problem (exit 2, one line), found before anything touches the disk.
  // Datagrams that arrive before the endpoint exists are dropped (as lost).
  let endpoint: NodeEndpoint | null = null;
  let transport: UdpTransport;
  try {
    transport = await UdpTransport.open({
      host: self.host,
      port: self.port,
      log,
      onDatagram:
        probe === null
          ? (datagram, fromHost, fromPort) => endpoint?.receive(datagram, fromHost, fromPort)
          : (datagram, fromHost, fromPort) => {
              probe.arrivedAtMs = probe.now();
              endpoint?.receive(datagram, fromHost, fromPort);
            },
    });
  } catch (error) {
    fail(NODE_EXIT.usage, `${bindProblem(error, self.host, self.port)}; check the host and port of node ${args.id} in ${args.configPath}`);
  }
  const liveTransport = transport;

  let opened;
  let snapshots: SnapshotStart;
  try {
    if (args.unsafe.memoryLog) {
      opened = openMemoryStorage();
      snapshots = emptySnapshotStart();
    } else {
      mkdirSync(dataDir, { recursive: true });
      // The log and the newest usable snapshot, made to agree (node/snapshot/recover.ts).
      opened = await recoverNodeState(dataDir, {
        log,
        lazyFsync: args.unsafe.ackBeforeFsync,
        tornTailAlwaysDropped: args.unsafe.tornTailDropped,
        ignoreWriteErrors: args.unsafe.ignoreDiskErrors,
        fs: args.pageCacheCrashModel ? pageCacheFs(nodeFs) : nodeFs,
      });
      snapshots = opened.snapshots;
      for (const note of opened.notes) log(`snapshots: ${note}`);
    }
  } catch (error) {
    if (error instanceof StorageCorruptionError || error instanceof SnapshotUnusableError)
      fail(NODE_EXIT.corruptStorage, `refusing to start: ${error.message}\n${replaceAdvice}`);
    failIfDiskRefused(`cannot open storage in ${dataDir}`, error);
    fail(NODE_EXIT.usage, `cannot open storage in ${dataDir}: ${(error as Error).message}`);
  }
  const { storage, stored } = opened;
  if ('recovery' in opened) log(`recovered ${JSON.stringify(opened.recovery)}`);
  if (snapshots.restored !== null)
    log(
      `restoring snapshot ${snapshots.restored.meta.index}@${snapshots.restored.meta.term} (${snapshots.restored.data.length} bytes), then ${stored.entries.length} log entries`,
    );

  // `nodes` is the bootstrap configuration: an edited list would change the membership behind the log's back
  // (node/bootstrap-record.ts). Checked before anything is sent.
  if (!args.unsafe.memoryLog) {
    let check: BootstrapCheck;
    try {
      check = checkBootstrapRecord(
        dataDir,
        config.nodes.map((n) => n.id),
      );
    } catch (error) {
      failIfDiskRefused(`cannot read or write the bootstrap record in ${dataDir}`, error);
      fail(NODE_EXIT.usage, `cannot read or write the bootstrap record in ${dataDir}: ${(error as Error).message}`);
    }
    if (check.kind === 'changed') fail(NODE_EXIT.usage, `refusing to start: ${bootstrapChangedMessage(check)}`);
    if (check.kind === 'recorded')
      log(`recorded the bootstrap configuration (${config.nodes.map((n) => n.id).join(',')}) in ${check.file}`);
  }

  // Before anything is sent: peers refuse datagrams from an earlier incarnation (node/incarnation.ts).
  // --unsafe-memory-log keeps nothing on disk, so there the clock alone orders incarnations.
  let incarnation: number;
  try {
    incarnation = args.unsafe.memoryLog ? Date.now() : nextIncarnation(dataDir, Date.now());
  } catch (error) {
    if (error instanceof IncarnationError) fail(NODE_EXIT.corruptStorage, `refusing to start: ${error.message}\n${replaceAdvice}`);
    failIfDiskRefused('cannot start', error);
    fail(NODE_EXIT.usage, `cannot start: ${(error as Error).message}`);
  }

  // A member whose identity this node's config file does not list (the file was not updated on
  // every node before the member was added) cannot be reached: say so, sparingly, and carry on
  // (the rest of the cluster still forms its majorities).
  let unaddressed = 0;
  // Looked up once per peer: the config does not change while the node runs, and this is on every datagram's path.
  const addresses = new Map<string, { host: string; port: number }>();
  const addressOf = (to: string): { host: string; port: number } | null => {
    const known = addresses.get(to);
    if (known !== undefined) return known;
    try {
      const address = peerAddress(config, args.id, to);
      addresses.set(to, address);
      return address;
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      if (worthLogging(++unaddressed))
        log(`cannot send to ${to} (#${unaddressed}): it is a member, but ${args.configPath} gives it no address (add it to spareNodes)`);
      return null;
    }
  };

  const clock = new AdjustableClock();
  let host: NodeHost | null = null;
  const liveEndpoint = new NodeEndpoint({
    id: args.id,
    cluster: config.cluster,
    // The address book: every identity this node may ever hear from or send to; whom it hears
    // right now follows the configuration (NodeHost calls setPeers).
    nodeIds: addressBook(config).map((n) => n.id),
    keys: KeyRing.forNode(
      config.peerSecret,
      config.clientSecret,
      addressBook(config).map((n) => n.id),
    ),
    incarnation,
    clientFreshnessMs: config.clientFreshnessMs,
    tokenKey: randomBytes(32),
    // The system clock, not the adjustable one the harness skews: freshness is judged against real time.
    wallClockMs: () => Date.now(),
    toPeer: (to, datagram) => {
      const address = addressOf(to);
      if (address !== null) liveTransport.send(address.host, address.port, datagram);
    },
    toAddress: (toHost, toPort, datagram) => {
      liveTransport.send(toHost, toPort, datagram);
    },
    onPeerMessage: (message) => host?.onPeerMessage(message),
    onClientMessage: (message, replyTo) => host?.onClientMessage(message, replyTo),
    onSnapshotMessage: (message) => host?.onSnapshotMessage(message),
    onAdminMessage: (message, replyTo) => host?.onAdminMessage(message, replyTo),
    redirect: (request) => host?.redirectOf(request) ?? null,
    log,
    unsafeMembersOnly: args.unsafe.membersOnlyTransport,
  });
  endpoint = liveEndpoint;
  try {
    host = new NodeHost({
      id: args.id,
      config,
      unsafe: args.unsafe,
      stored,
      seed: args.seed,
      snapshots,
      joining: args.join,
      ...(config.snapshotChunkBytes === undefined
        ? {}
        : { snapshotTransfer: { streamer: { ...defaultStreamerOptions, chunkBytes: config.snapshotChunkBytes } } }),
      io: {
        storage,
        clock,
        log,
        droppedCounts: () => liveEndpoint.droppedCounts(),
        defer: (fn) => setImmediate(fn),
        runQueueWaitMs: () => runQueueWaitMs('self'),
        ...(probe === null ? {} : { probe }),
        sendPeer: (to, message) => {
          const sent = liveEndpoint.sendPeer(to, message);
          // The core bounds AppendEntries by bytes, so an unsendable message is a bug.
          if (!sent.ok) log(`${UNSENDABLE_MARK}: send to ${to} failed: ${sent.reason}: ${sent.detail}`);
        },
        sendClient: (to, message) => {
          const sent = liveEndpoint.sendClient(to, message);
          if (sent !== null && !sent.ok) log(`${UNSENDABLE_MARK}: reply to ${to.host}:${to.port} failed: ${sent.reason}: ${sent.detail}`);
        },
        sendAdmin: (to, message) => {
          const sent = liveEndpoint.sendAdmin(to, message);
          if (sent !== null && !sent.ok)
            log(`${UNSENDABLE_MARK}: admin reply to ${to.host}:${to.port} failed: ${sent.reason}: ${sent.detail}`);
        },
        setPeers: (peers) => liveEndpoint.setPeers(peers),
        sendSnapshotMessage: (to, message) => {
          const sent = liveEndpoint.sendSnapshotMessage(to, message);
          // The streamer sizes chunks to fit a datagram, so an unsendable one is a bug.
          if (!sent.ok) log(`${UNSENDABLE_MARK}: snapshot ${message.type} to ${to} failed: ${sent.reason}: ${sent.detail}`);
        },
      },
    });
  } catch (error) {
    if (error instanceof SnapshotRestoreError) fail(NODE_EXIT.corruptStorage, `refusing to start: ${error.message}\n${replaceAdvice}`);
    throw error;
  }
  const liveHost = host;
  liveHost.onFatal = (error) => {
    // A write, fsync, rename or snapshot save the disk refused (storage.ts: fatal): one clear line, its own exit code.
    const code = diskErrorCode(error);
    if (code !== null) {
      log(`FATAL: ${diskFailedMessage('stopping', error, code).replace('\n', '\n  ')}`);
      process.exit(NODE_EXIT.diskFailed);
    }
    log(`FATAL: ${(error as Error).stack ?? String(error)}`);
    process.exit(NODE_EXIT.internal);
  };
  liveHost.start();
  liveEndpoint.start();
  log(
    `listening on ${self.host}:${self.port} (incarnation ${incarnation}; startup ${Date.now() - started} ms; unsafe: ${liveHost.status().unsafe.join(' ') || 'none'}` +
      `${args.pageCacheCrashModel ? '; page-cache crash model: unsynced writes die with the process' : ''})`,
  );

  let shuttingDown = false;
  const shutdown = (signal: string, exitCode: number = NODE_EXIT.clean): void => {
    if (shuttingDown) return;
    shuttingDown = true;
    log(`${signal}: shutting down`);
    liveHost.stop();
    if (probe !== null && args.latencyTrace !== null) {
      try {
        probe.dump(args.latencyTrace);
      } catch (error) {
        log(`cannot write the latency trace to ${args.latencyTrace}: ${(error as Error).message}`);
      }
    }
    Promise.all([liveTransport.close(), storage.close()]).then(
      () => process.exit(exitCode),
      (error: unknown) => {
        log(`error closing storage: ${(error as Error).message}`);
        process.exit(NODE_EXIT.internal);
      },
    );
  };
  // Dissertation §4.2.2: a removed server shuts down (the host logged why); its storage is closed cleanly first.
  liveHost.onRemoved = () => shutdown(`NODE_EXIT.removed (${NODE_EXIT.removed})`, NODE_EXIT.removed);
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));

  // Control channel: only the spawning process can adjust the clock or ask
  // for status (never a network port, so nothing on the network can): its
  // IPC channel, or on a host the harness reaches over ssh, the pipes its
  // lease script made (--control-fd: requests on stdin, answers on fd N).
  const control = (request: ControlRequest, send: (reply: ControlReply) => void): void => {
    if (typeof request !== 'object' || request === null) return;
    if (request.type === 'clock') {
      const adjusted = clock.adjust({
        ...(request.offsetMs !== undefined ? { offsetMs: request.offsetMs } : {}),
        ...(request.rate !== undefined ? { rate: request.rate } : {}),
        ...(request.bumpMs !== undefined ? { bumpMs: request.bumpMs } : {}),
      });
      if (!adjusted.ok) log(`clock control rejected: ${adjusted.error}`);
      const state = clock.state();
      log(`clock offsetMs=${state.offsetMs} rate=${state.rate}`);
      send({ type: 'clock_ok', ...state });
    } else if (request.type === 'status') {
      send({ type: 'status', status: liveHost.status() });
    } else if (request.type === 'state_digest') {
      send({ type: 'state_digest', digest: liveHost.stateDigest() });
    }
  };
  if (typeof process.send === 'function') {
    const send = (reply: ControlReply): void => {
      process.send?.(reply);
    };
    process.on('message', (raw: unknown) => control(raw as ControlRequest, send));
    // The harness died: do not linger as an orphan.
    process.on('disconnect', () => shutdown('parent disconnected'));
    send({ type: 'ready', id: args.id, host: self.host, port: liveTransport.address().port });
  }
  if (args.controlFd !== null) {
    const answers = createWriteStream('', { fd: args.controlFd });
    // The harness's end closed: it is gone (the lease kills the node too), nothing to answer.
    answers.on('error', () => undefined);
    const send = (reply: ControlReply): void => {
      answers.write(`${JSON.stringify(reply)}\n`);
    };
    const requests = createInterface({ input: process.stdin, crlfDelay: Infinity });
    requests.on('line', (line) => {
      let request: unknown;
      try {
        request = JSON.parse(line);
      } catch {
        log(`control: ignored a request that is not JSON (${line.length} bytes)`);
        return;
      }
      control(request as ControlRequest, send);
    });
    // The harness died (its session's input ended): do not linger as an orphan.
    requests.on('close', () => shutdown('control input ended'));
    send({ type: 'ready', id: args.id, host: self.host, port: liveTransport.address().port });
  }
}

/** One line on why the node's socket could not be bound: a configuration problem (exit 2), never a stack trace. */
function bindProblem(error: unknown, host: string, port: number): string {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  const code = (cause as NodeJS.ErrnoException | null)?.code;
  const where = `${host}:${port}`;
  switch (code) {
    case 'EADDRINUSE':
      return `cannot listen on UDP ${where}: the port is in use (another node or process holds it)`;
    case 'EADDRNOTAVAIL':
      return `cannot listen on UDP ${where}: ${host} is not an address of this machine`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
    case 'EAI_FAIL':
      return `cannot listen on UDP ${where}: the host name ${JSON.stringify(host)} does not resolve (${code})`;
    case 'EACCES':
      return `cannot listen on UDP ${where}: permission denied (ports below 1024 need privileges)`;
    default:
      return `cannot listen on UDP ${where}: ${cause instanceof Error ? cause.message : String(cause)}`;
  }
}

process.on('uncaughtException', (error) => {
  process.stderr.write(`rift-node: internal error: ${error.stack ?? String(error)}\n`);
  process.exit(NODE_EXIT.internal);
});

main().catch((error: unknown) => {
  process.stderr.write(`rift-node: internal error: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(NODE_EXIT.internal);
});
