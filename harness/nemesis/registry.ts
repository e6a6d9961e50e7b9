/**
 * The table of fault kinds: the one place a kind is listed. Everything else
 * about faults derives from it: the schedule's arbitraries (schedule.ts), the
 * runner's typed ops and final heal (runner.ts), the --nemesis, --targets
 * and per-kind options with their help (harness/options.ts), and the
 * catalogue the report classifies the history's nemesis ops by (test.json,
 * report/nemesis.ts). To add a kind: write kinds/<kind>.ts, add its op type
 * to NemesisOps and its spec to nemesisTable, and a case to the runner's
 * switch (the compiler asks for each).
 */
import type { NemesisCatalogue } from '../../report/nemesis.js';
import type { NemesisContext } from './context.js';
import type { FaultNemesis, FinalHealStep, NemesisKindSpec, NemesisOption } from './kind.js';
import { clientLoss, type ClientLossOp } from './kinds/client-loss.js';
import { clock, type ClockOp } from './kinds/clock.js';
import { delay, type DelayOp } from './kinds/delay.js';
import { disk, type DiskOp } from './kinds/disk.js';
import { diskFull, type DiskFullOp } from './kinds/disk-full.js';
import { duplicate, type DuplicateOp } from './kinds/duplicate.js';
import { kill, type KillOp } from './kinds/kill.js';
import { leaseRestart, type LeaseRestartOp } from './kinds/lease-restart.js';
import { loss, type LossOp } from './kinds/loss.js';
import { membership, type MembershipOp } from './kinds/membership.js';
import { clearPacketFaults } from './kinds/packet.js';
import { partition, type PartitionOp } from './kinds/partition.js';
import { pause, type PauseOp } from './kinds/pause.js';
import { rejoin, type RejoinOp } from './kinds/rejoin.js';
import { changeRace, type ChangeRaceOp } from './kinds/change-race.js';
import { relead, type ReleadOp } from './kinds/relead.js';
import { replay, type ReplayOp } from './kinds/replay.js';
import { resize, type ResizeOp } from './kinds/resize.js';
import { nodeTargets, targetDescriptions, targetNeeds, TargetNotAccepted, type NodeTarget } from './targets.js';

/** Each kind's typed ops. */
export interface NemesisOps {
  partition: PartitionOp;
  kill: KillOp;
  pause: PauseOp;
  clock: ClockOp;
  loss: LossOp;
  delay: DelayOp;
  duplicate: DuplicateOp;
  'client-loss': ClientLossOp;
  replay: ReplayOp;
  disk: DiskOp;
  'disk-full': DiskFullOp;
  'lease-restart': LeaseRestartOp;
  relead: ReleadOp;
  membership: MembershipOp;
  resize: ResizeOp;
  rejoin: RejoinOp;
  'change-race': ChangeRaceOp;
}

export type NemesisKind = keyof NemesisOps;
/** Every op of every kind, discriminated by `kind` (and, within a kind, by `f`). */
export type NemesisOp = NemesisOps[NemesisKind];

/**
 * The kinds, in their canonical order: --nemesis all, the default test name
 * (rift-partition-kill...), the progress line and the report list them so.
 */
export const nemesisTable: { readonly [K in NemesisKind]: NemesisKindSpec<K, NemesisOps[K]> } = {
  partition,
  kill,
  pause,
  clock,
  loss,
  delay,
  duplicate,
  'client-loss': clientLoss,
  replay,
  disk,
  'disk-full': diskFull,
  'lease-restart': leaseRestart,
  relead,
  membership,
  resize,
  rejoin,
  'change-race': changeRace,
};

export const nemesisKinds: readonly NemesisKind[] = Object.keys(nemesisTable) as NemesisKind[];

export function isNemesisKind(s: string): s is NemesisKind {
  return Object.hasOwn(nemesisTable, s);
}

export type AnyKindSpec = (typeof nemesisTable)[NemesisKind];
export const kindSpecs: readonly AnyKindSpec[] = nemesisKinds.map((k) => nemesisTable[k]);

/**
 * The final heal (Jepsen's final generator), in this order: the network
 * first, so nodes that resume or restart find it whole; packet faults; the
 * replay fault (what it still holds is delivered, late, once); then
 * resume paused nodes before restarting killed ones (a restart waits for its
 * node to be ready, which needs its peers awake), then free full disks and
 * restart the nodes that stopped on them (after kill's restarts: one on a
 * still-full disk exits 7, and disk-full brings it back), the lease-restart
 * choreography's leftovers among them; the relead choreography's network
 * and clock; membership, then resize, then rejoin and change-race (their network and members), once every node runs again (a member
 * put back must catch up before its promotion); clocks last, when every
 * node is running again and can be reset (a restarted node has a fresh one).
 */
export const finalHealOrder: readonly FinalHealStep[] = [
  partition.finalHeal,
  clearPacketFaults,
  replay.finalHeal,
  pause.finalHeal,
  kill.finalHeal,
  disk.finalHeal,
  diskFull.finalHeal,
  leaseRestart.finalHeal,
  relead.finalHeal,
  membership.finalHeal,
  resize.finalHeal,
  rejoin.finalHeal,
  changeRace.finalHeal,
  clock.finalHeal,
];

