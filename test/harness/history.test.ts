import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { parseHistoryText } from '../../checker/index.js';
import { HistoryWriter, formatTxtLine, type HistoryEntry } from '../../harness/history.js';

/** The random test's seed, in its name; replay with FC_SEED=<seed>. */
const seed = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : Date.now() % 2 ** 31;

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'rift-history-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A fake clock: 1 ms per reading. */
function ticking(): () => bigint {
  let t = 0n;
  return () => (t += 1_000_000n);
}

const sample: HistoryEntry[] = [
  { process: 0, type: 'invoke', f: 'write', key: 'k0', value: 1 },
  { process: 1, type: 'invoke', f: 'read', key: 'k0', value: null },
  { process: 'nemesis', type: 'invoke', f: 'start-partition', value: { shape: 'halves' } },
  { process: 0, type: 'ok', f: 'write', key: 'k0', value: 1 },
  { process: 'nemesis', type: 'info', f: 'start-partition', value: { grudge: { n1: ['n2'] } } },
  { process: 1, type: 'ok', f: 'read', key: 'k0', value: 1 },
  { process: 2, type: 'invoke', f: 'cas', key: 'k0', value: [1, 2] },
  { process: 2, type: 'fail', f: 'cas', key: 'k0', value: [1, 2], error: 'cas_mismatch' },
  { process: 3, type: 'invoke', f: 'cas', key: 'k1', value: [null, 1] },
  { process: 3, type: 'info', f: 'cas', key: 'k1', value: [null, 1], error: 'timeout: no reply from n2' },
];

describe('HistoryWriter', () => {
  it('writes corpus-format JSON Lines that the checker reads back (round trip)', () => {
    const dir = tempDir();
    const w = new HistoryWriter(dir, 0n, ticking());
    const written = sample.map((e) => w.append(e));
    w.close();
    expect(w.count).toBe(sample.length);
    const text = readFileSync(join(dir, 'history.jsonl'), 'utf8');
    const lines = text.trimEnd().split('\n');
    expect(lines).toHaveLength(sample.length);
    lines.forEach((line, i) => {
      const obj = JSON.parse(line) as Record<string, unknown>;
      expect(obj.index).toBe(i);
      expect(obj.time).toBe((i + 1) * 1_000_000);
      expect(obj).toMatchObject({ ...sample[i] });
      expect(written[i]).toEqual(obj);
      if (sample[i]!.key === undefined) expect('key' in obj).toBe(false);
    });
    const ops = parseHistoryText(text, 'jsonl');
    expect(ops).toHaveLength(sample.length);
    expect(ops.map((o) => [o.process, o.type, o.f, o.value])).toEqual(sample.map((e) => [e.process, e.type, e.f, e.value]));
    expect(ops[7]!.error).toBe('cas_mismatch');
  });

  it(`any sequence of entries round-trips through the checker's reader (seed ${seed})`, () => {
    const entryArb: fc.Arbitrary<HistoryEntry> = fc.oneof(
      fc.record(
        {
          process: fc.nat({ max: 50 }),
          type: fc.constantFrom('invoke' as const, 'ok' as const, 'fail' as const, 'info' as const),
          f: fc.constantFrom('read', 'write', 'cas'),
          key: fc.stringMatching(/^k\d{1,3}$/),
          value: fc.oneof(fc.constant(null), fc.integer(), fc.tuple(fc.option(fc.integer(), { nil: null }), fc.integer())),
        },
        { requiredKeys: ['process', 'type', 'f', 'key', 'value'] },
      ),
      fc.record({
        process: fc.constant('nemesis'),
        type: fc.constantFrom('invoke' as const, 'info' as const),
        f: fc.constantFrom('kill', 'start'),
        value: fc.jsonValue(),
      }),
    );
    fc.assert(
      fc.property(fc.array(entryArb, { maxLength: 30 }), (entries) => {
        const dir = tempDir();
        const w = new HistoryWriter(dir, 0n, ticking());
        for (const e of entries) w.append(e);
        w.close();
        const text = readFileSync(join(dir, 'history.jsonl'), 'utf8');
        const ops = text === '' ? [] : parseHistoryText(text, 'jsonl');
        expect(ops.map((o) => o.index)).toEqual(entries.map((_, i) => i));
        expect(ops.map((o) => o.f)).toEqual(entries.map((e) => e.f));
        // JSON-normalised values (e.g. -0 becomes 0) survive the trip.
        expect(ops.map((o) => o.value)).toEqual(entries.map((e) => JSON.parse(JSON.stringify(e.value ?? null)) as unknown));
        rmSync(dir, { recursive: true, force: true });
      }),
      { numRuns: 50, seed },
    );
  });

  it("writes Jepsen's tab-separated history.txt", () => {
    const dir = tempDir();
    const w = new HistoryWriter(dir, 0n, ticking());
    for (const e of sample) w.append(e);
    w.close();
    const lines = readFileSync(join(dir, 'history.txt'), 'utf8').trimEnd().split('\n');
    expect(lines[0]).toBe('0\tinvoke\twrite\tk0\t1');
    expect(lines[1]).toBe('1\tinvoke\tread\tk0\tnull');
    expect(lines[2]).toBe('nemesis\tinvoke\tstart-partition\t\t{"shape":"halves"}');
    expect(lines[7]).toBe('2\tfail\tcas\tk0\t[1,2]\tcas_mismatch');
    expect(lines[8]).toBe('3\tinvoke\tcas\tk1\t[null,1]');
    for (const l of lines) expect(l.split('\t').length).toBeGreaterThanOrEqual(5);
  });

  it('keeps tabs and newlines out of txt fields', () => {
    expect(formatTxtLine({ process: 1, type: 'fail', f: 'read', key: 'k', value: null, error: 'a\tb\nc' })).toBe(
      '1\tfail\tread\tk\tnull\ta b c',
    );
  });

  it('refuses appends after close, and close is idempotent', () => {
    const w = new HistoryWriter(tempDir(), 0n, ticking());
    w.append(sample[0]!);
    w.close();
    w.close();
    expect(() => w.append(sample[1]!)).toThrow(/closed/);
  });

  it('times are nanoseconds since the origin on the real clock', () => {
    const origin = process.hrtime.bigint();
    const w = new HistoryWriter(tempDir(), origin);
    const a = w.append(sample[0]!);
    const b = w.append(sample[1]!);
    w.close();
    expect(a.time).toBeGreaterThanOrEqual(0);
    expect(b.time).toBeGreaterThanOrEqual(a.time);
  });
});
