import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AdjustableClock } from '../../../node/clock/adjustable-clock.js';
import { FakeReal } from './fake-real.js';

function setup(opts: { rate?: number; offsetMs?: number } = {}): { real: FakeReal; clock: AdjustableClock } {
  const real = new FakeReal(1000);
  const clock = new AdjustableClock({ realNowMs: () => real.nowMs, scheduler: real, ...opts });
  return { real, clock };
}

describe('AdjustableClock time', () => {
  it('runs at the real rate by default', () => {
    const { real, clock } = setup();
    const t0 = clock.nowMs();
    real.advance(250);
    expect(clock.nowMs() - t0).toBeCloseTo(250, 9);
    expect(clock.state()).toMatchObject({ offsetMs: 0, rate: 1 });
  });

  it('a rate change changes the slope without a jump', () => {
    const { real, clock } = setup();
    real.advance(100);
    const before = clock.nowMs();
    const r = clock.adjust({ rate: 3 });
    expect(r.ok).toBe(true);
    expect(clock.nowMs()).toBeCloseTo(before, 9); // no jump at the instant of change
    real.advance(10);
    expect(clock.nowMs() - before).toBeCloseTo(30, 9);
    clock.adjust({ rate: 0.5 });
    const mid = clock.nowMs();
    expect(mid - before).toBeCloseTo(30, 9);
    real.advance(10);
    expect(clock.nowMs() - mid).toBeCloseTo(5, 9);
  });

  it('offsets set absolutely and bumps add', () => {
    const { real, clock } = setup();
    const t0 = clock.nowMs();
    clock.adjust({ offsetMs: 5000 });
    expect(clock.nowMs() - t0).toBeCloseTo(5000, 9);
    clock.adjust({ offsetMs: -200 });
    expect(clock.nowMs() - t0).toBeCloseTo(-200, 9);
    clock.adjust({ bumpMs: 50 });
    expect(clock.state().offsetMs).toBe(-150);
    clock.adjust({ offsetMs: 10, bumpMs: 5 }); // set, then bump
    expect(clock.state().offsetMs).toBe(15);
    real.advance(100);
    expect(clock.nowMs() - t0).toBeCloseTo(115, 9);
  });

  it('initial offset and rate come from the options', () => {
    const { real, clock } = setup({ offsetMs: 1000, rate: 2 });
    const t0 = clock.nowMs() - 1000;
    real.advance(10);
    expect(clock.nowMs() - 1000 - t0).toBeCloseTo(20, 9);
    expect(() => setup({ rate: 0 })).toThrow(/rate/);
  });

  it('rejects bad adjustments with a typed error and changes nothing', () => {
    const { clock } = setup();
    const before = clock.state();
    for (const adj of [
      { rate: 0 },
      { rate: -1 },
      { rate: 101 },
      { rate: Number.NaN },
      { offsetMs: Number.POSITIVE_INFINITY },
      { bumpMs: Number.NaN },
      { rate: 2, bumpMs: Number.NaN },
    ]) {
      const r = clock.adjust(adj);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error).toMatch(/rate|offsetMs|bumpMs/);
    }
    expect(clock.state()).toEqual(before);
    expect(clock.adjust({ rate: 100 }).ok).toBe(true);
  });

  it('nowMs is continuous across any sequence of rate changes (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ realMs: fc.integer({ min: 0, max: 1000 }), rate: fc.double({ min: 0.01, max: 100, noNaN: true }) }), {
          maxLength: 30,
        }),
        (steps) => {
          const { real, clock } = setup();
          let expected = clock.nowMs();
          let rate = 1;
          for (const s of steps) {
            real.advance(s.realMs);
            expected += s.realMs * rate;
            expect(clock.nowMs()).toBeCloseTo(expected, 3);
            clock.adjust({ rate: s.rate });
            rate = s.rate;
            expect(clock.nowMs()).toBeCloseTo(expected, 3);
          }
        },
      ),
    );
  });
});

