/**
 * The bootstrap configuration a node first started with, recorded in its
 * data directory (`<dataDir>/<id>/bootstrap-nodes`), so that an edited
 * `nodes` list in the config file is refused instead of silently changing
 * the membership.
 *
 * Why: `nodes` is the bootstrap configuration (README "Membership"). A node
 * takes it as its configuration for as long as its log and snapshot hold no
 * configuration entry, which, in a cluster that never changed membership
 * through `rift-node admin`, is forever. So editing `nodes` on one node
 * (say from five ids to three) would make that node count majorities of
 * three while the others count majorities of five: two leaders in one term
 * become possible (dissertation §4.1: every server must agree on the
 * configuration a majority is counted in). Membership changes go through
 * the log, one server at a time; the file's list must never change once the
 * node has started.
 *
 * Only the ids are recorded: they are what majorities are counted over. An
 * address may change (a node moved to another port), and `spareNodes` may
 * grow (README: adding a spare never changes the bootstrap configuration).
 * The record is written atomically (temporary file, fsync, rename, fsync of
 * the directory) the first time a node starts with a directory that lacks
 * it, which is also how a data directory from before this record adopts one.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { NodeId } from './raft/types.js';

export const BOOTSTRAP_RECORD_FILE = 'bootstrap-nodes';

/** The record's one line: the ids, sorted, comma-separated (order in the file does not matter). */
export function bootstrapFingerprint(nodeIds: readonly NodeId[]): string {
  return [...nodeIds].sort().join(',');
}

export type BootstrapCheck =
  | { readonly kind: 'recorded'; readonly file: string }
  | { readonly kind: 'matches' }
  | { readonly kind: 'changed'; readonly file: string; readonly recorded: string; readonly now: string };

/**
 * Compares `nodeIds` (the config file's `nodes`) with the record in `dir`;
 * writes the record when there is none. Throws on IO errors other than a
 * missing record.
 */
export function checkBootstrapRecord(dir: string, nodeIds: readonly NodeId[]): BootstrapCheck {
  const file = join(dir, BOOTSTRAP_RECORD_FILE);
  const now = bootstrapFingerprint(nodeIds);
  let text: string | null;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    text = null;
  }
  if (text !== null) {
    const recorded = text.trim();
    return recorded === now ? { kind: 'matches' } : { kind: 'changed', file, recorded, now };
  }
  const tmp = `${file}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, `${now}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  const dirFd = openSync(dir, 'r');
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
  }
  return { kind: 'recorded', file };
}

/** The one-line refusal for a changed `nodes` list. */
export function bootstrapChangedMessage(check: Extract<BootstrapCheck, { kind: 'changed' }>): string {
  return (
    `the config file's "nodes" (${check.now}) differ from the bootstrap configuration this node first started with ` +
    `(${check.recorded}, recorded in ${check.file}): "nodes" must never change once the cluster has started, or nodes ` +
    `would count majorities over different members (dissertation §4.1). Restore the original list; change membership ` +
    `with \`rift-node admin add|promote|remove\` (README "Membership")`
  );
}
