/**
 * `npm run jepsen` options: parsed with node:util parseArgs (strict), every
 * value validated with one clear message. Names follow Jepsen's CLI
 * (`--time-limit`, `--concurrency 2n`, `--test-count`, `--leave-db-running`)
 * and Maelstrom's (`--node-count`, `--rate`, `--nemesis`, `--nemesis-interval`).
 * A bad argument is a UsageError; the CLI prints its message plus "see --help"
 * and exits 254 (Jepsen's exit status for invalid arguments).
 */
import { randomInt } from 'node:crypto';
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { clockFaults, defaultClockFaults, type ClockFault } from './nemesis/kinds/clock.js';
import { faketimeUnavailableReason } from './db/faketime-clock.js';
import { dataMountsUnavailableReason } from './data-mounts.js';
import type { ClockVia } from './db/system.js';
import { defaultDiskFaults, diskFaults, type DiskFault } from './nemesis/kinds/disk.js';
import { defaultLossPct } from './nemesis/kinds/loss.js';
import {
  clientLossDirections,
  defaultClientLossDirections,
  defaultClientLossPct,
  type ClientLossDirection,
} from './nemesis/kinds/client-loss.js';
import { defaultReplayModes } from './nemesis/kinds/replay.js';
import { resizeSpares } from './nemesis/kinds/resize.js';
import { replayModes, type ReplayMode } from './net/replay-stage.js';
import { defaultPartitionShapes, partitionShapes, type PartitionShape } from './nemesis/kinds/partition.js';
import {
  kindsTakingTarget,
  kindsTakingTargets,
  nemesisKinds,
  nemesisOptions,
  nemesisTable,
  orList,
  targetsHelp,
  type NemesisKind,
} from './nemesis/registry.js';
import { defaultTargets, nodeTargets, targetNeeds, type NodeTarget } from './nemesis/targets.js';
import type { LeaseTimings } from './nemesis/context.js';
import type { ValueForm } from '../checker/values.js';
import { configDefaults, defaultTimings, electionTicksMinOf, safeLeaseTicks } from '../node/config-types.js';
import { defaultStreamerOptions } from '../node/snapshot/streamer.js';
import { dbNames, systems, type DbName } from './db/systems.js';
import { parseHostList, readHostsFile, type HostsSpec } from './remote/hosts.js';
import {
  noUnsafeFlags,
  unsafeConflict,
  unsafeFlagSpec,
  unsafeFlagSpecs,
  unsafeReadModeMismatch,
  type UnsafeFlags,
} from '../node/unsafe-flags.js';

/**
 * relay: rift's UDP relay; netns: namespaces + nftables (root); loopback: no
 * fault layer (a TCP system without root); hosts: nftables on each host of
 * --hosts (implied by it).
 */
export type NetMode = 'relay' | 'netns' | 'loopback' | 'hosts';
export type ReadModeOption = 'readindex' | 'lease';

export interface JepsenOptions {
  /** The system under test (db/systems.ts). */
  readonly db: DbName;
  /** --hosts: run one node per host over SSH; null: on this machine. */
  readonly hosts: HostsSpec | null;
  /** etcd only: reads are serializable (served locally, may be stale): the known weakness the harness must catch. */
  readonly etcdSerializableReads: boolean;
  /** Cluster size (Maelstrom's --node-count). */
  readonly nodes: number;
  /** Seconds of workload (setup, final reads and the check come on top). */
  readonly timeLimitS: number;
  /** Logical client workers (Jepsen threads); each runs one process at a time. */
  readonly concurrency: number;
  /** Client operations per second, all workers together. */
  readonly rate: number;
  /** Keys live at once. */
  readonly keys: number;
  /** A key retires after this many operations and a fresh key replaces it. */
  readonly opsPerKey: number;
  /** Fault kinds; empty = no faults. Canonical order (names the test). */
  readonly nemesis: readonly NemesisKind[];
  /** The same kinds in the order listed: the schedule staggers their starts in this order. */
  readonly nemesisOrder: readonly NemesisKind[];
  /** What clock faults do (bump, rate, slow, fast). */
  readonly clockFaults: readonly ClockFault[];
  /** Where clock faults go: the node's own clock, or libfaketime's wall-clock offsets (--clock-via). */
  readonly clockVia: ClockVia;
  /** Loss faults draw their rate from this range, in percent. */
  readonly lossPct: { readonly min: number; readonly max: number };
  /** Client-loss faults draw their rate from this range, in percent. */
  readonly clientLossPct: { readonly min: number; readonly max: number };
  /** What client-loss faults drop (replies, both). */
  readonly clientLossDirections: readonly ClientLossDirection[];
  /** What replay faults do (replay, hold). */
  readonly replayModes: readonly ReplayMode[];
  /** --pause-wake-alone: pauses cut the nodes off and keep them cut off this long after waking, ms; null: off. */
  readonly pauseWakeAloneMs: { readonly min: number; readonly max: number } | null;
  /** What disk faults do to a killed node's log (one of disk.ts diskFaults). */
  readonly diskFaults: readonly DiskFault[];
  readonly nemesisIntervalS: number;
  readonly partitionShapes: readonly PartitionShape[];
  /** Node specs for kill, pause and clock faults (Jepsen's db-nodes specs). */
  readonly targets: readonly NodeTarget[];
  readonly seed: number;
  /** True when the user chose the seed (test.json records it either way). */
  readonly seedGiven: boolean;
  readonly testCount: number;
  readonly net: NetMode;
  readonly readMode: ReadModeOption;
  /**
   * rift: snapshot every N applied entries (and keep min(N, the default) trailing entries), so kills and partitions land during
   * snapshots and InstallSnapshot streams; null: the node's default.
   */
  readonly snapshotEveryEntries: number | null;
  /** rift: InstallSnapshot chunks of N bytes (ClusterConfig.snapshotChunkBytes), so a small snapshot is a stream of many datagrams; null: the node's default. */
  readonly snapshotChunkBytes: number | null;
  /** rift: the nodes' session table bound (ClusterConfig.maxSessions), so sessions are evicted while clients retry; null: the node's default. */
  readonly maxSessions: number | null;
  /** Extra flags for every node (only the node's --unsafe-* flags are accepted). */
  readonly nodeFlags: readonly string[];
  /** Store directory (runs go to <store>/<test-name>/<timestamp>/). */
  readonly store: string;
  readonly leaveRunning: boolean;
  readonly testName: string;
  readonly quiet: boolean;
  readonly json: boolean;
  /** Client deadline for one operation, retries included. */
  readonly opTimeoutMs: number;
  /**
   * How clients write values (checker/values.ts): plain digits, or most
   * padded to the value limit with characters whose stored form is larger
   * (log entries near the datagram limit).
   */
  readonly values: ValueForm['name'];
  /** The nodes' election timeout range and heartbeat interval (default: node/config-types.ts defaultTimings). */
  readonly electionTimeoutMs: readonly [number, number];
  readonly heartbeatIntervalMs: number;
  /** Checker wall-clock budget; past it the verdict is unknown. */
  readonly checkTimeLimitS: number;
}

