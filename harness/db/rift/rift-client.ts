/**
 * rift's Client (db/client.ts): the node's own client library (node/client.ts:
 * sessions, redirects to the leader, retries within the op's deadline),
 * its results mapped to Jepsen's outcomes. A definite failure (cas_mismatch,
 * invalid, and the session refusals that prove the op was not applied:
 * session_conflict, op_mismatch) is fail; a timeout, and a stale_seq refusal
 * (the op may have been applied before), is indeterminate: info for a write
 * or cas, fail for a read (node/client-retry.ts timedOutOpType).
 */
import type { ClientConfig } from '../../../node/client.js';
import { RiftClient, type ClientResult } from '../../../node/client.js';
import { timedOutOpType } from '../../../node/client-retry.js';
import { assertNever } from '../../../node/util/assert.js';
import type { PlannedOp } from '../../generator.js';
import type { ValueForm } from '../../../checker/values.js';
import type { Client, ClientSpec, Outcome } from '../client.js';

export class RiftDbClient implements Client {
  private readonly client: RiftClient;
  private readonly values: ValueForm;

  constructor(config: ClientConfig, spec: ClientSpec) {
    this.values = spec.values;
    this.client = new RiftClient({ config, clientId: spec.clientId, timeoutMs: spec.timeoutMs, seed: spec.seed, homeNode: spec.node });
  }

  async invoke(op: PlannedOp): Promise<Outcome> {
    let result: ClientResult;
    switch (op.f) {
      case 'read':
        result = await this.client.get(op.key);
        break;
      case 'write':
        result = await this.client.put(op.key, this.values.text(op.value));
        break;
      case 'cas':
        result = await this.client.cas(op.key, op.value[0] === null ? null : this.values.text(op.value[0]), this.values.text(op.value[1]));
        break;
      default:
        return assertNever(op, 'register op');
    }
    switch (result.type) {
      case 'ok':
        return { type: 'ok', value: this.values.value(result.value) };
      case 'fail':
        return { type: 'fail', error: result.error };
      case 'timeout': {
        const error = /^(timeout|indeterminate)/.test(result.error) ? result.error : `timeout: ${result.error}`;
        return timedOutOpType(op.f) === 'fail' ? { type: 'fail', error } : { type: 'info', error };
      }
      default:
        return assertNever(result, 'rift client result');
    }
  }

  close(): void {
    this.client.close();
  }
}
