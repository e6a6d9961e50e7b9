/**
 * Executes a nemesis schedule against a live cluster, Jepsen style: each event
 * becomes an `invoke` op and an `info` completion (process "nemesis") whose
 * value says what was actually done (which nodes, whether the leader was hit).
 *
 * The runner is generic: each event's op is decoded once into the typed op
 * union (registry.ts), and the kind that owns it (kinds/*.ts) applies or
 * heals it through the NemesisContext. Targets are resolved when the event
 * fires (targets.ts). Events run one at a time, in schedule order (a restart
 * that takes a second delays the next event rather than overlapping it).
 * An error in an action, a bad op included, is recorded as the op's value
 * ({error}) and never crashes the run.
 */
import { assertNever } from '../../node/util/assert.js';
import { Rng } from '../rng.js';
import type { LeaseTimings, NemesisCluster, NemesisContext } from './context.js';
import { finalHealValue } from './kind.js';
import {
  createNemeses,
  decodeNemesisOp,
  finalHealOrder,
  kindsHealedBy,
  nemesisKinds,
  type NemesisInstances,
  type NemesisOp,
} from './registry.js';
import type { NemesisEvent } from './wire.js';

export interface NemesisOpRecord {
  process: 'nemesis';
  type: 'info';
  f: string;
  value: unknown;
  phase: 'invoke' | 'complete';
}

export interface NemesisRunnerOptions {
  seed: number;
  /** NemesisContext.leaderWaitMs (default 1000: a few default election timeouts). */
  leaderWaitMs?: number;
  /** NemesisContext.leaseTimings (absent: no lease reads). */
  leaseTimings?: LeaseTimings | null;
  record: (op: NemesisOpRecord) => void;
  log?: (l: string) => void;
}

export class NemesisRunner {
  private readonly nemeses: NemesisInstances;
  private readonly timers: NodeJS.Timeout[] = [];
  private chain: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    cluster: NemesisCluster,
    private readonly schedule: readonly NemesisEvent[],
    private readonly opts: NemesisRunnerOptions,
  ) {
    const ctx: NemesisContext = {
      cluster,
      net: cluster.net,
      rng: new Rng(opts.seed),
      restartRng: new Rng((opts.seed ^ 0x5e57a27) >>> 0),
      log: (line) => opts.log?.(line),
      leaderWaitMs: opts.leaderWaitMs ?? 1000,
      leaseTimings: opts.leaseTimings ?? null,
      isStopped: () => this.stopped,
      crashed: (node) => {
        for (const k of nemesisKinds) this.nemeses[k].crashed?.(node);
      },
    };
    this.nemeses = createNemeses(ctx);
  }

  /**
   * Runs the schedule on timers relative to `startedAtMs`: a Date.now()
   * timestamp (a performance.now() value, recognisably small, is accepted too).
   */
  start(startedAtMs: number): void {
    const now = startedAtMs < 1e12 ? performance.now() : Date.now(); // one reading: equal atMs keep their order
    for (const event of this.schedule) {
      const delay = Math.max(0, startedAtMs + event.atMs - now);
      this.timers.push(setTimeout(() => this.enqueue(event), delay));
    }
  }

  /** Faults in force now, for the progress line (in table order). */
  activeFaults(): string[] {
    return nemesisKinds.flatMap((k) => this.nemeses[k].active());
  }

  /** Cancels the remaining schedule and waits for an action in progress. Does not heal. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers.splice(0)) clearTimeout(t);
    await this.chain;
  }

  /**
   * Final heal (Jepsen's final generator): one recorded step per entry of
   * finalHealOrder, each healing every kind that names it, in use or not.
   */
  async healAll(): Promise<void> {
    await this.stop();
    for (const step of finalHealOrder) {
      await this.perform(step.f, finalHealValue, async () => {
        const results: unknown[] = [];
        for (const k of kindsHealedBy(step)) results.push(await this.nemeses[k].heal());
        // Kinds that share a step report together (their results merged).
        return results.length === 1 ? results[0] : Object.assign({}, ...results.filter((r) => typeof r === 'object' && r !== null));
      });
    }
  }

  private enqueue(event: NemesisEvent): void {
    this.chain = this.chain.then(async () => {
      if (this.stopped) return;
      await this.perform(event.f, event.value, () => this.invoke(decodeNemesisOp(event.f, event.value)));
    });
  }

  /** The one dispatch: each kind's ops to that kind's nemesis. */
  private invoke(op: NemesisOp): Promise<unknown> {
    switch (op.kind) {
      case 'partition':
        return this.nemeses.partition.invoke(op);
      case 'kill':
        return this.nemeses.kill.invoke(op);
      case 'pause':
        return this.nemeses.pause.invoke(op);
      case 'clock':
        return this.nemeses.clock.invoke(op);
      case 'loss':
        return this.nemeses.loss.invoke(op);
      case 'delay':
        return this.nemeses.delay.invoke(op);
      case 'duplicate':
        return this.nemeses.duplicate.invoke(op);
      case 'client-loss':
        return this.nemeses['client-loss'].invoke(op);
      case 'replay':
        return this.nemeses.replay.invoke(op);
      case 'disk':
        return this.nemeses.disk.invoke(op);
      case 'disk-full':
        return this.nemeses['disk-full'].invoke(op);
      case 'lease-restart':
        return this.nemeses['lease-restart'].invoke(op);
      case 'relead':
        return this.nemeses.relead.invoke(op);
      case 'membership':
        return this.nemeses.membership.invoke(op);
      case 'resize':
        return this.nemeses.resize.invoke(op);
      case 'rejoin':
        return this.nemeses.rejoin.invoke(op);
      case 'change-race':
        return this.nemeses['change-race'].invoke(op);
      default:
        return assertNever(op, 'nemesis op');
    }
  }

  private async perform(f: string, value: unknown, action: () => Promise<unknown>): Promise<void> {
    this.emit({ process: 'nemesis', type: 'info', f, value, phase: 'invoke' });
    let result: unknown;
    try {
      result = await action();
    } catch (err) {
      result = { error: (err as Error).message };
    }
    this.opts.log?.(`nemesis ${f} ${JSON.stringify(result)}`);
    this.emit({ process: 'nemesis', type: 'info', f, value: result, phase: 'complete' });
  }

  private emit(op: NemesisOpRecord): void {
    try {
      this.opts.record(op);
    } catch (err) {
      this.opts.log?.(`nemesis: record() threw: ${(err as Error).message}`);
    }
  }
}
