/**
 * `npm run mc` as a process (dist/mc/cli.js): --help documents every bound
 * and option it parses, and the exit codes are the project's
 * (checker/exit-codes.ts): 0 when the bounded space holds no violation, 1
 * on a violation (with the counterexample written and the JSON summary
 * saying so), 2 when the search stopped before covering the space, 254 on
 * bad arguments.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXIT } from '../../checker/exit-codes.js';
import { tempDir } from '../harness/temp-dirs.js';
import { flags, ELECTIONS, LEADER_PUT_CRASH, LEADER_PUT_CRASH_TIMER, runDist } from './helpers.js';

function mc(args: readonly string[]): { status: number | null; stdout: string; stderr: string } {
  return runDist('mc', args, 120_000);
}

const BOUND_FLAGS = [
  'nodes',
  'max-term',
  'max-log',
  'max-inflight',
  'timeouts',
  'max-time',
  'crashes',
  'drops',
  'dups',
  'pauses',
  'disk-faults',
  'torn-tails',
  'transfers',
  'writes',
  'cas',
  'reads',
  'keys',
  'retries',
  'max-depth',
];
const OTHER_FLAGS = [
  'election-ticks',
  'heartbeat-ticks',
  'tick-steps',
  'read-mode',
  'time',
  'start',
  'drift-bound',
  'unsafe',
  'properties',
  'no-symmetry',
  'no-por',
  'por',
  'no-dead-messages',
  'noop-deliveries',
  'no-memo',
  'mode',
  'depth-step',
  'walks',
  'seed',
  'workers',
  'max-states',
  'progress-ms',
  'out',
  'json',
  'quiet',
];

describe('npm run mc', () => {
  it('--help documents every bound and option, the properties and the exit codes', () => {
    const r = mc(['--help']);
    expect(r.status).toBe(EXIT.valid);
    for (const flag of [...BOUND_FLAGS, ...OTHER_FLAGS]) expect(r.stdout).toContain(`--${flag}`);
    for (const property of [
      'election-safety',
      'leader-append-only',
      'log-matching',
      'leader-completeness',
      'state-machine-safety',
      'read-safety',
      'linearizability',
      'liveness',
    ]) {
      expect(r.stdout).toContain(property);
    }
    expect(r.stdout).toMatch(/Exit codes.*0 no violation.*1 violation.*2 unknown.*254 bad arguments/s);
  });

  it('bad arguments exit 254 with the usage', () => {
    for (const args of [
      ['--nodes', '9'],
      ['--no-such-flag'],
      ['--unsafe', 'not-a-flag'],
      ['--read-mode', 'lease', '--unsafe', 'forget-lease-on-restart', '--read-mode', 'readindex'],
      // The offset bound of the old tick model is gone (mc/clock.ts bounds rates); no clock rates lie strictly within 1.
      ['--skew', '1'],
      ['--read-mode', 'lease', '--drift-bound', '1'],
    ]) {
      const r = mc(args);
      expect(r.status, args.join(' ')).toBe(EXIT.usage);
      expect(r.stderr).toContain('usage: npm run mc');
    }
  });

  it('exit 0 when the bounded space is exhausted with no violation; the JSON summary says so', () => {
    const json = join(tempDir('rift-mc-json-'), 'summary.json');
    const r = mc([...flags(LEADER_PUT_CRASH), '--quiet', '--json', json]);
    expect(r.stdout).toContain('summary: EXHAUSTED the bounded space');
    expect(r.status).toBe(EXIT.valid);
    const summary = JSON.parse(readFileSync(json, 'utf8')) as { stopped: string; complete: boolean; distinct: number; violation: unknown };
    expect(summary).toMatchObject({ stopped: 'exhausted', complete: true, violation: null });
    expect(summary.distinct).toBeGreaterThan(10);
  });

  it('exit 1 on a violation, with the trace written where --out says', () => {
    const out = tempDir('rift-mc-out-');
    const json = join(out, 'summary.json');
    const r = mc(['--unsafe', 'memory-log', ...flags(LEADER_PUT_CRASH_TIMER), '--quiet', '--out', out, '--json', json]);
    expect(r.status).toBe(EXIT.invalid);
    expect(r.stdout).toContain('VIOLATION of election-safety');
    const summary = JSON.parse(readFileSync(json, 'utf8')) as { traceFile: string; replayConfirmed: boolean };
    expect(summary.replayConfirmed).toBe(true);
    expect(summary.traceFile.startsWith(out)).toBe(true);
    expect(existsSync(summary.traceFile)).toBe(true);
  });

  it('exit 2 when the visited set fills before the space is covered', () => {
    const r = mc([...flags(ELECTIONS), '--max-states', '1000', '--quiet']);
    expect(r.stdout).toContain('stopped: visited-full');
    expect(r.status).toBe(EXIT.unknown);
  });
});
