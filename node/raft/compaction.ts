/**
 * Log compaction policy (§7; dissertation ch. 5): when the core asks its
 * driver for a snapshot of the state machine, and how much log it keeps
 * after one. The one place these numbers and rules live.
 *
 * - Snapshot every `snapshotEveryEntries` applied entries (etcd's default
 *   snapshot count is 10,000; it was 100,000 before etcd 3.2), or sooner
 *   when the entries applied since the last snapshot reach
 *   `snapshotEveryBytes` (values are up to 8 KiB each, so the count alone
 *   would let the log grow to ~80 MiB).
 * - Keep `snapshotTrailingEntries` entries before the snapshot (etcd keeps
 *   5,000, SnapshotCatchUpEntries; hashicorp/raft 10,240, TrailingLogs): a
 *   follower a little behind catches up with AppendEntries instead of a
 *   whole snapshot.
 *
 * Pure arithmetic, no IO.
 */
import { assert } from '../util/assert.js';
import type { RaftConfig } from './types.js';

export interface CompactionPolicy {
  /** null = never ask for a snapshot. */
  readonly snapshotEveryEntries: number | null;
  readonly snapshotEveryBytes: number;
  readonly snapshotTrailingEntries: number;
}

export const defaultCompaction: CompactionPolicy = Object.freeze({
  snapshotEveryEntries: 10_000,
  snapshotEveryBytes: 16 * 1024 * 1024,
  snapshotTrailingEntries: 5_000,
});

/** The policy a config asks for, defaults filled in and checked. */
export function compactionPolicyOf(config: RaftConfig): CompactionPolicy {
  const policy: CompactionPolicy = {
    snapshotEveryEntries: config.snapshotEveryEntries === undefined ? defaultCompaction.snapshotEveryEntries : config.snapshotEveryEntries,
    snapshotEveryBytes: config.snapshotEveryBytes ?? defaultCompaction.snapshotEveryBytes,
    snapshotTrailingEntries: config.snapshotTrailingEntries ?? defaultCompaction.snapshotTrailingEntries,
  };
  const every = policy.snapshotEveryEntries;
  assert(
    every === null || (Number.isSafeInteger(every) && every >= 1),
    `RaftConfig.snapshotEveryEntries must be a positive integer or null, got ${every}`,
  );
  assert(
    Number.isSafeInteger(policy.snapshotEveryBytes) && policy.snapshotEveryBytes >= 1,
    `RaftConfig.snapshotEveryBytes must be a positive integer, got ${policy.snapshotEveryBytes}`,
  );
  assert(
    Number.isSafeInteger(policy.snapshotTrailingEntries) && policy.snapshotTrailingEntries >= 0,
    `RaftConfig.snapshotTrailingEntries must be a non-negative integer, got ${policy.snapshotTrailingEntries}`,
  );
  return policy;
}

/** Whether entries applied since the last snapshot (`entries` of them, `bytes` in size) call for a new one. */
export function snapshotDue(policy: CompactionPolicy, entries: number, bytes: number): boolean {
  if (policy.snapshotEveryEntries === null) return false;
  return entries >= policy.snapshotEveryEntries || (entries > 0 && bytes >= policy.snapshotEveryBytes);
}

/**
 * The new start of the in-memory log after a snapshot at `snapshotIndex`:
 * every entry up to the returned index may go (it becomes the log's
 * `prevIndex`). Never past the snapshot (only what a durable snapshot covers
 * is discarded) and never backwards.
 */
export function compactionPoint(policy: CompactionPolicy, snapshotIndex: number, currentPrevIndex: number): number {
  return Math.max(currentPrevIndex, snapshotIndex - policy.snapshotTrailingEntries);
}
