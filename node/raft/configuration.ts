/**
 * Cluster membership (Raft dissertation ch. 4): configurations, the
 * single-server changes between them (§4.1), and the `config` log entry
 * that carries a change.
 *
 * Why single-server changes rather than joint consensus (§4.3): every
 * change is one log entry, and the majorities of two configurations that
 * differ by one server always overlap, so no joint phase is needed. The
 * known pitfall of this scheme (Ongaro, raft-dev, 2015: a deposed leader's
 * uncommitted change and a new leader's change can commit with disjoint
 * majorities) is closed in `raft.ts` by the rule that a leader starts a
 * change only after it has committed an entry of its own term.
 *
 * A configuration takes effect on a server as soon as its entry is in the
 * server's log, committed or not (§4.1); a truncated entry takes its
 * configuration with it (`ConfigHistory`).
 *
 * Pure: JSON text in and out, no IO.
 */
import { assert, assertNever, assertionFailed } from '../util/assert.js';
import type { ConfChange, Configuration, NodeId } from './types.js';

/**
 * Bound on voters plus learners. Raft clusters have 3-7 voters; the bound
 * keeps a configuration (carried by every snapshot chunk) a small fraction
 * of a datagram: 32 ids of at most 128 characters are under 13 KiB of the
 * 65,507 bytes.
 */
export const MAX_MEMBERS = 32;
/** Bound on a node id's length (the transport's MAX_ID_CHARS). */
export const MAX_NODE_ID_CHARS = 128;

export function isVoter(configuration: Configuration, id: NodeId): boolean {
  return configuration.voters.includes(id);
}

export function isLearner(configuration: Configuration, id: NodeId): boolean {
  return configuration.learners.includes(id);
}

export function isMember(configuration: Configuration, id: NodeId): boolean {
  return isVoter(configuration, id) || isLearner(configuration, id);
}

/** Every member but `self`, sorted: whom a leader replicates to. */
export function othersOf(configuration: Configuration, self: NodeId): NodeId[] {
  return [...configuration.voters, ...configuration.learners].filter((id) => id !== self).sort();
}

export function sameConfiguration(a: Configuration, b: Configuration): boolean {
  return sameList(a.voters, b.voters) && sameList(a.learners, b.learners);
}

function sameList(a: readonly NodeId[], b: readonly NodeId[]): boolean {
  return a.length === b.length && a.every((id, i) => id === b[i]);
}

/** A configuration from member lists: sorted, checked (the core's own data; a violation is a bug). */
export function makeConfiguration(voters: readonly NodeId[], learners: readonly NodeId[] = []): Configuration {
  const configuration = { voters: [...voters].sort(), learners: [...learners].sort() };
  const problem = configurationProblem(configuration);
  if (problem !== null) assertionFailed(`bad configuration: ${problem}`);
  return configuration;
}

/** The empty configuration of a node that joins and has not yet heard its cluster's (RaftConfig.joining). */
export const EMPTY_CONFIGURATION: Configuration = Object.freeze({ voters: Object.freeze([]), learners: Object.freeze([]) });

/** Null when `configuration` is well formed (sorted, disjoint, bounded ids, at least one voter); else why not. */
export function configurationProblem(configuration: Configuration): string | null {
  const { voters, learners } = configuration;
  if (voters.length === 0) return 'no voters';
  if (voters.length + learners.length > MAX_MEMBERS) return `${voters.length + learners.length} members; at most ${MAX_MEMBERS}`;
  for (const list of [voters, learners]) {
    for (let i = 0; i < list.length; i++) {
      const id = list[i];
      if (typeof id !== 'string' || id.length === 0 || id.length > MAX_NODE_ID_CHARS) return `bad node id ${JSON.stringify(id)}`;
      const previous = list[i - 1];
      if (previous !== undefined && previous >= id) return `member lists must be sorted and without duplicates (${previous}, ${id})`;
    }
  }
  for (const id of learners) if (voters.includes(id)) return `${id} is both voter and learner`;
  return null;
}

export type ConfChangeResult =
  { readonly ok: true; readonly configuration: Configuration } | { readonly ok: false; readonly detail: string };

