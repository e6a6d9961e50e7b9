import type { McOptions } from './options.js';
import type { Progress, SearchResult } from './search.js';
import type { VisitedSet } from './visited.js';

export async function parallelBfs(_o: McOptions, _visited: VisitedSet, _progress: Progress): Promise<SearchResult> {
  throw new Error('not yet');
}
