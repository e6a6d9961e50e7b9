/**
 * Symmetry over node ids (mc/symmetry.ts, Model.fingerprint): a state and
 * the same state with node ids relabelled get one fingerprint, states that
 * differ get different ones, and without the reduction relabellings stay
 * apart.
 */
import { describe, expect, it } from 'vitest';
import { lanes } from '../../mc/hash.js';
import { Model, type Action, type World } from '../../mc/model.js';
import { defaultOptions } from '../../mc/options.js';
import { allPermutations, candidatePermutations } from '../../mc/symmetry.js';

function modelWith(symmetry: boolean): Model {
  return new Model(defaultOptions({ symmetry, por: false, bounds: { writes: 1, reads: 1 } }));
}

function fp(model: Model, w: World): string {
  model.fingerprint(w);
  return `${lanes[0]}:${lanes[1]}`;
}

/** Runs `path` from the initial state; each step is chosen by a predicate over the enabled actions (exactly one must match). */
function walk(model: Model, path: readonly ((a: Action, w: World) => boolean)[]): World {
  let w = model.initial();
  const actions: Action[] = [];
  for (const choose of path) {
    model.actions(w, actions);
    const matching = actions.filter((a) => choose(a, w));
    expect(matching.length).toBe(1);
    const result = model.step(w, matching[0]!);
    expect(result.violation).toBeNull();
    w = result.world;
  }
  return w;
}

const timeout =
  (node: number) =>
  (a: Action): boolean =>
    a.kind === 'timeout' && a.node === node;
/** Delivery of the one message in flight addressed to `to`. */
const deliverTo =
  (model: Model, to: number) =>
  (a: Action): boolean =>
    a.kind === 'deliver' && model.msgs.get(a.msg).to === to;

describe('canonical fingerprints under relabelling of node ids', () => {
  it('n2 timing out and n3 timing out are one state with symmetry, two without', () => {
    for (const symmetry of [true, false]) {
      const model = modelWith(symmetry);
      const a = walk(model, [timeout(1)]);
      const b = walk(model, [timeout(2)]);
      expect(fp(model, a) === fp(model, b)).toBe(symmetry);
      expect(model.node(a, 1).summary.role).not.toBe('follower');
      expect(model.node(b, 2).summary.role).not.toBe('follower');
    }
  });

  it("n1 campaigns and wins n2's vote vs wins n3's vote: equal under the swap of n2 and n3", () => {
    for (const symmetry of [true, false]) {
      const model = modelWith(symmetry);
      const viaN2 = walk(model, [timeout(0), deliverTo(model, 1)]);
      const viaN3 = walk(model, [timeout(0), deliverTo(model, 2)]);
      expect(fp(model, viaN2) === fp(model, viaN3)).toBe(symmetry);
    }
  });

  it('states that are not relabellings of each other hash apart', () => {
    const model = modelWith(true);
    const initial = model.initial();
    const one = walk(model, [timeout(0)]);
    const two = walk(model, [timeout(0), timeout(1)]);
    const voted = walk(model, [timeout(0), deliverTo(model, 1)]);
    const prints = [initial, one, two, voted].map((w) => fp(model, w));
    expect(new Set(prints).size).toBe(prints.length);
  });

  it('candidate permutations sort nodes by signature and try every order of ties', () => {
    const set = allPermutations(3);
    const out: number[] = [];
    candidatePermutations(set, [30, 10, 20], out);
    expect(out).toHaveLength(1);
    const inv = set.inverse[out[0]!]!;
    expect(Array.from(inv)).toEqual([1, 2, 0]); // positions hold n2 (10), n3 (20), n1 (30)
    candidatePermutations(set, [5, 5, 1], out);
    expect(out).toHaveLength(2);
    candidatePermutations(set, [7, 7, 7], out);
    expect(out).toHaveLength(6);
  });
});
