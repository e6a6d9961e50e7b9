/**
 * End to end: `node dist/harness/cli.js` against real node processes
 * (dist/node/main.js) on loopback. Slow (each run is a few seconds of
 * workload plus cluster start and the check); run with
 *   npx vitest run test/harness/run/run.e2e.test.ts
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, repoRoot } from '../../support/build.js';
import { waitFor } from '../wait.js';

interface Spawned {
  code: Promise<number | null>;
  stdout: () => string;
  stderr: () => string;
  kill: (signal: NodeJS.Signals) => void;
}

function cli(args: string[]): Spawned {
  const child = spawn(process.execPath, [join(repoRoot, 'dist', 'harness', 'cli.js'), ...args], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return {
    code: new Promise((resolve) => child.on('close', (code) => resolve(code))),
    stdout: () => out,
    stderr: () => err,
    kill: (signal) => child.kill(signal),
  };
}

interface HistoryLine {
  index: number;
  time: number;
  process: number | string;
  type: string;
  f: string;
  key?: string;
  value: unknown;
  error?: string;
}

function readHistory(runDir: string): HistoryLine[] {
  return readFileSync(join(runDir, 'history.jsonl'), 'utf8')
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as HistoryLine);
}

/** Node processes still running with this run's config (there must be none after the CLI exits). */
function liveNodesOf(runDir: string): string[] {
  const ps = execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' });
  return ps.split('\n').filter((l) => l.includes(join(runDir, 'cluster.json')) && l.includes('main.js'));
}

let store: string;
beforeAll(() => {
  ensureBuilt();
  if (!existsSync(join(repoRoot, 'dist', 'harness', 'cli.js')))
    throw new Error('dist/harness/cli.js is missing: run `node scripts/build.mjs`');
  store = mkdtempSync(join(tmpdir(), 'rift-e2e-'));
});
afterAll(() => {
  rmSync(store, { recursive: true, force: true });
});

