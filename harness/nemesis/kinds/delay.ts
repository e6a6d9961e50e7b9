/**
 * Packet delay: every link holds each datagram for the drawn delay plus a
 * uniform jitter, so datagrams overtake each other (reordering), until the
 * fault stops. The relay implements it; netns mode refuses it (no netem).
 */
import fc from 'fast-check';
import { assertNever } from '../../../node/util/assert.js';
import type { NemesisContext } from '../context.js';
import type { FaultNemesis, NemesisKindSpec } from '../kind.js';
import { numberField } from '../wire.js';
import { clearPacketFaults, packetFaultsCleared } from './packet.js';

export type DelayOp =
  | { readonly kind: 'delay'; readonly f: 'start-delay'; readonly value: { readonly delayMs: number; readonly jitterMs: number } }
  | { readonly kind: 'delay'; readonly f: 'stop-delay'; readonly value: null };

const stop: DelayOp = { kind: 'delay', f: 'stop-delay', value: null };

export const delay: NemesisKindSpec<'delay', DelayOp> = {
  kind: 'delay',
  label: 'packet delay',
  summary: 'delay and reorder datagrams on every link',
  fs: { 'start-delay': 'start', 'stop-delay': 'stop' },
  targets: [],
  needsNet: { net: 'relay', why: 'netns mode has no delay: this kernel has no netem qdisc' },
  options: [],
  finalHeal: clearPacketFaults,
  cycle() {
    return fc
      .record({ delayMs: fc.integer({ min: 5, max: 100 }), jitterMs: fc.integer({ min: 0, max: 50 }) })
      .map((value): readonly [DelayOp, DelayOp] => [{ kind: 'delay', f: 'start-delay', value }, stop]);
  },
  decode(f, value) {
    switch (f) {
      case 'start-delay': {
        const delayMs = numberField(value, 'delayMs', 0, 60_000);
        const jitterMs = numberField(value, 'jitterMs', 0, 60_000);
        return { kind: 'delay', f, value: { delayMs, jitterMs } };
      }
      case 'stop-delay':
        return stop;
      default:
        return assertNever(f, 'delay op');
    }
  },
  create: (ctx) => new DelayNemesis(ctx),
};

class DelayNemesis implements FaultNemesis<DelayOp> {
  private delay: { delayMs: number; jitterMs: number } | null = null;

  constructor(private readonly ctx: NemesisContext) {}

  async invoke(op: DelayOp): Promise<unknown> {
    switch (op.f) {
      case 'start-delay': {
        const { delayMs, jitterMs } = op.value;
        await this.ctx.net.setFaults({ delayMs, jitterMs });
        this.delay = { delayMs, jitterMs };
        return { delayMs, jitterMs };
      }
      case 'stop-delay':
        await this.ctx.net.setFaults({ delayMs: 0, jitterMs: 0 });
        this.delay = null;
        return { stopped: 'delay' };
      default:
        return assertNever(op, 'delay op');
    }
  }

  async heal(): Promise<unknown> {
    await this.ctx.net.setFaults({ delayMs: 0, jitterMs: 0 });
    this.delay = null;
    return packetFaultsCleared;
  }

  active(): readonly string[] {
    return this.delay === null ? [] : [`delay ${this.delay.delayMs}±${this.delay.jitterMs}ms`];
  }
}
