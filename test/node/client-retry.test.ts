/**
 * The client retry policy (node/client-retry.ts), pure, with an injected
 * random source: what each outcome leads to, the redirect on not_leader, the
 * capped exponential backoff with full jitter, and info versus fail.
 *
 * Replay the property: `RETRY_PROPERTY_SEED=<seed> npx vitest run test/node/client-retry.test.ts`.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  attemptWaitMs,
  awaitLeaderFor,
  backoffAfterMs,
  backoffMs,
  defaultRetryPolicy,
  judgeAttempt,
  nextNode,
  nextSuspicion,
  suspectAt,
  timedOutOpType,
  type RandomInt,
  type RetryPolicy,
} from '../../node/client-retry.js';
import { createPrng } from '../../node/raft/prng.js';

const nodes = ['n1', 'n2', 'n3'];
const policy: RetryPolicy = { attemptTimeoutMs: 250, backoffMsMin: 10, backoffMsMax: 200, suspicionMs: 300, awaitLeaderShare: 0 };

/** A random source that always draws its upper bound, recording every call. */
function highest(): { random: RandomInt; calls: [number, number][] } {
  const calls: [number, number][] = [];
  return { calls, random: (min, max) => (calls.push([min, max]), max) };
}

describe('judgeAttempt', () => {
  it('ends the operation on a definite answer', () => {
    expect(judgeAttempt({ status: 'ok', value: '7' }, 'n1', nodes)).toEqual({ kind: 'ok', value: '7' });
    expect(judgeAttempt({ status: 'ok', value: null }, 'n1', nodes)).toEqual({ kind: 'ok', value: null });
    expect(judgeAttempt({ status: 'cas_mismatch', actual: '3' }, 'n1', nodes)).toEqual({ kind: 'fail', error: 'cas_mismatch' });
    expect(judgeAttempt({ status: 'invalid', code: 'key_too_large', message: 'key of 300 bytes' }, 'n1', nodes)).toEqual({
      kind: 'fail',
      error: 'key_too_large: key of 300 bytes',
    });
  });

  it('follows a fresh leader hint at once, without a backoff', () => {
    expect(judgeAttempt({ status: 'not_leader', leaderHint: 'n3' }, 'n1', nodes)).toEqual({
      kind: 'retry',
      target: 'n3',
      backoff: false,
      lastError: 'not_leader (hint n3)',
    });
  });

  it('moves to the next node after a backoff when the hint is missing, stale or unknown', () => {
    expect(judgeAttempt({ status: 'not_leader', leaderHint: null }, 'n1', nodes)).toEqual({
      kind: 'retry',
      target: 'n2',
      backoff: true,
      lastError: 'not_leader (hint none)',
    });
    expect(judgeAttempt({ status: 'not_leader', leaderHint: 'n1' }, 'n1', nodes)).toEqual({
      kind: 'retry',
      target: 'n2',
      backoff: true,
      lastError: 'not_leader (hint n1)',
    });
    expect(judgeAttempt({ status: 'not_leader', leaderHint: 'n9' }, 'n3', nodes)).toEqual({
      kind: 'retry',
      target: 'n1',
      backoff: true,
      lastError: 'not_leader (hint n9)',
    });
  });

  it('retries the same node after a backoff when it is unavailable, the next one when it does not answer', () => {
    expect(judgeAttempt({ status: 'unavailable', reason: 'no_quorum' }, 'n2', nodes)).toEqual({
      kind: 'retry',
      target: 'n2',
      backoff: true,
      lastError: 'unavailable: no_quorum',
    });
    expect(judgeAttempt(null, 'n2', nodes)).toEqual({ kind: 'retry', target: 'n3', backoff: true, lastError: 'no reply from n2' });
  });
});

