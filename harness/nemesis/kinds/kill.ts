/**
 * Process crashes (Jepsen's `kill`/`start`): SIGKILL the target's nodes, and
 * restart every killed node when the fault stops. The nodes run with the
 * page-cache crash model (registry.ts `powerLossKinds`), so a kill is a
 * power failure for their disks: what they had not fsynced is lost. Plus the `voter` target, a
 * trap for lost votes (armVoterTrap).
 */
import { assertNever } from '../../../node/util/assert.js';
import type { NemesisContext } from '../context.js';
import type { FaultNemesis, NemesisKindSpec } from '../kind.js';
import { nodeTargets, resolveTarget, bitingTargetArb, targetArb, targetField, type NodeTarget } from '../targets.js';

export type KillOp =
  | { readonly kind: 'kill'; readonly f: 'kill'; readonly value: { readonly target: NodeTarget } }
  | { readonly kind: 'kill'; readonly f: 'start'; readonly value: { readonly target: 'all' } };

const start: KillOp = { kind: 'kill', f: 'start', value: { target: 'all' } };

export const kill: NemesisKindSpec<'kill', KillOp> = {
  kind: 'kill',
  label: 'kill',
  summary: 'SIGKILL targets, losing unsynced writes',
  fs: { kill: 'start', start: 'stop' },
  targets: nodeTargets,
  options: [],
  finalHeal: { f: start.f },
  cycle(opts) {
    return targetArb(opts, nodeTargets).map(killCycle);
  },
  bitingCycle(opts) {
    return bitingTargetArb(opts, nodeTargets)?.map(killCycle) ?? null;
  },
  decode(f, value) {
    switch (f) {
      case 'kill':
        return { kind: 'kill', f, value: { target: targetField(value, nodeTargets) } };
      case 'start':
        return start;
      default:
        return assertNever(f, 'kill op');
    }
  },
  create: (ctx) => new KillNemesis(ctx),
};

function killCycle(target: NodeTarget): readonly [KillOp, KillOp] {
  return [{ kind: 'kill', f: 'kill', value: { target } }, start];
}

interface VoterTrap {
  readonly unsubscribe: () => void;
  readonly inFlight: Map<string, Promise<void>>;
  readonly bounced: string[];
  readonly errors: string[];
}

class KillNemesis implements FaultNemesis<KillOp> {
  private readonly killed = new Set<string>();
  /** The `voter` fault, while it lasts: its unsubscribe, the bounces in flight and done. */
  private voterTrap: VoterTrap | null = null;

  constructor(private readonly ctx: NemesisContext) {}

  async invoke(op: KillOp): Promise<unknown> {
    switch (op.f) {
      case 'kill': {
        const target = op.value.target;
        if (target === 'voter') return this.armVoterTrap();
        const { nodes, leader } = await resolveTarget(this.ctx, target);
        const done: string[] = [];
        const pids: Record<string, number | null> = {};
        for (const id of nodes) {
          pids[id] = this.ctx.cluster.pid(id);
          await this.crash(id);
          done.push(id);
        }
        return { nodes: done, pids, wasLeader: leader !== null && done.includes(leader), leader };
      }
      case 'start':
        return this.restartAll();
      default:
        return assertNever(op, 'kill op');
    }
  }

  heal(): Promise<unknown> {
    return this.restartAll();
  }

  active(): readonly string[] {
    return [...this.killed].sort().map((id) => `${id} killed`);
  }

  private async crash(id: string): Promise<void> {
    await this.ctx.cluster.kill(id);
    this.killed.add(id);
    this.ctx.crashed(id); // a restart comes back with a fresh clock
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
    const { cluster, net } = this.ctx;
    if (net.onVoteGranted === undefined) throw new Error('the voter target needs the relay (its monitor sees the votes)');
    if (this.voterTrap !== null) return { already: true };
    const inFlight = new Map<string, Promise<void>>();
    const bounced: string[] = [];
    const errors: string[] = [];
    const unsubscribe = net.onVoteGranted(({ voter, term, candidate }) => {
      if (this.ctx.isStopped() || inFlight.has(voter) || this.killed.has(voter) || !cluster.isAlive(voter)) return;
      const bounce = (async () => {
        try {
          await cluster.kill(voter);
          this.ctx.crashed(voter);
          await cluster.restart(voter);
          bounced.push(`${voter}@${term}->${candidate}`);
          // What it says about itself at once, before a later election can move its term on.
          const status = await cluster.status(voter);
          if (status !== null) net.checkRestartedVoter?.({ voter, term, candidate }, status);
        } catch (err) {
          errors.push(`${voter}: ${(err as Error).message}`);
          if (!cluster.isAlive(voter)) this.killed.add(voter); // the next start brings it back
        } finally {
          inFlight.delete(voter);
        }
      })();
      inFlight.set(voter, bounce);
    });
    this.voterTrap = { unsubscribe, inFlight, bounced, errors };
    const leader = await cluster.leader();
    if (leader !== null && cluster.isAlive(leader)) await this.crash(leader);
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
    const pids: Record<string, number | null> = {};
    const errors: Record<string, string> = {};
    for (const id of this.ctx.restartRng.shuffle([...this.killed].sort())) {
      try {
        if (!this.ctx.cluster.isAlive(id)) await this.ctx.cluster.restart(id);
        this.killed.delete(id);
        restarted.push(id);
        pids[id] = this.ctx.cluster.pid(id);
      } catch (err) {
        errors[id] = (err as Error).message;
      }
    }
    const voters = trap === null ? {} : { voterBounces: trap.bounced, ...(trap.errors.length > 0 ? { voterErrors: trap.errors } : {}) };
    return Object.keys(errors).length > 0 ? { nodes: restarted, pids, errors, ...voters } : { nodes: restarted, pids, ...voters };
  }
}
