/**
 * Every option of `npm run mc`, in one table: its flag, default, range and
 * the line `--help` prints. The bounds make the explored space finite (the
 * model checker's CONSTRAINTs); the model options set the cluster it runs;
 * the reductions can be switched off to measure them; the search options
 * choose how the space is walked.
 */
import { parseArgs } from 'node:util';
import type { ReadMode } from '../node/config-types.js';
import { configDefaults } from '../node/config-types.js';
import { noUnsafeFlags, unsafeFlagSpecs, type UnsafeFlags } from '../node/unsafe-flags.js';
import { defaultStreamerOptions } from '../node/snapshot/streamer.js';

export type PropertyName =
  | 'election-safety'
  | 'leader-append-only'
  | 'log-matching'
  | 'leader-completeness'
  | 'state-machine-safety'
  | 'commit-rule'
  | 'read-safety'
  | 'linearizability'
  | 'snapshot-committed'
  | 'commit-quorum'
  | 'founded-acks'
  | 'config-change-rule'
  | 'liveness'
  | 'no-crash';

/** The modes that walk (randomWalks) rather than enumerate. */
export function walks(mode: McOptions['mode']): boolean {
  return mode === 'random' || mode === 'swarm' || mode === 'guided';
}

/** What each property says (README and --help). */
export const PROPERTIES: Readonly<Record<PropertyName, string>> = {
  'election-safety': 'at most one leader per term (Figure 3, §5.2)',
  'leader-append-only': 'a leader never overwrites or deletes entries in its log (Figure 3, §5.3)',
  'log-matching': 'two logs with an entry of the same index and term are identical up to it (Figure 3, §5.3)',
  'leader-completeness': 'an entry committed in a term is in the log of every leader of a later term (Figure 3, §5.4)',
  'state-machine-safety': 'no two nodes apply different entries at one index; a committed entry never changes (Figure 3, §5.4.3)',
  'commit-rule': 'a leader advances commitIndex only to an entry of its own term (Figure 2, §5.4.2, Figure 8)',
  'read-safety': 'a served read reflects every write committed before it started (thesis §6.4)',
  linearizability: 'the client operations completed so far are linearizable (checker/)',
  'snapshot-committed':
    'a snapshot holds only committed state: the entry a node serialises its state machine at is held by a majority (§7)',
  'commit-quorum':
    'a leader commits an entry only once a majority of the voters of its newest configuration hold it (§4.1; with membership only)',
  'founded-acks':
    'an answer vouches for no more than the AppendEntries or InstallSnapshot it answers carried, or what the node has committed (§5.3, Figure 13), and echoes its seq only in its term (§6.4)',
  'config-change-rule':
    'a leader appends a configuration entry only once an entry of its term and the configuration entry before it are committed (§4.1, Ongaro 2015)',
  liveness: 'after the last fault, with the network healed, a new write is applied on every member',
  'no-crash': 'no core or host assertion fails',
};

export const PROPERTY_NAMES = Object.keys(PROPERTIES) as PropertyName[];

/** The admin changes, as `rift-node admin` names them (node/host.ts maps `add` to add_learner). */
export type ChangeKind = 'add' | 'promote' | 'remove';
export const CHANGE_KINDS: readonly ChangeKind[] = ['add', 'promote', 'remove'];

/** Whether `options` model membership changes (spare identities or admin events): then commit-quorum is checked. */
export function modelsMembership(options: Pick<McOptions, 'spares' | 'bounds'>): boolean {
  return options.spares > 0 || options.bounds.configChanges > 0;
}

export interface Bounds {
  readonly nodes: number;
  readonly maxTerm: number;
  readonly maxLog: number;
  readonly maxInFlight: number;
  readonly timeouts: number;
  readonly maxTime: number;
  readonly crashes: number;
  readonly drops: number;
  readonly dups: number;
  readonly pauses: number;
  readonly diskFaults: number;
  readonly tornTails: number;
  /** --snapshot-chunk-bytes: per node, retransmission timeouts of its snapshot streams (a timer of its own). */
  readonly streamTimeouts: number;
  readonly transfers: number;
  readonly snapshots: number;
  readonly configChanges: number;
  readonly writes: number;
  readonly cas: number;
  readonly reads: number;
  readonly keys: number;
  readonly retries: number;
  readonly maxDepth: number;
}

