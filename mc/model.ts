/**
 * The model: a cluster of stepped nodes (sim/stepped/: the real core, KV
 * state machine, sessions and the host's effect loop), the messages in
 * flight, the clients' operations and the history variables the properties
 * need, as one global state (a `World`, a flat Int32Array of interned ids
 * and counters); the events that can happen in a state (`actions`); what an
 * event does (`step`), with every property checked on the transition; and a
 * state's fingerprint up to relabelling of the nodes (`fingerprint`).
 *
 * A node's reaction to an input depends only on its own state and the
 * input, so it is computed once per (node state, input) and memoised; the
 * world-level part of a step (network, clients, properties) is cheap
 * integer work.
 *
 * Adding state or events (snapshots, membership: issue 18): a new input is
 * a `SteppedNode` method, a `SteppedEvent` kind (its trace form), an
 * `Action` kind here with its enabling rule in `actions` and its effect in
 * `step` (a node input goes through `nodeStep` with a new input code); new
 * per-node state lives in `SteppedNodeState` and is interned and hashed
 * with no change here; new global state is a new field of the `Layout`.
 */
import { checkHistory } from '../checker/check.js';
import type { HistoryOp } from '../checker/types.js';
import { applyConfChange } from '../node/raft/configuration.js';
import type { ConfChange, Entry, NodeId, RaftConfig, SnapshotMeta } from '../node/raft/types.js';
import { assertNever } from '../node/util/assert.js';
import { completeOp, invokeOp, judgeReply, requestOf } from '../sim/stepped/clients.js';
import { isDeadMessage, type SteppedMessage } from '../sim/stepped/network.js';
import { SteppedNode, type ClientReply, type ServedRead, type SteppedNodeState } from '../sim/stepped/node.js';
import { coreConfigFor, type SteppedParams } from '../sim/stepped/params.js';
import { commitQuorumProblem, uncommittedSnapshotProblem } from '../sim/stepped/commit-quorum.js';
import { answerProblem } from '../sim/stepped/answer-rules.js';
import { configChangeProblem } from '../sim/stepped/config-change-rule.js';
import { latestWriteIndex } from '../sim/stepped/read-safety.js';
import type { ClientOpSpec, SteppedEvent } from '../sim/stepped/trace.js';
import { Hasher, hashString, lanes } from './hash.js';
import { slowestTickSteps } from './clock.js';
import { LogTable, MessageTable, NodeTable, relabelConfigData, type NodeRecord } from './intern.js';
import { modelsMembership, type McOptions, type PropertyName } from './options.js';
import { allPermutations, candidatePermutations, indexOfId, nodeIdOf, type Permutations } from './symmetry.js';

/** A global state: see `Layout` for what is where. Never mutated once built. */
export type World = Int32Array;

export type Action =
  | { readonly kind: 'deliver' | 'drop' | 'duplicate'; readonly msg: number }
  | {
      readonly kind: 'tick' | 'timeout' | 'fsync' | 'snapshot' | 'crash' | 'restart' | 'pause' | 'resume' | 'lose_tail' | 'tear';
      readonly node: number;
    }
  /** `--snapshot-chunk-bytes`: the retransmission timer of `node`'s snapshot stream to `to` goes off (`--stream-timeouts`). */
  | { readonly kind: 'stream_timeout'; readonly node: number; readonly to: number }
  | { readonly kind: 'request'; readonly op: number; readonly node: number }
  | { readonly kind: 'transfer'; readonly node: number; readonly to: number }
  /** `--config-changes`: an admin request at leader `node` for a single-server change of node `target` (§4.1). */
  | { readonly kind: 'admin'; readonly node: number; readonly change: ConfChange['type']; readonly target: number }
  /** `--time ticks`: one step of real time passes (mc/clock.ts). */
  | { readonly kind: 'advance' };

export interface Violation {
  readonly property: PropertyName;
  readonly message: string;
  /** The event that makes it visible outside the node (an answer waiting for its fsync): a counterexample ends with it. */
  readonly then?: Action;
}

export interface StepResult {
  readonly world: World;
  readonly violation: Violation | null;
  /** False when the new state is beyond a bound: it is checked but not expanded. */
  readonly inBounds: boolean;
}

/** Client operation status in a World. */
const OP_IDLE = 0;
const OP_WAITING = 1;
const OP_RETRY = 2;
const OP_DONE = 3;
/** History event kinds in a World. */
const H_INVOKE = 0;
const H_OK = 1;
const H_FAIL = 2;
/**
 * Fault budgets, counted per node (crashes of it, messages to it lost or
 * duplicated, its pauses, its disk faults, its timer firings): a budget
 * shared by all nodes would make one node's fault disable another's, and
 * the partial-order reduction needs them independent. Transfers (a leader's
 * action, never reordered) are one count for the cluster. `--fault-budgets
 * cluster` sums each budget over the nodes when deciding what is enabled
 * (the counts stay per node in the World, so the layout is the same).
 */
const B_CRASHES = 0;
const B_DROPS = 1;
const B_DUPS = 2;
const B_PAUSES = 3;
const B_DISK = 4;
const B_TIMEOUTS = 5;
/**
 * `--torn-tails`: the last durable frame of a down node's log damaged (the `tear` event; sim/stepped/cluster.ts replays it).
 * The count travels with the node: a correct node with one refuses to start (until the end-of-path heal
 * repairs its disk); under --unsafe torn-tail-dropped it lost its last entry and starts.
 */
const B_TORN = 6;
/** `--stream-timeouts`: a snapshot stream's retransmission timer (chunked snapshots); a timer, so per node in either budget mode. */
const B_STREAM = 7;
const PER_NODE_BUDGETS = 8;
/**
 * Words of a World that say how the search reached it (the one-step sleep sets, `--sleep`: see
 * `Model.sleeps`); no fingerprint reads them, so two states that differ only there are one state.
 * VIA_LOCAL: 1 when the event that made the state was local (it changed only its owner node's words
 * and the network); VIA_RANK: the event's rank (relabelling-invariant); VIA_OWNER: its owner node;
 * VIA_MADE: a bit mask (id mod 32) of the messages it sent; VIA_NET_BEFORE: messages in flight before
 * it; VIA_SENT: how many messages it sent.
 */
const VIA_LOCAL = 0;
const VIA_RANK = 1;
const VIA_OWNER = 2;
const VIA_MADE = 3;
const VIA_NET_BEFORE = 4;
const VIA_SENT = 5;
const VIA_WORDS = 6;
/** The kind part of an event's rank (one-step sleep sets). */
const SLEEP_KIND_RANK: Readonly<Record<Action['kind'], number>> = {
  deliver: 1,
  drop: 2,
  duplicate: 3,
  timeout: 4,
  fsync: 5,
  crash: 6,
  restart: 7,
  lose_tail: 8,
  tick: 9,
  pause: 10,
  resume: 11,
  transfer: 12,
  request: 13,
  advance: 14,
  snapshot: 15,
  admin: 16,
  tear: 17,
  stream_timeout: 18,
};
/** Admin change types in INPUT_ADMIN codes. */
const CHANGE_TYPES: readonly ConfChange['type'][] = ['add_learner', 'promote', 'remove'];
/** Messages a World holds when the in-flight count is not bounded (more: the state is not expanded, and the summary says so). */
const UNBOUNDED_NET = 96;

/** Offsets of the fields of a World. */
export class Layout {
  readonly nodes = 0;
  /** `--time ticks`, per node: real steps since its clock last ticked (mc/clock.ts); 0 while down. */
  readonly phases: number;
  readonly paused: number;
  /** `--time ticks`: real steps so far (bounded by --max-time). */
  readonly now: number;
  /** `--time ticks`, per node: ticks its clock made while the process was paused (reported at the wake-up). */
  readonly backlog: number;
  /** How the state was reached (VIA_*): not part of the state, never hashed. */
  readonly via: number;
  /** Per operation: status, node it waits at (-1), attempts made, read floor (-1 unset). */
  readonly ops: number;
  /** Leader of each term 0..maxTerm+1 (-1: none yet): Election Safety's history variable. */
  readonly leaders: number;
  /** Id of the committed history (CommitTable). */
  readonly committed: number;
  /** Per-node fault budgets used: budget + kind * n + node (B_*). */
  readonly budget: number;
  /** Admin configuration changes so far (bounded by --config-changes). */
  readonly configChanges: number;
  readonly transfers: number;
  /** Snapshot saves so far (bounded by --snapshots). */
  readonly snapshots: number;
  readonly histLen: number;
  /** History events as triples (kind, op, value; value -1 = null). */
  readonly hist: number;
  readonly netLen: number;
  /** Message ids in flight, ascending (a multiset). */
  readonly net: number;
  readonly netCapacity: number;
  readonly size: number;

  constructor(
    readonly n: number,
    readonly opCount: number,
    readonly maxTerm: number,
    /** The bound on messages in flight; 0: none (the network then holds up to UNBOUNDED_NET). */
    readonly maxInFlight: number,
  ) {
    this.phases = n;
    this.paused = 2 * n;
    this.now = 2 * n + 1;
    this.backlog = 2 * n + 2;
    this.via = 3 * n + 2;
    this.ops = this.via + VIA_WORDS;
    this.leaders = this.ops + 4 * opCount;
    this.committed = this.leaders + maxTerm + 2;
    this.budget = this.committed + 1;
    this.configChanges = this.budget + PER_NODE_BUDGETS * n;
    this.transfers = this.configChanges + 1;
    this.snapshots = this.transfers + 1;
    this.histLen = this.snapshots + 1;
    this.hist = this.histLen + 1;
    this.netLen = this.hist + 6 * opCount;
    this.net = this.netLen + 1;
    // Room beyond the bound for what one step can add (a state over the bound is checked, then not expanded).
    this.netCapacity = maxInFlight > 0 ? maxInFlight + 4 * n + 8 : UNBOUNDED_NET;
    this.size = this.net + this.netCapacity;
  }
}

interface NodeStepResult {
  readonly next: number;
  readonly out: readonly number[];
  readonly replies: readonly ClientReply[];
  readonly served: readonly ServedRead[];
  readonly applied: readonly Entry[];
  /** A snapshot became durable (a save or an install). */
  readonly snapshotSaved: boolean;
  readonly threw: string | null;
}

