/**
 * Campaign presets for the node's `--unsafe-...` flags: each flag breaks the
 * node in one known way, and the simulator must catch every one of them
 * (tests in test/sim/unsafe.test.ts measure how many runs it takes).
 *
 * The storage flags (memoryLog, ackBeforeFsync) are modelled by the
 * simulated disk (disk.ts); localReads and noPersistVote are applied by the
 * host; commitOldTerms by the core (caught by the leader commit rule in
 * invariants.ts); a too-long lease needs readMode "lease" and clock drift.
 * Each preset also says which faults make the bug
 * reachable (a lease bug needs partitions and slow clocks; a durability bug
 * needs crashes), so a campaign spends its runs where the bug can show.
 */
import { noUnsafeFlags, unsafeFlagSpecs, type UnsafeFlagKey } from '../node/unsafe-flags.js';
import { defaultShape, type ScenarioShape } from './arbitraries.js';
import { defaultSimOptions, type SimOptions } from './scenario.js';

export interface UnsafePreset {
  /** The flag's name without `--unsafe-` (`local-reads`), from node/unsafe-flags.ts. */
  readonly name: string;
  readonly description: string;
  readonly options: SimOptions;
  readonly shape: ScenarioShape;
}

/** What a preset adds to the table's row: how the simulator makes the bug show. */
interface PresetTuning {
  /** The symptom the simulator looks for. */
  readonly description: string;
  /** Option overrides besides the flag itself (and the read mode its row requires). */
  readonly options?: Partial<Omit<SimOptions, 'unsafe'>>;
  /** For an integer row: the value the preset runs with. */
  readonly value?: number;
  readonly shape: ScenarioShape;
}

const base = defaultSimOptions;

const crashHeavy: ScenarioShape = {
  ...defaultShape,
  faultWeights: { crash: 2, crash_leader: 4, restart: 2, restart_all: 4, isolate_leader: 2, partition: 1, heal: 1 },
};

const partitionHeavy: ScenarioShape = {
  ...defaultShape,
  faultWeights: { isolate_leader: 5, partition: 3, isolate: 2, heal: 2, crash_leader: 1, restart_all: 1 },
};

