/**
 * Coverage-guided walks (`--mode guided`): swarm walks (mc/swarm.ts) that
 * start from states earlier walks reached, as a coverage-guided fuzzer (AFL,
 * libFuzzer) starts from inputs that reached new coverage.
 *
 * Why: the deep counterexamples (Ongaro's 2015 bug: a change that reaches one
 * node, a crash before the leader's fsync, two elections, an early removal,
 * a third election) need several rare events in a row. A walk from the
 * initial state must draw all of them in one go, so the odds multiply;
 * a walk from a kept state that already holds the first few needs only the
 * rest. A state is kept when its coverage key, an abstraction of the cluster
 * that forgets which messages are in flight and the exact history (see coverageKey),
 * has not been seen before; the pool of kept states (bounded, POOL_SIZE)
 * is where later walks start. Every walk is still a path from the initial
 * state (the kept state's path, then the walk's own events), so a finding
 * is reported, replayed and credited exactly as a swarm walk's.
 *
 * This is a search heuristic, not a reduction: nothing is pruned, and every
 * path a swarm walk can take from the initial state stays possible (one walk
 * in FRESH_START_ODDS starts there). The pool survives the model rebuilds that
 * bound the walks' memory (reset).
 *
 * Measured against swarm walks (mc/README.md, "Guided walks against swarm
 * walks"): no better on shallow flags; it finds no-persist-vote under an
 * in-flight bound where swarm walks did not; it did not find the three deep
 * flags (Ongaro's bug among them) in 900 s either.
 */
import type { SplitMix32 } from '../node/raft/prng.js';
import type { Configuration } from '../node/raft/types.js';
import type { SteppedMessage } from '../sim/stepped/network.js';
import type { Action, Model, World } from './model.js';
import type { SwarmProfile } from './swarm.js';

/** Kept states at most (a full pool replaces one, see TOURNAMENT: the walks' memory stays bounded). */
export const POOL_SIZE = 20_000;
/** One walk in this many starts from the initial state (so every path of a plain swarm walk stays possible). */
const FRESH_START_ODDS = 10;
/**
 * Kept states drawn to pick where a walk starts (the one whose key walks have reached least wins) and to pick
 * which one a full pool replaces (the most reached loses): rare abstract states get the walks, as a fuzzer's
 * power schedule gives its energy to rarely exercised paths (Böhme et al., AFLFast, CCS 2016).
 */
const TOURNAMENT = 3;

/** Where a walk starts: a world and the events that lead there from the initial state. */
export interface WalkStart {
  readonly world: World;
  readonly path: readonly Action[];
  /** The swarm profile of the walk that reached it (null: the initial state), which a walk from here may go on with. */
  readonly profile: SwarmProfile | null;
}

/** What a walk loop asks of a guide (mc/search.ts randomWalks). */
export interface WalkGuide {
  /** Where the next walk starts. */
  start(initial: World, random: SplitMix32): WalkStart;
  /** A state a walk reached (in bounds), with its path from the initial state and the walk's profile. */
  reached(world: World, path: readonly Action[], profile: SwarmProfile | null): void;
  /** The model was rebuilt: kept worlds name the old model's interned ids (see CoveragePool.reset). */
  reset(model: Model): void;
  /** For the summary. */
  describe(): string;
}

/**
 * The abstraction that decides novelty: per node, whether it is up, its role,
 * its volatile and durable terms, its commit index, its compaction point and
 * the term of every entry of its log (so diverged logs differ), whether it has
 * unsynced writes, and its configuration; then how many messages are in flight
 * (capped at 4), and the admin changes and snapshots used. Node states at this
 * grain are few in the bounded models (terms and logs are short), while which
 * messages are in flight, what multiplies states, is left out.
 */
export function coverageKey(model: Model, w: World, logTerms: Map<number, string>): string {
  const L = model.layout;
  let key = '';
  for (let i = 0; i < L.n; i++) {
    const s = model.node(w, i).summary;
    let terms = logTerms.get(s.logId);
    if (terms === undefined) {
      terms = `${model.logs.prevIndex(s.logId)}@${model.logs.prevTerm(s.logId)}:${model.logs
        .entries(s.logId)
        .map((e) => e.term)
        .join(',')}`;
      logTerms.set(s.logId, terms);
    }
    key +=
      `${s.up ? 'u' : 'd'}${s.role[0]}${s.term}/${s.durableTerm}c${s.commitIndex}[${terms}]` +
      `${s.unsynced ? '!' : ''}${configurationKey(s.configuration)};`;
  }
  return `${key}m${Math.min(4, w[L.netLen]!)}a${w[L.configChanges]!}s${w[L.snapshots]!}`;
}