export interface McOptions {
  readonly bounds: Bounds;
  readonly electionTicks: number;
  readonly heartbeatTicks: number;
  /**
   * `--time ticks`: real-time steps per tick of the fastest clock (Q). Every
   * node's consecutive ticks are between Q and R steps apart, R the largest
   * integer below clockDriftBound * Q (mc/clock.ts): relative clock rates stay
   * strictly within the drift bound the lease assumes (thesis §6.4.1).
   */
  readonly tickSteps: number;
  /** With bounds.snapshots > 0: the core's snapshotEveryEntries and snapshotTrailingEntries (node/raft/compaction.ts). */
  readonly snapshotEvery: number;
  readonly snapshotTrailing: number;
  /**
   * With bounds.snapshots > 0: 0, a snapshot travels as one message; N, as
   * the host streams it, in chunks of N bytes (SteppedParams.snapshotChunkBytes:
   * the real streamer and assembler, each chunk and ack a message, the
   * stream's retransmission timer an event bounded by --stream-timeouts).
   */
  readonly snapshotChunkBytes: number;
  /**
   * Membership (issue 18): of the `bounds.nodes` ids, the last `spares` start in no configuration (RaftConfig.joining:
   * a node started with --join); with `--start leader` the prelude adds the first `learners` of them as learners.
   */
  readonly spares: number;
  readonly learners: number;
  /** Which single-server changes the admin events propose (§4.1): `add` (a learner), `promote`, `remove`. */
  readonly changes: readonly ChangeKind[];
  readonly readMode: ReadMode;
  /**
   * When a leader tells followers of a commit no new entries carried:
   * `tick`, at its next tick, as the node does (RaftConfig.commitNoticeAtTick),
   * or `immediate`, at once (the counterexample paths written before the node
   * deferred them name those heartbeats).
   */
  readonly commitNotice: 'tick' | 'immediate';
  /**
   * `timeouts`: no clocks; a node's next timer may go off at any moment
   * (Raft's safety does not depend on timing). `ticks`: real time advances
   * in steps and every node clock ticks at a rate within the drift bound of
   * the others (lease reads depend on it: mc/clock.ts).
   */
  readonly time: 'timeouts' | 'ticks';
  /** `empty`: start from empty disks; `leader`: from n1 leading term 1 with its noop committed (mc/model.ts initial). */
  readonly start: 'empty' | 'leader';
  /**
   * `node`: --crashes, --drops, --dups, --pauses, --disk-faults and --torn-tails are budgets of each node;
   * `cluster`: of the whole cluster (one crash in all, not one per node), which makes spaces with
   * the same kinds of fault far smaller. Timer firings stay per node either way.
   */
  readonly faultBudgets: 'node' | 'cluster';
  readonly clockDriftBound: number;
  readonly unsafe: UnsafeFlags;
  readonly skipReadQuorum: boolean;
  readonly symmetry: boolean;
  /**
   * Partial-order reduction over quiet nodes (mc/model.ts `actions`); only with `time: timeouts`.
   * Off by default: it is not sound (mc/README.md: it forces a quiet node's spontaneous events, such
   * as its timer, before messages other nodes have yet to send it, and so missed commit-old-terms).
   */
  readonly por: boolean;
  /**
   * One-step sleep sets (mc/model.ts `sleeps`): a successor reached by two commuting local events of
   * different nodes is inserted from one order only. Sound: the same states (up to relabelling), the
   * same verdicts, every transition still stepped and checked; saves fingerprints and visited-set
   * inserts. BFS in one thread only.
   */
  readonly sleep: boolean;
  readonly deadMessages: boolean;
  /** Explore deliveries that change nothing at the receiver (off by default: see mc/model.ts isNoOpDelivery). */
  readonly noopDeliveries: boolean;
  readonly memo: boolean;
  readonly properties: ReadonlySet<PropertyName>;
  /** bfs: level by level (shortest counterexample); dfs: depth first (memory: the visited set only); iddfs: iterative deepening; random: random walks; swarm: random walks, each with its own weights (mc/swarm.ts); guided: swarm walks from kept states (mc/guided.ts). */
  readonly mode: 'bfs' | 'dfs' | 'iddfs' | 'random' | 'swarm' | 'guided';
  /** --mode iddfs: how much the depth limit grows a round. */
  readonly depthStep: number;
  readonly walks: number;
  readonly seed: number;
  readonly workers: number;
  readonly maxStates: number;
  readonly out: string;
  readonly progressMs: number;
  readonly quiet: boolean;
  readonly json: string | null;
}

