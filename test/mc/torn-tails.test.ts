/**
 * Torn tails in the model (`--torn-tails`, mc/model.ts `tear`; issue 15 defect 3): the last frame of a down
 * node's log is damaged. A correct node refuses to start (the storage's checksums) until the end-of-path heal
 * repairs its disk; under --unsafe torn-tail-dropped the storage drops the frame (the model: its last entry) and
 * the node starts without an entry it had acknowledged. The search finds the flag's consequence from scratch;
 * the simulator's replay confirms it and cannot run the same events without the flag (the restart is refused).
 */
import { describe, expect, it } from 'vitest';
import { Model } from '../../mc/model.js';
import { replayTrace } from '../../sim/stepped/replay.js';
import { check, flags, LEADER_PUT_CRASH_TIMER, optionsOf, traceOf, walkEvents } from './helpers.js';

const TORN = flags({ ...LEADER_PUT_CRASH_TIMER, 'torn-tails': 1 });

/** The prelude's leader n1 takes the put, n2 acknowledges it, n1 commits it; then n1 goes down and its last frame tears. */
const COMMIT_THEN_TEAR = [
  'request n1 op0',
  'fsync n1',
  'deliver n1->n2 MsgApp',
  'fsync n2',
  'deliver n2->n1 MsgAppResp term=1 match=2',
  'crash n1',
  'tear-last-frame n1',
];

describe('torn tails (--torn-tails)', () => {
  it('a correct node whose last frame tore does not start again; under the flag it starts without its last entry', () => {
    const correct = new Model(optionsOf(TORN));
    const walked = walkEvents(correct, COMMIT_THEN_TEAR);
    expect(walked.violation).toBeNull();
    const enabled = (model: Model, world = walked.world): string[] => {
      const out: Parameters<Model['actions']>[1] = [];
      model.actions(world, out);
      return out.map((a) => `${a.kind} ${'node' in a ? a.node : ''}`);
    };
    expect(enabled(correct)).not.toContain('restart 0');
    expect(enabled(correct)).not.toContain('tear 0'); // one torn frame per node (--torn-tails 1)

    const unsafe = new Model(optionsOf([...TORN, '--unsafe', 'torn-tail-dropped']));
    const dropped = walkEvents(unsafe, [...COMMIT_THEN_TEAR, 'restart n1']);
    expect(dropped.violation).toBeNull();
    const restarted = dropped.events.at(-1)!;
    expect(restarted.kind).toBe('restart');
    // The replay runs the same events: n1 comes back without the put (its last entry, 2@1).
    const replay = replayTrace(traceOf(unsafe, dropped.events));
    expect(replay.violations).toEqual([]);
    expect(replay.steps).toBe(dropped.events.length);
    const afterRestart = replay.lines.slice(replay.lines.findIndex((l) => l.includes('restart n1')));
    expect(afterRestart.find((l) => l.includes('n1: role='))).toMatch(/last=1@1/);
    // Without the flag, the simulator's stepped cluster refuses that restart.
    const refused = replayTrace(traceOf(correct, dropped.events));
    expect(JSON.stringify(refused.violations)).toContain('restart n1: it refuses to start (its last log frame is damaged)');
  });

  it('--unsafe torn-tail-dropped: found from scratch by swarm walks; replayed; not without the flag', async () => {
    const found = await check([...TORN, '--unsafe', 'torn-tail-dropped', '--mode', 'swarm', '--seed', '1', '--walks', '2000']);
    expect(found.result.finding?.violation.property).toBe('leader-completeness');
    expect(found.replayConfirmed).toBe(true);
    expect(found.flagsNeeded).toBe(true);
    expect(found.lines.some((l) => l.includes('refuses to start (its last log frame is damaged)'))).toBe(true);
  });

  it('the correct core passes the same walks (torn frames refused, repaired at the end-of-path heal)', async () => {
    const correct = await check([...TORN, '--mode', 'swarm', '--seed', '1', '--walks', '2000']);
    expect(correct.result.finding).toBeNull();
    expect(correct.result.stopped).toBe('walks-done');
  });
});
