/**
 * The node's deliberately unsafe behaviours, one row each: the only place
 * their names are spelled. Each breaks the node in one known way for the
 * harness, the simulator and the consistency gate to catch; all are off by
 * default and never meant for production.
 *
 * Everything else derives from this table: the `UnsafeFlags` type and its
 * all-off value, `rift-node`'s parseArgs options and `--help` lines
 * (node/main.ts), the names a node reports in its status (node/host.ts), the
 * `--node-flag` values `npm run jepsen` accepts and lists (harness/options.ts),
 * and the simulator's campaign presets (sim/unsafe.ts, which must give every
 * row a fault shape: the compiler says so when a row is added).
 *
 * Adding a flag: add a row here, then its behaviour (where the host, the core
 * or the storage reads `unsafe.<key>`) and its simulator preset.
 */
import type { ReadMode } from './config-types.js';

interface UnsafeFlagRow {
  /** The field of `UnsafeFlags`. */
  readonly key: string;
  /** The command-line flag, always `--unsafe-...`. */
  readonly flag: `--unsafe-${string}`;
  /** One line for `--help`. */
  readonly description: string;
  /** Flags (by key) this one cannot be combined with: they break the same thing in two incompatible ways. */
  readonly conflicts: readonly string[];
  /** The read mode the flag only makes sense with. */
  readonly requiresReadMode?: ReadMode;
}

export interface BooleanUnsafeFlagRow extends UnsafeFlagRow {
  readonly kind: 'boolean';
}

/** A flag that takes an integer value (`--unsafe-lease-ms=N`); off is `null`. */
export interface IntegerUnsafeFlagRow extends UnsafeFlagRow {
  readonly kind: 'integer';
  readonly min: number;
  readonly max: number;
  /** What N is, for `--help` (`--unsafe-lease-ms N`). */
  readonly valueName: string;
}

export type UnsafeFlagSpec = BooleanUnsafeFlagRow | IntegerUnsafeFlagRow;