interface CommitRecord {
  readonly id: number;
  /** It holds a `config` entry, which names nodes: its fingerprint then depends on the relabelling (hashUnder). */
  readonly hasConfig: boolean;
  /** With hasConfig: fingerprint lanes per permutation, [hi, lo] at 2p, 2p+1, 0 and 0 until computed. */
  readonly hashes: Int32Array | null;
  readonly entries: readonly Entry[];
  /** The term in which each entry was first known committed (by the committing node's currentTerm). */
  readonly terms: readonly number[];
  readonly hi: number;
  readonly lo: number;
}

/** Committed histories by content. */
class CommitTable {
  private readonly byKey = new Map<string, CommitRecord>();
  private readonly records: CommitRecord[] = [];

  constructor(
    private readonly logs: LogTable,
    private readonly permCount: number,
  ) {}

  get(id: number): CommitRecord {
    return this.records[id]!;
  }

  /** The fingerprint of a committed history with config entries under relabelling `map` (permutation p), into `lanes`. */
  hashUnder(record: CommitRecord, p: number, map: ReadonlyMap<NodeId, NodeId>): void {
    const hashes = record.hashes!;
    if (hashes[2 * p] === 0 && hashes[2 * p + 1] === 0) {
      let content = '';
      for (let i = 0; i < record.entries.length; i++) {
        const entry = record.entries[i]!;
        const data = entry.type === 'config' && p !== 0 ? relabelConfigData(entry.data, map) : entry.data;
        content += `${entry.term}|${entry.type}|${data}|${record.terms[i]}\n`;
      }
      hashString(content);
      // (0, 0) marks "not computed": a fingerprint that happens to be it is nudged.
      hashes[2 * p] = lanes[0]! === 0 && lanes[1]! === 0 ? 1 : lanes[0]!;
      hashes[2 * p + 1] = lanes[1]!;
    }
    lanes[0] = hashes[2 * p]!;
    lanes[1] = hashes[2 * p + 1]!;
  }

  intern(entries: readonly Entry[], terms: readonly number[]): CommitRecord {
    let key = '';
    for (let i = 0; i < entries.length; i++) key += `${entries[i]!.term}:${this.logs.dataId(entries[i]!)}:${terms[i]},`;
    let record = this.byKey.get(key);
    if (record === undefined) {
      // The fingerprint from content, never from this thread's ids: worker threads must agree on it.
      let content = '';
      for (let i = 0; i < entries.length; i++) content += `${entries[i]!.term}|${entries[i]!.type}|${entries[i]!.data}|${terms[i]}\n`;
      hashString(content);
      const hasConfig = entries.some((entry) => entry.type === 'config');
      record = {
        id: this.records.length,
        hasConfig,
        hashes: hasConfig ? new Int32Array(2 * this.permCount) : null,
        entries,
        terms,
        hi: lanes[0]!,
        lo: lanes[1]!,
      };
      this.byKey.set(key, record);
      this.records.push(record);
    }
    return record;
  }
}

/** Worlds in transit between threads (Model.exportWorlds / importWorlds): structured-clone friendly. */
export interface WorldBatch {
  readonly nodeStates: SteppedNodeState[];
  readonly nodeSlots: number[];
  readonly messages: SteppedMessage[];
  readonly commits: { entries: readonly Entry[]; terms: readonly number[] }[];
  readonly worlds: Int32Array;
  readonly fps: Int32Array;
}

export interface ModelStats {
  /** States not expanded because the network held more than a World can (only without --max-inflight). */
  netOverflows: number;
  memoHits: number;
  memoMisses: number;
  linearizabilityChecks: number;
  livenessChecks: number;
  /** Transitions that made a snapshot durable: a node's own save (the `snapshot` event) or an install from a leader (coverage). */
  snapshotSaves: number;
  snapshotInstalls: number;
}

const MEMO_LIMIT = 4_000_000;
/**
 * Node inputs as small integers (the memo's keys): one code per input
 * kind, with room for its argument (a resume's backlog, a transfer's
 * target, a request's operation and attempt, a delivery's message id).
 */
const INPUT_TICK = 1;
const INPUT_FSYNC = 2;
const INPUT_CRASH = 3;
const INPUT_RESTART = 4;
const INPUT_TIMEOUT = 5;
const INPUT_SNAPSHOT = 6;
const INPUT_RESUME = 16;
const INPUT_TRANSFER = 1024;
const INPUT_LOSE_TAIL = 1040;
/** + the peer's slot (chunked snapshots). */
const INPUT_STREAM_TIMEOUT = 1100;
/** + change type (CHANGE_TYPES) * 16 + target node. */
const INPUT_ADMIN = 1536;
/** + op * 64 + attempt (ops < 32, attempts < 64: options.ts bounds them far lower). */
const INPUT_REQUEST = 2048;
const INPUT_DELIVER = 4096;
const NO_ENTRIES: readonly Entry[] = [];

/** The client operations the bounds ask for: puts, then cas, then reads; each its own client. */
export function clientOps(options: McOptions): ClientOpSpec[] {
  const { writes, cas, reads, keys } = options.bounds;
  const ops: ClientOpSpec[] = [];
  const key = (i: number): string => `k${i % keys}`;
  for (let i = 0; i < writes; i++) ops.push({ clientId: `c${ops.length}`, seq: 1, op: { type: 'put', key: key(i), value: String(i + 1) } });
  for (let i = 0; i < cas; i++) {
    ops.push({
      clientId: `c${ops.length}`,
      seq: 1,
      op: { type: 'cas', key: key(i), expected: writes > 0 ? '1' : null, value: String(writes + i + 1) },
    });
  }
  for (let i = 0; i < reads; i++) ops.push({ clientId: `c${ops.length}`, seq: 1, op: { type: 'get', key: key(i) } });
  return ops;
}

export function steppedParams(options: McOptions): SteppedParams {
  return {
    nodeCount: options.bounds.nodes,
    electionTicks: options.electionTicks,
    heartbeatTicks: options.heartbeatTicks,
    readMode: options.readMode,
    clockDriftBound: options.clockDriftBound,
    unsafe: options.unsafe,
    skipReadQuorum: options.skipReadQuorum,
    ...(options.commitNotice === 'immediate' ? { commitNotice: 'immediate' as const } : {}),
    // Without snapshots the node's default (never reached): the configuration, and so every state, as before.
    ...(options.bounds.snapshots > 0
      ? { snapshotEveryEntries: options.snapshotEvery, snapshotTrailingEntries: options.snapshotTrailing }
      : {}),
    ...(options.spares > 0 ? { spareCount: options.spares } : {}),
    ...(options.bounds.snapshots > 0 && options.snapshotChunkBytes > 0 ? { snapshotChunkBytes: options.snapshotChunkBytes } : {}),
  };
}

export class Model {
  readonly layout: Layout;
  readonly params: SteppedParams;
  readonly ops: readonly ClientOpSpec[];
  readonly perms: Permutations;
  readonly logs = new LogTable();
  readonly nodes: NodeTable;
  readonly msgs: MessageTable;
  readonly stats: ModelStats = {
    netOverflows: 0,
    memoHits: 0,
    memoMisses: 0,
    linearizabilityChecks: 0,
    livenessChecks: 0,
    snapshotSaves: 0,
    snapshotInstalls: 0,
  };
  private readonly commits: CommitTable;
  /** Membership is modelled (--spares, --config-changes): the admin word is hashed, commit-quorum may be checked. */
  private readonly membership: boolean;
  private readonly configs: readonly RaftConfig[];
  private readonly ids: readonly NodeId[];
  /** The node-transition memo: per interned node state, its reactions by input code. */
  private readonly memo: (Map<number, NodeStepResult> | undefined)[] = [];
  /** Per message id: its fingerprint minimised over relabellings (rankOf). */
  private readonly msgKeys = new Map<number, number>();
  private memoSize = 0;
  private readonly linearizable = new Map<string, boolean>();
  private readonly floors = new Map<string, number>();
  private readonly hasher = new Hasher();
  private readonly candidates: number[] = [];
  private readonly signatures: Int32Array;
  /** Per slot, the fingerprint of what travels with a node under relabelling (clock, pause, budgets): [hi, lo]. */
  private readonly slotExtras: Int32Array;
  /** `--time ticks`: the shortest and longest tick period in real steps (mc/clock.ts). */
  private readonly fastTickSteps: number;
  private readonly slowTickSteps: number;

  constructor(readonly options: McOptions) {
    const b = options.bounds;
    this.params = steppedParams(options);
    this.ops = clientOps(options);
    this.layout = new Layout(b.nodes, this.ops.length, b.maxTerm, b.maxInFlight);
    // Spares are not interchangeable with bootstrap voters (mc/symmetry.ts): relabellings keep the two blocks.
    this.perms = allPermutations(b.nodes, b.nodes - options.spares);
    this.membership = modelsMembership(options);
    this.nodes = new NodeTable(this.perms, this.logs);
    this.msgs = new MessageTable(this.perms);
    this.commits = new CommitTable(this.logs, this.perms.perms.length);
    this.ids = Array.from({ length: b.nodes }, (_, i) => nodeIdOf(i));
    this.configs = this.ids.map((id) => coreConfigFor(this.params, id));
    this.signatures = new Int32Array(b.nodes);
    this.slotExtras = new Int32Array(2 * b.nodes);
    this.fastTickSteps = options.tickSteps;
    this.slowTickSteps = options.time === 'ticks' ? slowestTickSteps(options.tickSteps, options.clockDriftBound) : options.tickSteps;
  }

  private enabled(property: PropertyName): boolean {
    return this.options.properties.has(property);
  }

  // ---------------------------------------------------------------- states

  private preludeCache: { world: World; events: SteppedEvent[] } | null = null;

  /**
   * The state the search starts from. `--start empty`: every node started
   * on an empty disk, nothing in flight, no operation invoked. `--start
   * leader`: after a fixed prelude from there (n1's timer goes off, then
   * every message is delivered, smallest text first, and every disk
   * fsyncs, until nothing is left): n1 leads term 1 with its noop committed
   * everywhere; budgets start unused. The prelude's events open every
   * counterexample (`preludeEvents`), so a trace still replays from empty
   * disks.
   */
  initial(): World {
    if (this.options.start === 'empty') return this.emptyWorld();
    return this.prelude().world;
  }

