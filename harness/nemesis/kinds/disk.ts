/**
 * Disk faults on a node that is down (Jepsen's file-corruption nemesis,
 * `jepsen.nemesis.combined/file-corruption-nemesis`): SIGKILL the target's
 * nodes, damage the log file each leaves behind, and restart them at once.
 *
 * The faults (`--disk-faults`):
 * - `flip-last-frame`: flip one bit in the last frame of the log, data that
 *   was fsynced and may hold an acknowledged vote or entry. Bit rot is not a
 *   torn write: a correct node must refuse to start (exit 3, issue 15 defect
 *   3). With `--unsafe-torn-tail-dropped` it drops the frame instead, and
 *   with it whatever the frame held;
 * - `flip-frame`: the same in a random frame (damage followed by valid
 *   frames: every node must refuse);
 * - `flip-snapshot`: flip one bit in the node's newest snapshot file (issue
 *   18: snapshots are checksummed). A correct node notices and restarts
 *   from the previous snapshot and the log, which it keeps reaching back to
 *   it for this reason (node/storage/snapshot-store.ts), or refuses (exit 3)
 *   if the log no longer does; it never starts from the damaged one. A node
 *   without a snapshot yet is restarted untouched;
 * - `torn-tail`: append a prefix of a frame after the last one: the remains
 *   of an append that the power failure interrupted before its fsync (never
 *   acknowledged). A node must drop it and come back;
 * - `flip-before-torn-tail`: both at once, a bit flipped in the fsynced last
 *   frame (half the time in its 9-byte header: length, checksum, type) and
 *   the torn remains of the next append after it. The torn bytes say nothing
 *   about the frame before them: a correct node must refuse (exit 3). A
 *   flipped length bit with torn bytes after it once made recovery drop a
 *   fsynced vote (node/storage/replay.ts wholeFrameLength, found by the
 *   simulator); the other faults never put the two side by side;
 * - `truncate-synced` (never a default, say it explicitly): cut the last
 *   frame off, though it was fsynced and may be acknowledged. That is
 *   OUTSIDE Raft's fault model (a correct node can then lose a vote or a
 *   committed entry); it is here to show what the checks make of it: a
 *   follower whose log lost acknowledged entries (issue 15 defect 4). So it
 *   cuts only a frame that holds entries (a frame with nothing but a vote
 *   or a term is left alone: that would be a lost vote), and the node is
 *   frozen (SIGSTOP) for SETTLE_MS before its kill, so that the leader has
 *   seen the cut frame acknowledged;
 * - `truncate-acked` (never a default either): the same for the last two
 *   frames, when both hold entries and no vote. A node writes a frame only
 *   after the previous one's acknowledgements left, so the older of the two
 *   was acknowledged whatever moment the kill hit: a follower certain to
 *   have lost entries it acknowledged (what defect 4 needs the leader to
 *   repair; with one frame the cut one was often still unacknowledged).
 *
 * A node that refuses to start on corruption is the expected outcome of a
 * flip, not a failure of the run: the op's value says `refused` with the
 * node's reason, the harness log says so, and the node stays down while the
 * fault lasts. When the fault stops (and in the final heal), each refused
 * node gets its own log back (the copy taken just before the damage: a
 * backup taken after its last write, the safe way back its refusal names)
 * and restarts. So that the cluster keeps a working majority, the nemesis
 * never leaves more than a minority of nodes down: a larger target is cut
 * to what that allows.
 *
 * A flip is any bit of the frame, uniformly, even one that leaves a
 * sector's share of the frame all zeros (the mark of a lost write): recovery
 * tells the two apart when one flipped bit explains the damage
 * (node/storage/replay.ts oneFlipRestores). Until it did, flips here
 * avoided zeroing a share themselves, and a share zero by nature (a frame
 * ending in a 0 byte one byte into a sector: then any flip was dropped as
 * torn) was a hole no run happened to meet.
 *
 * The `voter` target is a trap (as kill's): while the fault lasts, every node
 * the wire monitor sees grant a vote is killed at once, its log damaged and
 * restarted (the leader first, so that there are elections). Right after a
 * grant the vote is usually the node's last frame: a node that drops a
 * flipped last frame forgets it. A node that refuses gets its log back at
 * once, so the trap can go on.
 *
 * After every restart the node's vote is checked against the last vote the
 * wire monitor saw it grant (RaftWireMonitor.checkRestartedVoter): a node
 * that came back in the same term with another votedFor, or in an earlier
 * term, lost a vote it had acknowledged, which the monitor reports (the run
 * is then invalid).
 */