export type ParseOutcome = { readonly kind: 'help' } | { readonly kind: 'run'; readonly options: JepsenOptions };

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A run of T seconds gets the default interval T / 6.5 when that is shorter: three cycles fit (6.25 intervals). */
const cyclesDivisor = 6.5;

export const defaults = {
  db: 'rift' as DbName,
  sshUser: 'root',
  sshPort: 22,
  remoteDir: '/tmp/rift-jepsen',
  nodes: 5,
  timeLimitS: 30,
  concurrency: '2n',
  rate: 100,
  keys: 5,
  opsPerKey: 100,
  nemesis: 'none',
  /** 4 s: three fault cycles of each kind fit a default 30 s run (issue 20), each far longer than an election. */
  nemesisIntervalS: 4,
  partition: defaultPartitionShapes.join(','),
  testCount: 1,
  net: 'relay' as NetMode,
  readMode: 'readindex' as ReadModeOption,
  store: 'histories',
  opTimeoutMs: 1500,
  values: 'plain' as ValueForm['name'],
  checkTimeLimitS: 60,
} as const;

/**
 * The node's deliberately unsafe flags, as `--node-flag` accepts them (from
 * node/unsafe-flags.ts); anything else is rejected here, not by 5 crashing nodes.
 */
const nodeFlagForms = unsafeFlagSpecs.map((spec) => (spec.kind === 'boolean' ? spec.flag : `${spec.flag}=${spec.valueName}`));
const nodeFlagHelp = unsafeFlagSpecs
  .map((spec, i) => `${nodeFlagForms[i]}${spec.requiresReadMode === undefined ? '' : ` (with --read-mode ${spec.requiresReadMode})`}`)
  .join(',\n                            ');

/** One option in the help: the flag and argument, then its text wrapped beside it, then its default. */
function helpEntry(usage: string, text: string, defaultText?: string): string[] {
  const indent = ' '.repeat(26);
  const words = text.split(' ');
  const lines: string[] = [];
  let line = '';
  for (const w of words) {
    if (line !== '' && line.length + 1 + w.length > 52) {
      lines.push(line);
      line = w;
    } else line = line === '' ? w : `${line} ${w}`;
  }
  lines.push(line);
  if (defaultText !== undefined) lines.push(`(default ${defaultText})`);
  return lines.map((l, i) => (i === 0 ? `  ${usage.padEnd(22)}  ${l}` : `${indent}${l}`));
}

/**
 * The Faults part of the help, from the table of fault kinds: the kinds,
 * then --targets and each kind's own options where the first kind that
 * takes them stands.
 */
function faultsHelp(): string {
  const out = [
    ...helpEntry(
      '--nemesis LIST',
      `comma list of: none, ${nemesisKinds.join(', ')}, all; kinds start in the order listed, staggered by interval / kinds (clock,partition: clock first)`,
      defaults.nemesis,
    ),
    ...nemesisKinds.map((k) => `${' '.repeat(26)}${k.padEnd(10)} ${nemesisTable[k].summary}`),
    ...helpEntry(
      '--nemesis-interval S',
      'seconds between fault starts/stops, 0.1..3600',
      `min(${defaults.nemesisIntervalS}, time-limit / ${cyclesDivisor}): 3 fault cycles`,
    ),
  ];
  let targetsShown = false;
  const options = nemesisOptions();
  for (const k of nemesisKinds) {
    if (!targetsShown && nemesisTable[k].targets.length > 0) {
      out.push(...helpEntry('--targets LIST', targetsHelp(), defaultTargets.join(',')));
      targetsShown = true;
    }
    for (const { option, kinds } of options) {
      if (kinds[0] === k) out.push(...helpEntry(`--${option.flag} ${option.arg}`, option.help, option.defaultText));
    }
  }
  return out.join('\n');
}