export const unsafeFlagTable = [
  {
    key: 'localReads',
    flag: '--unsafe-local-reads',
    kind: 'boolean',
    conflicts: [],
    // Every node answers reads from its own applied state, without ReadIndex or redirect (thesis §6.4 skipped).
    description: 'answer reads from local state, without ReadIndex',
  },
  {
    key: 'noPersistVote',
    flag: '--unsafe-no-persist-vote',
    kind: 'boolean',
    conflicts: [],
    // votedFor is lost on restart, so a node can vote twice in one term (§5.2 requires it on stable storage).
    description: 'keep votedFor in memory only',
  },
  {
    key: 'memoryLog',
    flag: '--unsafe-memory-log',
    kind: 'boolean',
    conflicts: ['ackBeforeFsync', 'tornTailDropped', 'ignoreDiskErrors'],
    // The log and hard state live only in memory; a restart starts empty.
    description: 'keep the log and hard state in memory only',
  },
  {
    key: 'ackBeforeFsync',
    flag: '--unsafe-ack-before-fsync',
    kind: 'boolean',
    conflicts: ['memoryLog'],
    // Messages and acknowledgements leave before the write reaches the disk; storage writes lazily, so a kill loses the tail.
    description: 'send acknowledgements before the log is on disk',
  },
  {
    key: 'commitOldTerms',
    flag: '--unsafe-commit-old-terms',
    kind: 'boolean',
    conflicts: [],
    // No noop at the start of a term; entries of earlier terms commit by counting replicas (the Figure 8 bug, §5.4.2).
    description: 'commit earlier-term entries by counting replicas (Figure 8)',
  },
  {
    key: 'leaseMs',
    flag: '--unsafe-lease-ms',
    kind: 'integer',
    min: 1,
    max: 600_000,
    valueName: 'N',
    conflicts: [],
    requiresReadMode: 'lease',
    // With readMode "lease", a lease of N ms instead of the safe lease (thesis §6.4.1; safeLeaseTicks in config-types.ts).
    description: 'lease reads with an N ms lease',
  },
  {
    key: 'staleReadAcks',
    flag: '--unsafe-stale-read-acks',
    kind: 'boolean',
    conflicts: [],
    // Echo an old-term AppendEntries' seq in the stale-term answer: a delayed or replayed
    // old-term request confirms a later term's ReadIndex round or renews its lease (issue 15 defect 1).
    description: 'let answers to old-term AppendEntries confirm reads of a later term',
  },
  {
    key: 'leaseAfterPause',
    flag: '--unsafe-lease-after-pause',
    kind: 'boolean',
    conflicts: [],
    requiresReadMode: 'lease',
    // Drop the tick backlog after a late wake-up without telling the core: a paused leader
    // keeps serving lease reads on a lease that ran out while it slept (issue 15 defect 2).
    description: 'forget, after a process pause, the time the lease lost',
  },
  {
    key: 'tornTailDropped',
    flag: '--unsafe-torn-tail-dropped',
    kind: 'boolean',
    conflicts: ['memoryLog'],
    // Drop any damaged last frame of the log as torn, even a complete fsynced one with a
    // flipped bit: an acknowledged vote or entry vanishes on restart (issue 15 defect 3).
    description: 'drop a corrupt last log frame as if it were a torn write',
  },
  {
    key: 'ignoreDiskErrors',
    flag: '--unsafe-ignore-disk-errors',
    kind: 'boolean',
    conflicts: ['memoryLog'],
    // A failed write or fsync of the log (ENOSPC, EIO) is logged and treated as done: the node acknowledges what
    // never reached the disk, and a restart loses it, or finds a hole where it should be (the fix the full-disk
    // probe of 2026-12-07 checked: a failed disk call is fatal, node/storage/file-storage.ts).
    description: 'log a failed log write or fsync and carry on as if it had succeeded',
  },
  {
    key: 'ignoreLostFollowerLog',
    flag: '--unsafe-ignore-lost-follower-log',
    kind: 'boolean',
    conflicts: [],
    // The leader treats a rejection below matchIndex as stale even when it proves the follower
    // lost entries: that follower is never caught up by this leader (issue 15 defect 4).
    description: 'never catch up a follower that lost acknowledged entries',
  },
  {
    key: 'forgetLeaseOnRestart',
    flag: '--unsafe-forget-lease-on-restart',
    kind: 'boolean',
    conflicts: [],
    requiresReadMode: 'lease',
    // A restarted follower grants votes at once, forgetting it may hold up a leader's lease
    // (thesis §6.4.1): a new leader commits while the old one serves lease reads (issue 15 defect 7).
    description: "vote at once after a restart, breaking a leader's lease",
  },
  {
    key: 'leaseAfterHandover',
    flag: '--unsafe-lease-after-handover',
    kind: 'boolean',
    conflicts: [],
    requiresReadMode: 'lease',
    // A leader that sent TimeoutNow (§3.10) keeps answering reads from its lease, though the transferee's
    // RequestVote is exempt from the followers' lease check (the defect the simulator's membership cycles found).
    description: 'keep serving lease reads after handing leadership over (TimeoutNow)',
  },
  // Issue 18's classic mistakes, in the core (node/raft/): each has a gate
  // cell (harness/gate/cells.ts). keep-log-on-install is caught there, by the
  // model checker's BFS and in the simulator by what the follower answers
  // (checker/ack-bound.ts); the harm it does (a commit on one copy) needs the
  // simulator's divergent_install fault (sim/divergent-install.ts).
  {
    key: 'confChangeBeforeTermCommit',
    flag: '--unsafe-conf-change-before-term-commit',
    kind: 'boolean',
    conflicts: [],
    // A new leader starts a configuration change before it has committed an entry of its own term
    // (Ongaro's 2015 correction to single-server changes): two changes can commit with disjoint majorities.
    description: "change the configuration before committing an entry of the leader's term",
  },
  {
    key: 'configOnCommit',
    flag: '--unsafe-config-on-commit',
    kind: 'boolean',
    conflicts: [],
    // A configuration takes effect when its entry commits, not when it is appended (dissertation §4.1 says on
    // append): a leader removing a member counts the old configuration, the removed member included, until the
    // removal commits, so the removal (and what follows it) commits without a majority of the new configuration.
    description: 'use a new configuration only once committed, not once appended',
  },
  {
    key: 'snapshotPastCommit',
    flag: '--unsafe-snapshot-past-commit',
    kind: 'boolean',
    conflicts: [],
    // Snapshots are taken at the last log index as if it were committed: uncommitted entries are applied,
    // answered and then overwritten by a later leader.
    description: 'take snapshots past the commit index',
  },
  {
    key: 'keepLogOnInstall',
    flag: '--unsafe-keep-log-on-install',
    kind: 'boolean',
    conflicts: [],
    // A follower installing a snapshot keeps its log after the snapshot's index unchecked and reports it
    // as matching (§7 says: discard the entire log): the leader counts entries the follower lacks.
    description: 'keep the conflicting log when installing a snapshot',
  },
  {
    key: 'membersOnlyTransport',
    flag: '--unsafe-members-only-transport',
    kind: 'boolean',
    conflicts: [],
    // The transport hears AppendEntries and InstallSnapshot only from the members of the configurations it still
    // hears (the defect fixed on 2026-12-06, node/transport/node-endpoint.ts mayComeFromAnyLeader): a node that
    // knows a removal committed never hears that identity again, even once it is added back and leads.
    description: "hear a leader's AppendEntries only from current members (a node behind a re-addition stays behind)",
  },
  {
    key: 'ignoreSessionExpiry',
    flag: '--unsafe-ignore-session-expiry',
    kind: 'boolean',
    conflicts: [],
    // The state machine ignores a command's session mode (node/kv/sessions.ts, the defect fixed on 2026-12-07): a
    // write whose session was evicted opens it anew and is applied, so a retry after the eviction is applied twice.
    description: 'apply a write whose session was evicted, opening it anew (a retry applies twice)',
  },
] as const satisfies readonly UnsafeFlagSpec[];

type Row = (typeof unsafeFlagTable)[number];

export type UnsafeFlagKey = Row['key'];

