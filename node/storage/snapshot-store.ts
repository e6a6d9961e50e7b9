/**
 * Durable snapshots of the state machine (issue 18, thesis §5.1 "Snapshotting
 * memory-based state machines"), kept beside the log in the node's data
 * directory, through the same injectable file system as the log
 * (`storage-fs.ts`), so the simulator and the page-cache crash model exercise
 * exactly this code.
 *
 * Two slots, fixed names (no directory listing needed):
 *
 *   snapshot        the newest snapshot
 *   snapshot.prev   the one before it
 *   snapshot.tmp    a snapshot being written (ignored and removed on open)
 *
 * Saving is atomic per step: write `snapshot.tmp`, fsync it, rename the
 * current `snapshot` to `snapshot.prev`, rename `snapshot.tmp` to
 * `snapshot`, fsync the directory. A crash between any two steps leaves at
 * least one complete snapshot under `snapshot` or `snapshot.prev`.
 *
 * Why two: a disk may flip a bit in a file that was fine when written. The
 * node compacts its log only up to the OLDER snapshot's index
 * (`compactableIndex`), so if the newest snapshot turns out damaged, the older
 * one plus the log tail still rebuild every committed entry: a damaged
 * snapshot costs a slower start, never committed state. If both are damaged,
 * or the newest is damaged and the log no longer reaches back to the older
 * one, `load` refuses (StorageCorruptionError) rather than start with less.
 *
 * File = header(8: "RIFTSNP" 0x01) length(u32 LE) crc(u32 LE) metadata-and-payload
 *   metadata-and-payload = metaLength(u32 LE) meta(UTF-8 JSON: index, term, configuration) payload
 *   crc = CRC-32 over everything after the crc field, so any flipped bit is found.
 */
import { join } from 'node:path';
import type { Configuration, SnapshotMeta } from '../raft/types.js';
import { configurationProblem } from '../raft/configuration.js';
import { assert } from '../util/assert.js';
import { crc32 } from './crc32.js';
import type { StorageFs } from './storage-fs.js';

export const SNAPSHOT_MAGIC: Buffer = Buffer.from([0x52, 0x49, 0x46, 0x54, 0x53, 0x4e, 0x50, 0x01]); // "RIFTSNP" v1
const HEADER_BYTES = SNAPSHOT_MAGIC.length + 4 + 4;
/** Bound on one snapshot file (checked on write and read: a bogus length is damage, not an allocation). */
export const MAX_SNAPSHOT_BYTES = 1024 * 1024 * 1024;
/** Bound on the metadata part (a configuration of MAX_MEMBERS ids fits easily). */
const MAX_META_BYTES = 64 * 1024;

export const SNAPSHOT_FILE = 'snapshot';
export const PREVIOUS_SNAPSHOT_FILE = 'snapshot.prev';
export const TEMP_SNAPSHOT_FILE = 'snapshot.tmp';

export interface StoredSnapshot {
  readonly meta: SnapshotMeta;
  /** The state machine's bytes (for the KV store: `KvStateMachine.encodeSnapshot()` as UTF-8). */
  readonly data: Buffer;
}

/** Why a snapshot file could not be used. */
export type SnapshotDamage = { readonly kind: 'missing' } | { readonly kind: 'damaged'; readonly reason: string };

export type DecodeSnapshotResult =
  { readonly ok: true; readonly snapshot: StoredSnapshot } | { readonly ok: false; readonly reason: string };

/** What `SnapshotStore.load` found: the snapshot to restore (or none), and what it skipped. */
export interface SnapshotLoad {
  readonly snapshot: StoredSnapshot | null;
  /** The older snapshot, when the newest was usable too (it bounds log compaction). */
  readonly previous: StoredSnapshot | null;
  /** Which file `snapshot` came from: the newest slot, or the previous one (the newest was missing or damaged). */
  readonly fromSlot: 'newest' | 'previous' | null;
  /** Human-readable lines for the node's log: a damaged file skipped, a leftover temp file removed. */
  readonly notes: readonly string[];
}

