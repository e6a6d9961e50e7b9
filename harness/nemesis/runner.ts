/**
 * Executes a nemesis schedule against a live cluster, Jepsen style: each event
 * becomes an `invoke` op and an `info` completion (process "nemesis") whose
 * value says what was actually done (which nodes, whether the leader was hit).
 *
 * Targets are resolved when the event fires: 'leader' asks the cluster for the
 * current leader, 'one'/'minority'/'majority' draw from the seeded PRNG among
 * the nodes that are running and not paused, and never more nodes than the
 * target names. Events run one at a time, in schedule order (a restart that
 * takes a second delays the next event rather than overlapping it).
 * An error in an action is recorded as the op's value ({error}) and never
 * crashes the run.
 */
import type { Cluster } from '../cluster.js';
import { Rng } from '../rng.js';
import type { Grudge } from '../net/types.js';
import { bridgeGrudge, describeGrudge, halvesGrudge, isolate, majoritiesRingGrudge, majority, oneGrudge } from './partitions.js';
import type { NemesisEvent, NodeTarget, PartitionShape } from './schedule.js';
import { partitionShapes } from './schedule.js';

export interface NemesisOpRecord {
  process: 'nemesis';
  type: 'info';
  f: string;
  value: unknown;
  phase: 'invoke' | 'complete';
}

export interface NemesisRunnerOptions {
  seed: number;
  record: (op: NemesisOpRecord) => void;
  log?: (l: string) => void;
}

const nodeTargets: readonly string[] = ['one', 'leader', 'majority', 'minority', 'all', 'voter'];

function field(value: unknown, name: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[name] : undefined;
}

function targetOf(value: unknown): NodeTarget {
  const t = field(value, 'target');
  if (typeof t !== 'string' || !nodeTargets.includes(t)) throw new Error(`bad target ${JSON.stringify(t)} (expected one of ${nodeTargets.join(', ')})`);
  return t as NodeTarget;
}

function numberOf(value: unknown, name: string, min: number, max: number): number {
  const v = field(value, name);
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) throw new Error(`bad ${name} ${JSON.stringify(v)} (expected a number in [${min}, ${max}])`);
  return v;
}

export class NemesisRunner {
  private readonly rng: Rng;
  /** Restart order only (its own stream, so it does not shift the target draws). */
  private readonly restartRng: Rng;
  private readonly timers: NodeJS.Timeout[] = [];
  private chain: Promise<void> = Promise.resolve();
  private stopped = false;
  private readonly killed = new Set<string>();
  private readonly paused = new Set<string>();
  private readonly clocked = new Map<string, string>(); // node → description
  private partitionShape: string | null = null;
  private loss: number | null = null;
  private delay: { delayMs: number; jitterMs: number } | null = null;
  private duplicate: number | null = null;
  /** The `voter` kill fault, while it lasts: its unsubscribe, the bounces in flight and done. */
  private voterTrap: { readonly unsubscribe: () => void; readonly inFlight: Map<string, Promise<void>>; readonly bounced: string[]; readonly errors: string[] } | null = null;

  constructor(
    private readonly cluster: Cluster,
    private readonly schedule: readonly NemesisEvent[],
    private readonly opts: NemesisRunnerOptions,
  ) {
    this.rng = new Rng(opts.seed);
    this.restartRng = new Rng((opts.seed ^ 0x5e57a27) >>> 0);
  }

  /**
   * Runs the schedule on timers relative to `startedAtMs`: a Date.now()
   * timestamp (a performance.now() value, recognisably small, is accepted too).
   */
  start(startedAtMs: number): void {
    const now = startedAtMs < 1e12 ? performance.now() : Date.now(); // one reading: equal atMs keep their order
    for (const event of this.schedule) {
      const delay = Math.max(0, startedAtMs + event.atMs - now);
      this.timers.push(setTimeout(() => this.enqueue(event), delay));
    }
  }

  /** Faults in force now, for the progress line. */
  activeFaults(): string[] {
    const out: string[] = [];
    if (this.partitionShape !== null) out.push(`partition ${this.partitionShape}`);
    for (const id of [...this.killed].sort()) out.push(`${id} killed`);
    for (const id of [...this.paused].sort()) out.push(`${id} paused`);
    for (const [id, what] of [...this.clocked].sort()) out.push(`${id} clock ${what}`);
    if (this.loss !== null) out.push(`loss ${Math.round(this.loss * 100)}%`);
    if (this.delay !== null) out.push(`delay ${this.delay.delayMs}±${this.delay.jitterMs}ms`);
    if (this.duplicate !== null) out.push(`duplicate ${Math.round(this.duplicate * 100)}%`);
    return out;
  }

