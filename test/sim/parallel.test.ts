/**
 * Parallel campaigns: the seed and run split (pure), and `npm run sim` with
 * worker threads against the built CLI (workers load dist/ files). A failure
 * found by any worker must replay in one thread from the seed and path it
 * prints. RIFT_SIM_SEED overrides the campaign seed.
 */
import { EXIT } from '../../checker/exit-codes.js';
import { execa } from 'execa';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { splitRuns, workerSeed } from '../../sim/parallel.js';
import { repoRoot } from '../support/build.js';

const cli = join(repoRoot, 'dist', 'sim', 'cli.js');
const seed = process.env['RIFT_SIM_SEED'] === undefined ? 1 : Number(process.env['RIFT_SIM_SEED']);

// Counterexamples go to a temp directory: tests never write into the repository.
const out = mkdtempSync(join(tmpdir(), 'rift-sim-parallel-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

async function sim(args: string[]): Promise<{ exitCode: number; stdout: string }> {
  const r = await execa(process.execPath, [cli, ...args, '--out', out], { reject: false, timeout: 120_000 });
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout) };
}

describe('parallel campaign plan', () => {
  it('worker 0 keeps the campaign seed; the others get distinct seeds', () => {
    expect(workerSeed(12345, 0)).toBe(12345);
    const seeds = new Set(Array.from({ length: 8 }, (_, w) => workerSeed(12345, w)));
    expect(seeds.size).toBe(8);
    for (const s of seeds) expect(Number.isInteger(s) && s >= 0 && s <= 0xffffffff).toBe(true);
  });

  it('splits runs evenly and loses none', () => {
    for (const [runs, workers] of [
      [10, 3],
      [1, 4],
      [0, 2],
      [100, 8],
      [7, 7],
    ] as const) {
      const split = splitRuns(runs, workers);
      expect(split).toHaveLength(workers);
      expect(split.reduce((a, b) => a + b, 0)).toBe(runs);
      expect(Math.max(...split) - Math.min(...split)).toBeLessThanOrEqual(1);
    }
  });
});

describe('npm run sim --workers', () => {
  it(`runs every run across the workers and reports both speeds (seed ${seed})`, async () => {
    const r = await sim(['--runs', '6', '--workers', '2', '--seed', String(seed)]);
    expect(r.exitCode, r.stdout).toBe(0);
    expect(r.stdout).toContain('2 worker threads');
    expect(r.stdout).toMatch(/campaign: 6 runs \(\+0 shrinking runs\) on 2 thread\(s\)/);
    expect(r.stdout).toMatch(/speed: \d+x real time per thread .*; \d+x for the whole campaign/);
    expect(r.stdout.match(/^run +\d+: /gm)).toHaveLength(6);
  });

  it(`a failure found in a worker is shrunk and replays in one thread (local-reads, seed ${seed})`, async () => {
    const r = await sim([
      '--runs',
      '40',
      '--workers',
      '2',
      '--seed',
      String(seed),
      '--unsafe',
      'local-reads',
      '--max-shrinks',
      '10',
      '--quiet',
    ]);
    expect(r.exitCode, r.stdout).toBe(1);
    const found = /seed (\d+) path (\d+(?::\d+)*)/.exec(r.stdout);
    expect(found, r.stdout).not.toBeNull();
    const replay = await sim(['--seed', found![1]!, '--path', found![2]!, '--unsafe', 'local-reads', '--quiet']);
    expect(replay.exitCode, replay.stdout).toBe(1);
    expect(replay.stdout).toContain('VIOLATION');
    // The counterexample's files went to the test's temp directory, not into the repository.
    expect(readdirSync(out).length).toBeGreaterThan(0);
  });

  it('refuses --workers with a replay path, and a bad worker count', async () => {
    expect((await sim(['--seed', '1', '--path', '0', '--workers', '2'])).exitCode).toBe(EXIT.usage);
    expect((await sim(['--workers', '0'])).exitCode).toBe(EXIT.usage);
  });
});

describe('npm run sim --read-mode', () => {
  it(`runs the correct core with lease reads (seed ${seed}), and refuses a mode it does not know`, async () => {
    const r = await sim(['--runs', '4', '--workers', '2', '--seed', String(seed), '--read-mode', 'lease']);
    expect(r.exitCode, r.stdout).toBe(0);
    expect(r.stdout).toMatch(/^rift-sim: campaign of 4 runs, 5 nodes, 2 worker threads, read mode lease\n/);
    expect(r.stdout).toContain(`no violation found (seed ${seed})`);
    const plain = await sim(['--runs', '1', '--workers', '1', '--seed', String(seed)]);
    expect(plain.stdout).toMatch(/read mode readindex/);
    const bad = await execa(process.execPath, [cli, '--read-mode', 'quorum'], { reject: false, timeout: 60_000 });
    expect(bad.exitCode).toBe(EXIT.usage);
    expect(String(bad.stderr)).toContain('--read-mode must be readindex or lease, got "quorum"');
  });
});
