/**
 * Swarm random walks (`--mode swarm`; Groce, Zhang, Eide, Chen, Regehr,
 * "Swarm Testing", ISSTA 2012): each walk draws its own profile (how likely
 * each kind of event is, how slow each link and each node is, and which
 * messages are held back) and picks events in proportion to those weights.
 *
 * Why: a uniform walk delivers almost every message within a few steps and
 * spreads timer firings and faults evenly over the nodes. The deep
 * counterexamples this model has (stale-read-acks: one heartbeat held while
 * three elections happen; a restarted voter; a lagging follower that misses
 * a term) each need one message or one node to be slow for dozens of events,
 * which uniform choice makes exponentially unlikely, while some profile
 * makes it the normal case. A profile never disables an event for good
 * (every enabled event keeps a weight above zero, and a state where all of
 * them are switched off falls back to uniform choice), so every path a
 * uniform walk can take a swarm walk can take too.
 */
import type { SplitMix32 } from '../node/raft/prng.js';
import { assertNever } from '../node/util/assert.js';
import type { Action, Model } from './model.js';

/** Kinds a profile may switch off (weight ~0) with probability 1/2: faults and optional events. */
const OPTIONAL_KINDS: ReadonlySet<Action['kind']> = new Set([
  'drop',
  'duplicate',
  'crash',
  'pause',
  'lose_tail',
  'tear',
  'transfer',
  'snapshot',
  'admin',
]);

const ALL_KINDS: readonly Action['kind'][] = [
  'deliver',
  'drop',
  'duplicate',
  'tick',
  'timeout',
  'fsync',
  'snapshot',
  'crash',
  'restart',
  'pause',
  'resume',
  'lose_tail',
  'tear',
  'request',
  'transfer',
  'admin',
  'advance',
];

const KIND_INDEX: ReadonlyMap<Action['kind'], number> = new Map(ALL_KINDS.map((k, i) => [k, i]));

/** Weights span 2^-SPAN..1 (log-uniform): a slow link or node is up to 2^SPAN times less likely to act. */
const SPAN_LOG2 = 8;
/** A held message's weight factor: far below any link's, so it waits while the cluster moves on. */
const HELD_WEIGHT = 2 ** -12;
/** A switched-off kind's weight: not zero, so that the kind stays possible (see the file comment). */
const OFF_WEIGHT = 2 ** -16;
/** At most this fraction of messages is held in a profile (drawn uniformly in [0, MAX_HELD]). */
const MAX_HELD = 0.3;

function unit(random: SplitMix32): number {
  return random.nextUint32() / 4294967296;
}

function logUniform(random: SplitMix32): number {
  return 2 ** (-SPAN_LOG2 * unit(random));
}

/** One walk's weights. Node indices are the model's slots (a walk never relabels its world). */
export class SwarmProfile {
  private constructor(
    private readonly kind: ReadonlyMap<Action['kind'], number>,
    private readonly node: Float64Array,
    /** Per kind and node (index kind * nodes + node): one node's fsync slow while its timer is quick. */
    private readonly kindNode: Float64Array,
    private readonly link: Float64Array,
    /** Per client operation: a late operation waits while the cluster changes leaders (a put must reach the new leader). */
    private readonly op: Float64Array,
    private readonly nodes: number,
    /** Messages whose hash with the salt falls below `held` (as a fraction of 2^32) are held back. */
    private readonly salt: number,
    private readonly held: number,
    private readonly weights: number[] = [],
  ) {}