  /** Cancels the remaining schedule and waits for an action in progress. Does not heal. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers.splice(0)) clearTimeout(t);
    await this.chain;
  }

  /** Final heal (Jepsen's final generator): network, packet faults, resume, restart, clocks. Each step is recorded. */
  async healAll(): Promise<void> {
    await this.stop();
    const steps: [string, () => Promise<unknown>][] = [
      ['stop-partition', () => this.stopPartition()],
      ['clear-packet-faults', async () => {
        await this.cluster.net.clearFaults();
        this.loss = null;
        this.delay = null;
        this.duplicate = null;
        return { cleared: true };
      }],
      ['resume', () => this.resumeAll()],
      ['start', () => this.restartAll()],
      ['reset-clock', () => this.resetClocks()],
    ];
    for (const [f, action] of steps) await this.perform(f, { target: 'all', final: true }, action);
  }

  private enqueue(event: NemesisEvent): void {
    this.chain = this.chain.then(async () => {
      if (this.stopped) return;
      await this.perform(event.f, event.value, () => this.apply(event));
    });
  }

  private async perform(f: string, value: unknown, action: () => Promise<unknown>): Promise<void> {
    this.emit({ process: 'nemesis', type: 'info', f, value, phase: 'invoke' });
    let result: unknown;
    try {
      result = await action();
    } catch (err) {
      result = { error: (err as Error).message };
    }
    this.opts.log?.(`nemesis ${f} ${JSON.stringify(result)}`);
    this.emit({ process: 'nemesis', type: 'info', f, value: result, phase: 'complete' });
  }

  private emit(op: NemesisOpRecord): void {
    try {
      this.opts.record(op);
    } catch (err) {
      this.opts.log?.(`nemesis: record() threw: ${(err as Error).message}`);
    }
  }

  private runnable(): string[] {
    return this.cluster.nodeIds.filter((id) => this.cluster.isAlive(id) && !this.cluster.isPaused(id));
  }

  /** Resolves a target to concrete nodes among the running, unpaused ones. */
  private async resolve(target: NodeTarget): Promise<{ nodes: string[]; leader: string | null }> {
    const leader = await this.cluster.leader();
    const candidates = this.runnable();
    const n = this.cluster.nodeIds.length;
    let nodes: string[];
    switch (target) {
      case 'leader':
        nodes = leader !== null && candidates.includes(leader) ? [leader] : [];
        break;
      case 'one':
        nodes = candidates.length > 0 ? [this.rng.pick(candidates)] : [];
        break;
      case 'majority':
        nodes = this.rng.shuffle(candidates).slice(0, majority(n));
        break;
      case 'minority':
        nodes = this.rng.shuffle(candidates).slice(0, Math.floor((n - 1) / 2));
        break;
      case 'all':
        // Every node at once: a whole-cluster crash (power failure) for kill.
        nodes = [...candidates];
        break;
      case 'voter':
        throw new Error('the voter target is for kill only');
    }
    return { nodes: nodes.sort(), leader };
  }