/** The configuration `change` leads to from `current`, or why it is not a valid single-server change. */
export function applyConfChange(current: Configuration, change: ConfChange): ConfChangeResult {
  const { node } = change;
  if (typeof node !== 'string' || node.length === 0 || node.length > MAX_NODE_ID_CHARS)
    return { ok: false, detail: `bad node id ${JSON.stringify(node)}` };
  let next: Configuration;
  switch (change.type) {
    case 'add_learner':
      if (isMember(current, node)) return { ok: false, detail: `${node} is already a ${isVoter(current, node) ? 'voter' : 'learner'}` };
      if (current.voters.length + current.learners.length >= MAX_MEMBERS)
        return { ok: false, detail: `the cluster has ${MAX_MEMBERS} members, the most it may have` };
      next = { voters: current.voters, learners: [...current.learners, node].sort() };
      break;
    case 'promote':
      if (!isLearner(current, node))
        return { ok: false, detail: `${node} is not a learner (only a learner that caught up is promoted, §4.2.1)` };
      next = { voters: [...current.voters, node].sort(), learners: current.learners.filter((id) => id !== node) };
      break;
    case 'remove':
      if (!isMember(current, node)) return { ok: false, detail: `${node} is not a member` };
      if (isVoter(current, node) && current.voters.length === 1) return { ok: false, detail: `${node} is the last voter` };
      next = { voters: current.voters.filter((id) => id !== node), learners: current.learners.filter((id) => id !== node) };
      break;
    default:
      return assertNever(change, 'conf change');
  }
  return { ok: true, configuration: next };
}

/** `add_learner n4` */
export function describeConfChange(change: ConfChange): string {
  return `${change.type} ${change.node}`;
}

/** `voters=[n1,n2,n3] learners=[n4]` */
export function describeConfiguration(configuration: Configuration): string {
  return `voters=[${configuration.voters.join(',')}] learners=[${configuration.learners.join(',')}]`;
}

// ---------------------------------------------------------------- the config entry

/** What a `config` entry carries: the change, and the configuration it leads to (so an entry is read without its predecessors). */
export interface ConfigEntryData {
  readonly change: ConfChange;
  readonly configuration: Configuration;
}

export function encodeConfigEntry(data: ConfigEntryData): string {
  // Field by field, in a fixed order: the same change is always the same bytes.
  return JSON.stringify({
    change: { type: data.change.type, node: data.change.node },
    voters: data.configuration.voters,
    learners: data.configuration.learners,
  });
}

export type DecodeConfigEntryResult =
  { readonly ok: true; readonly data: ConfigEntryData } | { readonly ok: false; readonly error: string };

/** Total: any string gives a typed result. Checks the configuration is well formed and agrees with the change. */
export function decodeConfigEntry(text: string): DecodeConfigEntryResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, error: 'config entry is not JSON' };
  }
  if (!isObject(value) || !hasExactly(value, ['change', 'voters', 'learners']))
    return { ok: false, error: 'config entry: expected {change, voters, learners}' };
  const change = value['change'];
  if (!isObject(change) || !hasExactly(change, ['type', 'node'])) return { ok: false, error: 'config entry: change must be {type, node}' };
  const type = change['type'];
  const node = change['node'];
  if (type !== 'add_learner' && type !== 'promote' && type !== 'remove')
    return { ok: false, error: `config entry: unknown change ${JSON.stringify(type)}` };
  if (typeof node !== 'string') return { ok: false, error: 'config entry: change.node must be a string' };
  const voters = value['voters'];
  const learners = value['learners'];
  if (!isStringList(voters) || !isStringList(learners))
    return { ok: false, error: 'config entry: voters and learners must be lists of ids' };
  const configuration: Configuration = { voters, learners };
  const problem = configurationProblem(configuration);
  if (problem !== null) return { ok: false, error: `config entry: ${problem}` };
  const agrees =
    type === 'add_learner'
      ? isLearner(configuration, node)
      : type === 'promote'
        ? isVoter(configuration, node)
        : !isMember(configuration, node);
  if (!agrees) return { ok: false, error: `config entry: the configuration does not reflect ${type} ${node}` };
  return { ok: true, data: { change: { type, node }, configuration } };
}

/** The configuration in a `config` entry known to be well formed (the core checked it on the way in). */
export function configurationOfEntry(text: string): Configuration {
  const decoded = decodeConfigEntry(text);
  if (!decoded.ok) assertionFailed(`a config entry in the log is malformed: ${decoded.error}`);
  return decoded.data.configuration;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function hasExactly(value: Record<string, unknown>, keys: readonly string[]): boolean {
  const own = Object.keys(value);
  return own.length === keys.length && keys.every((key) => Object.hasOwn(value, key));
}

function isStringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.length <= MAX_MEMBERS && value.every((id) => typeof id === 'string');
}

// ---------------------------------------------------------------- history

