/**
 * Runs one transcript: every directive through a fresh {@link InteractionEnv},
 * its output compared with the expected block. Returns the mismatches (with
 * a readable diff naming the file and line of each command) and the file as
 * it would be with the actual outputs, for the rewrite mode.
 */
import { InteractionEnv } from './driver.js';
import { lineDiff } from './line-diff.js';
import { parseTranscript, renderTranscript, type Directive } from './transcript.js';

export interface Mismatch {
  readonly directive: Directive;
  readonly actual: readonly string[];
}

export interface TranscriptRun {
  readonly directives: number;
  readonly mismatches: readonly Mismatch[];
  /** The file with every expected block replaced by the actual output. */
  readonly rewritten: string;
}

export function runTranscript(text: string, file: string): TranscriptRun {
  const parts = parseTranscript(text, file);
  const env = new InteractionEnv();
  const outputs: string[][] = [];
  const mismatches: Mismatch[] = [];
  for (const part of parts) {
    if (part.kind !== 'directive') continue;
    const { directive } = part;
    let actual: string[];
    try {
      actual = env.run(directive.command);
    } catch (error) {
      // A usage error or a broken core invariant: stop here, naming the command.
      const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      throw new Error(`${file}:${directive.line}: \`${directive.command}\` failed: ${message}`, { cause: error });
    }
    outputs.push(actual);
    if (actual.join('\n') !== directive.expected.join('\n')) mismatches.push({ directive, actual });
  }
  return { directives: outputs.length, mismatches, rewritten: renderTranscript(parts, outputs) };
}

/** The failure message: the first mismatch in full, the others by line (later outputs usually follow from the first). */
export function describeMismatches(file: string, mismatches: readonly Mismatch[]): string {
  const [first, ...others] = mismatches;
  if (first === undefined) return '';
  const lines = [
    `${file}:${first.directive.line}: output of \`${first.directive.command}\` differs (- expected, + actual):`,
    ...lineDiff(first.directive.expected, first.actual).map((line) => `    ${line}`),
  ];
  if (others.length > 0) {
    lines.push(`${others.length} later command(s) differ too, at line(s) ${others.map((m) => m.directive.line).join(', ')}`);
  }
  lines.push('If the new output is right, regenerate the expected outputs: RIFT_REWRITE=1 npx vitest run test/node/raft/interaction');
  return lines.join('\n');
}
