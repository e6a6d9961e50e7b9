/**
 * `npm run bench -- sim [--runs N] [--seed S] [--workers 1,2]`: the
 * simulator's speed, in simulated seconds per wall-clock second, for the
 * default campaign (5 nodes, fault schedules and workloads from fast-check),
 * measured side by side in one run: with the V8 flags `npm run sim` uses and
 * without them, on one worker thread and on several.
 *
 * Each configuration is a real `rift-sim` process (`node [flags]
 * dist/sim/cli.js --quiet ...`), so the figures are what
 * `npm run sim` prints: "per thread" counts simulation time only, "whole
 * campaign" is wall time with scenario generation and the linearizability
 * checker included. Every configuration runs the same seed and run count.
 */
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { SIM_V8_FLAGS } from '../sim/node-flags.js';

const cli = fileURLToPath(new URL('../sim/cli.js', import.meta.url));

interface Figures {
  readonly simS: number;
  readonly events: number;
  readonly perThread: number;
  readonly threadS: number;
  readonly whole: number;
  readonly wallS: number;
}

function parse(out: string): Figures | null {
  const campaign = /campaign: \d+ runs .*?, ([\d.]+) simulated s; (\d+) events/.exec(out);
  const speed =
    /speed: (\d+)x real time per thread \(simulation only: [\d.]+ sim-s in ([\d.]+) thread-s\); (\d+)x for the whole campaign \(([\d.]+) wall s/.exec(
      out,
    );
  if (campaign === null || speed === null) return null;
  return {
    simS: Number(campaign[1]),
    events: Number(campaign[2]),
    perThread: Number(speed[1]),
    threadS: Number(speed[2]),
    whole: Number(speed[3]),
    wallS: Number(speed[4]),
  };
}

export async function runSimBench(args: string[]): Promise<void> {
  const cores = Math.min(availableParallelism(), 8);
  const { values } = parseArgs({
    args,
    strict: true,
    allowPositionals: false,
    options: {
      runs: { type: 'string', default: '2000' },
      seed: { type: 'string', default: '5' },
      workers: { type: 'string', default: cores > 1 ? `1,${cores}` : '1' },
    },
  });
  const runs = Number(values.runs);
  const seed = Number(values.seed);
  const workerCounts = values.workers.split(',').map(Number);
  if (!Number.isInteger(runs) || runs < 10) throw new Error(`--runs must be an integer >= 10, got ${runs}`);
  if (!Number.isInteger(seed)) throw new Error(`--seed must be an integer, got ${seed}`);
  if (workerCounts.some((w) => !Number.isInteger(w) || w < 1 || w > 64))
    throw new Error('--workers must be a comma-separated list of integers in 1..64');

  process.stdout.write(`sim: default campaign, ${runs} runs, seed ${seed}, 5 nodes; ${availableParallelism()} cores\n\n`);
  process.stdout.write(
    '| V8 flags | workers | simulated s | events | x per thread | thread s | x whole campaign | wall s |\n|---|---:|---:|---:|---:|---:|---:|---:|\n',
  );
  const configs = [
    { name: SIM_V8_FLAGS.join(' '), flags: SIM_V8_FLAGS },
    { name: '(none)', flags: [] as readonly string[] },
  ];
  for (const workers of workerCounts) {
    for (const config of configs) {
      const child = spawnSync(
        process.execPath,
        [...config.flags, cli, '--runs', String(runs), '--seed', String(seed), '--workers', String(workers), '--quiet'],
        {
          encoding: 'utf8',
          maxBuffer: 64 * 1024 * 1024,
        },
      );
      const figures = parse(child.stdout ?? '');
      if (child.status !== 0 || figures === null) {
        throw new Error(
          `rift-sim (${config.name}, ${workers} workers) exited ${String(child.status)}: ${(child.stderr ?? '').slice(0, 2000)}${(child.stdout ?? '').slice(-2000)}`,
        );
      }
      process.stdout.write(
        `| ${config.name} | ${workers} | ${figures.simS.toFixed(1)} | ${figures.events} | ${figures.perThread} | ${figures.threadS.toFixed(1)} | ${figures.whole} | ${figures.wallS.toFixed(1)} |\n`,
      );
    }
  }
  await Promise.resolve();
}
