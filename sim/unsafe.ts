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

/**
 * Membership cycles (sim/membership.ts) with leaders crashed, restarted and
 * cut off: changes asked of leaders just elected, and changes left
 * uncommitted by deposed ones.
 */
export const membershipHeavy: ScenarioShape = {
  ...defaultShape,
  minFaults: 8,
  maxFaults: 20,
  faultWeights: { membership: 6, crash_leader: 3, restart: 2, restart_all: 2, isolate_leader: 2, partition: 3, heal: 2, network: 2 },
};

/**
 * The change-race choreography (sim/change-race.ts) with little else: what it
 * cuts, a random partition, heal or leader crash would undo half way (such
 * mixes are membershipHeavy's); a lossy network profile and a crash or a
 * pause now and then still land beside it.
 */
export const changeRaceHeavy: ScenarioShape = {
  ...defaultShape,
  minFaults: 1,
  maxFaults: 4,
  faultWeights: { change_race: 6, network: 1, crash: 1, pause: 1 },
};

/**
 * The divergent-install choreography (sim/divergent-install.ts) with little
 * else, for the same reason as changeRaceHeavy: a random cut or crash undoes
 * it half way; a lossy profile and a pause now and then still land beside it.
 */
export const divergentInstallHeavy: ScenarioShape = {
  ...defaultShape,
  minFaults: 1,
  maxFaults: 3,
  faultWeights: { divergent_install: 6, network: 1, pause: 1 },
};

/**
 * Many readers that stay with whichever node answers them, and a few writers,
 * all on few keys: a read served by a node that should not serve it is seen
 * as soon as a write it missed has committed (or, for the read-safety check's
 * index form, as soon as any entry it missed has).
 */
const readHeavy = {
  minClients: 8,
  clients: 8,
  readOnlyClients: 4,
  maxThinkMs: 30,
  minOpsPerClient: 40,
  maxOpsPerClient: 80,
} as const satisfies Partial<ScenarioShape>;

/**
 * The partition mix: the leader cut off with a minority (random halves aimed
 * at the leader) again and again, its clock slowed or the majority's sped up
 * (a deposed leader that notices late: check-quorum runs on its own clock),
 * and its old traffic replayed or held. Outside lease mode clock rates do
 * not affect safety, so they range widely.
 */
const partitionHeavy: ScenarioShape = {
  ...defaultShape,
  ...readHeavy,
  minFaults: 14,
  maxFaults: 28,
  faultWeights: { split_leader: 5, heal: 3, clock_leader: 3, clock: 4, replay_leader: 2, hold_leader: 1 },
  clockRates: [0.5, 2],
};

/**
 * Lease mode is safe only while clocks drift apart by less than
 * clockDriftBound (1.2): clock faults there stay within it (1.1 / 0.92 < 1.2),
 * so a stale read is the flag's doing, not the clocks'.
 */
export const leaseSafeClockRates: readonly number[] = [0.92, 1, 1.1];