  private async apply(event: NemesisEvent): Promise<unknown> {
    const { f, value } = event;
    switch (f) {
      case 'start-partition': {
        const shape = field(value, 'shape');
        if (typeof shape !== 'string' || !partitionShapes.includes(shape as PartitionShape)) throw new Error(`bad partition shape ${JSON.stringify(shape)}`);
        return this.startPartition(shape as PartitionShape);
      }
      case 'stop-partition':
        return this.stopPartition();
      case 'kill': {
        if (targetOf(value) === 'voter') return this.armVoterTrap();
        const { nodes, leader } = await this.resolve(targetOf(value));
        const done: string[] = [];
        for (const id of nodes) {
          await this.cluster.kill(id);
          this.killed.add(id);
          this.clocked.delete(id); // a restart comes back with a fresh clock
          done.push(id);
        }
        return { nodes: done, wasLeader: leader !== null && done.includes(leader), leader };
      }
      case 'start':
        return this.restartAll();
      case 'pause': {
        const { nodes, leader } = await this.resolve(targetOf(value));
        for (const id of nodes) {
          await this.cluster.pause(id);
          this.paused.add(id);
        }
        return { nodes, wasLeader: leader !== null && nodes.includes(leader), leader };
      }
      case 'resume':
        return this.resumeAll();
      case 'clock-bump': {
        const deltaMs = numberOf(value, 'deltaMs', -86_400_000, 86_400_000);
        const { nodes, leader } = await this.resolve(targetOf(value));
        const offsets: Record<string, number> = {};
        for (const id of nodes) {
          const state = await this.cluster.clock(id, { bumpMs: deltaMs });
          offsets[id] = state.offsetMs;
          this.clocked.set(id, `offset ${state.offsetMs}ms rate ${state.rate}`);
        }
        return { nodes, deltaMs, offsets, wasLeader: leader !== null && nodes.includes(leader), leader };
      }
      case 'clock-rate': {
        const rate = numberOf(value, 'rate', 0.01, 100);
        const { nodes, leader } = await this.resolve(targetOf(value));
        for (const id of nodes) {
          const state = await this.cluster.clock(id, { rate });
          this.clocked.set(id, `offset ${state.offsetMs}ms rate ${state.rate}`);
        }
        return { nodes, rate, wasLeader: leader !== null && nodes.includes(leader), leader };
      }
      case 'reset-clock':
        return this.resetClocks();
      case 'start-loss': {
        const rate = numberOf(value, 'rate', 0, 1);
        await this.cluster.net.setFaults({ lossRate: rate });
        this.loss = rate;
        return { rate };
      }
      case 'stop-loss':
        await this.cluster.net.setFaults({ lossRate: 0 });
        this.loss = null;
        return { stopped: 'loss' };
      case 'start-delay': {
        const delayMs = numberOf(value, 'delayMs', 0, 60_000);
        const jitterMs = numberOf(value, 'jitterMs', 0, 60_000);
        await this.cluster.net.setFaults({ delayMs, jitterMs });
        this.delay = { delayMs, jitterMs };
        return { delayMs, jitterMs };
      }
      case 'stop-delay':
        await this.cluster.net.setFaults({ delayMs: 0, jitterMs: 0 });
        this.delay = null;
        return { stopped: 'delay' };
      case 'start-duplicate': {
        const rate = numberOf(value, 'rate', 0, 1);
        await this.cluster.net.setFaults({ duplicateRate: rate });
        this.duplicate = rate;
        return { rate };
      }
      case 'stop-duplicate':
        await this.cluster.net.setFaults({ duplicateRate: 0 });
        this.duplicate = null;
        return { stopped: 'duplicate' };
      default:
        throw new Error(`unknown nemesis op "${f}"`);
    }
  }

  private async startPartition(shape: PartitionShape): Promise<unknown> {
    const nodes = this.cluster.nodeIds;
    let grudge: Grudge;
    const extra: Record<string, unknown> = {};
    switch (shape) {
      case 'one':
        grudge = oneGrudge(nodes, this.rng);
        break;
      case 'leader': {
        const leader = await this.cluster.leader();
        extra['leader'] = leader;
        if (leader !== null) grudge = isolate(nodes, leader);
        else {
          // No leader to isolate (mid-election): isolate a random node rather than do nothing.
          grudge = oneGrudge(nodes, this.rng);
          extra['fallback'] = 'one';
        }
        break;
      }
      case 'halves':
        grudge = halvesGrudge(nodes, this.rng);
        break;
      case 'majorities-ring':
        grudge = majoritiesRingGrudge(nodes, this.rng);
        break;
      case 'bridge': {
        const b = bridgeGrudge(nodes, this.rng);
        grudge = b.grudge;
        extra['bridge'] = b.bridge;
        break;
      }
    }
    await this.cluster.net.partition(grudge);
    this.partitionShape = shape;
    return { shape, grudge, description: describeGrudge(grudge), ...extra };
  }

  private async stopPartition(): Promise<unknown> {
    await this.cluster.net.heal();
    const was = this.partitionShape;
    this.partitionShape = null;
    return { healed: true, was };
  }