export const HELP = `Usage: npm run jepsen -- [options]

Starts a cluster (rift, or another system: --db) in a fresh run directory,
on loopback or on your hosts (--hosts), runs a read/write/cas workload
against it while a nemesis injects faults, stops everything, checks the
history for linearizability and prints the verdict.

Exit status: 0 valid, 1 invalid, 2 unknown, 254 bad arguments, 255 crash
(with --test-count: the worst run; invalid ranks above unknown).

Cluster
  --db NAME               the system under test: ${dbNames.join(' | ')}           (default ${defaults.db})
                          rift: this repository's node; every fault kind.
                          etcd: Debian's etcd-server (etcd 3.4), a register
                          over its v3 JSON gateway; partition, kill,
                          pause, membership
  --etcd-serializable-reads
                          etcd: serializable reads (served locally, may be
                          stale: the weakness the harness must catch)
  --nodes N               number of nodes, 1..9                        (default ${defaults.nodes})
  --net relay|netns|loopback
                          relay: in-process UDP relay, no root (rift);
                          netns: network namespaces + nftables (root; TCP
                          systems such as etcd need it for partitions);
                          loopback: no fault layer (etcd without root)
                                                  (default rift: ${defaults.net}; etcd: netns as root, else loopback)
  --read-mode MODE        rift: readindex | lease                       (default ${defaults.readMode})
  --clock-via node|faketime
                          where clock faults go: node, the node's own clock
                          (rift: jumps and rates); faketime, libfaketime's
                          wall-clock offsets (jumps only; for systems with no
                          clock of their own that ask the C library for the
                          time; not Go binaries)       (default node)
  --snapshot-every-entries N
                          rift: snapshot every N applied entries (small N:
                          faults land during snapshots and InstallSnapshot)
                                                  (default: the node's, 10000)
  --snapshot-chunk-bytes N
                          rift: stream InstallSnapshot in chunks of N bytes
                          (small N: a small snapshot is many datagrams for the
                          faults to lose, repeat and reorder)
                                                  (default: the node's, 61440)
  --max-sessions N        rift: the nodes' client session table bound (small
                          N: sessions are evicted while their clients retry,
                          and the writes of an evicted session are refused as
                          session_expired)          (default: the node's, 10000)
  --node-flag=FLAG        rift: extra node flag, repeatable; one of (see rift-node --help)
                            ${nodeFlagHelp}

Hosts (one node per host, over SSH; without them, this machine)
  --hosts H1,H2,...       host names or addresses, 1..9; implies the
                          hosts' own nftables for partitions; partition,
                          kill, pause and membership (rift also: clock,
                          loss, disk, lease-restart, and resize, whose 2
                          spare identities run on the last 2 hosts
                          listed). rift with
                          --net relay: its peer datagrams go through the
                          relay on this machine (bound on the address the
                          hosts reach it on; IPv4), which carries
                          partitions and loss and adds delay, duplicate,
                          replay and relead, with the wire monitor
  --hosts-file FILE       the hosts, one per line (# comments)
  --ssh-user USER         login on every host                           (default ${defaults.sshUser})
  --ssh-key FILE          private key (ssh -i)                   (default: ssh's own and the agent)
  --ssh-port N            port of every host's sshd                      (default ${defaults.sshPort})
  --ssh-known-hosts FILE  accept only the host keys in FILE; without it,
                          <store>/known_hosts learns each key on first
                          sight and refuses any other later (accept-new)
  --remote-dir DIR        the harness's files on each host (removed after
                          the run)                                       (default ${defaults.remoteDir})
  Every host is probed first: a bad list, an unreachable host or a
  refused login is exit 254 and nothing starts anywhere.

Workload
  --time-limit S          seconds of workload, 1..86400                 (default ${defaults.timeLimitS})
  --concurrency N|Nn      client workers; "2n" = 2 x nodes, 1..1000     (default ${defaults.concurrency})
  --rate R                operations per second, all workers, 0.1..100000 (default ${defaults.rate})
  --keys K                keys live at once, 1..1000                    (default ${defaults.keys})
  --ops-per-key N         a key retires after N ops, 1..1000000          (default ${defaults.opsPerKey})
  --op-timeout MS         client deadline per op, 10..600000            (default ${defaults.opTimeoutMs})
  --values plain|large    plain: the values are digits; large: most are
                          padded to the value limit (${configDefaults.maxValueBytes} bytes) with
                          characters whose stored form is larger (control
                          characters, quotes): entries near the datagram
                          limit                                         (default ${defaults.values})
  --election-timeout A-B  nodes' election timeout range in ms            (default ${defaultTimings.electionTimeoutMsMin}-${defaultTimings.electionTimeoutMsMax})
  --heartbeat MS          nodes' heartbeat interval, <= A/2             (default ${defaultTimings.heartbeatIntervalMs})
  --seed N                integer 0..4294967295; same seed, same ops and
                          fault schedule                                 (default: random, printed)

Faults
${faultsHelp()}
  With kill or disk, nodes run with --page-cache-crash-model: a node's writes
  stay in its memory until its fsync, so a kill loses what it had not
  fsynced, as a power failure does (Jepsen's LazyFS, without FUSE).
Runs and output
  --test-count N          repeat N times with seeds seed, seed+1, ...   (default ${defaults.testCount})
  --test-name NAME        [A-Za-z0-9._-]+                               (default rift-<nemesis list>)
  --store DIR             store directory                               (default ${defaults.store})
  --check-time-limit S    checker budget; past it the verdict is unknown (default ${defaults.checkTimeLimitS})
  --leave-running         keep the cluster up after the run until Ctrl-C
  --quiet                 no progress line or log lines, just the summary
  --json                  print results.json on stdout (summary on stderr);
                          with --test-count > 1, one JSON line per run
  -h, --help              this help

Files: <store>/<test-name>/<timestamp>/{history.jsonl, history.txt,
results.json, test.json, harness.log, cluster.json, nodes/<id>.log};
<store>/latest points at the newest run. Re-check a run with
  npm run check -- <store>/latest/history.jsonl
`;

const optionSpec = {
  db: { type: 'string' },
  hosts: { type: 'string' },
  'hosts-file': { type: 'string' },
  'ssh-user': { type: 'string' },
  'ssh-key': { type: 'string' },
  'ssh-port': { type: 'string' },
  'ssh-known-hosts': { type: 'string' },
  'remote-dir': { type: 'string' },
  'etcd-serializable-reads': { type: 'boolean' },
  nodes: { type: 'string' },
  'node-count': { type: 'string' },
  'time-limit': { type: 'string' },
  concurrency: { type: 'string' },
  rate: { type: 'string' },
  keys: { type: 'string' },
  'ops-per-key': { type: 'string' },
  nemesis: { type: 'string' },
  'nemesis-interval': { type: 'string' },
  partition: { type: 'string' },
  targets: { type: 'string' },
  'clock-faults': { type: 'string' },
  'clock-via': { type: 'string' },
  'loss-rates': { type: 'string' },
  'client-loss-rates': { type: 'string' },
  'client-loss-directions': { type: 'string' },
  'replay-modes': { type: 'string' },
  'pause-wake-alone': { type: 'string' },
  'disk-faults': { type: 'string' },
  seed: { type: 'string' },
  'test-count': { type: 'string' },
  net: { type: 'string' },
  'read-mode': { type: 'string' },
  'snapshot-every-entries': { type: 'string' },
  'max-sessions': { type: 'string' },
  'snapshot-chunk-bytes': { type: 'string' },
  'node-flag': { type: 'string', multiple: true },
  store: { type: 'string' },
  'leave-running': { type: 'boolean' },
  'test-name': { type: 'string' },
  quiet: { type: 'boolean' },
  json: { type: 'boolean' },
  'op-timeout': { type: 'string' },
  values: { type: 'string' },
  'election-timeout': { type: 'string' },
  heartbeat: { type: 'string' },
  'check-time-limit': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function integerIn(flag: string, raw: string, min: number, max: number): number {
  const trimmed = raw.trim();
  if (!/^[+-]?\d+$/.test(trimmed)) throw new UsageError(`--${flag} must be an integer from ${min} to ${max}, got "${raw}"`);
  const n = Number(trimmed);
  if (!Number.isSafeInteger(n) || n < min || n > max)
    throw new UsageError(`--${flag} must be an integer from ${min} to ${max}, got ${raw}`);
  return n;
}

function numberIn(flag: string, raw: string, min: number, max: number): number {
  const trimmed = raw.trim();
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(trimmed))
    throw new UsageError(`--${flag} must be a number from ${min} to ${max}, got "${raw}"`);
  const n = Number(trimmed);
  if (!Number.isFinite(n) || n < min || n > max) throw new UsageError(`--${flag} must be a number from ${min} to ${max}, got ${raw}`);
  return n;
}

