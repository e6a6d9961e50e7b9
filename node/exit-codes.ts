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
} as const;

export type NodeExitCode = (typeof NODE_EXIT)[keyof typeof NODE_EXIT];