  /**
   * The `voter` kill target (the "kill of voters during elections"):
   * the leader is killed, so that the cluster must elect, and until the
   * fault stops every node the wire monitor sees grant a vote is crashed at
   * once and restarted at once. A correct node persisted its vote before
   * answering and keeps it; a node that lost its vote may grant it again in
   * the same term (the monitor's double vote), and reports a different
   * votedFor in that term as soon as it is back (the monitor's lost vote).
   * One bounce per node at a time; the leader stays down until the fault stops.
   */
  private async armVoterTrap(): Promise<unknown> {
    const net = this.cluster.net;
    if (net.onVoteGranted === undefined) throw new Error('the voter target needs the relay (its monitor sees the votes)');
    if (this.voterTrap !== null) return { already: true };
    const inFlight = new Map<string, Promise<void>>();
    const bounced: string[] = [];
    const errors: string[] = [];
    const unsubscribe = net.onVoteGranted(({ voter, term, candidate }) => {
      if (this.stopped || inFlight.has(voter) || this.killed.has(voter) || !this.cluster.isAlive(voter)) return;
      const bounce = (async () => {
        try {
          await this.cluster.kill(voter);
          this.clocked.delete(voter);
          await this.cluster.restart(voter);
          bounced.push(`${voter}@${term}->${candidate}`);
          // What it says about itself at once, before a later election can move its term on.
          const status = await this.cluster.status(voter);
          if (status !== null) net.checkRestartedVoter?.({ voter, term, candidate }, status);
        } catch (err) {
          errors.push(`${voter}: ${(err as Error).message}`);
          if (!this.cluster.isAlive(voter)) this.killed.add(voter); // the next start brings it back
        } finally {
          inFlight.delete(voter);
        }
      })();
      inFlight.set(voter, bounce);
    });
    this.voterTrap = { unsubscribe, inFlight, bounced, errors };
    const leader = await this.cluster.leader();
    if (leader !== null && this.cluster.isAlive(leader)) {
      await this.cluster.kill(leader);
      this.killed.add(leader);
      this.clocked.delete(leader);
    }
    return { target: 'voter', armed: true, killedLeader: leader };
  }

  /** Stops the voter trap: no new bounces; waits for those in flight. */
  private async disarmVoterTrap(): Promise<{ bounced: string[]; errors: string[] } | null> {
    const trap = this.voterTrap;
    if (trap === null) return null;
    this.voterTrap = null;
    trap.unsubscribe();
    await Promise.all(trap.inFlight.values());
    return { bounced: trap.bounced, errors: trap.errors };
  }

  /**
   * Restarts the killed nodes one at a time (each waits for its 'ready'), in a
   * seeded random order: a node that restarts first campaigns first, so the
   * order decides who can start an election with which term. A fixed order
   * would always favour the same nodes (n1 first) and hide histories where a
   * node that lagged a term comes back first (e.g. votes lost on restart).
   */
  private async restartAll(): Promise<unknown> {
    const trap = await this.disarmVoterTrap();
    const restarted: string[] = [];
    const errors: Record<string, string> = {};
    for (const id of this.restartRng.shuffle([...this.killed].sort())) {
      try {
        if (!this.cluster.isAlive(id)) await this.cluster.restart(id);
        this.killed.delete(id);
        restarted.push(id);
      } catch (err) {
        errors[id] = (err as Error).message;
      }
    }
    const voters = trap === null ? {} : { voterBounces: trap.bounced, ...(trap.errors.length > 0 ? { voterErrors: trap.errors } : {}) };
    return Object.keys(errors).length > 0 ? { nodes: restarted, errors, ...voters } : { nodes: restarted, ...voters };
  }

  private async resumeAll(): Promise<unknown> {
    const resumed: string[] = [];
    for (const id of [...this.paused].sort()) {
      if (this.cluster.isAlive(id)) await this.cluster.resume(id);
      this.paused.delete(id);
      resumed.push(id);
    }
    return { nodes: resumed };
  }

  private async resetClocks(): Promise<unknown> {
    const reset: string[] = [];
    const skipped: string[] = [];
    for (const id of [...this.clocked.keys()].sort()) {
      if (!this.cluster.isAlive(id) || this.cluster.isPaused(id)) {
        skipped.push(id); // reset later (after resume / the restart gives a fresh clock)
        continue;
      }
      await this.cluster.clock(id, { offsetMs: 0, rate: 1 });
      this.clocked.delete(id);
      reset.push(id);
    }
    return skipped.length > 0 ? { nodes: reset, skipped } : { nodes: reset };
  }
}
