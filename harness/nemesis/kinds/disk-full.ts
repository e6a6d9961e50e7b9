/**
 * A full disk under running nodes: each node's data directory is a small
 * tmpfs of its own (harness/data-mounts.ts, root only), and the fault writes
 * a ballast file into the targets' file systems until the kernel answers
 * ENOSPC. The nodes go on meanwhile (clients write, the leader replicates),
 * so the next append, fsync, snapshot or rename of a target fails for real.
 *
 * What a correct node does (node/storage/file-storage.ts, node/main.ts): its
 * first failed disk call is fatal; it cuts the failed frame off and exits
 * with code 7 (NODE_EXIT.diskFailed) and one line naming the remedy. It
 * never acknowledges what it could not make durable, so no acknowledged
 * write is lost. Exit 7 on a full disk is therefore the expected outcome, not
 * a failure: the op's value says `exited-7` for each such node, as the disk
 * kind says `refused`. A target that writes nothing while its disk is full
 * (an idle follower) rides it out and is `running`.
 *
 * What is a failure, and the run's disk-full analysis flags it
 * (harness/run/disk-full-analysis.ts, from these values): a target that
 * exited with any other code while its disk was full or after (3, "corrupt
 * storage", is the wrong advice on a healthy disk: replace the node; 1 is a
 * crash with a stack trace), and a node that does not come back once its
 * disk has room again (its restart refused or failed). A node another kind
 * crashed after its disk was filled (kill, disk, lease-restart: the
 * NemesisContext.crashed hook) is that kind's to judge unless it exits 7: the
 * disk kind's damaged logs are refused with exit 3, as they must be.
 *
 * `stop-disk-full` removes the ballast and restarts each target that exited
 * 7 (one at a time, each waiting for its 'ready', in the restart stream's
 * order). Nodes killed by another kind while full are that kind's to
 * restart: with `kill`, a restart on a still-full disk exits 7 at once
 * (its incarnation cannot be written), and this kind brings it back when
 * the disk is freed. Its final-heal step runs after kill's for that reason,
 * so that it frees the disks and restarts those last.
 *
 * Targets as other node kinds draw them (targets.ts); `majority` and `all`
 * stop a quorum at once (the cluster is down until the stop), the biting
 * cycle is `leader` or `all`. Unlike the disk kind, nothing keeps a majority
 * up: a full disk on most nodes is what this fault is for (every node that
 * acknowledged a write may then stop before the next commit).
 */
import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { NODE_EXIT } from '../../../node/exit-codes.js';
import { assertNever } from '../../../node/util/assert.js';
import { BALLAST_FILE, DATA_TMPFS_BYTES, whyNotOwnTmpfs } from '../../data-mounts.js';
import { NodeExitedBeforeReady } from '../../node-process.js';
import type { NemesisContext } from '../context.js';
import type { FaultNemesis, NemesisKindSpec } from '../kind.js';
import { bitingTargetArb, nodeSetTargets, resolveTarget, targetArb, targetField, type NodeSetTarget } from '../targets.js';

export type DiskFullOp =
  | { readonly kind: 'disk-full'; readonly f: 'start-disk-full'; readonly value: { readonly target: NodeSetTarget } }
  | { readonly kind: 'disk-full'; readonly f: 'stop-disk-full'; readonly value: { readonly target: 'all' } };

const stop: DiskFullOp = { kind: 'disk-full', f: 'stop-disk-full', value: { target: 'all' } };

function fillCycle(target: NodeSetTarget): readonly [DiskFullOp, DiskFullOp] {
  return [{ kind: 'disk-full', f: 'start-disk-full', value: { target } }, stop];
}