interface IntOption {
  readonly kind: 'int';
  readonly flag: string;
  readonly value: string;
  readonly def: number;
  readonly min: number;
  readonly max: number;
  readonly help: string;
}

/** The bounds, in the order --help lists them. */
const boundOptions: readonly (IntOption & { readonly key: keyof Bounds })[] = [
  { kind: 'int', key: 'nodes', flag: 'nodes', value: 'N', def: 3, min: 1, max: 5, help: 'nodes in the cluster' },
  {
    kind: 'int',
    key: 'maxTerm',
    flag: 'max-term',
    value: 'T',
    def: 2,
    min: 1,
    max: 20,
    help: 'highest term a node may enter (a state beyond it is checked, not expanded)',
  },
  { kind: 'int', key: 'maxLog', flag: 'max-log', value: 'L', def: 4, min: 1, max: 50, help: 'longest log a node may hold (likewise)' },
  {
    kind: 'int',
    key: 'maxInFlight',
    flag: 'max-inflight',
    value: 'M',
    def: 0,
    min: 0,
    max: 64,
    help: 'messages in flight (a state with more is not expanded); 0: no bound (required by the partial-order reduction)',
  },
  {
    kind: 'int',
    key: 'timeouts',
    flag: 'timeouts',
    value: 'N',
    def: 2,
    min: 0,
    max: 1000,
    help: '--time timeouts: timer firings per node',
  },
  {
    kind: 'int',
    key: 'maxTime',
    flag: 'max-time',
    value: 'TICKS',
    def: 8,
    min: 0,
    max: 1000,
    help: '--time ticks: real time the search may run, in ticks of the fastest clock (--tick-steps steps each)',
  },
  {
    kind: 'int',
    key: 'crashes',
    flag: 'crashes',
    value: 'C',
    def: 1,
    min: 0,
    max: 20,
    help: 'crashes per node (volatile state and unsynced writes lost); each may be followed by a restart',
  },
  { kind: 'int', key: 'drops', flag: 'drops', value: 'D', def: 1, min: 0, max: 50, help: 'messages to each node the network may lose' },
  { kind: 'int', key: 'dups', flag: 'dups', value: 'U', def: 1, min: 0, max: 50, help: 'messages to each node the network may duplicate' },
  {
    kind: 'int',
    key: 'pauses',
    flag: 'pauses',
    value: 'P',
    def: 0,
    min: 0,
    max: 10,
    help: 'pauses per node (the process stops, its clock runs on; the wake-up runs the backlog as the host does)',
  },
  {
    kind: 'int',
    key: 'diskFaults',
    flag: 'disk-faults',
    value: 'F',
    def: 0,
    min: 0,
    max: 10,
    help: "per node: while down, its log loses its last entry (a damaged disk; breaks Raft's model: use with --properties liveness)",
  },
  {
    kind: 'int',
    key: 'tornTails',
    flag: 'torn-tails',
    value: 'T',
    def: 0,
    min: 0,
    max: 10,
    help:
      'per node: while down, the last frame of its log is damaged (a torn write or a flipped bit): a correct node refuses to ' +
      'start until the end-of-path heal repairs it; under --unsafe torn-tail-dropped it drops its last entry and starts',
  },
  {
    kind: 'int',
    key: 'streamTimeouts',
    flag: 'stream-timeouts',
    value: 'N',
    def: 1,
    min: 0,
    max: 100,
    help: 'with --snapshot-chunk-bytes, per node: retransmission timeouts of its snapshot streams (each resends what is in flight; a stream gives up after 10 without progress)',
  },
  {
    kind: 'int',
    key: 'transfers',
    flag: 'transfers',
    value: 'X',
    def: 0,
    min: 0,
    max: 10,
    help: 'leadership transfers leaders may start, in all (thesis §3.10)',
  },
  {
    kind: 'int',
    key: 'snapshots',
    flag: 'snapshots',
    value: 'S',
    def: 0,
    min: 0,
    max: 20,
    help: 'snapshot saves in all (§7: a node saves the snapshot its core asked for, then compacts; leaders send InstallSnapshot); 0: the core never asks',
  },
  {
    kind: 'int',
    key: 'configChanges',
    flag: 'config-changes',
    value: 'N',
    def: 0,
    min: 0,
    max: 10,
    help: 'admin membership changes in all: an admin request at a leader proposes a single-server change (§4.1), --changes which',
  },
  {
    kind: 'int',
    key: 'writes',
    flag: 'writes',
    value: 'W',
    def: 2,
    min: 0,
    max: 8,
    help: 'client puts (each its own client; unique values)',
  },
  {
    kind: 'int',
    key: 'cas',
    flag: 'cas',
    value: 'C',
    def: 0,
    min: 0,
    max: 8,
    help: "client compare-and-sets (expecting the first put's value)",
  },
  { kind: 'int', key: 'reads', flag: 'reads', value: 'R', def: 1, min: 0, max: 8, help: 'client linearizable reads' },
  { kind: 'int', key: 'keys', flag: 'keys', value: 'K', def: 1, min: 1, max: 8, help: 'keys the operations spread over' },
  {
    kind: 'int',
    key: 'retries',
    flag: 'retries',
    value: 'N',
    def: 1,
    min: 0,
    max: 8,
    help: 'retries per client operation (same session id; after a redirect, a crash or a timeout)',
  },
  {
    kind: 'int',
    key: 'maxDepth',
    flag: 'max-depth',
    value: 'D',
    def: 0,
    min: 0,
    max: 100_000,
    help: 'events per path (0: no bound; random, swarm and guided walks default to 400)',
  },
];

