/**
 * Swarm random walks (mc/swarm.ts, `--mode swarm`): profiles are reproducible from the seed, a profile never
 * disables an enabled event (so every path a uniform walk can take stays possible), a swarm walk's finding becomes
 * a trace the simulator confirms, and walks that rebuild the model to bound memory still rebuild the finding's trace
 * with the model that found it.
 */
import { describe, expect, it } from 'vitest';
import { SplitMix32 } from '../../node/raft/prng.js';
import { Model, type Action } from '../../mc/model.js';
import { randomWalks, type WalkOptions } from '../../mc/search.js';
import { SwarmProfile } from '../../mc/swarm.js';
import { VisitedSet } from '../../mc/visited.js';
import { check, expectFindingThroughRebuilds, flags, optionsOf } from './helpers.js';

/** n1 leads term 1; a put and a read, one timer firing per node, no retry. */
const PUT_READ_TIMER = flags({ start: 'leader', writes: 1, reads: 1, crashes: 0, drops: 0, dups: 0, timeouts: 1, retries: 0 });
const SEED = Number(process.env.SWARM_TEST_SEED ?? 20261206);

/** `walks` swarm walks on seed 5, no liveness check, no progress lines. */
function swarmWalks(walks: number): WalkOptions {
  return { walks, maxDepth: 400, seed: 5, liveness: false, progressMs: 60_000, onProgress: null, swarm: true };
}

describe('swarm profiles', () => {
  it('are drawn from the seed alone', () => {
    const a = SwarmProfile.draw(new SplitMix32(11), 3, 2).describe();
    expect(SwarmProfile.draw(new SplitMix32(11), 3, 2).describe()).toBe(a);
    expect(SwarmProfile.draw(new SplitMix32(12), 3, 2).describe()).not.toBe(a);
  });

  it('give every enabled event a weight above zero, on random walks with crashes, drops and duplicates', () => {
    console.log(`swarm weights: seed ${SEED} (SWARM_TEST_SEED=${SEED} replays)`);
    const model = new Model(
      optionsOf(flags({ start: 'leader', writes: 1, reads: 1, crashes: 1, drops: 1, dups: 1, timeouts: 1, retries: 1 })),
    );
    const random = new SplitMix32(SEED);
    const actions: Action[] = [];
    let checked = 0;
    for (let walk = 0; walk < 40; walk++) {
      const profile = SwarmProfile.draw(random, model.layout.n, model.layout.opCount);
      let world = model.initial();
      for (let depth = 0; depth < 60; depth++) {
        model.actions(world, actions);
        if (actions.length === 0) break;
        for (const action of actions) {
          const weight = profile.weightOf(model, action);
          expect(weight, `${action.kind} in walk ${walk}`).toBeGreaterThan(0);
          checked++;
        }
        const result = model.step(world, actions[profile.pick(model, actions, random)]!);
        if (!result.inBounds || result.violation !== null) break;
        world = result.world;
      }
    }
    expect(checked).toBeGreaterThan(1000);
  });
});

describe('--mode swarm', () => {
  it('finds --unsafe local-reads; the trace replays to the stale read; the correct core passes the same walks', async () => {
    const found = await check([...PUT_READ_TIMER, '--unsafe', 'local-reads', '--mode', 'swarm', '--seed', '7', '--walks', '2000']);
    expect(found.result.finding?.violation.property).toBe('read-safety');
    expect(found.replayConfirmed).toBe(true);
    // Replayed without the flag, the same events violate nothing (the follower answers not_leader): the flag's.
    expect(found.flagsNeeded).toBe(true);
    expect(found.lines).toContain("without the unsafe flags the same events violate nothing: the flag's defect");
    const correct = await check([...PUT_READ_TIMER, '--mode', 'swarm', '--seed', '7', '--walks', '2000']);
    expect(correct.result.finding).toBeNull();
    expect(correct.flagsNeeded).toBeNull();
    expect(correct.result.stopped).toBe('walks-done');
    expect(correct.result.stats.walks).toBe(2000);
  });

  it('rebuilds the model between walks to bound memory, and the finding is rebuilt with the model that found it', () => {
    // Rebuilt before every walk (the heap is always above 0 bytes): the finding came after at least one rebuild.
    expectFindingThroughRebuilds(PUT_READ_TIMER);
  });

  it('rebuild within the cooldown once the heap passes the ceiling (a long hunt stays under the process heap)', () => {
    const walked = randomWalks(() => new Model(optionsOf(PUT_READ_TIMER)), new VisitedSet(1_000_000, false), {
      ...swarmWalks(64),
      renewHeapBytes: 1, // every heap is past any multiple of 1 byte
      renewCooldownWalks: 1_000_000_000,
    });
    // Walk 0 (the cooldown starts there), then every 16th walk within the cooldown: 16, 32, 48.
    expect(walked.stats.renewals).toBe(4);
  });

  it('go on walking when the visited set is full (it only counts coverage)', () => {
    const visited = new VisitedSet(1000, false);
    const walked = randomWalks(() => new Model(optionsOf(PUT_READ_TIMER)), visited, swarmWalks(400));
    expect(visited.full).toBe(true);
    expect(walked.stopped).toBe('walks-done');
    expect(walked.stats.walks).toBe(400);
  });
});
