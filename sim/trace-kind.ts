/**
 * What a simulator trace event is. Each event's kind enters the run's trace
 * hash (simulator.ts mixEvent), so the numbers are part of every recorded
 * trace hash: never renumber one.
 */
export const TraceKind = {
  /** A datagram delivered to a node. */
  peerDelivery: 1,
  /** A node's clock timer fired (its host's wake-up). */
  timer: 2,
  // 3 is unused: the numbers stay as they were, since recorded trace hashes depend on them.
  /** A datagram delivered to a client. */
  clientDelivery: 4,
  /** A fault from the scenario applied, or the heal at the end of the fault window. */
  fault: 5,
  /** A node refused to start: its storage is corrupt. */
  refusedStart: 6,
  /** A line a node logged (trace lines only, not hashed). */
  log: 7,
  /** A node started (or restarted). */
  start: 8,
  /** A node crashed. */
  crash: 9,
  /** A byte of a node's synced log flipped. */
  corrupt: 10,
  /** A violation was found. */
  violation: 11,
  /** A node's process stopped (a `pause` fault). */
  pause: 12,
  /** A paused process resumed. */
  resume: 13,
  /** The adversary re-sent a recorded message (a `replay` fault). */
  replay: 14,
  /** A post-heal liveness check ran (liveness.ts). */
  liveness: 15,
  /** An injected disk failure (an `io_error` fault) armed, fired, or stopped its node. */
  diskError: 16,
} as const;

export type TraceKind = (typeof TraceKind)[keyof typeof TraceKind];