describe('AdjustableClock timers', () => {
  it('fires after delayMs / rate of real time', () => {
    const { real, clock } = setup({ rate: 2 });
    let fired = 0;
    clock.setTimer(() => fired++, 100);
    real.advance(49);
    expect(fired).toBe(0);
    real.advance(1);
    expect(fired).toBe(1);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('on a rate change, pending timers keep their remaining logical time', () => {
    const { real, clock } = setup();
    const firedAt: number[] = [];
    clock.setTimer(() => firedAt.push(real.nowMs), 100);
    real.advance(40); // 60 logical ms left
    clock.adjust({ rate: 4 }); // 60 logical ms at 4x = 15 real ms
    real.advance(14);
    expect(firedAt).toEqual([]);
    real.advance(1);
    expect(firedAt).toEqual([1055]);
  });

  it('slowing down postpones timers; offsets do not move them', () => {
    const { real, clock } = setup();
    let fired = false;
    clock.setTimer(() => (fired = true), 100);
    real.advance(50);
    clock.adjust({ rate: 0.5, offsetMs: 1_000_000 }); // 50 logical ms left = 100 real ms
    real.advance(99);
    expect(fired).toBe(false);
    real.advance(1);
    expect(fired).toBe(true);
  });

  it('clearTimer cancels; unknown ids are ignored; clearAll cancels everything', () => {
    const { real, clock } = setup();
    let fired = 0;
    const a = clock.setTimer(() => fired++, 10);
    clock.setTimer(() => fired++, 20);
    clock.setTimer(() => fired++, 30);
    clock.clearTimer(a);
    clock.clearTimer(a);
    clock.clearTimer(9999);
    real.advance(25);
    expect(fired).toBe(1);
    clock.clearAll();
    expect(clock.pendingTimers()).toBe(0);
    expect(real.scheduled).toBe(0);
    real.advance(100);
    expect(fired).toBe(1);
  });

  it('a timer set from inside a timer callback works, and negative delays fire at once', () => {
    const { real, clock } = setup();
    const order: string[] = [];
    clock.setTimer(() => {
      order.push('first');
      clock.setTimer(() => order.push('second'), 10);
    }, 10);
    clock.setTimer(() => order.push('negative'), -5);
    real.advance(20);
    expect(order).toEqual(['negative', 'first', 'second']);
    expect(() => clock.setTimer(() => {}, Number.NaN)).toThrow(/finite/);
  });

  it('timers fire in logical-deadline order across random rate changes (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 500 }), { minLength: 1, maxLength: 10 }),
        fc.array(fc.record({ realMs: fc.integer({ min: 1, max: 100 }), rate: fc.double({ min: 0.1, max: 10, noNaN: true }) }), {
          maxLength: 10,
        }),
        (delays, changes) => {
          const { real, clock } = setup();
          const start = clock.nowMs(); // offset stays 0, so nowMs is the timer timeline
          const fired: Array<{ i: number; lateMs: number }> = [];
          delays.forEach((d, i) => clock.setTimer(() => fired.push({ i, lateMs: clock.nowMs() - (start + d) }), d));
          for (const c of changes) {
            real.advance(c.realMs);
            clock.adjust({ rate: c.rate });
          }
          real.advance(500 / 0.1 + 1);
          expect(fired.length).toBe(delays.length);
          for (const f of fired) {
            expect(f.lateMs).toBeGreaterThanOrEqual(-1e-6); // never early
            expect(f.lateMs).toBeLessThan(1e-6); // fake scheduler fires exactly on time
          }
          const byDeadline = [...fired].sort((x, y) => (delays[x.i] as number) - (delays[y.i] as number));
          expect(fired.map((f) => delays[f.i])).toEqual(byDeadline.map((f) => delays[f.i]));
        },
      ),
    );
  });
});

describe('AdjustableClock with the real scheduler (vitest fake timers)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('uses setTimeout with delay / rate by default', () => {
    vi.useFakeTimers();
    let realNow = 0;
    const clock = new AdjustableClock({ realNowMs: () => realNow, rate: 4 });
    let fired = false;
    clock.setTimer(() => (fired = true), 400);
    realNow = 99;
    vi.advanceTimersByTime(99);
    expect(fired).toBe(false);
    realNow = 100;
    vi.advanceTimersByTime(1);
    expect(fired).toBe(true);
  });

  it('caps huge real delays (slow rate) and re-arms until the timer is due', () => {
    vi.useFakeTimers();
    let realNow = 0;
    const clock = new AdjustableClock({ realNowMs: () => realNow, rate: 0.01 });
    let fired = false;
    clock.setTimer(() => (fired = true), 30_000_000); // 3e9 real ms: above setTimeout's 2^31-1 limit
    const cap = 2_147_483_647;
    realNow = cap;
    vi.advanceTimersByTime(cap);
    expect(fired).toBe(false);
    expect(clock.pendingTimers()).toBe(1);
    realNow = 3e9;
    vi.advanceTimersByTime(3e9 - cap);
    expect(fired).toBe(true);
  });
});
