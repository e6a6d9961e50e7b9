/**
 * A leader's last AppendEntries of a term held on a slow path until it leads
 * again, then that leader cut off (issue 15 defect 1), choreographed: the
 * sequence a ReadIndex read leans on that no random mix of holds and
 * partitions reaches in a minute. ReadIndex (thesis §6.4) confirms a read
 * round with answers to the round's heartbeats; the leader tells them apart
 * by the `seq` it stamps on every AppendEntries, which restarts each term.
 * An AppendEntries of an OLD term that arrives late draws an answer in the
 * receiver's (newer) term, and that answer must confirm nothing, whatever
 * seq it carries: if the old term was long and the new one is young, the
 * old seq is ahead of every round the new term has started. Reaching it
 * takes, in order (each step waits for what the cluster reports):
 *
 * 1. the leader L's AppendEntries all held by the relay (delivered once,
 *    later: ReplayStage.holdAllFrom) and nothing reaches L, so it is
 *    deposed (check-quorum) and the others elect a new leader B; what L
 *    sent last in its term, the highest seq of that term, is on the slow
 *    path;
 * 2. the network healed, L catches up as B's follower (no new hold);
 * 3. B cut off, and the others cut off from each other but not from L (a
 *    star around L): no one but L can gather a majority, so once their
 *    leader stickiness (§4.2.3 of the thesis) has run out L leads again, in
 *    a later term; its first AppendEntries of that term on each link
 *    releases what the relay held on it (replay-stage.ts), and each
 *    follower answers those in its current term, which is now L's;
 * 4. L's clock slowed to `slowRate` and, once those answers are back, L
 *    cut off with followers P, a minority (one of 5; B back with the others): the
 *    majority elects a leader and takes writes while L still leads until
 *    its check-quorum deposes it. L keeps hearing from P, and each answer
 *    makes it count the answers to its pending read rounds again (a round
 *    is confirmed when an answer arrives, never by itself): a node that
 *    counted the late answers' seq finds a majority there (itself, P and
 *    the followers whose late answers carried a seq ahead of the round)
 *    and serves reads of its stale state in that window;
 * 5. the op ends when L no longer leads (or after a step's deadline), so
 *    however late the schedule's stop op comes, the window is whole.
 *
 * The slow clock only stretches L's timers (check-quorum) in real time:
 * ReadIndex does not read the clock, so a correct node stays linearizable.
 * A lease read does rest on the clock: with --read-mode lease, 0.1-0.25x is
 * far outside the drift bound the lease assumes (the clock kind's `slow`,
 * which the lease-drift/clock gate cell shows a correct node fails), so
 * this kind is for ReadIndex runs. (Step 3 does not rush L with a fast
 * clock: at 10x its check-quorum window is 15 ms, and a leader deposed by it
 * right after winning has drawn the late answers in a term it no longer
 * leads.)
 *
 * The stop op undoes it: L's clock back to rate 1, no hold, the network
 * healed (what the relay still holds arrives late, at its own time; the
 * final heal delivers it). Relay only.
 */
import fc from 'fast-check';
import type { NodeView } from '../../db/db.js';
import { assertNever } from '../../../node/util/assert.js';
import type { NemesisContext } from '../context.js';
import type { FaultNemesis, NemesisKindSpec } from '../kind.js';
import { completeGrudge, majority } from '../partitions.js';
import type { ScheduleOptions } from '../schedule.js';
import { numberField } from '../wire.js';

/**
 * L's clock rate in step 4, in percent, drawn per cycle (shrinking toward
 * the mildest): at 10% a 150-300 ms check-quorum window lasts 1.5-3 s,
 * enough for the others to elect a leader and commit writes.
 */
export const slowPcts = { min: 10, max: 25 } as const;
/**
 * How long each step waits for the cluster to get there before the cycle
 * gives up (its op says where), in leader waits (NemesisContext.leaderWaitMs:
 * a few election timeouts).
 */
export const stepDeadlineLeaderWaits = 4;
/** How long the relay holds L's AppendEntries at most (they wait for L to lead again). */
export const holdMaxAgeMs = 30_000;
/** After the held datagrams left for L's followers: time for their answers to reach L (the relay releases them 30 ms after the trigger). */
export const answersGraceMs = 150;

