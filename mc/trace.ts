/**
 * Counterexamples: the events from the initial state to a violation, as a
 * stepped trace (sim/stepped/trace.ts) that `npm run sim -- --replay FILE`
 * replays.
 *
 * After a BFS the path is rebuilt from the visited set alone (Stateright
 * and TLC do the same): follow the parent fingerprints back to the initial
 * state, then replay forward, at each state taking the event whose
 * successor has the next fingerprint on the path. With symmetry on, a
 * state on the way may be a relabelling of the one first explored; the
 * events are still real events of a real path.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TRACE_FORMAT, TRACE_VERSION, type SteppedEvent, type SteppedTrace } from '../sim/stepped/trace.js';
import { lanes } from './hash.js';
import type { Action, Model, World } from './model.js';
import type { Finding } from './search.js';
import { storedForm, type VisitedSet } from './visited.js';

export interface Counterexample {
  readonly trace: SteppedTrace;
  /** False when the violating step could not be found again from the rebuilt state (see the file header). */
  readonly complete: boolean;
}

export class ReconstructionError extends Error {
  override readonly name = 'ReconstructionError';
}

export function counterexample(model: Model, visited: VisitedSet | null, finding: Finding): Counterexample {
  const events: SteppedEvent[] = [...model.preludeEvents()];
  let world = model.initial();
  const take = (action: Action): World => {
    events.push(model.toEvent(world, action));
    return model.step(world, action).world;
  };
  // An answer the violating step left waiting for its fsync: that fsync sends it (Violation.then).
  const visible = (then: Action | undefined): void => {
    if (then !== undefined) world = take(then);
  };
  if (finding.walk !== null) {
    for (const action of finding.walk) world = take(action);
    visible(finding.violation.then);
    return { trace: build(model, events, finding), complete: true };
  }
  if (visited === null || finding.from === null) throw new ReconstructionError('a BFS finding needs the visited set');
  const chain = pathTo(visited, finding.from);
  const here = new Int32Array(2);
  const actions: Action[] = [];
  for (let i = 1; i < chain.length; i++) {
    model.actions(world, actions);
    let found: Action | null = null;
    for (const action of actions) {
      const result = model.step(world, action);
      if (!result.inBounds || result.violation !== null) continue;
      model.fingerprint(result.world);
      storedForm(lanes[0]!, lanes[1]!, here);
      if (here[0] === chain[i]![0] && here[1] === chain[i]![1]) {
        found = action;
        break;
      }
    }
    if (found === null) throw new ReconstructionError(`no event leads from step ${i - 1} of the path to the next state`);
    world = take(found);
  }
  if (finding.action === null) return { trace: build(model, events, finding), complete: true };
  model.actions(world, actions);
  for (const action of actions) {
    const result = model.step(world, action);
    if (result.violation?.property === finding.violation.property) {
      events.push(model.toEvent(world, action));
      world = result.world;
      visible(result.violation.then);
      return { trace: build(model, events, { ...finding, violation: result.violation }), complete: true };
    }
  }
  return { trace: build(model, events, finding), complete: false };
}

/** Fingerprints from the initial state to `end`, following parents. */
function pathTo(visited: VisitedSet, end: readonly [number, number]): [number, number][] {
  const chain: [number, number][] = [];
  const cur = new Int32Array(2);
  storedForm(end[0], end[1], cur);
  const parent = new Int32Array(2);
  for (let guard = 0; guard < 10_000_000; guard++) {
    chain.push([cur[0]!, cur[1]!]);
    if (!visited.parentOf(cur[0]!, cur[1]!, parent)) throw new ReconstructionError('a state on the path is missing from the visited set');
    if (parent[0] === 0 && parent[1] === 0) return chain.reverse();
    storedForm(parent[0]!, parent[1]!, cur);
  }
  throw new ReconstructionError('the parent chain does not end');
}

function build(model: Model, events: readonly SteppedEvent[], finding: Finding): SteppedTrace {
  return {
    format: TRACE_FORMAT,
    version: TRACE_VERSION,
    params: model.params,
    network: { maxInFlight: model.options.bounds.maxInFlight, dropDeadMessages: model.options.deadMessages },
    ops: model.ops,
    events,
    checkLiveness: finding.violation.property === 'liveness',
    finding: { property: finding.violation.property, message: finding.violation.message },
  };
}

/** Writes `trace` under `dir` as `<stamp>-<property>.trace.json`; returns the path. */
export function writeTrace(dir: string, trace: SteppedTrace, stamp: string): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${stamp}-${trace.finding?.property ?? 'trace'}.trace.json`);
  writeFileSync(path, `${JSON.stringify(trace, null, 1)}\n`);
  return path;
}
