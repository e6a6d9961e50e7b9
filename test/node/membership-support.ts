// Shared by the real-process membership tests (membership.integration, removed-exit.integration).
import type { AdminResult } from '../../node/admin-client.js';
import type { MembershipStatus } from '../../node/protocol.js';

/** Polls `probe` every 50 ms until it gives a value, or throws after `deadlineMs`. */
export async function waitFor<T>(what: string, deadlineMs: number, probe: () => Promise<T | null | undefined>): Promise<T> {
  const until = Date.now() + deadlineMs;
  while (Date.now() < until) {
    const value = await probe();
    if (value !== null && value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}`);
}

/** The membership of an ok admin answer; anything else fails the test with the answer. */
export function ok(result: AdminResult, what: string): MembershipStatus {
  if (result.type !== 'ok') throw new Error(`${what}: expected ok, got ${JSON.stringify(result)}`);
  return result.membership;
}
