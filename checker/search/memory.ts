// The memory bound of a check: the process's resident set size (RSS), read
// from the OS, not estimated. Estimates were off by 2x and more (V8 objects,
// interned model states, typed arrays' headroom after doubling), which let a
// search with a 512 MiB cap reach 1.17 GiB. The search asks before every
// large allocation (a cache array doubling) and polls between slices, so the
// RSS stays under the cap up to what one slice allocates in the JS heap.

/** Allocations below this size do not consult the RSS. */
const SMALL_ALLOCATION_BYTES = 1 << 20;

/** process.memoryUsage.rss() costs ~25 µs (it reads /proc): callers poll it, they do not call it per step. */
export class MemoryBudget {
  constructor(readonly maxRssBytes: number) {}

  rss(): number {
    return process.memoryUsage.rss();
  }

  /** Whether the RSS is within the cap. */
  ok(): boolean {
    return this.rss() <= this.maxRssBytes;
  }

  /**
   * Whether `bytes` more may be allocated without passing the cap. Small
   * allocations are always allowed (a history with thousands of small keys
   * grows thousands of small caches; reading the RSS for each would cost more
   * than the search): the periodic poll between slices covers them.
   */
  allows(bytes: number): boolean {
    if (bytes < SMALL_ALLOCATION_BYTES) return true;
    return this.rss() + bytes <= this.maxRssBytes;
  }
}

/** A budget that never refuses (for tests and callers that bound memory elsewhere). */
export const UNBOUNDED_MEMORY = new MemoryBudget(Infinity);
