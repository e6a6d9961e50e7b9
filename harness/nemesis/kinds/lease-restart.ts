/**
 * Restarts inside a leader's lease (issue 15 defect 7), choreographed: the
 * one fault a lease leans on that no random mix of kills and partitions
 * reaches in a minute. A leader's lease (thesis §6.4.1) rests on its
 * followers' promise not to vote for a minimum election timeout after they
 * last heard from it; that promise lives in memory, so a follower that
 * restarts inside the lease must keep it anyway (node/raft/raft.ts,
 * `mayHaveLeaseholder`). Breaking it takes three things at once, each
 * unlikely by chance: the leader cut off with its lease still valid;
 * followers that restart (0.3-1 s for a real process) and are back before
 * the lease runs out, which needs a lease longer than a restart (a cell
 * with long election timeouts); and a candidate whose election timer has
 * already run out, with a log as current as theirs, to ask for their votes.
 *
 * One start op does all of it, in this order, the nodes drawn as it fires:
 * 1. the leader L is cut off from every peer (clients still reach it, so
 *    it keeps serving lease reads while its lease lasts);
 * 2. majority(n) - 1 followers (the voters) are crashed at once;
 * 3. one more follower, the candidate d, gets a clock `candidateRate`
 *    times fast: it heard from L until the cut, so its log is as current as
 *    anyone's, and its election timer now runs out within a few hundred ms
 *    instead of a whole timeout;
 * 4. the voters are restarted at once, together.
 * d then (pre-)campaigns. The other followers heard from L before the cut
 * and refuse it (leader stickiness, §4.2.3). A restarted voter that
 * forgets its promise grants d its pre-vote and vote at once, so d wins
 * with itself and the voters, commits writes, and L serves lease reads of a
 * stale state until its lease runs out: the checker sees a stale read. A
 * correct voter keeps the promise for a minimum election timeout after its
 * restart, by which time L's lease (safeLeaseTicks, (E - 1) / clockDriftBound ticks of
 * L's clock, from its last round acknowledged before the cut) has run out.
 * A fast clock only shortens d's own timers and lease: the safe direction.
 *
 * That order (`cut: 'at-kill'`) needs the voters' restart to fit inside
 * the lease, and on a loaded machine a restart takes seconds (the gate's
 * study: 1.2-7.9 s at load 9-30 against a 3.3 s lease). So a cycle may
 * instead (`cut: 'after-restart'`) take the voters out of the leader's lease
 * first and cut the leader off only once they are back:
 * 1'. the voters are cut off from the leader only (the candidate and the
 *    bystanders still reach both), so it leans on the others' answers and
 *    the restarted voters never hear from it;
 * 2'. the voters are crashed and restarted together (however long it takes);
 * 3'. once both are ready, the leader is cut off from everyone, and
 * 4'. the candidate's clock runs fast.
 * The lease then runs from that cut, not from before the restart: the
 * restart's length no longer matters. A correct voter still refuses: it
 * keeps its promise for a minimum election timeout from its restart, which
 * ended just before the cut, and the candidate needs every voter (with
 * itself, a bare majority), so the last one back holds it off until the
 * lease has run out: a lease lasts (E - 1) / clockDriftBound ticks
 * (3.32 s of a 4 s minimum), so the cut may come up to the difference (0.68
 * s) after that voter's restart. (The candidate's fast clock breaks its own
 * promise, so a correct node rests on the restarted voters' promise here,
 * as in the first order.) That margin is electionTimeoutMin minus the lease:
 * 0.68 s with the gate's 4-4.5 s timeouts, but 40 ms with the default
 * 150 ms, less than a loaded machine may take between a node's start and the
 * cut: with lease reads, run this kind with long election timeouts (with
 * ReadIndex nothing rests on the margin). The cycle draws the order,
 * 'after-restart' three times in four.
 *
 * Either way the start op ends only when the old leader no longer leads
 * (or after a leader wait): a stop op never heals the window early.
 *
 * The stop op undoes it: the candidate's clock back to rate 1, the
 * network healed, any voter that failed to come back restarted. Kills are
 * power failures (registry.ts powerLossKinds).
 */
import fc from 'fast-check';
import { assertNever } from '../../../node/util/assert.js';
import { MAX_CLOCK_RATE } from '../../../node/clock/adjustable-clock.js';
import type { LeaseTimings, NemesisContext } from '../context.js';
import type { FaultNemesis, NemesisKindSpec } from '../kind.js';
import { isolate, majority } from '../partitions.js';
import type { ScheduleOptions } from '../schedule.js';
import { awaitLeader } from '../targets.js';
import { field, numberField, oneOfField } from '../wire.js';