import { join } from 'node:path';
import fc from 'fast-check';
import { NODE_EXIT } from '../../../node/exit-codes.js';
import { LOG_FILE_NAME } from '../../../node/storage/file-storage.js';
import { FRAME_HEADER_BYTES } from '../../../node/storage/record.js';
import { scanLog, type LocatedFrame } from '../../../node/storage/replay.js';
import { SNAPSHOT_FILE } from '../../../node/storage/snapshot-store.js';
import { StorageCorruptionError } from '../../../node/storage/storage.js';
import { assertNever } from '../../../node/util/assert.js';
import type { GrantedVote } from '../../net/monitor.js';
import { NodeExitedBeforeReady } from '../../node-process.js';
import type { Rng } from '../../rng.js';
import type { NemesisContext } from '../context.js';
import type { FaultNemesis, NemesisKindSpec, NemesisOption } from '../kind.js';
import { nodeTargets, resolveTarget, targetArb, targetField, type NodeSetTarget, type NodeTarget } from '../targets.js';
import { field } from '../wire.js';

/**
 * truncate-synced: how long a node is frozen before its kill, so that every acknowledgement it sent reaches the leader
 * (one relay hop and one event-loop turn of the leader, tens of ms on a loaded machine; 200 ms leaves a wide margin and
 * stays far below an election timeout of the target's peers, who do not notice a frozen follower anyway).
 */
export const SETTLE_MS = 200;
const SETTLE_STEPS = 4;

export type DiskFault =
  'flip-last-frame' | 'flip-frame' | 'flip-snapshot' | 'torn-tail' | 'flip-before-torn-tail' | 'truncate-synced' | 'truncate-acked';
export const diskFaults: readonly DiskFault[] = [
  'flip-last-frame',
  'flip-frame',
  'flip-snapshot',
  'torn-tail',
  'flip-before-torn-tail',
  'truncate-synced',
  'truncate-acked',
];
/** Inside Raft's fault model: a correct node survives each (refusing to start is surviving). */
export const defaultDiskFaults: readonly DiskFault[] = [
  'flip-last-frame',
  'flip-frame',
  'flip-snapshot',
  'torn-tail',
  'flip-before-torn-tail',
];

export type DiskOp =
  | { readonly kind: 'disk'; readonly f: 'start-disk'; readonly value: { readonly target: NodeTarget; readonly fault: DiskFault } }
  | { readonly kind: 'disk'; readonly f: 'stop-disk'; readonly value: { readonly target: 'all' } };

const restore: DiskOp = { kind: 'disk', f: 'stop-disk', value: { target: 'all' } };

export const diskFaultsOption: NemesisOption = {
  flag: 'disk-faults',
  arg: 'LIST',
  help:
    "what disk faults do to a killed node's log before its restart: flip-last-frame (a bit in the fsynced last frame: the node must refuse, exit 3), " +
    'flip-frame (a bit in a random frame), flip-snapshot (a bit in the newest snapshot file: the node must fall back to the previous ' +
    'one and the log, or refuse), torn-tail (append an interrupted write: the node must come back), ' +
    'flip-before-torn-tail (a bit in the fsynced last frame, often its header, and an interrupted write after it: the node must refuse), ' +
    "truncate-synced (cut the fsynced last frame: OUTSIDE Raft's fault model, never a default), " +
    'truncate-acked (cut the last two frames of entries, the older surely acknowledged: outside it too, never a default)',
  defaultText: defaultDiskFaults.join(','),
};

