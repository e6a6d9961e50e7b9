/**
 * The cluster scope (Jepsen's with-db): start the nodes, attach the wire
 * monitor where the fault layer offers one, wait for a leader; run the body;
 * stop the cluster (or, with --leave-running and a completed body, hand
 * it to KeptCluster).
 */
import { join } from 'node:path';
import { Cluster } from '../cluster.js';
import { powerLossKinds } from '../nemesis/registry.js';
import type { RunContext } from './context.js';
import type { KeptCluster } from './leave-running.js';
import { messageOf, withResource } from './scope.js';
import { violationValue, watchWire } from './wire-monitor.js';

/** How long to wait for a leader before the workload and after the heal. */
export const LEADER_WAIT_MS = 15_000;

export async function withCluster<T>(
  run: RunContext,
  runDir: string,
  kept: KeptCluster,
  body: (cluster: Cluster, leader: string) => Promise<T>,
): Promise<T> {
  const { options, seed, io } = run;
  const startMs = performance.now();
  // A node that fails to start makes Cluster.start stop the others and throw: nothing to release then.
  const cluster = await Cluster.start({
    nodeCount: options.nodes,
    runDir,
    nodeFlags: options.nodeFlags,
    // A kill is a power failure for the node's disk (registry.ts, powerLossKinds).
    pageCacheCrashModel: options.nemesis.some((k) => powerLossKinds.includes(k)),
    net: options.net,
    readMode: options.readMode,
    electionTimeoutMsMin: options.electionTimeoutMs[0],
    electionTimeoutMsMax: options.electionTimeoutMs[1],
    heartbeatIntervalMs: options.heartbeatIntervalMs,
    seed,
    log: (l) => run.log.line(`cluster: ${l}`),
    handleSignals: false, // the CLI owns Ctrl-C: it stops the run, which stops the cluster
    ...(io.nodeEntry !== undefined ? { nodeEntry: io.nodeEntry } : {}),
  });
  return withResource(
    cluster,
    async (c) => {
      // The relay kept the datagrams since it started: the monitor sees the first election too.
      run.facts.wire = watchWire(c.net, c.config, (v) => {
        run.log.line(`MONITOR: ${v.message}`);
        run.history.record({ process: 'monitor', type: 'info', f: 'monitor-violation', value: violationValue(v) });
      });
      run.throwIfInterrupted();
      const leader = await c.waitForLeader(LEADER_WAIT_MS);
      if (leader === null) {
        throw new Error(`no leader elected within ${LEADER_WAIT_MS / 1000} s of starting the cluster (see ${join(runDir, 'nodes')})`);
      }
      run.facts.timings.clusterStartMs = run.msSince(startMs);
      run.log.line(`leader ${leader} after ${run.facts.timings.clusterStartMs} ms`);
      run.throwIfInterrupted();
      return body(c, leader);
    },
    async (c, end) => {
      if (end === 'completed' && options.leaveRunning) kept.hold(c);
      else await c.stop();
    },
    (e) => run.log.line(`cluster stop failed: ${messageOf(e)}`),
  );
}