/** One entry per row of node/unsafe-flags.ts: a new row does not compile until it says how the simulator reaches its bug. */
const tunings: { readonly [K in UnsafeFlagKey]: PresetTuning } = {
  localReads: {
    description: 'every node answers reads from its own applied state (stale reads from followers and deposed leaders)',
    options: { keys: 2 },
    shape: partitionHeavy,
  },
  noPersistVote: {
    description: 'votedFor is not persisted: a restarted node can vote twice in one term (two leaders)',
    options: { nodeCount: 3 },
    // A second vote in the same term needs a candidate that missed the first
    // election (isolated) or a RequestVote delivered late (reordering) after the voter restarted.
    shape: {
      ...crashHeavy,
      maxFaults: 20,
      faultWeights: { isolate: 3, partition: 2, crash: 3, restart: 3, restart_all: 1, heal: 2, network: 2 },
    },
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
    shape: {
      ...crashHeavy,
      maxFaults: 20,
      faultWeights: { crash_leader: 5, restart: 3, restart_all: 2, isolate_leader: 3, heal: 2, network: 1 },
    },
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
      minFaults: 0,
      maxFaults: 6,
      faultWeights: { isolate_leader: 4, clock_leader: 4, heal: 1 },
      clockRates: [0.5, 0.8],
    },
  },
  // Issue 15's defects. These presets use the fault kinds the simulator has;
  // the adversary that reaches them best (late replays across terms, process
  // pauses, disk damage) is described with each.
  staleReadAcks: {
    description: "answers to old-term AppendEntries confirm a later term's reads: a leader that leads again serves stale reads",
    // An adversary holds some of the leader's datagrams until that node leads
    // again in a later term (hold_across), and the leader is cut off with a
    // minority again and again (random halves aimed at the leader), so
    // leadership moves and sometimes comes back to a node that led before,
    // in the same process. Five nodes: a confirmation is counted when an
    // answer arrives, so the deposed leader needs a companion in its minority
    // whose genuine answers trigger it, plus the false answer a majority-side
    // node gave to a held old-term AppendEntries while it still followed the
    // leader's new term. The clients keep working through the whole fault
    // window (150-300 operations each): a stale read needs a client write
    // committed by the new majority and a read at the deposed leader, and
    // with the read-heavy mix's 40-80 operations the clients were done
    // before most faults (measured: detection 1 seed of 3 in 200 runs with
    // them, every one of 3 within 20 runs with these).
    options: { keys: 1, faultWindowMs: 8000 },
    shape: {
      ...defaultShape,
      ...readHeavy,
      minOpsPerClient: 150,
      maxOpsPerClient: 300,
      minFaults: 10,
      maxFaults: 24,
      faultWeights: { split_leader: 6, heal: 3, hold_across: 6, clock_leader: 2 },
      // Slowed leaders: a deposed leader's check-quorum runs on its own clock.
      clockRates: [0.5, 0.8, 1],
    },
  },
  leaseAfterPause: {
    description: 'a leader paused longer than its lease keeps serving lease reads when it wakes',
    options: { keys: 1, nodeCount: 3 },
    shape: {
      ...defaultShape,
      ...readHeavy,
      minClients: 6,
      clients: 6,
      readOnlyClients: 3,
      minFaults: 10,
      maxFaults: 20,
      faultWeights: { pause_leader: 5, split_leader: 5, heal: 2 },
      clockRates: leaseSafeClockRates,
    },
  },
  tornTailDropped: {
    description: 'a corrupt last log frame (bit rot) is dropped as torn: an acknowledged vote or entry vanishes',
    options: { nodeCount: 3 },
    // A bit flip in the last durable frame before a restart (sim/disk.ts corruptLastFrame).
    shape: { ...crashHeavy, faultWeights: { ...crashHeavy.faultWeights, corrupt_last_frame: 4 } },
  },
  // --disk-errors' io_error faults among crashes and restarts (test/sim/disk-errors.test.ts's mix): the storage is
  // told a write or fsync failed and carries on, and the simulator reports the persist that succeeded after it
  // (sim/disk.ts mustStopOn); a restart then finds the hole, or lost acknowledged entries.
  ignoreDiskErrors: {
    description: 'a failed log write or fsync is ignored: the node acknowledges what never reached the disk',
    options: { nodeCount: 3, snapshotEveryEntries: 8, snapshotTrailingEntries: 5, diskErrors: true },
    shape: {
      ...defaultShape,
      minFaults: 4,
      maxFaults: 12,
      faultWeights: { io_error: 6, crash: 2, crash_leader: 2, restart: 3, restart_all: 2, isolate_leader: 1, heal: 1 },
    },
  },
  ignoreLostFollowerLog: {
    description: 'a follower whose log lost its tail is never caught up by the current leader',
    // The catch-up check after the heal (liveness.ts) sees it. It needs a
    // follower that loses acknowledged entries: the disk faults of the
    // storage work (a lost tail before restart) make that happen; without
    // them only another unsafe storage flag does (test/sim/simulator.test.ts).
    options: { nodeCount: 3 },
    // A follower's disk loses its acknowledged tail (sim/disk.ts loseTail), more often than in
    // the default mix; the run then requires every node to catch up after the heal.
    shape: { ...crashHeavy, faultWeights: { ...crashHeavy.faultWeights, lose_tail: 4 } },
  },
  // Issue 18: membership cycles (sim/membership.ts: two admins at most, each
  // removing a member and putting it back) while leaders crash and are cut
  // off, so that a new leader is asked for a change before its term's noop
  // commits, while the deposed leader's different change sits uncommitted on
  // some disks (Ongaro, raft-dev 2015: disjoint majorities), which Figure 3
  // (leader completeness, state machine safety) would see. Not found yet
  // (sim/README.md, "Detection": 1,200 runs): the model checker shows it on a
  // scripted path (test/mc/membership.test.ts ONGARO_PATH), and the gate
  // catches it with a choreography that needs a voter hearing only votes
  // (harness/nemesis/kinds/change-race.ts), which the simulator's faults
  // do not make.
  confChangeBeforeTermCommit: {
    description: 'a new leader changes the configuration before committing an entry of its term (disjoint majorities)',
    options: { nodeCount: 5 },
    shape: changeRaceHeavy,
  },
  // Issue 18: a removal commits with the old majority (the removed member's
  // own acknowledgement counted): the simulator's commit-quorum check, which
  // judges each leader commit against its newest configuration (as the
  // harness's wire monitor does, gate cell config-on-commit/membership, and
  // the model checker: `npm run mc -- --config-changes 1 --unsafe
  // config-on-commit`, mc/README.md).
  configOnCommit: {
    description: 'a configuration takes effect only once committed: a removal commits with the old majority',
    options: { nodeCount: 3 },
    shape: membershipHeavy,
  },
  // Snapshots every few entries, so they land in every run: the invariant
  // "a snapshot never contains uncommitted state" (simulator.ts) and the
  // InstallSnapshot streams run in each.
  // The transport's membership filter (NodeEndpoint.setPeers, wired in the
  // simulator since 2026-12-06): a node that knew a removal committed, cut off
  // while that member is added back and elected, never hears its new leader;
  // the catch-up check after the heal (liveness.ts) sees it behind.
  membersOnlyTransport: {
    description: 'a node that knew a removal committed never hears that member again, even as its leader',
    options: { nodeCount: 5 },
    shape: membershipHeavy,
  },
  snapshotPastCommit: {
    description: 'snapshots at the last log index apply uncommitted entries that a later leader overwrites',
    options: { nodeCount: 3, snapshotEveryEntries: 4, snapshotTrailingEntries: 1 },
    shape: partitionHeavy,
  },
  // Issue 18: the divergent-install choreography (sim/divergent-install.ts)
  // on five nodes, snapshots every 4 entries with one trailing entry; random
  // faults alone did not line it up (the old preset, 3 nodes, crash-heavy:
  // no campaign found the flag; sim/divergent-install.ts has the counts).
  keepLogOnInstall: {
    description: 'a follower keeps its conflicting log when it installs a snapshot and claims it matches',
    options: { nodeCount: 5, snapshotEveryEntries: 4, snapshotTrailingEntries: 1 },
    shape: divergentInstallHeavy,
  },
  forgetLeaseOnRestart: {
    description: 'a restarted follower votes at once, so a new leader commits while the old one serves lease reads',
    // A follower cut from the leader campaigns (caught up: the clients only
    // read, so logs stay equal); the follower that holds up the lease reboots
    // and votes for it at once; the old leader answers reads until it hears of
    // the new term. Seen by the read-safety check's index form (the new
    // leader's noop), since nobody writes. The window is the old leader's
    // lease (safeLeaseTicks: (E - 1) / clockDriftBound ticks) after the follower's
    // last answer, and ends when the leader's next heartbeat reaches the
    // restarted follower (it learns the new incarnation from the follower's
    // hello at start): only a quick restart, as a supervisor makes, fits it.
    // The clients keep reading through the fault window (150-300 reads each;
    // with 40-80 they were done before most faults).
    options: { keys: 1, nodeCount: 3 },
    shape: {
      ...defaultShape,
      ...readHeavy,
      minClients: 6,
      clients: 6,
      readOnlyClients: 6,
      maxThinkMs: 10,
      minOpsPerClient: 150,
      maxOpsPerClient: 300,
      minFaults: 12,
      maxFaults: 30,
      faultWeights: { cut_leader: 3, reboot: 8 },
      rebootDownMsMax: 20,
      clockRates: leaseSafeClockRates,
    },
  },
  leaseAfterHandover: {
    description: 'a leader that handed over (TimeoutNow) keeps serving lease reads while the transferee leads a later term',
    // Membership cycles that remove the leader (it hands over first, §3.10) while leaders are cut off from the
    // others: the old leader, cut off right after its TimeoutNow, answers reads from its lease while the transferee,
    // elected by a vote exempt from the lease, commits its noop. Readers stay with whichever node answers them, so
    // some ask the old leader; the read-safety check's index form sees the noop it missed.
    options: { keys: 1, nodeCount: 3 },
    shape: {
      ...defaultShape,
      ...readHeavy,
      minFaults: 10,
      maxFaults: 24,
      faultWeights: { membership: 8, isolate_leader: 3, partition: 3, heal: 2, crash_leader: 1, restart: 1 },
      membershipLeaderOnly: true,
      clockRates: leaseSafeClockRates,
    },
  },
  // The client opens its session and sends its writes as `existing` (as node/client.ts does), on a session table of 1:
  // sessions are evicted all the time, and a write retried after its session's eviction is applied again. Caught by
  // the read-safety judge's exactly-once check (sim/read-safety.ts, the nodes' bound beside an exact shadow).
  ignoreSessionExpiry: {
    description: "a write retried after its session's eviction is applied a second time",
    options: { maxSessions: 1, clientOpensSessions: true },
    shape: defaultShape,
  },
};

