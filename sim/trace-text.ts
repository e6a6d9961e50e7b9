/**
 * The text of a simulator trace. Raft messages and Readies are printed by
 * the core's own describeMessage / describeReadyLines (node/raft/describe.ts),
 * so a simulator trace, a core transcript (test/node/raft/testdata/) and a
 * model-checker counterexample read the same; command entries are rendered
 * with the KV command encoding, which the core does not know.
 */
import type { ClientMessage } from '../node/protocol.js';
import { decodeCommand } from '../node/kv/command.js';
import type { KvOp } from '../node/protocol.js';
import type { DescribeOptions } from '../node/raft/describe.js';
import { assertNever } from '../node/util/assert.js';

/** `put k0=12`, `cas k1 5->13`, `get k2`. */
export function describeKvOp(op: KvOp): string {
  switch (op.type) {
    case 'get':
      return `get ${op.key}`;
    case 'put':
      return `put ${op.key}=${op.value}`;
    case 'delete':
      return `delete ${op.key}`;
    case 'cas':
      return `cas ${op.key} ${op.expected ?? 'null'}->${op.value}`;
    default:
      return assertNever(op, 'kv op');
  }
}

/** A command entry's data as `"c1#3 put k0=12"` (client c1, session seq 3); undecodable data as a JSON string. */
export function describeCommandData(data: string): string {
  const decoded = decodeCommand(data);
  return decoded.ok ? `"${decoded.cmd.clientId}#${decoded.cmd.seq} ${describeKvOp(decoded.cmd.op)}"` : JSON.stringify(data);
}

export const simDescribeOptions: DescribeOptions = { describeData: describeCommandData };

/** A client-protocol message, one line: `c1->n2 request c1#3 get k0` or `n2->c1 response c1#3 ok 12`. */
export function describeClientMessage(from: string, to: string, message: ClientMessage): string {
  switch (message.type) {
    case 'client_request':
      return `${from}->${to} request ${message.clientId}#${message.seq} ${describeKvOp(message.op)}`;
    case 'client_response': {
      const o = message.outcome;
      const detail =
        o.status === 'ok'
          ? `ok ${o.value ?? 'null'}`
          : o.status === 'cas_mismatch'
            ? `cas_mismatch actual=${o.actual ?? 'null'}`
            : o.status === 'not_leader'
              ? `not_leader leader=${o.leaderHint ?? 'none'}`
              : o.status === 'unavailable'
                ? `unavailable ${o.reason}`
                : `invalid ${o.code}`;
      return `${from}->${to} response ${message.clientId}#${message.seq} ${detail}`;
    }
    case 'status_request':
      return `${from}->${to} status_request ${message.requestId}`;
    case 'status_response':
      return `${from}->${to} status_response ${message.requestId}`;
    case 'retry':
      return `${from}->${to} retry (address validation)`;
    default:
      return assertNever(message, 'client message');
  }
}
