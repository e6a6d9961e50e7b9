/**
 * The simulator's disk faults on the real storage: a bit flip in the last
 * durable frame before a restart (issue 15 defect 3) and a follower whose
 * disk loses its tail (defect 4, outside the fault model: presets only).
 * Each is found with its unsafe flag and shows nothing on the correct node.
 *
 * Seeds: fixed (measured), or RIFT_SIM_SEED for all; replay a failure with
 * `npm run sim -- --seed S --path P --unsafe F`.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { noUnsafeFlags } from '../../node/unsafe-flags.js';
import { campaign, describeViolations, judge } from '../../sim/property.js';
import { defaultSimOptions, type Scenario, type WorkloadOp } from '../../sim/scenario.js';
import { unsafePresets } from '../../sim/unsafe.js';

const override = process.env['RIFT_SIM_SEED'] === undefined ? null : Number(process.env['RIFT_SIM_SEED']);
const here = dirname(fileURLToPath(import.meta.url));

function workload(clients: number, ops: number, thinkMs: number): WorkloadOp[][] {
  const fs = ['write', 'read', 'cas'] as const;
  return Array.from({ length: clients }, (_, c) =>
    Array.from({ length: ops }, (_, i) => ({ f: fs[(i + c) % 3]!, key: (i + c) % 3, thinkMs })),
  );
}

describe('disk faults in the simulator', () => {
  it('a flipped bit in the last durable frame: the correct node refuses to start, is repaired at the heal, and the run stays valid', async () => {
    const scenario: Scenario = {
      seed: 5,
      faults: [
        { atMs: 1000, fault: { kind: 'corrupt_last_frame', node: 1 } },
        { atMs: 1500, fault: { kind: 'corrupt_last_frame', node: 3 } },
      ],
      clients: workload(3, 20, 80),
    };
    const judged = await judge(scenario, { ...defaultSimOptions, traceLines: true });
    expect(judged.violations, describeViolations(judged.violations)).toEqual([]);
    expect(judged.check?.valid).toBe(true);
    expect(judged.sim.stats.storageRefusals).toBe(2);
    const trace = judged.sim.trace.join('\n');
    expect(trace).toMatch(/n2 refuses to start: storage corruption .* the last frame is damaged/);
    expect(trace).toMatch(/n2 disk repaired \(injected bit flips undone\)/);
    expect(trace).toMatch(/n2 starts \(incarnation \d+, term [1-9]/);
  });

  // Found on the correct node by a hunt (2026-12-07, `npm run sim -- --runs 2000 --seed 71216 --faults-of
  // torn-tail-dropped`, run 1,126; the scenario is kept as data): n2 had fsynced its vote for itself in term 2 and
  // led, when a power failure tore its next append after 2 bytes and flipped bit 6 of byte 1 of the vote frame's
  // length (16 became 16400). Recovery read the frame as one cut short by the end of the file, checked a checksum
  // only over the 18 bytes present, and dropped it as torn: n2 restarted in term 1, free to vote again in term 2.
  // It now looks for any length that makes the frame whole (node/storage/replay.ts wholeFrameLength) and refuses.
  it('a flipped length bit in the durable frame before a torn append: the correct node refuses to start (kept scenario)', async () => {
    const scenario = JSON.parse(readFileSync(join(here, 'testdata', 'torn-append-beside-flipped-length.json'), 'utf8')) as Scenario;
    const preset = unsafePresets['torn-tail-dropped']!;
    const judged = await judge(scenario, { ...preset.options, unsafe: noUnsafeFlags, traceLines: true });
    expect(judged.violations, describeViolations(judged.violations)).toEqual([]);
    const trace = judged.sim.trace.join('\n');
    expect(trace).toMatch(/n2 crashes \(unsynced writes: torn\)/);
    expect(trace).toMatch(/n2 refuses to start: .*whole with a damaged length field \(read as 16 payload bytes .*; 2 bytes follow it\)/);
  });

  // The same flaw's other half (fixed in fad34cb, found then only by replay.test.ts): a sector's share of a frame
  // that reads as all zeros was taken for a write lost in a power failure, even in a complete frame where one
  // flipped bit explains the checksum. With a real disk's 512-byte sectors a share is zero by nature about once in
  // 512 frames of some kinds, so no simulator run met it; with 4-byte sectors (--sector-bytes 4) it is common, and
  // with the one-flip test disabled a hunt of the torn-tail-dropped mix finds it within 18-108 runs (seeds
  // 73011-73013; kept: seed 73012, shrunk): n1 restarted in term 1 after sending messages in term 2.
  it("a flipped bit in a durable frame with a sector's share zero by nature: the correct node refuses to start (kept scenario, 4-byte sectors)", async () => {
    const scenario = JSON.parse(readFileSync(join(here, 'testdata', 'flip-beside-zero-share.json'), 'utf8')) as Scenario;
    const preset = unsafePresets['torn-tail-dropped']!;
    const judged = await judge(scenario, { ...preset.options, unsafe: noUnsafeFlags, sectorBytes: 4, traceLines: true });
    expect(judged.violations, describeViolations(judged.violations)).toEqual([]);
    const trace = judged.sim.trace.join('\n');
    expect(trace).toMatch(/n1 power failure; a bit of its last durable frame flipped/);
    expect(trace).toMatch(
      /n1 refuses to start: .*one flipped bit explains its checksum \(bytes \d+\.\.\d+, a sector's share, are zeros, but not lost\)/,
    );
  });

  it('the correct node under the torn-tail-dropped mix with 4-byte sectors: no violation in 60 runs', async () => {
    const seed = override ?? 73020;
    const preset = unsafePresets['torn-tail-dropped']!;
    const result = await campaign(
      { ...preset.options, unsafe: noUnsafeFlags, sectorBytes: 4 },
      { numRuns: 60, seed, maxShrinks: 8, shape: preset.shape },
    );
    expect(
      result.failed,
      `replay: npm run sim -- --seed ${seed} --path ${result.path} --faults-of torn-tail-dropped --sector-bytes 4`,
    ).toBe(false);
  });

  it('an aimed corrupt_last_frame waits for an append in flight, so the power failure tears it', async () => {
    const scenario: Scenario = {
      seed: 11,
      faults: [{ atMs: 500, fault: { kind: 'corrupt_last_frame', node: 1, aimed: true } }],
      clients: workload(3, 100, 10),
    };
    const judged = await judge(scenario, { ...defaultSimOptions, traceLines: true });
    expect(judged.violations, describeViolations(judged.violations)).toEqual([]);
    const trace = judged.sim.trace.join('\n');
    const crash = /^ *([\d.]+) n2 crashes \(unsynced writes: (\w+)\)/m.exec(trace);
    expect(crash, 'n2 crashed').not.toBeNull();
    expect(crash![2], 'something was in flight when the power failed').not.toBe('none');
    // Within the bound, and before it: it caught an append, the deadline did not force it.
    expect(Number(crash![1])).toBeGreaterThanOrEqual(500);
    expect(Number(crash![1])).toBeLessThan(500 + defaultSimOptions.electionTimeoutMsMax);
    expect(trace).toMatch(/n2 refuses to start/);
  });

  // torn-tail-dropped re-measured when leaders began to send commit notices at
  // their next tick (node/raft/types.ts commitNoticeAtTick): seeds 1-10 found
  // after 6/>10/>10/>10/1/>10/3/>10/>10/9 runs (seed 4, used before, had 3).
  for (const [flag, measuredSeed, maxRuns] of [
    ['torn-tail-dropped', 5, 10],
    ['ignore-lost-follower-log', 1, 10],
  ] as const) {
    const seed = override ?? measuredSeed;
    it(`--unsafe-${flag} is found within ${maxRuns} runs (seed ${seed}), and the same faults on the correct node show nothing in 20 runs`, async () => {
      const preset = unsafePresets[flag]!;
      const found = await campaign(preset.options, { numRuns: maxRuns, seed, maxShrinks: 8, shape: preset.shape });
      expect(found.failed, `no violation within ${maxRuns} runs (seed ${seed})`).toBe(true);
      const replay = await campaign(preset.options, {
        numRuns: 1,
        seed: found.seed,
        path: found.path!,
        maxShrinks: 0,
        shape: preset.shape,
      });
      expect(replay.failed, `replay of seed ${found.seed} path ${found.path} passed`).toBe(true);
      process.stdout.write(
        `${flag}: found after ${found.runsToFailure} run(s); shrunk to ${found.counterexample?.faults.length} fault(s)\n`,
      );

      const correct = await campaign(
        { ...preset.options, unsafe: noUnsafeFlags },
        { numRuns: 20, seed, maxShrinks: 5, shape: preset.shape },
      );
      if (correct.failed)
        throw new Error(`false positive on the correct node: seed ${correct.seed} path ${correct.path}\n${correct.report}`);
      expect(correct.runs).toBe(20);
    });
  }
});