/** A configuration and the log index it took effect at (the base's is the snapshot's index, or 0). */
export interface ConfigPoint {
  readonly index: number;
  readonly configuration: Configuration;
}

/**
 * The configurations in effect along the log: a base (the snapshot's, or the
 * bootstrap one at index 0) and one point per `config` entry after it, in
 * index order. The newest is the one in effect (§4.1). Truncating the log
 * drops the points it removes, so the configuration rolls back with it; a
 * snapshot rebases. Plain data (an array of plain objects), so a model
 * checker can copy it structurally.
 *
 * Bounded by the log: one point per config entry past the snapshot, and a
 * leader appends a change only once the previous one committed.
 */
export class ConfigHistory {
  private pointsNow: ConfigPoint[];
  /** Grows with every change of `points`, so a cache of something derived from them can tell it is stale. */
  private changeCount = 0;

  constructor(base: ConfigPoint) {
    this.pointsNow = [base];
  }

  get points(): readonly ConfigPoint[] {
    return this.pointsNow;
  }

  /** How many times the points changed (a cache key, not state). */
  get changes(): number {
    return this.changeCount;
  }

  /** Every point at once (restoring a copied node state). */
  replace(points: readonly ConfigPoint[]): void {
    this.pointsNow = points.slice();
    this.changeCount++;
  }

  current(): Configuration {
    return this.last().configuration;
  }

  /** Index of the newest config entry (or of the base). */
  lastIndex(): number {
    return this.last().index;
  }

  /** The configuration in effect at `index` (at or after the base). */
  at(index: number): Configuration {
    for (let i = this.points.length - 1; i >= 0; i--) {
      const point = this.points[i];
      if (point !== undefined && point.index <= index) return point.configuration;
    }
    return assertionFailed(`no configuration known at index ${index} (base ${this.points[0]?.index})`);
  }

  /** A config entry appended at `index` (after every point). */
  push(index: number, configuration: Configuration): void {
    assert(index > this.lastIndex(), `config entry at ${index} must follow the one at ${this.lastIndex()}`);
    this.pointsNow.push({ index, configuration });
    this.changeCount++;
  }

  /** The log lost every entry from `index` on: so did their configurations (never the base). */
  truncateFrom(index: number): void {
    while (this.pointsNow.length > 1 && this.last().index >= index) {
      this.pointsNow.pop();
      this.changeCount++;
    }
  }

  /** A snapshot at `base.index` became the start of what is known: the points it covers collapse into it. */
  rebase(base: ConfigPoint): void {
    this.pointsNow = [base, ...this.pointsNow.filter((point) => point.index > base.index)];
    this.changeCount++;
  }

  /**
   * The members a server should still hear from as peers, knowing that the
   * log is committed up to `commitIndex`: those of the configuration in
   * effect at the commit index and of every newer one (committed or not).
   * A server removed by a configuration known committed drops out; one added
   * by an entry that is only appended is already in (§4.1: it takes effect
   * on append). Null while no configuration is known at all (a joiner that
   * has not yet heard from its cluster: it cannot tell its leader yet).
   */
  membersSince(commitIndex: number): Set<NodeId> | null {
    const out = new Set<NodeId>();
    const base = this.points[0];
    const from = Math.max(commitIndex, base?.index ?? 0);
    for (const id of [...this.at(from).voters, ...this.at(from).learners]) out.add(id);
    for (const point of this.points) {
      if (point.index <= from) continue;
      for (const id of [...point.configuration.voters, ...point.configuration.learners]) out.add(id);
    }
    return out.size === 0 && this.points.every((point) => point.configuration.voters.length === 0) ? null : out;
  }

  /**
   * The members of the configuration before the newest config entry that the
   * newest one leaves out (at most one: changes are single-server, §4.1).
   * Empty when the newest configuration is the base.
   */
  removedByLast(): NodeId[] {
    const last = this.points[this.points.length - 1];
    const before = this.points[this.points.length - 2];
    if (last === undefined || before === undefined) return [];
    return [...before.configuration.voters, ...before.configuration.learners].filter((id) => !isMember(last.configuration, id)).sort();
  }

  /** Every node any known configuration names (messages from them are accepted). */
  members(): Set<NodeId> {
    const out = new Set<NodeId>();
    for (const point of this.points) for (const id of [...point.configuration.voters, ...point.configuration.learners]) out.add(id);
    return out;
  }

  private last(): ConfigPoint {
    const point = this.points[this.points.length - 1];
    assert(point !== undefined, 'configuration history is never empty');
    return point;
  }
}
