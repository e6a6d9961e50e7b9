/**
 * What a fault kind acts through when it applies or heals (its only view of
 * the world): the cluster's node processes, the network's fault layer, the
 * runner's seeded PRNGs and log. Kinds never see a cluster class itself, so
 * a fake cluster drives them in unit tests, and any Db on any hosts
 * (db/cluster.ts: kills and pauses are signals to the node's pid on its
 * host, through its Remote) stands behind this interface.
 */
import type { MembershipCapability, NodeView } from '../db/db.js';
import type { ClockState } from '../node-process.js';
import type { ClientLinkControl } from '../net/client-relay.js';
import type { NetworkControl } from '../net/types.js';
import type { Rng } from '../rng.js';

/** The node operations the nemesis uses (db/cluster.ts DbCluster provides them all). */
export interface NemesisCluster {
  readonly nodeIds: readonly string[];
  readonly net: NetworkControl;
  /** The links between the harness's clients and the nodes, where they run through a relay (client-loss); null or absent: direct. */
  readonly clientNet?: ClientLinkControl | null;
  isAlive(id: string): boolean;
  isPaused(id: string): boolean;
  /** How the node's process last exited on its own (node/exit-codes.ts; 6: removed from the cluster), else null; absent: not known. */
  exitCode?(id: string): number | null;
  /** The node's OS process id while it runs, else null (the per-fault evidence names processes by pid). */
  pid(id: string): number | null;
  /** The current leader as the nodes report it, or null (none, or no answer in time). */
  leader(): Promise<string | null>;
  /** What a node says about itself, or null when it does not answer. */
  status(id: string): Promise<NodeView | null>;
  /** The kernel's view of the node's process on its host (state letter: T when stopped); absent: read /proc here. */
  procState?(id: string): Promise<string | null>;
  /** SIGKILL: the process and everything it had not written to disk are gone. */
  kill(id: string): Promise<void>;
  /**
   * Starts a killed node again on its data directory, waiting until it is
   * ready. Rejects with NodeExitedBeforeReady (node-process.ts) when it
   * exits first, e.g. with code 3 when it refuses corrupt storage.
   */
  restart(id: string): Promise<void>;
  /** The node's data directory (the disk nemesis damages the log file in it while the node is down). */
  dataDir(id: string): string;
  /** A file of the node's data directory, read on its host; null when it does not exist. */
  readDataFile(id: string, name: string): Promise<Buffer | null>;
  /** Replaces a file of the node's data directory on its host. */
  writeDataFile(id: string, name: string, bytes: Buffer): Promise<void>;
  /** SIGSTOP / SIGCONT. */
  pause(id: string): Promise<void>;
  resume(id: string): Promise<void>;
  /** Changes the node's injectable clock (offset, rate, or a jump); rejects where the Db has none. */
  clock(id: string, change: { offsetMs?: number; rate?: number; bumpMs?: number }): Promise<ClockState>;
  /** Whether clock faults move the wall clock only (--clock-via faketime), not the node's own timers. */
  readonly wallClockOnly?: boolean;
  /** Membership changes through the Db's admin path; absent where it has none (the membership kind then records an error). */
  readonly membership?: MembershipCapability | undefined;
}

export interface NemesisContext {
  readonly cluster: NemesisCluster;
  /** The cluster's network fault layer (the relay or netns + nftables). */
  readonly net: NetworkControl;
  /**
   * Target and partition-shape draws, in the order events fire: one stream
   * for every kind, so a seed replays the same nodes and the same cuts.
   */
  readonly rng: Rng;
  /** Restart order only (its own stream, so it does not shift the target draws). */
  readonly restartRng: Rng;
  log(line: string): void;
  /**
   * How long a fault aimed at the leader waits for one when the cluster is
   * mid-election as it fires (a few election timeouts), before it falls back
   * to a random node.
   */
  readonly leaderWaitMs: number;
  /**
   * The run's lease and the promise behind it, from its options (null: no
   * lease reads, or a lease set by --unsafe-lease-ms): what a correct node
   * holds and keeps, never what the node under test says it does.
   */
  readonly leaseTimings?: LeaseTimings | null;
  /** True once the runner was stopped: no new actions (a kind's own listeners check it). */
  isStopped(): boolean;
  /**
   * Tells every kind that the nemesis crashed `node`: whatever fault lived in
   * that process (a clock offset or rate) is gone, and a restart starts clean.
   */
  crashed(node: string): void;
}

/** A lease-mode run's timings, in ms (harness/options.ts leaseTimingsOf). */
export interface LeaseTimings {
  /** The minimum election timeout: how long a restarted node refuses to vote from its start (less one tick). */
  readonly electionTimeoutMinMs: number;
  /** At most how long one acknowledged round lets a leader serve lease reads (safeLeaseTicks plus one tick). */
  readonly leaseMs: number;
  readonly tickMs: number;
}