export const diskFull: NemesisKindSpec<'disk-full', DiskFullOp> = {
  kind: 'disk-full',
  label: 'disk full',
  summary: "fill targets' data tmpfs (ENOSPC); root",
  fs: { 'start-disk-full': 'start', 'stop-disk-full': 'stop' },
  targets: nodeSetTargets,
  options: [],
  finalHeal: { f: stop.f },
  cycle: (opts) => targetArb(opts, nodeSetTargets).map(fillCycle),
  bitingCycle: (opts) => bitingTargetArb(opts, nodeSetTargets)?.map(fillCycle) ?? null,
  decode(f, value) {
    switch (f) {
      case 'start-disk-full':
        return { kind: 'disk-full', f, value: { target: targetField(value, nodeSetTargets) } };
      case 'stop-disk-full':
        return stop;
      default:
        return assertNever(f, 'disk-full op');
    }
  },
  create: (ctx) => new DiskFullNemesis(ctx),
};

/**
 * How a target fared, as the stop op (or the final heal) records it. The
 * disk-full analysis reads `outcome`: `wrong-exit` and `not-back` are the
 * failures (WRONG_OUTCOMES).
 */
export type FullDiskOutcome =
  /** Still running: it wrote nothing the disk refused (or the refusal had not reached it yet). */
  | { readonly outcome: 'running' }
  /** Stopped with exit 7 while full, as it must, and restarted on its data once there was room. */
  | { readonly outcome: 'exited-7'; readonly restarted: true }
  /**
   * Down by another kind's hand: killed (no exit code of its own), or crashed by another kind since its disk was
   * filled and not back (`exit`: what its last start ended with, that kind's to judge: the disk kind's damaged log
   * is refused with 3, as it must be). That kind restarts it; this one watches it until it runs.
   */
  | { readonly outcome: 'killed'; readonly exit?: number }
  /** Exited with another code: 3 (refused its log as corrupt), 1 (a crash), ... */
  | { readonly outcome: 'wrong-exit'; readonly exit: number }
  /** Exited 7, but its restart with room again failed (a refusal, a crash, no 'ready'). */
  | { readonly outcome: 'not-back'; readonly exit: number | null; readonly error: string };

export const WRONG_OUTCOMES: readonly FullDiskOutcome['outcome'][] = ['wrong-exit', 'not-back'];

/** Exit codes a target may end with that say nothing about its disk: removed from the cluster (membership kinds). */
const UNRELATED_EXITS: readonly number[] = [NODE_EXIT.removed];

class DiskFullNemesis implements FaultNemesis<DiskFullOp> {
  /** Targets whose ballast is in place, with its size. */
  private readonly filled = new Map<string, number>();
  /**
   * Nodes filled and not yet seen running on a disk with room again (at a
   * stop, after their ballast went): checked at every stop and in the final
   * heal until then, so that a node killed on its full disk and restarted by
   * another kind is judged by how that restart ended.
   */
  private readonly watched = new Set<string>();
  /** Watched nodes reported down with a wrong exit, not reported again until they run. */
  private readonly flagged = new Set<string>();
  /** Watched nodes another kind crashed (NemesisContext.crashed: kill, disk, lease-restart): their exits are that kind's. */
  private readonly crashedByOthers = new Set<string>();

  constructor(private readonly ctx: NemesisContext) {}

  async invoke(op: DiskFullOp): Promise<unknown> {
    switch (op.f) {
      case 'start-disk-full':
        return this.fill(op.value.target);
      case 'stop-disk-full':
        return this.free();
      default:
        return assertNever(op, 'disk-full op');
    }
  }

  heal(): Promise<unknown> {
    return this.free();
  }

  active(): readonly string[] {
    return [...this.filled.keys()].sort().map((id) => `${id} disk full`);
  }

  crashed(node: string): void {
    if (this.watched.has(node)) this.crashedByOthers.add(node);
  }

  private async fill(target: NodeSetTarget): Promise<unknown> {
    const { nodes, leader } = await resolveTarget(this.ctx, target);
    const results: Record<string, unknown> = {};
    // All targets' ballast at once: filled one after the other, a majority's last node would fill tens of ms after the first.
    await Promise.all(
      nodes.map(async (id) => {
        try {
          const bytes = await this.fillOne(id);
          results[id] = { ballastBytes: bytes };
        } catch (err) {
          results[id] = { error: (err as Error).message };
        }
      }),
    );
    return { target, nodes, leader, wasLeader: leader !== null && nodes.includes(leader), results };
  }

