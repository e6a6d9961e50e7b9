/**
 * Counterexamples (mc/trace.ts) are stepped traces the simulator replays
 * on its own (`npm run sim -- --replay FILE`, sim/stepped/replay.ts): the
 * replay of a found trace reports the violation and exits 1, and the same
 * trace without its last (violating) event replays clean, so the replay
 * judges the events rather than echoing the file's finding.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXIT } from '../../checker/exit-codes.js';
import { parseTrace } from '../../sim/stepped/trace.js';
import { tempDir } from '../harness/temp-dirs.js';
import { check, flags, ELECTIONS_ONE_CRASH, LEADER_PUT_READ, runDist } from './helpers.js';

function replay(file: string): { status: number | null; stdout: string } {
  const r = runDist('sim', ['--replay', file], 60_000);
  return { status: r.status, stdout: r.stdout + r.stderr };
}

describe('a model-checker counterexample replays in the simulator', () => {
  it('--unsafe local-reads: the written trace replays to the read-safety violation; without its last event, to none', async () => {
    const r = await check(['--unsafe', 'local-reads', ...flags(LEADER_PUT_READ)]);
    expect(r.result.finding?.violation.property).toBe('read-safety');
    const file = r.traceFile!;
    const trace = parseTrace(JSON.parse(readFileSync(file, 'utf8')));
    expect(trace.events.length).toBe(r.counterexampleEvents);
    expect(trace.params.unsafe.localReads).toBe(true);
    // The numbered listing is printed with the summary.
    expect(r.lines.some((l) => l.startsWith('replay:  npm run sim -- --replay '))).toBe(true);

    const found = replay(file);
    expect(found.status).toBe(EXIT.invalid);
    expect(found.stdout).toContain('VIOLATION');
    expect(found.stdout).toContain('read safety');

    const dir = tempDir('rift-mc-trace-');
    const cut = join(dir, 'cut.trace.json');
    const { finding: _finding, ...rest } = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown> & { events: unknown[] };
    writeFileSync(cut, JSON.stringify({ ...rest, events: rest.events.slice(0, -1) }));
    const clean = replay(cut);
    expect(clean.stdout).toContain('no violation');
    expect(clean.status).toBe(EXIT.valid);
  });

  it('--unsafe no-persist-vote: the trace replays to two leaders in one term', async () => {
    // CI-sized without the unsound --por: one crash in the cluster, at most 4 messages in flight (270,318 states).
    const r = await check(['--unsafe', 'no-persist-vote', ...flags(ELECTIONS_ONE_CRASH)]);
    const found = replay(r.traceFile!);
    expect(found.status).toBe(EXIT.invalid);
    expect(found.stdout).toMatch(/election safety: two leaders in term 1/);
  });

  it('a malformed trace file is bad input (exit 254)', () => {
    const dir = tempDir('rift-mc-trace-');
    const bad = join(dir, 'bad.trace.json');
    writeFileSync(bad, '{"format": "something else"}');
    expect(replay(bad).status).toBe(EXIT.usage);
  });
});