export function encodeSnapshot(snapshot: StoredSnapshot): Buffer {
  const meta = Buffer.from(
    JSON.stringify({
      index: snapshot.meta.index,
      term: snapshot.meta.term,
      voters: snapshot.meta.configuration.voters,
      learners: snapshot.meta.configuration.learners,
    }),
    'utf8',
  );
  assert(meta.length <= MAX_META_BYTES, `snapshot metadata of ${meta.length} bytes exceeds ${MAX_META_BYTES}`);
  const bodyBytes = 4 + meta.length + snapshot.data.length;
  assert(HEADER_BYTES + bodyBytes <= MAX_SNAPSHOT_BYTES, `snapshot of ${HEADER_BYTES + bodyBytes} bytes exceeds ${MAX_SNAPSHOT_BYTES}`);
  const out = Buffer.allocUnsafe(HEADER_BYTES + bodyBytes);
  SNAPSHOT_MAGIC.copy(out, 0);
  out.writeUInt32LE(bodyBytes, SNAPSHOT_MAGIC.length);
  out.writeUInt32LE(meta.length, HEADER_BYTES);
  meta.copy(out, HEADER_BYTES + 4);
  snapshot.data.copy(out, HEADER_BYTES + 4 + meta.length);
  out.writeUInt32LE(crc32(out.subarray(HEADER_BYTES)), SNAPSHOT_MAGIC.length + 4);
  return out;
}

/** Decodes a snapshot file; never throws: damage of any kind is a typed failure. */
export function decodeSnapshot(bytes: Buffer): DecodeSnapshotResult {
  if (bytes.length < HEADER_BYTES + 4) return { ok: false, reason: `${bytes.length} bytes: shorter than a snapshot header` };
  if (!bytes.subarray(0, SNAPSHOT_MAGIC.length).equals(SNAPSHOT_MAGIC))
    return { ok: false, reason: 'bad magic (not a rift snapshot, or another version)' };
  const bodyBytes = bytes.readUInt32LE(SNAPSHOT_MAGIC.length);
  if (HEADER_BYTES + bodyBytes !== bytes.length) {
    return { ok: false, reason: `the header says ${HEADER_BYTES + bodyBytes} bytes, the file has ${bytes.length} (torn or truncated)` };
  }
  const storedCrc = bytes.readUInt32LE(SNAPSHOT_MAGIC.length + 4);
  const actualCrc = crc32(bytes.subarray(HEADER_BYTES));
  if (storedCrc !== actualCrc)
    return { ok: false, reason: `checksum mismatch (stored ${storedCrc.toString(16)}, computed ${actualCrc.toString(16)})` };
  const metaBytes = bytes.readUInt32LE(HEADER_BYTES);
  if (metaBytes > MAX_META_BYTES || HEADER_BYTES + 4 + metaBytes > bytes.length)
    return { ok: false, reason: `metadata length ${metaBytes} out of range` };
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.subarray(HEADER_BYTES + 4, HEADER_BYTES + 4 + metaBytes).toString('utf8'));
  } catch (error) {
    return { ok: false, reason: `metadata is not JSON: ${(error as Error).message}` };
  }
  const meta = metaOf(parsed);
  if (typeof meta === 'string') return { ok: false, reason: meta };
  return { ok: true, snapshot: { meta, data: bytes.subarray(HEADER_BYTES + 4 + metaBytes) } };
}

function metaOf(value: unknown): SnapshotMeta | string {
  if (typeof value !== 'object' || value === null) return 'metadata is not an object';
  const v = value as Record<string, unknown>;
  const index = v['index'];
  const term = v['term'];
  if (typeof index !== 'number' || !Number.isSafeInteger(index) || index < 1)
    return `metadata index ${String(index)} is not a positive integer`;
  if (typeof term !== 'number' || !Number.isSafeInteger(term) || term < 1) return `metadata term ${String(term)} is not a positive integer`;
  const ids = (x: unknown): string[] | null => (Array.isArray(x) && x.every((s) => typeof s === 'string') ? (x as string[]) : null);
  const voters = ids(v['voters']);
  const learners = ids(v['learners']);
  if (voters === null || learners === null) return 'metadata configuration is not two lists of node ids';
  const configuration: Configuration = { voters, learners };
  const problem = configurationProblem(configuration);
  if (problem !== null) return `metadata configuration: ${problem}`;
  return { index, term, configuration };
}

/**
 * The snapshot files of one data directory. Calls are serialized by the
 * caller (the host saves one snapshot at a time).
 */
export class SnapshotStore {
  private constructor(
    private readonly fs: StorageFs,
    private readonly dir: string,
  ) {}

  /** Opens the store: removes a leftover temp file (a save that crashed before its rename). */
  static async open(fs: StorageFs, dir: string): Promise<{ store: SnapshotStore; notes: string[] }> {
    await fs.mkdirp(dir);
    const notes: string[] = [];
    const temp = join(dir, TEMP_SNAPSHOT_FILE);
    if ((await readIfPresent(fs, temp)) !== null) {
      await fs.removeFile(temp);
      await fs.fsyncDir(dir);
      notes.push(`removed ${temp}: a snapshot save interrupted before it was complete (the previous snapshots are intact)`);
    }
    return { store: new SnapshotStore(fs, dir), notes };
  }

