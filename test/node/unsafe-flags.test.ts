/**
 * node/unsafe-flags.ts is the one table of unsafe flags: every row must show
 * up everywhere a flag is spelled (rift-node's parseArgs options and --help,
 * the status names, `npm run jepsen --node-flag` and its help, the
 * simulator's presets), so adding a row is enough to reach all of them.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  noUnsafeFlags,
  unsafeConflict,
  unsafeFlagSpecs,
  unsafeFlagsFromArgs,
  unsafeNames,
  unsafeParseArgsOptions,
  unsafeReadModeMismatch,
  type UnsafeFlagRowSpec,
  type UnsafeFlagSpec,
  type UnsafeFlags,
} from '../../node/unsafe-flags.js';
import { HELP, parseOptions, unsafeFlagsOfNodeFlags } from '../../harness/options.js';
import { unsafePreset, unsafePresets } from '../../sim/unsafe.js';
import { ensureBuilt, repoRoot } from '../support/build.js';

/** The row switched on alone, with a value inside its range for an integer row. */
function only(spec: UnsafeFlagRowSpec): UnsafeFlags {
  return { ...noUnsafeFlags, [spec.key]: spec.kind === 'boolean' ? true : spec.min } as UnsafeFlags;
}

/** The command-line words that switch the row on. */
function words(spec: UnsafeFlagSpec): string[] {
  return spec.kind === 'boolean' ? [spec.flag] : [`${spec.flag}=${spec.min}`];
}

describe('the unsafe-flag table', () => {
  it('has rows with unique keys and flags, --unsafe- names, sane ranges and symmetric conflicts', () => {
    expect(unsafeFlagSpecs.length).toBeGreaterThan(0);
    expect(new Set(unsafeFlagSpecs.map((s) => s.key)).size).toBe(unsafeFlagSpecs.length);
    expect(new Set(unsafeFlagSpecs.map((s) => s.flag)).size).toBe(unsafeFlagSpecs.length);
    for (const spec of unsafeFlagSpecs) {
      expect(spec.flag).toMatch(/^--unsafe-[a-z]+(-[a-z]+)*$/);
      expect(spec.description.length).toBeGreaterThan(0);
      if (spec.kind === 'integer') expect(spec.min).toBeLessThanOrEqual(spec.max);
      for (const other of spec.conflicts) {
        const otherSpec = unsafeFlagSpecs.find((s) => s.key === other);
        expect(otherSpec, `${spec.flag} conflicts with unknown key ${other}`).toBeDefined();
        expect(otherSpec!.conflicts as readonly string[], `${other} must list ${spec.key} back`).toContain(spec.key);
      }
    }
  });

  it('switches every flag off by default', () => {
    expect(Object.keys(noUnsafeFlags).sort()).toEqual(unsafeFlagSpecs.map((s) => s.key).sort());
    expect(unsafeNames(noUnsafeFlags)).toEqual([]);
    for (const spec of unsafeFlagSpecs) expect(noUnsafeFlags[spec.key]).toBe(spec.kind === 'boolean' ? false : null);
  });

  it('names each row in a node status as its command line spells it', () => {
    for (const spec of unsafeFlagSpecs) expect(unsafeNames(only(spec))).toEqual(words(spec));
  });

  it('reports conflicts and read-mode requirements from the rows', () => {
    for (const spec of unsafeFlagSpecs) {
      for (const other of spec.conflicts) {
        const both = { ...only(spec), [other]: true } as UnsafeFlags;
        expect(unsafeConflict(both)).toMatch(/are alternatives; pick one$/);
      }
      if (spec.conflicts.length === 0) expect(unsafeConflict(only(spec))).toBeNull();
      if (spec.requiresReadMode !== undefined) {
        expect(unsafeReadModeMismatch(only(spec), spec.requiresReadMode)).toBeNull();
        const otherMode = spec.requiresReadMode === 'lease' ? 'readindex' : 'lease';
        expect(unsafeReadModeMismatch(only(spec), otherMode)).toBe(`${spec.flag} needs --read-mode ${spec.requiresReadMode}`);
      }
    }
  });
});