export const disk: NemesisKindSpec<'disk', DiskOp> = {
  kind: 'disk',
  label: 'disk',
  summary: "damage killed nodes' logs, then restart",
  fs: { 'start-disk': 'start', 'stop-disk': 'stop' },
  targets: nodeTargets,
  options: [diskFaultsOption],
  finalHeal: { f: restore.f },
  validate(opts) {
    for (const d of opts.diskFaults ?? [])
      if (!diskFaults.includes(d)) throw new Error(`unknown disk fault "${d}" (known: ${diskFaults.join(', ')})`);
  },
  cycle(opts) {
    const faults = opts.diskFaults !== undefined && opts.diskFaults.length > 0 ? opts.diskFaults : defaultDiskFaults;
    return fc
      .record({ target: targetArb(opts, nodeTargets), fault: fc.constantFrom(...faults) })
      .map(({ target, fault }): readonly [DiskOp, DiskOp] => [{ kind: 'disk', f: 'start-disk', value: { target, fault } }, restore]);
  },
  decode(f, value) {
    switch (f) {
      case 'start-disk': {
        const fault = field(value, 'fault');
        if (typeof fault !== 'string' || !(diskFaults as readonly string[]).includes(fault)) {
          throw new Error(`bad disk fault ${JSON.stringify(fault)} (expected one of ${diskFaults.join(', ')})`);
        }
        return { kind: 'disk', f, value: { target: targetField(value, nodeTargets), fault: fault as DiskFault } };
      }
      case 'stop-disk':
        return restore;
      default:
        return assertNever(f, 'disk op');
    }
  },
  create: (ctx) => new DiskNemesis(ctx),
};

/** A damaged file's bytes from just before the damage: what a refused node gets back. */
interface Backup {
  /** The file's name in the node's data directory. */
  readonly name: string;
  readonly bytes: Buffer;
}

/**
 * The damage a correct node must refuse to start on (exit 3): a bit flipped
 * in a durable frame of its log (node/storage/replay.ts refuses every single
 * flip, torn bytes after it or not). A node that starts instead dropped or
 * took corrupt durable data; the run's disk-recovery analysis
 * (harness/run/disk-recovery.ts) says so from these values in the history.
 */
export const REFUSAL_REQUIRED: readonly Damage['done'][] = ['flipped', 'flipped-before-torn-write'];

/**
 * The damage a correct node must start on: the torn remains of an append
 * that was never acknowledged (it drops them and comes back). A refusal
 * there keeps a healthy node down until an operator acts; the disk-recovery
 * analysis reports that too.
 */
export const START_REQUIRED: readonly Damage['done'][] = ['appended-torn-write'];

/** What was done to one node's log or snapshot. */
type Damage =
  | {
      readonly done: 'flipped';
      readonly frame: number;
      readonly frames: number;
      readonly offset: number;
      readonly mask: number;
      readonly backup: Backup;
    }
  | {
      readonly done: 'flipped-snapshot';
      readonly snapshotBytes: number;
      readonly offset: number;
      readonly mask: number;
      readonly backup: Backup;
    }
  | { readonly done: 'appended-torn-write'; readonly offset: number; readonly bytes: number }
  | {
      readonly done: 'flipped-before-torn-write';
      readonly offset: number;
      readonly mask: number;
      readonly tornOffset: number;
      readonly tornBytes: number;
      readonly backup: Backup;
    }
  | { readonly done: 'truncated-synced-frame'; readonly offset: number; readonly bytes: number }
  | { readonly done: 'truncated-acked-frames'; readonly offset: number; readonly bytes: number; readonly frames: number }
  | { readonly done: 'nothing'; readonly why: string };