/**
 * How fast the candidate's clock runs, drawn per cycle (shrinking toward the
 * slowest). 10x brings a 4-4.5 s election timeout down to 400-450 ms, inside
 * a restart; beyond 30x its heartbeats as a leader (every interval / rate)
 * would flood the relay.
 */
export const candidateRates = { min: 10, max: 30 } as const;

/**
 * When the leader is cut off: before the voters are crashed (their restart
 * must fit in its lease), or after they are back (the voters cut off from the
 * leader alone in the meantime). Absent from ops recorded before the second
 * existed: 'at-kill'.
 */
export type LeaseRestartCut = 'at-kill' | 'after-restart';
export const leaseRestartCuts: readonly LeaseRestartCut[] = ['at-kill', 'after-restart'];

export interface LeaseRestartValue {
  /** The candidate's clock rate while the fault lasts (logical ms per real ms). */
  readonly candidateRate: number;
  readonly cut: LeaseRestartCut;
}

export type LeaseRestartOp =
  | { readonly kind: 'lease-restart'; readonly f: 'start-lease-restart'; readonly value: LeaseRestartValue }
  | { readonly kind: 'lease-restart'; readonly f: 'stop-lease-restart'; readonly value: null };

const stop: LeaseRestartOp = { kind: 'lease-restart', f: 'stop-lease-restart', value: null };

export const leaseRestart: NemesisKindSpec<'lease-restart', LeaseRestartOp> = {
  kind: 'lease-restart',
  label: 'restart in lease',
  summary: 'cut leader off, restart voters, rush one',
  fs: { 'start-lease-restart': 'start', 'stop-lease-restart': 'stop' },
  targets: [],
  options: [],
  finalHeal: { f: stop.f },
  cycle: leaseRestartCycle,
  // Every cycle cuts the leader off a quorum.
  bitingCycle: leaseRestartCycle,
  decode(f, value) {
    switch (f) {
      case 'start-lease-restart':
        return {
          kind: 'lease-restart',
          f,
          value: {
            candidateRate: numberField(value, 'candidateRate', 1, MAX_CLOCK_RATE),
            cut: field(value, 'cut') === undefined ? 'at-kill' : oneOfField(value, 'cut', leaseRestartCuts, 'lease-restart cut'),
          },
        };
      case 'stop-lease-restart':
        return stop;
      default:
        return assertNever(f, 'lease-restart op');
    }
  },
  create: (ctx) => new LeaseRestartNemesis(ctx),
};

function leaseRestartCycle(_opts: ScheduleOptions): fc.Arbitrary<readonly [LeaseRestartOp, LeaseRestartOp]> {
  // 'after-restart' three times in four: it does not depend on how fast this machine restarts a node.
  const cut = fc.oneof(
    { arbitrary: fc.constant<LeaseRestartCut>('after-restart'), weight: 3 },
    { arbitrary: fc.constant<LeaseRestartCut>('at-kill'), weight: 1 },
  );
  return fc
    .record({ candidateRate: fc.integer(candidateRates), cut })
    .map(({ candidateRate, cut }): readonly [LeaseRestartOp, LeaseRestartOp] => [
      { kind: 'lease-restart', f: 'start-lease-restart', value: { candidateRate, cut } },
      stop,
    ]);
}

/**
 * The runtime guard of the 'after-restart' order (the module comment: a
 * correct node rests on the restarted voters' promise outlasting the
 * leader's lease). Just before the cut the nemesis asks each voter how long
 * it has been up (`uptimesMs`; the promise began when its host started and
 * lasts a minimum election timeout, less a tick); `elapsedMs` is the time
 * from that question to the cut's end. The candidate needs every voter, so
 * the latest promise is the one that holds it off; it must end after the
 * lease does (at most `leaseMs` from the cut), whatever the cut's delay. If
 * it may not, the fast clock would take the cluster outside what a correct
 * lease-mode node survives, and the cycle is void (the candidate keeps its
 * clock). Both come from the run's options and the nodes' uptimes, never
 * from what the node under test says it promises (a node with
 * --unsafe-forget-lease-on-restart promises nothing, and must still be
 * caught). Nothing to guard without lease reads (`timings` null) or when a
 * voter did not say its uptime. Pure.
 */
export type LeaseRestartGuard =
  | { readonly kind: 'unguarded'; readonly why: string }
  | { readonly kind: 'held'; readonly marginMs: number }
  | { readonly kind: 'void'; readonly marginMs: number; readonly why: string };

