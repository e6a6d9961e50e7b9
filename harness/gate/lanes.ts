/**
 * Run jobs a few at a time: the gate's cells (and the study's runs) are each
 * a child process with its own cluster, ports and namespaces, about one
 * core's worth of work, so two at a time on a two-core machine halve the
 * gate's wall time. Results come back in the jobs' order, whatever order
 * they finish in.
 */
export async function inLanes<T>(jobs: readonly (() => Promise<T>)[], lanes: number): Promise<T[]> {
  if (!(Number.isInteger(lanes) && lanes >= 1)) throw new Error(`inLanes: lanes must be a positive integer, got ${lanes}`);
  const results: T[] = new Array<T>(jobs.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < jobs.length) {
      const at = next++;
      results[at] = await jobs[at]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(lanes, jobs.length) }, lane));
  return results;
}
