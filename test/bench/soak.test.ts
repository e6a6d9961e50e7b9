/**
 * The soak bench (bench/soak.ts): its flatness verdict on made-up series (pure,
 * one module), its disk bound against the snapshot thresholds, the command
 * line, and a real 12-second soak of a 5-node cluster for the result's shape.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { diskBound, flatnessVerdict, leadershipVerdict, runSoak, soakReport, type NodeSeries } from '../../bench/soak.js';
import { defaultSnapshotting } from '../../node/config-types.js';
import { repoRoot } from '../support/build.js';

const MiB = 1024 * 1024;
const durationMs = 10 * 60_000;
const sampleMs = 5000;
const times = Array.from({ length: durationMs / sampleMs + 1 }, (_, i) => i * sampleMs);
const bound = diskBound({ clients: 32, keys: 1000, valueBytes: 100 });
const criteria = { durationMs, rssTolerance: 0.2, diskBoundBytes: bound.bytes };

/** A GC-like wobble of ±5 MiB (deterministic: no seed to print). */
const wobble = (i: number): number => 5 * MiB * Math.sin(i * 1.7);

function series(rss: (t: number, i: number) => number, disk: (t: number, i: number) => number): NodeSeries {
  return { tMs: times, rssBytes: times.map((t, i) => rss(t, i)), diskBytes: times.map((t, i) => disk(t, i)) };
}

/** V8's old generation under load: RSS climbs from 110 to 240 MiB over 100 s, then a mark-compact drops it back. */
const v8Sawtooth = (t: number): number => 110 * MiB + ((t % 100_000) / 100_000) * 130 * MiB;

/** A compacting node's raft.log: grows by one snapshot interval, then drops back to the trailing entries. */
const sawtooth = (t: number): number => 2 * MiB + ((t / 1000) % 20) * 0.2 * MiB;

describe('flatnessVerdict', () => {
  it('passes a flat series: a warm-up ramp, then RSS wobbling around a level and disk in a sawtooth under the bound', () => {
    const v = flatnessVerdict(
      series(
        (t, i) => (t < 60_000 ? 60 * MiB + (t / 60_000) * 60 * MiB : 120 * MiB + wobble(i)),
        (t) => sawtooth(t),
      ),
      criteria,
    );
    expect(v.reasons).toEqual([]);
    expect(v.flat).toBe(true);
    expect(v.rssFlat && v.diskFlat).toBe(true);
    expect(Math.abs(v.rssMeanGrowth!)).toBeLessThan(0.1);
    expect(Math.abs(v.rssPeakGrowth!)).toBeLessThan(0.1);
  });

  it("passes V8's old-generation sawtooth (the samples at 1, 5 and 10 minutes land anywhere on it)", () => {
    const v = flatnessVerdict(series(v8Sawtooth, sawtooth), criteria);
    expect(v.reasons).toEqual([]);
    expect(v.flat).toBe(true);
    expect(v.rssMaxAfterWarmupBytes).toBeGreaterThan(230 * MiB);
  });

  it('fails a leak of 15 MiB a minute under the same sawtooth', () => {
    const v = flatnessVerdict(
      series((t) => v8Sawtooth(t) + (t / 60_000) * 15 * MiB, sawtooth),
      criteria,
    );
    expect(v.flat).toBe(false);
    expect(v.rssMeanGrowth!).toBeGreaterThan(0.2);
    expect(v.reasons.join(' ')).toMatch(/mean RSS grew \+\d+%/);
  });

  it('fails RSS that keeps growing after warm-up (a leak), and says by how much', () => {
    const v = flatnessVerdict(
      series((t, i) => 100 * MiB + (t / durationMs) * 100 * MiB + wobble(i), sawtooth),
      criteria,
    );
    expect(v.flat).toBe(false);
    expect(v.rssFlat).toBe(false);
    expect(v.diskFlat).toBe(true);
    expect(v.rssMeanGrowth!).toBeGreaterThan(0.2);
    expect(v.rssPeakGrowth!).toBeGreaterThan(0.2);
    expect(v.reasons.join(' ')).toMatch(/mean RSS grew \+\d+%.*peak RSS grew \+\d+%/);
  });

  it('fails disk use that grows like an uncompacted log and crosses the bound', () => {
    // ~15 MB a minute: an uncompacted log at ~1,000 writes/s of ~250-byte entries.
    const v = flatnessVerdict(
      series(
        (_t, i) => 120 * MiB + wobble(i),
        (t) => (t / 60_000) * 15 * MiB,
      ),
      criteria,
    );
    expect(v.flat).toBe(false);
    expect(v.rssFlat).toBe(true);
    expect(v.diskFlat).toBe(false);
    expect(v.reasons.join(' ')).toMatch(/disk reached .* over the .* bound/);
  });

  it('is not flat without samples (a node that died is no evidence of flatness)', () => {
    const v = flatnessVerdict({ tMs: times, rssBytes: times.map(() => null), diskBytes: times.map(() => null) }, criteria);
    expect(v.flat).toBe(false);
    expect(v.reasons).toHaveLength(2);
  });
});