function oneOf<T extends string>(flag: string, raw: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(raw)) return raw as T;
  throw new UsageError(`--${flag} must be one of ${allowed.join(', ')}, got "${raw}"`);
}

function commaList(flag: string, raw: string): string[] {
  const items = raw.split(',').map((s) => s.trim());
  if (items.some((s) => s === '')) throw new UsageError(`--${flag} must be a comma-separated list without empty items, got "${raw}"`);
  return items;
}

/** `--concurrency 10` or `--concurrency 2n` (Jepsen: 2 × node count). */
export function parseConcurrency(raw: string, nodes: number): number {
  const m = /^\s*(\d+)\s*(n?)\s*$/.exec(raw);
  if (m === null) throw new UsageError(`--concurrency must be an integer or a multiple of the node count like "2n", got "${raw}"`);
  const n = Number(m[1]) * (m[2] === 'n' ? nodes : 1);
  if (!Number.isSafeInteger(n) || n < 1 || n > 1000)
    throw new UsageError(`--concurrency must come to 1..1000 workers, got ${raw}${m[2] === 'n' ? ` = ${n}` : ''}`);
  return n;
}

export function parseNemesis(raw: string): NemesisKind[] {
  const items = commaList('nemesis', raw);
  const kinds = new Set<NemesisKind>();
  for (const item of items) {
    if (item === 'none') continue;
    if (item === 'all') {
      for (const k of nemesisKinds) kinds.add(k);
      continue;
    }
    if (!(nemesisKinds as readonly string[]).includes(item)) {
      throw new UsageError(`--nemesis: unknown fault "${item}" (known: none, ${nemesisKinds.join(', ')}, all)`);
    }
    kinds.add(item as NemesisKind);
  }
  if (items.includes('none') && kinds.size > 0) throw new UsageError(`--nemesis: "none" cannot be combined with faults, got "${raw}"`);
  // Canonical order, so the default test name does not depend on how the list was typed.
  return nemesisKinds.filter((k) => kinds.has(k));
}

export function parsePartitionShapes(raw: string): PartitionShape[] {
  const shapes = new Set<PartitionShape>();
  for (const item of commaList('partition', raw)) {
    if (item === 'all') {
      for (const s of partitionShapes) shapes.add(s);
      continue;
    }
    if (!(partitionShapes as readonly string[]).includes(item)) {
      throw new UsageError(`--partition: unknown shape "${item}" (known: ${partitionShapes.join(', ')})`);
    }
    shapes.add(item as PartitionShape);
  }
  return partitionShapes.filter((s) => shapes.has(s));
}

/** The kinds in the order listed (duplicates dropped, `all` expanded in place); validated by parseNemesis first. */
export function parseNemesisOrder(raw: string): NemesisKind[] {
  const out: NemesisKind[] = [];
  for (const item of commaList('nemesis', raw)) {
    const kinds = item === 'all' ? nemesisKinds : item === 'none' ? [] : [item as NemesisKind];
    for (const k of kinds) if (!out.includes(k)) out.push(k);
  }
  return out;
}

export function parseClockFaults(raw: string | undefined): ClockFault[] {
  if (raw === undefined) return [...defaultClockFaults];
  const items = commaList('clock-faults', raw);
  for (const item of items) {
    if (!(clockFaults as readonly string[]).includes(item))
      throw new UsageError(`--clock-faults: unknown clock fault "${item}" (known: ${clockFaults.join(', ')})`);
  }
  return clockFaults.filter((c) => items.includes(c));
}

/** `LO-HI` or `MS`: a range of milliseconds 0..60000; null when not given. */
export function parseMsRange(flag: string, raw: string | undefined): { min: number; max: number } | null {
  if (raw === undefined) return null;
  const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(raw);
  const lo = m === null ? NaN : Number(m[1]);
  const hi = m === null ? NaN : Number(m[2] ?? m[1]);
  if (!(lo >= 0 && lo <= hi && hi <= 60_000))
    throw new UsageError(`--${flag} must be LO-HI or MS in milliseconds with 0 <= LO <= HI <= 60000, got "${raw}"`);
  return { min: lo, max: hi };
}

export function parseReplayModes(raw: string | undefined): ReplayMode[] {
  if (raw === undefined) return [...defaultReplayModes];
  const items = commaList('replay-modes', raw);
  for (const item of items) {
    if (!(replayModes as readonly string[]).includes(item))
      throw new UsageError(`--replay-modes: unknown replay mode "${item}" (known: ${replayModes.join(', ')})`);
  }
  return replayModes.filter((m) => items.includes(m));
}

export function parseClientLossDirections(raw: string | undefined): ClientLossDirection[] {
  if (raw === undefined) return [...defaultClientLossDirections];
  const items = commaList('client-loss-directions', raw);
  for (const item of items) {
    if (!(clientLossDirections as readonly string[]).includes(item))
      throw new UsageError(`--client-loss-directions: unknown direction "${item}" (known: ${clientLossDirections.join(', ')})`);
  }
  return clientLossDirections.filter((d) => items.includes(d));
}

export function parseDiskFaults(raw: string | undefined): DiskFault[] {
  if (raw === undefined) return [...defaultDiskFaults];
  const items = commaList('disk-faults', raw);
  for (const item of items) {
    if (!(diskFaults as readonly string[]).includes(item))
      throw new UsageError(`--disk-faults: unknown disk fault "${item}" (known: ${diskFaults.join(', ')})`);
  }
  return diskFaults.filter((d) => items.includes(d));
}

