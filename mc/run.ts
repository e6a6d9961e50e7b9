/**
 * One model-checking run, as `npm run mc` performs it (mc/cli.ts), callable
 * from tests and the benchmark.
 *
 * Prints the setting, a progress line every --progress-ms (states, states/s,
 * depth, queue, memory), and a final summary (distinct states, transitions,
 * maximum depth, time, whether the bounded space was exhausted). A violation
 * is printed as its numbered events with what each made the nodes send (the
 * core's transcript text), written as a stepped trace under --out, and
 * replayed at once by the simulator's replay to confirm it.
 */
import { replayTrace } from '../sim/stepped/replay.js';
import { describeEvent } from '../sim/stepped/trace.js';
import { assertNever } from '../node/util/assert.js';
import { noUnsafeFlags } from '../node/unsafe-flags.js';
import type { SplitMix32 } from '../node/raft/prng.js';
import { slowestTickSteps } from './clock.js';
import { dfs, iterativeDeepening } from './dfs.js';
import { CoveragePool } from './guided.js';
import { Model } from './model.js';
import { walks, type McOptions } from './options.js';
import { parallelBfs } from './parallel.js';
import { bfs, randomWalks, type SearchResult, type SearchStats } from './search.js';
import { counterexample, writeTrace } from './trace.js';
import { VisitedSet } from './visited.js';

export interface RunReport {
  readonly options: McOptions;
  readonly result: SearchResult;
  readonly traceFile: string | null;
  readonly replayConfirmed: boolean | null;
  /** With unsafe flags, a confirmed counterexample replayed without them: true when it then violates nothing (the flag's defect), false when the correct core violates too; null without flags or a confirmed replay. */
  readonly flagsNeeded: boolean | null;
  readonly counterexampleEvents: number | null;
  /** False when states within the bounds were left unexplored (the visited set filled up, or a network outgrew a state): no verdict. */
  readonly complete: boolean;
  /** CPU time of the whole process during the search (user + system, all threads), ms: on a shared machine, the fair measure of speed. */
  readonly cpuMs: number;
  /** Peak resident set size of the process at the end, bytes. */
  readonly peakRssBytes: number;
}

function describeBounds(o: McOptions): string {
  const b = o.bounds;
  return (
    `${b.nodes} nodes, terms<=${b.maxTerm}, log<=${b.maxLog}, in-flight<=${b.maxInFlight === 0 ? 'any' : b.maxInFlight}, ` +
    `${o.time === 'ticks' ? `time<=${b.maxTime} ticks (tick every ${o.tickSteps}..${slowestTickSteps(o.tickSteps, o.clockDriftBound)} steps)` : `${b.timeouts} timer firings per node`}, ` +
    `per ${o.faultBudgets === 'cluster' ? 'cluster' : 'node'}: crashes ${b.crashes}, drops ${b.drops}, dups ${b.dups}, pauses ${b.pauses}, disk faults ${b.diskFaults}, torn tails ${b.tornTails}; transfers ${b.transfers}, ` +
    `ops: ${b.writes} put / ${b.cas} cas / ${b.reads} read on ${b.keys} key(s), ${b.retries} retr${b.retries === 1 ? 'y' : 'ies'}` +
    `${b.maxDepth > 0 ? `, depth<=${b.maxDepth}` : ''}`
  );
}

