/**
 * Client workers (Jepsen's worker threads). --concurrency workers, each
 * running one logical process at a time with its own RiftClient (clientId
 * `p<process>-<seed>`, so every process has its own session in the node's
 * session table). Each op is recorded as an invoke line before it is sent and
 * a completion line when it returns.
 *
 * Outcomes (Jepsen/Knossos semantics):
 * - ok   → ok (a read's value: integer, or null when the key is absent).
 * - a definite failure (cas_mismatch, invalid, and the session refusals that
 *   prove the op was not applied: session_conflict, op_mismatch) → fail with
 *   the error. A stale_seq refusal does not prove it (the op may have been
 *   applied before): the client reports it as indeterminate, like a timeout.
 * - a timeout on write or cas → info (it may or may not have happened, now
 *   or later). The process is retired: it never invokes again, and the worker
 *   continues as process + concurrency (Jepsen's rule; Knossos relies on a
 *   process having at most one open op).
 * - a timed-out read → fail: a read has no effect, and a fail keeps the
 *   checker's search small (Jepsen tutorial 06).
 */
import type { ClusterConfig } from '../node/config-types.js';
import { RiftClient, type ClientResult } from '../node/client.js';
import { timedOutOpType } from '../node/client-retry.js';
import type { OpGenerator, PlannedOp, Stagger } from './generator.js';
import type { HistoryEntry } from './history.js';

/** What a worker needs from a client (RiftClient; tests may substitute). */
export interface KvClient {
  get(key: string): Promise<ClientResult>;
  put(key: string, value: string): Promise<ClientResult>;
  cas(key: string, expected: string | null, value: string): Promise<ClientResult>;
  close(): void;
}

export interface ClientPoolOptions {
  readonly config: ClusterConfig;
  readonly concurrency: number;
  readonly seed: number;
  readonly opTimeoutMs: number;
  /** Called synchronously for every invoke and completion, in the order they happen. */
  readonly record: (entry: HistoryEntry) => void;
  readonly makeClient?: (clientId: string, seed: number, timeoutMs: number, process: number) => KvClient;
}

interface Worker {
  readonly thread: number;
  process: number;
  client: KvClient;
}

export function clientIdFor(process: number, seed: number): string {
  return `p${process}-${seed}`;
}

/** The node stores strings; the history holds integers. Anything else is kept as-is (the checker will flag a value nobody wrote). */
export function historyValueOf(stored: string | null): number | string | null {
  if (stored === null) return null;
  if (/^-?\d{1,15}$/.test(stored)) return Number(stored);
  return stored;
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
  private readonly makeClient: (clientId: string, seed: number, timeoutMs: number, process: number) => KvClient;
  private closed = false;

  constructor(private readonly opts: ClientPoolOptions) {
    if (!Number.isInteger(opts.concurrency) || opts.concurrency < 1)
      throw new Error(`concurrency must be a positive integer, got ${opts.concurrency}`);
    // As in Jepsen, each client process is bound to one node (process mod
    // nodes): every op starts there and follows redirects to the leader, so
    // the workload reaches every node, followers and minorities included.
    this.makeClient =
      opts.makeClient ??
      ((clientId, seed, timeoutMs, process) => {
        const homeNode = opts.config.nodes[process % opts.config.nodes.length]?.id;
        return new RiftClient({ config: opts.config, clientId, timeoutMs, seed, ...(homeNode !== undefined ? { homeNode } : {}) });
      });
    this.workers = Array.from({ length: opts.concurrency }, (_, thread) => ({ thread, process: thread, client: this.clientFor(thread) }));
  }

  private clientFor(process: number): KvClient {
    // Per-process seed for the client's jitter and first node: reproducible, different per process.
    const seed = (this.opts.seed + Math.imul(process + 1, 0x9e37_79b1)) >>> 0;
    return this.makeClient(clientIdFor(process, this.opts.seed), seed, this.opts.opTimeoutMs, process);
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
    let result: ClientResult;
    try {
      switch (op.f) {
        case 'read':
          result = await w.client.get(op.key);
          break;
        case 'write':
          result = await w.client.put(op.key, String(op.value));
          break;
        case 'cas':
          result = await w.client.cas(op.key, op.value[0] === null ? null : String(op.value[0]), String(op.value[1]));
          break;
      }
    } catch (err) {
      // The client threw (e.g. closed under us): we cannot know whether it took effect.
      result = { type: 'timeout', error: `indeterminate: ${(err as Error).message}` };
    }
    switch (result.type) {
      case 'ok':
        this.record({ process, type: 'ok', f: op.f, key: op.key, value: op.f === 'read' ? historyValueOf(result.value) : op.value });
        return 'ok';
      case 'fail':
        this.record({ process, type: 'fail', f: op.f, key: op.key, value: op.value, error: result.error });
        return 'fail';
      case 'timeout': {
        const error = /^(timeout|indeterminate)/.test(result.error) ? result.error : `timeout: ${result.error}`;
        if (timedOutOpType(op.f) === 'fail') {
          this.record({ process, type: 'fail', f: op.f, key: op.key, value: null, error });
          return 'fail';
        }
        this.record({ process, type: 'info', f: op.f, key: op.key, value: op.value, error });
        this.retire(w);
        return 'info';
      }
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
