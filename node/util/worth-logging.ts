/** Log the 1st, 10th, 100th, ... occurrence of a counted event: enough to notice, bounded under a flood. */
export function worthLogging(count: number): boolean {
  let n = count;
  while (n >= 10 && n % 10 === 0) n /= 10;
  return n === 1;
}
