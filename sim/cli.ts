/**
 * `npm run sim` — deterministic simulation campaigns.
 *
 *   npm run sim -- --runs 200                  a campaign of 200 random scenarios
 *   npm run sim -- --runs 50 --unsafe local-reads
 *   npm run sim -- --runs 1500 --faults-of keep-log-on-install   the correct node under that flag's fault mix
 *   npm run sim -- --seed S --path P [--unsafe F]   replay a (shrunk) counterexample
 *   npm run sim -- --replay FILE               replay a model-checker trace (sim/stepped/)
 *
 * A failure is shrunk, printed with its seed and path and a replay command,
 * and its history, trace and scenario are written under histories/sim/.
 * Every campaign ends with its size and speed (simulated seconds per wall
 * second). Exit codes (checker/exit-codes.ts): 0 no violation, 1 violation
 * found, 254 bad arguments, 255 internal error.
 */
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { EXIT } from '../checker/exit-codes.js';
import { writeArtifacts } from './artifacts.js';
import { defaultShape } from './arbitraries.js';
import { parallelCampaign } from './parallel.js';
import { campaign, describeViolations, type CampaignResult } from './property.js';
import { runReplay } from './stepped/replay-cli.js';
import { defaultSimOptions, type SimOptions } from './scenario.js';
import { correctUnder, leaseSafeClockRates, unsafePreset, unsafePresets } from './unsafe.js';
import { keepRunningWhenReaderCloses } from '../node/util/closed-pipe.js';
import { defaultStreamerOptions } from '../node/snapshot/streamer.js';

const USAGE = `usage: npm run sim -- [--runs N] [--seed S] [--path P] [--unsafe FLAG | --faults-of FLAG] [--nodes N] [--read-mode M]
                    [--snapshot-every-entries N] [--snapshot-chunk-bytes B] [--sector-bytes B] [--large-values]
                    [--max-sessions N] [--open-sessions] [--disk-errors]
                    [--workers N] [--max-shrinks N]
                    [--out DIR] [--quiet]
       npm run sim -- --replay FILE [--quiet]

  --runs N         scenarios to run (default 100; a replay with --path runs 1)
  --workers N      worker threads sharing the runs (default: one per core, at most 8;
                   1 runs in this thread; a replay always uses 1)
  --seed S         fast-check seed (default: random, printed)
  --path P         counterexample path printed by a failing campaign (replay)
  --unsafe FLAG    run with an unsafe node flag: ${Object.keys(unsafePresets).join(', ')}
  --faults-of FLAG the correct node under that flag's preset (its options and fault mix, the
                   flag off): a mix aimed at one kind of bug, for hunting real ones; refused
                   for a preset whose faults break the node's assumptions (clocks beyond the
                   drift bound)
  --nodes N        cluster size (default 5; unsafe presets may set their own)
  --read-mode M    readindex (default) or lease: how the nodes serve linearizable reads
                   (lease: on the leader's lease, thesis §6.4.1, with the clocks drifting
                   within the configured bound; presets of the lease flags set lease)
  --snapshot-every-entries N
                   the nodes snapshot and compact every N entries (default: the node's,
                   10,000, which no run reaches; small values exercise snapshots,
                   compaction and InstallSnapshot; presets may set their own)
  --snapshot-chunk-bytes B
                   InstallSnapshot streams in chunks of B bytes (default: the node's,
                   60 KiB, which every simulated snapshot fits in one of; small values
                   make streams of many chunks for the network to lose, repeat and reorder,
                   and add kill_in_stream to the mix: a node killed right after it staged a
                   stream's k-th chunk)
  --sector-bytes B the simulated disks' sector (default a real disk's 512; 1-65536): small
                   sectors (4, 16) make parts of frames that read as all zeros by nature
                   common, which recovery must not take for a lost write when a bit of a
                   durable frame flips
  --large-values   clients write most values padded to the nodes' value limit with characters
                   whose stored form is larger (control characters, quotes): log entries,
                   AppendEntries and snapshots near their size limits
  --max-sessions N the nodes' session table bound (default the node's, 10,000, which no run
                   fills): a bound below the number of clients evicts sessions while their
                   owners still retry
  --open-sessions  clients open each session before their first write and send writes as
                   \`existing\`, as node/client.ts does (a write retried after its session's
                   eviction is refused as session_expired); default: sessions open implicitly
  --disk-errors    every mix also draws io_error faults: a file-system call (write, fsync,
                   rename, open, directory fsync) fails with ENOSPC, EIO or EROFS; the node
                   must stop, and after its restart no acknowledged write may be lost
  --max-shrinks N  bound on shrinking runs (default 200)
  --out DIR        where failure artefacts go (default histories/sim)
  --quiet          no per-run progress
  --replay FILE    replay a stepped trace (a model checker's counterexample, npm run mc)
                   event by event and judge it; exit 1 if it still violates a property`;