/** Which unsafe behaviours a node runs with: a boolean per boolean row, the value or null per integer row. */
export type UnsafeFlags = {
  readonly [R in Row as R['key']]: R extends { readonly kind: 'boolean' } ? boolean : number | null;
};

/** A row of the table with its key typed as a field of `UnsafeFlags`. */
export type UnsafeFlagRowSpec = UnsafeFlagSpec & { readonly key: UnsafeFlagKey };

/** The table, typed by row (the `as const` literal types are for deriving `UnsafeFlags`). */
export const unsafeFlagSpecs: readonly UnsafeFlagRowSpec[] = unsafeFlagTable;

export const noUnsafeFlags: UnsafeFlags = Object.freeze(
  Object.fromEntries(unsafeFlagSpecs.map((spec) => [spec.key, spec.kind === 'boolean' ? false : null])),
) as UnsafeFlags;

/** True when the row is switched on in `flags`. */
export function unsafeFlagIsSet(flags: UnsafeFlags, spec: UnsafeFlagRowSpec): boolean {
  const value = flags[spec.key];
  return spec.kind === 'boolean' ? value === true : value !== null;
}

/** The flags as a node's command line spells them, in table order (`--unsafe-lease-ms=1000`): for status and logs. */
export function unsafeNames(flags: UnsafeFlags): string[] {
  const names: string[] = [];
  for (const spec of unsafeFlagSpecs) {
    if (!unsafeFlagIsSet(flags, spec)) continue;
    names.push(spec.kind === 'boolean' ? spec.flag : `${spec.flag}=${String(flags[spec.key])}`);
  }
  return names;
}

/** The first pair of switched-on flags that conflict, as "A and B are alternatives; pick one"; null if none. */
export function unsafeConflict(flags: UnsafeFlags): string | null {
  for (const spec of unsafeFlagSpecs) {
    if (!unsafeFlagIsSet(flags, spec)) continue;
    for (const other of unsafeFlagSpecs) {
      if ((spec.conflicts as readonly string[]).includes(other.key) && unsafeFlagIsSet(flags, other)) {
        return `${spec.flag} and ${other.flag} are alternatives; pick one`;
      }
    }
  }
  return null;
}

/** A switched-on flag whose row needs another read mode, as "FLAG needs --read-mode MODE"; null if none. */
export function unsafeReadModeMismatch(flags: UnsafeFlags, readMode: ReadMode): string | null {
  for (const spec of unsafeFlagSpecs) {
    if (spec.requiresReadMode !== undefined && unsafeFlagIsSet(flags, spec) && readMode !== spec.requiresReadMode) {
      return `${spec.flag} needs --read-mode ${spec.requiresReadMode}`;
    }
  }
  return null;
}

/** The `--help` lines of the unsafe flags, flag column padded to `width` (widened to fit the longest flag). */
export function unsafeUsageLines(width: number): string[] {
  const leftOf = (spec: UnsafeFlagRowSpec): string => (spec.kind === 'integer' ? `${spec.flag} ${spec.valueName}` : spec.flag);
  const column = Math.max(width, ...unsafeFlagSpecs.map((spec) => leftOf(spec).length + 2));
  return unsafeFlagSpecs.map((spec) => {
    const left = leftOf(spec);
    const requires = spec.requiresReadMode === undefined ? '' : ` (with --read-mode ${spec.requiresReadMode})`;
    return `  ${left.padEnd(column)}${spec.description}${requires}`;
  });
}

/** node:util parseArgs options for every row (node/main.ts): a boolean row is a boolean option, an integer row a string option. */
export function unsafeParseArgsOptions(): Record<string, { readonly type: 'boolean' | 'string' }> {
  return Object.fromEntries(unsafeFlagSpecs.map((spec) => [spec.flag.slice(2), { type: spec.kind === 'boolean' ? 'boolean' : 'string' }]));
}

/**
 * The flags from node:util parseArgs values (options from unsafeParseArgsOptions);
 * an integer outside its row's range is an error. Conflicts are checked separately (unsafeConflict).
 */
export function unsafeFlagsFromArgs(
  values: Readonly<Record<string, unknown>>,
): { readonly ok: true; readonly flags: UnsafeFlags } | { readonly ok: false; readonly error: string } {
  const flags: Record<string, boolean | number | null> = { ...noUnsafeFlags };
  for (const spec of unsafeFlagSpecs) {
    const raw = values[spec.flag.slice(2)];
    if (spec.kind === 'boolean') {
      flags[spec.key] = raw === true;
      continue;
    }
    if (typeof raw !== 'string') continue;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < spec.min || n > spec.max) {
      return { ok: false, error: `${spec.flag} must be an integer in ${spec.min}..${spec.max} (got ${raw})` };
    }
    flags[spec.key] = n;
  }
  return { ok: true, flags: flags as UnsafeFlags };
}

/** The spec of a flag as the command line spells it (`--unsafe-lease-ms`, without a value), or null. */
export function unsafeFlagSpec(flag: string): UnsafeFlagRowSpec | null {
  return unsafeFlagSpecs.find((spec) => spec.flag === flag) ?? null;
}
