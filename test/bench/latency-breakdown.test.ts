/**
 * The breakdown's arithmetic on hand-made marks (one module; no processes),
 * and the real thing: a traced 5-node cluster, every stage present for every
 * write and read, in the order the node promises (the leader sends before its
 * own fsync, thesis §10.2.1).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { latencyBreakdown, type Breakdown } from '../../bench/latency-breakdown.js';
import { measureLatency } from '../../bench/latency.js';
import { parseProbeTrace, STAGE, type ProbeMark, type Stage } from '../../node/latency-probe.js';
import { RecordingProbe } from '../../node/latency-recorder.js';

const m = (stage: Stage, key: number, timeMs: number): ProbeMark => ({ stage, key, timeMs });

/** One write at index `i`, starting at `t`, with known stage durations; followers n2 (fast) and n3 (slow). */
function writeMarks(i: number, t: number): Map<string, ProbeMark[]> {
  return new Map([
    [
      'n1',
      [
        m('client_request', i, t),
        m('propose', i, t + 0.1),
        m('peer_send', i, t + 0.3),
        m('peer_send', i, t + 0.3),
        m('persist_start', i, t + 0.35),
        m('persist_end', i, t + 0.6),
        m('ack_receive', i, t + 1.2), // n2's
        m('ack_receive', i, t + 1.5), // n3's: the second ack makes the majority of 3
        m('commit', i, t + 1.6),
        m('apply', i, t + 1.65),
        m('reply_send', i, t + 1.7),
      ],
    ],
    [
      'n2',
      [
        m('peer_receive', i, 50 + t),
        m('persist_start', i, 50 + t + 0.1),
        m('persist_end', i, 50 + t + 0.5),
        m('ack_send', i, 50 + t + 0.6),
      ],
    ],
    [
      'n3',
      [
        m('peer_receive', i, 90 + t),
        m('persist_start', i, 90 + t + 0.2),
        m('persist_end', i, 90 + t + 0.9),
        m('ack_send', i, 90 + t + 1.0),
      ],
    ],
  ]);
}

function stage(breakdown: Breakdown, name: string): { samples: number; p50Ms: number } {
  const found = breakdown.writeStages.find((s) => s.name.startsWith(name)) ?? breakdown.readStages.find((s) => s.name.startsWith(name));
  if (found === undefined) throw new Error(`no stage ${name}: ${breakdown.writeStages.map((s) => s.name).join('; ')}`);
  return found;
}

describe('latencyBreakdown (hand-made marks)', () => {
  it('takes every delta inside one process and finds the majority ack', () => {
    const traces = writeMarks(7, 1000);
    const b = latencyBreakdown(traces, 3, [2.5], []);
    expect(b).toMatchObject({ leader: 'n1', writes: 1, reads: 0, leaderFsyncBound: 0 });
    expect(stage(b, 'L receive → propose').p50Ms).toBeCloseTo(0.1);
    expect(stage(b, 'L propose → peer send').p50Ms).toBeCloseTo(0.2);
    expect(stage(b, 'L fsync').p50Ms).toBeCloseTo(0.25);
    // Quorum of 3 = leader + 1 follower: the first ack (1.2) made it; peer send was at 0.3.
    expect(stage(b, 'L peer send → quorum ack').p50Ms).toBeCloseTo(0.9);
    // The follower that held it the shortest is n2 (0.6 ms): network = (1.2 - 0.3) - 0.6.
    expect(stage(b, 'F fsync').p50Ms).toBeCloseTo(0.4);
    expect(stage(b, 'network L → F → L').p50Ms).toBeCloseTo(0.3);
    expect(stage(b, 'L quorum ack').p50Ms).toBeCloseTo(0.4);
    expect(stage(b, 'L receive → reply send').p50Ms).toBeCloseTo(1.7);
    expect(stage(b, 'network client → L → client').p50Ms).toBeCloseTo(0.8);
  });

  it('with 5 nodes the second ack makes the majority; a late own fsync is counted as the bound', () => {
    const traces = writeMarks(3, 0);
    // The leader's fsync ends after both acks.
    traces.set(
      'n1',
      traces.get('n1')!.map((mark) => (mark.stage === 'persist_end' ? m('persist_end', 3, 1.55) : mark)),
    );
    traces.set('n4', []);
    traces.set('n5', []);
    const b = latencyBreakdown(traces, 5, [2], []);
    expect(stage(b, 'L peer send → quorum ack').p50Ms).toBeCloseTo(1.2);
    expect(b.leaderFsyncBound).toBe(1);
    expect(stage(b, 'L quorum ack (or own fsync, if later)').p50Ms).toBeCloseTo(0.05);
  });

  it('reads: leadership round, then the wait for apply', () => {
    const traces = writeMarks(1, 0);
    traces.get('n1')!.push(m('read_request', 1, 10), m('read_confirmed', 1, 10.4), m('read_reply', 1, 10.5));
    const b = latencyBreakdown(traces, 3, [2], [0.9]);
    expect(b.reads).toBe(1);
    expect(stage(b, 'L read receive → confirmed').p50Ms).toBeCloseTo(0.4);
    expect(stage(b, 'L confirmed → reply send').p50Ms).toBeCloseTo(0.1);
  });

  it('refuses traces in which nobody proposed (tracing was off)', () => {
    expect(() => latencyBreakdown(new Map([['n1', []]]), 3, [], [])).toThrow(/--latency-trace/);
  });
});

describe('RecordingProbe', () => {
  it('round-trips through its text form and keeps only the newest marks when full', () => {
    const probe = new RecordingProbe(4);
    for (let i = 1; i <= 6; i++) probe.mark(STAGE.apply, i, i * 1.5);
    const { marks, badLines } = parseProbeTrace(probe.text());
    expect(badLines).toBe(0);
    expect(marks).toEqual([3, 4, 5, 6].map((i) => m('apply', i, i * 1.5)));
    expect(parseProbeTrace('apply 1 2\nnot-a-stage 1 2\napply x 2\n')).toMatchObject({ badLines: 2 });
  });
});

describe('--latency-trace on a real 5-node cluster', () => {
  it('marks every stage of every write and read, and the leader sends before its own fsync (§10.2.1)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rift-latency-test-'));
    try {
      const { breakdown: b, writeFigures } = await measureLatency(40, 20, dir);
      expect(b.writes).toBe(40);
      // The CPU per write read from /proc while the writes ran: the leader and the followers spent some.
      expect(writeFigures.writes).toBe(40);
      expect(writeFigures.followers).toBe(4);
      expect(writeFigures.leader.userUs + writeFigures.leader.systemUs).toBeGreaterThan(0);
      expect(writeFigures.p50Ms).toBeGreaterThan(0);
      expect(b.reads).toBe(20);
      for (const s of [...b.writeStages, ...b.readStages]) {
        expect(s.samples, s.name).toBe(s.name.includes('read') || b.readStages.includes(s) ? 20 : 40);
        expect(Number.isFinite(s.p50Ms), s.name).toBe(true);
      }
      expect(stage(b, 'L peer send → persist start').p50Ms).toBeGreaterThanOrEqual(0);
      expect(stage(b, 'L fsync').p50Ms).toBeGreaterThan(0);
      expect(stage(b, 'F fsync').p50Ms).toBeGreaterThan(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