export function leaseRestartGuard(
  timings: LeaseTimings | null,
  uptimesMs: readonly (number | null)[],
  elapsedMs: number,
): LeaseRestartGuard {
  if (timings === null) return { kind: 'unguarded', why: 'no lease reads' };
  const known = uptimesMs.filter((u): u is number => u !== null);
  if (known.length === 0 || known.length < uptimesMs.length) return { kind: 'unguarded', why: 'a voter did not say its uptime' };
  // The youngest voter's promise lasts longest.
  const promiseMs = timings.electionTimeoutMinMs - timings.tickMs - Math.min(...known);
  const marginMs = Math.round(promiseMs - elapsedMs - timings.leaseMs);
  if (marginMs >= 0) return { kind: 'held', marginMs };
  return {
    kind: 'void',
    marginMs,
    why:
      `the latest voter's promise (${Math.round(promiseMs)} ms left when asked) ends ${-marginMs} ms before the leader's lease ` +
      `(${timings.leaseMs} ms from a cut ${Math.round(elapsedMs)} ms after asking): a correct node could serve a stale lease read`,
  };
}

/** Who plays which part in one cycle, drawn when it fires. */
export interface LeaseRestartRoles {
  readonly leader: string;
  readonly candidate: string;
  /** Crashed and restarted together: with the candidate, a majority. */
  readonly voters: readonly string[];
  /** Followers left alone: they heard from the leader and refuse the candidate while its lease may last. */
  readonly bystanders: readonly string[];
}

/**
 * The roles among the running, unpaused nodes, or null when there are too
 * few followers for a candidate and its voters (a majority besides the
 * leader). Pure: the same rng state picks the same nodes.
 */
export function drawRoles(
  nodeIds: readonly string[],
  leader: string,
  usable: (id: string) => boolean,
  rng: { shuffle<T>(items: readonly T[]): T[] },
): LeaseRestartRoles | null {
  const followers = rng.shuffle(nodeIds.filter((id) => id !== leader && usable(id)));
  const need = majority(nodeIds.length);
  if (followers.length < need) return null;
  const [candidate, ...rest] = followers;
  return {
    leader,
    candidate: candidate!,
    voters: rest.slice(0, need - 1).sort(),
    bystanders: rest.slice(need - 1).sort(),
  };
}

/**
 * Until `leader` no longer leads (its check-quorum deposed it, cut off: by
 * then its lease, shorter than an election timeout, has run out too), or
 * `deadlineMs` passed: whether it was deposed. The start op ends then, so a
 * stop op that the schedule sends while the window is open (a slow restart
 * ate the interval) never heals it early.
 */
