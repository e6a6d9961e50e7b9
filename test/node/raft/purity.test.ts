/**
 * The Raft core must stay pure (no IO, clock, timers or ambient randomness):
 * that is what makes it deterministic under the simulator and testable here.
 * This scans the sources of node/raft/ and fails on any forbidden use.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const raftDir = join(import.meta.dirname, '../../../node/raft');

const forbidden: readonly { name: string; pattern: RegExp }[] = [
  { name: 'node: import', pattern: /from\s+['"]node:|import\(\s*['"]node:|require\(/ },
  { name: 'bare builtin import', pattern: /from\s+['"](fs|net|dgram|crypto|os|child_process|timers|perf_hooks)['"]/ },
  { name: 'Date', pattern: /\bDate\b/ },
  { name: 'Math.random', pattern: /Math\.random/ },
  { name: 'setTimeout', pattern: /\bsetTimeout\b/ },
  { name: 'setInterval', pattern: /\bsetInterval\b/ },
  { name: 'setImmediate', pattern: /\bsetImmediate\b/ },
  { name: 'performance', pattern: /\bperformance\b/ },
  { name: 'process', pattern: /\bprocess\b/ },
  { name: 'crypto', pattern: /\bcrypto\b/ },
];

/** Drop comments so a doc sentence like "no `Date`" does not trip the scan. */
function stripComments(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:])\/\/.*$/gm, '$1');
}

describe('node/raft purity', () => {
  const files = readdirSync(raftDir).filter((f) => f.endsWith('.ts'));

  it('has source files to scan', () => {
    expect(files).toEqual(expect.arrayContaining(['raft.ts', 'log.ts', 'prng.ts', 'types.ts']));
  });

  it.each(files)('%s uses no IO, clock, timers or ambient randomness', (file) => {
    const code = stripComments(readFileSync(join(raftDir, file), 'utf8'));
    const hits = forbidden.filter(({ pattern }) => pattern.test(code)).map(({ name }) => name);
    expect(hits).toEqual([]);
  });

  it('the scan does catch a forbidden use (self-test)', () => {
    const code = stripComments("import { x } from 'node:fs';\nconst t = Date.now(); // fine\nMath.random();");
    expect(forbidden.filter(({ pattern }) => pattern.test(code)).map(({ name }) => name)).toEqual(['node: import', 'Date', 'Math.random']);
  });
});