export interface ReleadValue {
  /** L's clock rate in step 4 (logical ms per real ms). */
  readonly slowRate: number;
}

export type ReleadOp =
  | { readonly kind: 'relead'; readonly f: 'start-relead'; readonly value: ReleadValue }
  | { readonly kind: 'relead'; readonly f: 'stop-relead'; readonly value: null };

const stop: ReleadOp = { kind: 'relead', f: 'stop-relead', value: null };

export const relead: NemesisKindSpec<'relead', ReleadOp> = {
  kind: 'relead',
  label: 'held until it leads again',
  summary: "hold leader's AE until it leads again",
  fs: { 'start-relead': 'start', 'stop-relead': 'stop' },
  targets: [],
  needsNet: { net: 'relay', why: 'only the relay carries the datagrams it holds' },
  options: [],
  finalHeal: { f: stop.f },
  cycle: releadCycle,
  // Every cycle cuts the leader off a quorum, twice.
  bitingCycle: releadCycle,
  decode(f, value) {
    switch (f) {
      case 'start-relead':
        return { kind: 'relead', f, value: { slowRate: numberField(value, 'slowRate', 0.01, 1) } };
      case 'stop-relead':
        return stop;
      default:
        return assertNever(f, 'relead op');
    }
  },
  create: (ctx) => new ReleadNemesis(ctx),
};

function releadCycle(_opts: ScheduleOptions): fc.Arbitrary<readonly [ReleadOp, ReleadOp]> {
  return fc
    .integer(slowPcts)
    .map((pct): readonly [ReleadOp, ReleadOp] => [
      { kind: 'relead', f: 'start-relead', value: { slowRate: (slowPcts.max + slowPcts.min - pct) / 100 } },
      stop,
    ]);
}

/**
 * `out` cut off from everyone, and the others from each other except `hub`:
 * only the hub can gather a majority (with at least majority - 1 others).
 */
export function starAround(nodes: readonly string[], hub: string, out: string): Record<string, string[]> {
  const grudge: Record<string, string[]> = {};
  for (const id of nodes) {
    if (id === out) grudge[id] = nodes.filter((n) => n !== out);
    else if (id === hub) grudge[id] = [out];
    else grudge[id] = nodes.filter((n) => n !== id && n !== hub);
  }
  return grudge;
}