  preludeEvents(): readonly SteppedEvent[] {
    return this.options.start === 'empty' ? [] : this.prelude().events;
  }

  private prelude(): { world: World; events: SteppedEvent[] } {
    if (this.preludeCache !== null) return this.preludeCache;
    const L = this.layout;
    let w = this.emptyWorld();
    const events: SteppedEvent[] = [];
    const take = (action: Action): void => {
      events.push(this.toEvent(w, action));
      const result = this.step(w, action);
      if (result.violation !== null) throw new Error(`mc: the prelude violates ${result.violation.property}: ${result.violation.message}`);
      w = result.world;
    };
    const settle = (): void => {
      for (let guard = 0; guard < 10_000; guard++) {
        const unsynced = Array.from({ length: L.n }, (_, i) => i).find((i) => this.node(w, i).summary.unsynced);
        if (unsynced !== undefined) {
          take({ kind: 'fsync', node: unsynced });
          continue;
        }
        const len = w[L.netLen]!;
        if (len === 0) return;
        let first = w[L.net]!;
        for (let j = 1; j < len; j++) if (this.msgs.get(w[L.net + j]!).text < this.msgs.get(first).text) first = w[L.net + j]!;
        take({ kind: 'deliver', msg: first });
      }
    };
    take({ kind: 'timeout', node: 0 });
    settle();
    // --learners: n1 adds the first spares as learners, one change at a time (§4.1), each caught up before the next.
    for (let k = 0; k < this.options.learners; k++) {
      const target = L.n - this.options.spares + k;
      take({ kind: 'admin', node: 0, change: 'add_learner', target });
      settle();
      const configuration = this.node(w, 0).summary.configuration;
      if (configuration === null || !configuration.learners.includes(this.ids[target]!))
        throw new Error(`mc: the prelude did not add ${this.ids[target]} as a learner`);
    }
    const leader = this.node(w, 0).summary;
    // Under --unsafe commit-old-terms a new leader appends no noop (the flag's point), so nothing is committed yet.
    const noopExpected = !this.params.unsafe.commitOldTerms;
    if (w[L.netLen] !== 0 || leader.role !== 'leader' || (noopExpected && leader.commitIndex < 1))
      throw new Error('mc: the prelude did not end with n1 leading and its noop committed');
    w = w.slice();
    w.fill(0, L.budget, L.snapshots + 1);
    // The start state was reached by no event: its VIA words must not claim the prelude's last one (the
    // one-step sleep sets would read that event as its parent's and prune successors nothing else reaches).
    w.fill(0, L.via, L.via + VIA_WORDS);
    this.preludeCache = { world: w, events };
    return this.preludeCache;
  }

  private emptyWorld(): World {
    const L = this.layout;
    const w = new Int32Array(L.size);
    for (let i = 0; i < L.n; i++) {
      const node = SteppedNode.fresh(this.ids[i]!, this.configs[i]!, this.params.unsafe, this.params.snapshotChunkBytes ?? null);
      node.restart();
      w[L.nodes + i] = this.nodes.intern(i, node.state()).id;
    }
    for (let k = 0; k < L.opCount; k++) {
      w[L.ops + 4 * k] = OP_IDLE;
      w[L.ops + 4 * k + 1] = -1;
      w[L.ops + 4 * k + 3] = -1;
    }
    for (let t = 0; t < L.maxTerm + 2; t++) w[L.leaders + t] = -1;
    w[L.committed] = this.commits.intern(NO_ENTRIES, []).id;
    return w;
  }

  node(w: World, slot: number): NodeRecord {
    return this.nodes.get(w[this.layout.nodes + slot]!);
  }

  /** Ticks a paused node slept through when it resumes now (always 0 with --time timeouts: no clocks). */
  backlogOf(w: World, slot: number): number {
    return w[this.layout.backlog + slot]!;
  }

  /**
   * Whether real time may advance a step: within --max-time, and no running
   * node's clock is due (a node whose phase reached the longest period must
   * tick first: mc/clock.ts).
   */
  private mayAdvance(w: World): boolean {
    const L = this.layout;
    if (w[L.now]! >= this.options.bounds.maxTime * this.fastTickSteps) return false;
    for (let i = 0; i < L.n; i++) {
      if (!this.node(w, i).summary.up || (w[L.paused]! & (1 << i)) !== 0) continue;
      if (w[L.phases + i]! >= this.slowTickSteps) return false;
    }
    return true;
  }

  /** One step of real time: every up node's clock moves on; a paused one's ticks go to its backlog. */
  private advance(next: World): void {
    const L = this.layout;
    next[L.now]!++;
    for (let i = 0; i < L.n; i++) {
      if (!this.node(next, i).summary.up) continue;
      const phase = next[L.phases + i]! + 1;
      if ((next[L.paused]! & (1 << i)) !== 0 && phase >= this.fastTickSteps) {
        // A stopped process's clock still runs (at the fastest rate: any rate within the bound is a clock; a
        // tick due when it paused was counted then, so the phase here was below Q and the period is Q).
        next[L.backlog + i]!++;
        next[L.phases + i] = 0;
      } else next[L.phases + i] = phase;
    }
  }

  // ---------------------------------------------------------------- actions

  /**
   * A node whose steps commute with every other event: not a leader, no
   * client request pending at it (in its host or as the node an operation
   * waits at). Its steps touch only its own state and the messages
   * addressed to it or sent by it; a non-leader never extends what is
   * committed (a follower's commitIndex comes from a leader's, which was
   * recorded when the leader advanced it) and never answers a client.
   * `step` checks both at run time under the reduction.
   */
  private isQuiet(w: World, slot: number): boolean {
    const L = this.layout;
    const s = this.node(w, slot).summary;
    if ((s.up && s.role === 'leader') || s.clientPending) return false;
    for (let k = 0; k < L.opCount; k++) if (w[L.ops + 4 * k] === OP_WAITING && w[L.ops + 4 * k + 1] === slot) return false;
    return true;
  }

  /**
   * The events to explore from `w`. Without the partial-order reduction:
   * every enabled event. With it (--time timeouts, no in-flight bound): the
   * enabled events of one quiet node (see isQuiet), when some quiet node has
   * any: its deliveries, the losses and duplications of messages to it, its
   * timer, fsync, crash, restart, pause and wake-up. That set is persistent
   * (Godefroid's persistent sets): no event of another node or client can
   * disable one of them or fails to commute with them, so every path from
   * `w` can be reordered to start with one of them, reaching the same
   * states; every end of path (where liveness is checked) stays reachable.
   * Fault budgets are per node, so one node's faults never disable
   * another's; the in-flight bound is not a per-node count (reordering
   * changes how many messages wait at once), hence the reduction runs
   * without it. The state graph has no cycles (every event
   * uses up a message or a budget), so no cycle proviso is needed. The
   * first counterexample found is the shortest in the reduced graph.
   */
  actions(w: World, out: Action[]): void {
    this.allActions(w, out);
    if (!this.options.por || out.length <= 1) return;
    const L = this.layout;
    let best = -1;
    let bestCount = Infinity;
    for (let i = 0; i < L.n; i++) {
      if (!this.isQuiet(w, i)) continue;
      let count = 0;
      for (const action of out) if (this.ownerOf(action) === i) count++;
      if (count > 0 && count < bestCount) {
        best = i;
        bestCount = count;
      }
    }
    if (best === -1 || bestCount === out.length) return;
    let kept = 0;
    for (const action of out) if (this.ownerOf(action) === best) out[kept++] = action;
    out.length = kept;
  }

  /**
   * Whether delivering `msg` now would change nothing at its receiver: same
   * state, nothing sent, applied or answered (a vote answer after the
   * election ended, a duplicate AppendEntries already acknowledged...).
   * Such a delivery only takes the message out of the network, and every
   * state reachable without it is reachable with it still in flight (a
   * message in flight forces nothing), so it is not explored: the message
   * stays until it matters or the path ends. (Safety properties only lose
   * nothing this way; the liveness heal delivers what is left.)
   */
  private isNoOpDelivery(w: World, msg: number, to: number): boolean {
    const record = this.node(w, to);
    const result = this.nodeStep(to, record, INPUT_DELIVER + msg);
    return (
      result.next === record.id &&
      result.out.length === 0 &&
      result.replies.length === 0 &&
      result.served.length === 0 &&
      result.applied.length === 0 &&
      result.threw === null
    );
  }

  /** The node whose state an event touches; -1 for a client request (it touches the client and a leader). */
  private ownerOf(action: Action): number {
    switch (action.kind) {
      case 'deliver':
      case 'drop':
      case 'duplicate':
        return this.msgs.get(action.msg).to;
      case 'request':
      case 'advance':
        return -1;
      default:
        return action.node;
    }
  }

