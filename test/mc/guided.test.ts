/**
 * Coverage-guided walks (mc/guided.ts, `--mode guided`): a state is kept only when its coverage key is new, the pool
 * stays within its bound, walks start from kept states (and sometimes from the initial one), a rebuilt model empties
 * the pool but not the keys, and a guided walk's finding is a whole path from the initial state that the simulator
 * confirms.
 */
import { describe, expect, it } from 'vitest';
import { SplitMix32 } from '../../node/raft/prng.js';
import { CoveragePool, coverageKey } from '../../mc/guided.js';
import { Model, type Action, type World } from '../../mc/model.js';
import { check, ELECTIONS_ONE_CRASH, expectFindingThroughRebuilds, flags, optionsOf } from './helpers.js';

/** n1 leads term 1; a put and a read, one timer firing per node, one crash, no retry. */
const PUT_READ_TIMER = flags({ start: 'leader', writes: 1, reads: 1, crashes: 1, drops: 0, dups: 0, timeouts: 1, retries: 0 });
const SEED = Number(process.env.GUIDED_TEST_SEED ?? Date.now() % 1_000_000);

/** The worlds of one uniform walk from the initial state, with each one's path. */
function walk(model: Model, random: SplitMix32, steps: number): { world: World; path: Action[] }[] {
  const out: { world: World; path: Action[] }[] = [];
  const actions: Action[] = [];
  let world = model.initial();
  const path: Action[] = [];
  for (let i = 0; i < steps; i++) {
    model.actions(world, actions);
    if (actions.length === 0) break;
    const action = actions[random.nextInt(0, actions.length - 1)]!;
    const result = model.step(world, action);
    if (!result.inBounds || result.violation !== null) break;
    path.push(action);
    world = result.world;
    out.push({ world, path: path.slice() });
  }
  return out;
}

describe('the coverage pool', () => {
  it(`keeps a reached state only when its coverage key is new, within its bound (seed ${SEED})`, () => {
    console.log(`guided pool: seed ${SEED} (GUIDED_TEST_SEED=${SEED} replays)`);
    const model = new Model(optionsOf(PUT_READ_TIMER));
    const random = new SplitMix32(SEED);
    const pool = new CoveragePool(model, new SplitMix32(SEED + 1), 5);
    const keys = new Set<string>();
    const cache = new Map<number, string>();
    let reached = 0;
    for (let w = 0; w < 30; w++)
      for (const { world, path } of walk(model, random, 40)) {
        pool.reached(world, path, null);
        keys.add(coverageKey(model, world, cache));
        reached++;
      }
    // Walks revisit abstract states: fewer keys than states reached, and the pool counts exactly the keys.
    expect(keys.size).toBeGreaterThan(5);
    expect(keys.size).toBeLessThan(reached);
    expect(pool.describe()).toContain(
      `${keys.size.toLocaleString('en-US')} coverage keys, ${keys.size.toLocaleString('en-US')} states kept, pool 5`,
    );
  });

  it('starts walks from kept states, and one in about ten from the initial state; the pool outlives a model rebuild', () => {
    const model = new Model(optionsOf(PUT_READ_TIMER));
    const pool = new CoveragePool(model, new SplitMix32(1));
    const initial = model.initial();
    const random = new SplitMix32(SEED);
    expect(pool.start(initial, random)).toEqual({ world: initial, path: [], profile: null }); // nothing kept yet
    const reached = walk(model, new SplitMix32(SEED + 2), 20);
    expect(reached.length).toBeGreaterThan(5);
    for (const { world, path } of reached) pool.reached(world, path, null);
    let fresh = 0;
    for (let i = 0; i < 2000; i++) {
      const start = pool.start(initial, random);
      if (start.world === initial) fresh++;
      else {
        // A kept state comes with its whole path from the initial state: replaying the path reaches it.
        let world = initial;
        for (const action of start.path) world = model.step(world, action).world;
        expect(coverageKey(model, world, new Map())).toBe(coverageKey(model, start.world, new Map()));
      }
    }
    expect(fresh).toBeGreaterThan(100);
    expect(fresh).toBeLessThan(400);
    // A rebuilt model: the kept paths are walked again in it, to states with the same keys (the ids differ).
    const keysBefore = new Set(reached.map(({ world }) => coverageKey(model, world, new Map())));
    const rebuilt = new Model(optionsOf(PUT_READ_TIMER));
    pool.reset(rebuilt);
    const initialAgain = rebuilt.initial();
    let revived = 0;
    for (let i = 0; i < 200; i++) {
      const start = pool.start(initialAgain, random);
      if (start.world === initialAgain) continue;
      revived++;
      expect(keysBefore.has(coverageKey(rebuilt, start.world, new Map()))).toBe(true);
    }
    expect(revived).toBeGreaterThan(100);
    expect(pool.describe()).toContain(`pool ${keysBefore.size} (carried over 1 model rebuilds)`);
    // The keys stay: a state seen before the rebuild (here: each revived one, reached again) is not new after it.
    const again = pool.describe();
    for (let i = 0; i < 50; i++) {
      const start = pool.start(initialAgain, random);
      if (start.world !== initialAgain) pool.reached(start.world, start.path, null); // the initial state was never kept
    }
    expect(pool.describe()).toBe(again);
  });

  it('tells diverged logs apart', () => {
    const model = new Model(optionsOf(PUT_READ_TIMER));
    const initial = model.initial();
    const actions: Action[] = [];
    model.actions(initial, actions);
    const keys = new Set(
      actions.map((a) => {
        const r = model.step(initial, a);
        return coverageKey(model, r.world, new Map());
      }),
    );
    // The put's request, n2's or n3's timer and a crash each change some node's key.
    expect(keys.size).toBeGreaterThan(2);
  });
});

