/** Packet loss: every link drops each datagram with the drawn probability until the fault stops. */
import fc from 'fast-check';
import { assertNever } from '../../../node/util/assert.js';
import type { NemesisContext } from '../context.js';
import type { FaultNemesis, NemesisKindSpec, NemesisOption } from '../kind.js';
import { numberField } from '../wire.js';
import { clearPacketFaults, packetFaultsCleared } from './packet.js';

export type LossOp =
  | { readonly kind: 'loss'; readonly f: 'start-loss'; readonly value: { readonly rate: number } }
  | { readonly kind: 'loss'; readonly f: 'stop-loss'; readonly value: null };

const stop: LossOp = { kind: 'loss', f: 'stop-loss', value: null };

/** Loss rates drawn from, in percent, when --loss-rates is not given. */
export const defaultLossPct = { min: 10, max: 50 } as const;

export const lossRatesOption: NemesisOption = {
  flag: 'loss-rates',
  arg: 'LO[-HI]',
  help: 'loss faults drop this fraction of datagrams, drawn from [LO, HI], 0..1 in steps of 0.01',
  defaultText: `${defaultLossPct.min / 100}-${defaultLossPct.max / 100}`,
};

export const loss: NemesisKindSpec<'loss', LossOp> = {
  kind: 'loss',
  label: 'packet loss',
  summary: 'drop datagrams on every link',
  fs: { 'start-loss': 'start', 'stop-loss': 'stop' },
  targets: [],
  options: [lossRatesOption],
  finalHeal: clearPacketFaults,
  validate(opts) {
    const loss = opts.lossPct;
    if (
      loss !== undefined &&
      !(Number.isInteger(loss.min) && Number.isInteger(loss.max) && loss.min >= 0 && loss.min <= loss.max && loss.max <= 100)
    ) {
      throw new Error(`lossPct must be integers 0 <= min <= max <= 100, got ${JSON.stringify(loss)}`);
    }
  },
  cycle(opts) {
    return fc
      .integer(opts.lossPct ?? defaultLossPct)
      .map((pct): readonly [LossOp, LossOp] => [{ kind: 'loss', f: 'start-loss', value: { rate: pct / 100 } }, stop]);
  },
  decode(f, value) {
    switch (f) {
      case 'start-loss':
        return { kind: 'loss', f, value: { rate: numberField(value, 'rate', 0, 1) } };
      case 'stop-loss':
        return stop;
      default:
        return assertNever(f, 'loss op');
    }
  },
  create: (ctx) => new LossNemesis(ctx),
};

class LossNemesis implements FaultNemesis<LossOp> {
  private rate: number | null = null;

  constructor(private readonly ctx: NemesisContext) {}

  async invoke(op: LossOp): Promise<unknown> {
    switch (op.f) {
      case 'start-loss': {
        const { rate } = op.value;
        await this.ctx.net.setFaults({ lossRate: rate });
        this.rate = rate;
        return { rate };
      }
      case 'stop-loss':
        await this.ctx.net.setFaults({ lossRate: 0 });
        this.rate = null;
        return { stopped: 'loss' };
      default:
        return assertNever(op, 'loss op');
    }
  }

  async heal(): Promise<unknown> {
    await this.ctx.net.setFaults({ lossRate: 0 });
    this.rate = null;
    return packetFaultsCleared;
  }

  active(): readonly string[] {
    return this.rate === null ? [] : [`loss ${Math.round(this.rate * 100)}%`];
  }
}