  /** Every event that can happen in `w`, within the bounds on faults. */
  private allActions(w: World, out: Action[]): void {
    out.length = 0;
    const L = this.layout;
    const b = this.options.bounds;
    // --fault-budgets cluster: a fault budget is spent by any node (timer firings stay per node).
    const cluster = this.options.faultBudgets === 'cluster';
    const used = (kind: number, node: number): number => {
      if (!cluster || kind === B_TIMEOUTS || kind === B_STREAM) return w[L.budget + kind * L.n + node]!;
      let sum = 0;
      for (let i = 0; i < L.n; i++) sum += w[L.budget + kind * L.n + i]!;
      return sum;
    };
    const paused = w[L.paused]!;
    const netLen = w[L.netLen]!;
    let previous = -1;
    for (let j = 0; j < netLen; j++) {
      const msg = w[L.net + j]!;
      if (msg === previous) continue; // copies of one message: one action each kind
      previous = msg;
      const to = this.msgs.get(msg).to;
      if (
        this.node(w, to).summary.up &&
        (paused & (1 << to)) === 0 &&
        !(this.options.noopDeliveries === false && this.isNoOpDelivery(w, msg, to))
      ) {
        out.push({ kind: 'deliver', msg });
      }
      if (used(B_DROPS, to) < b.drops) out.push({ kind: 'drop', msg });
      if (used(B_DUPS, to) < b.dups && (b.maxInFlight === 0 || netLen < b.maxInFlight)) out.push({ kind: 'duplicate', msg });
    }
    if (this.options.time === 'ticks' && this.mayAdvance(w)) out.push({ kind: 'advance' });
    for (let i = 0; i < L.n; i++) {
      const s = this.node(w, i).summary;
      const isPaused = (paused & (1 << i)) !== 0;
      if (!s.up) {
        // A correct node whose last frame is torn refuses to start (its own count, whatever the budget mode).
        if (!this.options.unsafe.tornTailDropped && w[L.budget + B_TORN * L.n + i]! > 0) continue;
        out.push({ kind: 'restart', node: i });
        if (used(B_DISK, i) < b.diskFaults && s.storedEntries) out.push({ kind: 'lose_tail', node: i });
        if (used(B_TORN, i) < b.tornTails && s.storedEntries) out.push({ kind: 'tear', node: i });
        continue;
      }
      if (isPaused) {
        out.push({ kind: 'resume', node: i });
      } else {
        if (this.options.time === 'ticks') {
          if (w[L.phases + i]! >= this.fastTickSteps) out.push({ kind: 'tick', node: i });
        } else if (used(B_TIMEOUTS, i) < b.timeouts) {
          out.push({ kind: 'timeout', node: i });
        }
        if (s.unsynced) out.push({ kind: 'fsync', node: i });
        if (s.streamPeers.length > 0 && used(B_STREAM, i) < b.streamTimeouts) {
          for (const peer of s.streamPeers) out.push({ kind: 'stream_timeout', node: i, to: this.ids.indexOf(peer) });
        }
        if (s.snapshotSave && w[L.snapshots]! < b.snapshots) out.push({ kind: 'snapshot', node: i });
        if (used(B_PAUSES, i) < b.pauses) out.push({ kind: 'pause', node: i });
        if (s.role === 'leader' && w[L.transfers]! < b.transfers) {
          for (let j = 0; j < L.n; j++) if (j !== i) out.push({ kind: 'transfer', node: i, to: j });
        }
        if (s.role === 'leader' && w[L.configChanges]! < b.configChanges) this.adminActions(w, i, out);
      }
      if (used(B_CRASHES, i) < b.crashes) out.push({ kind: 'crash', node: i });
    }
    for (let k = 0; k < L.opCount; k++) {
      const status = w[L.ops + 4 * k]!;
      const attempts = w[L.ops + 4 * k + 2]!;
      if (status === OP_DONE || attempts > b.retries) continue;
      const isRead = this.ops[k]!.op.type === 'get';
      const waitingAt = status === OP_WAITING ? w[L.ops + 4 * k + 1]! : -1;
      for (let i = 0; i < L.n; i++) {
        const s = this.node(w, i).summary;
        // A client that gave up waiting (a timeout) asks another node; one waiting at i keeps waiting there.
        if (!s.up || (paused & (1 << i)) !== 0 || i === waitingAt) continue;
        // A node that is not the leader answers not_leader and changes nothing; the client
        // then retries, so sending there first adds no behaviour (only weaker histories).
        if (s.role === 'leader' || (isRead && this.params.unsafe.localReads)) out.push({ kind: 'request', op: k, node: i });
      }
    }
  }

  /**
   * The admin requests leader `slot` may get (--changes): each single-server
   * change that is valid against its configuration in effect
   * (applyConfChange: add a non-member as learner, promote a learner, remove a
   * member) and that the core acts on: a request the core refuses (before an
   * entry of its term is committed, while a change is uncommitted, a learner
   * not caught up) changes nothing but the request count, so it is not
   * explored, as a no-op delivery is not.
   */
  private adminActions(w: World, slot: number, out: Action[]): void {
    const record = this.node(w, slot);
    const configuration = record.summary.configuration;
    if (configuration === null) return;
    for (let t = 0; t < CHANGE_TYPES.length; t++) {
      const change = CHANGE_TYPES[t]!;
      if (!this.options.changes.includes(change === 'add_learner' ? 'add' : change)) continue;
      for (let target = 0; target < this.layout.n; target++) {
        if (!applyConfChange(configuration, { type: change, node: this.ids[target]! }).ok) continue;
        const result = this.nodeStep(slot, record, INPUT_ADMIN + t * 16 + target);
        if (result.next === record.id && result.out.length === 0 && result.threw === null) continue;
        out.push({ kind: 'admin', node: slot, change, target });
      }
    }
  }

  // ---------------------------------------------------------------- node transitions

  /**
   * A node's reaction to one input, memoised by (node state, input). The
   * input is a small integer (INPUT_*), so a memo hit allocates nothing.
   */
  private nodeStep(slot: number, record: NodeRecord, code: number): NodeStepResult {
    let memo = this.options.memo ? this.memo[record.id] : undefined;
    if (memo !== undefined) {
      const known = memo.get(code);
      if (known !== undefined) {
        this.stats.memoHits++;
        return known;
      }
    }
    this.stats.memoMisses++;
    const node = SteppedNode.fromState(
      this.ids[slot]!,
      this.configs[slot]!,
      this.params.unsafe,
      record.state,
      this.params.snapshotChunkBytes ?? null,
    );
    let threw: string | null = null;
    try {
      this.applyInput(node, code);
    } catch (error) {
      threw = error instanceof Error ? error.message : String(error);
    }
    const effects = node.takeEffects();
    const next = threw === null ? this.nodes.intern(slot, node.state()).id : record.id;
    const result: NodeStepResult = {
      next,
      out: effects.messages.map((m) => this.msgs.intern(m).id),
      replies: effects.replies,
      served: effects.served,
      applied: effects.applied.map((a) => a.entry),
      snapshotSaved: effects.snapshotSaved !== null,
      threw,
    };
    if (this.options.memo) {
      if (this.memoSize >= MEMO_LIMIT) {
        this.memo.length = 0;
        this.memoSize = 0;
      }
      memo = this.memo[record.id];
      if (memo === undefined) {
        memo = new Map();
        this.memo[record.id] = memo;
      }
      memo.set(code, result);
      this.memoSize++;
    }
    return result;
  }

  /** Gives `node` the input `code` names (see INPUT_*). */
  private applyInput(node: SteppedNode, code: number): void {
    if (code >= INPUT_DELIVER) node.deliver(this.msgs.get(code - INPUT_DELIVER).message);
    else if (code >= INPUT_REQUEST) {
      const k = (code - INPUT_REQUEST) >> 6;
      node.clientRequest({ op: k, attempt: (code - INPUT_REQUEST) & 63 }, requestOf(this.ops[k]!));
    } else if (code >= INPUT_ADMIN) {
      const type = CHANGE_TYPES[(code - INPUT_ADMIN) >> 4]!;
      node.admin({ type, node: this.ids[(code - INPUT_ADMIN) & 15]! });
    } else if (code >= INPUT_STREAM_TIMEOUT) node.streamTimeout(this.ids[code - INPUT_STREAM_TIMEOUT]!);
    else if (code >= INPUT_LOSE_TAIL) node.loseLogTail(code - INPUT_LOSE_TAIL);
    else if (code >= INPUT_TRANSFER) node.transferLeadership(this.ids[code - INPUT_TRANSFER]!);
    else if (code >= INPUT_RESUME) node.resume(code - INPUT_RESUME);
    else if (code === INPUT_TICK) node.tick();
    else if (code === INPUT_FSYNC) node.fsync();
    else if (code === INPUT_CRASH) node.crash();
    else if (code === INPUT_RESTART) node.restart();
    else if (code === INPUT_TIMEOUT) node.timeout();
    else if (code === INPUT_SNAPSHOT) node.snapshot();
    else throw new Error(`mc: no node input ${code}`);
  }

  // ---------------------------------------------------------------- steps

