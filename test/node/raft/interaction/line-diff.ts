/**
 * A line diff for transcript mismatches: `  ` kept, `- ` expected only,
 * `+ ` actual only, from a longest common subsequence. Transcript outputs
 * are tens of lines, so the quadratic table is fine.
 */
export function lineDiff(expected: readonly string[], actual: readonly string[]): string[] {
  const n = expected.length;
  const m = actual.length;
  // lcs[i][j]: length of the LCS of expected[i..] and actual[j..].
  const lcs = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      const row = lcs[i] ?? [];
      row[j] = expected[i] === actual[j] ? (lcs[i + 1]?.[j + 1] ?? 0) + 1 : Math.max(lcs[i + 1]?.[j] ?? 0, row[j + 1] ?? 0);
    }
  }
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && expected[i] === actual[j]) {
      out.push(`  ${expected[i]}`);
      i++;
      j++;
    } else if (i < n && (j === m || (lcs[i + 1]?.[j] ?? 0) >= (lcs[i]?.[j + 1] ?? 0))) {
      out.push(`- ${expected[i]}`);
      i++;
    } else {
      out.push(`+ ${actual[j]}`);
      j++;
    }
  }
  return out;
}
