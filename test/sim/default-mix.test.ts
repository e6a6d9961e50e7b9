/**
 * The default simulator mix contains the rare faults issue 15's defects
 * needed (pauses, holds of seconds, slowed leader clocks, disk corruption, a
 * follower's lost tail, replays) and membership changes (issue 18): a
 * campaign run without a preset draws them.
 * The scenarios are sampled from the real arbitrary on a fresh seed (printed;
 * RIFT_SIM_SEED replays it).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defaultShape, scenarioArb } from '../../sim/arbitraries.js';
import { defaultSimOptions, type Fault, type FaultKind } from '../../sim/scenario.js';

const fromEnv = process.env['RIFT_SIM_SEED'];
const seed = fromEnv === undefined ? (Date.now() ^ (process.pid << 8)) >>> 0 : Number(fromEnv) >>> 0;

const rareKinds: readonly FaultKind[] = [
  'pause',
  'pause_leader',
  'hold',
  'hold_leader',
  'hold_across',
  'clock_leader',
  'corrupt',
  'corrupt_last_frame',
  'lose_tail',
  'replay',
  // Issue 18: membership cycles (sim/membership.ts), the leader's removal among them.
  'membership',
];

describe(`the default mix (seed ${seed})`, () => {
  it('gives every rare fault kind a weight', () => {
    for (const kind of rareKinds) expect(defaultShape.faultWeights[kind] ?? 0, kind).toBeGreaterThan(0);
  });

  it('draws each of them, with holds of seconds, long pauses and slowed leader clocks, in 300 scenarios', () => {
    const faults: Fault[] = fc
      .sample(scenarioArb(defaultSimOptions), { seed, numRuns: 300 })
      .flatMap((scenario) => scenario.faults.map((f) => f.fault));
    const seen = new Set(faults.map((f) => f.kind));
    for (const kind of rareKinds) expect(seen.has(kind), `${kind} never drawn (seed ${seed})`).toBe(true);
    const longHolds = faults.filter((f) => (f.kind === 'hold' || f.kind === 'hold_leader') && f.holdMs >= 2000);
    expect(longHolds.length, `holds of 2 s or more (seed ${seed})`).toBeGreaterThan(0);
    const longPauses = faults.filter((f) => (f.kind === 'pause' || f.kind === 'pause_leader') && f.forMs >= 1000);
    expect(longPauses.length, `pauses of 1 s or more (seed ${seed})`).toBeGreaterThan(0);
    const slowedLeaders = faults.filter((f) => f.kind === 'clock_leader' && f.rate < 1);
    expect(slowedLeaders.length, `slowed leader clocks (seed ${seed})`).toBeGreaterThan(0);
    const leaderRemovals = faults.filter((f) => f.kind === 'membership' && f.node === null);
    expect(leaderRemovals.length, `membership cycles that remove the leader (seed ${seed})`).toBeGreaterThan(0);
  });
});
