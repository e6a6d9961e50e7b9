/**
 * The reductions (symmetry over node ids, mc/symmetry.ts; the
 * partial-order reduction over quiet nodes, Model.actions) prune states but
 * never change a verdict: on small bounds every combination of them
 * exhausts the correct core's space and catches the same unsafe flag with
 * the same property, and each reduction explores fewer states than none.
 */
import { describe, expect, it } from 'vitest';
import { Model, type Action } from '../../mc/model.js';
import {
  check,
  flags,
  ELECTIONS_ONE_CRASH,
  LEADER_PUT_CRASH,
  LEADER_PUT_CRASH_TIMER,
  LEADER_PUT_READ,
  LEADER_PUT_TIMER,
  optionsOf,
} from './helpers.js';

// Both reductions, symmetry off, POR off, neither (the partial-order reduction is opt-in: --por).
const combos: readonly (readonly string[])[] = [['--por'], ['--no-symmetry', '--por'], [], ['--no-symmetry']];

describe('reductions keep the verdict', () => {
  it('the correct core: exhausted with no violation under every combination; each reduction explores fewer states', async () => {
    const bounds = flags(LEADER_PUT_READ);
    const distinct: number[] = [];
    for (const combo of combos) {
      const r = await check([...bounds, ...combo]);
      expect(r.result.finding).toBeNull();
      expect(r.result.stopped).toBe('exhausted');
      distinct.push(r.result.stats.distinct);
    }
    const [both, noSymmetry, noPor, none] = distinct as [number, number, number, number];
    expect(both).toBeLessThanOrEqual(noSymmetry);
    expect(noPor).toBeLessThanOrEqual(none);
    expect(both).toBeLessThan(noPor);
    expect(noSymmetry).toBeLessThan(none);
  });

  it('--unsafe memory-log: the same violated property under every combination, the shortest trace no longer without them', async () => {
    const bounds = ['--unsafe', 'memory-log', ...flags(LEADER_PUT_CRASH_TIMER)];
    const lengths: number[] = [];
    for (const combo of combos) {
      const r = await check([...bounds, ...combo]);
      expect(r.result.stopped).toBe('violation');
      expect(r.result.finding?.violation.property).toBe('election-safety');
      expect(r.replayConfirmed).toBe(true);
      lengths.push(r.counterexampleEvents!);
    }
    // BFS without the partial-order reduction finds a shortest trace of the full graph.
    expect(lengths[3]).toBeLessThanOrEqual(lengths[0]!);
  });
});

/**
 * One-step sleep sets (--sleep, mc/model.ts `sleeps`): sound, so every state of the full search is still
 * explored (exactly the same set without symmetry, where a fingerprint names one state) and every flag the
 * full search finds is found by a counterexample of the same length, confirmed by the simulator.
 */
describe('--sleep: the same states and verdicts as the full search', () => {
  it('the start state after the --start leader prelude was reached by no event: none of its successors sleeps', () => {
    // The prelude's last event once stayed in the start state's record of how it was reached, and successors of the
    // start state (reached by nothing else) were pruned under some rank orders (mc/README.md, one-step sleep sets).
    const model = new Model(optionsOf(['--sleep', '--no-symmetry', ...flags(LEADER_PUT_CRASH)]));
    const start = model.initial();
    // Its words on how it was reached (Layout.via: local flag, rank, owner, ...) are all zero: no event.
    expect(Array.from(start.subarray(model.layout.via, model.layout.ops))).toEqual(new Array(model.layout.ops - model.layout.via).fill(0));
    const actions: Action[] = [];
    model.actions(start, actions);
    expect(actions.length).toBeGreaterThan(3);
    const asleep = actions.filter((a) => model.sleeps(start, a, model.step(start, a).world));
    expect(asleep).toEqual([]);
  });

  it('the correct core, without symmetry: exactly the same distinct states, path ends and transitions; some successors asleep', async () => {
    const bounds = ['--no-symmetry', ...flags(LEADER_PUT_CRASH)];
    const full = await check(bounds);
    const asleep = await check(['--sleep', ...bounds]);
    for (const r of [full, asleep]) {
      expect(r.result.stopped).toBe('exhausted');
      expect(r.result.finding).toBeNull();
    }
    expect(asleep.result.stats.distinct).toBe(full.result.stats.distinct);
    expect(asleep.result.stats.terminal).toBe(full.result.stats.terminal);
    expect(asleep.result.stats.maxDepth).toBe(full.result.stats.maxDepth);
    // Every transition is still stepped and checked; only the asleep successors skip fingerprint and insert.
    expect(asleep.result.stats.transitions).toBe(full.result.stats.transitions);
    expect(full.result.stats.slept).toBe(0);
    expect(asleep.result.stats.slept).toBeGreaterThan(0);
  });

  /** [flag, property, bounds]: the bounds of test/mc/search.test.ts. */
  const unsafeFlags: readonly (readonly [string, string, readonly string[]])[] = [
    ['no-persist-vote', 'election-safety', flags(ELECTIONS_ONE_CRASH)],
    ['memory-log', 'election-safety', flags(LEADER_PUT_CRASH_TIMER)],
    ['local-reads', 'read-safety', flags(LEADER_PUT_READ)],
    ['ack-before-fsync', 'leader-completeness', flags(LEADER_PUT_CRASH_TIMER)],
    ['commit-old-terms', 'commit-rule', flags(LEADER_PUT_TIMER)],
  ];
  for (const [flag, property, bounds] of unsafeFlags) {
    it(`--unsafe ${flag}: found with and without --sleep, the same property, a counterexample as short, replayed`, async () => {
      const args = ['--unsafe', flag, ...bounds];
      const full = await check(args);
      const asleep = await check(['--sleep', ...args]);
      for (const r of [full, asleep]) {
        expect(r.result.stopped).toBe('violation');
        expect(r.result.finding?.violation.property).toBe(property);
        expect(r.replayConfirmed).toBe(true);
      }
      expect(asleep.counterexampleEvents).toBe(full.counterexampleEvents);
      console.log(
        `  ${flag}: ${full.counterexampleEvents} events; ${full.result.stats.distinct} states without --sleep, ` +
          `${asleep.result.stats.distinct} with (${asleep.result.stats.slept} successors asleep)`,
      );
    });
  }
});