function configurationKey(c: Configuration | null): string {
  return c === null ? '' : `{${c.voters.join(',')}/${c.learners.join(',')}}`;
}

/** An action that names its message by content, not by a model's interned id: it outlives a model rebuild. */
type PortableAction =
  Exclude<Action, { msg: number }> | { readonly kind: 'deliver' | 'drop' | 'duplicate'; readonly message: SteppedMessage };

/** A kept state: its world and path, or (after a model rebuild, until a walk starts there) only its portable path. */
type Kept = WalkStart | { readonly portable: readonly PortableAction[]; readonly profile: SwarmProfile | null };

/** The pool of kept states and the coverage keys seen. */
export class CoveragePool implements WalkGuide {
  private readonly pool: Kept[] = [];
  /** The coverage key of each pool entry. */
  private readonly keys: string[] = [];
  /** Per coverage key seen, how often walks reached it. */
  private readonly hits = new Map<string, number>();
  private logTerms = new Map<number, string>();
  private model: Model;
  /** Kept states in all (entries replaced in a full pool included), and model rebuilds the pool was carried over. */
  private kept = 0;
  private resets = 0;

  constructor(
    model: Model,
    private readonly random: SplitMix32,
    private readonly poolSize = POOL_SIZE,
  ) {
    this.model = model;
  }

  start(initial: World, random: SplitMix32): WalkStart {
    if (this.pool.length === 0 || random.nextInt(1, FRESH_START_ODDS) === 1) return { world: initial, path: [], profile: null };
    const i = this.draw(random, -1);
    const kept = this.pool[i]!;
    if (!('portable' in kept)) return kept;
    // Kept before a rebuild: walk its path again in this model (deterministic: the same state, new ids).
    const revived = this.revive(initial, kept.portable, kept.profile);
    this.pool[i] = revived;
    return revived;
  }

  /** The pool entry whose key has the fewest hits (sign -1) or the most (sign 1) among TOURNAMENT drawn. */
  private draw(random: SplitMix32, sign: 1 | -1): number {
    let best = random.nextInt(0, this.pool.length - 1);
    for (let k = 1; k < TOURNAMENT; k++) {
      const i = random.nextInt(0, this.pool.length - 1);
      if (sign * (this.hits.get(this.keys[i]!)! - this.hits.get(this.keys[best]!)!) > 0) best = i;
    }
    return best;
  }

  private revive(initial: World, portable: readonly PortableAction[], profile: SwarmProfile | null): WalkStart {
    const path: Action[] = [];
    let world = initial;
    for (const p of portable) {
      const action: Action = 'message' in p ? { kind: p.kind, msg: this.model.msgs.intern(p.message).id } : p;
      const result = this.model.step(world, action);
      // The same events from the same initial state: the same states again, so they stay within the bounds.
      if (!result.inBounds || result.violation !== null)
        throw new Error(`mc guided: a kept path did not replay at event ${path.length + 1}`);
      path.push(action);
      world = result.world;
    }
    return { world, path, profile };
  }

  reached(world: World, path: readonly Action[], profile: SwarmProfile | null): void {
    const key = coverageKey(this.model, world, this.logTerms);
    const hits = this.hits.get(key);
    if (hits !== undefined) {
      this.hits.set(key, hits + 1);
      return;
    }
    this.hits.set(key, 1);
    this.kept++;
    const entry = { world, path: path.slice(), profile };
    const i = this.pool.length < this.poolSize ? this.pool.length : this.draw(this.random, 1);
    this.pool[i] = entry;
    this.keys[i] = key;
  }

  /**
   * The model was rebuilt to bound memory (mc/search.ts WALK_HEAP_BYTES): kept worlds name the old model's
   * interned ids. Each kept path is made portable (messages by content), and walked again in the new model when a
   * walk first starts there, so the guidance survives the rebuild. The keys stay: they name contents, not ids.
   */
  reset(model: Model): void {
    const old = this.model;
    for (let i = 0; i < this.pool.length; i++) {
      const kept = this.pool[i]!;
      if ('portable' in kept) continue;
      this.pool[i] = {
        profile: kept.profile,
        portable: kept.path.map((a): PortableAction => ('msg' in a ? { kind: a.kind, message: old.msgs.get(a.msg).message } : a)),
      };
    }
    this.model = model;
    this.logTerms = new Map();
    this.resets++;
  }

  describe(): string {
    return `${this.hits.size.toLocaleString('en-US')} coverage keys, ${this.kept.toLocaleString('en-US')} states kept, pool ${this.pool.length.toLocaleString('en-US')}${this.resets > 0 ? ` (carried over ${this.resets} model rebuilds)` : ''}`;
  }
}
