import { describe, expect, it } from 'vitest';
import type { HistoryEntry } from '../../harness/history.js';
import { OpStats, Progress, statusLine, type Phase } from '../../harness/progress.js';

function feed(stats: OpStats, entries: [HistoryEntry, Phase][]): void {
  for (const [e, p] of entries) stats.onEntry(e, p);
}

describe('OpStats', () => {
  it('counts by type and f, and availability per phase of the invoke', () => {
    const s = new OpStats();
    feed(s, [
      [{ process: 0, type: 'invoke', f: 'write', key: 'k0', value: 1 }, 'healed'],
      [{ process: 1, type: 'invoke', f: 'cas', key: 'k0', value: [1, 2] }, 'faults'],
      [{ process: 'nemesis', type: 'invoke', f: 'kill', value: null }, 'faults'],
      // Completions count in the phase their invoke was in, whatever the phase is now.
      [{ process: 0, type: 'ok', f: 'write', key: 'k0', value: 1 }, 'faults'],
      [{ process: 1, type: 'fail', f: 'cas', key: 'k0', value: [1, 2], error: 'cas_mismatch' }, 'healed'],
      [{ process: 2, type: 'invoke', f: 'read', key: 'k0', value: null }, 'faults'],
      [{ process: 2, type: 'fail', f: 'read', key: 'k0', value: null, error: 'timeout: no reply' }, 'faults'],
      [{ process: 3, type: 'invoke', f: 'write', key: 'k1', value: 1 }, 'faults'],
      [{ process: 3, type: 'info', f: 'write', key: 'k1', value: 1, error: 'timeout' }, 'faults'],
      [{ process: 4, type: 'invoke', f: 'write', key: 'k1', value: 2 }, 'faults'], // never completes
      [{ process: 5, type: 'invoke', f: 'read', key: 'k1', value: null }, 'final'],
      [{ process: 5, type: 'ok', f: 'read', key: 'k1', value: 2 }, 'final'],
    ]);
    const snap = s.snapshot();
    expect(snap.byType).toEqual({ invoke: 6, ok: 2, fail: 2, info: 1 });
    expect(snap.byF.write).toEqual({ invoke: 3, ok: 1, fail: 0, info: 1 });
    expect(snap.byF.kill).toBeUndefined();
    expect(snap.phases.healed).toMatchObject({ ops: 1, ok: 1, fail: 0, info: 0, answered: 1, availability: 1 });
    // faults: cas mismatch (answered), read timeout (fail), write info, write pending (info).
    expect(snap.phases.faults).toMatchObject({ ops: 4, ok: 0, fail: 2, info: 2, answered: 1, availability: 0.25, okFraction: 0 });
    expect(snap.phases.final).toMatchObject({ ops: 1, ok: 1, availability: 1 });
    expect(snap.overall).toMatchObject({ ops: 5, ok: 1, answered: 2, availability: 0.4 });
  });

  it('availability is null for an empty phase', () => {
    expect(new OpStats().snapshot().phases.faults.availability).toBeNull();
  });
});

describe('Progress', () => {
  it('without a TTY prints plain lines (no carriage returns)', () => {
    let out = '';
    const p = new Progress({ write: (s: string) => (out += s), isTTY: false }, true);
    p.start(() => 'status');
    p.log('hello');
    p.stop();
    expect(out).toBe('hello\n');
  });

  it('on a TTY rewrites the status line and prints logs above it', () => {
    let out = '';
    const p = new Progress({ write: (s: string) => (out += s), isTTY: true, columns: 80 }, true);
    p.start(() => 'status');
    p.log('hello');
    p.stop();
    expect(out).toContain('\r\x1b[2Kstatus');
    expect(out).toContain('hello\n');
    expect(out.endsWith('\r\x1b[2K')).toBe(true);
  });

  it('--quiet prints nothing', () => {
    let out = '';
    const p = new Progress({ write: (s: string) => (out += s), isTTY: true }, false);
    p.start(() => 'status');
    p.log('hello');
    p.stop();
    expect(out).toBe('');
  });

  it('status line names elapsed time, counts, faults and the leader', () => {
    expect(
      statusLine({ elapsedMs: 1500, timeLimitMs: 30_000, phase: 'workload', ok: 3, fail: 1, info: 0, faults: ['n2 killed'], leader: 'n1' }),
    ).toBe('[1.5s/30.0s workload] ok 3 fail 1 info 0 | faults: n2 killed | leader: n1');
  });
});