describe('leadershipVerdict', () => {
  const at = (tMs: number, ...terms: (number | null)[]) => ({ tMs, terms: Object.fromEntries(terms.map((t, i) => [`n${i + 1}`, t])) });

  it('is steady when the highest term never moves (a lagging node catching up is no election)', () => {
    const v = leadershipVerdict([at(0, 2, 2, 1), at(1000, 2, 2, 2), at(2000, 2, null, 2)]);
    expect(v).toEqual({ steady: true, firstTerm: 2, lastTerm: 2, termChanges: [] });
  });

  it('reports each sample at which the highest term rose', () => {
    const v = leadershipVerdict([at(0, 1, 1), at(1000, 1, 1), at(2000, 1, 3), at(3000, 4, 4)]);
    expect(v.steady).toBe(false);
    expect(v.termChanges).toEqual([
      { tMs: 2000, term: 3 },
      { tMs: 3000, term: 4 },
    ]);
    expect([v.firstTerm, v.lastTerm]).toEqual([1, 4]);
  });

  it('is not steady when no node ever answered', () => {
    expect(leadershipVerdict([at(0, null, null)]).steady).toBe(false);
  });
});

describe('diskBound', () => {
  it('holds the live log of one snapshot interval plus the trailing entries, and grows with the state', () => {
    const every = defaultSnapshotting.snapshotEveryEntries!;
    const trailing = defaultSnapshotting.snapshotTrailingEntries;
    expect(bound.entryBytes).toBeGreaterThan(100); // the value alone is 100 bytes
    expect(bound.liveLogBytes).toBe((every + trailing) * bound.entryBytes);
    // The garbage kept before a rewrite (at least 8 MiB), the live log, and the rewrite's temp copy of it.
    expect(bound.logFileBytes).toBeGreaterThan(8 * MiB + 2 * bound.liveLogBytes);
    expect(bound.stateBytes).toBeGreaterThan(1000 * 100);
    expect(bound.bytes).toBe(bound.logFileBytes + bound.snapshotFilesBytes);
    const bigger = diskBound({ clients: 32, keys: 10_000, valueBytes: 100 });
    expect(bigger.stateBytes).toBeGreaterThan(9 * bound.stateBytes);
  });
});

describe('npm run bench -- soak (command line)', () => {
  const bench = (args: string[]) =>
    spawnSync(process.execPath, [join(repoRoot, 'dist', 'bench', 'main.js'), 'soak', ...args], { encoding: 'utf8', timeout: 20_000 });

  it('--help prints the usage and exits 0', () => {
    const r = bench(['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^usage: npm run bench -- soak .*--compare-uncompacted/);
  });

  it('a bad option is one line and exit 254', () => {
    for (const args of [['--minutes', '0'], ['--clients', '2.5'], ['--no-such-option']]) {
      const r = bench(args);
      expect(r.status).toBe(254);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });
});

describe('runSoak on a real 5-node cluster', () => {
  it('samples every node and reports the marks, the throughput and a verdict per node', { timeout: 90_000 }, async () => {
    const r = await runSoak({
      minutes: 0.2,
      clients: 4,
      keys: 100,
      valueBytes: 100,
      sampleSeconds: 1,
      rssTolerance: 0.2,
      log: () => undefined,
    });
    const ids = ['n1', 'n2', 'n3', 'n4', 'n5'];
    expect(Object.keys(r.verdicts).sort()).toEqual(ids);
    expect(r.marks.map((m) => m.label)).toEqual(['1 s', '6 s', '12 s']);
    expect(r.samples.length).toBeGreaterThanOrEqual(12);
    for (const s of r.samples.slice(1)) {
      for (const id of ids) {
        expect(s.rssBytes[id]).toBeGreaterThan(10 * MiB); // a Node.js process
        expect(s.diskBytes[id]).toBeGreaterThan(0);
        expect(s.logEntries[id]).toBeGreaterThan(0); // from the node's status over IPC
      }
    }
    expect(r.writes).toBeGreaterThan(0);
    // The measured period ends at the last sample.
    expect(r.samples[r.samples.length - 1]!.writes).toBe(r.writes);
    expect(r.throughput.length).toBeGreaterThanOrEqual(9);
    expect(r.throughput.every((t) => t.writesPerSecond >= 0 && t.toS > t.fromS)).toBe(true);
    const report = soakReport(r);
    for (const id of ids) expect(report).toMatch(new RegExp(`^${id}: (FLAT|NOT FLAT): RSS `, 'm'));
    expect(report).toMatch(/^verdict: /m);
    expect(report).toMatch(/^leadership: (steady|NOT STEADY)/m);
    for (const s of r.samples.slice(1)) for (const id of ids) expect(s.terms[id]).toBeGreaterThan(0);
    expect(report).toMatch(/load average \(1 min\) at the marks: 1 s [\d.]+, 6 s/);
  });
});
