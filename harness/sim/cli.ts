/**
 * `npm run sim` — deterministic simulation campaigns.
 *
 *   npm run sim -- --runs 200                  a campaign of 200 random scenarios
 *   npm run sim -- --runs 50 --unsafe local-reads
 *   npm run sim -- --seed S --path P [--unsafe F]   replay a (shrunk) counterexample
 *
 * A failure is shrunk, printed with its seed and path and a replay command,
 * and its history, trace and scenario are written under histories/sim/.
 * Every campaign ends with its size and speed (simulated seconds per wall
 * second). Exit codes: 0 no violation, 1 violation found, 2 bad arguments.
 */
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { writeArtifacts } from './artifacts.js';
import { defaultShape } from './arbitraries.js';
import { campaign, describeViolations, type CampaignResult } from './property.js';
import { defaultSimOptions, type SimOptions } from './scenario.js';
import { unsafePreset, unsafePresets } from './unsafe.js';

const USAGE = `usage: npm run sim -- [--runs N] [--seed S] [--path P] [--unsafe FLAG] [--nodes N]
                    [--max-shrinks N] [--out DIR] [--quiet]

  --runs N         scenarios to run (default 100; a replay with --path runs 1)
  --seed S         fast-check seed (default: random, printed)
  --path P         counterexample path printed by a failing campaign (replay)
  --unsafe FLAG    run with an unsafe node flag: ${Object.keys(unsafePresets).join(', ')}
  --nodes N        cluster size (default 5; unsafe presets may set their own)
  --max-shrinks N  bound on shrinking runs (default 200)
  --out DIR        where failure artefacts go (default histories/sim)
  --quiet          no per-run progress`;

function fail(message: string): never {
  process.stderr.write(`rift-sim: ${message}\n${USAGE}\n`);
  process.exit(2);
}

function intArg(value: string | undefined, name: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min || n > max) fail(`${name} must be an integer in [${min}, ${max}], got ${JSON.stringify(value)}`);
  return n;
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        runs: { type: 'string' },
        seed: { type: 'string' },
        path: { type: 'string' },
        unsafe: { type: 'string' },
        nodes: { type: 'string' },
        'max-shrinks': { type: 'string' },
        out: { type: 'string' },
        quiet: { type: 'boolean' },
        help: { type: 'boolean' },
      },
      strict: true,
    }));
  } catch (error) {
    fail((error as Error).message);
  }
  if (values.help === true) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const preset = values.unsafe === undefined ? null : unsafePreset(values.unsafe);
  if (values.unsafe !== undefined && preset === null) fail(`unknown unsafe flag ${JSON.stringify(values.unsafe)}`);
  const seed = intArg(values.seed, '--seed', -0x80000000, 0xffffffff);
  if (values.path !== undefined && !/^\d+(:\d+)*$/.test(values.path)) fail(`--path must look like 12:0:3, got ${JSON.stringify(values.path)}`);
  if (values.path !== undefined && seed === undefined) fail('--path needs the --seed it was printed with');
  const runs = intArg(values.runs, '--runs', 1, 1_000_000) ?? (values.path !== undefined ? 1 : 100);
  const nodes = intArg(values.nodes, '--nodes', 1, 9);
  const maxShrinks = intArg(values['max-shrinks'], '--max-shrinks', 0, 100_000) ?? 200;
  const outDir = values.out ?? join('histories', 'sim');
  let options: SimOptions = preset?.options ?? defaultSimOptions;
  if (nodes !== undefined) options = { ...options, nodeCount: nodes };
  const shape = preset?.shape ?? defaultShape;
  const quiet = values.quiet === true;

  process.stdout.write(
    `rift-sim: ${values.path !== undefined ? 'replaying' : `campaign of ${runs} runs`}, ${options.nodeCount} nodes` +
      `${preset === null ? '' : `, unsafe ${preset.name} (${preset.description})`}\n`,
  );
  const result: CampaignResult = await campaign(options, {
    numRuns: runs,
    ...(seed === undefined ? {} : { seed }),
    ...(values.path === undefined ? {} : { path: values.path }),
    maxShrinks,
    shape,
    onRun: (judged, run) => {
      if (quiet) return;
      const s = judged.sim.stats;
      process.stdout.write(
        `run ${String(run).padStart(4)}: seed ${judged.sim.seed} ${(s.simMs / 1000).toFixed(1)} sim-s, ${s.events} events, ` +
          `ops ok/fail/info ${s.opsOk}/${s.opsFail}/${s.opsInfo}, terms ${s.leaderTerms}, crashes ${s.crashes}` +
          `${judged.violations.length > 0 ? `, VIOLATION: ${judged.violations[0]!.message.slice(0, 160)}` : ''}\n`,
      );
    },
  });

  const t = result.totals;
  const speed = t.wallMs > 0 ? t.simMs / t.wallMs : 0;
  process.stdout.write(
    `\ncampaign: ${result.runs} runs (+${result.shrinks} shrinking runs), ${(t.simMs / 1000).toFixed(1)} simulated s in ${(t.wallMs / 1000).toFixed(1)} wall s ` +
      `(simulation only) = ${speed.toFixed(0)}x real time; ${t.events} events; ops ok ${t.opsOk}, fail ${t.opsFail}, info ${t.opsInfo}; ` +
      `crashes ${t.crashes}; leader terms ${t.leaderTerms}; checker unknown ${t.checkerUnknown}\n`,
  );
  if (!result.failed) {
    process.stdout.write(`no violation found (seed ${result.seed})\n`);
    return;
  }
  process.stdout.write(`\nVIOLATION after ${result.runsToFailure ?? '?'} run(s); shrunk with ${result.shrinks} runs.\n`);
  process.stdout.write(`seed ${result.seed} path ${result.path ?? '-'}\n`);
  if (result.counterexample !== null) {
    const info = await writeArtifacts(outDir, result.counterexample, options, {
      seed: result.seed,
      path: result.path,
      unsafeName: preset?.name ?? null,
      extraArgs: nodes === undefined ? [] : ['--nodes', String(nodes)],
    });
    process.stdout.write(`minimal scenario: ${result.counterexample.faults.length} fault(s), ${result.counterexample.clients.reduce((a, c) => a + c.length, 0)} op(s)\n`);
    process.stdout.write(`violations:\n${describeViolations(info.judged.violations)}\n`);
    process.stdout.write(`artefacts: ${info.dir}/ (history.jsonl, trace.log, scenario.json, summary.txt)\n`);
    process.stdout.write(`replay: ${info.replay}\n`);
  }
  process.exitCode = 1;
}

main().catch((error: unknown) => {
  process.stderr.write(`rift-sim: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
