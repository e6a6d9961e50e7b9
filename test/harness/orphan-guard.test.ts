/**
 * No node outlives the harness, paused or not (issue 15 item 8): a harness
 * process that is SIGKILLed while it holds a node stopped (SIGSTOP, the
 * pause nemesis) runs none of its own teardown; the kernel's parent-death
 * signal (harness/orphan-guard.ts) must still end every node. Real
 * processes: a small harness program (the compiled Cluster) starts three
 * real nodes and pauses one; the test SIGKILLs that program.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, test } from 'vitest';
import { procState } from '../../harness/node-process.js';
import { guardedSpawn, orphanGuard } from '../../harness/orphan-guard.js';
import { ensureBuilt, repoRoot } from '../support/build.js';
import { tempDir } from './temp-dirs.js';
import { waitFor } from './wait.js';

const guard = orphanGuard();
const leftovers: number[] = [];

afterEach(() => {
  // Whatever the outcome, leave nothing behind on the machine.
  for (const pid of leftovers.splice(0)) {
    for (const signal of ['SIGCONT', 'SIGKILL'] as const) {
      try {
        process.kill(pid, signal);
      } catch {
        // gone
      }
    }
  }
});

/** Gone, or a zombie waiting for its new parent to reap it: either way it runs no more and holds nothing. */
function ended(pid: number): boolean {
  const state = procState(pid);
  return state === null || state === 'Z' || state === 'X';
}

describe('orphan guard', () => {
  test('guardedSpawn prefixes setpriv --pdeathsig KILL, and nothing without a guard', () => {
    const inner = { command: '/bin/node', args: ['main.js', '--id', 'n1'] };
    expect(guardedSpawn(inner, { kind: 'pdeathsig', setpriv: '/usr/bin/setpriv' })).toEqual({
      command: '/usr/bin/setpriv',
      args: ['--pdeathsig', 'KILL', '--', '/bin/node', 'main.js', '--id', 'n1'],
    });
    expect(guardedSpawn(inner, { kind: 'none', why: 'test' })).toBe(inner);
  });

  test.skipIf(guard.kind === 'none')('a SIGKILLed harness leaves no node behind, not even one it paused (state T)', async () => {
    ensureBuilt();
    const dir = tempDir('rift-orphan-');
    const program = join(dir, 'harness.mjs');
    const clusterJs = pathToFileURL(join(repoRoot, 'dist', 'harness', 'cluster.js')).href;
    writeFileSync(
      program,
      `
      import { Cluster } from ${JSON.stringify(clusterJs)};
      const cluster = await Cluster.start({ nodeCount: 3, runDir: ${JSON.stringify(join(dir, 'run'))}, nodeFlags: [], net: 'relay', seed: 1 });
      await cluster.pause('n2');
      process.stdout.write(JSON.stringify({ pids: cluster.pids(), paused: cluster.pid('n2') }) + '\\n');
      setInterval(() => {}, 1000); // hold everything until killed
    `,
    );
    const harness = spawn(process.execPath, [program], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    harness.stdout.on('data', (d: Buffer) => (out += d.toString()));
    harness.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<void>((resolve) => harness.on('exit', () => resolve()));
    await waitFor(() => out.includes('\n') || harness.exitCode !== null, 45_000, 'the harness program to start 3 nodes and pause n2');
    expect(out, err).toContain('\n');
    const { pids, paused } = JSON.parse(out) as { pids: number[]; paused: number };
    leftovers.push(...pids);
    expect(pids).toHaveLength(3);
    // Paused for real: the kernel says stopped, not the harness's own flag.
    expect(procState(paused)).toBe('T');
    harness.kill('SIGKILL');
    await exited;
    await waitFor(
      () => pids.every(ended),
      10_000,
      `every node of the killed harness ends (states: ${pids.map((p) => `${p}=${procState(p)}`).join(' ')})`,
    );
    for (const pid of pids) expect(procState(pid), `node ${pid}`).not.toBe('T');
  });
});
