// Reads the JSON a report page embeds, the way the page's script does.
import { expect } from 'vitest';
import type { PageData } from '../../report/data.js';

export function embeddedData(html: string): PageData {
  const m = /<script type="application\/json" id="rift-data">([\s\S]*?)<\/script>/.exec(html);
  expect(m).not.toBeNull();
  return JSON.parse(m![1]!) as PageData;
}