  /**
   * What `action` does to `w`, with every enabled property checked on the
   * way. The new state is written into `into` when given (a scratch World
   * the caller reuses: the search copies only the states it keeps), else
   * into a new World.
   */
  step(w: World, action: Action, into?: World): StepResult {
    const L = this.layout;
    let next: World;
    if (into === undefined) next = w.slice();
    else {
      into.set(w);
      next = into;
    }
    let violation: Violation | null = null;
    const violate = (property: PropertyName, message: string, then?: Action): void => {
      if (violation === null && this.enabled(property))
        violation = then === undefined ? { property, message } : { property, message, then };
    };
    let slot = -1;
    let result: NodeStepResult | null = null;
    switch (action.kind) {
      case 'deliver': {
        this.removeMessage(next, action.msg);
        slot = this.msgs.get(action.msg).to;
        result = this.nodeStep(slot, this.node(w, slot), INPUT_DELIVER + action.msg);
        break;
      }
      case 'drop':
        this.removeMessage(next, action.msg);
        next[L.budget + B_DROPS * L.n + this.msgs.get(action.msg).to]!++;
        break;
      case 'duplicate':
        this.addMessages(next, [action.msg]);
        next[L.budget + B_DUPS * L.n + this.msgs.get(action.msg).to]!++;
        break;
      case 'tick':
        slot = action.node;
        next[L.phases + slot] = 0;
        result = this.nodeStep(slot, this.node(w, slot), INPUT_TICK);
        break;
      case 'timeout':
        slot = action.node;
        next[L.budget + B_TIMEOUTS * L.n + slot]!++;
        result = this.nodeStep(slot, this.node(w, slot), INPUT_TIMEOUT);
        break;
      case 'fsync':
        slot = action.node;
        result = this.nodeStep(slot, this.node(w, slot), INPUT_FSYNC);
        break;
      case 'snapshot':
        slot = action.node;
        next[L.snapshots]!++;
        result = this.nodeStep(slot, this.node(w, slot), INPUT_SNAPSHOT);
        break;
      case 'crash':
        slot = action.node;
        next[L.budget + B_CRASHES * L.n + slot]!++;
        next[L.paused] = next[L.paused]! & ~(1 << slot);
        // A down node has no clock; a restart starts a fresh tick period.
        next[L.phases + slot] = 0;
        next[L.backlog + slot] = 0;
        for (let k = 0; k < L.opCount; k++) {
          // The client times out on a request to a crashed node.
          if (next[L.ops + 4 * k] === OP_WAITING && next[L.ops + 4 * k + 1] === slot) {
            next[L.ops + 4 * k] = OP_RETRY;
            next[L.ops + 4 * k + 1] = -1;
          }
        }
        result = this.nodeStep(slot, this.node(w, slot), INPUT_CRASH);
        break;
      case 'restart':
        slot = action.node;
        result = this.nodeStep(slot, this.node(w, slot), INPUT_RESTART);
        break;
      case 'pause':
        next[L.paused] = next[L.paused]! | (1 << action.node);
        next[L.budget + B_PAUSES * L.n + action.node]!++;
        if (this.options.time === 'ticks' && next[L.phases + action.node]! >= this.fastTickSteps) {
          // A tick that was due when the process stopped: its clock ticks now (the period stays within [Q, R]).
          next[L.backlog + action.node]!++;
          next[L.phases + action.node] = 0;
        }
        break;
      case 'resume': {
        slot = action.node;
        const backlog = this.backlogOf(w, slot);
        next[L.paused] = next[L.paused]! & ~(1 << slot);
        next[L.backlog + slot] = 0;
        result = this.nodeStep(slot, this.node(w, slot), INPUT_RESUME + backlog);
        break;
      }
      case 'lose_tail':
        slot = action.node;
        next[L.budget + B_DISK * L.n + slot]!++;
        result = this.nodeStep(slot, this.node(w, slot), INPUT_LOSE_TAIL + 1);
        break;
      case 'tear':
        // Under the flag the storage drops the damaged frame, here its last entry; a correct node just stays down.
        next[L.budget + B_TORN * L.n + action.node]!++;
        if (this.options.unsafe.tornTailDropped) {
          slot = action.node;
          result = this.nodeStep(slot, this.node(w, slot), INPUT_LOSE_TAIL + 1);
        }
        break;
      case 'stream_timeout':
        slot = action.node;
        next[L.budget + B_STREAM * L.n + slot]!++;
        result = this.nodeStep(slot, this.node(w, slot), INPUT_STREAM_TIMEOUT + action.to);
        break;
      case 'transfer': {
        slot = action.node;
        next[L.transfers]!++;
        result = this.nodeStep(slot, this.node(w, slot), INPUT_TRANSFER + action.to);
        break;
      }
      case 'admin':
        slot = action.node;
        next[L.configChanges]!++;
        result = this.nodeStep(slot, this.node(w, slot), INPUT_ADMIN + CHANGE_TYPES.indexOf(action.change) * 16 + action.target);
        break;
      case 'advance':
        this.advance(next);
        break;
      case 'request': {
        slot = action.node;
        const k = action.op;
        const spec = this.ops[k]!;
        const attempt = next[L.ops + 4 * k + 2]!;
        if (attempt === 0) {
          this.pushHistory(next, H_INVOKE, k, -1);
          if (spec.op.type === 'get') next[L.ops + 4 * k + 3] = this.readFloor(w[L.committed]!, spec.op.key);
        }
        next[L.ops + 4 * k] = OP_WAITING;
        next[L.ops + 4 * k + 1] = slot;
        next[L.ops + 4 * k + 2] = attempt + 1;
        result = this.nodeStep(slot, this.node(w, slot), INPUT_REQUEST + k * 64 + attempt);
        break;
      }
      default:
        assertNever(action, 'action');
    }

    if (result !== null) {
      const before = this.node(w, slot);
      const after = this.nodes.get(result.next);
      next[L.nodes + slot] = result.next;
      if (result.threw !== null) violate('no-crash', `${this.ids[slot]} threw: ${result.threw}`);
      if (result.snapshotSaved) {
        if (action.kind === 'snapshot') this.stats.snapshotSaves++;
        else this.stats.snapshotInstalls++;
      }
      this.addMessages(next, result.out);
      if (action.kind === 'deliver') this.checkAcknowledgements(action.msg, slot, before.state, after.state, result.out, violate);
      this.checkNodeChange(next, slot, before, after, violate);
      this.checkApplied(next, slot, result.applied, violate);
      this.handleClients(next, result, violate);
      if (
        this.options.por &&
        action.kind !== 'request' &&
        this.isQuiet(w, slot) &&
        (next[L.committed] !== w[L.committed] || result.replies.length > 0)
      ) {
        throw new Error(
          `mc: the partial-order reduction assumes a quiet node neither commits nor answers clients, but ${this.ids[slot]} did (${action.kind}); run without --por`,
        );
      }
    }
    if (this.options.deadMessages) this.dropDeadMessages(next);
    this.clearFinishedHistory(next);
    if (this.options.sleep) this.recordVia(w, next, action, slot, result);
    return { world: next, violation, inBounds: this.inBounds(next) };
  }

  /**
   * founded-acks (sim/stepped/answer-rules.ts): the answers a node gives a
   * delivered AppendEntries or InstallSnapshot (or a chunk of one), judged
   * when the request is stepped, where the request and the node's commit
   * index are both known exactly. An answer that waits in the Ready for its
   * fsync is sent by the node's next fsync: the violation names that event,
   * which the counterexample then ends with (so the replay sees the answer on
   * the wire). Only a node that was not already waiting on an fsync is
   * judged: then everything it sends now or waits to send was made by this
   * request. A waiting node's Ready holds answers to earlier requests (of
   * another term, with the same seq: a false "echo" a swarm walk found, seed
   * 41) and its new answer sits in the core until that fsync; the other order
   * (the fsync first) is judged.
   */
  private checkAcknowledgements(
    msg: number,
    slot: number,
    before: SteppedNodeState,
    after: SteppedNodeState,
    out: readonly number[],
    violate: (property: PropertyName, message: string, then?: Action) => void,
  ): void {
    if (after.running === null || before.running === null || before.running.awaiting !== null) return;
    if (!this.enabled('founded-acks')) return;
    const request = this.msgs.get(msg).message;
    const commit = after.running.core.commitIndex;
    const check = (answer: SteppedMessage, then?: Action): void => {
      const problem = answerProblem(request, answer, commit);
      if (problem !== null) violate('founded-acks', problem, then);
    };
    for (const id of out) check(this.msgs.get(id).message);
    for (const answer of after.running.awaiting?.ready.messages ?? []) check(answer, { kind: 'fsync', node: slot });
  }

  // ---------------------------------------------------------------- one-step sleep sets (--sleep)

  /**
   * Writes into `next`'s VIA words how it was reached from `w` by `action`:
   * whether the event was local, its rank, owner, what it sent, and the
   * network's size before it (Model.sleeps reads them when `next` is
   * expanded).
   *
   * Local: the event changed no word of the World but its owner node's
   * state, the owner's own fault budgets (per-node budgets; with
   * --fault-budgets cluster only its timer count) and the network. Ticks
   * (a clock), pauses, wake-ups, transfers, client requests, a node that
   * answers a client, commits, or becomes the first leader of a term all
   * change other words and are never local. A duplication is not local
   * under an in-flight bound (whether one is enabled depends on the
   * network's size, which every event changes).
   */
  private recordVia(w: World, next: World, action: Action, slot: number, result: NodeStepResult | null): void {
    const L = this.layout;
    const V = L.via;
    const owner = this.ownerOf(action);
    let local =
      owner >= 0 &&
      action.kind !== 'tick' &&
      action.kind !== 'pause' &&
      action.kind !== 'resume' &&
      action.kind !== 'transfer' &&
      action.kind !== 'admin' &&
      !(action.kind === 'duplicate' && this.options.bounds.maxInFlight > 0);
    if (local) {
      const perNode = this.options.faultBudgets === 'node';
      for (let i = 0; i < L.netLen && local; i++) {
        if (next[i] === w[i]) continue;
        if (i >= V && i < V + VIA_WORDS) continue;
        if (i === L.nodes + owner) continue;
        if (i >= L.budget && i < L.budget + PER_NODE_BUDGETS * L.n) {
          const kind = Math.floor((i - L.budget) / L.n);
          if ((i - L.budget) % L.n === owner && (perNode || kind === B_TIMEOUTS || kind === B_STREAM)) continue;
        }
        local = false;
      }
    }
    const sent = action.kind === 'duplicate' ? [action.msg] : (result?.out ?? []);
    let made = 0;
    for (const m of sent) made |= 1 << (m & 31);
    next[V + VIA_LOCAL] = local ? 1 : 0;
    next[V + VIA_RANK] = local ? this.rankOf(w, action, slot === -1 ? owner : slot) : 0;
    next[V + VIA_OWNER] = owner;
    next[V + VIA_MADE] = made;
    next[V + VIA_NET_BEFORE] = w[L.netLen]!;
    next[V + VIA_SENT] = sent.length;
  }

  /**
   * An event's rank, the same for the event in every state where its owner
   * is in the same state (and under every relabelling of the node ids):
   * its kind, its message's fingerprint minimised over relabellings (a
   * message event), and the id-blind signature of its owner's state. Equal
   * ranks never prune (see `sleeps`).
   */
  private rankOf(w: World, action: Action, owner: number): number {
    let key = 0;
    if (action.kind === 'deliver' || action.kind === 'drop' || action.kind === 'duplicate') {
      const known = this.msgKeys.get(action.msg);
      if (known !== undefined) key = known;
      else {
        const record = this.msgs.get(action.msg);
        key = 0x7fffffff;
        for (let p = 0; p < this.perms.perms.length; p++) {
          this.msgs.hashUnder(record, p);
          key = Math.min(key, lanes[0]!);
        }
        this.msgKeys.set(action.msg, key);
      }
    }
    this.hasher.reset(13).word(SLEEP_KIND_RANK[action.kind]).word(this.node(w, owner).signature).word(key).finish();
    return lanes[0]!;
  }

