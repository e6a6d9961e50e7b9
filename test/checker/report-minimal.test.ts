// report.html draws an invalid key's minimal failing sub-history (report/
// minimal.ts) above the Knossos-style counterexample: each op of the
// sub-history as a bar on the history's clock, a dropped completion dashed.
import { describe, expect, test } from 'vitest';
import { checkHistory } from '../../checker/index.js';
import { renderReport } from '../../report/render.js';
import { hist } from './helpers.js';

describe('report: the minimal failing sub-history', () => {
  test('is drawn with its ops, the dropped completion marked', () => {
    // A stale read of 1 after 1 was overwritten: by the cas, whose own
    // expected 7 only needs write 7 to have maybe happened.
    const history = hist([
      [0, 'invoke', 'write', 1],
      [0, 'ok', 'write', 1],
      [3, 'invoke', 'read', null],
      [3, 'ok', 'read', 1],
      [1, 'invoke', 'write', 7],
      [2, 'invoke', 'cas', [7, 8]],
      [2, 'ok', 'cas', [7, 8]],
      [4, 'invoke', 'read', null],
      [4, 'ok', 'read', 1],
      [1, 'ok', 'write', 7],
    ]);
    const check = checkHistory(history);
    expect(check.valid).toBe(false);
    const m = check.keys['']!.minimal!;
    // The first read is irrelevant.
    expect(m.ops.map((o) => [o.op.description, o.completionDropped])).toEqual([
      ['write 1', false],
      ['write 7', true],
      ['cas [7,8]', false],
      ['read -> 1', false],
    ]);
    const html = renderReport({ title: 'stale read', history, check });
    expect(html).toContain('Minimal failing sub-history: 4 ops');
    expect(html.match(/class="mx-op"/g)).toHaveLength(4);
    expect(html).toContain('write 7 (completion dropped)');
    expect(html).toContain('removing any one of them, or dropping any one more completion, makes the rest linearizable');
    // Above the counterexample.
    expect(html.indexOf('class="mx"')).toBeLessThan(html.indexOf('class="cx"'));
  });
});
