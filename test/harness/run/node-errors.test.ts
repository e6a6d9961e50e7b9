import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { nodeErrorsAnalysis } from '../../../harness/run/node-errors.js';
import { UNSENDABLE_MARK } from '../../../node/log-marks.js';

const dirs: string[] = [];
function logsDir(logs: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'rift-node-errors-'));
  dirs.push(dir);
  const nodes = join(dir, 'nodes');
  mkdirSync(nodes);
  for (const [id, text] of Object.entries(logs)) writeFileSync(join(nodes, `${id}.log`), text);
  return nodes;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('node-errors analysis', () => {
  it('is not run without node logs', () => {
    expect(nodeErrorsAnalysis(join(tmpdir(), 'rift-no-such-dir'))).toBeNull();
    expect(nodeErrorsAnalysis(logsDir({}))).toBeNull();
  });

  it('passes logs with no unsendable message', () => {
    const a = nodeErrorsAnalysis(logsDir({ n1: '2026-12-07T15:52:41.054Z n1 leader of term 2\n', n2: 'x\n' }))!;
    expect(a).toMatchObject({ name: 'node-errors', valid: true, findings: [] });
  });

  it('fails a run whose node logged a message it could not send, each kind once with its count (spares included)', () => {
    const line = (to: string, n: number): string =>
      `2026-12-07T15:52:41.054Z n3 ${UNSENDABLE_MARK}: send to ${to} failed: invalid_message: body.entries[0].data: string of ${n} chars exceeds the limit of 65507`;
    const a = nodeErrorsAnalysis(
      logsDir({
        n1: 'fine\n',
        n3: [line('n4', 65563), line('n4', 65569), line('n5', 65569), 'other\n'].join('\n'),
        n7: `${UNSENDABLE_MARK}: snapshot install_snapshot_chunk to n1 failed: oversized: envelope is 70000 bytes\n`,
      }),
    )!;
    expect(a.valid).toBe(false);
    expect(a.conclusion).toBe('a node built a message it could not send');
    expect(a.brief).toBe('nodes: 4 unsendable messages');
    expect(a.findings).toEqual([
      `node-errors: n3: ${UNSENDABLE_MARK}: send to n4 failed: invalid_message: body.entries[0].data: string of 65563 chars exceeds the limit of 65507 (3 lines like it)`,
      `node-errors: n7: ${UNSENDABLE_MARK}: snapshot install_snapshot_chunk to n1 failed: oversized: envelope is 70000 bytes`,
    ]);
  });
});