describe('--mode guided', () => {
  it('finds --unsafe local-reads; the whole path replays to the stale read; the correct core passes the same walks', async () => {
    const bounds = flags({ start: 'leader', writes: 1, reads: 1, crashes: 0, drops: 0, dups: 0, timeouts: 1, retries: 0 });
    const found = await check([...bounds, '--unsafe', 'local-reads', '--mode', 'guided', '--seed', '7', '--walks', '2000']);
    expect(found.result.finding?.violation.property).toBe('read-safety');
    expect(found.replayConfirmed).toBe(true);
    expect(found.flagsNeeded).toBe(true);
    expect(found.lines.some((l) => l.startsWith('  coverage: '))).toBe(true);
    const correct = await check([...bounds, '--mode', 'guided', '--seed', '7', '--walks', '2000']);
    expect(correct.result.finding).toBeNull();
    expect(correct.result.stopped).toBe('walks-done');
    expect(correct.result.stats.walks).toBe(2000);
  });

  it('finds --unsafe no-persist-vote under an in-flight bound (swarm walks did not: mc/README.md); credited to the flag', async () => {
    // Elections with one crash in the cluster and at most 4 messages in flight: most walks end at the bound, and a
    // guided walk starts again from deep in a path. Measured: seed 5 at walk 3,734 (seeds 1 and 3 later, 2 and 4 not in
    // 2,000,000 walks; swarm walks on seeds 1-5: none).
    const bounds = flags(ELECTIONS_ONE_CRASH);
    const found = await check([...bounds, '--unsafe', 'no-persist-vote', '--mode', 'guided', '--seed', '5', '--walks', '10000']);
    expect(found.result.finding?.violation.property).toBe('election-safety');
    expect(found.replayConfirmed).toBe(true);
    expect(found.flagsNeeded).toBe(true);
  });

  it('keeps its pool through model rebuilds before every walk; the finding is rebuilt with the model that found it', () => {
    let pool: CoveragePool | null = null;
    expectFindingThroughRebuilds(PUT_READ_TIMER, { guide: (model, random) => (pool = new CoveragePool(model, random)) });
    expect((pool as CoveragePool | null)?.describe()).toMatch(/pool [1-9][0-9,]* \(carried over \d+ model rebuilds\)/);
  });
});
