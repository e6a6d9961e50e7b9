/**
 * Client-link loss: datagrams between the harness's clients and the nodes
 * are dropped at the drawn rate until the fault stops: the nodes' replies
 * (`direction: replies`, the default), or the clients' requests as well
 * (`both`, with --client-loss-directions).
 * The datagrams go through the client links' relay (net/client-relay.ts),
 * which the cluster starts when a run has this kind (rift on this machine;
 * other systems do not list it, so the options refuse it there).
 *
 * Why: a reply lost after its write was applied is what a client's retry,
 * and so the session table's exactly-once rule, exists for. Peer-link faults
 * (partition, loss) and kills mostly stop a write before it is applied; this
 * one takes away the answer of a write that was.
 */
import fc from 'fast-check';
import { assertNever } from '../../../node/util/assert.js';
import type { ClientLinkControl } from '../../net/client-relay.js';
import type { NemesisContext } from '../context.js';
import type { FaultNemesis, NemesisKindSpec, NemesisOption } from '../kind.js';
import { numberField, oneOfField } from '../wire.js';
import { clearPacketFaults, packetFaultsCleared } from './packet.js';

/** Which client-link directions lose datagrams: the replies only, or the requests as well. */
export type ClientLossDirection = 'replies' | 'both';
export const clientLossDirections: readonly ClientLossDirection[] = ['replies', 'both'];
/**
 * Replies only by default: a lost request leaves its write unapplied, which
 * tests nothing partitions do not; a lost reply of an applied write is
 * what this kind is for (--unsafe-ignore-session-expiry under client-loss
 * alone at 0.3-0.7, seeds 11-14: caught in 3 of 4 runs with replies only, in
 * 2 of 4 with each cycle's direction drawn from replies and both).
 */
export const defaultClientLossDirections: readonly ClientLossDirection[] = ['replies'];

export type ClientLossOp =
  | {
      readonly kind: 'client-loss';
      readonly f: 'start-client-loss';
      readonly value: { readonly rate: number; readonly direction: ClientLossDirection };
    }
  | { readonly kind: 'client-loss'; readonly f: 'stop-client-loss'; readonly value: null };

const stop: ClientLossOp = { kind: 'client-loss', f: 'stop-client-loss', value: null };

/**
 * Client-link loss rates drawn from, in percent, when --client-loss-rates is
 * not given. Moderate, as measured: --unsafe-ignore-session-expiry under
 * client-loss alone was caught in 4 of 4 runs at 0.2-0.5 (seeds 14-17,
 * replies only) and in 0 of 4 at 0.6-0.8 (seeds 11-14, each cycle's
 * direction drawn from replies and both).
 */
export const defaultClientLossPct = { min: 20, max: 50 } as const;

export const clientLossRatesOption: NemesisOption = {
  flag: 'client-loss-rates',
  arg: 'LO[-HI]',
  help: 'client-loss faults drop this fraction of client datagrams, drawn from [LO, HI], 0..1 in steps of 0.01',
  defaultText: `${defaultClientLossPct.min / 100}-${defaultClientLossPct.max / 100}`,
};

export const clientLossDirectionsOption: NemesisOption = {
  flag: 'client-loss-directions',
  arg: 'LIST',
  help: 'what client-loss faults drop, drawn from: replies (from the nodes), both (requests too)',
  defaultText: defaultClientLossDirections.join(','),
};

export const clientLoss: NemesisKindSpec<'client-loss', ClientLossOp> = {
  kind: 'client-loss',
  label: 'client-link loss',
  summary: "drop datagrams on the clients' links",
  fs: { 'start-client-loss': 'start', 'stop-client-loss': 'stop' },
  targets: [],
  options: [clientLossRatesOption, clientLossDirectionsOption],
  // A packet fault like loss, delay and duplication: healed in their step.
  finalHeal: clearPacketFaults,
  validate(opts) {
    const pct = opts.clientLossPct;
    if (
      pct !== undefined &&
      !(Number.isInteger(pct.min) && Number.isInteger(pct.max) && pct.min >= 0 && pct.min <= pct.max && pct.max <= 100)
    ) {
      throw new Error(`clientLossPct must be integers 0 <= min <= max <= 100, got ${JSON.stringify(pct)}`);
    }
    for (const d of opts.clientLossDirections ?? [])
      if (!clientLossDirections.includes(d))
        throw new Error(`unknown client-loss direction "${d}" (known: ${clientLossDirections.join(', ')})`);
  },
  cycle(opts) {
    const directions =
      opts.clientLossDirections !== undefined && opts.clientLossDirections.length > 0
        ? opts.clientLossDirections
        : defaultClientLossDirections;
    // Replies first (the table's order): the milder fault, and the one a shrunk schedule keeps.
    return fc
      .record({ pct: fc.integer(opts.clientLossPct ?? defaultClientLossPct), direction: fc.constantFrom(...directions) })
      .map(({ pct, direction }): readonly [ClientLossOp, ClientLossOp] => [
        { kind: 'client-loss', f: 'start-client-loss', value: { rate: pct / 100, direction } },
        stop,
      ]);
  },
  decode(f, value) {
    switch (f) {
      case 'start-client-loss':
        return {
          kind: 'client-loss',
          f,
          value: { rate: numberField(value, 'rate', 0, 1), direction: oneOfField(value, 'direction', clientLossDirections) },
        };
      case 'stop-client-loss':
        return stop;
      default:
        return assertNever(f, 'client-loss op');
    }
  },
  create: (ctx) => new ClientLossNemesis(ctx),
};

class ClientLossNemesis implements FaultNemesis<ClientLossOp> {
  private active_: { rate: number; direction: ClientLossDirection } | null = null;

  constructor(private readonly ctx: NemesisContext) {}

  /** The client links, or an error for the history: this cluster's clients reach the nodes directly. */
  private links(): ClientLinkControl {
    const net = this.ctx.cluster.clientNet ?? null;
    if (net === null)
      throw new Error("client-loss needs the client links' relay (rift on this machine, started with client-loss in --nemesis)");
    return net;
  }

  async invoke(op: ClientLossOp): Promise<unknown> {
    switch (op.f) {
      case 'start-client-loss': {
        const { rate, direction } = op.value;
        await this.links().setClientLoss({ replies: rate, requests: direction === 'both' ? rate : 0 });
        this.active_ = { rate, direction };
        return { rate, direction };
      }
      case 'stop-client-loss':
        await this.links().setClientLoss({ replies: 0, requests: 0 });
        this.active_ = null;
        return { stopped: 'client-loss' };
      default:
        return assertNever(op, 'client-loss op');
    }
  }

  async heal(): Promise<unknown> {
    // The final heal runs every kind's part, in use or not: without client links there is nothing to clear.
    await this.ctx.cluster.clientNet?.setClientLoss({ replies: 0, requests: 0 });
    this.active_ = null;
    return packetFaultsCleared;
  }

  active(): readonly string[] {
    if (this.active_ === null) return [];
    const { rate, direction } = this.active_;
    return [`client-loss ${Math.round(rate * 100)}%${direction === 'both' ? ' both ways' : ''}`];
  }
}
