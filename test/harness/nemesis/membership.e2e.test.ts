/**
 * The membership nemesis end to end: `node dist/harness/cli.js --nemesis
 * membership` against real nodes (dist/node/main.js) on loopback, through
 * the real admin path (RiftAdmin, the admin key). The run must change the
 * membership (a removal committed, the member put back as a learner and
 * promoted), stay linearizable, and leave the wire monitor (commit quorums
 * over the configurations it sees included) with nothing to report.
 *
 * Bounded: the CLI's own deadlines (every nemesis step, the final heal, the
 * check) and the test's timeout; no fixed sleep. Slow (a 7 s workload plus
 * start, heal and check):
 *   npx vitest run test/harness/nemesis/membership.e2e.test.ts
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, repoRoot } from '../../support/build.js';

interface HistoryLine {
  process: number | string;
  type: string;
  f: string;
  value: unknown;
}

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(repoRoot, 'dist', 'harness', 'cli.js'), ...args], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

let store: string;
beforeAll(() => {
  ensureBuilt();
  store = mkdtempSync(join(tmpdir(), 'rift-membership-e2e-'));
});
afterAll(() => {
  rmSync(store, { recursive: true, force: true });
});

describe('npm run jepsen -- --nemesis membership (real nodes)', () => {
  it(
    'removes members and puts them back while clients run; the history stays valid and the monitor silent',
    { timeout: 180_000 },
    async () => {
      const seed = Number(process.env['MEMBERSHIP_E2E_SEED'] ?? 1 + (Date.now() % 1_000_000));
      const args = ['--time-limit', '7', '--nemesis', 'membership', '--nemesis-interval', '1.5', '--targets', 'one,leader'];
      const run = await cli([
        ...args,
        '--rate',
        '100',
        '--concurrency',
        '5',
        '--seed',
        String(seed),
        '--store',
        store,
        '--json',
        '--quiet',
      ]);
      const replay = `seed ${seed}: npm run jepsen -- ${args.join(' ')} --seed ${seed}`;
      expect(run.code, `${replay}\n${run.stderr}`).toBe(0);
      const results = JSON.parse(run.stdout) as { valid: boolean; runDir: string; monitor: { violations: unknown[] } };
      expect(results.valid, replay).toBe(true);
      expect(results.monitor.violations, replay).toEqual([]);

      const history = readFileSync(join(results.runDir, 'history.jsonl'), 'utf8')
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l) as HistoryLine);
      const done = (f: string): Record<string, unknown>[] =>
        history.filter((h) => h.process === 'nemesis' && h.f === f && h.type === 'info').map((h) => h.value as Record<string, unknown>);
      const nodesOf = (v: Record<string, unknown>): string[] => (Array.isArray(v['nodes']) ? (v['nodes'] as string[]) : []);
      // Each op is in the history twice (invoke, completion); the completions carry `nodes`.
      const removed = done('start-membership').flatMap(nodesOf);
      expect(removed.length, `${replay}: no removal committed`).toBeGreaterThanOrEqual(1);
      // The configuration right after a removal lacked the member; every removed member came back as a voter.
      const afterRemoval = done('start-membership').find((v) => nodesOf(v).length > 0)!;
      expect((afterRemoval['after'] as { voters: string[] }).voters, replay).not.toContain(nodesOf(afterRemoval)[0]);
      const restored = done('stop-membership').flatMap(nodesOf);
      for (const id of removed) expect(restored, `${replay}: ${id} put back`).toContain(id);
      // The configuration the last put-back left (the final heal reads none when nothing was still out).
      const final = done('stop-membership')
        .filter((v) => v['after'] !== undefined)
        .at(-1)!;
      expect((final['after'] as { voters: string[]; learners: string[] }).voters, replay).toEqual(['n1', 'n2', 'n3', 'n4', 'n5']);
      expect((final['after'] as { voters: string[]; learners: string[] }).learners, replay).toEqual([]);
    },
  );
});
