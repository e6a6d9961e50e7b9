/**
 * Assertions for broken invariants (programmer errors). They stay on in
 * production and crash loudly: a Raft node that continues after its own
 * invariants broke can lose committed data (TigerStyle: "the only correct way
 * to handle corrupt code is to crash"). Expected outcomes (not_leader,
 * timeout, bad input) are typed values instead, never assertions.
 */
export class AssertionError extends Error {
  override readonly name = 'AssertionError';
}

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError(`assertion failed: ${message}`);
}

/** Exhaustiveness check for switches over tagged unions. */
export function assertNever(value: never, what = 'value'): never {
  throw new AssertionError(`unexpected ${what}: ${JSON.stringify(value)}`);
}

/**
 * The failure branch of an assertion whose message is built from values:
 * `if (broken) assertionFailed(\`... ${x}\`)` builds the text only when the
 * invariant broke. `assert(cond, \`... ${x}\`)` would format numbers into a
 * fresh string on every call, and these sit on the per-message path.
 */
export function assertionFailed(message: string): never {
  throw new AssertionError(`assertion failed: ${message}`);
}