  /** Writes the ballast until ENOSPC; resolves to its size. Refuses a data directory that is not a small tmpfs of its own. */
  private async fillOne(id: string): Promise<number> {
    const dir = this.ctx.cluster.dataDir(id);
    const why = await whyNotOwnTmpfs(dir, 4 * DATA_TMPFS_BYTES);
    if (why !== null) throw new Error(`not filled: ${why} (the disk-full nemesis fills only a node's own tmpfs)`);
    this.watched.add(id);
    const fh = await open(join(dir, BALLAST_FILE), 'a');
    let bytes = this.filled.get(id) ?? 0;
    try {
      // Large chunks first, then down to single bytes: tmpfs allocates pages, so after the first ENOSPC the last
      // page of the ballast may still take a few bytes; the node's log file keeps the room left in its own last page.
      for (const chunk of [1 << 20, 4096, 1]) {
        const buf = Buffer.alloc(chunk, 0x42);
        for (;;) {
          try {
            const { bytesWritten } = await fh.write(buf, 0, chunk);
            if (bytesWritten === 0) break;
            bytes += bytesWritten;
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break;
            throw err;
          }
        }
      }
    } finally {
      await fh.close();
      this.filled.set(id, bytes);
    }
    return bytes;
  }

  /** Removes every ballast, then sees how each watched node fared and restarts those that exited 7. */
  private async free(): Promise<unknown> {
    const freed: string[] = [];
    for (const id of [...this.filled.keys()].sort()) {
      await rm(join(this.ctx.cluster.dataDir(id), BALLAST_FILE), { force: true });
      this.filled.delete(id);
      freed.push(id);
    }
    const results: Record<string, FullDiskOutcome> = {};
    for (const id of this.ctx.restartRng.shuffle([...this.watched].sort())) {
      const result = await this.settle(id);
      if (result !== null) results[id] = result;
    }
    const wrong = Object.entries(results).filter(([, r]) => WRONG_OUTCOMES.includes(r.outcome));
    for (const [id, r] of wrong) this.ctx.log(`disk-full: ${id} did not take its full disk as a correct node must: ${JSON.stringify(r)}`);
    return { freed, results };
  }

  /** How a watched node fared; null for one already reported down and still down. */
  private async settle(id: string): Promise<FullDiskOutcome | null> {
    const { cluster } = this.ctx;
    if (cluster.isAlive(id)) {
      this.unwatch(id);
      return { outcome: 'running' };
    }
    if (this.flagged.has(id)) return null;
    const exit = cluster.exitCode?.(id) ?? null;
    if (exit === null || UNRELATED_EXITS.includes(exit)) return { outcome: 'killed' };
    if (exit !== NODE_EXIT.diskFailed) {
      if (this.crashedByOthers.has(id)) return { outcome: 'killed', exit };
      this.flagged.add(id);
      return { outcome: 'wrong-exit', exit };
    }
    try {
      await cluster.restart(id);
    } catch (err) {
      this.flagged.add(id);
      const code = err instanceof NodeExitedBeforeReady ? err.exitCode : null;
      return { outcome: 'not-back', exit: code, error: (err as Error).message.split('\n').slice(0, 3).join(' | ').slice(0, 400) };
    }
    this.ctx.crashed(id); // a restart comes back with a fresh clock (for the other kinds; it runs on a disk with room now)
    this.unwatch(id);
    return { outcome: 'exited-7', restarted: true };
  }

  private unwatch(id: string): void {
    if (this.filled.has(id)) return; // filled again meanwhile (the final heal frees it first; a stop always does)
    this.watched.delete(id);
    this.flagged.delete(id);
    this.crashedByOthers.delete(id);
  }
}
