/**
 * The system under test as the runner sees it (Jepsen's test map's :db and
 * :client): how to start a cluster of it for one run, and, once it runs,
 * how to open clients, where its wire can be watched, and where a kept
 * cluster can be found. The runner (harness/run/) knows nothing else of
 * the database; `--db` picks one of the systems in systems.ts.
 */
import type { MonitorViolation } from '../net/monitor.js';
import type { NemesisKind } from '../nemesis/registry.js';
import type { JepsenOptions, NetMode } from '../options.js';
import type { WireProbe } from '../run/wire-monitor.js';
import type { HostTarget } from '../remote/hosts.js';
import type { Client, ClientSpec } from './client.js';
import type { DbCluster } from './cluster.js';

export interface SystemStart {
  readonly options: JepsenOptions;
  readonly seed: number;
  readonly runDir: string;
  readonly log: (line: string) => void;
  /** The hosts of --hosts, connected and probed (remote/hosts.ts); null: this machine. */
  readonly hosts: { readonly targets: readonly HostTarget[]; readonly remoteDir: string } | null;
  /** Test hook: rift's node program (default dist/node/main.js). */
  readonly nodeEntry?: string;
}

export interface RunningSystem {
  readonly cluster: DbCluster;
  /** Opens a client for one process (Jepsen's client/open!). */
  openClient(spec: ClientSpec): Client;
  /**
   * Attaches the wire monitor where the network shows the peer datagrams
   * and the system speaks Raft on them in a form the monitor reads (rift on
   * the relay); elsewhere why it does not run (the summary says so).
   */
  watchWire(onViolation: (v: MonitorViolation) => void, nowMs: () => number): { readonly probe: WireProbe } | { readonly notRun: string };
  /** Where a kept cluster (--leave-running) can be reached, for the terminal. */
  readonly description: string;
}

/** Where a system's clock faults go: the node's own injectable clock, or libfaketime's wall-clock offsets (db/faketime-clock.ts). */
export type ClockVia = 'node' | 'faketime';

export interface SystemUnderTest {
  readonly name: string;
  /** The ways its clock faults can be carried, the default first; empty when it takes no clock faults. */
  readonly clockVia: readonly ClockVia[];
  /** The fault kinds this system can carry; the options refuse others (exit 254). */
  readonly kinds: readonly NemesisKind[];
  /** The network modes it can run on (--net); the first fault layer that can cut its links is netns for TCP systems. */
  readonly nets: readonly NetMode[];
  readonly defaultNet: (isRoot: boolean) => NetMode;
  /** Its default election timeout range and heartbeat (--election-timeout, --heartbeat); absent: rift's (node/config-types.ts). */
  readonly timings?: { readonly electionTimeoutMs: readonly [number, number]; readonly heartbeatIntervalMs: number };
  /** The fault kinds it can carry on --hosts (no relay there, no local disk; a clock only where the node takes requests over its session). */
  readonly hostKinds: readonly NemesisKind[];
  /**
   * The kinds it carries on --hosts with `--net relay` besides `hostKinds`:
   * its peer datagrams go through the relay on this machine (it takes
   * routes), so datagram faults and the wire monitor work there too.
   * Absent: no `--net relay` on --hosts (a TCP system's links go host to host).
   */
  readonly hostRelayKinds?: readonly NemesisKind[];
  /** Whether it takes rift's node options (--node-flag, --read-mode). */
  readonly nodeFlags: boolean;
  /** Why it cannot run on this machine (not installed...), or null. */
  unavailable(): string | null;
  start(spec: SystemStart): Promise<RunningSystem>;
}
