/**
 * The table of fault kinds (harness/nemesis/registry.ts): every kind declares
 * everything the rest derives from, and the derivations (options, help,
 * catalogue, final heal) agree with it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HELP, UsageError, parseOptions } from '../../../harness/options.js';
import { clockFaults } from '../../../harness/nemesis/kinds/clock.js';
import {
  decodeNemesisOp,
  finalHealOrder,
  kindOf,
  kindSpecs,
  kindsHealedBy,
  kindsTakingTargets,
  nemesisCatalogue,
  nemesisKinds,
  nemesisOptions,
  nemesisTable,
  startFs,
  stopF,
  type NemesisKind,
  type NemesisOp,
} from '../../../harness/nemesis/registry.js';
import type { ScheduleOptions } from '../../../harness/nemesis/schedule.js';
import { FakeCluster } from './fake-cluster.js';
import { Rng } from '../../../harness/rng.js';

const SEED = 20260611;
console.log(`nemesis registry tests: seed ${SEED}`);

/** Every clock mode and every target, so a kind's arbitrary can produce each of its start fs. */
const wide: ScheduleOptions = {
  kinds: nemesisKinds,
  timeLimitMs: 60_000,
  intervalMs: 1_000,
  nodeCount: 5,
  partitionShapes: [],
  targets: ['one', 'leader', 'minority', 'majority', 'all', 'voter'],
  clockFaults,
};

/** 200 drawn cycles of each kind (seeded). */
function drawnOps(): Map<NemesisKind, NemesisOp[]> {
  const out = new Map<NemesisKind, NemesisOp[]>();
  for (const spec of kindSpecs) {
    const arb: fc.Arbitrary<readonly [NemesisOp, NemesisOp]> = spec.cycle(wide);
    const cycles = fc.sample(arb, { seed: SEED, numRuns: 200 });
    out.set(spec.kind, cycles.flat());
  }
  return out;
}

describe('the nemesis table', () => {
  it('lists each kind under its own name, in the canonical order', () => {
    expect(nemesisKinds).toEqual([
      'partition',
      'kill',
      'pause',
      'clock',
      'loss',
      'delay',
      'duplicate',
      'client-loss',
      'replay',
      'disk',
      'disk-full',
      'lease-restart',
      'relead',
      'membership',
      'resize',
      'rejoin',
      'change-race',
    ]);
    for (const k of nemesisKinds) expect(nemesisTable[k].kind).toBe(k);
  });

  it('every kind declares a label, a one-line summary, start fs and one stop f, an arbitrary, a decoder, and a nemesis with invoke/heal/active', () => {
    for (const spec of kindSpecs) {
      expect(spec.label, spec.kind).not.toBe('');
      expect(spec.summary.length, spec.kind).toBeGreaterThan(0);
      expect(spec.summary.length, `${spec.kind}: the summary fits one help line`).toBeLessThanOrEqual(43);
      expect(startFs(spec.kind).length, spec.kind).toBeGreaterThan(0);
      expect(() => stopF(spec.kind)).not.toThrow();
      expect(typeof spec.cycle).toBe('function');
      expect(typeof spec.decode).toBe('function');
      const nemesis = spec.create({
        cluster: new FakeCluster(3),
        net: new FakeCluster(3).net,
        rng: new Rng(1),
        restartRng: new Rng(2),
        log: () => undefined,
        isStopped: () => false,
        crashed: () => undefined,
        leaderWaitMs: 0,
      });
      expect(typeof nemesis.invoke).toBe('function');
      expect(typeof nemesis.heal).toBe('function');
      expect(nemesis.active()).toEqual([]);
    }
  });

  it('no f belongs to two kinds (kindOf is a function of f)', () => {
    const all = kindSpecs.flatMap((s) => Object.keys(s.fs));
    expect(new Set(all).size).toBe(all.length);
    for (const spec of kindSpecs) for (const f of Object.keys(spec.fs)) expect(kindOf(f)).toBe(spec.kind);
    expect(kindOf('explode')).toBeNull();
  });

  it('a drawn cycle is a start op then the stop op of its kind, every start f is drawn, and each op survives its wire form', () => {
    for (const [kind, ops] of drawnOps()) {
      for (let i = 0; i < ops.length; i += 2) {
        const [start, stop] = [ops[i]!, ops[i + 1]!];
        expect(start.kind, `seed ${SEED}`).toBe(kind);
        expect(stop.kind).toBe(kind);
        expect(startFs(start.kind)).toContain(start.f);
        expect(stop.f).toBe(stopF(stop.kind));
      }
      expect(new Set(ops.filter((_, i) => i % 2 === 0).map((o) => o.f)), `${kind}, seed ${SEED}`).toEqual(new Set(startFs(kind)));
      for (const op of ops) {
        // The wire form (test.json, the history) holds f and value only; decoding gives the same typed op back.
        const wire = JSON.parse(JSON.stringify({ f: op.f, value: op.value })) as { f: string; value: unknown };
        expect(decodeNemesisOp(wire.f, wire.value), `${kind}, seed ${SEED}`).toEqual(op);
      }
    }
  });

  it('decoding refuses unknown fs, bad values, and targets the kind does not take (named from the table)', () => {
    expect(() => decodeNemesisOp('explode', {})).toThrow('unknown nemesis op "explode"');
    expect(() => decodeNemesisOp('kill', { target: 'everyone' })).toThrow(/bad target "everyone"/);
    expect(() => decodeNemesisOp('pause', { target: 'voter' })).toThrow(/^the voter target is for kill or disk only$/);
    expect(() => decodeNemesisOp('clock-rate', { target: 'voter', rate: 2 })).toThrow(/^the voter target is for kill or disk only$/);
    expect(() => decodeNemesisOp('start-loss', { rate: 7 })).toThrow(/bad rate 7/);
    expect(() => decodeNemesisOp('start-delay', { delayMs: 5 })).toThrow(/bad jitterMs/);
    expect(() => decodeNemesisOp('start-partition', { shape: 'triangle' })).toThrow(/bad partition shape "triangle"/);
    expect(() => decodeNemesisOp('clock-bump', { target: 'one', deltaMs: Infinity })).toThrow(/bad deltaMs/);
  });

  it('the final heal has one step per distinct final-heal of the table, each once, and heals every kind', () => {
    const steps = new Set(kindSpecs.map((s) => s.finalHeal));
    expect(new Set(finalHealOrder)).toEqual(steps);
    expect(finalHealOrder).toHaveLength(steps.size);
    expect(finalHealOrder.flatMap(kindsHealedBy).sort()).toEqual([...nemesisKinds].sort());
    expect(finalHealOrder.map((s) => s.f)).toEqual([
      'stop-partition',
      'clear-packet-faults',
      'stop-replay',
      'resume',
      'start',
      'stop-disk',
      'stop-disk-full',
      'stop-lease-restart',
      'stop-relead',
      'stop-membership',
      'stop-resize',
      'stop-rejoin',
      'stop-change-race',
      'reset-clock',
    ]);
  });

  it('the catalogue for the report is the table as data', () => {
    const catalogue = nemesisCatalogue();
    expect(catalogue.map((e) => e.kind)).toEqual(nemesisKinds);
    for (const e of catalogue) {
      const spec = nemesisTable[e.kind as NemesisKind];
      expect(e.label).toBe(spec.label);
      expect([...e.startFs, e.stopF].sort()).toEqual(Object.keys(spec.fs).sort());
    }
    expect(catalogue.find((e) => e.kind === 'clock')).toEqual({
      kind: 'clock',
      label: 'clock',
      startFs: ['clock-bump', 'clock-rate'],
      stopF: 'reset-clock',
    });
  });
});