class DiskNemesis implements FaultNemesis<DiskOp> {
  /** Nodes that refused to start, with the file they get back. */
  private readonly refused = new Map<string, Backup>();
  /** Nodes whose restart failed otherwise (retried when the fault stops). */
  private readonly down = new Set<string>();
  private readonly lastVote = new Map<string, GrantedVote>();
  private unsubscribe: (() => void) | null = null;
  /** The `voter` trap while it lasts. */
  private trap: { readonly unsubscribe: () => void; readonly inFlight: Map<string, Promise<void>>; readonly bounces: unknown[] } | null =
    null;

  constructor(private readonly ctx: NemesisContext) {}

  async invoke(op: DiskOp): Promise<unknown> {
    switch (op.f) {
      case 'start-disk':
        return op.value.target === 'voter' ? this.armTrap(op.value.fault) : this.damage(op.value.target, op.value.fault);
      case 'stop-disk':
        return this.restoreAll();
      default:
        return assertNever(op, 'disk op');
    }
  }

  async heal(): Promise<unknown> {
    const result = await this.restoreAll();
    this.unsubscribe?.();
    this.unsubscribe = null;
    return result;
  }

  active(): readonly string[] {
    return [
      ...(this.trap === null ? [] : ['disk voter trap']),
      ...[...this.refused.keys()].sort().map((id) => `${id} refused (corrupt log)`),
    ];
  }

  /** Nodes that may go down now with a majority still running (a trap's bounce in flight counts as down). */
  private room(): number {
    const { cluster } = this.ctx;
    const downNow = cluster.nodeIds.filter((id) => !cluster.isAlive(id) || this.trap?.inFlight.has(id) === true).length;
    return Math.max(0, Math.floor((cluster.nodeIds.length - 1) / 2) - downNow);
  }

  /** The `voter` target: see the file comment. */
  private async armTrap(fault: DiskFault): Promise<unknown> {
    const { net, cluster } = this.ctx;
    if (net.onVoteGranted === undefined) throw new Error('the voter target needs the relay (its monitor sees the votes)');
    if (this.trap !== null) return { already: true };
    this.watchVotes(); // first, so that lastVote holds the vote when the trap fires
    const inFlight = new Map<string, Promise<void>>();
    const bounces: unknown[] = [];
    const unsubscribe = net.onVoteGranted(({ voter, term }) => {
      if (this.ctx.isStopped() || inFlight.has(voter) || this.refused.has(voter) || !cluster.isAlive(voter) || this.room() === 0) return;
      const bounce = (async () => {
        try {
          const result = await this.hit(voter, fault);
          if (result['outcome'] === 'refused') result['restored'] = await this.restoreOne(voter);
          bounces.push({ node: voter, term, ...result });
        } catch (err) {
          bounces.push({ node: voter, term, error: (err as Error).message });
        } finally {
          inFlight.delete(voter);
        }
      })();
      inFlight.set(voter, bounce);
    });
    this.trap = { unsubscribe, inFlight, bounces };
    const leader = await cluster.leader();
    const first = leader !== null && this.room() > 0 ? { [leader]: await this.hit(leader, fault) } : {};
    return { target: 'voter', fault, armed: true, leader, results: first };
  }

  private async disarmTrap(): Promise<unknown[] | null> {
    const trap = this.trap;
    if (trap === null) return null;
    this.trap = null;
    trap.unsubscribe();
    await Promise.all(trap.inFlight.values());
    return trap.bounces;
  }

  /** Follows the votes the wire monitor sees, for the checks after restarts (nothing to follow without a monitor). */
  private watchVotes(): void {
    if (this.unsubscribe !== null || this.ctx.net.onVoteGranted === undefined) return;
    try {
      this.unsubscribe = this.ctx.net.onVoteGranted((vote) => this.lastVote.set(vote.voter, vote));
    } catch {
      // The network layer sees no votes (a relay without a monitor): restarts are not checked.
    }
  }