describe('rift-node (node/main.ts)', () => {
  it('parses every row with its parseArgs options', () => {
    const options = unsafeParseArgsOptions();
    for (const spec of unsafeFlagSpecs) {
      const { values } = parseArgs({ args: words(spec), options, strict: true, allowPositionals: false });
      const parsed = unsafeFlagsFromArgs(values);
      expect(parsed).toEqual({ ok: true, flags: only(spec) });
      if (spec.kind === 'integer') {
        const out = parseArgs({ args: [`${spec.flag}=${spec.max + 1}`], options, strict: true, allowPositionals: false });
        expect(unsafeFlagsFromArgs(out.values)).toEqual({
          ok: false,
          error: `${spec.flag} must be an integer in ${spec.min}..${spec.max} (got ${spec.max + 1})`,
        });
      }
    }
  });

  it('lists every row in --help (the compiled binary)', () => {
    ensureBuilt();
    const r = spawnSync(process.execPath, [join(repoRoot, 'dist', 'node', 'main.js'), '--help'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    for (const spec of unsafeFlagSpecs) {
      const line = r.stdout.split('\n').find((l) => l.trimStart().startsWith(`${spec.flag} `));
      expect(line, `${spec.flag} missing from rift-node --help`).toBeDefined();
      expect(line).toContain(spec.description);
    }
  });
});

describe('npm run jepsen --node-flag (harness/options.ts)', () => {
  it('accepts every row, lists it in --help, and hands the nodes exactly that flag', () => {
    for (const spec of unsafeFlagSpecs) {
      expect(HELP).toContain(spec.kind === 'boolean' ? spec.flag : `${spec.flag}=${spec.valueName}`);
      const argv = [
        `--node-flag=${words(spec)[0]!}`,
        ...(spec.requiresReadMode === undefined ? [] : ['--read-mode', spec.requiresReadMode]),
      ];
      const r = parseOptions(argv, { randomSeed: () => 1 });
      if (r.kind !== 'run') throw new Error('expected a run');
      expect(r.options.nodeFlags).toEqual(words(spec));
      expect(unsafeFlagsOfNodeFlags(r.options.nodeFlags)).toEqual(only(spec));
    }
  });

  it('rejects a conflicting pair, as the node would', () => {
    for (const spec of unsafeFlagSpecs) {
      for (const other of spec.conflicts) {
        const otherSpec = unsafeFlagSpecs.find((s) => s.key === other)!;
        expect(() => parseOptions([`--node-flag=${words(spec)[0]!}`, `--node-flag=${words(otherSpec)[0]!}`])).toThrow(/alternatives/);
      }
    }
  });
});

describe('npm run sim --unsafe (sim/unsafe.ts)', () => {
  it('has one preset per row, named after the flag, switching on exactly that row', () => {
    // Then the core-only presets (a core flag without a node flag, e.g. skipReadQuorum): they switch on no node flag.
    const coreOnly = ['skip-read-quorum'];
    expect(Object.keys(unsafePresets)).toEqual([...unsafeFlagSpecs.map((s) => s.flag.slice('--unsafe-'.length)), ...coreOnly]);
    for (const name of coreOnly) {
      const preset = unsafePresets[name]!;
      expect(
        unsafeFlagSpecs.filter((s) => preset.options.unsafe[s.key] !== noUnsafeFlags[s.key]),
        name,
      ).toEqual([]);
      expect(preset.options.skipReadQuorum, name).toBe(true);
    }
    for (const spec of unsafeFlagSpecs) {
      const preset = unsafePreset(spec.flag);
      expect(preset, `no simulator preset for ${spec.flag}`).not.toBeNull();
      expect(unsafePreset(spec.key)).toBe(preset);
      const on = unsafeFlagSpecs.filter((s) => preset!.options.unsafe[s.key] !== noUnsafeFlags[s.key]).map((s) => s.key);
      expect(on).toEqual([spec.key]);
      if (spec.kind === 'integer') {
        const value = preset!.options.unsafe[spec.key] as number;
        expect(value).toBeGreaterThanOrEqual(spec.min);
        expect(value).toBeLessThanOrEqual(spec.max);
      }
      if (spec.requiresReadMode !== undefined) expect(preset!.options.readMode).toBe(spec.requiresReadMode);
    }
  });
});
