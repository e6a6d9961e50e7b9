/**
 * The cluster scope (Jepsen's with-db): start the nodes, attach the wire
 * monitor where the fault layer offers one, wait for a leader; run the body;
 * stop the cluster (or, with --leave-running and a completed body, hand
 * it to KeptCluster).
 */
import { plainValues } from '../../checker/values.js';
import { join } from 'node:path';
import type { DbCluster } from '../db/cluster.js';
import type { RunningSystem } from '../db/system.js';
import { systems } from '../db/systems.js';
import type { HostTarget } from '../remote/hosts.js';
import type { RunContext } from './context.js';
import type { KeptCluster } from './leave-running.js';
import { messageOf, withResource } from './scope.js';
import { violationValue } from './wire-monitor.js';

/** How long to wait for a leader before the workload and after the heal. */
export const LEADER_WAIT_MS = 15_000;

/** A key the workload never uses (its keys are k0, k1...): the probe's ops are not part of the history. */
const PROBE_KEY = 'jepsen-harness-probe';

/**
 * Whether the cluster serves: a write and then a read of the probe key both
 * succeed (a leader that holds a quorum, commits, and confirms a read),
 * retried until LEADER_WAIT_MS has passed.
 */
async function serving(system: RunningSystem, signal: AbortSignal): Promise<boolean> {
  const { cluster } = system;
  const deadline = performance.now() + LEADER_WAIT_MS;
  const client = system.openClient({
    process: -1,
    node: cluster.nodeIds[0]!,
    seed: process.pid,
    timeoutMs: 1000,
    clientId: `jepsen-harness-probe-${process.pid}`,
    values: plainValues,
  });
  try {
    while (performance.now() < deadline && !signal.aborted) {
      const leader = await cluster.leader();
      const put = await client.invoke({ f: 'write', key: PROBE_KEY, value: Date.now() });
      if (put.type === 'ok' && (await client.invoke({ f: 'read', key: PROBE_KEY, value: null })).type === 'ok') return true;
      if (leader === null) await new Promise((r) => setTimeout(r, 50));
    }
    return false;
  } finally {
    client.close();
  }
}

/** The connected hosts the CLI handed over (it probes them before any run). */
function hostsOf(hosts: readonly HostTarget[] | undefined, expected: number): readonly HostTarget[] {
  if (hosts === undefined || hosts.length !== expected)
    throw new Error(`--hosts: ${expected} hosts expected, ${hosts?.length ?? 0} connected`);
  return hosts;
}

export async function withCluster<T>(
  run: RunContext,
  runDir: string,
  kept: KeptCluster,
  body: (system: RunningSystem, leader: string) => Promise<T>,
): Promise<T> {
  const { options, seed, io } = run;
  const startMs = performance.now();
  // A node that fails to start makes the system stop the others and throw: nothing to release then.
  const system = await systems[options.db].start({
    options,
    seed,
    runDir,
    log: (l) => run.log.line(`cluster: ${l}`),
    hosts: options.hosts === null ? null : { targets: hostsOf(io.hosts, options.hosts.hosts.length), remoteDir: options.hosts.remoteDir },
    ...(io.nodeEntry !== undefined ? { nodeEntry: io.nodeEntry } : {}),
  });
  return withResource(
    system,
    async (sys) => {
      const c: DbCluster = sys.cluster;
      // The relay kept the datagrams since it started: the monitor sees the first election too.
      const wire = sys.watchWire(
        (v) => {
          run.log.line(`MONITOR: ${v.message}`);
          run.history.record({ process: 'monitor', type: 'info', f: 'monitor-violation', value: violationValue(v) });
        },
        () => run.history.nowMs(),
      ); // violations stamped on the history's clock (0 before the workload starts)
      if ('probe' in wire) run.facts.wire = wire.probe;
      else run.facts.wireNotRun = wire.notRun;
      run.throwIfInterrupted();
      const leader = await c.waitForLeader(LEADER_WAIT_MS);
      if (leader === null) {
        throw new Error(`no leader elected within ${LEADER_WAIT_MS / 1000} s of starting the cluster (see ${join(runDir, 'nodes')})`);
      }
      run.log.line(`leader ${leader} after ${run.msSince(startMs)} ms`);
      // The workload's clock starts only once the cluster serves: a cluster
      // still settling its first elections would otherwise show as a stall
      // with no fault in force (the progress analysis).
      if (!(await serving(sys, run.io.signal))) {
        throw new Error(
          `the cluster did not serve a probe write and read within ${LEADER_WAIT_MS / 1000} s of electing ${leader} (see ${join(runDir, 'nodes')})`,
        );
      }
      run.facts.timings.clusterStartMs = run.msSince(startMs);
      run.log.line(`cluster serving after ${run.facts.timings.clusterStartMs} ms`);
      run.throwIfInterrupted();
      return body(sys, leader);
    },
    async (sys, end) => {
      if (end === 'completed' && options.leaveRunning) kept.hold(sys);
      else await sys.cluster.stop();
    },
    (e) => run.log.line(`cluster stop failed: ${messageOf(e)}`),
  );
}