describe('npm run jepsen (end to end, real nodes)', () => {
  it('a short fault-free run (5 nodes, 4 s, seed 42) is valid and leaves every file', async () => {
    const run = cli(['--time-limit', '4', '--seed', '42', '--store', store, '--test-name', 'e2e-clean', '--json', '--quiet']);
    const code = await run.code;
    expect(code, run.stderr()).toBe(0);
    const results = JSON.parse(run.stdout()) as Record<string, any>;
    expect(results.verdict).toBe(true);
    expect(results.valid).toBe(true);
    expect(results.seed).toBe(42);
    // The wire monitor watched the real peer traffic and found nothing wrong.
    expect(results.monitor.violations).toEqual([]);
    expect(results.monitor.counts.appendEntries).toBeGreaterThan(0);
    expect(results.monitor.maxLeaderTerm).toBeGreaterThan(0);
    const runDir = results.runDir as string;
    expect(runDir.startsWith(join(store, 'e2e-clean'))).toBe(true);
    for (const f of [
      'history.jsonl',
      'history.txt',
      'history.edn',
      'certificate.json',
      'results.json',
      'test.json',
      'cluster.json',
      'harness.log',
      ...[1, 2, 3, 4, 5].map((i) => `nodes/n${i}.log`),
    ]) {
      expect(existsSync(join(runDir, f)), f).toBe(true);
    }
    // The certificate beside the run is confirmed by the independent verifier (checker/verify.ts).
    const verify = spawnSync(
      process.execPath,
      [join(repoRoot, 'dist', 'report', 'check-cli.js'), '--verify', join(runDir, 'certificate.json')],
      { encoding: 'utf8' },
    );
    expect(verify.status, `${verify.stdout}${verify.stderr}`).toBe(0);
    expect(lstatSync(join(store, 'latest')).isSymbolicLink()).toBe(true);
    expect(realpathSync(join(store, 'latest'))).toBe(realpathSync(runDir));

    const test = JSON.parse(readFileSync(join(runDir, 'test.json'), 'utf8')) as Record<string, any>;
    expect(test.seed).toBe(42);
    expect(test.options).toMatchObject({ nodes: 5, timeLimitS: 4, concurrency: 10, seed: 42 });
    expect(test.node).toBe(process.version);
    expect(test.reproduce).toContain('--seed 42');

    const history = readHistory(runDir);
    expect(history.length).toBe(results.history.lines);
    history.forEach((op, i) => expect(op.index).toBe(i));
    for (let i = 1; i < history.length; i++) expect(history[i]!.time).toBeGreaterThanOrEqual(history[i - 1]!.time);
    const client = history.filter((op) => typeof op.process === 'number');
    expect(client.filter((op) => op.type === 'ok').length).toBeGreaterThan(50);
    // Each process has at most one open op, and completes what it invoked.
    const open = new Map<number, HistoryLine>();
    for (const op of client) {
      const p = op.process as number;
      if (op.type === 'invoke') {
        expect(open.has(p), `process ${p} invoked twice`).toBe(false);
        open.set(p, op);
      } else {
        expect(open.get(p)?.f).toBe(op.f);
        open.delete(p);
      }
    }
    expect(open.size).toBe(0);
    // Final reads: every key ever used was read ok after the workload.
    expect(results.finalReads.missing).toEqual([]);
    expect(results.finalReads.ok).toBe(results.finalReads.keys);
    expect(results.availability.overall.ops).toBeGreaterThan(0);
    expect(results.counts.byType.invoke).toBe(client.filter((op) => op.type === 'invoke').length);
    expect(liveNodesOf(runDir)).toEqual([]);
  });

  it('--nemesis kill (6 s, seed 6): the correct node is VALID (exit 0); nodes are killed and restarted, and the evidence shows it', async () => {
    const run = cli([
      '--nemesis',
      'kill',
      '--time-limit',
      '6',
      '--seed',
      '6',
      '--store',
      store,
      '--test-name',
      'e2e-kill',
      '--json',
      '--quiet',
    ]);
    const code = await run.code;
    expect(code, run.stderr()).toBe(0);
    const results = JSON.parse(run.stdout()) as Record<string, any>;
    expect(results.verdict).toBe(true);
    expect(results.valid).toBe(true);
    expect(results.analyses.map((a: { name: string; valid: unknown }) => [a.name, a.valid])).toEqual([
      ['linearizability', true],
      ['wire-monitor', true],
      ['replicas', true],
      ['node-errors', true],
      ['progress', true],
    ]);
    // What each kill did: the processes killed and restarted by pid, and the leader hit at least once (the biting cycle).
    const faults = results.faults as {
      kind: string;
      hitLeader: boolean;
      processes: { killed: { node: string; pid: number }[]; restarted: { node: string; pid: number }[] };
    }[];
    expect(faults.length).toBeGreaterThanOrEqual(2);
    expect(faults.some((f) => f.hitLeader)).toBe(true);
    for (const f of faults) {
      expect(f.kind).toBe('kill');
      for (const k of f.processes.killed) {
        const back = f.processes.restarted.find((r) => r.node === k.node);
        expect(back, `${k.node} killed (pid ${k.pid}) and restarted`).toBeDefined();
        expect(back!.pid).not.toBe(k.pid);
      }
    }
    expect(results.availability.progress.longestGapMs).toBeGreaterThan(0);
    const history = readHistory(results.runDir as string);
    const nemesis = history.filter((op) => op.process === 'nemesis' && op.type === 'info');
    const killed = new Set<string>();
    const restarted = new Set<string>();
    for (const op of nemesis) {
      const nodes = (op.value as { nodes?: string[] } | null)?.nodes ?? [];
      if (op.f === 'kill') nodes.forEach((n) => killed.add(n));
      if (op.f === 'start') nodes.forEach((n) => restarted.add(n));
    }
    expect(killed.size, JSON.stringify(nemesis)).toBeGreaterThan(0);
    for (const n of killed) expect(restarted.has(n), `${n} was killed but never restarted`).toBe(true);
    // After the heal the whole cluster answered again: every key read ok.
    expect(results.finalReads.missing).toEqual([]);
    // The restarted node logged a second startup in its log file.
    const [first] = [...killed];
    const log = readFileSync(join(results.runDir as string, 'nodes', `${first}.log`), 'utf8');
    expect(log.match(/listening on/g)?.length ?? 0).toBeGreaterThanOrEqual(2);
    expect(liveNodesOf(results.runDir as string)).toEqual([]);
  });

  it('an unsafe node is caught: --unsafe-memory-log under kill of all nodes (5 s, seed 3) is INVALID (exit 1)', async () => {
    const run = cli([
      '--nemesis',
      'kill',
      '--targets',
      'all',
      '--node-flag=--unsafe-memory-log',
      '--time-limit',
      '5',
      '--seed',
      '3',
      '--store',
      store,
      '--test-name',
      'e2e-unsafe',
      '--json',
      '--quiet',
    ]);
    const code = await run.code;
    expect(code, run.stderr()).toBe(1);
    const results = JSON.parse(run.stdout()) as Record<string, any>;
    expect(results.verdict).toBe(false);
    // The checker caught it: nodes that restart with an empty log forget acknowledged writes.
    expect(results.valid).toBe(false);
    expect(results.checker.failures.length).toBeGreaterThan(0);
    expect((results.faults as { processes: { killed: unknown[] } }[]).some((f) => f.processes.killed.length === 5)).toBe(true);
    expect(liveNodesOf(results.runDir as string)).toEqual([]);
  });

  it('Ctrl-C stops the run: exit 255, history kept, results say interrupted, no node left running', async () => {
    const run = cli(['--time-limit', '120', '--seed', '3', '--store', store, '--test-name', 'e2e-sigint']);
    const runDirOf = (): string | null => /run directory (\S+)/.exec(run.stderr())?.[1] ?? null;
    // Complete lines only (each ends with a newline): a CI run once saw 20 lines plus the empty string after the last newline.
    const completeLines = (dir: string): number => readFileSync(join(dir, 'history.jsonl'), 'utf8').split('\n').length - 1;
    let seenBeforeInterrupt = 0;
    await waitFor(
      () => {
        const dir = runDirOf();
        if (dir === null || !existsSync(join(dir, 'history.jsonl'))) return false;
        seenBeforeInterrupt = completeLines(dir);
        return seenBeforeInterrupt > 20;
      },
      45_000,
      'the workload to be under way',
    );
    run.kill('SIGINT');
    const code = await run.code;
    expect(code, run.stderr()).toBe(255);
    const runDir = runDirOf()!;
    const results = JSON.parse(readFileSync(join(runDir, 'results.json'), 'utf8')) as Record<string, any>;
    expect(results.verdict).toBe('interrupted');
    expect(results.checker).toBeNull();
    // Everything recorded before the interrupt is kept.
    expect(readHistory(runDir).length).toBeGreaterThanOrEqual(seenBeforeInterrupt);
    expect(run.stdout()).toContain('INTERRUPTED');
    expect(liveNodesOf(runDir)).toEqual([]);
  });
});