  static draw(random: SplitMix32, nodes: number, ops: number): SwarmProfile {
    const kind = new Map<Action['kind'], number>();
    for (const k of ALL_KINDS) kind.set(k, OPTIONAL_KINDS.has(k) && unit(random) < 0.5 ? OFF_WEIGHT : logUniform(random));
    const node = new Float64Array(nodes);
    for (let i = 0; i < nodes; i++) node[i] = logUniform(random);
    const kindNode = new Float64Array(ALL_KINDS.length * nodes);
    for (let i = 0; i < kindNode.length; i++) kindNode[i] = 2 ** (-(SPAN_LOG2 / 2) * unit(random));
    const link = new Float64Array(nodes * nodes);
    for (let i = 0; i < link.length; i++) link[i] = logUniform(random);
    const op = new Float64Array(ops);
    for (let k = 0; k < ops; k++) op[k] = 2 ** (-2 * SPAN_LOG2 * unit(random));
    return new SwarmProfile(kind, node, kindNode, link, op, nodes, random.nextUint32() | 0, unit(random) * MAX_HELD);
  }

  /** The index in `actions` of the event to take. */
  pick(model: Model, actions: readonly Action[], random: SplitMix32): number {
    const weights = this.weights;
    weights.length = actions.length;
    let total = 0;
    for (let i = 0; i < actions.length; i++) {
      const w = this.weightOf(model, actions[i]!);
      weights[i] = w;
      total += w;
    }
    if (!(total > 0)) return random.nextInt(0, actions.length - 1);
    let r = unit(random) * total;
    for (let i = 0; i < actions.length; i++) {
      r -= weights[i]!;
      if (r < 0) return i;
    }
    return actions.length - 1;
  }

  weightOf(model: Model, action: Action): number {
    const kind = this.kind.get(action.kind) ?? 1;
    switch (action.kind) {
      case 'deliver':
      case 'drop':
      case 'duplicate': {
        const { from, to } = model.msgs.get(action.msg);
        return kind * this.link[from * this.nodes + to]! * (this.isHeld(action.msg) ? HELD_WEIGHT : 1);
      }
      case 'tick':
      case 'timeout':
      case 'fsync':
      case 'snapshot':
      case 'crash':
      case 'restart':
      case 'pause':
      case 'resume':
      case 'lose_tail':
      case 'tear':
      case 'transfer':
      case 'admin':
        return kind * this.nodeWeight(action.kind, action.node);
      case 'stream_timeout':
        // A timer, weighted as the node's other timer (a kind of its own would change every profile's draws).
        return (this.kind.get('timeout') ?? 1) * this.nodeWeight('timeout', action.node);
      case 'request':
        return kind * this.nodeWeight(action.kind, action.node) * this.op[action.op]!;
      case 'advance':
        return kind;
      default:
        return assertNever(action, 'action');
    }
  }

  private nodeWeight(kind: Action['kind'], node: number): number {
    return this.node[node]! * this.kindNode[KIND_INDEX.get(kind)! * this.nodes + node]!;
  }

  /** Held: by a hash of the message's interned id and the profile's salt, so one message stays held for the whole walk. */
  private isHeld(msg: number): boolean {
    let h = Math.imul(msg ^ this.salt, 0x9e3779b1);
    h ^= h >>> 15;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    return (h >>> 0) / 4294967296 < this.held;
  }

  /** For the report of a finding: the profile in one line. */
  describe(): string {
    const kinds = [...this.kind].map(([k, w]) => `${k} ${w === OFF_WEIGHT ? 'off' : w.toFixed(3)}`).join(', ');
    const nodes = Array.from(this.node, (w, i) => `n${i + 1} ${w.toFixed(3)}`).join(', ');
    const links: string[] = [];
    for (let i = 0; i < this.nodes; i++)
      for (let j = 0; j < this.nodes; j++) if (i !== j) links.push(`n${i + 1}->n${j + 1} ${this.link[i * this.nodes + j]!.toFixed(3)}`);
    const ops = Array.from(this.op, (w, k) => `op${k} ${w.toExponential(1)}`).join(', ');
    return `kinds: ${kinds}; nodes: ${nodes}; links: ${links.join(', ')}; ops: ${ops}; held ${(this.held * 100).toFixed(0)}% of messages`;
  }
}
