/**
 * Clock faults, through each node's injectable clock: a jump (`clock-bump`,
 * as Jepsen's clock nemesis) or a rate (`clock-rate`: a clock that runs slow
 * or fast, so timers, leases and check-quorum of that node stretch or
 * shrink), undone by `reset-clock`. A killed node comes back with a fresh
 * clock, so a crash forgets its clock fault (NemesisContext.crashed).
 */
import fc from 'fast-check';
import { assertNever } from '../../../node/util/assert.js';
import type { NemesisContext } from '../context.js';
import type { FaultNemesis, NemesisKindSpec, NemesisOption } from '../kind.js';
import { nodeSetTargets, resolveTarget, targetArb, targetField, type NodeSetTarget } from '../targets.js';
import { numberField } from '../wire.js';

/**
 * bump: jump the clock by ±2^e ms; rate: 0.5-3x (mild skew); slow: 0.1-0.5x
 * (a stalled clock: timers, leases and check-quorum of that node stretch up
 * to 10x in real time); fast: 3-10x (its timers fire early); drift:
 * 0.85-1.15x, the drift a lease tolerates (a leader whose clock runs at 0.85x
 * sees its lease last 1/0.85 = 1.18x longer, inside the default
 * clockDriftBound of 1.2; slow is far outside it).
 */
export type ClockFault = 'bump' | 'rate' | 'slow' | 'fast' | 'drift';
export const clockFaults: readonly ClockFault[] = ['bump', 'rate', 'slow', 'fast', 'drift'];
export const defaultClockFaults: readonly ClockFault[] = ['bump', 'rate'];

export type ClockOp =
  | { readonly kind: 'clock'; readonly f: 'clock-bump'; readonly value: { readonly target: NodeSetTarget; readonly deltaMs: number } }
  | { readonly kind: 'clock'; readonly f: 'clock-rate'; readonly value: { readonly target: NodeSetTarget; readonly rate: number } }
  | { readonly kind: 'clock'; readonly f: 'reset-clock'; readonly value: { readonly target: 'all' } };

const reset: ClockOp = { kind: 'clock', f: 'reset-clock', value: { target: 'all' } };

export const clockFaultsOption: NemesisOption = {
  flag: 'clock-faults',
  arg: 'LIST',
  help: "what clock faults do: bump (±2^e ms jump), rate (0.5-3x), slow (0.1-0.5x), fast (3-10x), drift (0.85-1.15x: within a lease's drift bound when it hits the leader)",
  defaultText: defaultClockFaults.join(','),
};

