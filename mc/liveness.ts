/**
 * The end-of-path liveness check from a model state: the state's nodes and
 * messages become a mutable stepped cluster and sim/stepped/heal.ts runs
 * the heal on it. Memoised by the part of the state the heal depends on
 * (nodes, messages in flight, paused processes); client and history
 * variables do not matter to it.
 */
import { SteppedCluster } from '../sim/stepped/cluster.js';
import { checkLiveness, type HealResult } from '../sim/stepped/heal.js';
import type { Model, World } from './model.js';
import { nodeIdOf } from './symmetry.js';

const LIMIT = 1_000_000;

export class LivenessChecker {
  private readonly memo = new Map<string, HealResult>();

  constructor(private readonly model: Model) {}

  check(w: World): HealResult {
    const m = this.model;
    const L = m.layout;
    const key =
      Array.from(w.subarray(L.nodes, L.nodes + L.n)).join(',') +
      `|${w[L.paused]}|` +
      Array.from(w.subarray(L.net, L.net + w[L.netLen]!)).join(',');
    const known = this.memo.get(key);
    if (known !== undefined) return known;
    m.stats.livenessChecks++;
    const cluster = this.cluster(w);
    let result: HealResult;
    try {
      result = checkLiveness(cluster);
    } catch (error) {
      result = { ok: false, detail: `the heal threw: ${error instanceof Error ? error.message : String(error)}`, rounds: 0 };
    }
    if (this.memo.size >= LIMIT) this.memo.clear();
    this.memo.set(key, result);
    return result;
  }

  /** The world as a mutable stepped cluster. */
  cluster(w: World): SteppedCluster {
    const m = this.model;
    const L = m.layout;
    const paused: string[] = [];
    for (let i = 0; i < L.n; i++) if ((w[L.paused]! & (1 << i)) !== 0) paused.push(nodeIdOf(i));
    return new SteppedCluster(
      m.params,
      m.ops,
      { maxInFlight: m.options.bounds.maxInFlight, dropDeadMessages: m.options.deadMessages },
      {
        nodes: Array.from({ length: L.n }, (_, i) => m.node(w, i).state),
        network: Array.from(w.subarray(L.net, L.net + w[L.netLen]!), (id) => m.msgs.get(id).message),
        paused,
        attempts: m.ops.map((_, k) => w[L.ops + 4 * k + 2]!),
      },
    );
  }
}