  private async damage(target: NodeSetTarget, fault: DiskFault): Promise<unknown> {
    this.watchVotes();
    const { nodes, leader } = await resolveTarget(this.ctx, target);
    // Keep a majority running: never more than a minority down at once, whatever the cause.
    const chosen = nodes.slice(0, this.room());
    const results: Record<string, unknown> = {};
    for (const id of chosen) results[id] = await this.hit(id, fault);
    const skipped = nodes.filter((id) => !chosen.includes(id));
    return {
      fault,
      nodes: chosen,
      results,
      wasLeader: leader !== null && chosen.includes(leader),
      leader,
      ...(skipped.length > 0 ? { skipped, why: 'a majority stays up' } : {}),
    };
  }

  /** Kill, damage, restart: what was done and how the node took it. */
  private async hit(id: string, fault: DiskFault): Promise<Record<string, unknown>> {
    // truncate-synced must lose entries the node ACKNOWLEDGED (what the fault is about: issue 15 defect 4 is a leader that
    // never repairs a follower whose log is shorter than what it acknowledged). A kill at an arbitrary moment often lands
    // between a frame's fsync and its acknowledgement reaching the leader (a few ms through the relay, against a frame every
    // ~10 ms under load), and then the cut frame was never acknowledged: nothing for the leader to repair. So the node is
    // frozen first (SIGSTOP: it writes and sends nothing more) and killed once what it already sent has been delivered.
    const settled = fault === 'truncate-synced' || fault === 'truncate-acked' ? await this.freezeAndSettle(id) : null;
    await this.ctx.cluster.kill(id);
    this.ctx.crashed(id);
    let damage: Damage;
    try {
      damage = await this.damageLog(id, fault);
    } catch (err) {
      damage = { done: 'nothing', why: `could not damage the log: ${(err as Error).message}` };
    }
    const backup = 'backup' in damage ? damage.backup : null;
    const { backup: _backup, ...shown } = 'backup' in damage ? damage : { ...damage, backup: undefined };
    return {
      ...shown,
      ...(settled !== null ? { frozenMs: settled } : {}),
      ...(await this.restart(id, backup)),
    };
  }

  /** SIGSTOP the node and wait SETTLE_MS for its last datagrams to be delivered and answered; resolves to the ms it was frozen. */
  private async freezeAndSettle(id: string): Promise<number> {
    const started = performance.now();
    await this.ctx.cluster.pause(id);
    // In SETTLE_STEPS timers, not one: the relay that carries the node's last datagrams runs on this event loop, and after
    // a stall of the harness a due timer runs before the pending datagrams are read; each step lets them through.
    for (let i = 0; i < SETTLE_STEPS && !this.ctx.isStopped(); i++) await new Promise((r) => setTimeout(r, SETTLE_MS / SETTLE_STEPS));
    return Math.round(performance.now() - started);
  }

  /** Restarts a damaged node; a refusal on corruption (exit 3) is an outcome, not an error. */
  private async restart(id: string, backup: Backup | null): Promise<Record<string, unknown>> {
    const { cluster } = this.ctx;
    try {
      await cluster.restart(id);
    } catch (err) {
      if (err instanceof NodeExitedBeforeReady && err.exitCode === NODE_EXIT.corruptStorage) {
        // The node's own line, or what of it the log tail kept.
        const reason =
          /rift-node: refusing to start: ([^\n]*)/.exec(err.message)?.[1] ??
          /(storage corruption in [^\n]*)/.exec(err.message)?.[1] ??
          'storage corruption';
        if (backup !== null) this.refused.set(id, backup);
        else this.down.add(id);
        this.ctx.log(
          `disk: ${id} refused to start on its damaged log (exit ${err.exitCode}), as it must; it stays down until the fault stops: ${reason}`,
        );
        return { outcome: 'refused', exit: err.exitCode, reason: reason.slice(0, 300) };
      }
      this.down.add(id);
      return { outcome: 'failed', error: (err as Error).message.split('\n')[0] };
    }
    const check = await this.checkVote(id);
    return { outcome: 'started', ...check };
  }