  /**
   * The snapshot to restore: the newest usable one. A damaged newest file is
   * skipped for the previous one only if the log still holds every entry
   * after the previous one's index (`logFirstIndex` <= previous.index + 1);
   * otherwise committed state would be missing, and this refuses. Throws
   * SnapshotUnusableError in that case.
   */
  async load(logFirstIndex: number): Promise<SnapshotLoad> {
    const newest = await this.read(SNAPSHOT_FILE);
    const previous = await this.read(PREVIOUS_SNAPSHOT_FILE);
    const notes: string[] = [];
    if ('meta' in newest) {
      if (logFirstIndex > newest.meta.index + 1) {
        throw new SnapshotUnusableError(
          this.dir,
          `the log starts at ${logFirstIndex}, after the newest snapshot's index ${newest.meta.index}: ` +
            `entries ${newest.meta.index + 1}-${logFirstIndex - 1} are missing`,
        );
      }
      return { snapshot: newest, previous: 'meta' in previous ? previous : null, fromSlot: 'newest', notes };
    }
    if (newest.kind === 'damaged')
      notes.push(`${join(this.dir, SNAPSHOT_FILE)} is damaged (${newest.reason}); trying the previous snapshot`);
    if ('meta' in previous) {
      if (logFirstIndex > previous.meta.index + 1) {
        throw new SnapshotUnusableError(
          this.dir,
          `the newest snapshot is ${newest.kind === 'damaged' ? `damaged (${newest.reason})` : 'missing'}, and the log starts at ` +
            `${logFirstIndex}, after the previous snapshot's index ${previous.meta.index}: entries ${previous.meta.index + 1}-${logFirstIndex - 1} would be lost`,
        );
      }
      return { snapshot: previous, previous: null, fromSlot: 'previous', notes };
    }
    if (previous.kind === 'damaged') notes.push(`${join(this.dir, PREVIOUS_SNAPSHOT_FILE)} is damaged (${previous.reason})`);
    if (logFirstIndex > 1) {
      throw new SnapshotUnusableError(
        this.dir,
        `the log starts at ${logFirstIndex} but no usable snapshot covers entries before it` +
          (notes.length > 0 ? ` (${notes.join('; ')})` : ''),
      );
    }
    return { snapshot: null, previous: null, fromSlot: null, notes };
  }

  /**
   * Makes `snapshot` the newest durable snapshot (the current one becomes the
   * previous). Resolves once the directory entry is durable.
   */
  async save(snapshot: StoredSnapshot): Promise<void> {
    const bytes = encodeSnapshot(snapshot);
    const temp = join(this.dir, TEMP_SNAPSHOT_FILE);
    const file = await this.fs.open(temp, 'create');
    try {
      let written = 0;
      while (written < bytes.length) written += await file.write(bytes, written, bytes.length - written, written);
      await file.sync();
    } finally {
      await file.close();
    }
    const current = join(this.dir, SNAPSHOT_FILE);
    if ((await readIfPresent(this.fs, current)) !== null) await this.fs.rename(current, join(this.dir, PREVIOUS_SNAPSHOT_FILE));
    await this.fs.rename(temp, current);
    await this.fs.fsyncDir(this.dir);
  }

  private async read(name: string): Promise<StoredSnapshot | SnapshotDamage> {
    const bytes = await readIfPresent(this.fs, join(this.dir, name));
    if (bytes === null) return { kind: 'missing' };
    const decoded = decodeSnapshot(bytes);
    return decoded.ok ? decoded.snapshot : { kind: 'damaged', reason: decoded.reason };
  }
}

/**
 * The index up to which the log may be discarded once `newest` is saved,
 * given the snapshot before it: only up to the OLDER one, so either
 * snapshot plus the log rebuilds the state (see the file comment).
 */
export function compactableIndex(newest: SnapshotMeta, previous: SnapshotMeta | null): number {
  return previous === null ? 0 : Math.min(previous.index, newest.index);
}

/** No usable snapshot covers what the log lacks: the node must refuse to start (like StorageCorruptionError). */
export class SnapshotUnusableError extends Error {
  override readonly name = 'SnapshotUnusableError';

  constructor(
    readonly dir: string,
    readonly reason: string,
  ) {
    super(
      `snapshots in ${dir}: ${reason}; refusing to start rather than lose committed state. Keep the files for inspection; ` +
        'restore this node\'s data from a backup, or replace it with a new member (see the README, "Replacing a node")',
    );
  }
}

async function readIfPresent(fs: StorageFs, file: string): Promise<Buffer | null> {
  try {
    return await fs.readFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}
