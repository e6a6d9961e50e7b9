/**
 * --leave-running (Jepsen's --leave-db-running): a cluster that
 * finished its workload is not stopped by its scope but handed here, kept
 * up through the analysis and the summary for a look at the live nodes,
 * then stopped on Ctrl-C. A run that ends without a verdict (crash, Ctrl-C)
 * keeps nothing: its cluster is stopped before the summary, as without the
 * option.
 */
import type { RunningSystem } from '../db/system.js';
import type { RunIO } from './context.js';
import type { RunLog } from './run-log.js';
import { messageOf } from './scope.js';

export class KeptCluster {
  private cluster: RunningSystem | null = null;

  hold(cluster: RunningSystem): void {
    this.cluster = cluster;
  }

  /** Stops the kept cluster now (the run reached no verdict). */
  async stop(log: RunLog): Promise<void> {
    const c = this.cluster;
    this.cluster = null;
    await c?.cluster.stop().catch((e: unknown) => log.line(`cluster stop failed: ${messageOf(e)}`));
  }

  /** After the summary: says where the cluster is, waits for Ctrl-C, stops it. No-op when nothing is kept. */
  async holdUntilInterrupted(io: RunIO): Promise<void> {
    const c = this.cluster;
    if (c === null) return;
    this.cluster = null;
    io.stderr.write(`cluster left running (${c.description}); press Ctrl-C to stop it\n`);
    await new Promise<void>((resolve) => {
      if (io.signal.aborted) resolve();
      else io.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    await c.cluster.stop();
    io.stderr.write('cluster stopped\n');
  }
}
