/**
 * Replayed and long-held datagrams, across terms (issue 15): the relay's
 * replay stage (harness/net/replay-stage.ts) on AppendEntries while the fault
 * lasts. `replay` sends byte-identical copies of a sender's earlier-term
 * AppendEntries again the moment it leads a later term (an attacker
 * replaying captured traffic: a node with an anti-replay window drops them
 * all); `hold` takes a drawn fraction of AppendEntries out of the stream and
 * delivers each once, seconds later or as soon as its sender leads a later
 * term (a slow network path: no window can refuse it); when the fault stops,
 * what it holds still arrives late. Relay only.
 */
import fc from 'fast-check';
import { assertNever } from '../../../node/util/assert.js';
import { replayModes, type ReplayMode, type ReplaySettings } from '../../net/replay-stage.js';
import type { NemesisContext } from '../context.js';
import type { FaultNemesis, NemesisKindSpec, NemesisOption } from '../kind.js';
import { numberField, oneOfField } from '../wire.js';

export type ReplayOp =
  | { readonly kind: 'replay'; readonly f: 'start-replay'; readonly value: ReplaySettings }
  | { readonly kind: 'replay'; readonly f: 'stop-replay'; readonly value: null };

const stop: ReplayOp = { kind: 'replay', f: 'stop-replay', value: null };

export const defaultReplayModes: readonly ReplayMode[] = replayModes;

export const replayModesOption: NemesisOption = {
  flag: 'replay-modes',
  arg: 'LIST',
  help:
    'what replay faults do: replay (old AppendEntries sent again, byte for byte, when their sender leads a later term), ' +
    'hold (a fraction of AppendEntries delivered once, seconds late or when their sender leads a later term)',
  defaultText: defaultReplayModes.join(','),
};

export const replay: NemesisKindSpec<'replay', ReplayOp> = {
  kind: 'replay',
  label: 'replay / hold',
  summary: 'replay or hold AppendEntries across terms',
  fs: { 'start-replay': 'start', 'stop-replay': 'stop' },
  targets: [],
  needsNet: { net: 'relay', why: 'only the relay carries the datagrams it replays or holds' },
  options: [replayModesOption],
  finalHeal: { f: stop.f },
  validate(opts) {
    for (const m of opts.replayModes ?? [])
      if (!replayModes.includes(m)) throw new Error(`unknown replay mode "${m}" (known: ${replayModes.join(', ')})`);
  },
  cycle(opts) {
    const modes = opts.replayModes !== undefined && opts.replayModes.length > 0 ? opts.replayModes : defaultReplayModes;
    // Fractions 5-30% (shrinking toward 5%), ages 2-20 s (shrinking toward 2 s: still several election timeouts).
    return fc
      .record({ mode: fc.constantFrom(...modes), pct: fc.integer({ min: 5, max: 30 }), maxAgeMs: fc.integer({ min: 2_000, max: 20_000 }) })
      .map(({ mode, pct, maxAgeMs }): readonly [ReplayOp, ReplayOp] => [
        { kind: 'replay', f: 'start-replay', value: { mode, fraction: pct / 100, maxAgeMs } },
        stop,
      ]);
  },
  decode(f, value) {
    switch (f) {
      case 'start-replay':
        return {
          kind: 'replay',
          f,
          value: {
            mode: oneOfField(value, 'mode', replayModes, 'replay mode'),
            fraction: numberField(value, 'fraction', 0, 1),
            maxAgeMs: numberField(value, 'maxAgeMs', 0, 600_000),
          },
        };
      case 'stop-replay':
        return stop;
      default:
        return assertNever(f, 'replay op');
    }
  },
  create: (ctx) => new ReplayNemesis(ctx),
};

class ReplayNemesis implements FaultNemesis<ReplayOp> {
  private settings: ReplaySettings | null = null;

  constructor(private readonly ctx: NemesisContext) {}

  async invoke(op: ReplayOp): Promise<unknown> {
    switch (op.f) {
      case 'start-replay': {
        const net = this.ctx.net;
        if (net.setReplay === undefined) throw new Error('replay faults need the relay (--net relay)');
        await net.setReplay(op.value);
        this.settings = op.value;
        return { ...op.value };
      }
      case 'stop-replay':
        return this.stop(false);
      default:
        return assertNever(op, 'replay op');
    }
  }

  /** The final heal delivers whatever is still held, now. */
  heal(): Promise<unknown> {
    return this.stop(true);
  }

  /** No new datagram is held or replayed; held ones arrive at their own time (or now, with `flush`). */
  private async stop(flush: boolean): Promise<unknown> {
    const was = this.settings;
    this.settings = null;
    await this.ctx.net.setReplay?.(null, flush);
    return { stopped: 'replay', was: was?.mode ?? null, ...(flush ? { flushed: true } : {}) };
  }

  active(): readonly string[] {
    const s = this.settings;
    if (s === null) return [];
    return [s.mode === 'hold' ? `hold ${Math.round(s.fraction * 100)}% ≤${s.maxAgeMs / 1000}s` : `replay ≤${s.maxAgeMs / 1000}s`];
  }
}
