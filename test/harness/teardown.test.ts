/**
 * No orphans when the harness process is interrupted or crashes: a child
 * process runs the compiled cluster manager (dist/harness/cluster.js) with the
 * fake node, pauses one node (a stopped process ignores SIGTERM until SIGCONT),
 * reports its node pids, and then is sent SIGINT / throws / exits.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { execa } from 'execa';
import { tempDir } from './temp-dirs.js';
import { describe, expect, test } from 'vitest';
import { writeFakeNode } from './fake-node.js';
import { waitFor, processGone } from './wait.js';

const clusterJs = join(import.meta.dirname, '..', '..', 'dist', 'harness', 'cluster.js');
const fakeNode = writeFakeNode();
const script = join(tempDir('rift-teardown-'), 'harness.mjs');
writeFileSync(
  script,
  `
import { Cluster } from ${JSON.stringify(pathToFileURL(clusterJs).href)};
const [mode, runDir, nodeEntry] = process.argv.slice(2);
const cluster = await Cluster.start({ nodeCount: 3, runDir, nodeFlags: [], net: 'relay', seed: 1, nodeEntry });
await cluster.pause('n2');
process.stdout.write(JSON.stringify({ pids: cluster.pids() }) + '\\n');
if (mode === 'crash') setTimeout(() => { throw new Error('harness crashed on purpose'); }, 50);
else if (mode === 'exit') setTimeout(() => process.exit(0), 50);
else setInterval(() => {}, 1000);
`,
);

describe('teardown: no orphan node processes', () => {
  for (const mode of ['sigint', 'sigterm', 'crash', 'exit'] as const) {
    test(`harness ${mode}`, async () => {
      const runDir = tempDir('rift-teardown-run-');
      const child = execa(process.execPath, [script, mode, runDir, fakeNode], {
        reject: false,
        buffer: { stdout: false, stderr: true },
        stdout: 'pipe',
        timeout: 20_000,
      });
      // The first stdout line (not child.iterable(): leaving it early waits for the child to end).
      const firstLine = await new Promise<string>((resolve, reject) => {
        let text = '';
        child.stdout.on('data', (chunk: Buffer) => {
          text += chunk.toString();
          if (text.includes('\n')) resolve(text.slice(0, text.indexOf('\n')));
        });
        child.stdout.on('end', () => reject(new Error(`harness ended before reporting pids: ${text}`)));
      });
      const pids = (JSON.parse(firstLine) as { pids: number[] }).pids;
      expect(pids).toHaveLength(3);
      for (const pid of pids) expect(processGone(pid)).toBe(false);
      if (mode === 'sigint') child.kill('SIGINT');
      if (mode === 'sigterm') child.kill('SIGTERM');
      const result = await child;
      if (mode === 'sigint') expect(result.exitCode).toBe(130);
      if (mode === 'sigterm') expect(result.exitCode).toBe(143);
      if (mode === 'crash') expect(String(result.stderr)).toContain('harness crashed on purpose');
      // Killed nodes are reparented to init and reaped; allow a moment for that.
      await waitFor(() => pids.every(processGone), 5000, `node pids ${pids.join(',')} gone after harness ${mode}`);
    });
  }
});