const modelOptions: readonly IntOption[] = [
  {
    kind: 'int',
    flag: 'election-ticks',
    value: 'E',
    def: 3,
    min: 2,
    max: 100,
    help: 'election timeout in ticks (no jitter: the schedule decides who times out first)',
  },
  { kind: 'int', flag: 'heartbeat-ticks', value: 'H', def: 1, min: 1, max: 99, help: 'heartbeat interval in ticks (< election timeout)' },
  {
    kind: 'int',
    flag: 'tick-steps',
    value: 'Q',
    def: 1,
    min: 1,
    max: 20,
    help: '--time ticks: real-time steps per tick of the fastest clock; a clock ticks every Q..R steps, R < drift-bound * Q (1: every clock ticks once a step, rates equal up to phase)',
  },
  {
    kind: 'int',
    flag: 'snapshot-every',
    value: 'N',
    def: 1,
    min: 1,
    max: 1000,
    help: 'with --snapshots: the core asks for a snapshot after N applied entries (snapshotEveryEntries)',
  },
  {
    kind: 'int',
    flag: 'snapshot-trailing',
    value: 'N',
    def: 0,
    min: 0,
    max: 1000,
    help: 'with --snapshots: entries kept before a snapshot when the log is compacted (snapshotTrailingEntries)',
  },
  {
    kind: 'int',
    flag: 'snapshot-chunk-bytes',
    value: 'B',
    def: 0,
    min: 0,
    max: defaultStreamerOptions.chunkBytes,
    help: 'with --snapshots: InstallSnapshot as the host streams it, in B-byte chunks (its streamer and assembler; 0: one message)',
  },
  {
    kind: 'int',
    flag: 'spares',
    value: 'S',
    def: 0,
    min: 0,
    max: 4,
    help: 'of the --nodes ids, the last S are spares: in no configuration until added (as a node started with --join)',
  },
  {
    kind: 'int',
    flag: 'learners',
    value: 'L',
    def: 0,
    min: 0,
    max: 4,
    help: '--start leader: the prelude also adds the first L spares as learners, caught up (admin add, then quiet)',
  },
];

