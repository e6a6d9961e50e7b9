import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SIM_V8_FLAGS } from '../../sim/node-flags.js';

describe('SIM_V8_FLAGS', () => {
  it('are the flags `npm run sim` starts Node with (package.json spells them out)', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> };
    const script = pkg.scripts['sim'] ?? '';
    const cli = script.indexOf('dist/sim/cli.js');
    expect(cli).toBeGreaterThan(0);
    const nodeArgs = script
      .slice(script.lastIndexOf('node ', cli) + 'node '.length, cli)
      .trim()
      .split(/\s+/);
    expect(nodeArgs).toEqual([...SIM_V8_FLAGS]);
  });
});
