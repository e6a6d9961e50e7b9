/** Runs the model checker in-process on command-line flags (the same parser as `npm run mc`), quietly, writing traces to a temp dir. */
import { tempDir } from '../harness/temp-dirs.js';
import { parseOptions, type McOptions } from '../../mc/options.js';
import { runModelChecker, type RunReport } from '../../mc/run.js';
import type { Action, Model, Violation, World } from '../../mc/model.js';
import { describeEvent, TRACE_FORMAT, TRACE_VERSION, type SteppedEvent, type SteppedTrace } from '../../sim/stepped/trace.js';

export interface Checked extends RunReport {
  readonly lines: readonly string[];
}

export function optionsOf(args: readonly string[]): McOptions {
  const parsed = parseOptions([...args, '--quiet', '--max-states', '2000000', '--out', tempDir('rift-mc-')]);
  if (parsed === 'help') throw new Error('unexpected --help');
  return parsed;
}

export async function check(args: readonly string[]): Promise<Checked> {
  const lines: string[] = [];
  const report = await runModelChecker(optionsOf(args), (line) => lines.push(line));
  // The figures a reader of the test log wants (bounds, states, time): the summary line.
  console.log(`mc ${args.join(' ')}\n  ${lines.find((l) => l.startsWith('summary:')) ?? '(no summary)'}`);
  return { ...report, lines };
}

/** The events a scripted walk took, in the stepped trace form, and what its last step found. */
export interface Walked {
  readonly world: World;
  readonly events: readonly SteppedEvent[];
  /** The first violation on the way (the walk stops there), or null. */
  readonly violation: Violation | null;
}

/**
 * Walks the model from its initial state (its prelude included in the events): each step names the one enabled
 * event whose text (describeEvent) contains it, so the walk is a path the search itself could take. Throws when a
 * step matches no enabled event or more than one.
 */
export function walkEvents(model: Model, steps: readonly string[]): Walked {
  let world = model.initial();
  const events: SteppedEvent[] = [...model.preludeEvents()];
  const actions: Action[] = [];
  for (const [i, step] of steps.entries()) {
    model.actions(world, actions);
    const texts = actions.map((a) => describeEvent(model.toEvent(world, a), model.ops));
    const matching = texts.flatMap((text, k) => (text.includes(step) ? [k] : []));
    if (matching.length !== 1)
      throw new Error(`step ${i + 1} (${JSON.stringify(step)}) matches ${matching.length} enabled events:\n  ${texts.join('\n  ')}`);
    const action = actions[matching[0]!]!;
    events.push(model.toEvent(world, action));
    const result = model.step(world, action);
    world = result.world;
    if (result.violation !== null) return { world, events, violation: result.violation };
  }
  return { world, events, violation: null };
}

/** The walk as a stepped trace the simulator replays (sim/stepped/replay.ts), as mc/trace.ts writes one. */
export function traceOf(model: Model, events: readonly SteppedEvent[]): SteppedTrace {
  return {
    format: TRACE_FORMAT,
    version: TRACE_VERSION,
    params: model.params,
    network: { maxInFlight: model.options.bounds.maxInFlight, dropDeadMessages: model.options.deadMessages },
    ops: model.ops,
    events,
    checkLiveness: false,
  };
}