const searchOptions: readonly IntOption[] = [
  { kind: 'int', flag: 'walks', value: 'N', def: 10_000, min: 1, max: 1_000_000_000, help: 'random walks (--mode random, swarm, guided)' },
  {
    kind: 'int',
    flag: 'depth-step',
    value: 'N',
    def: 1,
    min: 1,
    max: 1000,
    help: '--mode iddfs: the depth limit grows by N a round (1: a shortest counterexample)',
  },
  { kind: 'int', flag: 'seed', value: 'S', def: -1, min: -1, max: 0xffffffff, help: 'seed of the random walks (default: random, printed)' },
  { kind: 'int', flag: 'workers', value: 'N', def: 1, min: 1, max: 64, help: 'worker threads sharing one visited set (BFS)' },
  {
    kind: 'int',
    flag: 'max-states',
    value: 'N',
    def: 12_000_000,
    min: 1000,
    max: 1_000_000_000,
    help: 'capacity of the visited set (16 bytes a state, allocated up front); the search stops when full',
  },
  { kind: 'int', flag: 'progress-ms', value: 'MS', def: 2000, min: 100, max: 3_600_000, help: 'interval of the progress line' },
];

export const USAGE = (): string => {
  const line = (flag: string, help: string): string => `  ${flag.padEnd(26)}${help}`;
  const int = (o: IntOption): string =>
    line(
      `--${o.flag} ${o.value}`,
      `${o.help} (default ${o.def === -1 ? 'random' : o.def}${o.kind === 'int' ? `; ${o.min}..${o.max}` : ''})`,
    );
  const unsafeNames = [
    ...unsafeFlagSpecs.map((s) => s.flag.slice('--unsafe-'.length) + (s.kind === 'integer' ? '=N' : '')),
    'skip-read-quorum',
  ];
  return [
    'usage: npm run mc -- [options]',
    '',
    'Exhaustive, bounded model checking of the real Raft core (node/raft/), KV state machine and',
    "client sessions (node/kv/) and the host's effect loop (sim/stepped/): every interleaving of",
    'message delivery, loss, duplication and reordering, timeouts, clock drift, crashes that lose',
    'unsynced writes, restarts and client operations, within the bounds below. A violation is',
    'printed as a shortest trace and written as a file that `npm run sim -- --replay FILE` replays.',
    '',
    'Bounds (the explored space):',
    ...boundOptions.map(int),
    '',
    'The cluster:',
    ...modelOptions.map(int),
    line('--read-mode MODE', `readindex or lease (default ${configDefaults.readMode})`),
    line('--commit-notice WHEN', 'tick (as the node: a commit no entries carried is told at the next tick) or immediate (default tick)'),
    line('--time MODE', "timeouts (no clocks: any timer may go off at any moment; Raft's safety is timing-free) or ticks"),
    line('', '(real time in steps, every clock ticking at a rate within --drift-bound of the others: what lease reads'),
    line('', 'need; mc/README.md); default: ticks with lease, else timeouts'),
    line(
      '--start FROM',
      'empty (every node on an empty disk) or leader (after a fixed prelude: n1 leads term 1, noop committed); default empty',
    ),
    line(
      '--fault-budgets SCOPE',
      'node (default): --crashes, --drops, --dups, --pauses, --disk-faults, --torn-tails count per node; cluster: for the whole cluster',
    ),
    line(
      '--drift-bound X',
      `lease = election-ticks / X ticks, as the host computes it; --time ticks: clock rates stay strictly within X of each other (default ${configDefaults.clockDriftBound})`,
    ),
    line('--changes K,...', `with --config-changes: which changes the admin proposes: ${CHANGE_KINDS.join(', ')} (default all)`),
    line('', '(add: a non-member as learner; promote: a learner to voter; remove: a member; a leader asked to remove'),
    line('', 'itself hands over first, as node/host.ts does)'),
    line('--unsafe FLAG', `run with an unsafe flag (repeatable): ${unsafeNames.join(', ')}`),
    '',
    'Properties (checked on every transition; --properties a,b,... to choose; default all, commit-quorum only with --spares',
    'or --config-changes):',
    ...PROPERTY_NAMES.map((name) => line(`  ${name}`, PROPERTIES[name])),
    '',
    'Reductions (on by default; turn off to measure them):',
    line('--no-symmetry', 'explore relabellings of the node ids separately'),
    line('--por', 'the partial-order reduction over quiet nodes (off by default: NOT sound, it can miss violations:'),
    line('', "it fires a quiet node's timer before messages not yet sent to it; mc/README.md). --no-por: the default"),
    line('--sleep', 'one-step sleep sets (sound): a successor two commuting events of different nodes reach is inserted'),
    line('', 'from one order only; same states and verdicts, fewer fingerprints and inserts (BFS, one thread)'),
    line('--no-dead-messages', "keep answers of older terms than their receiver's disk in flight"),
    line('--noop-deliveries', 'also deliver messages whose delivery changes nothing at the receiver'),
    line('--no-memo', 'recompute every node transition (the memo is an optimisation, not a reduction)'),
    '',
    'Search:',
    line('--mode MODE', 'bfs: breadth first (exhaustive, a shortest counterexample; default); dfs: depth first to --max-depth'),
    line('', '(0: the whole space; memory: the visited set and one path, no BFS level); iddfs: iterative deepening,'),
    line('', 'depth-first rounds with the depth limit raised by --depth-step until --max-depth or until no state is'),
    line('', 'cut off (exhausted; the first violation found is a shortest one, to within the step); random: random walks'),
    line('', '(each event chosen uniformly); swarm: random walks where each walk draws its own weights per kind of event,'),
    line('', 'node and link and holds some messages back (swarm testing: finds the deep paths uniform walks miss);'),
    line('', 'guided: swarm walks that start from states earlier walks reached with a new coverage key (mc/guided.ts:'),
    line('', 'rare events compose over walks, as in a coverage-guided fuzzer)'),
    ...searchOptions.map(int),
    line('--out DIR', 'where counterexample files go (default histories/mc)'),
    line('--json FILE', 'write the final summary as JSON'),
    line('--quiet', 'no progress lines'),
    '',
    'Exit codes (checker/exit-codes.ts): 0 no violation (BFS: every state within the bounds, --max-depth included, was',
    'checked; random: the walks ran out), 1 violation found, 2 unknown (the visited set filled up or a state held more',
    'messages than it can store before the space was covered), 254 bad arguments, 255 internal error.',
  ].join('\n');
};

