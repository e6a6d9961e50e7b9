/**
 * etcd's Client (db/client.ts) over the v3 JSON gateway, one per process,
 * bound to its home node (etcd forwards proposals to its leader itself):
 *
 * - read:  Range on the key; linearizable by default (etcd's ReadIndex),
 *          serializable with --etcd-serializable-reads (served from the
 *          member's local state, which may be stale: the weakness Jepsen
 *          reported for etcd 3.4 in 2020, which the harness must catch);
 * - write: Put;
 * - cas:   a Txn comparing the key's value (or, from absent, its
 *          create_revision with 0) and putting the new value when equal;
 *          `succeeded: false` is a definite fail.
 *
 * Outcomes: a read that does not answer ok is fail (it has no effect). A
 * write or cas that was refused before it was sent (connection refused) is
 * fail; one that timed out, broke, or got an error answer is info: etcd may
 * still apply it (a "request timed out" proposal can commit later).
 */
import { assertNever } from '../../../node/util/assert.js';
import type { PlannedOp } from '../../generator.js';
import type { ValueForm } from '../../../checker/values.js';
import type { Client, Outcome } from '../client.js';
import { answerError, b64, gatewayCall, unb64, type GatewayResult } from './gateway.js';

export interface EtcdClientOptions {
  /** The home node's client URL (http://host:port). */
  readonly url: string;
  readonly timeoutMs: number;
  readonly serializableReads: boolean;
  /** How the history's integers are written as values (checker/values.ts). */
  readonly values: ValueForm;
}

export class EtcdClient implements Client {
  private closed = false;

  constructor(private readonly opts: EtcdClientOptions) {}

  async invoke(op: PlannedOp): Promise<Outcome> {
    if (this.closed) return { type: 'fail', error: 'client closed' };
    const key = b64(op.key);
    switch (op.f) {
      case 'read': {
        const r = await this.call('/v3/kv/range', { key, ...(this.opts.serializableReads ? { serializable: true } : {}) });
        if (r.kind !== 'answer') return { type: 'fail', error: `${r.kind}: ${r.error}` };
        if (r.status !== 200) return { type: 'fail', error: answerError(r.body, r.status) };
        const kvs = r.body['kvs'];
        const first = Array.isArray(kvs) ? (kvs[0] as { value?: unknown } | undefined) : undefined;
        if (first === undefined) return { type: 'ok', value: null };
        return { type: 'ok', value: this.opts.values.value(typeof first.value === 'string' ? unb64(first.value) : '') };
      }
      case 'write':
        return this.mutation(await this.call('/v3/kv/put', { key, value: b64(this.opts.values.text(op.value)) }), () => ({ type: 'ok' }));
      case 'cas': {
        const [expected, next] = op.value;
        const compare =
          expected === null
            ? { key, target: 'CREATE', result: 'EQUAL', create_revision: '0' }
            : { key, target: 'VALUE', result: 'EQUAL', value: b64(this.opts.values.text(expected)) };
        const r = await this.call('/v3/kv/txn', {
          compare: [compare],
          success: [{ request_put: { key, value: b64(this.opts.values.text(next)) } }],
        });
        return this.mutation(r, (body) => (body['succeeded'] === true ? { type: 'ok' } : { type: 'fail', error: 'cas_mismatch' }));
      }
      default:
        return assertNever(op, 'register op');
    }
  }

  private call(path: string, body: unknown): Promise<GatewayResult> {
    return gatewayCall(this.opts.url, path, body, this.opts.timeoutMs);
  }

  /** A write's or cas's outcome: refused before sending is fail; no answer or an error answer is info. */
  private mutation(r: GatewayResult, ok: (body: Record<string, unknown>) => Outcome): Outcome {
    switch (r.kind) {
      case 'answer':
        return r.status === 200 ? ok(r.body) : { type: 'info', error: `indeterminate: ${answerError(r.body, r.status)}` };
      case 'unreached':
        return { type: 'fail', error: `not sent: ${r.error}` };
      case 'timeout':
        return { type: 'info', error: `timeout: ${r.error}` };
      case 'broken':
        return { type: 'info', error: `indeterminate: ${r.error}` };
      default:
        return assertNever(r, 'gateway result');
    }
  }

  close(): void {
    this.closed = true;
  }
}