describe('backoff', () => {
  it('doubles from 2 x backoffMsMin up to the cap', () => {
    const { random, calls } = highest();
    const sleeps = [1, 2, 3, 4, 5, 6, 20].map((failures) => backoffMs(policy, failures, 10_000, random));
    expect(sleeps).toEqual([20, 40, 80, 160, 200, 200, 200]);
    expect(calls.every(([min]) => min === 0)).toBe(true);
  });

  it('stops doubling after 2^10 even under a huge cap', () => {
    const { random } = highest();
    const wide: RetryPolicy = { ...policy, backoffMsMin: 1, backoffMsMax: 1e9 };
    expect(backoffMs(wide, 10, 1e9, random)).toBe(1024);
    expect(backoffMs(wide, 50, 1e9, random)).toBe(1024);
  });

  it('never sleeps past the deadline, and draws nothing once the deadline has passed', () => {
    const { random, calls } = highest();
    expect(backoffMs(policy, 5, 37, random)).toBe(37);
    expect(calls).toHaveLength(1);
    expect(backoffMs(policy, 5, 0, random)).toBeNull();
    expect(backoffMs(policy, 5, -3, random)).toBeNull();
    expect(calls).toHaveLength(1);
  });

  const seed = Number(process.env['RETRY_PROPERTY_SEED'] ?? Math.floor(Math.random() * 0x7fffffff));
  it(`jitter: every sleep is a draw in [0, cap] within the deadline (fast-check seed ${seed})`, () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 100 }),
        fc.integer({ min: 0, max: 5000 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: -100, max: 5000 }),
        fc.integer({ min: 0, max: 0xffffffff }),
        (backoffMsMin, extra, failures, remainingMs, prngSeed) => {
          const p: RetryPolicy = {
            attemptTimeoutMs: 250,
            backoffMsMin,
            backoffMsMax: backoffMsMin + extra,
            suspicionMs: 300,
            awaitLeaderShare: 0,
          };
          const prng = createPrng(prngSeed);
          const drawn: number[] = [];
          const sleep = backoffMs(p, failures, remainingMs, (min, max) => {
            const x = prng.nextInt(min, max);
            drawn.push(x);
            return x;
          });
          const cap = Math.min(p.backoffMsMax, backoffMsMin * 2 ** Math.min(failures, 10));
          if (remainingMs <= 0) {
            expect(sleep).toBeNull();
            expect(drawn).toEqual([]);
            return;
          }
          expect(drawn).toHaveLength(1);
          expect(drawn[0]).toBeGreaterThanOrEqual(0);
          expect(drawn[0]).toBeLessThanOrEqual(cap);
          expect(sleep).toBe(Math.min(drawn[0]!, remainingMs));
        },
      ),
      { seed, numRuns: 300 },
    );
  });
});

describe('attempts, timeouts, node order', () => {
  it('waits min(attemptTimeoutMs, what is left) per attempt, none past the deadline', () => {
    expect(attemptWaitMs(policy, 1000)).toBe(250);
    expect(attemptWaitMs(policy, 40)).toBe(40);
    expect(attemptWaitMs(policy, 0)).toBeNull();
  });

  it('defaults: attempts of at most 250 ms (never longer than the op), backoff 10..200 ms, suspicion one election timeout', () => {
    expect(defaultRetryPolicy(1500)).toEqual({
      attemptTimeoutMs: 250,
      backoffMsMin: 10,
      backoffMsMax: 200,
      suspicionMs: 300,
      awaitLeaderShare: 0.6,
    });
    expect(defaultRetryPolicy(100).attemptTimeoutMs).toBe(100);
    expect(defaultRetryPolicy(1500, 1000).suspicionMs).toBe(1000);
  });

  it('records a timed-out read as fail (no effect) and a timed-out write or cas as info (may still happen)', () => {
    expect(timedOutOpType('read')).toBe('fail');
    expect(timedOutOpType('write')).toBe('info');
    expect(timedOutOpType('cas')).toBe('info');
  });

  it('goes round the nodes in order, from the first when the current one is unknown', () => {
    expect(nextNode(nodes, 'n1')).toBe('n2');
    expect(nextNode(nodes, 'n3')).toBe('n1');
    expect(nextNode(nodes, 'zz')).toBe('n1');
  });

  it('passes over the node to skip unless it is the only one', () => {
    expect(nextNode(nodes, 'n1', 'n2')).toBe('n3');
    expect(nextNode(nodes, 'n3', 'n1')).toBe('n2');
    expect(nextNode(nodes, 'zz', 'n1')).toBe('n2');
    expect(nextNode(['n1', 'n2'], 'n1', 'n2')).toBe('n1');
    expect(nextNode(['n1'], 'n1', 'n1')).toBe('n1');
  });
});