/**
 * Core-only unsafe behaviours (node/raft/types.ts `UnsafeCoreFlags` without a
 * node flag), which the simulator must catch too.
 */
const corePresets: readonly UnsafePreset[] = [
  {
    name: 'skip-read-quorum',
    description: 'ReadIndex without the heartbeat round that confirms leadership: a deposed leader serves stale reads',
    options: { ...base, keys: 1, skipReadQuorum: true },
    shape: partitionHeavy,
  },
];

/** The presets, keyed by name (`local-reads`), in the table's order, then the core-only ones. */
export const unsafePresets: Readonly<Record<string, UnsafePreset>> = Object.fromEntries([
  ...unsafeFlagSpecs.map((spec) => {
    const tuning = tunings[spec.key];
    if (spec.kind === 'integer' && tuning.value === undefined) throw new Error(`sim/unsafe.ts: the preset for ${spec.flag} needs a value`);
    const name = spec.flag.slice('--unsafe-'.length);
    const options: SimOptions = {
      ...base,
      ...tuning.options,
      ...(spec.requiresReadMode === undefined ? {} : { readMode: spec.requiresReadMode }),
      unsafe: { ...noUnsafeFlags, [spec.key]: spec.kind === 'boolean' ? true : tuning.value },
    };
    return [name, { name, description: tuning.description, options, shape: tuning.shape }] as const;
  }),
  ...corePresets.map((preset) => [preset.name, preset] as const),
]);

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

/**
 * The correct node under a preset's options and fault mix (`npm run sim --
 * --faults-of FLAG`): every unsafe behaviour off, the node's and the core's.
 * A mix aimed at one kind of bug is where real ones of that kind hide (a hunt
 * of the correct node under keep-log-on-install's mix found the snapshot
 * stream's backoff, 2026-12-06). Refused where the mix breaks an assumption
 * the node is entitled to, so a violation there would prove nothing: clock
 * rates in lease mode beyond the configured drift bound.
 */
export function correctUnder(preset: UnsafePreset): { readonly options: SimOptions } | { readonly refused: string } {
  const options: SimOptions = { ...preset.options, unsafe: noUnsafeFlags, skipReadQuorum: false };
  if (options.readMode === 'lease') {
    const bound = options.clockDriftBound;
    const beyond = preset.shape.clockRates.filter((r) => r > bound || r < 1 / bound);
    if (beyond.length > 0)
      return {
        refused: `its clock rates ${beyond.join(', ')} are beyond the drift bound ${bound} that lease reads assume (thesis §6.4.1)`,
      };
  }
  return { options };
}
