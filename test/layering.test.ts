/**
 * The layers, as the README's "What is where" draws them. Each top-level
 * source folder may import only the folders listed for it; an import of
 * anything else (a relative path that leaves the allowed folders, static or
 * dynamic) fails here with the file, the line and the rule it breaks.
 *
 *   node/     the system under test: imports nothing outside itself
 *   checker/  the linearizability checker: nothing outside itself
 *   report/   the HTML drawing of a history and a verdict: checker/ only
 *   sim/      the deterministic simulator: node/ and checker/
 *   mc/       the model checker: node/, checker/, sim/ (its stepped cluster)
 *   harness/  the real-cluster runner: node/, checker/, report/ (never sim/)
 *   bench/    benchmarks: anything
 *
 * Inside node/, the Raft core (node/raft/) imports only itself and
 * node/util/ (its purity is checked by test/node/raft/purity.test.ts).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs module shared with the build scripts (no type declarations)
import { SOURCE_DIRS } from '../scripts/source-dirs.mjs';

const root = resolve(import.meta.dirname, '..');

/** Folder (or sub-folder) → the folders its files may import from. The most specific prefix wins. */
export const LAYER_RULES: Readonly<Record<string, readonly string[]>> = {
  node: ['node'],
  'node/raft': ['node/raft', 'node/util'],
  checker: ['checker'],
  report: ['report', 'checker'],
  sim: ['sim', 'node', 'checker'],
  mc: ['mc', 'node', 'checker', 'sim'],
  harness: ['harness', 'node', 'checker', 'report'],
  bench: ['bench', 'node', 'checker', 'report', 'sim', 'mc', 'harness'],
};

export interface LayerViolation {
  readonly file: string;
  readonly line: number;
  readonly specifier: string;
  readonly rule: string;
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
    const rel = `${dir}/${entry.name}`;
    if (entry.isDirectory()) out.push(...sourceFiles(rel));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(rel);
  }
  return out;
}

/** The folder rule for a repository-relative path: its longest matching prefix in LAYER_RULES. */
function ruleFor(relPath: string): string | null {
  let best: string | null = null;
  for (const prefix of Object.keys(LAYER_RULES)) {
    if ((relPath === prefix || relPath.startsWith(prefix + '/')) && (best === null || prefix.length > best.length)) best = prefix;
  }
  return best;
}

const IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])([^'"]+)\1/g;

/** Every relative import in `source` (a file at repository-relative `file`) that its layer forbids. */
export function layerViolations(file: string, source: string): LayerViolation[] {
  const rule = ruleFor(file);
  if (rule === null) return [];
  const allowed = LAYER_RULES[rule] ?? [];
  const violations: LayerViolation[] = [];
  const lines = source.split('\n');
  lines.forEach((text, i) => {
    if (/^\s*(\/\/|\*|\/\*)/.test(text)) return; // comments may name any folder
    for (const match of text.matchAll(IMPORT)) {
      const specifier = match[2] ?? '';
      if (!specifier.startsWith('.')) continue; // packages and node: builtins (purity is another test's job)
      const target = relative(root, resolve(root, dirname(file), specifier))
        .split(sep)
        .join('/');
      if (!allowed.some((a) => target === a || target.startsWith(a + '/'))) {
        violations.push({ file, line: i + 1, specifier, rule: `${rule}/ may import only ${allowed.map((a) => a + '/').join(', ')}` });
      }
    }
  });
  return violations;
}

describe('layering', () => {
  const dirs = (SOURCE_DIRS as string[]).filter((d) => d in LAYER_RULES);

  it('has a rule for every top-level source folder', () => {
    expect(dirs).toEqual(SOURCE_DIRS);
  });

  it.each(dirs)('%s/ imports only what its layer allows', (dir) => {
    const files = sourceFiles(dir);
    expect(files.length).toBeGreaterThan(0);
    const violations = files.flatMap((f) => layerViolations(f, readFileSync(join(root, f), 'utf8')));
    expect(violations.map((v) => `${v.file}:${v.line}: ${v.specifier} (${v.rule})`)).toEqual([]);
  });

  it('catches a wrong import (self-test)', () => {
    const bad = [
      "import { checkFile } from '../checker/index.js';", // node -> checker
      "const m = await import('../harness/results/run-report.js');", // dynamic
    ].join('\n');
    expect(layerViolations('node/host.ts', bad).map((v) => v.specifier)).toEqual([
      '../checker/index.js',
      '../harness/results/run-report.js',
    ]);
    expect(layerViolations('checker/cli-main.ts', "import { x } from '../report/write.js';")).toHaveLength(1);
    expect(layerViolations('report/render.ts', "import type { X } from '../harness/run.js';")).toHaveLength(1);
    expect(layerViolations('node/raft/raft.ts', "import { x } from '../host.js';")).toHaveLength(1);
    expect(layerViolations('node/raft/raft.ts', "import { assert } from '../util/assert.js';")).toEqual([]);
    expect(layerViolations('sim/simulator.ts', "import { x } from '../node/host.js';")).toEqual([]);
    expect(layerViolations('harness/run.ts', "import { x } from '../sim/simulator.js';")).toHaveLength(1);
  });
});