/**
 * The kinds that kill nodes: with any of them in a run, the cluster starts
 * its nodes with the page-cache crash model (node/storage/page-cache-fs.ts),
 * so that every kill is a power failure for the node's disk and loses what
 * it had not fsynced. Always, not an option: a correct node fsyncs before
 * it acknowledges, so the model changes nothing for it (its unsynced window
 * is inside one synchronous write + fsync), while a node that acknowledges
 * unsynced data is caught by any kill; a kill that keeps the page cache
 * tests nothing this one does not.
 */
export const powerLossKinds: readonly NemesisKind[] = ['kill', 'disk', 'lease-restart'];

/** The kinds a final-heal step heals, in table order. */
export function kindsHealedBy(step: FinalHealStep): NemesisKind[] {
  return nemesisKinds.filter((k) => nemesisTable[k].finalHeal === step);
}

// --- ops by f --------------------------------------------------------------

const kindByF: ReadonlyMap<string, NemesisKind> = new Map(
  nemesisKinds.flatMap((k) => Object.keys(nemesisTable[k].fs).map((f): [string, NemesisKind] => [f, k])),
);

/** Which kind an op belongs to (from its `f`), or null for an unknown f. */
export function kindOf(f: string): NemesisKind | null {
  return kindByF.get(f) ?? null;
}

/** The `f`s that start a kind's faults, and the one that stops them. */
export function startFs(kind: NemesisKind): string[] {
  return Object.entries(nemesisTable[kind].fs)
    .filter(([, role]) => role === 'start')
    .map(([f]) => f);
}

export function stopF(kind: NemesisKind): string {
  const stops = Object.entries(nemesisTable[kind].fs)
    .filter(([, role]) => role === 'stop')
    .map(([f]) => f);
  if (stops.length !== 1) throw new Error(`nemesis kind ${kind} must have exactly one stop op, has ${stops.length}`);
  return stops[0]!;
}

/**
 * A typed op from its wire form ({f, value}): the kind that owns `f` checks
 * the value once. Throws with a message for the history on an unknown f, a
 * bad value, or a target the kind does not take.
 */
export function decodeNemesisOp(f: string, value: unknown): NemesisOp {
  const kind = kindOf(f);
  if (kind === null) throw new Error(`unknown nemesis op "${f}"`);
  try {
    return decodeAs(kind, f, value);
  } catch (err) {
    if (err instanceof TargetNotAccepted) throw new Error(`the ${err.target} target is for ${orList(kindsTakingTarget(err.target))} only`);
    throw err;
  }
}

function decodeAs<K extends NemesisKind>(kind: K, f: string, value: unknown): NemesisOps[K] {
  const spec: NemesisKindSpec<K, NemesisOps[K]> = nemesisTable[kind];
  return spec.decode(f as NemesisOps[K]['f'], value); // f was looked up in this kind's fs
}

/** Each kind's nemesis for one run. */
export type NemesisInstances = { readonly [K in NemesisKind]: FaultNemesis<NemesisOps[K]> };

export function createNemeses(ctx: NemesisContext): NemesisInstances {
  // nemesisKinds are the table's keys, so every kind gets its nemesis.
  return Object.fromEntries(nemesisKinds.map((k) => [k, nemesisTable[k].create(ctx)])) as unknown as NemesisInstances;
}

// --- targets and options ----------------------------------------------------

/** The kinds that take --targets. */
export function kindsTakingTargets(): NemesisKind[] {
  return nemesisKinds.filter((k) => nemesisTable[k].targets.length > 0);
}

/** The kinds that accept one target. */
export function kindsTakingTarget(target: NodeTarget): NemesisKind[] {
  return nemesisKinds.filter((k) => nemesisTable[k].targets.includes(target));
}

/** The per-kind options (besides --targets), each once, in table order, with the kinds that take it. */
export function nemesisOptions(): { readonly option: NemesisOption; readonly kinds: NemesisKind[] }[] {
  const out: { option: NemesisOption; kinds: NemesisKind[] }[] = [];
  for (const k of nemesisKinds) {
    for (const option of nemesisTable[k].options) {
      const seen = out.find((o) => o.option.flag === option.flag);
      if (seen !== undefined) seen.kinds.push(k);
      else out.push({ option, kinds: [k] });
    }
  }
  return out;
}

/** "a", "a or b", "a, b or c" (`word` "and" for the help). */
export function orList(items: readonly string[], word: 'or' | 'and' = 'or'): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} ${word} ${items[items.length - 1]!}`;
}

/** The --targets help: which kinds take it, every target, and what the special ones mean and need. */
export function targetsHelp(): string {
  const takers = kindsTakingTargets();
  const targets = nodeTargets.map((t) => {
    const description = targetDescriptions[t];
    if (description === undefined) return t;
    const owners = kindsTakingTarget(t);
    const only = owners.length < takers.length ? `${orList(owners)} only: ` : '';
    const need = targetNeeds[t];
    return `${t} (${only}${description}${need !== undefined ? `; needs --net ${need.net}` : ''})`;
  });
  return `nodes hit by ${orList(takers, 'and')} faults: ${targets.join(', ')}`;
}

// --- the report's catalogue ---------------------------------------------------

/**
 * The kinds as data for the report (written into test.json): report/ may not
 * import this table, so a run carries what its nemesis ops mean.
 */
export function nemesisCatalogue(): NemesisCatalogue {
  return kindSpecs.map((spec) => ({ kind: spec.kind, label: spec.label, startFs: startFs(spec.kind), stopF: stopF(spec.kind) }));
}
