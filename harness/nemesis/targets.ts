/**
 * Node targets (Jepsen's db-node specs): which nodes a kill, pause or clock
 * fault hits. A kind says which targets it accepts (kinds/*.ts `targets`);
 * the --targets option, its help and its checks derive from that and from
 * the list here.
 *
 * Targets are resolved when the event fires, not when the schedule is drawn:
 * 'leader' asks the cluster for the current leader; 'one', 'minority' and
 * 'majority' draw from the seeded PRNG among the nodes that are running and
 * not paused, and never more nodes than the target names; 'follower' draws
 * one of them that is not the leader (a fault that must leave the
 * leadership alone, e.g. to see whether the leader repairs a follower).
 */
import fc from 'fast-check';
import { assertNever } from '../../node/util/assert.js';
import { majority } from './partitions.js';
import type { NemesisContext } from './context.js';
import type { ScheduleOptions } from './schedule.js';
import { field } from './wire.js';

/**
 * `voter` is for kill and disk only: for the fault's duration, every node
 * the wire monitor sees grant a vote is crashed at once and restarted at
 * once ("kill voters during elections"; disk damages its log in between),
 * and the leader is hit when the fault starts so that there are elections.
 */
export type NodeTarget = 'one' | 'leader' | 'minority' | 'majority' | 'all' | 'follower' | 'voter';
/** The targets that name a set of nodes when the event fires (all but `voter`, a standing trap). */
export type NodeSetTarget = Exclude<NodeTarget, 'voter'>;

/** Every target, in the order --targets lists them (and schedules draw from). */
export const nodeTargets: readonly NodeTarget[] = ['one', 'leader', 'minority', 'majority', 'all', 'follower', 'voter'];
export const nodeSetTargets: readonly NodeSetTarget[] = ['one', 'leader', 'minority', 'majority', 'all', 'follower'];
/** Drawn from when --targets is not given. */
export const defaultTargets: readonly NodeSetTarget[] = ['one', 'leader', 'minority', 'majority'];

/** What a target needs beyond a kind that accepts it (checked by the options). */
export const targetNeeds: Readonly<Partial<Record<NodeTarget, { readonly net: 'relay'; readonly why: string }>>> = {
  voter: { net: 'relay', why: 'its wire monitor sees the votes' },
};

/** What a target means beyond its name, for the --targets help. */
export const targetDescriptions: Readonly<Partial<Record<NodeTarget, string>>> = {
  voter: 'while the fault lasts, each node is crashed and restarted the moment it grants a vote',
  follower: 'one node that is not the leader as the fault fires',
};

/**
 * The arbitrary of a kind's target: one of the chosen targets that the kind
 * accepts (the defaults when none is chosen, or none of the chosen fits).
 */
export function targetArb<T extends NodeTarget>(opts: ScheduleOptions, accepted: readonly T[]): fc.Arbitrary<T> {
  const takes = (t: NodeTarget): t is T => (accepted as readonly NodeTarget[]).includes(t);
  const defaults: readonly NodeTarget[] = defaultTargets;
  const chosen = opts.targets !== undefined && opts.targets.length > 0 ? opts.targets : defaults;
  const fits = chosen.filter(takes);
  return fc.constantFrom<T>(...(fits.length > 0 ? fits : defaults.filter(takes)));
}

/** The targets that always include the leader (when there is one as the fault fires). */
export const leaderHittingTargets: readonly NodeSetTarget[] = ['leader', 'all'];

/**
 * A kind's biting target arbitrary (NemesisKindSpec.bitingCycle): the chosen
 * targets (or the defaults) that always hit the leader; null when none is
 * chosen (`--targets one`).
 */
export function bitingTargetArb<T extends NodeTarget>(opts: ScheduleOptions, accepted: readonly T[]): fc.Arbitrary<T> | null {
  const chosen: readonly NodeTarget[] = opts.targets !== undefined && opts.targets.length > 0 ? opts.targets : defaultTargets;
  const hits = chosen.filter(
    (t): t is T => (accepted as readonly NodeTarget[]).includes(t) && (leaderHittingTargets as readonly NodeTarget[]).includes(t),
  );
  return hits.length === 0 ? null : fc.constantFrom<T>(...hits);
}

/**
 * The current leader; when the cluster has none as the fault fires (mid-
 * election), polls for one for up to ctx.leaderWaitMs, so a fault aimed at
 * the leader rarely misses it. Null when none appeared.
 */
export async function awaitLeader(ctx: NemesisContext): Promise<string | null> {
  const deadline = performance.now() + ctx.leaderWaitMs;
  for (;;) {
    const leader = await ctx.cluster.leader();
    if (leader !== null || performance.now() >= deadline || ctx.isStopped()) return leader;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The `target` field of an op's value, as one of the kind's accepted targets. */
export function targetField<T extends NodeTarget>(value: unknown, accepted: readonly T[]): T {
  const t = field(value, 'target');
  if (typeof t !== 'string' || !(nodeTargets as readonly string[]).includes(t)) {
    throw new Error(`bad target ${JSON.stringify(t)} (expected one of ${nodeTargets.join(', ')})`);
  }
  if (!(accepted as readonly string[]).includes(t)) throw new TargetNotAccepted(t as NodeTarget);
  return t as T;
}

/** A known target that this kind does not take (the registry names the kinds that do). */
export class TargetNotAccepted extends Error {
  constructor(readonly target: NodeTarget) {
    super(`the ${target} target is not accepted here`);
  }
}

/** Resolves a target to concrete nodes among the running, unpaused ones. */
export async function resolveTarget(ctx: NemesisContext, target: NodeSetTarget): Promise<{ nodes: string[]; leader: string | null }> {
  const { cluster, rng } = ctx;
  // A target of the leader waits a little for one mid-election; the others take the leader as it is.
  const leader = target === 'leader' ? await awaitLeader(ctx) : await cluster.leader();
  const candidates = cluster.nodeIds.filter((id) => cluster.isAlive(id) && !cluster.isPaused(id));
  const n = cluster.nodeIds.length;
  let nodes: string[];
  switch (target) {
    case 'leader':
      nodes = leader !== null && candidates.includes(leader) ? [leader] : [];
      break;
    case 'one':
      nodes = candidates.length > 0 ? [rng.pick(candidates)] : [];
      break;
    case 'follower': {
      const followers = candidates.filter((id) => id !== leader);
      nodes = followers.length > 0 ? [rng.pick(followers)] : [];
      break;
    }
    case 'majority':
      nodes = rng.shuffle(candidates).slice(0, majority(n));
      break;
    case 'minority':
      nodes = rng.shuffle(candidates).slice(0, Math.floor((n - 1) / 2));
      break;
    case 'all':
      // Every node at once: a whole-cluster crash (power failure) for kill.
      nodes = [...candidates];
      break;
    default:
      return assertNever(target, 'node target');
  }
  return { nodes: nodes.sort(), leader };
}
