/**
 * The simulated client (sim/client.ts) on the real node: while a node is
 * suspected it asks the others to hold an attempt until they know another
 * leader (node/held-requests.ts, `clientAwaitsLeader`), as the real client
 * does. After a leader crash the first operation completes sooner than when
 * it polls with backoff, and every check still passes.
 *
 * Seeds: fixed (printed in the test name); replay one with
 * `npm run sim -- --seed <seed>` and the options below.
 */
import { describe, expect, it } from 'vitest';
import { describeViolations, judge } from '../../sim/property.js';
import { defaultSimOptions, type Scenario, type WorkloadOp } from '../../sim/scenario.js';

const crashAtMs = 1000;
const seeds = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];

function workload(clients: number, ops: number, thinkMs: number): WorkloadOp[][] {
  return Array.from({ length: clients }, (_, c) =>
    Array.from({ length: ops }, (_, i) => ({ f: 'write' as const, key: (i + c) % 3, thinkMs })),
  );
}

/** The outage a leader crash caused: the longest stretch without an ok completion in the second after it (simulated ms). */
async function outageMs(seed: number, clientAwaitsLeader: boolean): Promise<number> {
  const scenario: Scenario = { seed, faults: [{ atMs: crashAtMs, fault: { kind: 'crash_leader' } }], clients: workload(4, 60, 20) };
  // Attempts of 50 ms, as the cluster bench's writer (bench/cluster.ts): with the default 250 ms a client is still
  // waiting on the dead leader when the new one is elected, and nothing is held.
  const judged = await judge(scenario, { ...defaultSimOptions, clientAwaitsLeader, clientAttemptTimeoutMs: 50 });
  expect(judged.violations, `seed ${seed}: ${describeViolations(judged.violations)}`).toEqual([]);
  expect(judged.check?.valid, `seed ${seed}`).toBe(true);
  expect(judged.sim.stats.crashes, `seed ${seed}`).toBe(1);
  const okMs = judged.sim.history
    .filter((op) => op.type === 'ok')
    .map((op) => op.time! / 1e6)
    .filter((t) => t >= crashAtMs - 100 && t <= crashAtMs + 1000);
  let longest = 0;
  for (let i = 1; i < okMs.length; i++) longest = Math.max(longest, okMs[i]! - okMs[i - 1]!);
  expect(longest, `seed ${seed}: no outage after the crash`).toBeGreaterThan(100);
  return longest;
}

describe('clients that ask to wait for a leader (sim/client.ts, node/held-requests.ts)', () => {
  it(`complete their first operation after a leader crash sooner than by polling (seeds ${seeds.join(',')})`, async () => {
    const polling: number[] = [];
    const waiting: number[] = [];
    for (const seed of seeds) {
      polling.push(await outageMs(seed, false));
      waiting.push(await outageMs(seed, true));
    }
    const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);
    const line = `outage ms, polling: ${polling.map((x) => x.toFixed(0)).join(' ')}; waiting: ${waiting.map((x) => x.toFixed(0)).join(' ')}`;
    console.log(line);
    expect(sum(waiting), line).toBeLessThan(sum(polling));
  });
});
