/**
 * `--unsafe-memory-log`: storage that keeps nothing. persist resolves at once
 * and a restart starts from an empty log and term 0, so a restarted node can
 * vote twice in a term and forget entries it acknowledged (breaking §5.2's
 * one-vote-per-term and §5.4's leader completeness). The harness uses it to
 * prove it notices.
 */
import type { StoredState } from '../raft/types.js';
import { emptyStoredState, type RaftStorage } from './storage.js';

export function openMemoryStorage(): { readonly storage: RaftStorage; readonly stored: StoredState } {
  const storage: RaftStorage = {
    persist: () => Promise.resolve(),
    compact: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
  return { storage, stored: emptyStoredState() };
}