/** `--loss-rates 0.4-0.7` or `--loss-rates 0.5`: a range of fractions, as whole percents. */
export function parseLossRates(
  raw: string | undefined,
  flag = 'loss-rates',
  defaults: { readonly min: number; readonly max: number } = defaultLossPct,
): { min: number; max: number } {
  if (raw === undefined) return { ...defaults };
  const m = /^\s*(\d*\.?\d+)\s*(?:-\s*(\d*\.?\d+)\s*)?$/.exec(raw);
  const lo = m === null ? NaN : Number(m[1]);
  const hi = m === null ? NaN : Number(m[2] ?? m[1]);
  const pct = (x: number): number => Math.round(x * 100);
  if (!(lo >= 0 && hi <= 1 && lo <= hi) || Math.abs(pct(lo) - lo * 100) > 1e-6 || Math.abs(pct(hi) - hi * 100) > 1e-6) {
    throw new UsageError(`--${flag} must be LO-HI or RATE with 0 <= LO <= HI <= 1 in steps of 0.01, got "${raw}"`);
  }
  return { min: pct(lo), max: pct(hi) };
}

export function parseTargets(raw: string | undefined): NodeTarget[] {
  if (raw === undefined) return [...defaultTargets];
  const items = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (items.length === 0) throw new UsageError('--targets needs at least one of: ' + nodeTargets.join(', '));
  for (const item of items) {
    if (!(nodeTargets as readonly string[]).includes(item))
      throw new UsageError(`--targets: unknown target "${item}" (known: ${nodeTargets.join(', ')})`);
  }
  return nodeTargets.filter((t) => items.includes(t));
}

/** A kind option given without a kind that takes it: `--partition needs --nemesis partition (or all)`. */
function needsKind(flag: string, chosen: readonly NemesisKind[], takers: readonly NemesisKind[]): void {
  if (!chosen.some((k) => takers.includes(k))) throw new UsageError(`--${flag} needs --nemesis ${orList(takers)} (or all)`);
}

export function validateNodeFlag(flag: string): string {
  nodeFlagSetting(flag);
  return flag;
}

/** What one `--node-flag` value switches on (validated against node/unsafe-flags.ts). */
function nodeFlagSetting(flag: string): { readonly key: keyof UnsafeFlags; readonly value: boolean | number } {
  const boolean = unsafeFlagSpec(flag);
  if (boolean?.kind === 'boolean') return { key: boolean.key, value: true };
  const eq = flag.indexOf('=');
  const name = eq < 0 ? flag : flag.slice(0, eq);
  const valued = unsafeFlagSpec(name);
  if (valued?.kind === 'integer') {
    if (eq < 0) throw new UsageError(`--node-flag: ${name} needs a value, e.g. --node-flag=${name}=50`);
    return { key: valued.key, value: integerIn(`node-flag ${name}`, flag.slice(eq + 1), valued.min, valued.max) };
  }
  throw new UsageError(`--node-flag: unknown node flag "${flag}" (known: ${nodeFlagForms.join(', ')})`);
}

/** The unsafe flags a list of `--node-flag` values switches on; throws UsageError on an unknown or malformed one. */
export function unsafeFlagsOfNodeFlags(flags: readonly string[]): UnsafeFlags {
  const unsafe: Record<string, boolean | number | null> = { ...noUnsafeFlags };
  for (const flag of flags) {
    const { key, value } = nodeFlagSetting(flag);
    unsafe[key] = value;
  }
  return unsafe as UnsafeFlags;
}