describe('runTest (in-process)', () => {
  it('a crash (no node program) is exit 255 with the error in results.json and the summary', async () => {
    const { runTest } = await import('../../../harness/run/run-test.js');
    const { parseOptions } = await import('../../../harness/options.js');
    const parsed = parseOptions(['--time-limit', '1', '--seed', '9', '--store', store, '--test-name', 'e2e-crash', '--quiet']);
    if (parsed.kind !== 'run') throw new Error('expected a run');
    let out = '';
    const outcome = await runTest(parsed.options, 9, {
      stderr: { write: () => true },
      stdout: { write: (s: string) => (out += s) },
      signal: new AbortController().signal,
      repoRoot,
      argv: [],
      runIndex: 0,
      nodeEntry: join(store, 'no-such-node.js'),
    });
    expect(outcome.verdict).toBe('crashed');
    expect(outcome.exitCode).toBe(255);
    const results = JSON.parse(readFileSync(join(outcome.runDir!, 'results.json'), 'utf8')) as Record<string, any>;
    expect(results.verdict).toBe('crashed');
    expect(results.error).toMatch(/no-such-node\.js does not exist/);
    expect(out).toContain('CRASHED');
    expect(existsSync(join(outcome.runDir!, 'test.json'))).toBe(true);
  });
});