function describeModel(o: McOptions): string {
  const unsafe = Object.entries(o.unsafe)
    .filter(([, v]) => v !== false && v !== null)
    .map(([k, v]) => (v === true ? k : `${k}=${String(v)}`));
  if (o.skipReadQuorum) unsafe.push('skipReadQuorum');
  return (
    `start ${o.start === 'empty' ? 'from empty disks' : 'with n1 leading term 1'}, time ${o.time}, ` +
    `election ${o.electionTicks} ticks, heartbeat ${o.heartbeatTicks}, read mode ${o.readMode}` +
    `${o.readMode === 'lease' ? ` (drift bound ${o.clockDriftBound})` : ''}, unsafe: ${unsafe.length > 0 ? unsafe.join(', ') : 'none'}; ` +
    `${o.bounds.snapshots > 0 && o.snapshotChunkBytes > 0 ? `snapshots streamed in ${o.snapshotChunkBytes}-byte chunks, ${o.bounds.streamTimeouts} stream timeout(s) per node; ` : ''}` +
    `reductions: symmetry ${o.symmetry ? 'on' : 'off'}, partial-order ${o.por ? 'on' : 'off'}, sleep sets ${o.sleep ? 'on' : 'off'}, dead messages ${o.deadMessages ? 'on' : 'off'}, no-op deliveries ${o.noopDeliveries ? 'explored' : 'skipped'}, memo ${o.memo ? 'on' : 'off'}`
  );
}

function describeMode(o: McOptions): string {
  switch (o.mode) {
    case 'bfs':
      return `BFS${o.workers > 1 ? ` on ${o.workers} worker threads` : ''}`;
    case 'dfs':
      return `DFS${o.bounds.maxDepth > 0 ? ` to depth ${o.bounds.maxDepth}` : ''}`;
    case 'iddfs':
      return `iterative deepening (depth limit +${o.depthStep} a round${o.bounds.maxDepth > 0 ? `, up to ${o.bounds.maxDepth}` : ''})`;
    case 'random':
      return `random walks (seed ${o.seed})`;
    case 'swarm':
      return `swarm random walks (seed ${o.seed})`;
    case 'guided':
      return `coverage-guided swarm walks (seed ${o.seed})`;
    default:
      return assertNever(o.mode, 'mode');
  }
}

function counterexampleKind(o: McOptions): string {
  switch (o.mode) {
    case 'bfs':
      return ' (a shortest one: BFS)';
    case 'iddfs':
      return o.depthStep === 1 ? ' (a shortest one: iterative deepening)' : ` (a shortest one to within ${o.depthStep} events)`;
    case 'dfs':
      return ' (a depth-first path: not minimal)';
    case 'random':
    case 'swarm':
    case 'guided':
      return ' (a random walk: not minimal)';
    default:
      return assertNever(o.mode, 'mode');
  }
}

function usesUnsafeFlags(o: McOptions): boolean {
  return o.skipReadQuorum || Object.values(o.unsafe).some((v) => v !== false && v !== null);
}

function mb(bytes: number): string {
  return `${(bytes / 1048576).toFixed(0)} MB`;
}