/** --hosts / --hosts-file and the --ssh-* options; null without hosts (then no --ssh-* option may be given). */
function parseHosts(v: Record<string, string | boolean | string[] | undefined>): HostsSpec | null {
  const str = (k: string): string | undefined => (typeof v[k] === 'string' ? (v[k] as string) : undefined);
  const sshFlags = ['ssh-user', 'ssh-key', 'ssh-port', 'ssh-known-hosts', 'remote-dir'].filter((k) => str(k) !== undefined);
  const list = str('hosts');
  const file = str('hosts-file');
  if (list === undefined && file === undefined) {
    if (sshFlags.length > 0) throw new UsageError(`--${sshFlags[0]!} needs --hosts or --hosts-file`);
    return null;
  }
  if (list !== undefined && file !== undefined) throw new UsageError('give --hosts or --hosts-file, not both');
  let hosts: string[];
  try {
    hosts = list !== undefined ? parseHostList(list.split(','), '--hosts') : readHostsFile(file!);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const user = str('ssh-user') ?? defaults.sshUser;
  if (!/^[a-z_][a-z0-9_-]{0,31}$/i.test(user)) throw new UsageError(`--ssh-user must be a user name, got "${user}"`);
  const keyPath = str('ssh-key') ?? null;
  if (keyPath !== null && !existsSync(keyPath)) throw new UsageError(`--ssh-key ${keyPath}: no such file`);
  const knownHosts = str('ssh-known-hosts') ?? null;
  if (knownHosts !== null && !existsSync(knownHosts)) throw new UsageError(`--ssh-known-hosts ${knownHosts}: no such file`);
  const port = str('ssh-port') === undefined ? defaults.sshPort : integerIn('ssh-port', str('ssh-port')!, 1, 65_535);
  const remoteDir = str('remote-dir') ?? defaults.remoteDir;
  if (!remoteDir.startsWith('/') || /[\s'"$`\\]/.test(remoteDir) || remoteDir === '/')
    throw new UsageError(`--remote-dir must be an absolute path without spaces, quotes or shell characters, got "${remoteDir}"`);
  return { hosts, user, keyPath, port, knownHosts, remoteDir };
}

const testNamePattern = /^[A-Za-z0-9._-]{1,100}$/;

/**
 * Parses and validates the command line. Throws UsageError on anything bad.
 * `isRoot` is injectable for tests (netns needs root).
 */
export function parseOptions(argv: readonly string[], env: { isRoot?: boolean; randomSeed?: () => number } = {}): ParseOutcome {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: optionSpec, strict: true, allowPositionals: false });
  } catch (err) {
    // parseArgs' messages are clear but multi-line; keep the first line.
    const first = ((err as Error).message.split('\n')[0] ?? 'bad arguments').trim();
    const ambiguous = /^Option '(--[\w-]+)' argument is ambiguous/.exec(first);
    if (ambiguous !== null)
      throw new UsageError(`${ambiguous[1]}: a value starting with "-" must be attached with "=", e.g. ${ambiguous[1]}=-x`);
    throw new UsageError(first);
  }
  const v = parsed.values;
  if (v.help === true) return { kind: 'help' };
  const db = v.db === undefined ? defaults.db : oneOf<DbName>('db', v.db, dbNames);
  const system = systems[db];
  if (v['etcd-serializable-reads'] === true && db !== 'etcd') throw new UsageError('--etcd-serializable-reads needs --db etcd');

  if (v.nodes !== undefined && v['node-count'] !== undefined) throw new UsageError('give --nodes or --node-count, not both');
  const hosts = parseHosts(v);
  // On --hosts the system must be on the hosts (its setup checks each), not necessarily here.
  const unavailable = hosts === null ? system.unavailable() : null;
  if (unavailable !== null) throw new UsageError(`--db ${db}: ${unavailable}`);
  const nemesis = parseNemesis(v.nemesis ?? defaults.nemesis);
  // resize grows the cluster by spare identities: on --hosts they run on the last hosts of the list.
  const spareHosts = hosts !== null && nemesis.includes('resize') ? resizeSpares : 0;
  const nodesRaw = v.nodes ?? v['node-count'];
  const nodes =
    nodesRaw === undefined
      ? hosts !== null
        ? hosts.hosts.length - spareHosts
        : defaults.nodes
      : integerIn(v.nodes !== undefined ? 'nodes' : 'node-count', nodesRaw, 1, 9);
  if (hosts !== null && (nodes < 1 || nodes + spareHosts !== hosts.hosts.length))
    throw new UsageError(
      spareHosts > 0
        ? `--nemesis resize on --hosts: ${hosts.hosts.length} hosts for the nodes and ${spareHosts} spare identities; list ${spareHosts} hosts more than --nodes (the last ${spareHosts} run the spares)`
        : `--nodes ${nodes} with ${hosts.hosts.length} hosts: one node per host (leave --nodes out)`,
    );
  const timeLimitS = v['time-limit'] === undefined ? defaults.timeLimitS : numberIn('time-limit', v['time-limit'], 1, 86_400);
  const concurrency = parseConcurrency(v.concurrency ?? defaults.concurrency, nodes);
  const rate = v.rate === undefined ? defaults.rate : numberIn('rate', v.rate, 0.1, 100_000);
  const keys = v.keys === undefined ? defaults.keys : integerIn('keys', v.keys, 1, 1000);
  const opsPerKey = v['ops-per-key'] === undefined ? defaults.opsPerKey : integerIn('ops-per-key', v['ops-per-key'], 1, 1_000_000);
  for (const k of nemesis)
    if (!system.kinds.includes(k)) throw new UsageError(`--nemesis ${k}: --db ${db} cannot carry it (it takes ${system.kinds.join(', ')})`);
  const nemesisOrder = parseNemesisOrder(v.nemesis ?? defaults.nemesis);
  // Default: 4 s, but short runs get a shorter interval so they still see
  // three fault cycles (the first fault starts one interval in; cycle c
  // stops at (2c + 2) intervals + a quarter: three need 6.25 intervals).
  const nemesisIntervalS =
    v['nemesis-interval'] === undefined
      ? Math.min(defaults.nemesisIntervalS, Math.floor((timeLimitS / cyclesDivisor) * 10) / 10)
      : numberIn('nemesis-interval', v['nemesis-interval'], 0.1, 3600);
  if (nemesis.length > 0 && 2.25 * nemesisIntervalS >= timeLimitS) {
    throw new UsageError(
      `--nemesis-interval ${nemesisIntervalS} leaves no time for a fault in --time-limit ${timeLimitS} (the first fault starts one interval in; use an interval below ${(timeLimitS / 2.25).toFixed(1)} s)`,
    );
  }
  const shapes = parsePartitionShapes(v.partition ?? defaults.partition);
  const targets = parseTargets(v.targets);
  if (v.targets !== undefined) needsKind('targets', nemesis, kindsTakingTargets());
  let clockFaultModes = parseClockFaults(v['clock-faults']);
  const clockVia =
    v['clock-via'] === undefined ? (system.clockVia[0] ?? 'node') : oneOf<ClockVia>('clock-via', v['clock-via'], ['node', 'faketime']);
  if (v['clock-via'] !== undefined) {
    needsKind('clock-via', nemesis, ['clock']);
    if (!system.clockVia.includes(clockVia))
      throw new UsageError(
        `--clock-via ${clockVia}: --db ${db} carries clock faults ${system.clockVia.length === 0 ? 'in no way' : `via ${orList(system.clockVia)}`}`,
      );
  }
  if (clockVia === 'faketime') {
    if (hosts !== null) throw new UsageError('--clock-via faketime runs on this machine only, not on --hosts');
    const unavailable = faketimeUnavailableReason();
    if (unavailable !== null) throw new UsageError(`--clock-via faketime: ${unavailable}`);
    // libfaketime offsets the wall clock; a rate needs the node's own clock.
    if (v['clock-faults'] === undefined) clockFaultModes = ['bump'];
    else if (clockFaultModes.some((c) => c !== 'bump'))
      throw new UsageError(
        `--clock-via faketime moves the wall clock only: --clock-faults bump (${clockFaultModes.filter((c) => c !== 'bump').join(', ')} need the node's own clock)`,
      );
  }
  const lossPct = parseLossRates(v['loss-rates']);
  const clientLossPct = parseLossRates(v['client-loss-rates'], 'client-loss-rates', defaultClientLossPct);
  const clientLossDirectionList = parseClientLossDirections(v['client-loss-directions']);
  const replayModeList = parseReplayModes(v['replay-modes']);
  const pauseWakeAloneMs = parseMsRange('pause-wake-alone', v['pause-wake-alone']);
  if (pauseWakeAloneMs !== null && nemesis.includes('partition')) {
    throw new UsageError('--pause-wake-alone cuts the network itself: it cannot be combined with --nemesis partition (one cut at a time)');
  }
  const diskFaultModes = parseDiskFaults(v['disk-faults']);
  // Each kind's own options, in the order the table lists them, need a kind that takes them.
  for (const { option, kinds } of nemesisOptions())
    if (v[option.flag as keyof typeof v] !== undefined) needsKind(option.flag, nemesis, kinds);
  const seedGiven = v.seed !== undefined;
  const seed = v.seed === undefined ? (env.randomSeed ?? (() => randomInt(0, 2 ** 31)))() : integerIn('seed', v.seed, 0, 0xffff_ffff);
  const testCount = v['test-count'] === undefined ? defaults.testCount : integerIn('test-count', v['test-count'], 1, 10_000);
  if (seed + testCount - 1 > 0xffff_ffff)
    throw new UsageError(`--seed ${seed} with --test-count ${testCount} runs past the largest seed 4294967295`);
  const isRoot = env.isRoot ?? (process.platform === 'linux' && process.getuid?.() === 0);
  if (hosts !== null && v.net !== undefined && (v.net !== 'relay' || system.hostRelayKinds === undefined))
    throw new UsageError(
      `--net ${v.net} does not apply with --hosts: partitions are nftables rules on each host` +
        (system.hostRelayKinds === undefined ? '' : ' (or, with --net relay, the relay on this machine carries the peer datagrams)'),
    );
  const net: NetMode =
    hosts !== null
      ? v.net === 'relay'
        ? 'relay'
        : 'hosts'
      : v.net === undefined
        ? system.defaultNet(isRoot)
        : oneOf<NetMode>('net', v.net, ['relay', 'netns', 'loopback']);
  if (hosts !== null) {
    const onHosts = net === 'relay' ? [...system.hostKinds, ...(system.hostRelayKinds ?? [])] : system.hostKinds;
    for (const k of nemesis)
      if (!onHosts.includes(k))
        throw new UsageError(
          `--nemesis ${k}: not on --hosts${net === 'relay' ? ' --net relay' : ''} (there ${db} takes ${onHosts.join(', ')})` +
            (net !== 'relay' && system.hostRelayKinds?.includes(k) === true ? `; with --net relay it does` : ''),
        );
  }
  if (!system.nets.includes(net))
    throw new UsageError(`--net ${net}: --db ${db} runs on ${orList(system.nets.filter((n) => n !== 'hosts'))} (or on --hosts)`);
  if (net === 'netns') {
    if (!isRoot)
      throw new UsageError(`--net netns needs root on Linux (network namespaces and nftables); use --net ${system.defaultNet(false)}`);
  }
  if (net === 'loopback' && nemesis.includes('partition'))
    throw new UsageError(
      `--nemesis partition needs a network fault layer: --db ${db} on --net loopback has none (use --net netns, as root)`,
    );
  for (const t of targets) {
    const owners = kindsTakingTarget(t);
    if (v.targets !== undefined && !nemesis.some((k) => owners.includes(k)))
      throw new UsageError(`--targets ${t} is a ${orList(owners)} target: add ${orList(owners)} to --nemesis`);
    const need = targetNeeds[t];
    if (need !== undefined && net !== need.net) throw new UsageError(`--targets ${t} needs --net ${need.net} (${need.why})`);
  }
  for (const k of nemesis) {
    const need = nemesisTable[k].needsNet;
    if (need !== undefined && net !== need.net) throw new UsageError(`--nemesis ${k} needs --net ${need.net} (${need.why})`);
    // A kind that aims at nodes must find a target it takes among --targets, or it would silently draw from its defaults.
    const accepted: readonly NodeTarget[] = nemesisTable[k].targets;
    if (v.targets !== undefined && accepted.length > 0 && !targets.some((t) => accepted.includes(t))) {
      throw new UsageError(`--nemesis ${k} has no target in --targets ${targets.join(',')} (${k} takes ${accepted.join(', ')})`);
    }
  }
  const readMode =
    v['read-mode'] === undefined ? defaults.readMode : oneOf<ReadModeOption>('read-mode', v['read-mode'], ['readindex', 'lease']);
  if (!system.nodeFlags && (v['node-flag'] !== undefined || v['read-mode'] !== undefined))
    throw new UsageError(`--node-flag and --read-mode are rift's node options: --db ${db} takes neither`);
  const nodeFlags = (v['node-flag'] ?? []).map(validateNodeFlag);
  if (!system.nodeFlags && v['snapshot-every-entries'] !== undefined)
    throw new UsageError(`--snapshot-every-entries is a rift node option: --db ${db} does not take it`);
  const snapshotEveryEntries =
    v['snapshot-every-entries'] === undefined ? null : integerIn('snapshot-every-entries', v['snapshot-every-entries'], 1, 1_000_000_000);
  if (!system.nodeFlags && v['snapshot-chunk-bytes'] !== undefined)
    throw new UsageError(`--snapshot-chunk-bytes is a rift node option: --db ${db} does not take it`);
  const snapshotChunkBytes =
    v['snapshot-chunk-bytes'] === undefined
      ? null
      : integerIn('snapshot-chunk-bytes', v['snapshot-chunk-bytes'], 1, defaultStreamerOptions.chunkBytes);
  if (!system.nodeFlags && v['max-sessions'] !== undefined)
    throw new UsageError(`--max-sessions is a rift node option: --db ${db} does not take it`);
  const maxSessions = v['max-sessions'] === undefined ? null : integerIn('max-sessions', v['max-sessions'], 1, 1_000_000);
  const unsafe = unsafeFlagsOfNodeFlags(nodeFlags);
  const conflict = unsafeConflict(unsafe);
  if (conflict !== null) throw new UsageError(`--node-flag: ${conflict}`);
  const mismatch = unsafeReadModeMismatch(unsafe, readMode);
  if (mismatch !== null) throw new UsageError(`--node-flag=${mismatch}`);
  const store = v.store ?? defaults.store;
  if (store.trim() === '') throw new UsageError('--store must be a directory path, got an empty string');
  const leaveRunning = v['leave-running'] === true;
  if (leaveRunning && testCount > 1)
    throw new UsageError('--leave-running keeps one cluster up; it cannot be combined with --test-count > 1');
  const testName =
    v['test-name'] ?? `${db}-${nemesis.length === 0 ? 'none' : nemesis.length === nemesisKinds.length ? 'all' : nemesis.join('-')}`;
  if (!testNamePattern.test(testName) || testName === '.' || testName === '..' || testName === 'latest') {
    throw new UsageError(`--test-name must be 1-100 characters of A-Z a-z 0-9 . _ - (and not ".", ".." or "latest"), got "${testName}"`);
  }
  const opTimeoutMs = v['op-timeout'] === undefined ? defaults.opTimeoutMs : integerIn('op-timeout', v['op-timeout'], 10, 600_000);
  const values = v.values === undefined ? defaults.values : oneOf<ValueForm['name']>('values', v.values, ['plain', 'large']);
  const timings = system.timings ?? {
    electionTimeoutMs: [defaultTimings.electionTimeoutMsMin, defaultTimings.electionTimeoutMsMax] as const,
    heartbeatIntervalMs: defaultTimings.heartbeatIntervalMs,
  };
  let electionTimeoutMs: [number, number] = [timings.electionTimeoutMs[0], timings.electionTimeoutMs[1]];
  if (v['election-timeout'] !== undefined) {
    const m = /^(\d+)-(\d+)$/.exec(v['election-timeout']);
    const lo = Number(m?.[1]);
    const hi = Number(m?.[2]);
    if (m === null || lo < 20 || hi < lo || hi > 60_000) {
      throw new UsageError(`--election-timeout must be MIN-MAX in ms with 20 <= MIN <= MAX <= 60000, got "${v['election-timeout']}"`);
    }
    electionTimeoutMs = [lo, hi];
  }
  const heartbeatIntervalMs =
    v.heartbeat === undefined
      ? Math.min(timings.heartbeatIntervalMs, Math.floor(electionTimeoutMs[0] / 2))
      : integerIn('heartbeat', v.heartbeat, 10, 30_000);
  if (heartbeatIntervalMs * 2 > electionTimeoutMs[0]) {
    throw new UsageError(
      `--heartbeat (${heartbeatIntervalMs} ms) must be at most half the minimum election timeout (${electionTimeoutMs[0]} ms)`,
    );
  }
  const leaseRefusal = leaseNemesisProblem(readMode, unsafe.leaseMs, nemesis, electionTimeoutMs[0], heartbeatIntervalMs);
  if (leaseRefusal !== null) throw new UsageError(leaseRefusal);
  // Each node's data directory on a tmpfs of its own (harness/data-mounts.ts): mounting needs root. Checked last, so
  // that `--nemesis all` as another user hears of every other problem first.
  if (nemesis.includes('disk-full')) {
    const why = dataMountsUnavailableReason(isRoot);
    if (why !== null)
      throw new UsageError(`--nemesis disk-full fills a tmpfs per node's data directory: ${why} (run as root, or leave disk-full out)`);
  }
  const checkTimeLimitS =
    v['check-time-limit'] === undefined ? defaults.checkTimeLimitS : numberIn('check-time-limit', v['check-time-limit'], 0.1, 86_400);

  return {
    kind: 'run',
    options: {
      db,
      hosts,
      etcdSerializableReads: v['etcd-serializable-reads'] === true,
      nodes,
      timeLimitS,
      concurrency,
      rate,
      keys,
      opsPerKey,
      nemesis,
      nemesisOrder,
      clockFaults: clockFaultModes,
      clockVia,
      lossPct,
      clientLossPct,
      clientLossDirections: clientLossDirectionList,
      replayModes: replayModeList,
      pauseWakeAloneMs,
      diskFaults: diskFaultModes,
      nemesisIntervalS,
      partitionShapes: shapes,
      targets,
      seed,
      seedGiven,
      testCount,
      net,
      readMode,
      snapshotEveryEntries,
      snapshotChunkBytes,
      maxSessions,
      nodeFlags,
      store,
      leaveRunning,
      testName,
      quiet: v.quiet === true,
      json: v.json === true,
      opTimeoutMs,
      values,
      checkTimeLimitS,
      electionTimeoutMs,
      heartbeatIntervalMs,
    },
  };
}