describe('suspicion of a node that let an attempt time out', () => {
  it('starts at a timeout, lasts suspicionMs, ends early when the suspect answers, and survives answers from others', () => {
    const s = nextSuspicion(null, null, 'n1', 1000, policy);
    expect(s).toEqual({ node: 'n1', untilMs: 1300 });
    expect(suspectAt(s, 1299)).toBe('n1');
    expect(suspectAt(s, 1300)).toBeNull();
    expect(nextSuspicion(s, { status: 'not_leader', leaderHint: 'n1' }, 'n2', 1100, policy)).toBe(s);
    expect(nextSuspicion(s, { status: 'unavailable', reason: 'no_quorum' }, 'n1', 1100, policy)).toBeNull();
    // A second timeout elsewhere moves the suspicion there.
    expect(nextSuspicion(s, null, 'n2', 1200, policy)).toEqual({ node: 'n2', untilMs: 1500 });
    expect(nextSuspicion(null, null, 'n1', 1000, { ...policy, suspicionMs: 0, awaitLeaderShare: 0 })).toBeNull();
  });

  it('does not follow a hint naming the suspect: polls the next node other than it, with backoff', () => {
    expect(judgeAttempt({ status: 'not_leader', leaderHint: 'n1' }, 'n2', nodes, 'n1')).toEqual({
      kind: 'retry',
      target: 'n3',
      backoff: true,
      lastError: 'not_leader (hint n1)',
    });
    expect(judgeAttempt({ status: 'not_leader', leaderHint: 'n1' }, 'n3', nodes, 'n1')).toMatchObject({ target: 'n2', backoff: true });
    // A hint naming someone else is followed at once.
    expect(judgeAttempt({ status: 'not_leader', leaderHint: 'n3' }, 'n2', nodes, 'n1')).toMatchObject({ target: 'n3', backoff: false });
  });

  it('a dead leader: the client polls the followers until one names the new leader, never waiting on the dead one again', () => {
    // n1 is dead from t=0; the followers name it until t=400, when n3 is elected (one attempt timeout is 250).
    let now = 0;
    let target = 'n1';
    let suspicion = null as ReturnType<typeof nextSuspicion>;
    const tried: string[] = [];
    for (let step = 0; step < 100; step++) {
      tried.push(target);
      const outcome =
        target === 'n1'
          ? null
          : target === 'n3' && now >= 400
            ? ({ status: 'ok', value: null } as const)
            : ({ status: 'not_leader', leaderHint: now >= 400 ? 'n3' : 'n1' } as const);
      now += outcome === null ? policy.attemptTimeoutMs : 1;
      suspicion = nextSuspicion(suspicion, outcome, target, now, policy);
      const verdict = judgeAttempt(outcome, target, nodes, suspectAt(suspicion, now));
      if (verdict.kind !== 'retry') break;
      target = verdict.target;
      if (verdict.backoff) now += 10;
    }
    expect(tried[tried.length - 1]).toBe('n3');
    expect(tried.filter((t) => t === 'n1')).toEqual(['n1']);
    // Without the suspicion it would follow the followers back to n1 at t=261 and wait there until t=511.
    expect(now).toBeLessThan(400 + 20);
  });
});

describe('asking a node to wait for a leader while another is suspected (node/held-requests.ts)', () => {
  const asking: RetryPolicy = { ...policy, awaitLeaderShare: 0.8 };

  it('asks only while a node other than the target is suspected, for the share of the wait, within the wire bound', () => {
    expect(awaitLeaderFor(asking, null, 'n2', 250)).toBeUndefined();
    expect(awaitLeaderFor(asking, 'n2', 'n2', 250)).toBeUndefined();
    expect(awaitLeaderFor(policy, 'n1', 'n2', 250)).toBeUndefined(); // share 0: never
    expect(awaitLeaderFor(asking, 'n1', 'n2', 250)).toEqual({ otherThan: 'n1', maxMs: 200 });
    expect(awaitLeaderFor(asking, 'n1', 'n2', 50)).toEqual({ otherThan: 'n1', maxMs: 40 });
    expect(awaitLeaderFor(asking, 'n1', 'n2', 5000)).toEqual({ otherThan: 'n1', maxMs: 1000 });
    expect(awaitLeaderFor(asking, 'n1', 'n2', 1)).toBeUndefined(); // under 1 ms: not worth asking
  });

  it('the backoff after a held answer counts the wait already spent', () => {
    expect(backoffAfterMs(20, 0.3)).toBeCloseTo(19.7);
    expect(backoffAfterMs(20, 40)).toBe(0);
    expect(backoffAfterMs(0, 0)).toBe(0);
  });

  it('the default policy asks (the real client), held at most 60% of an attempt so the answer comes before it times out', () => {
    const d = defaultRetryPolicy(1500);
    const ask = awaitLeaderFor(d, 'n1', 'n2', d.attemptTimeoutMs)!;
    expect(ask.maxMs).toBeLessThan(d.attemptTimeoutMs);
    expect(ask.maxMs).toBeGreaterThan(d.attemptTimeoutMs / 2);
  });
});