export async function runModelChecker(o: McOptions, out: (line: string) => void): Promise<RunReport> {
  out(`rift-mc: ${describeMode(o)}`);
  out(`bounds: ${describeBounds(o)}`);
  out(`model: ${describeModel(o)}`);
  const started = performance.now();
  const cpuStart = process.cpuUsage();
  let lastDistinct = 0;
  let lastAt = started;
  const progress = (stats: SearchStats, depth: number): void => {
    if (o.quiet) return;
    const now = performance.now();
    const rate = ((stats.distinct - lastDistinct) * 1000) / Math.max(1, now - lastAt);
    lastDistinct = stats.distinct;
    lastAt = now;
    out(
      `  ${((now - started) / 1000).toFixed(1)}s depth ${depth}: ${stats.distinct.toLocaleString('en-US')} states (${Math.round(rate).toLocaleString('en-US')}/s), ` +
        `${stats.transitions.toLocaleString('en-US')} transitions, queue ${stats.queue.toLocaleString('en-US')}, heap ${mb(process.memoryUsage().heapUsed)}, rss ${mb(process.memoryUsage().rss)}`,
    );
  };
  const visited = new VisitedSet(o.maxStates, o.workers > 1);
  out(
    `visited set: ${mb(visited.maxBytes)} for ${visited.capacity.toLocaleString('en-US')} states${o.workers > 1 ? '' : ' (grows to it as needed)'}`,
  );
  // Random and swarm walks may rebuild the model to bound memory; the one that found a violation rebuilds its trace.
  let model = new Model(o);
  const liveness = o.properties.has('liveness');
  let result: SearchResult;
  let workerOverflows = 0;
  let swarmProfile: string | null = null;
  let pool: CoveragePool | null = null;
  if (walks(o.mode)) {
    const walked = randomWalks(() => new Model(o), visited, {
      swarm: o.mode !== 'random',
      ...(o.mode === 'guided' ? { guide: (m: Model, random: SplitMix32) => (pool = new CoveragePool(m, random)) } : {}),
      onFindingProfile: (profile) => (swarmProfile = profile.describe()),
      walks: o.walks,
      maxDepth: o.bounds.maxDepth > 0 ? o.bounds.maxDepth : 400,
      seed: o.seed,
      liveness,
      progressMs: o.progressMs,
      onProgress: progress,
    });
    result = walked;
    model = walked.model;
  } else if (o.mode === 'dfs') {
    result = dfs(model, visited, { maxDepth: o.bounds.maxDepth, liveness, progressMs: o.progressMs, onProgress: progress });
  } else if (o.mode === 'iddfs') {
    result = iterativeDeepening(model, visited, {
      maxDepth: o.bounds.maxDepth,
      step: o.depthStep,
      liveness,
      progressMs: o.progressMs,
      onProgress: progress,
    });
  } else if (o.workers > 1) {
    const parallel = await parallelBfs(o, visited, progress);
    workerOverflows = parallel.netOverflows;
    result = parallel;
  } else {
    result = bfs(model, visited, { maxDepth: o.bounds.maxDepth, liveness, progressMs: o.progressMs, onProgress: progress });
  }
  const cpu = process.cpuUsage(cpuStart);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  const peakRssBytes = process.resourceUsage().maxRSS * 1024;
  const s = result.stats;
  const seconds = result.wallMs / 1000;
  const exhausted = result.stopped === 'exhausted';
  out('');
  out(
    `summary: ${exhausted ? 'EXHAUSTED the bounded space' : `stopped: ${result.stopped}`}; ${s.distinct.toLocaleString('en-US')} distinct states, ` +
      `${s.transitions.toLocaleString('en-US')} transitions, max depth ${s.maxDepth}, ${seconds.toFixed(1)} s ` +
      `(${Math.round(s.distinct / Math.max(seconds, 1e-3)).toLocaleString('en-US')} states/s), ` +
      `${s.outOfBounds.toLocaleString('en-US')} successors beyond a bound, ${s.terminal.toLocaleString('en-US')} path ends` +
      `${o.sleep ? `, ${s.slept.toLocaleString('en-US')} successors asleep (not fingerprinted)` : ''}` +
      `${walks(o.mode) ? `, ${s.walks} walks${s.renewals > 0 ? ` (model rebuilt ${s.renewals} times to bound memory)` : ''}` : o.mode === 'iddfs' ? `, ${s.walks} rounds (distinct: the last round's)` : ''}; rss ${mb(process.memoryUsage().rss)}`,
  );
  out(
    `  cpu ${(cpuMs / 1000).toFixed(1)} s (${Math.round((s.distinct * 1000) / Math.max(cpuMs, 1)).toLocaleString('en-US')} states per cpu-second), peak rss ${mb(peakRssBytes)}`,
  );
  const sizes = model.sizes();
  // With workers, each thread interns and memoises on its own; the main thread's model only rebuilds a counterexample.
  if (o.workers === 1 || walks(o.mode)) {
    out(
      `  interned: ${sizes.nodeStates.toLocaleString('en-US')} node states, ${sizes.messages.toLocaleString('en-US')} messages, ${sizes.logs} logs; ` +
        `node-transition memo ${model.stats.memoHits.toLocaleString('en-US')} hits / ${model.stats.memoMisses.toLocaleString('en-US')} misses; ` +
        `${model.stats.linearizabilityChecks} linearizability checks, ${model.stats.livenessChecks} liveness checks` +
        (o.bounds.snapshots > 0
          ? `; snapshot transitions: ${model.stats.snapshotSaves.toLocaleString('en-US')} saves, ${model.stats.snapshotInstalls.toLocaleString('en-US')} installs`
          : ''),
    );
  }
  if (pool !== null) out(`  coverage: ${(pool as CoveragePool).describe()}`);
  if (walks(o.mode) && visited.full)
    out(`  the visited set is full: the coverage count stopped at ${visited.size.toLocaleString('en-US')} states, the walks went on`);
  const overflows = model.stats.netOverflows + workerOverflows;
  if (overflows > 0)
    out(`  WARNING: ${overflows} states held more messages than a state can store and were not expanded: the space was not fully explored`);
  let traceFile: string | null = null;
  let replayConfirmed: boolean | null = null;
  let counterexampleEvents: number | null = null;
  let flagsNeeded: boolean | null = null;
  if (result.finding !== null) {
    const f = result.finding;
    out('');
    out(`VIOLATION of ${f.violation.property}: ${f.violation.message}`);
    if (swarmProfile !== null) out(`found by walk ${s.walks} of seed ${o.seed}, its swarm profile: ${swarmProfile}`);
    const found = counterexample(model, o.mode === 'bfs' ? visited : null, f);
    const trace = found.trace;
    counterexampleEvents = trace.events.length;
    out(
      `counterexample: ${trace.events.length} events${counterexampleKind(o)}${found.complete ? '' : ' (the last step could not be found again)'}`,
    );
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    traceFile = writeTrace(o.out, trace, stamp);
    const replay = replayTrace(trace);
    out(replay.lines.join('\n'));
    replayConfirmed = replay.violations.length > 0;
    out('');
    out(`written: ${traceFile}`);
    out(`replay:  npm run sim -- --replay ${traceFile}`);
    out(
      replayConfirmed
        ? `the simulator's replay confirms it: ${replay.violations.map((v) => `[${v.kind}] ${v.message}`).join('; ')}`
        : `the simulator's replay of these events finds no violation (its checks differ from this property's: ${f.violation.property})`,
    );
    if (replayConfirmed && usesUnsafeFlags(o)) {
      // A counterexample is credited to an unsafe flag only if the core without any flag cannot take the same
      // path to a violation (a swarm walk hunting lease-after-pause found a stale lease read that the correct core
      // committed too: issue 16). The replay without the flags diverges (the path needed them) or finds nothing.
      const correct = replayTrace({ ...trace, params: { ...trace.params, unsafe: noUnsafeFlags, skipReadQuorum: false } });
      const safety = correct.violations.filter((v) => v.kind !== 'diverged');
      out(
        safety.length > 0
          ? `WITHOUT the unsafe flags the same events violate too (the correct core's defect, not the flag's): ${safety.map((v) => `[${v.kind}] ${v.message}`).join('; ')}`
          : `without the unsafe flags the same events ${correct.violations.length > 0 ? `cannot all run (${correct.violations[0]!.message})` : 'violate nothing'}: the flag's defect`,
      );
      flagsNeeded = safety.length === 0;
    }
    if (trace.events.length <= 12) out(`events: ${trace.events.map((e) => describeEvent(e, trace.ops)).join(' | ')}`);
  }
  const complete = result.stopped !== 'visited-full' && overflows === 0;
  if (!complete && result.finding === null)
    out('no violation found, but the bounded space was not fully explored (raise --max-states or set --max-inflight): verdict unknown');
  return { options: o, result, traceFile, replayConfirmed, flagsNeeded, counterexampleEvents, complete, cpuMs, peakRssBytes };
}