async function untilDeposed(ctx: NemesisContext, leader: string, deadlineMs: number): Promise<boolean> {
  const first = await ctx.cluster.status(leader);
  const term = first?.currentTerm ?? null;
  const until = performance.now() + deadlineMs;
  for (;;) {
    const s = await ctx.cluster.status(leader);
    if (s === null || s.role !== 'leader' || s.currentTerm !== term) return true;
    if (performance.now() >= until || ctx.isStopped()) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
}

class LeaseRestartNemesis implements FaultNemesis<LeaseRestartOp> {
  /** The cycle in force: its candidate (whose clock is fast) and its voters not yet back. */
  private current: { candidate: string | null; readonly down: Set<string> } | null = null;

  constructor(private readonly ctx: NemesisContext) {}

  invoke(op: LeaseRestartOp): Promise<unknown> {
    switch (op.f) {
      case 'start-lease-restart':
        return this.start(op.value);
      case 'stop-lease-restart':
        return this.heal();
      default:
        return assertNever(op, 'lease-restart op');
    }
  }

  active(): readonly string[] {
    return this.current === null ? [] : [`lease restart (candidate ${this.current.candidate ?? 'crashed'})`];
  }

  crashed(node: string): void {
    // Another kind crashed the candidate: its fast clock died with the process.
    if (this.current !== null && this.current.candidate === node) this.current.candidate = null;
  }

  private async start(value: LeaseRestartValue): Promise<unknown> {
    if (this.current !== null) return { already: true };
    const { cluster, net, rng } = this.ctx;
    const leader = await awaitLeader(this.ctx);
    if (leader === null) return { skipped: 'no leader' };
    const roles = drawRoles(cluster.nodeIds, leader, (id) => cluster.isAlive(id) && !cluster.isPaused(id), rng);
    if (roles === null) return { skipped: 'too few running followers', leader };
    const started = performance.now();
    const at = (): number => Math.round(performance.now() - started);
    if (value.cut === 'after-restart') return this.startAfterRestart(roles, value, at);
    // 1. The leader's lease now rests on acknowledgements it already has.
    await net.partition(isolate(cluster.nodeIds, leader));
    // 2. The voters crash together (power failures: what they had not fsynced is gone).
    const pids = await this.crashVoters(roles);
    const killedAtMs = at();
    // 3. The candidate's election timer runs out within a restart.
    const errors: Record<string, string> = {};
    try {
      await cluster.clock(roles.candidate, { rate: value.candidateRate });
    } catch (err) {
      errors[roles.candidate] = (err as Error).message;
    }
    // 4. The voters come back together.
    await this.restartVoters(roles, errors);
    const restartedAtMs = at();
    const deposed = await untilDeposed(this.ctx, roles.leader, this.ctx.leaderWaitMs);
    return {
      ...roles,
      nodes: roles.voters,
      pids,
      candidateRate: value.candidateRate,
      cut: value.cut,
      killedAtMs,
      restartedAtMs,
      leaderDeposedAtMs: deposed ? at() : null,
      ...(Object.keys(errors).length > 0 ? { errors } : {}),
    };
  }

  /** Kills the voters at once (power failures) and makes this the cycle in force; resolves to their pids before the kill. */
  private async crashVoters(roles: LeaseRestartRoles): Promise<Record<string, number | null>> {
    const { cluster } = this.ctx;
    const pids: Record<string, number | null> = {};
    for (const id of roles.voters) pids[id] = cluster.pid(id);
    await Promise.all(roles.voters.map((id) => cluster.kill(id)));
    for (const id of roles.voters) this.ctx.crashed(id);
    this.current = { candidate: roles.candidate, down: new Set(roles.voters) };
    return pids;
  }

  /** Restarts the voters together; a voter that fails to come back stays down (the stop op retries it), its error in `errors`. */
  private async restartVoters(roles: LeaseRestartRoles, errors: Record<string, string>): Promise<void> {
    await Promise.all(
      roles.voters.map(async (id) => {
        try {
          await this.ctx.cluster.restart(id);
          this.current?.down.delete(id);
        } catch (err) {
          errors[id] = (err as Error).message;
        }
      }),
    );
  }

  /** Steps 1'-4' (the module comment): the voters out of the lease first, the leader cut off once they are back. */
  private async startAfterRestart(roles: LeaseRestartRoles, value: LeaseRestartValue, at: () => number): Promise<unknown> {
    const { cluster, net } = this.ctx;
    // 1'. The voters and the leader no longer hear each other; everyone else still hears both.
    const grudge: Record<string, string[]> = {};
    for (const id of cluster.nodeIds) grudge[id] = [];
    grudge[roles.leader] = [...roles.voters];
    for (const v of roles.voters) grudge[v] = [roles.leader];
    await net.partition(grudge);
    // 2'. The voters crash together and come back together, however long that takes.
    const pids = await this.crashVoters(roles);
    const killedAtMs = at();
    const errors: Record<string, string> = {};
    await this.restartVoters(roles, errors);
    const restartedAtMs = at();
    // How long the voters have been up just before the cut (the runtime guard below).
    const askedAt = performance.now();
    const voterViews = await Promise.all(roles.voters.map((id) => cluster.status(id)));
    // 3'. At once (the last voter's promise began as it started): the leader's lease now runs from here.
    await net.partition(isolate(cluster.nodeIds, roles.leader));
    const cutAtMs = at();
    const guard = leaseRestartGuard(
      this.ctx.leaseTimings ?? null,
      voterViews.map((v) => v?.uptimeMs ?? null),
      performance.now() - askedAt,
    );
    // 4'. The candidate's election timer runs out within a few hundred ms, unless the cut came too late for a
    // correct node to hold the candidate off (the guard): then the cycle is void and the candidate keeps its clock.
    if (guard.kind !== 'void') {
      try {
        await cluster.clock(roles.candidate, { rate: value.candidateRate });
      } catch (err) {
        errors[roles.candidate] = (err as Error).message;
      }
    } else {
      this.ctx.log(`lease-restart: cycle void: ${guard.why}`);
    }
    const deposed = await untilDeposed(this.ctx, roles.leader, this.ctx.leaderWaitMs);
    return {
      ...roles,
      nodes: roles.voters,
      pids,
      candidateRate: value.candidateRate,
      cut: value.cut,
      killedAtMs,
      restartedAtMs,
      cutAtMs,
      guard,
      leaderDeposedAtMs: deposed ? at() : null,
      ...(Object.keys(errors).length > 0 ? { errors } : {}),
    };
  }

  async heal(): Promise<unknown> {
    const cur = this.current;
    this.current = null;
    const { cluster } = this.ctx;
    let clockReset: string | null = null;
    if (cur !== null && cur.candidate !== null && cluster.isAlive(cur.candidate)) {
      await cluster.clock(cur.candidate, { offsetMs: 0, rate: 1 });
      clockReset = cur.candidate;
    }
    await this.ctx.net.heal();
    const restarted: string[] = [];
    const errors: Record<string, string> = {};
    for (const id of [...(cur?.down ?? [])].sort()) {
      try {
        if (!cluster.isAlive(id)) await cluster.restart(id);
        restarted.push(id);
      } catch (err) {
        errors[id] = (err as Error).message;
      }
    }
    return { healed: true, clockReset, restarted, ...(Object.keys(errors).length > 0 ? { errors } : {}) };
  }
}
