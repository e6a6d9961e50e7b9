/**
 * Client workers (Jepsen's worker threads). --concurrency workers, each
 * running one logical process at a time with its own Client (db/client.ts,
 * opened for that process: clientId `p<process>-<seed>`, so every process
 * has its own session where the database keeps sessions). Each op is
 * recorded as an invoke line before it is sent and a completion line when
 * it returns.
 *
 * Outcomes (Jepsen/Knossos semantics; the Client says which, db/client.ts):
 * - ok   → ok (a read's value: integer, or null when the key is absent).
 * - fail → fail with the error: it did not happen.
 * - info → info: it may or may not have happened, now or later. The process
 *   is retired: it never invokes again, and the worker continues as
 *   process + concurrency (Jepsen's rule; Knossos relies on a process having
 *   at most one open op).
 * - a client that throws: indeterminate, as a timeout (a read: fail, it has
 *   no effect; anything else: info).
 */
import { timedOutOpType } from '../node/client-retry.js';
import { assertNever } from '../node/util/assert.js';
import type { ValueForm } from '../checker/values.js';
import type { Client, ClientSpec, Outcome } from './db/client.js';
import type { OpGenerator, PlannedOp, Stagger } from './generator.js';
import type { HistoryEntry } from './history.js';

export interface ClientPoolOptions {
  readonly nodeIds: readonly string[];
  readonly concurrency: number;
  readonly seed: number;
  readonly opTimeoutMs: number;
  /** How values are written (checker/values.ts). */
  readonly values: ValueForm;
  /** Called synchronously for every invoke and completion, in the order they happen. */
  readonly record: (entry: HistoryEntry) => void;
  /** Opens a client for one process (Jepsen's client/open!). */
  readonly openClient: (spec: ClientSpec) => Client;
}

interface Worker {
  readonly thread: number;
  process: number;
  client: Client;
}

export function clientIdFor(process: number, seed: number): string {
  return `p${process}-${seed}`;
}

/** Sleeps `ms`, waking early (without error) when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0 || signal?.aborted === true) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

export class ClientPool {
  private readonly workers: Worker[];
  private closed = false;

  constructor(private readonly opts: ClientPoolOptions) {
    if (!Number.isInteger(opts.concurrency) || opts.concurrency < 1)
      throw new Error(`concurrency must be a positive integer, got ${opts.concurrency}`);
    if (opts.nodeIds.length === 0) throw new Error('a client pool needs at least one node');
    this.workers = Array.from({ length: opts.concurrency }, (_, thread) => ({ thread, process: thread, client: this.clientFor(thread) }));
  }

  private clientFor(process: number): Client {
    // Per-process seed for the client's jitter and first node: reproducible, different per process.
    const seed = (this.opts.seed + Math.imul(process + 1, 0x9e37_79b1)) >>> 0;
    // As in Jepsen, each client process is bound to one node (process mod
    // nodes): every op starts there (rift follows redirects to the leader),
    // so the workload reaches every node, followers and minorities included.
    const node = this.opts.nodeIds[process % this.opts.nodeIds.length]!;
    return this.opts.openClient({
      process,
      node,
      seed,
      timeoutMs: this.opts.opTimeoutMs,
      clientId: clientIdFor(process, this.opts.seed),
      values: this.opts.values,
    });
  }

  /** Current process of every worker (for tests and the summary). */
  processes(): number[] {
    return this.workers.map((w) => w.process);
  }

  /**
   * Runs the workload until `stop` aborts: each worker waits for its stagger
   * slot, takes the next op from the generator and runs it. Resolves once
   * every worker has finished its op in flight (bounded by the op timeout).
   */
  async runWorkload(generator: OpGenerator, stagger: Stagger, stop: AbortSignal): Promise<void> {
    await Promise.all(
      this.workers.map(async (w) => {
        while (!stop.aborted && !this.closed) {
          await sleep(stagger.reserve(performance.now()), stop);
          if (stop.aborted || this.closed) break;
          await this.execute(w, generator.next());
        }
      }),
    );
  }

  /**
   * Final reads (Jepsen's final generator): after healing, read every key
   * once, retrying each until a read is ok or the deadline passes. Every
   * attempt is a history op. Returns the keys never read ok.
   */
  async finalReads(keys: readonly string[], deadlineMs: number, stop: AbortSignal): Promise<{ ok: number; missing: string[] }> {
    let next = 0;
    let ok = 0;
    const missing: string[] = [];
    await Promise.all(
      this.workers.map(async (w) => {
        for (;;) {
          const key = keys[next++];
          if (key === undefined) return;
          let backoffMs = 50;
          for (;;) {
            if (stop.aborted || this.closed || performance.now() >= deadlineMs) {
              missing.push(key);
              break;
            }
            if ((await this.execute(w, { f: 'read', key, value: null })) === 'ok') {
              ok++;
              break;
            }
            // Capped exponential backoff with jitter between attempts.
            await sleep(backoffMs / 2 + Math.random() * (backoffMs / 2), stop);
            backoffMs = Math.min(backoffMs * 2, 1000);
          }
        }
      }),
    );
    return { ok, missing };
  }

  private record(entry: HistoryEntry): void {
    this.opts.record(entry);
  }

  /** Runs one op on the worker's current process; records invoke and completion. */
  private async execute(w: Worker, op: PlannedOp): Promise<'ok' | 'fail' | 'info'> {
    const process = w.process;
    this.record({ process, type: 'invoke', f: op.f, key: op.key, value: op.value });
    let outcome: Outcome;
    try {
      outcome = await w.client.invoke(op);
    } catch (err) {
      // The client threw (e.g. closed under us): we cannot know whether it took effect.
      const error = `indeterminate: ${(err as Error).message}`;
      outcome = timedOutOpType(op.f) === 'fail' ? { type: 'fail', error } : { type: 'info', error };
    }
    switch (outcome.type) {
      case 'ok':
        this.record({ process, type: 'ok', f: op.f, key: op.key, value: op.f === 'read' ? (outcome.value ?? null) : op.value });
        return 'ok';
      case 'fail':
        this.record({ process, type: 'fail', f: op.f, key: op.key, value: op.value, error: outcome.error });
        return 'fail';
      case 'info':
        this.record({ process, type: 'info', f: op.f, key: op.key, value: op.value, error: outcome.error });
        this.retire(w);
        return 'info';
      default:
        return assertNever(outcome, 'client outcome');
    }
  }

  /** After an info the process may still have an op in effect later; it never invokes again. */
  private retire(w: Worker): void {
    w.client.close();
    w.process += this.opts.concurrency;
    if (!this.closed) w.client = this.clientFor(w.process);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.workers) w.client.close();
  }
}