function fail(message: string): never {
  process.stderr.write(`rift-sim: ${message}\n${USAGE}\n`);
  process.exit(EXIT.usage);
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
        'faults-of': { type: 'string' },
        nodes: { type: 'string' },
        'read-mode': { type: 'string' },
        'snapshot-every-entries': { type: 'string' },
        'sector-bytes': { type: 'string' },
        'large-values': { type: 'boolean' },
        'max-sessions': { type: 'string' },
        'open-sessions': { type: 'boolean' },
        'disk-errors': { type: 'boolean' },
        'snapshot-chunk-bytes': { type: 'string' },
        workers: { type: 'string' },
        'max-shrinks': { type: 'string' },
        out: { type: 'string' },
        quiet: { type: 'boolean' },
        replay: { type: 'string' },
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
  if (values.replay !== undefined) {
    runReplay(values.replay, values.quiet === true);
    return;
  }
  if (values.unsafe !== undefined && values['faults-of'] !== undefined) fail('--unsafe and --faults-of: pick one');
  const preset = values.unsafe === undefined ? null : unsafePreset(values.unsafe);
  if (values.unsafe !== undefined && preset === null) fail(`unknown unsafe flag ${JSON.stringify(values.unsafe)}`);
  const mixOf = values['faults-of'] === undefined ? null : unsafePreset(values['faults-of']);
  if (values['faults-of'] !== undefined && mixOf === null) fail(`unknown unsafe flag ${JSON.stringify(values['faults-of'])}`);
  const mix = mixOf === null ? null : correctUnder(mixOf);
  if (mix !== null && 'refused' in mix) fail(`--faults-of ${mixOf!.name}: ${mix.refused}`);
  const seed = intArg(values.seed, '--seed', -0x80000000, 0xffffffff);
  if (values.path !== undefined && !/^\d+(:\d+)*$/.test(values.path))
    fail(`--path must look like 12:0:3, got ${JSON.stringify(values.path)}`);
  if (values.path !== undefined && seed === undefined) fail('--path needs the --seed it was printed with');
  const runs = intArg(values.runs, '--runs', 1, 1_000_000) ?? (values.path !== undefined ? 1 : 100);
  const nodes = intArg(values.nodes, '--nodes', 1, 9);
  const maxShrinks = intArg(values['max-shrinks'], '--max-shrinks', 0, 100_000) ?? 200;
  const workersArg = intArg(values.workers, '--workers', 1, 64);
  if (workersArg !== undefined && workersArg > 1 && values.path !== undefined) fail('a replay (--path) runs in one thread: drop --workers');
  const workers = values.path !== undefined ? 1 : Math.min(workersArg ?? Math.min(availableParallelism(), 8), runs);
  const outDir = values.out ?? join('histories', 'sim');
  let options: SimOptions = preset?.options ?? mix?.options ?? defaultSimOptions;
  if (nodes !== undefined) options = { ...options, nodeCount: nodes };
  const readMode = values['read-mode'];
  if (readMode !== undefined && readMode !== 'readindex' && readMode !== 'lease')
    fail(`--read-mode must be readindex or lease, got ${JSON.stringify(readMode)}`);
  if (readMode !== undefined) options = { ...options, readMode };
  const snapshotEvery = intArg(values['snapshot-every-entries'], '--snapshot-every-entries', 1, 1_000_000_000);
  if (snapshotEvery !== undefined)
    options = { ...options, snapshotEveryEntries: snapshotEvery, snapshotTrailingEntries: Math.min(5, snapshotEvery) };
  const chunkBytes = intArg(values['snapshot-chunk-bytes'], '--snapshot-chunk-bytes', 1, defaultStreamerOptions.chunkBytes);
  if (chunkBytes !== undefined) options = { ...options, snapshotChunkBytes: chunkBytes };
  const sectorBytes = intArg(values['sector-bytes'], '--sector-bytes', 1, 65_536);
  if (sectorBytes !== undefined) options = { ...options, sectorBytes };
  const largeValuesOn = values['large-values'] === true;
  if (largeValuesOn) options = { ...options, largeValues: true };
  const maxSessions = intArg(values['max-sessions'], '--max-sessions', 1, 1_000_000);
  if (maxSessions !== undefined) options = { ...options, maxSessions };
  const openSessions = values['open-sessions'] === true;
  if (openSessions) options = { ...options, clientOpensSessions: true };
  const diskErrorsOn = values['disk-errors'] === true;
  if (diskErrorsOn) options = { ...options, diskErrors: true };
  // The default mix's clock rates (0.5-2x) break the lease's assumption (clocks within clockDriftBound of each
  // other): a correct-core lease campaign keeps its clock faults within it, as the lease flags' presets do.
  const shape =
    preset?.shape ?? mixOf?.shape ?? (options.readMode === 'lease' ? { ...defaultShape, clockRates: leaseSafeClockRates } : defaultShape);
  const quiet = values.quiet === true;

  process.stdout.write(
    `rift-sim: ${values.path !== undefined ? 'replaying' : `campaign of ${runs} runs`}, ${options.nodeCount} nodes` +
      `${workers > 1 ? `, ${workers} worker threads` : ''}` +
      `, read mode ${options.readMode}${options.sectorBytes === undefined ? '' : `, ${options.sectorBytes}-byte sectors`}${options.largeValues === true ? ', large values' : ''}${options.maxSessions === undefined ? '' : `, sessions bounded at ${options.maxSessions}`}${openSessions ? ', clients open sessions' : ''}${diskErrorsOn ? ', disk errors' : ''}${preset === null ? '' : `, unsafe ${preset.name} (${preset.description})`}` +
      `${mixOf === null ? '' : `, the correct node under the faults of ${mixOf.name}`}\n`,
  );
  const progress = (
    r: {
      seed: number;
      simMs: number;
      events: number;
      opsOk: number;
      opsFail: number;
      opsInfo: number;
      leaderTerms: number;
      crashes: number;
    },
    run: number,
    violation: string | null,
  ): void => {
    if (quiet) return;
    process.stdout.write(
      `run ${String(run).padStart(4)}: seed ${r.seed} ${(r.simMs / 1000).toFixed(1)} sim-s, ${r.events} events, ` +
        `ops ok/fail/info ${r.opsOk}/${r.opsFail}/${r.opsInfo}, terms ${r.leaderTerms}, crashes ${r.crashes}` +
        `${violation !== null ? `, VIOLATION: ${violation.slice(0, 160)}` : ''}\n`,
    );
  };
  const started = performance.now();
  const campaignSeed = seed ?? (Date.now() ^ (process.pid << 8)) >>> 0;
  const result: CampaignResult =
    workers > 1
      ? await parallelCampaign(options, {
          workers,
          numRuns: runs,
          seed: campaignSeed,
          maxShrinks,
          shape,
          onRun: (r, _w, total) => progress(r, total, r.violation),
        })
      : await campaign(options, {
          numRuns: runs,
          seed: campaignSeed,
          ...(values.path === undefined ? {} : { path: values.path }),
          maxShrinks,
          shape,
          onRun: (judged, run) => progress({ ...judged.sim.stats, seed: judged.sim.seed }, run, judged.violations[0]?.message ?? null),
        });
  const elapsedMs = performance.now() - started;

  const t = result.totals;
  const perThread = t.wallMs > 0 ? t.simMs / t.wallMs : 0;
  const overall = elapsedMs > 0 ? t.simMs / elapsedMs : 0;
  process.stdout.write(
    `\ncampaign: ${result.runs} runs (+${result.shrinks} shrinking runs) on ${workers} thread(s), ${(t.simMs / 1000).toFixed(1)} simulated s; ` +
      `${t.events} events; ops ok ${t.opsOk}, fail ${t.opsFail}, info ${t.opsInfo}; crashes ${t.crashes}; leader terms ${t.leaderTerms}; checker unknown ${t.checkerUnknown}; snapshots taken ${t.snapshotsTaken}, installed ${t.snapshotsInstalled} (chunks ${t.snapshotChunks}, ${t.snapshotChunksPastFirst} past a stream's first; ${t.streamKills} kills inside a stream); membership cycles ${t.membershipCycles}` +
      (t.changeRaceEarlyRemovals + t.changeRaceRefusals > 0
        ? `; change races: the new leader's removal committed ${t.changeRaceEarlyRemovals}, refused ${t.changeRaceRefusals}`
        : '') +
      (t.ioFailures > 0 ? `; disk errors: ${t.ioFailures} calls failed, ${t.ioFailureStops} nodes stopped on one` : '') +
      (t.divergentOlderSnapshots + t.divergentSplits > 0
        ? `; divergent installs: ${t.divergentOlderSnapshots} snapshots below a minority tail's term, ${t.divergentSplits} lined up`
        : '') +
      '\n' +
      `speed: ${perThread.toFixed(0)}x real time per thread (simulation only: ${(t.simMs / 1000).toFixed(1)} sim-s in ${(t.wallMs / 1000).toFixed(1)} thread-s); ` +
      `${overall.toFixed(0)}x for the whole campaign (${(elapsedMs / 1000).toFixed(1)} wall s, checker, generation${result.failed ? ', shrinking' : ''} included)\n`,
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
      extraArgs: [
        ...(mixOf === null ? [] : ['--faults-of', mixOf.name]),
        ...(nodes === undefined ? [] : ['--nodes', String(nodes)]),
        ...(readMode === undefined ? [] : ['--read-mode', readMode]),
        ...(snapshotEvery === undefined ? [] : ['--snapshot-every-entries', String(snapshotEvery)]),
        ...(chunkBytes === undefined ? [] : ['--snapshot-chunk-bytes', String(chunkBytes)]),
        ...(sectorBytes === undefined ? [] : ['--sector-bytes', String(sectorBytes)]),
        ...(largeValuesOn ? ['--large-values'] : []),
        ...(maxSessions === undefined ? [] : ['--max-sessions', String(maxSessions)]),
        ...(openSessions ? ['--open-sessions'] : []),
        ...(diskErrorsOn ? ['--disk-errors'] : []),
      ],
    });
    process.stdout.write(
      `minimal scenario: ${result.counterexample.faults.length} fault(s), ${result.counterexample.clients.reduce((a, c) => a + c.length, 0)} op(s)\n`,
    );
    process.stdout.write(`violations:\n${describeViolations(info.judged.violations)}\n`);
    process.stdout.write(`artefacts: ${info.dir}/ (history.jsonl, trace.log, scenario.json, summary.txt)\n`);
    process.stdout.write(`replay: ${info.replay}\n`);
  }
  process.exitCode = EXIT.invalid;
}

keepRunningWhenReaderCloses();
main().catch((error: unknown) => {
  process.stderr.write(`rift-sim: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(EXIT.crash);
});