  /** Hands the monitor what the restarted node says against the last vote it was seen to grant. */
  private async checkVote(id: string): Promise<Record<string, unknown>> {
    const vote = this.lastVote.get(id);
    if (vote === undefined || this.ctx.net.checkRestartedVoter === undefined) return {};
    const status = await this.ctx.cluster.status(id);
    if (status === null) return {};
    this.ctx.net.checkRestartedVoter(vote, status);
    const kept = status.currentTerm > vote.term || (status.currentTerm === vote.term && status.votedFor === vote.candidate);
    return {
      vote: { term: vote.term, grantedTo: vote.candidate, after: { currentTerm: status.currentTerm, votedFor: status.votedFor }, kept },
    };
  }

  private async damageLog(id: string, fault: DiskFault): Promise<Damage> {
    if (fault === 'flip-snapshot') return this.damageSnapshot(id);
    const { cluster } = this.ctx;
    const file = join(cluster.dataDir(id), LOG_FILE_NAME);
    const read = await cluster.readDataFile(id, LOG_FILE_NAME);
    if (read === null) return { done: 'nothing', why: 'no log file' };
    const buf = read;
    const write = (bytes: Buffer): Promise<void> => cluster.writeDataFile(id, LOG_FILE_NAME, bytes);
    let frames;
    try {
      frames = scanLog(buf, file).frames;
    } catch (err) {
      if (err instanceof StorageCorruptionError) return { done: 'nothing', why: 'the log is already corrupt' };
      throw err;
    }
    const last = frames.at(-1);
    if (last === undefined) return { done: 'nothing', why: 'the log has no frame yet' };
    const { rng } = this.ctx;
    switch (fault) {
      case 'flip-last-frame':
      case 'flip-frame': {
        const index = fault === 'flip-last-frame' ? frames.length - 1 : rng.int(0, frames.length - 1);
        const frame = frames[index]!;
        const backup = { name: LOG_FILE_NAME, bytes: Buffer.from(buf) };
        const flip = pickFlip(frame.offset, frame.bytes, rng);
        buf[flip.offset] = buf[flip.offset]! ^ flip.mask;
        await write(buf);
        return { done: 'flipped', frame: index, frames: frames.length, offset: flip.offset, mask: flip.mask, backup };
      }
      case 'flip-before-torn-tail': {
        const backup = { name: LOG_FILE_NAME, bytes: Buffer.from(buf) };
        // Half the time in the header: a flipped length field is where a durable frame can pass for a torn one.
        const flip = rng.int(0, 1) === 0 ? pickFlip(last.offset, FRAME_HEADER_BYTES, rng) : pickFlip(last.offset, last.bytes, rng);
        buf[flip.offset] = buf[flip.offset]! ^ flip.mask;
        const end = last.offset + last.bytes;
        const tornBytes = rng.int(1, last.bytes - 1);
        await write(Buffer.concat([buf.subarray(0, end), backup.bytes.subarray(last.offset, last.offset + tornBytes)]));
        return { done: 'flipped-before-torn-write', offset: flip.offset, mask: flip.mask, tornOffset: end, tornBytes, backup };
      }
      case 'torn-tail': {
        // A prefix of a frame, as an append cut short by the power failure leaves it.
        const bytes = rng.int(1, last.bytes - 1);
        const end = last.offset + last.bytes;
        await write(Buffer.concat([buf.subarray(0, end), buf.subarray(last.offset, last.offset + bytes)]));
        return { done: 'appended-torn-write', offset: end, bytes };
      }
      case 'truncate-synced':
        // A frame without entries is a vote or a term change (a node that just granted a vote): cutting it loses a vote
        // (the wire monitor's finding, on any node), not the log tail this fault is for.
        if (!last.records.some((r) => r.type === 'entry'))
          return {
            done: 'nothing',
            why: 'the last frame holds no entry (a vote or a term only): cutting it would lose a vote, not a log tail',
          };
        await write(buf.subarray(0, last.offset));
        return { done: 'truncated-synced-frame', offset: last.offset, bytes: last.bytes };
      case 'truncate-acked': {
        // The node writes a frame only after the previous Ready's messages left (node/host.ts drainReadies: persist, then
        // send, then the next Ready), so when the last frame is on disk, the acknowledgement of the one before it was sent.
        // Cutting both loses entries the leader saw acknowledged, whatever moment the kill hit. Frames of entries only, no
        // vote among them (cutting a vote is a lost vote, not a lost log tail).
        const cut = frames.slice(-2);
        const bad = cut.length < 2 ? 'the log has fewer than two frames' : cut.map(whyNotAnEntryFrame).find((w) => w !== null);
        if (bad !== undefined && bad !== null) return { done: 'nothing', why: bad };
        const from = cut[0]!.offset;
        await write(buf.subarray(0, from));
        return { done: 'truncated-acked-frames', offset: from, bytes: buf.length - from, frames: cut.length };
      }
      default:
        return assertNever(fault, 'disk fault');
    }
  }

