/**
 * One worker thread of a parallel campaign (parallel.ts): runs a fast-check
 * campaign on its share of the runs and reports every run, the first
 * failure, and the result to the main thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { RunReport, WorkerMessage, WorkerTask } from './parallel.js';
import { campaign } from './property.js';

const port = parentPort;
if (port === null) throw new Error('campaign-worker.js runs as a worker thread of parallel.ts');
const post = (message: WorkerMessage): void => port.postMessage(message);
const task = workerData as WorkerTask;

campaign(task.options, {
  numRuns: task.numRuns,
  seed: task.seed,
  maxShrinks: task.maxShrinks,
  shape: task.shape,
  onRun: (judged) => {
    const s = judged.sim.stats;
    const run: RunReport = {
      seed: judged.sim.seed,
      simMs: s.simMs,
      wallMs: s.wallMs,
      events: s.events,
      committed: s.committed,
      checkerUnknown: judged.check?.valid === 'unknown',
      opsOk: s.opsOk,
      opsFail: s.opsFail,
      opsInfo: s.opsInfo,
      leaderTerms: s.leaderTerms,
      crashes: s.crashes,
      snapshotsTaken: s.snapshotsTaken,
      snapshotsInstalled: s.snapshotsInstalled,
      snapshotChunks: s.snapshotChunks,
      snapshotChunksPastFirst: s.snapshotChunksPastFirst,
      streamKills: s.streamKills,
      ioFailures: s.ioFailures,
      ioFailureStops: s.ioFailureStops,
      membershipCycles: s.membershipCycles,
      changeRaceEarlyRemovals: s.changeRaceEarlyRemovals,
      changeRaceRefusals: s.changeRaceRefusals,
      divergentOlderSnapshots: s.divergentOlderSnapshots,
      divergentSplits: s.divergentSplits,
      violation: judged.violations[0]?.message ?? null,
    };
    post({ type: 'run', run });
  },
  onFailure: () => post({ type: 'failing' }),
}).then(
  // The counterexample is plain data (a Scenario) and clones as it is.
  (result) => post({ type: 'done', result }),
  (error: unknown) => post({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
);