/**
 * Two fault kinds step outside what a lease assumes, so with lease reads they could report a correct node invalid:
 * `relead` slows the re-elected leader's clock to 0.1-0.25x (far beyond clockDriftBound), and `lease-restart` speeds
 * the candidate's clock, leaving the restarted voters' promise (a minimum election timeout from their start) to
 * outlast the leader's lease, which it does only if the leader is cut off within electionTimeoutMin minus the lease
 * of their start (harness/nemesis/kinds/lease-restart.ts). That margin must leave room for a loaded machine:
 * LEASE_RESTART_MARGIN_MS at least (the gate's 4-4.5 s timeouts leave 680 ms; the 150 ms default, 40 ms). With an
 * unsafe lease (`--unsafe-lease-ms`) the run is about the flag and nothing is refused.
 */
export const LEASE_RESTART_MARGIN_MS = 500;

/**
 * What a correct node of a lease-mode run holds and keeps (null: no lease
 * reads, or --unsafe-lease-ms set the lease): the lease-restart nemesis's
 * runtime guard rests on it.
 */
export function leaseTimingsOf(
  readMode: ReadModeOption,
  unsafeLeaseMs: number | null,
  electionTimeoutMsMin: number,
  heartbeatIntervalMs: number,
): LeaseTimings | null {
  if (readMode !== 'lease' || unsafeLeaseMs !== null) return null;
  // The tick the cluster is given (harness/cluster.ts): the default, or the heartbeat if shorter.
  const tickMs = Math.min(configDefaults.tickMs, heartbeatIntervalMs);
  const leaseTicks = safeLeaseTicks(electionTicksMinOf({ electionTimeoutMsMin, tickMs }), configDefaults.clockDriftBound);
  return { electionTimeoutMinMs: electionTimeoutMsMin, leaseMs: (leaseTicks + 1) * tickMs, tickMs };
}

