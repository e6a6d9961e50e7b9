// Shared by the real-process membership tests (membership.integration, removed-exit.integration).
import type { AdminResult } from '../../node/admin-client.js';
import type { MembershipStatus } from '../../node/protocol.js';

export { waitForValue as waitFor } from '../harness/wait.js';

/** The membership of an ok admin answer; anything else fails the test with the answer. */
export function ok(result: AdminResult, what: string): MembershipStatus {
  if (result.type !== 'ok') throw new Error(`${what}: expected ok, got ${JSON.stringify(result)}`);
  return result.membership;
}
