/**
 * What the model-checker tests share: the checker run in-process on command-line flags (the same parser as
 * `npm run mc`), quietly, writing traces to a temp dir; the built commands run as processes; the bounded spaces
 * several tests explore, spelled once; scripted walks through the model and their replayable traces.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { tempDir } from '../harness/temp-dirs.js';
import { parseOptions, PROPERTY_NAMES, type McOptions, type PropertyName } from '../../mc/options.js';
import { runModelChecker, type RunReport } from '../../mc/run.js';
import { expect } from 'vitest';
import { Model, type Action, type Violation, type World } from '../../mc/model.js';
import { randomWalks, type WalkOptions } from '../../mc/search.js';
import { counterexample } from '../../mc/trace.js';
import { VisitedSet } from '../../mc/visited.js';
import { replayTrace } from '../../sim/stepped/replay.js';
import { describeEvent, TRACE_FORMAT, TRACE_VERSION, type SteppedEvent, type SteppedTrace } from '../../sim/stepped/trace.js';

export interface Checked extends RunReport {
  readonly lines: readonly string[];
}

const root = join(import.meta.dirname, '..', '..');

/** Runs a built command (dist/mc/cli.js or dist/sim/cli.js) as a process, in a temp working directory. */
export function runDist(
  command: 'mc' | 'sim',
  args: readonly string[],
  timeoutMs: number,
): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(root, 'dist', command, 'cli.js'), ...args], {
    encoding: 'utf8',
    timeout: timeoutMs,
    cwd: tempDir(`rift-${command}-cwd-`),
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Flags from an object, in its key order: { start: 'leader', writes: 1 } is ['--start', 'leader', '--writes', '1']. */
export function flags(spec: Readonly<Record<string, string | number>>): string[] {
  return Object.entries(spec).flatMap(([flag, value]) => [`--${flag}`, String(value)]);
}

/**
 * `--properties` with every property but `left`: a hand-written path that shows what a flag's mistake breaks
 * downstream leaves out the property that judges the mistake where it is made (founded-acks,
 * config-change-rule), which would stop the walk first.
 */
export function propertiesWithout(...left: PropertyName[]): string[] {
  return ['--properties', PROPERTY_NAMES.filter((p) => !left.includes(p)).join(',')];
}

/** Elections only: no client operation and no fault, one timer firing per node, terms <= 1. */
export const ELECTIONS = { writes: 0, reads: 0, crashes: 0, drops: 0, dups: 0, 'max-term': 1, timeouts: 1 } as const;
/** n1 leads term 1 (the prelude); a put and a linearizable read, no fault, no timer firing. */
export const LEADER_PUT_READ = { start: 'leader', writes: 1, reads: 1, crashes: 0, drops: 0, dups: 0, timeouts: 0 } as const;
/** n1 leads term 1; a put and one crash (and restart) per node, no timer firing. */
export const LEADER_PUT_CRASH = { start: 'leader', writes: 1, reads: 0, crashes: 1, drops: 0, dups: 0, timeouts: 0 } as const;
/** The same with one timer firing per node (a new election): memory-log, ack-before-fsync. */
export const LEADER_PUT_CRASH_TIMER = { ...LEADER_PUT_CRASH, timeouts: 1 } as const;
/** Elections with one crash in the whole cluster and at most 4 messages in flight: no-persist-vote (270,318 states). */
export const ELECTIONS_ONE_CRASH = {
  writes: 0,
  reads: 0,
  crashes: 1,
  'fault-budgets': 'cluster',
  drops: 0,
  dups: 0,
  timeouts: 1,
  'max-term': 1,
  'max-inflight': 4,
} as const;
/** n1 leads term 1; a put, no fault, one timer firing per node, no retry: the Figure 8 bug (commit-old-terms). */
export const LEADER_PUT_TIMER = { start: 'leader', writes: 1, reads: 0, crashes: 0, drops: 0, dups: 0, timeouts: 1, retries: 0 } as const;

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

/** The "snapshot transitions: S saves, I installs" figures of a run's summary. */
export function snapshotTransitions(lines: readonly string[]): { saves: number; installs: number } {
  const line = lines.find((l) => l.includes('snapshot transitions:'));
  const m = /snapshot transitions: ([\d,]+) saves, ([\d,]+) installs/.exec(line ?? '');
  if (m === null) throw new Error(`no snapshot figures in:\n${lines.join('\n')}`);
  return { saves: Number(m[1]!.replaceAll(',', '')), installs: Number(m[2]!.replaceAll(',', '')) };
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

/**
 * Swarm walks (guided ones with `extra.guide`) on `args` with --unsafe commit-old-terms, the model rebuilt before
 * every walk (a heap bound of 0 bytes): the finding comes after at least one rebuild and is rebuilt, and replayed,
 * with the model that found it.
 */
export function expectFindingThroughRebuilds(args: readonly string[], extra: Partial<WalkOptions> = {}): void {
  const options = optionsOf([...args, '--unsafe', 'commit-old-terms']);
  let built = 0;
  const walked = randomWalks(
    () => {
      built++;
      return new Model(options);
    },
    new VisitedSet(1_000_000, false),
    {
      walks: 5000,
      maxDepth: 400,
      seed: 3,
      liveness: false,
      progressMs: 60_000,
      onProgress: null,
      swarm: true,
      renewHeapBytes: 0,
      renewCooldownWalks: 1,
      ...extra,
    },
  );
  expect(walked.finding?.violation.property).toBeDefined();
  expect(walked.stats.walks).toBeGreaterThan(1);
  expect(walked.stats.renewals).toBe(walked.stats.walks);
  expect(built).toBe(walked.stats.renewals + 1);
  const trace = counterexample(walked.model, null, walked.finding!);
  expect(trace.complete).toBe(true);
  expect(replayTrace(trace.trace).violations.length).toBeGreaterThan(0);
}
