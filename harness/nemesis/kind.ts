/**
 * The contract of one fault kind (Jepsen's nemesis packages,
 * `jepsen.nemesis.combined`: a generator, a nemesis, a final generator and
 * what the perf graphs call it, bundled). Each kind lives in one file under
 * kinds/ and declares everything about itself here; the registry
 * (registry.ts) lists them, and the schedule, the runner, the options, the
 * report's catalogue and the target checks all derive from that table.
 */
import fc from 'fast-check';
import type { NemesisContext } from './context.js';
import type { ScheduleOptions } from './schedule.js';
import type { NodeTarget } from './targets.js';

/** A typed op of one kind: its wire form ({f, value}) plus the kind it belongs to. */
export interface KindOp {
  readonly kind: string;
  readonly f: string;
  readonly value: unknown;
}

/** A fault kind's nemesis in one run: applies and heals its ops, remembers what is in force. */
export interface FaultNemesis<Op> {
  /** Applies (start ops) or heals (stop ops) one op; resolves to what was done, the completion's value. */
  invoke(op: Op): Promise<unknown>;
  /** Its part of the final heal: undoes everything of this kind still in force. */
  heal(): Promise<unknown>;
  /** What of this kind is in force now, for the progress line ("n3 paused"). */
  active(): readonly string[];
  /** The nemesis crashed `node` (NemesisContext.crashed). */
  crashed?(node: string): void;
}

/**
 * One recorded step of the final heal (Jepsen's final generator). Most kinds
 * heal in a step of their own, named after their stop op; kinds whose faults
 * are parts of one setting share a step (loss, delay and duplication:
 * `clear-packet-faults`). The registry orders the steps.
 */
export interface FinalHealStep {
  readonly f: string;
}

/** A command-line option a kind takes (parsed in harness/options.ts; the help lines come from here). */
export interface NemesisOption {
  /** The flag without its dashes, e.g. `partition`. */
  readonly flag: string;
  /** The flag's argument as the help shows it, e.g. `LIST`. */
  readonly arg: string;
  /** Its help text (wrapped by the help; the default follows it). */
  readonly help: string;
  /** The default, as the help shows it. */
  readonly defaultText: string;
}

export interface NemesisKindSpec<K extends string, Op extends KindOp> {
  readonly kind: K;
  /** What the report calls it (the legend, the fault table). */
  readonly label: string;
  /** What the fault does, for the --nemesis help (at most 43 characters: one help line). */
  readonly summary: string;
  /**
   * Every `f` of its ops and whether it starts or stops the fault: the type
   * makes the list complete, so start/stop names derive from here.
   */
  readonly fs: { readonly [F in Op['f']]: 'start' | 'stop' };
  /** The node targets it accepts, i.e. whether it takes --targets ([] for faults of the network as a whole). */
  readonly targets: readonly NodeTarget[];
  /**
   * The network mode the kind needs, when not every mode can honour it (a
   * delay needs the relay: this kernel has no netem). The options refuse the
   * combination rather than run a fault that does nothing.
   */
  readonly needsNet?: { readonly net: 'relay'; readonly why: string };
  /** Options of its own, besides --nemesis, --nemesis-interval and --targets. */
  readonly options: readonly NemesisOption[];
  readonly finalHeal: FinalHealStep;
  /** Rejects options it cannot draw from (checked for every kind, listed or not). */
  validate?(opts: ScheduleOptions): void;
  /**
   * One fault cycle, start then stop: seeded and shrinkable (toward milder
   * parameters), so a run's schedule is data that replays from its seed.
   */
  cycle(opts: ScheduleOptions): fc.Arbitrary<readonly [Op, Op]>;
  /**
   * The cycle that hits the leader (cuts it off a quorum, kills or stops
   * it), which every run of the kind contains at least once (issue 20: a
   * default run must bite; schedule.ts puts it in one drawn slot). Null, or
   * absent, when the chosen options offer no such fault (`--partition one`,
   * `--targets one`): then only the chosen mix is drawn.
   */
  bitingCycle?(opts: ScheduleOptions): fc.Arbitrary<readonly [Op, Op]> | null;
  /** An op from its wire form: the value checked once, here; throws on a bad one. */
  decode(f: Op['f'], value: unknown): Op;
  /** Its nemesis for one run. */
  create(ctx: NemesisContext): FaultNemesis<Op>;
}

/** The `final` invoke value of every final-heal step (as recorded in the history). */
export const finalHealValue = { target: 'all', final: true } as const;

/**
 * The ops of a choreography kind: one start op that plays the whole
 * choreography (each step waiting for what the cluster reports) and one stop
 * op that undoes what is left of it; neither takes a value.
 */
export type ChoreographyOp<K extends string> =
  | { readonly kind: K; readonly f: `start-${K}`; readonly value: null }
  | { readonly kind: K; readonly f: `stop-${K}`; readonly value: null };

/**
 * The spec of a choreography kind (kinds/rejoin.ts, kinds/change-race.ts):
 * no targets or options; every cycle is its one start and stop, which is
 * also the cycle that bites (each changes the leader); its stop op is its
 * final-heal step.
 */
export function choreographyKind<K extends string>(spec: {
  readonly kind: K;
  readonly label: string;
  readonly summary: string;
  readonly needsNet?: { readonly net: 'relay'; readonly why: string };
  create(
    ctx: NemesisContext,
    ops: { readonly start: ChoreographyOp<K>; readonly stop: ChoreographyOp<K> },
  ): FaultNemesis<ChoreographyOp<K>>;
}): NemesisKindSpec<K, ChoreographyOp<K>> {
  const start = { kind: spec.kind, f: `start-${spec.kind}`, value: null } as ChoreographyOp<K>;
  const stop = { kind: spec.kind, f: `stop-${spec.kind}`, value: null } as ChoreographyOp<K>;
  const cycle = fc.constant([start, stop] as const);
  return {
    kind: spec.kind,
    label: spec.label,
    summary: spec.summary,
    fs: { [start.f]: 'start', [stop.f]: 'stop' } as NemesisKindSpec<K, ChoreographyOp<K>>['fs'],
    targets: [],
    ...(spec.needsNet !== undefined ? { needsNet: spec.needsNet } : {}),
    options: [],
    finalHeal: { f: stop.f },
    cycle: () => cycle,
    bitingCycle: () => cycle,
    decode(f) {
      if (f === start.f) return start;
      if (f === stop.f) return stop;
      throw new Error(`${spec.kind}: unknown op ${String(f)}`);
    },
    create: (ctx) => spec.create(ctx, { start, stop }),
  };
}