  /**
   * One-step sleep sets (Godefroid 1996, ch. 5, with the sleep set of a
   * state cut to the event that reached it): whether the successor \`t\` of
   * \`s\` by event \`e\` need not be inserted in the visited set, because an
   * orbit-mate of it is (or will be) inserted by the other order of a
   * commuting diamond. The transition is still stepped and checked (every
   * property, every transition); only its fingerprint and insertion are
   * saved. So the states explored are those of the full search (up to
   * relabelling), and so are the verdicts and counterexample lengths.
   *
   * Let \`s\` be inserted as a(p) by its stored parent p. \`e\` sleeps at \`s\` when
   * (1) a and e are local (recordVia) and of different owners, so each
   * changes only its owner's words and the network, and reads nothing the
   * other writes (dead-message removal is a function of the receivers'
   * disk terms, applied after every step, so it commutes too);
   * (2) e does not consume or copy a message a sent (VIA_MADE; conservative
   * on id collisions mod 32), so e was enabled at p, and a is enabled at
   * e(p) (its owner's state, budget and message are untouched by e);
   * hence a(e(p)) = e(a(p)) = t, up to the VIA words;
   * (3) e(p) is within the bounds: its nodes are t's (for e's owner) or
   * p's (the rest), both within the bounds, and its network holds at most
   * |net(p)| - consumed + sent messages, checked against the in-flight
   * bound and the World's capacity;
   * (4) rank(e) < rank(a) strictly.
   * Claim: for every inserted x below the depth bound and event e enabled
   * at x with e(x) in bounds, an orbit-mate of e(x) is inserted at depth
   * <= depth(x)+1. Induction on (rank(e) descending, insertion order of x):
   * if e did not sleep at x it is inserted directly; else x = a(p): by the
   * claim for (p, e) (same rank, p inserted earlier) an orbit-mate y =
   * π(e(p)) is inserted at depth <= depth(x), and by the claim for
   * (y, π(a)) (rank(π(a)) = rank(a) > rank(e): ranks are relabelling-
   * invariant and depend only on the owner's state, which e does not
   * change) an orbit-mate of π(a)(y) = π(t) is inserted at depth <=
   * depth(x)+1. Ranks take finitely many values, so the induction is
   * well-founded. So every reachable state has an orbit-mate inserted at
   * its BFS depth, and every transition from it is stepped and checked.
   */
  sleeps(s: World, e: Action, t: World): boolean {
    if (!this.options.sleep) return false;
    const L = this.layout;
    const V = L.via;
    if (s[V + VIA_LOCAL] !== 1 || t[V + VIA_LOCAL] !== 1) return false;
    if (s[V + VIA_OWNER] === t[V + VIA_OWNER]) return false;
    if (t[V + VIA_RANK]! >= s[V + VIA_RANK]!) return false;
    const consumes = e.kind === 'deliver' || e.kind === 'drop';
    if ((consumes || e.kind === 'duplicate') && (s[V + VIA_MADE]! & (1 << (e.msg & 31))) !== 0) return false;
    const netOfEp = s[V + VIA_NET_BEFORE]! - (consumes ? 1 : 0) + t[V + VIA_SENT]!;
    const b = this.options.bounds;
    if ((b.maxInFlight > 0 && netOfEp > b.maxInFlight) || netOfEp > L.netCapacity) return false;
    return true;
  }

  private inBounds(w: World): boolean {
    const b = this.options.bounds;
    const netLen = w[this.layout.netLen]!;
    if (netLen > this.layout.netCapacity || (b.maxInFlight > 0 && netLen > b.maxInFlight)) {
      if (netLen > this.layout.netCapacity) this.stats.netOverflows++;
      return false;
    }
    for (let i = 0; i < this.layout.n; i++) {
      const s = this.node(w, i).summary;
      if (s.term > b.maxTerm || s.logLength > b.maxLog) return false;
    }
    return true;
  }

  private removeMessage(w: World, msg: number): void {
    const L = this.layout;
    const len = w[L.netLen]!;
    for (let j = 0; j < len; j++) {
      if (w[L.net + j] === msg) {
        w.copyWithin(L.net + j, L.net + j + 1, L.net + len);
        w[L.net + len - 1] = 0;
        w[L.netLen] = len - 1;
        return;
      }
    }
    throw new Error(`mc: message ${msg} not in flight`);
  }

  /**
   * Adds sent messages, keeping the multiset sorted. The bound on messages in
   * flight is a constraint on states (a state over it is not expanded), not
   * a lossy buffer: so adding messages commutes, and losses are only the
   * ones the drop budget allows.
   */
  private addMessages(w: World, msgs: readonly number[]): void {
    const L = this.layout;
    for (const msg of msgs) {
      let len = w[L.netLen]!;
      if (len >= L.netCapacity) {
        w[L.netLen] = L.netCapacity + 1; // over the bound: marks the state out of bounds
        return;
      }
      let j = len;
      while (j > 0 && w[L.net + j - 1]! > msg) {
        w[L.net + j] = w[L.net + j - 1]!;
        j--;
      }
      w[L.net + j] = msg;
      w[L.netLen] = ++len;
    }
  }

  /** sim/stepped/network.ts: answers of a term older than the term on their receiver's disk are gone. */
  private dropDeadMessages(w: World): void {
    const L = this.layout;
    const len = w[L.netLen]!;
    if (len > L.netCapacity) return; // over the bound: not expanded anyway
    let kept = 0;
    for (let j = 0; j < len; j++) {
      const msg = w[L.net + j]!;
      const record = this.msgs.get(msg);
      if (isDeadMessage(record.message, this.node(w, record.to).summary.durableTerm)) continue;
      w[L.net + kept++] = msg;
    }
    for (let j = kept; j < len; j++) w[L.net + j] = 0;
    w[L.netLen] = kept;
  }

  /**
   * Appends a history event. Only the real-time order between a completion
   * and a later invocation matters to linearizability (Herlihy & Wing), so
   * within a run of invocations, or of completions, events are kept sorted
   * by operation: histories that differ only there are one state.
   */
  private pushHistory(w: World, kind: number, op: number, value: number): void {
    const L = this.layout;
    let at = w[L.histLen]!;
    w[L.histLen] = at + 1;
    const sameRun = (k: number): boolean => (k === H_INVOKE) === (kind === H_INVOKE);
    while (at > 0 && sameRun(w[L.hist + 3 * (at - 1)]!) && w[L.hist + 3 * (at - 1) + 1]! > op) {
      w.copyWithin(L.hist + 3 * at, L.hist + 3 * (at - 1), L.hist + 3 * at);
      at--;
    }
    w[L.hist + 3 * at] = kind;
    w[L.hist + 3 * at + 1] = op;
    w[L.hist + 3 * at + 2] = value;
  }

  /** Once every operation has completed, the history can change no verdict: forget it (states merge). */
  private clearFinishedHistory(w: World): void {
    const L = this.layout;
    if (w[L.histLen] === 0) return;
    for (let k = 0; k < L.opCount; k++) if (w[L.ops + 4 * k] !== OP_DONE) return;
    w.fill(0, L.histLen, L.netLen);
    for (let k = 0; k < L.opCount; k++) w[L.ops + 4 * k + 3] = -1;
  }

  private readFloor(committedId: number, key: string): number {
    const memoKey = `${committedId}|${key}`;
    let floor = this.floors.get(memoKey);
    if (floor === undefined) {
      floor = latestWriteIndex(this.commits.get(committedId).entries, key);
      this.floors.set(memoKey, floor);
    }
    return floor;
  }

  // ---------------------------------------------------------------- properties

