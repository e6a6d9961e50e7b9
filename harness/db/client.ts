/**
 * A client of the database under test (Jepsen's jepsen.client/Client):
 * opened against one node, it invokes one register op at a time and says
 * how it ended, with Jepsen's exact meaning:
 *
 * - ok:   it happened (a read's value: an integer, or null for an absent key);
 * - fail: it certainly did not happen (a cas whose comparison failed, a
 *         definite rejection);
 * - info: it may or may not have happened, now or later (a write that timed
 *         out). The worker retires the process after an info.
 *
 * A read that timed out has no effect, so a client may report it as fail
 * (node/client-retry.ts timedOutOpType): the checker's search stays small.
 */
import type { ValueForm } from '../../checker/values.js';
import type { PlannedOp } from '../generator.js';

export type Outcome =
  | { readonly type: 'ok'; readonly value?: number | string | null }
  | { readonly type: 'fail'; readonly error: string }
  | { readonly type: 'info'; readonly error: string };

export interface Client {
  invoke(op: PlannedOp): Promise<Outcome>;
  close(): void;
}

export interface ClientSpec {
  /** The logical process (Jepsen's :process): one client per process. */
  readonly process: number;
  /** The node this process talks to first (process mod nodes, as Jepsen binds clients). */
  readonly node: string;
  /** Per-process seed for the client's own randomness. */
  readonly seed: number;
  /** Deadline for one op, retries included. */
  readonly timeoutMs: number;
  /** A stable client id (rift's sessions key on it). */
  readonly clientId: string;
  /** How the history's integers are written as the register's strings and read back (checker/values.ts). */
  readonly values: ValueForm;
}
