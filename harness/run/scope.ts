/**
 * One resource, one scope (Jepsen's with-db, with-client+nemesis-setup-
 * teardown): use it in `body`, then release it whatever happened. The
 * release is told how the body ended, so a resource can outlive a body that
 * completed (--leave-running) and never one that failed.
 *
 * When the body failed, its error is the one that ends the run: a release
 * that fails too is only reported through `onReleaseError`. After a body
 * that completed, a failing release fails the run (what it released may have
 * lost something: an unsynced history, a node left behind).
 */
export type ScopeEnd = 'completed' | 'failed';

export async function withResource<R, T>(
  resource: R,
  body: (resource: R) => Promise<T>,
  release: (resource: R, end: ScopeEnd) => Promise<void> | void,
  onReleaseError: (err: unknown) => void,
): Promise<T> {
  let value: T;
  try {
    value = await body(resource);
  } catch (err) {
    try {
      await release(resource, 'failed');
    } catch (releaseErr) {
      onReleaseError(releaseErr);
    }
    throw err;
  }
  await release(resource, 'completed');
  return value;
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