  /**
   * One bit anywhere in the newest snapshot file: every byte of it is covered
   * by its length field or its CRC-32 (snapshot-store.ts), so a correct node
   * sees any flip. (No sector rule here: a snapshot is written whole to a
   * temporary file and renamed, never torn in place.)
   */
  private async damageSnapshot(id: string): Promise<Damage> {
    const buf = await this.ctx.cluster.readDataFile(id, SNAPSHOT_FILE);
    if (buf === null) return { done: 'nothing', why: 'no snapshot yet' };
    if (buf.length === 0) return { done: 'nothing', why: 'an empty snapshot file' };
    const { rng } = this.ctx;
    const backup = { name: SNAPSHOT_FILE, bytes: Buffer.from(buf) };
    const offset = rng.int(0, buf.length - 1);
    const mask = 1 << rng.int(0, 7);
    buf[offset] = buf[offset]! ^ mask;
    await this.ctx.cluster.writeDataFile(id, SNAPSHOT_FILE, buf);
    return { done: 'flipped-snapshot', snapshotBytes: buf.length, offset, mask, backup };
  }

  /** Gives a refused node its own file back and restarts it. */
  private async restoreOne(id: string): Promise<Record<string, unknown>> {
    const backup = this.refused.get(id);
    this.refused.delete(id);
    if (backup === undefined || this.ctx.cluster.isAlive(id)) return { outcome: 'running' };
    await this.ctx.cluster.writeDataFile(id, backup.name, backup.bytes);
    return this.restart(id, null);
  }

  private async restoreAll(): Promise<unknown> {
    const bounces = await this.disarmTrap();
    const restored: Record<string, unknown> = {};
    for (const id of [...this.refused.keys()].sort()) restored[id] = await this.restoreOne(id);
    for (const id of [...this.down].sort()) {
      this.down.delete(id);
      if (!this.ctx.cluster.isAlive(id)) restored[id] = await this.restart(id, null);
    }
    return { nodes: Object.keys(restored), results: restored, ...(bounces === null ? {} : { voterBounces: bounces }) };
  }
}

/** A byte in [offset, offset + bytes) and one bit of it, uniformly. */
function pickFlip(offset: number, bytes: number, rng: Rng): { offset: number; mask: number } {
  return { offset: rng.int(offset, offset + bytes - 1), mask: 1 << rng.int(0, 7) };
}

/** Why a frame is not one truncate-acked may cut (null: it holds entries and no vote). */
function whyNotAnEntryFrame(frame: LocatedFrame): string | null {
  if (!frame.records.some((r) => r.type === 'entry')) return `the frame at ${frame.offset} holds no entry`;
  if (frame.records.some((r) => r.type === 'hard_state' && r.hardState.votedFor !== null))
    return `the frame at ${frame.offset} holds a vote`;
  return null;
}
