/**
 * Transcript tests of the Raft core (etcd-io/raft's `interaction_test.go`
 * over `testdata/*.txt`): each file in test/node/raft/testdata/ is a list of
 * commands with the output they must print, in the text form of
 * node/raft/describe.ts. They are expected-behaviour documents: each opens
 * with what it demonstrates and the paper or thesis section.
 *
 * `RIFT_REWRITE=1 npx vitest run test/node/raft/interaction` regenerates the
 * expected outputs in place (a deliberate developer action, like
 * datadriven's -rewrite); read the diff before committing it.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from './driver.js';
import { lineDiff } from './line-diff.js';
import { describeMismatches, runTranscript } from './runner.js';
import { parseTranscript, TranscriptSyntaxError } from './transcript.js';

const testdata = join(import.meta.dirname, '../testdata');
const root = join(import.meta.dirname, '../../../..');
const rewrite = process.env['RIFT_REWRITE'] === '1';

describe('transcripts (test/node/raft/testdata)', () => {
  const files = readdirSync(testdata)
    .filter((f) => f.endsWith('.txt'))
    .sort();

  it('has transcripts', () => {
    expect(files.length).toBeGreaterThan(0);
  });

  it.each(files)('%s', (name) => {
    const path = join(testdata, name);
    const file = relative(root, path);
    const text = readFileSync(path, 'utf8');
    const run = runTranscript(text, file);
    expect(run.directives, `${file} has commands`).toBeGreaterThan(1);
    if (rewrite) {
      if (run.rewritten !== text) writeFileSync(path, run.rewritten);
      return;
    }
    if (run.mismatches.length > 0) throw new Error(describeMismatches(file, run.mismatches));
    // Nothing differs, so writing the file back must give it unchanged (the rewrite mode is faithful).
    expect(run.rewritten).toBe(text);
  });
});

describe('the transcript runner (self-tests)', () => {
  const ok = [
    'add-nodes 1',
    '----',
    'n1: election=10..10 heartbeat=2 pre-vote=false check-quorum=false lease=off parallel-append=false',
    '',
  ];

  it('a wrong expected output fails with a diff naming the file and the line of the command', () => {
    const wrong = ['campaign n1', '----', '> n1 handling Ready', '  SoftState role=follower', ''];
    const text = [...ok, '# a single node elects itself', ...wrong].join('\n');
    const run = runTranscript(text, 'memory.txt');
    expect(run.mismatches.map((m) => m.directive.line)).toEqual([6]);
    const report = describeMismatches('memory.txt', run.mismatches);
    expect(report).toContain('memory.txt:6: output of `campaign n1` differs');
    expect(report).toContain('    - ' + '  SoftState role=follower');
    expect(report).toMatch(/ {4}\+ {3}SoftState role=leader term=1 leader=n1/);
    // The rewrite keeps comments and replaces only the output.
    expect(run.rewritten).toContain('# a single node elects itself\ncampaign n1\n----\n> n1 handling Ready\n  SoftState role=leader');
    expect(runTranscript(run.rewritten, 'memory.txt').mismatches).toEqual([]);
  });

  it('an unknown command or argument fails naming the line', () => {
    const typo = [...ok, 'campain n1', '----', 'ok', ''].join('\n');
    expect(() => runTranscript(typo, 'memory.txt')).toThrow(/memory\.txt:5: `campain n1` failed: UsageError/);
    expect(() => runTranscript([...ok, 'drop type=MsgFoo', '----', 'ok', ''].join('\n'), 'memory.txt')).toThrow(UsageError.name);
    const absent = [...ok, 'deliver-msg n2->n1 MsgVoteResp term=1 granted', '----', 'ok', ''].join('\n');
    expect(() => runTranscript(absent, 'memory.txt')).toThrow(
      /memory\.txt:5: .*no message in flight is `n2->n1 MsgVoteResp term=1 granted`/,
    );
  });

  it('a command without its separator is a syntax error', () => {
    expect(() => parseTranscript('add-nodes 1\nok\n', 'memory.txt')).toThrow(TranscriptSyntaxError);
  });

  it('the line diff marks removed and added lines', () => {
    expect(lineDiff(['a', 'b', 'c'], ['a', 'x', 'c', 'd'])).toEqual(['  a', '- b', '+ x', '  c', '+ d']);
  });
});