export function leaseNemesisProblem(
  readMode: ReadModeOption,
  unsafeLeaseMs: number | null,
  nemesis: readonly NemesisKind[],
  electionTimeoutMsMin: number,
  heartbeatIntervalMs: number,
): string | null {
  if (readMode !== 'lease' || unsafeLeaseMs !== null) return null;
  if (nemesis.includes('relead'))
    return "--nemesis relead slows the leader's clock to 0.1-0.25x, outside the drift bound lease reads assume: use it with --read-mode readindex";
  if (!nemesis.includes('lease-restart')) return null;
  const { leaseMs: leaseBoundMs, tickMs } = leaseTimingsOf(readMode, unsafeLeaseMs, electionTimeoutMsMin, heartbeatIntervalMs)!;
  const leaseMs = leaseBoundMs - tickMs;
  const marginMs = electionTimeoutMsMin - leaseMs;
  if (marginMs >= LEASE_RESTART_MARGIN_MS) return null;
  return (
    `--nemesis lease-restart with --read-mode lease needs the minimum election timeout to exceed the lease by ` +
    `${LEASE_RESTART_MARGIN_MS} ms or more (a correct node rests on that margin): ${electionTimeoutMsMin} ms against a ` +
    `${leaseMs} ms lease leaves ${marginMs} ms; e.g. --election-timeout 4000-4500 --heartbeat 100`
  );
}