export class OptionError extends Error {
  override readonly name = 'OptionError';
}

function intValue(raw: string | undefined, o: IntOption): number {
  if (raw === undefined) return o.def;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < o.min || n > o.max)
    throw new OptionError(`--${o.flag} must be an integer in [${o.min}, ${o.max}], got ${JSON.stringify(raw)}`);
  return n;
}

/** Unsafe flag names as `--unsafe` takes them: the node's (`local-reads`, `lease-ms=N`) and the core's `skip-read-quorum`. */
export function parseUnsafe(names: readonly string[]): { unsafe: UnsafeFlags; skipReadQuorum: boolean } {
  const unsafe: Record<string, boolean | number | null> = { ...noUnsafeFlags };
  let skipReadQuorum = false;
  for (const raw of names) {
    const [name = '', value] = raw.replace(/^--unsafe-/, '').split('=');
    if (name === 'skip-read-quorum') {
      skipReadQuorum = true;
      continue;
    }
    const spec = unsafeFlagSpecs.find((s) => s.flag === `--unsafe-${name}`);
    if (spec === undefined) throw new OptionError(`unknown unsafe flag ${JSON.stringify(raw)}`);
    if (spec.kind === 'boolean') unsafe[spec.key] = true;
    else {
      const n = Number(value);
      if (!Number.isSafeInteger(n) || n < spec.min || n > spec.max)
        throw new OptionError(`--unsafe ${name}=N needs an integer N in [${spec.min}, ${spec.max}]`);
      unsafe[spec.key] = n;
    }
  }
  return { unsafe: unsafe as UnsafeFlags, skipReadQuorum };
}