  private checkNodeChange(
    w: World,
    slot: number,
    before: NodeRecord,
    after: NodeRecord,
    violate: (p: PropertyName, m: string) => void,
  ): void {
    const L = this.layout;
    const id = this.ids[slot]!;
    const a = after.summary;
    const p = before.summary;
    const stillLeading = p.up && a.up && p.role === 'leader' && a.role === 'leader' && p.term === a.term;
    const save = after.state.running?.snapshotSave ?? null;
    const saving = before.state.running?.snapshotSave ?? null;
    if (save !== null && (saving === null || saving.meta.index !== save.meta.index || saving.meta.term !== save.meta.term)) {
      this.checkSnapshotCommitted(w, slot, save.meta, violate);
    }
    if (a.up && a.role === 'leader' && a.term < L.maxTerm + 2) {
      const claimed = w[L.leaders + a.term]!;
      if (claimed === -1) w[L.leaders + a.term] = slot;
      else if (claimed !== slot) violate('election-safety', `two leaders in term ${a.term}: ${this.ids[claimed]} and ${id} (§5.2)`);
    }
    if (stillLeading && p.logId !== a.logId && !this.isPrefix(p.logId, a.logId)) {
      violate('leader-append-only', `leader ${id} of term ${a.term} removed or replaced entries of its own log (§5.3)`);
    } else if (stillLeading && p.logId !== a.logId && this.enabled('config-change-rule')) {
      const from = this.logs.lastIndex(p.logId) + 1;
      const appended: Entry[] = [];
      for (let i = from; i <= this.logs.lastIndex(a.logId); i++) appended.push(this.logs.entryAt(a.logId, i)!);
      if (appended.some((e) => e.type === 'config')) {
        let previousConfigIndex = 0;
        for (let i = from - 1; i > this.logs.prevIndex(a.logId) && previousConfigIndex === 0; i--)
          if (this.logs.entryAt(a.logId, i)?.type === 'config') previousConfigIndex = i;
        const problem = configChangeProblem({
          leader: id,
          term: a.term,
          appended,
          commitIndexBefore: p.commitIndex,
          termAtCommit: this.logs.termAt(p.logId, p.commitIndex),
          previousConfigIndex,
        });
        if (problem !== null) violate('config-change-rule', problem);
      }
    }
    if (stillLeading && a.commitIndex > p.commitIndex && a.configuration !== null && this.enabled('commit-quorum')) {
      const index = a.commitIndex;
      const term = this.logs.termAt(a.logId, index) ?? -1;
      const problem = commitQuorumProblem(id, a.configuration, index, term, (voter) => {
        const logId = this.node(w, indexOfId(voter)).summary.logId;
        return index < this.logs.prevIndex(logId) || this.logs.termAt(logId, index) === term;
      });
      if (problem !== null) violate('commit-quorum', problem);
    }
    if (stillLeading && a.commitIndex > p.commitIndex) {
      const top = this.logs.entryAt(a.logId, a.commitIndex);
      if (top !== undefined && top.term !== a.term) {
        violate(
          'commit-rule',
          `leader ${id} of term ${a.term} advanced commitIndex from ${p.commitIndex} to ${a.commitIndex}, an entry of term ${top.term}, by counting replicas (§5.4.2, Figure 8)`,
        );
      }
    }
    // Committed history: a committed entry never changes (State Machine Safety, §5.4.3).
    let committed = this.commits.get(w[L.committed]!);
    if (a.up && a.commitIndex > 0) {
      const logId = a.logId;
      const prevIndex = this.logs.prevIndex(logId);
      const upTo = Math.min(a.commitIndex, committed.entries.length);
      // A compacted prefix: the snapshot's last entry (prevIndex, prevTerm) stands for it (§7).
      if (prevIndex > 0 && prevIndex <= upTo && committed.entries[prevIndex - 1]!.term !== this.logs.prevTerm(logId)) {
        violate(
          'state-machine-safety',
          `${id} holds a snapshot ending at ${prevIndex}@${this.logs.prevTerm(logId)}, where ${describe(committed.entries[prevIndex - 1]!)} was committed (§5.4.3, §7)`,
        );
      }
      for (let j = Math.max(0, prevIndex); j < upTo; j++) {
        const entry = this.logs.entryAt(logId, j + 1)!;
        if (!sameEntry(entry, committed.entries[j]!)) {
          violate(
            'state-machine-safety',
            `${id} committed ${describe(entry)} at index ${j + 1}, where ${describe(committed.entries[j]!)} was committed before (§5.4.3)`,
          );
          break;
        }
      }
      // The committed history grows from this node's log, as far as it holds the entries (a snapshot's
      // prefix was committed, and recorded, before the snapshot was taken).
      const grownFrom = committed.entries.length;
      const growTo = grownFrom >= prevIndex ? a.commitIndex : grownFrom;
      if (growTo > grownFrom) {
        const terms = [...committed.terms];
        const entries = [...committed.entries];
        for (let j = grownFrom; j < growTo; j++) {
          terms.push(a.term);
          entries.push(this.logs.entryAt(logId, j + 1)!);
        }
        committed = this.commits.intern(entries, terms);
        w[L.committed] = committed.id;
        // Leader Completeness for what just committed: every leader of a later term holds it.
        for (let i = 0; i < L.n; i++) {
          const s = this.node(w, i).summary;
          if (!s.up || s.role !== 'leader' || s.term <= a.term) continue;
          const missing = this.missingCommitted(s.logId, s.term, committed, grownFrom);
          if (missing !== null) violate('leader-completeness', `${this.ids[i]} leads term ${s.term} without ${missing} (§5.4)`);
        }
      }
    }
    if (a.up && a.role === 'leader' && !stillLeading) {
      const missing = this.missingCommitted(a.logId, a.term, committed, 0);
      if (missing !== null) violate('leader-completeness', `${id} became leader of term ${a.term} without ${missing} (§5.4)`);
    }
    if (p.logId !== a.logId && this.enabled('log-matching')) {
      for (let i = 0; i < L.n; i++) {
        if (i === slot) continue;
        const problem = this.logs.logMatchingViolation(a.logId, this.node(w, i).summary.logId);
        if (problem !== null) {
          violate('log-matching', `${id} and ${this.ids[i]}: ${problem} (§5.3)`);
          break;
        }
      }
    }
  }

  /**
   * The first entry committed in a term before `term`, from index `from` on, that log `logId` lacks;
   * null if none. A compacted prefix holds an entry when the snapshot's last entry matches the
   * committed one there (Log Matching: it stands for the prefix).
   */
  private missingCommitted(logId: number, term: number, committed: CommitRecord, from: number): string | null {
    const prevIndex = this.logs.prevIndex(logId);
    const prefixHeld = prevIndex === 0 || committed.entries[prevIndex - 1]?.term === this.logs.prevTerm(logId);
    for (let j = from; j < committed.entries.length; j++) {
      if (committed.terms[j]! >= term) continue;
      const held = j < prevIndex ? prefixHeld : isSameEntry(this.logs.entryAt(logId, j + 1), committed.entries[j]!);
      if (!held) return `committed entry ${describe(committed.entries[j]!)} (committed in term ${committed.terms[j]})`;
    }
    return null;
  }

  /** Whether log `shorter` is a prefix of log `longer`, over what `longer` has not compacted (its compaction point's term included). */
  private isPrefix(shorter: number, longer: number): boolean {
    const a = this.logs.entries(shorter);
    if (this.logs.lastIndex(shorter) > this.logs.lastIndex(longer)) return false;
    const from = this.logs.prevIndex(longer);
    if (from > this.logs.prevIndex(shorter) && this.logs.termAt(shorter, from) !== this.logs.prevTerm(longer)) return false;
    for (const entry of a) {
      if (entry.index <= from) continue;
      const other = this.logs.entryAt(longer, entry.index);
      if (other === undefined || !sameEntry(entry, other)) return false;
    }
    return true;
  }

  /**
   * "A snapshot never contains uncommitted state" (§7), as the simulator
   * checks it (sim/simulator.ts checkSnapshotCommitted): when a node
   * serialises its state machine at `meta.index` (term `meta.term`), a
   * majority of the voters of the snapshot's configuration or of the one in
   * effect on the node holds that entry: in its log, under its compaction
   * point, or at it (sim/stepped/commit-quorum.ts); or of the newest
   * configuration of a leader now: a leader counts its newest configuration,
   * which may postdate the entry (n1 appends "remove n2" after a put and
   * commits the put alone, before a learner that lacks the removal
   * serialises the put). Not the committed history: a flag that commits
   * wrongly (snapshot-past-commit applies what it snapshots) writes it.
   */
  private checkSnapshotCommitted(w: World, slot: number, meta: SnapshotMeta, violate: (p: PropertyName, m: string) => void): void {
    const configurations = [meta.configuration, this.node(w, slot).summary.configuration ?? meta.configuration];
    for (let i = 0; i < this.layout.n; i++) {
      const s = this.node(w, i).summary;
      if (s.up && s.role === 'leader' && s.configuration !== null) configurations.push(s.configuration);
    }
    const problem = uncommittedSnapshotProblem(this.ids[slot]!, meta.index, meta.term, configurations, (voter) => {
      const i = indexOfId(voter);
      if (i < 0 || i >= this.layout.n) return false;
      const logId = this.node(w, i).summary.logId;
      return meta.index < this.logs.prevIndex(logId) || this.logs.termAt(logId, meta.index) === meta.term;
    });
    if (problem !== null) violate('snapshot-committed', problem);
  }

  /** State Machine Safety at the moment of application: what a node applies at an index is what was committed there. */
  private checkApplied(w: World, slot: number, applied: readonly Entry[], violate: (p: PropertyName, m: string) => void): void {
    if (applied.length === 0) return;
    const committed = this.commits.get(w[this.layout.committed]!);
    for (const entry of applied) {
      const known = committed.entries[entry.index - 1];
      if (known === undefined)
        violate(
          'state-machine-safety',
          `${this.ids[slot]} applied ${describe(entry)} at index ${entry.index}, which no node had committed`,
        );
      else if (!sameEntry(known, entry))
        violate(
          'state-machine-safety',
          `${this.ids[slot]} applied ${describe(entry)} at index ${entry.index}, where ${describe(known)} was committed (§5.4.3)`,
        );
    }
  }

  private handleClients(w: World, result: NodeStepResult, violate: (p: PropertyName, m: string) => void): void {
    const L = this.layout;
    for (const served of result.served) {
      const floor = w[L.ops + 4 * served.ref.op + 3]!;
      if (served.lastApplied < floor) {
        violate(
          'read-safety',
          `op${served.ref.op} read ${served.key}=${served.value ?? 'null'} from a state machine at lastApplied ${served.lastApplied}, but the write at index ${floor} was committed before the read started (thesis §6.4)`,
        );
      }
    }
    let completed = false;
    for (const reply of result.replies) {
      const k = reply.ref.op;
      const at = L.ops + 4 * k;
      if (k < 0 || w[at] === OP_DONE) continue;
      const verdict = judgeReply(reply.outcome);
      if (verdict.kind === 'retry') {
        if (w[at] === OP_WAITING && w[at + 2] === reply.ref.attempt + 1) {
          w[at] = OP_RETRY;
          w[at + 1] = -1;
        }
        continue;
      }
      w[at] = OP_DONE;
      w[at + 1] = -1;
      // stale_seq: done, but it may have taken effect: no completion, so it stays open in the history (as a timeout).
      if (verdict.kind === 'indeterminate') continue;
      const value = verdict.kind === 'ok' && this.ops[k]!.op.type === 'get' ? (verdict.value === null ? -1 : Number(verdict.value)) : -1;
      this.pushHistory(w, verdict.kind === 'ok' ? H_OK : H_FAIL, k, value);
      completed = true;
    }
    if (completed && this.enabled('linearizability') && !this.isLinearizable(w)) {
      violate('linearizability', `the client history is not linearizable: ${this.describeHistory(w)}`);
    }
  }

  private historyOps(w: World): HistoryOp[] {
    const L = this.layout;
    const ops: HistoryOp[] = [];
    for (let e = 0; e < w[L.histLen]!; e++) {
      const kind = w[L.hist + 3 * e]!;
      const k = w[L.hist + 3 * e + 1]!;
      const value = w[L.hist + 3 * e + 2]!;
      const spec = this.ops[k]!;
      const line =
        kind === H_INVOKE
          ? invokeOp(spec, k)
          : completeOp(spec, k, kind === H_FAIL ? { kind: 'fail' } : { kind: 'ok', value: value === -1 ? null : String(value) });
      ops.push({ index: ops.length, ...line });
    }
    return ops;
  }

  describeHistory(w: World): string {
    return this.historyOps(w)
      .map((op) => `op${String(op.process)} ${op.type} ${op.f} ${op.key ?? ''} ${JSON.stringify(op.value)}`)
      .join('; ');
  }

  private isLinearizable(w: World): boolean {
    const L = this.layout;
    const key = Array.from(w.subarray(L.hist, L.hist + 3 * w[L.histLen]!)).join(',');
    let verdict = this.linearizable.get(key);
    if (verdict === undefined) {
      this.stats.linearizabilityChecks++;
      verdict = checkHistory(this.historyOps(w), { model: 'cas-register', timeLimitMs: 60_000 }).valid !== false;
      this.linearizable.set(key, verdict);
    }
    return verdict;
  }

