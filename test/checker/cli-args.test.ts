/**
 * checker/cli-main.ts parses with node:util parseArgs (strict); its errors are
 * said in the command's own words: a valued option without a value gets that
 * option's message, an unknown option is named, a dash value must use "=".
 */
import { describe, expect, it } from 'vitest';
import { parseArgs } from '../../checker/index.js';

function error(argv: string[]): string {
  try {
    parseArgs(argv);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error(`expected a usage error for ${argv.join(' ')}`);
}

describe('rift-check arguments', () => {
  it('accepts every option, separate or attached with "=", around the file', () => {
    const p = parseArgs([
      '--model',
      'kv',
      'h.jsonl',
      '--time-limit=2.5',
      '--json',
      '--all-keys',
      '--no-workers',
      '--max-cache-entries',
      '10',
      '--max-cache-mb=3',
      '--worker-min-ops',
      '7',
      '--independent',
      'yes',
      '--html',
      'out.html',
    ]);
    expect(p).toEqual({
      help: false,
      json: true,
      file: 'h.jsonl',
      html: 'out.html',
      opts: {
        model: 'kv',
        timeLimitMs: 2500,
        allKeys: true,
        workers: false,
        maxCacheEntries: 10,
        maxCacheBytes: 3 * 1024 * 1024,
        workerMinOps: 7,
        independent: true,
      },
    });
    expect(parseArgs(['-h']).help).toBe(true);
    expect(parseArgs(['-']).file).toBe('-');
  });

  it("says what is wrong in the option's own words", () => {
    expect(error(['f', '--model'])).toBe('--model must be cas-register or kv, got ""');
    expect(error(['f', '--model', 'queue'])).toBe('--model must be cas-register or kv, got "queue"');
    expect(error(['f', '--time-limit'])).toBe('--time-limit needs a value');
    expect(error(['f', '--time-limit', '0'])).toBe('--time-limit must be a positive number, got "0"');
    expect(error(['f', '--max-cache-entries', '1.5'])).toBe('--max-cache-entries must be a positive integer, got "1.5"');
    expect(error(['f', '--html'])).toBe('--html needs an output file path');
    expect(error(['f', '--independent', 'maybe'])).toBe('--independent must be auto, yes or no, got "maybe"');
    expect(error(['f', '--bogus'])).toBe('unknown option --bogus');
    expect(error(['f', '--time-limit', '-1'])).toBe(
      '--time-limit: a value starting with "-" must be attached with "=", e.g. --time-limit=-x',
    );
    expect(error(['a', 'b'])).toBe('only one FILE may be given (got "a" and "b")');
  });
});