export function parseOptions(argv: readonly string[]): McOptions | 'help' {
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }> = {
    help: { type: 'boolean' },
    'read-mode': { type: 'string' },
    'commit-notice': { type: 'string' },
    time: { type: 'string' },
    start: { type: 'string' },
    'fault-budgets': { type: 'string' },
    changes: { type: 'string' },
    'drift-bound': { type: 'string' },
    unsafe: { type: 'string', multiple: true },
    properties: { type: 'string' },
    'no-symmetry': { type: 'boolean' },
    'no-por': { type: 'boolean' },
    por: { type: 'boolean' },
    sleep: { type: 'boolean' },
    'no-dead-messages': { type: 'boolean' },
    'no-memo': { type: 'boolean' },
    'noop-deliveries': { type: 'boolean' },
    mode: { type: 'string' },
    out: { type: 'string' },
    json: { type: 'string' },
    quiet: { type: 'boolean' },
  };
  for (const o of [...boundOptions, ...modelOptions, ...searchOptions]) options[o.flag] = { type: 'string' };
  let values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  try {
    ({ values } = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }));
  } catch (error) {
    throw new OptionError((error as Error).message);
  }
  if (values['help'] === true) return 'help';
  const str = (name: string): string | undefined => {
    const v = values[name];
    return typeof v === 'string' ? v : undefined;
  };
  const bounds = Object.fromEntries(boundOptions.map((o) => [o.key, intValue(str(o.flag), o)])) as unknown as Bounds;
  const [electionTicks, heartbeatTicks, tickSteps, snapshotEvery, snapshotTrailing, snapshotChunkBytes, spares, learners] =
    modelOptions.map((o) => intValue(str(o.flag), o)) as [number, number, number, number, number, number, number, number];
  if (snapshotChunkBytes > 0 && bounds.snapshots === 0)
    throw new OptionError('--snapshot-chunk-bytes streams snapshots: it needs --snapshots');
  if (spares >= bounds.nodes) throw new OptionError('--spares must leave at least one bootstrap voter (below --nodes)');
  if (learners > spares) throw new OptionError('--learners names spares: at most --spares');
  if (learners > 0 && str('start') !== 'leader') throw new OptionError('--learners needs --start leader (the prelude adds them)');
  const changes: ChangeKind[] = [];
  for (const name of (str('changes') ?? CHANGE_KINDS.join(',')).split(',')) {
    if (!(CHANGE_KINDS as readonly string[]).includes(name))
      throw new OptionError(`unknown change ${JSON.stringify(name)} (known: ${CHANGE_KINDS.join(', ')})`);
    if (!changes.includes(name as ChangeKind)) changes.push(name as ChangeKind);
  }
  if (heartbeatTicks >= electionTicks) throw new OptionError('--heartbeat-ticks must be below --election-ticks');
  const [walks, depthStep, seed, workers, maxStates, progressMs] = searchOptions.map((o) => intValue(str(o.flag), o)) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const commitNotice = str('commit-notice') ?? 'tick';
  if (commitNotice !== 'tick' && commitNotice !== 'immediate') throw new OptionError('--commit-notice must be tick or immediate');
  const readMode = str('read-mode') ?? configDefaults.readMode;
  if (readMode !== 'readindex' && readMode !== 'lease') throw new OptionError('--read-mode must be readindex or lease');
  const time = str('time') ?? (readMode === 'lease' ? 'ticks' : 'timeouts');
  if (time !== 'timeouts' && time !== 'ticks') throw new OptionError('--time must be timeouts or ticks');
  const start = str('start') ?? 'empty';
  if (start !== 'empty' && start !== 'leader') throw new OptionError('--start must be empty or leader');
  const faultBudgets = str('fault-budgets') ?? 'node';
  if (faultBudgets !== 'node' && faultBudgets !== 'cluster') throw new OptionError('--fault-budgets must be node or cluster');
  const clockDriftBound = Number(str('drift-bound') ?? configDefaults.clockDriftBound);
  if (!(clockDriftBound >= 1 && clockDriftBound <= 100)) throw new OptionError('--drift-bound must be a number in [1, 100]');
  // mc/clock.ts: the model's clocks run at rates strictly within the bound; with a bound of 1 no such rates exist.
  if (time === 'ticks' && !(clockDriftBound > 1)) throw new OptionError('--time ticks needs --drift-bound above 1 (mc/README.md)');
  const unsafeRaw = values['unsafe'];
  const { unsafe, skipReadQuorum } = parseUnsafe(Array.isArray(unsafeRaw) ? unsafeRaw.map(String) : []);
  for (const spec of unsafeFlagSpecs) {
    const set = spec.kind === 'boolean' ? unsafe[spec.key] === true : unsafe[spec.key] !== null;
    if (set && spec.requiresReadMode !== undefined && spec.requiresReadMode !== readMode)
      throw new OptionError(`--unsafe ${spec.flag.slice('--unsafe-'.length)} needs --read-mode ${spec.requiresReadMode}`);
  }
  const propertiesRaw = str('properties');
  // commit-quorum by default only with membership: with a fixed one Figure 3 implies it, and the storage flags
  // (memory-log, ack-before-fsync) would show it first, before the violation each is known by.
  const membership = spares > 0 || bounds.configChanges > 0;
  const properties = new Set<PropertyName>(
    propertiesRaw === undefined ? PROPERTY_NAMES.filter((name) => membership || name !== 'commit-quorum') : [],
  );
  for (const name of propertiesRaw?.split(',') ?? []) {
    if (!(PROPERTY_NAMES as string[]).includes(name))
      throw new OptionError(`unknown property ${JSON.stringify(name)} (known: ${PROPERTY_NAMES.join(', ')})`);
    properties.add(name as PropertyName);
  }
  const mode = str('mode') ?? 'bfs';
  if (mode !== 'bfs' && mode !== 'dfs' && mode !== 'iddfs' && mode !== 'random' && mode !== 'swarm' && mode !== 'guided')
    throw new OptionError('--mode must be bfs, dfs, iddfs, random, swarm or guided');
  if (mode !== 'bfs' && workers > 1) throw new OptionError(`--mode ${mode} runs in one thread: drop --workers`);
  const sleep = values['sleep'] === true;
  if (sleep && (mode !== 'bfs' || workers > 1)) throw new OptionError('--sleep runs with --mode bfs in one thread');
  return {
    bounds,
    electionTicks,
    heartbeatTicks,
    tickSteps,
    snapshotEvery,
    snapshotTrailing,
    snapshotChunkBytes,
    spares,
    learners,
    changes,
    readMode,
    commitNotice,
    time,
    start,
    faultBudgets,
    clockDriftBound,
    unsafe,
    skipReadQuorum,
    symmetry: values['no-symmetry'] !== true,
    por: values['por'] === true && values['no-por'] !== true && time === 'timeouts' && bounds.maxInFlight === 0,
    sleep,
    deadMessages: values['no-dead-messages'] !== true,
    noopDeliveries: values['noop-deliveries'] === true,
    memo: values['no-memo'] !== true,
    properties,
    mode,
    depthStep,
    walks,
    seed: seed === -1 ? (Date.now() ^ (process.pid << 8)) >>> 0 : seed,
    workers,
    maxStates,
    out: str('out') ?? 'histories/mc',
    progressMs,
    quiet: values['quiet'] === true,
    json: str('json') ?? null,
  };
}

/** The options with every default (tests and benchmarks override what they need). */
export function defaultOptions(overrides: Partial<Omit<McOptions, 'bounds'>> & { bounds?: Partial<Bounds> } = {}): McOptions {
  const parsed = parseOptions([]);
  if (parsed === 'help') throw new Error('unreachable');
  const options = { ...parsed, seed: 1, ...overrides, bounds: { ...parsed.bounds, ...overrides.bounds } };
  // As parseOptions does: the default property set gains commit-quorum when membership is modelled.
  if (overrides.properties === undefined && modelsMembership(options)) return { ...options, properties: new Set(PROPERTY_NAMES) };
  return options;
}

/** The options as structured-clone data (worker threads). */
export type SerializedOptions = Omit<McOptions, 'properties'> & { readonly properties: readonly PropertyName[] };

export function serializeOptions(o: McOptions): SerializedOptions {
  return { ...o, properties: [...o.properties] };
}

export function deserializeOptions(o: SerializedOptions): McOptions {
  return { ...o, properties: new Set(o.properties) };
}
