/**
 * founded-acks (mc/model.ts checkAcknowledgements, sim/stepped/answer-rules.ts): what the model checker takes for
 * the answer to a delivered request. The three flags it finds are in snapshots.test.ts, clock.test.ts and
 * membership.test.ts; this file keeps the property from judging answers that are not the request's.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Model } from '../../mc/model.js';
import { describeEvent, parseTrace } from '../../sim/stepped/trace.js';
import { replayTrace } from '../../sim/stepped/replay.js';
import { flags, optionsOf, walkEvents } from './helpers.js';

/**
 * A swarm walk on the correct core (2026-12-07, `--mode swarm --seed 41 --max-depth 200 --reads 1 --writes 2
 * --crashes 1 --drops 1 --dups 1 --timeouts 2 --retries 1 --fault-budgets cluster --spares 1 --config-changes 3
 * --snapshots 3 --snapshot-chunk-bytes 128 --stream-timeouts 1 --max-term 4 --max-log 8`, walk 88,589) reported a
 * violation at its 44th event: n1, waiting on the fsync of its answer to n2's term-3 AppendEntries (seq 1), is
 * delivered n2's term-1 AppendEntries, also seq 1. Its Ready still held the term-3 answer (match=3 seq=1), which
 * the check took for an echo of the term-1 request's seq. n1's own answer to it (reject, seq 0) was in its core,
 * sent after the fsync: correct. A waiting node is no longer judged at delivery (the fsync-first order is).
 */
const HUNT = flags({
  seed: 41,
  reads: 1,
  writes: 2,
  crashes: 1,
  drops: 1,
  dups: 1,
  timeouts: 2,
  retries: 1,
  'fault-budgets': 'cluster',
  spares: 1,
  'config-changes': 3,
  snapshots: 3,
  'snapshot-chunk-bytes': 128,
  'stream-timeouts': 1,
  'max-term': 4,
  'max-log': 8,
});

describe('founded-acks judges only the answers a request made', () => {
  it("a waiting node's Ready holds an earlier request's answer, not an echo: no violation on the walk that reported one", () => {
    const trace = parseTrace(
      JSON.parse(readFileSync(new URL('./testdata/waiting-answer-not-an-echo.trace.json', import.meta.url), 'utf8')),
    );
    const model = new Model(optionsOf(HUNT));
    const steps = trace.events.map((event) => describeEvent(event, trace.ops));
    const walked = walkEvents(model, steps);
    expect(walked.events).toHaveLength(45);
    expect(walked.violation).toBeNull();
    // The replay (the wire's view) agrees: nothing wrong on these events.
    expect(replayTrace(trace).violations).toEqual([]);
  });
});