/** Polls `check` every `pollMs` (50 ms) until it gives a value or `deadlineMs` passes or the run stops (then its last answer). */
export async function waitFor<T>(ctx: NemesisContext, deadlineMs: number, check: () => Promise<T | null>, pollMs = 50): Promise<T | null> {
  const until = performance.now() + deadlineMs;
  for (;;) {
    const got = await check();
    if (got !== null || performance.now() >= until || ctx.isStopped()) return got;
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

class ReleadNemesis implements FaultNemesis<ReleadOp> {
  /** The node whose clock this cycle changed (null once crashed: its clock died with it). */
  private current: { node: string | null } | null = null;

  constructor(private readonly ctx: NemesisContext) {}

  invoke(op: ReleadOp): Promise<unknown> {
    switch (op.f) {
      case 'start-relead':
        return this.start(op.value);
      case 'stop-relead':
        return this.heal();
      default:
        return assertNever(op, 'relead op');
    }
  }

  active(): readonly string[] {
    return this.current === null ? [] : [`relead (${this.current.node ?? 'crashed'})`];
  }

  crashed(node: string): void {
    if (this.current !== null && this.current.node === node) this.current.node = null;
  }

  private async start(value: ReleadValue): Promise<unknown> {
    if (this.current !== null) return { already: true };
    const { cluster, net } = this.ctx;
    if (net.holdAllFrom === undefined) throw new Error('relead faults need the relay (--net relay)');
    const stepDeadlineMs = stepDeadlineLeaderWaits * this.ctx.leaderWaitMs;
    // A leader that says so itself (on a starved machine elections come and go: wait a step for one).
    const found = await waitFor(this.ctx, stepDeadlineMs, async () => {
      const id = await cluster.leader();
      const view = id === null ? null : await cluster.status(id);
      return id !== null && view !== null && view.role === 'leader' ? { id, view } : null;
    });
    if (found === null) return { skipped: 'no leader' };
    const leader = found.id;
    const oldTerm = found.view.currentTerm;
    const others = cluster.nodeIds.filter((id) => id !== leader);
    const started = performance.now();
    const at = (): number => Math.round(performance.now() - started);
    this.current = { node: leader };
    const steps: Record<string, number> = {};
    const out = { leader, oldTerm, slowRate: value.slowRate, steps };
    const giveUp = (why: string, extra: Record<string, unknown> = {}): unknown => ({ ...out, ...extra, gaveUp: why });

    // 1. L's AppendEntries on the slow path; L hears no one (it drops every peer's datagrams).
    await net.holdAllFrom(leader, holdMaxAgeMs);
    const grudge: Record<string, string[]> = {};
    for (const id of cluster.nodeIds) grudge[id] = id === leader ? others : [];
    await net.partition(grudge);
    const successor = await waitFor(this.ctx, stepDeadlineMs, async () => {
      const l = await cluster.status(leader);
      if (l !== null && l.role === 'leader') return null; // still sending AppendEntries of its term
      for (const id of others) {
        const s = await cluster.status(id);
        if (s !== null && s.role === 'leader' && s.currentTerm > oldTerm) return { id, view: s };
      }
      return null;
    });
    await net.holdAllFrom(null);
    steps['deposed'] = at();
    if (successor === null) return giveUp('no new leader elected while the leader was cut off');

    // 2. Healed: L follows the new leader and catches up with what it committed.
    await net.heal();
    const caughtUp = await waitFor(this.ctx, stepDeadlineMs, async () => {
      const [l, b] = [await cluster.status(leader), await cluster.status(successor.id)];
      return l !== null && b !== null && l.leaderId === successor.id && l.commitIndex >= b.commitIndex ? l : null;
    });
    steps['caughtUp'] = at();
    if (caughtUp === null) return giveUp(`did not catch up with ${successor.id}`, { successor: successor.id });

    // 3. The new leader cut off, and only L can gather a majority: it leads again, in a later term.
    await net.partition(starAround(cluster.nodeIds, leader, successor.id));
    const again = await waitFor(this.ctx, stepDeadlineMs, async (): Promise<NodeView | null> => {
      const l = await cluster.status(leader);
      return l !== null && l.role === 'leader' && l.currentTerm > successor.view.currentTerm ? l : null;
    });
    // 4. Slow from here on (a slow check-quorum), and cut off once the late answers are in.
    await cluster.clock(leader, { rate: value.slowRate });
    steps['ledAgain'] = at();
    if (again === null) return giveUp('did not lead again', { successor: successor.id });
    await new Promise((r) => setTimeout(r, answersGraceMs));
    // The largest minority with L (one partner of 5, none of 3: then nothing prompts L to count again).
    const partners = this.ctx.rng
      .shuffle(others.filter((id) => id !== successor.id))
      .slice(0, cluster.nodeIds.length - majority(cluster.nodeIds.length) - 1);
    await net.partition(completeGrudge([[leader, ...partners], others.filter((id) => !partners.includes(id))]));
    steps['cutOff'] = at();
    // 5. The window lasts until L's check-quorum deposes it: the op ends then, so a stop op never cuts it short.
    const deposed = await waitFor(this.ctx, stepDeadlineMs, async () => {
      const l = await cluster.status(leader);
      return l === null || l.role !== 'leader' || l.currentTerm !== again.currentTerm ? true : null;
    });
    steps['deposedAgain'] = at();
    return {
      ...out,
      successor: successor.id,
      newTerm: again.currentTerm,
      partners: partners.sort(),
      nodes: [leader],
      ...(deposed === null ? { stillLeading: true } : {}),
    };
  }

  async heal(): Promise<unknown> {
    const cur = this.current;
    this.current = null;
    const { cluster, net } = this.ctx;
    let clockReset: string | null = null;
    if (cur !== null && cur.node !== null && cluster.isAlive(cur.node)) {
      await cluster.clock(cur.node, { offsetMs: 0, rate: 1 });
      clockReset = cur.node;
    }
    await net.holdAllFrom?.(null);
    await net.heal();
    return { healed: true, clockReset };
  }
}