  // ---------------------------------------------------------------- fingerprints

  /**
   * The state's fingerprint, the same for every relabelling of its node ids
   * (mc/symmetry.ts), into `lanes`. Without symmetry: the identity's.
   */
  fingerprint(w: World): void {
    const L = this.layout;
    const cands = this.candidates;
    const extras = this.slotExtras;
    // What does not move under relabelling is hashed once: each slot's clock phase and backlog, pause
    // flag and budgets (they travel with the node), and the global words that name no node.
    for (let i = 0; i < L.n; i++) {
      const h = this.hasher
        .reset(7)
        .word(w[L.phases + i]!)
        .word(w[L.backlog + i]!)
        .word((w[L.paused]! >> i) & 1);
      // The stream-timeout budget only where snapshots are streamed in chunks: without, every fingerprint is as before it.
      const budgets = this.params.snapshotChunkBytes === undefined ? B_STREAM : PER_NODE_BUDGETS;
      for (let kind = 0; kind < budgets; kind++) h.word(w[L.budget + kind * L.n + i]!);
      h.finish();
      extras[2 * i] = lanes[0]!;
      extras[2 * i + 1] = lanes[1]!;
    }
    const committed = this.commits.get(w[L.committed]!);
    // A committed history with config entries names nodes: hashed per relabelling (hashUnder) instead.
    const g = this.hasher
      .reset(11)
      .pair(committed.hasConfig ? 0 : committed.hi, committed.hasConfig ? 0 : committed.lo)
      .word(w[L.now]!);
    for (let i = L.transfers; i < L.netLen; i++) g.word(w[i]!); // transfers and history
    if (this.membership) g.word(w[L.configChanges]!);
    g.finish();
    const fixedHi = lanes[0]!;
    const fixedLo = lanes[1]!;
    if (this.options.symmetry && L.n > 1) {
      for (let i = 0; i < L.n; i++) {
        const h = this.hasher
          .reset(7)
          .word(this.node(w, i).signature)
          .pair(extras[2 * i]!, extras[2 * i + 1]!);
        for (let k = 0; k < L.opCount; k++) h.word(w[L.ops + 4 * k + 1] === i ? k + 1 : 0);
        h.finish();
        this.signatures[i] = lanes[0]!;
      }
      candidatePermutations(this.perms, this.signatures, cands);
    } else {
      cands.length = 0;
      cands.push(0);
    }
    let bestHi = 0;
    let bestLo = 0;
    for (let c = 0; c < cands.length; c++) {
      this.hashUnder(w, cands[c]!, fixedHi, fixedLo);
      const hi = lanes[0]!;
      const lo = lanes[1]!;
      if (c === 0 || hi < bestHi || (hi === bestHi && lo < bestLo)) {
        bestHi = hi;
        bestLo = lo;
      }
    }
    lanes[0] = bestHi;
    lanes[1] = bestLo;
  }

  /** The fingerprint of `w` relabelled by permutation `p`; (fixedHi, fixedLo): the part no relabelling changes. */
  private hashUnder(w: World, p: number, fixedHi: number, fixedLo: number): void {
    const L = this.layout;
    const perm = this.perms.perms[p]!;
    const inverse = this.perms.inverse[p]!;
    const extras = this.slotExtras;
    // The network is a multiset: a commutative sum of its messages' fingerprints.
    let sumHi = 0;
    let sumLo = 0;
    const netLen = w[L.netLen]!;
    for (let j = 0; j < netLen; j++) {
      this.msgs.hashUnder(this.msgs.get(w[L.net + j]!), p);
      sumHi = (sumHi + lanes[0]!) | 0;
      sumLo = (sumLo + lanes[1]!) | 0;
    }
    const h = this.hasher.reset(L.n);
    for (let pos = 0; pos < L.n; pos++) {
      const slot = inverse[pos]!;
      this.nodes.hashUnder(this.node(w, slot), p);
      h.pair(lanes[0]!, lanes[1]!).pair(extras[2 * slot]!, extras[2 * slot + 1]!);
    }
    h.word(netLen).pair(sumHi, sumLo);
    for (let k = 0; k < L.opCount; k++) {
      const at = L.ops + 4 * k;
      const node = w[at + 1]!;
      h.word(w[at]!)
        .word(node === -1 ? -1 : perm[node]!)
        .word(w[at + 2]!)
        .word(w[at + 3]!);
    }
    for (let t = 0; t < L.maxTerm + 2; t++) {
      const leader = w[L.leaders + t]!;
      h.word(leader === -1 ? -1 : perm[leader]!);
    }
    const committed = this.commits.get(w[L.committed]!);
    if (committed.hasConfig) {
      this.commits.hashUnder(committed, p, this.perms.idMaps[p]!);
      h.pair(lanes[0]!, lanes[1]!);
    }
    h.pair(fixedHi, fixedLo);
    h.finish();
  }

  // ---------------------------------------------------------------- traces

  /** The stepped-trace form of `action` taken in `w` (sim/stepped/trace.ts). */
  toEvent(w: World, action: Action): SteppedEvent {
    switch (action.kind) {
      case 'deliver':
      case 'drop':
      case 'duplicate':
        return { kind: action.kind, message: this.msgs.get(action.msg).text };
      case 'tick':
      case 'timeout':
      case 'fsync':
      case 'snapshot':
      case 'crash':
      case 'restart':
      case 'pause':
        return { kind: action.kind, node: this.ids[action.node]! };
      case 'resume':
        return { kind: 'resume', node: this.ids[action.node]!, backlogTicks: this.backlogOf(w, action.node) };
      case 'lose_tail':
        return { kind: 'lose_tail', node: this.ids[action.node]!, entries: 1 };
      case 'tear':
        return { kind: 'tear', node: this.ids[action.node]! };
      case 'stream_timeout':
        return { kind: 'stream_timeout', node: this.ids[action.node]!, peer: this.ids[action.to]! };
      case 'request':
        return { kind: 'request', op: action.op, node: this.ids[action.node]! };
      case 'transfer':
        return { kind: 'transfer', node: this.ids[action.node]!, to: this.ids[action.to]! };
      case 'admin':
        return { kind: 'admin', node: this.ids[action.node]!, change: { type: action.change, node: this.ids[action.target]! } };
      case 'advance':
        return { kind: 'advance' };
      default:
        return assertNever(action, 'action');
    }
  }

  // ---------------------------------------------------------------- moving states between threads

  /**
   * States as plain data another thread's model can import: interned ids
   * (node states, messages, committed histories) are this thread's, so the
   * batch carries each referenced value once and the worlds refer to it by
   * its position in the batch.
   */
  exportWorlds(worlds: readonly World[], fps: Int32Array): WorldBatch {
    const L = this.layout;
    const nodeIndex = new Map<number, number>();
    const msgIndex = new Map<number, number>();
    const commitIndex = new Map<number, number>();
    const batch: WorldBatch = {
      nodeStates: [],
      nodeSlots: [],
      messages: [],
      commits: [],
      worlds: new Int32Array(worlds.length * L.size),
      fps,
    };
    const index = (map: Map<number, number>, id: number, add: () => void): number => {
      let at = map.get(id);
      if (at === undefined) {
        at = map.size;
        map.set(id, at);
        add();
      }
      return at;
    };
    worlds.forEach((w, k) => {
      const out = batch.worlds.subarray(k * L.size, (k + 1) * L.size);
      out.set(w);
      for (let i = 0; i < L.n; i++) {
        out[L.nodes + i] = index(nodeIndex, w[L.nodes + i]!, () => {
          batch.nodeStates.push(this.nodes.get(w[L.nodes + i]!).state);
          batch.nodeSlots.push(i);
        });
      }
      out[L.committed] = index(commitIndex, w[L.committed]!, () => {
        const c = this.commits.get(w[L.committed]!);
        batch.commits.push({ entries: c.entries, terms: c.terms });
      });
      for (let j = 0; j < w[L.netLen]!; j++)
        out[L.net + j] = index(msgIndex, w[L.net + j]!, () => batch.messages.push(this.msgs.get(w[L.net + j]!).message));
    });
    return batch;
  }

  /** The inverse of exportWorlds, in this thread's ids; calls `take` for each world and its fingerprint. */
  importWorlds(batch: WorldBatch, take: (w: World, hi: number, lo: number) => void): void {
    const L = this.layout;
    const nodeIds = batch.nodeStates.map((state, k) => this.nodes.intern(batch.nodeSlots[k]!, state).id);
    const msgIds = batch.messages.map((m) => this.msgs.intern(m).id);
    const commitIds = batch.commits.map((c) => this.commits.intern(c.entries, c.terms).id);
    const count = batch.worlds.length / L.size;
    for (let k = 0; k < count; k++) {
      const w = batch.worlds.slice(k * L.size, (k + 1) * L.size);
      for (let i = 0; i < L.n; i++) w[L.nodes + i] = nodeIds[w[L.nodes + i]!]!;
      w[L.committed] = commitIds[w[L.committed]!]!;
      const len = w[L.netLen]!;
      for (let j = 0; j < len; j++) w[L.net + j] = msgIds[w[L.net + j]!]!;
      w.subarray(L.net, L.net + len).sort();
      take(w, batch.fps[2 * k]!, batch.fps[2 * k + 1]!);
    }
  }

  /** How many interned things and memo entries the model holds (memory accounting). */
  sizes(): { nodeStates: number; messages: number; logs: number; memo: number } {
    return { nodeStates: this.nodes.size, messages: this.msgs.size, logs: this.logs.size, memo: this.memoSize };
  }
}

/** Whether `a` is there and is `b`. */
function isSameEntry(a: Entry | undefined, b: Entry): boolean {
  return a !== undefined && sameEntry(a, b);
}

function sameEntry(a: Entry, b: Entry): boolean {
  return a === b || (a.index === b.index && a.term === b.term && a.type === b.type && a.data === b.data);
}

function describe(entry: Entry): string {
  return entry.type === 'noop' ? `${entry.index}@${entry.term} noop` : `${entry.index}@${entry.term} ${entry.data}`;
}