export const clock: NemesisKindSpec<'clock', ClockOp> = {
  kind: 'clock',
  label: 'clock',
  summary: 'jump or skew target clocks, then reset',
  fs: { 'clock-bump': 'start', 'clock-rate': 'start', 'reset-clock': 'stop' },
  targets: nodeSetTargets,
  options: [clockFaultsOption],
  finalHeal: { f: reset.f },
  validate(opts) {
    for (const c of opts.clockFaults ?? [])
      if (!clockFaults.includes(c)) throw new Error(`unknown clock fault "${c}" (known: ${clockFaults.join(', ')})`);
  },
  cycle(opts) {
    const target = targetArb(opts, nodeSetTargets);
    // Bumps like Jepsen's: ±2^e ms, e in [3, 17] (8 ms … 131 s); exponent shrinks toward small bumps.
    const bump = fc
      .record({ target, exp: fc.integer({ min: 3, max: 17 }), negative: fc.boolean() })
      .map(({ target, exp, negative }): ClockOp => ({
        kind: 'clock',
        f: 'clock-bump',
        value: { target, deltaMs: (negative ? -1 : 1) * 2 ** exp },
      }));
    // Rates in percent, each shrinking toward its mildest value.
    const rateArb = (min: number, max: number, shrinkTo: number): fc.Arbitrary<ClockOp> =>
      fc
        .record({ target, pct: fc.integer({ min: min - shrinkTo, max: max - shrinkTo }) })
        // (shrinkTo + pct) / 100 is the closest double to the percentage; 'rate' keeps its original 1 + pct / 100 so old seeds replay.
        .map(({ target, pct }): ClockOp => ({
          kind: 'clock',
          f: 'clock-rate',
          value: { target, rate: shrinkTo === 100 ? 1 + pct / 100 : (shrinkTo + pct) / 100 },
        }));
    const modes = opts.clockFaults !== undefined && opts.clockFaults.length > 0 ? opts.clockFaults : defaultClockFaults;
    const arbs = modes.map((mode): fc.Arbitrary<ClockOp> => {
      switch (mode) {
        case 'bump':
          return bump;
        case 'rate':
          return rateArb(50, 300, 100); // 0.5–3, shrinking toward 1 (a normal clock)
        case 'slow':
          return rateArb(10, 50, 50); // 0.1–0.5, shrinking toward 0.5
        case 'fast':
          return rateArb(300, 1000, 300); // 3–10, shrinking toward 3
        case 'drift':
          return rateArb(85, 115, 100); // 0.85–1.15, shrinking toward 1
        default:
          return assertNever(mode, 'clock fault');
      }
    });
    return fc.oneof(...arbs).map((op): readonly [ClockOp, ClockOp] => [op, reset]);
  },
  decode(f, value) {
    switch (f) {
      case 'clock-bump': {
        const deltaMs = numberField(value, 'deltaMs', -86_400_000, 86_400_000);
        return { kind: 'clock', f, value: { target: targetField(value, nodeSetTargets), deltaMs } };
      }
      case 'clock-rate': {
        const rate = numberField(value, 'rate', 0.01, 100);
        return { kind: 'clock', f, value: { target: targetField(value, nodeSetTargets), rate } };
      }
      case 'reset-clock':
        return reset;
      default:
        return assertNever(f, 'clock op');
    }
  },
  create: (ctx) => new ClockNemesis(ctx),
};

class ClockNemesis implements FaultNemesis<ClockOp> {
  /** Node → what its clock does now. */
  private readonly clocked = new Map<string, string>();

  constructor(private readonly ctx: NemesisContext) {}

  async invoke(op: ClockOp): Promise<unknown> {
    const { cluster } = this.ctx;
    switch (op.f) {
      case 'clock-bump': {
        const { target, deltaMs } = op.value;
        const { nodes, leader } = await resolveTarget(this.ctx, target);
        const offsets: Record<string, number> = {};
        for (const id of nodes) {
          const state = await cluster.clock(id, { bumpMs: deltaMs });
          offsets[id] = state.offsetMs;
          this.clocked.set(id, `offset ${state.offsetMs}ms rate ${state.rate}`);
        }
        return {
          nodes,
          deltaMs,
          offsets,
          wasLeader: leader !== null && nodes.includes(leader),
          leader,
          ...(cluster.wallClockOnly === true ? { clock: 'wall' } : {}),
        };
      }
      case 'clock-rate': {
        const { target, rate } = op.value;
        const { nodes, leader } = await resolveTarget(this.ctx, target);
        for (const id of nodes) {
          const state = await cluster.clock(id, { rate });
          this.clocked.set(id, `offset ${state.offsetMs}ms rate ${state.rate}`);
        }
        return { nodes, rate, wasLeader: leader !== null && nodes.includes(leader), leader };
      }
      case 'reset-clock':
        return this.heal();
      default:
        return assertNever(op, 'clock op');
    }
  }

  async heal(): Promise<unknown> {
    const { cluster } = this.ctx;
    const reset: string[] = [];
    const skipped: string[] = [];
    for (const id of [...this.clocked.keys()].sort()) {
      if (!cluster.isAlive(id) || cluster.isPaused(id)) {
        skipped.push(id); // reset later (after resume / the restart gives a fresh clock)
        continue;
      }
      await cluster.clock(id, { offsetMs: 0, rate: 1 });
      this.clocked.delete(id);
      reset.push(id);
    }
    return skipped.length > 0 ? { nodes: reset, skipped } : { nodes: reset };
  }

  active(): readonly string[] {
    return [...this.clocked].sort().map(([id, what]) => `${id} clock ${what}`);
  }

  crashed(node: string): void {
    this.clocked.delete(node);
  }
}
