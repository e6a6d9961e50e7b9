/** Packet duplication: every link delivers each datagram twice with the drawn probability until the fault stops. */
import fc from 'fast-check';
import { assertNever } from '../../../node/util/assert.js';
import type { NemesisContext } from '../context.js';
import type { FaultNemesis, NemesisKindSpec } from '../kind.js';
import { numberField } from '../wire.js';
import { clearPacketFaults, packetFaultsCleared } from './packet.js';

export type DuplicateOp =
  | { readonly kind: 'duplicate'; readonly f: 'start-duplicate'; readonly value: { readonly rate: number } }
  | { readonly kind: 'duplicate'; readonly f: 'stop-duplicate'; readonly value: null };

const stop: DuplicateOp = { kind: 'duplicate', f: 'stop-duplicate', value: null };

export const duplicate: NemesisKindSpec<'duplicate', DuplicateOp> = {
  kind: 'duplicate',
  label: 'packet duplication',
  summary: 'deliver datagrams twice on every link',
  fs: { 'start-duplicate': 'start', 'stop-duplicate': 'stop' },
  targets: [],
  options: [],
  finalHeal: clearPacketFaults,
  cycle() {
    return fc
      .integer({ min: 5, max: 50 })
      .map((pct): readonly [DuplicateOp, DuplicateOp] => [{ kind: 'duplicate', f: 'start-duplicate', value: { rate: pct / 100 } }, stop]);
  },
  decode(f, value) {
    switch (f) {
      case 'start-duplicate':
        return { kind: 'duplicate', f, value: { rate: numberField(value, 'rate', 0, 1) } };
      case 'stop-duplicate':
        return stop;
      default:
        return assertNever(f, 'duplicate op');
    }
  },
  create: (ctx) => new DuplicateNemesis(ctx),
};

class DuplicateNemesis implements FaultNemesis<DuplicateOp> {
  private rate: number | null = null;

  constructor(private readonly ctx: NemesisContext) {}

  async invoke(op: DuplicateOp): Promise<unknown> {
    switch (op.f) {
      case 'start-duplicate': {
        const { rate } = op.value;
        await this.ctx.net.setFaults({ duplicateRate: rate });
        this.rate = rate;
        return { rate };
      }
      case 'stop-duplicate':
        await this.ctx.net.setFaults({ duplicateRate: 0 });
        this.rate = null;
        return { stopped: 'duplicate' };
      default:
        return assertNever(op, 'duplicate op');
    }
  }

  async heal(): Promise<unknown> {
    await this.ctx.net.setFaults({ duplicateRate: 0 });
    this.rate = null;
    return packetFaultsCleared;
  }

  active(): readonly string[] {
    return this.rate === null ? [] : [`duplicate ${Math.round(this.rate * 100)}%`];
  }
}
