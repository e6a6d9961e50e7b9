import { describe, expect, it } from 'vitest';
import { openMemoryStorage } from '../../../node/storage/index.js';
import { entries } from './helpers.js';

describe('openMemoryStorage (--unsafe-memory-log)', () => {
  it('accepts persists at once and forgets everything on restart', async () => {
    const first = openMemoryStorage();
    await first.storage.persist({ currentTerm: 3, votedFor: 'n1' }, entries(1, 5, 3));
    await first.storage.close();
    const restarted = openMemoryStorage();
    expect(restarted.stored).toEqual({ hardState: { currentTerm: 0, votedFor: null }, entries: [] });
    await restarted.storage.close();
  });
});