/** One entry per row of node/unsafe-flags.ts: a new row does not compile until it says how the simulator reaches its bug. */
const tunings: { readonly [K in UnsafeFlagKey]: PresetTuning } = {
  localReads: {
    description: 'every node answers reads from its own applied state (stale reads from followers and deposed leaders)',
    options: { keys: 2 },
    shape: { ...partitionHeavy, readOnlyClients: 1 },
  },
  noPersistVote: {
    description: 'votedFor is not persisted: a restarted node can vote twice in one term (two leaders)',
    options: { nodeCount: 3 },
    // A second vote in the same term needs a candidate that missed the first
    // election (isolated) or a RequestVote delivered late (reordering) after the voter restarted.
    shape: { ...crashHeavy, maxFaults: 20, faultWeights: { isolate: 3, partition: 2, crash: 3, restart: 3, restart_all: 1, heal: 2, network: 2 } },
  },
  memoryLog: {
    description: 'log and hard state live in memory only: a restart forgets acknowledged entries',
    options: { nodeCount: 3 },
    shape: crashHeavy,
  },
  ackBeforeFsync: {
    description: 'persist resolves before the fsync: a crash loses acknowledged votes and entries',
    options: { nodeCount: 3 },
    shape: crashHeavy,
  },
  commitOldTerms: {
    description: 'no noop at the start of a term, and entries of earlier terms are committed by counting replicas (Figure 8)',
    shape: { ...crashHeavy, maxFaults: 20, faultWeights: { crash_leader: 5, restart: 3, restart_all: 2, isolate_leader: 3, heal: 2, network: 1 } },
  },
  leaseMs: {
    description: 'lease reads with a lease far longer than the election timeout allows, under clock drift',
    options: { keys: 1 },
    value: 1000,
    shape: {
      ...partitionHeavy,
      minClients: 4,
      clients: 6,
      readOnlyClients: 2,
      minOpsPerClient: 20,
      maxOpsPerClient: 50,
      maxThinkMs: 150,
      maxFaults: 6,
      faultWeights: { isolate_leader: 4, clock_leader: 4, heal: 1 },
      clockRates: [0.5, 0.8],
    },
  },
  // Issue 15's defects. These presets use the fault kinds the simulator has;
  // the adversary that reaches them best (late replays across terms, process
  // pauses, disk damage) is described with each.
  staleReadAcks: {
    description: 'answers to old-term AppendEntries confirm a later term\'s reads: a leader that leads again serves stale reads',
    options: { keys: 1 },
    shape: { ...partitionHeavy, readOnlyClients: 2, minClients: 4, clients: 6, maxFaults: 12 },
  },
  leaseAfterPause: {
    description: 'a leader paused longer than its lease keeps serving lease reads when it wakes',
    options: { keys: 1 },
    shape: { ...partitionHeavy, readOnlyClients: 2, minClients: 4, clients: 6, maxFaults: 8 },
  },
  tornTailDropped: {
    description: 'a corrupt last log frame (bit rot) is dropped as torn: an acknowledged vote or entry vanishes',
    options: { nodeCount: 3 },
    // A bit flip in the last durable frame before a restart (sim/disk.ts corruptLastFrame).
    shape: { ...crashHeavy, faultWeights: { ...crashHeavy.faultWeights, corrupt_last_frame: 4 } },
  },
  ignoreLostFollowerLog: {
    description: 'a follower whose log lost its tail is never caught up by the current leader',
    options: { nodeCount: 3 },
    // A follower's disk loses its acknowledged tail (sim/disk.ts loseTail): outside the fault
    // model, so only here; the run then requires every node to catch up after the heal.
    shape: { ...crashHeavy, faultWeights: { ...crashHeavy.faultWeights, lose_tail: 4 } },
  },
  // Issue 18 (provisional, phase 1): the host neither snapshots nor changes
  // membership yet, so these presets cannot show their bug until phase 2
  // gives the simulator snapshots and a membership fault; the core tests
  // (test/node/raft/) show each of them.
  confChangeBeforeTermCommit: {
    description: 'a new leader changes the configuration before committing an entry of its term (disjoint majorities)',
    options: { nodeCount: 5 },
    shape: crashHeavy,
  },
  snapshotPastCommit: {
    description: 'snapshots at the last log index apply uncommitted entries that a later leader overwrites',
    options: { nodeCount: 3 },
    shape: partitionHeavy,
  },
  keepLogOnInstall: {
    description: 'a follower keeps its conflicting log when it installs a snapshot and claims it matches',
    options: { nodeCount: 3 },
    shape: crashHeavy,
  },
  forgetLeaseOnRestart: {
    description: 'a restarted follower votes at once, so a new leader commits while the old one serves lease reads',
    options: { keys: 1 },
    shape: { ...crashHeavy, readOnlyClients: 2, minClients: 4, clients: 6 },
  },
};

/** The presets, keyed by name (`local-reads`), in the table's order. */
export const unsafePresets: Readonly<Record<string, UnsafePreset>> = Object.fromEntries(
  unsafeFlagSpecs.map((spec) => {
    const tuning = tunings[spec.key];
    if (spec.kind === 'integer' && tuning.value === undefined) throw new Error(`sim/unsafe.ts: the preset for ${spec.flag} needs a value`);
    const name = spec.flag.slice('--unsafe-'.length);
    const options: SimOptions = {
      ...base,
      ...tuning.options,
      ...(spec.requiresReadMode === undefined ? {} : { readMode: spec.requiresReadMode }),
      unsafe: { ...noUnsafeFlags, [spec.key]: spec.kind === 'boolean' ? true : tuning.value },
    };
    return [name, { name, description: tuning.description, options, shape: tuning.shape }];
  }),
);

/** The preset for a flag name as the node spells it (`--unsafe-local-reads`, `local-reads`, `localReads`). */
export function unsafePreset(name: string): UnsafePreset | null {
  const normalized = name
    .replace(/^--unsafe-/, '')
    .replace(/^unsafe-/, '')
    .replace(/([a-z])([A-Z])/g, '$1-$2')
    .toLowerCase()
    .replace(/=.*$/, '');
  const key = normalized === 'lease' ? 'lease-ms' : normalized;
  return unsafePresets[key] ?? null;
}
