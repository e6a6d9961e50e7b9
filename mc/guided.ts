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
 * that forgets the messages in flight and the exact history (see coverageKey),
 * has not been seen before; the pool of kept states (bounded, POOL_SIZE)
 * is where later walks start. Every walk is still a path from the initial
 * state (the kept state's path, then the walk's own events), so a finding
 * is reported, replayed and credited exactly as a swarm walk's.
 *
 * This is a search heuristic, not a reduction: nothing is pruned, and every
 * path a swarm walk can take from the initial state stays possible (one walk
 * in FRESH_START_ODDS starts there).
 */
import type { SplitMix32 } from '../node/raft/prng.js';
import type { Configuration } from '../node/raft/types.js';
import type { Action, Model, World } from './model.js';

/** Kept states at most (a full pool replaces a random entry: the walks' memory stays bounded). */
export const POOL_SIZE = 20_000;
/** One walk in this many starts from the initial state (so every path of a plain swarm walk stays possible). */
const FRESH_START_ODDS = 10;

/** Where a walk starts: a world and the events that lead there from the initial state. */
export interface WalkStart {
  readonly world: World;
  readonly path: readonly Action[];
}

/** What a walk loop asks of a guide (mc/search.ts randomWalks). */
export interface WalkGuide {
  /** Where the next walk starts. */
  start(initial: World, random: SplitMix32): WalkStart;
  /** A state a walk reached (in bounds), with its path from the initial state. */
  reached(world: World, path: readonly Action[]): void;
  /** The model was rebuilt: kept worlds name the old model's interned ids, so they go. */
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
 * grain are few in the bounded models (terms and logs are short), while the
 * messages in flight, which multiply states, are left out.
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

/** The pool of kept states and the coverage keys seen. */
export class CoveragePool implements WalkGuide {
  private readonly pool: WalkStart[] = [];
  private readonly seen = new Set<string>();
  private logTerms = new Map<number, string>();
  private model: Model;
  /** Kept states in all (entries replaced in a full pool included), and model rebuilds that emptied the pool. */
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
    if (this.pool.length === 0 || random.nextInt(1, FRESH_START_ODDS) === 1) return { world: initial, path: [] };
    return this.pool[random.nextInt(0, this.pool.length - 1)]!;
  }

  reached(world: World, path: readonly Action[]): void {
    const key = coverageKey(this.model, world, this.logTerms);
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.kept++;
    const entry = { world, path: path.slice() };
    if (this.pool.length < this.poolSize) this.pool.push(entry);
    else this.pool[this.random.nextInt(0, this.poolSize - 1)] = entry;
  }

  reset(model: Model): void {
    // The keys stay: they name contents, not interned ids, so a state seen before the rebuild is not new after it.
    this.model = model;
    this.pool.length = 0;
    this.logTerms = new Map();
    this.resets++;
  }

  describe(): string {
    return `${this.seen.size.toLocaleString('en-US')} coverage keys, ${this.kept.toLocaleString('en-US')} states kept, pool ${this.pool.length.toLocaleString('en-US')}${this.resets > 0 ? ` (emptied by ${this.resets} model rebuilds)` : ''}`;
  }
}
