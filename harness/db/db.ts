/**
 * The database under test, per node (Jepsen's jepsen.db/DB with its Kill,
 * Pause and LogFiles protocols): set a node up on its host, start it, kill
 * it, pause and resume it, wipe its data, name its log files, tear it down.
 * Each node lives on a host reached through a Remote (remote/remote.ts);
 * kills and pauses are signals to the node's pid on that host.
 *
 * Optional capabilities are what some nemeses need and not every database
 * offers: an injectable clock (rift's own; elsewhere none), routes through
 * the harness's UDP relay (rift's `routes`), membership changes. A nemesis
 * asks for the capability and the options refuse a fault the Db cannot
 * carry, rather than run one that does nothing.
 */
import type { AdminResult } from '../../node/admin-client.js';
import type { NodeStatus, StateDigest } from '../../node/protocol.js';
import type { ClockState } from '../node-process.js';

/** What the harness needs to know of a node's Raft state (rift's NodeStatus has all of it; etcd maps its own). */
export type NodeView = Pick<NodeStatus, 'role' | 'currentTerm' | 'votedFor' | 'leaderId' | 'commitIndex' | 'uptimeMs' | 'runQueueWaitMs'> &
  /** Where the system reports them (rift): the node's own log end and the configuration in effect on it. */
  Partial<Pick<NodeStatus, 'lastLogIndex' | 'configuration'>>;

export interface ClockChange {
  readonly offsetMs?: number;
  readonly rate?: number;
  readonly bumpMs?: number;
}

/** A node clock the harness can move (rift's node/clock/: offset, rate, jump; faketime-clock.ts: wall-clock offsets only). */
export interface ClockCapability {
  clock(node: string, change: ClockChange): Promise<ClockState>;
  /** false: offsets and jumps only, a rate other than 1 is refused (faketime); absent: rates too. */
  readonly rates?: boolean;
}

/**
 * Membership changes through the system's own admin path (rift's `RiftAdmin`,
 * node/admin-client.ts: the library behind `rift-node admin`). Each call is
 * one command with its own deadline; `ok` means committed (a status: the
 * leader's view), `refused` definitely not done, `indeterminate` unknown.
 */
export interface MembershipCapability {
  /** `ask`: the node to send the command to first (rift: the admin client's first target; it follows hints from there). */
  change(command: 'add' | 'promote' | 'remove', node: string, timeoutMs: number, ask?: string): Promise<AdminResult>;
  status(timeoutMs: number): Promise<AdminResult>;
  /**
   * How a removed node comes back. 'same-member' (absent; rift): with its own
   * identity and data (§5.2 needs its term and vote): it restarts on its
   * data, then it is added as a learner. 'new-member' (etcd): its member ID
   * is gone for good; it is stopped after its removal, added back as a new
   * member while it is down (the add wipes its data), then started, joining
   * the existing cluster.
   */
  readonly returnsAs?: 'same-member' | 'new-member';
}

export interface Db {
  /** The system's name (`--db`), in test names and results. */
  readonly name: string;
  readonly nodeIds: readonly string[];
  /** Prepares the node on its host: directories, config, binaries. */
  setup(node: string): Promise<void>;
  /** Starts the node and waits until it serves (rejects with the log's tail when it exits first or the deadline passes). */
  start(node: string): Promise<void>;
  /** SIGKILL: the process and whatever it had not made durable are gone. */
  kill(node: string): Promise<void>;
  /** SIGSTOP, then SIGCONT. */
  pause(node: string): Promise<void>;
  resume(node: string): Promise<void>;
  /** Deletes the node's data (it must be down). */
  wipe(node: string): Promise<void>;
  /** The node's log files on its host (collected into the run directory). */
  logFiles(node: string): readonly string[];
  /** Ends the node and releases what setup made on its host. */
  teardown(node: string): Promise<void>;
  isAlive(node: string): boolean;
  isPaused(node: string): boolean;
  /** The node's pid on its host while it runs, else null. */
  pid(node: string): number | null;
  /** How the node's process last exited on its own (its exit code), else null; absent where the Db cannot tell. */
  exitCode?(node: string): number | null;
  /** Its pid when its host is this machine (the starvation monitor reads /proc), else null. */
  localPid(node: string): number | null;
  /** The kernel's view of the node's process (state letter), on its host. */
  procState(node: string): Promise<string | null>;
  /** What the node says of itself; null when it is down, paused or silent. */
  status(node: string, timeoutMs: number): Promise<NodeView | null>;
  /** The node's data directory on its host. */
  dataDir(node: string): string;
  /**
   * A file of the node's data directory, read or replaced on its host (the
   * disk nemesis damages the log while the node is down); absent: the data
   * directory is on this machine and the harness uses the file system.
   */
  readDataFile?(node: string, name: string): Promise<Buffer | null>;
  writeDataFile?(node: string, name: string, bytes: Buffer): Promise<void>;
  /** Last resort from the process 'exit' hook: kill every node at once, synchronously. */
  killSync(node: string): void;
  readonly clock?: ClockCapability;
  /** Membership changes (the `membership` nemesis); absent where the Db has no admin path the harness drives. */
  readonly membership?: MembershipCapability;
  /**
   * A digest of the node's replicated state and the log index it covers
   * (rift: protocol.ts StateDigest), where the system offers one: the run
   * compares replicas at its end (harness/run/replicas.ts). Null when the
   * node is down, paused or silent.
   */
  stateDigest?(node: string, timeoutMs: number): Promise<StateDigest | null>;
  /** The node sends to its peers through the harness's relay (rift's `routes`): datagram faults and the wire monitor work. */
  readonly relayRoutes: boolean;
}