describe('options derive from the table', () => {
  function usage(argv: string[]): string {
    try {
      parseOptions(argv, { randomSeed: () => 1, isRoot: false });
    } catch (err) {
      expect(err).toBeInstanceOf(UsageError);
      return (err as Error).message;
    }
    throw new Error(`expected a UsageError for ${argv.join(' ')}`);
  }
  const sampleValue: Record<string, string> = {
    partition: 'halves',
    'clock-faults': 'slow',
    'loss-rates': '0.2',
    'client-loss-rates': '0.4',
    'client-loss-directions': 'both',
    'replay-modes': 'hold',
    'pause-wake-alone': '300-1500',
    'disk-faults': 'torn-tail',
  };

  it('--nemesis knows every kind, and the help names each with its summary', () => {
    const r = parseOptions(['--nemesis', 'all'], { randomSeed: () => 1, isRoot: true });
    expect(r.kind === 'run' && r.options.nemesis).toEqual(nemesisKinds);
    for (const spec of kindSpecs) {
      expect(HELP).toContain(spec.summary);
      expect(HELP).toMatch(new RegExp(`comma list of: none,[^]*${spec.kind}`));
    }
  });

  it('each kind option is in the help with its default, and needs a kind that takes it', () => {
    const options = nemesisOptions();
    expect(options.map((o) => o.option.flag)).toEqual([
      'partition',
      'pause-wake-alone',
      'clock-faults',
      'loss-rates',
      'client-loss-rates',
      'client-loss-directions',
      'replay-modes',
      'disk-faults',
    ]);
    for (const { option, kinds } of options) {
      expect(HELP).toContain(`--${option.flag} ${option.arg}`);
      expect(HELP).toContain(`(default ${option.defaultText})`);
      const value = sampleValue[option.flag];
      if (value === undefined) throw new Error(`no sample value for --${option.flag}: add one to this test`);
      expect(usage([`--${option.flag}`, value])).toBe(`--${option.flag} needs --nemesis ${kinds.join(', ')} (or all)`);
      const r = parseOptions(['--nemesis', kinds[0]!, `--${option.flag}`, value], { randomSeed: () => 1 });
      expect(r.kind).toBe('run');
    }
  });

  it('--targets goes with the kinds that accept targets; a target only some kinds take needs one of them', () => {
    expect(kindsTakingTargets()).toEqual(['kill', 'pause', 'clock', 'disk', 'disk-full', 'membership', 'resize']);
    expect(usage(['--nemesis', 'partition,loss', '--targets', 'one'])).toBe(
      '--targets needs --nemesis kill, pause, clock, disk, disk-full, membership or resize (or all)',
    );
    for (const k of kindsTakingTargets()) {
      // disk-full needs root (a tmpfs per data directory).
      const r = parseOptions(['--nemesis', k, '--targets', 'leader'], { randomSeed: () => 1, isRoot: true });
      expect(r.kind === 'run' && r.options.targets).toEqual(['leader']);
    }
    expect(usage(['--nemesis', 'pause,clock', '--targets', 'voter'])).toBe(
      '--targets voter is a kill or disk target: add kill or disk to --nemesis',
    );
    expect(HELP).toContain('--targets LIST');
    expect(HELP).toMatch(
      /nodes hit by kill, pause, clock, disk,\s+disk-full,\s+membership\s+and\s+resize\s+faults:\s+one,\s+leader,\s+minority,\s+majority,\s+all,\s+follower \(one\s+node\s+that\s+is\s+not\s+the\s+leader\s+as\s+the\s+fault\s+fires\),\s+voter \(kill\s+or\s+disk\s+only:/,
    );
  });
});
