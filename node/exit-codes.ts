/**
 * Exit statuses of the `rift-node` binary (node/main.ts). The harness reads
 * them to tell a node that refused to start on a damaged log from one that
 * crashed (harness/node-process.ts).
 */
export const NODE_EXIT = {
  /** Clean shutdown (SIGTERM / SIGINT / the harness went away). */
  clean: 0,
  /** Internal error: an assertion failed; the node refuses to continue with broken invariants. */
  internal: 1,
  /** Bad arguments or configuration (also a port that cannot be bound). */
  usage: 2,
  /** The stored log or hard state is damaged: refusing to start rather than silently drop committed state. */
  corruptStorage: 3,
  /**
   * A disk operation on the data directory failed (no space left, a
   * read-only file system, an I/O error: ENOSPC, EROFS, EIO, ...), at start
   * or while running (node/storage/storage.ts: a failed write or fsync is
   * fatal). Not damage to the stored data: free space or repair the disk,
   * then restart the node on the same directory; recovery keeps every write
   * that was durable. Distinct from corruptStorage, whose advice (replace
   * the node) would be wrong here.
   */
  diskFailed: 7,
  /**
   * Removed from the cluster (dissertation §4.2.2): a configuration that no
   * longer includes this node is committed, and a leader told it so (or it
   * led and committed its own removal). Not a failure: its data directory is
   * intact, so restarting it and `rift-node admin add` brings the same
   * identity back. Distinct from every ADMIN_EXIT code.
   */
  removed: 6,
} as const;

export type NodeExitCode = (typeof NODE_EXIT)[keyof typeof NODE_EXIT];

/**
 * Exit statuses of `rift-node admin` (node/admin-cli.ts). 3 is left out on
 * purpose: it means damaged storage for the node itself.
 */
export const ADMIN_EXIT = {
  /** Done: the change is committed (or the status was printed). */
  ok: 0,
  /** Internal error (a bug). */
  internal: 1,
  /** Bad arguments or configuration: nothing was sent. */
  usage: 2,
  /** The leader refused the change: it was definitely not made (the message says why). */
  refused: 4,
  /** No leader answered in time, or the change's fate is unknown: it may or may not have been made; run `status`. */
  unavailable: 5,
} as const;

export type AdminExitCode = (typeof ADMIN_EXIT)[keyof typeof ADMIN_EXIT];
