/**
 * The transcript file format (after cockroachdb/datadriven, which
 * etcd-io/raft's interaction tests use):
 *
 *     # comments and blank lines between blocks are kept as they are
 *     command arg key=value
 *     ----
 *     expected output, one or more lines,
 *     up to the next blank line or the end of the file
 *
 * Output is never empty (the interpreter prints `ok` when a command has
 * nothing to say) and never contains a blank line, so a blank line always
 * ends a block.
 */

export const SEPARATOR = '----';

export interface Directive {
  /** 1-based line of the command in its file. */
  readonly line: number;
  readonly command: string;
  readonly expected: readonly string[];
}

/** A file as a sequence of verbatim text (comments, blank lines) and directives, so it can be written back. */
export type Part = { readonly kind: 'text'; readonly line: string } | { readonly kind: 'directive'; readonly directive: Directive };

export class TranscriptSyntaxError extends Error {
  override readonly name = 'TranscriptSyntaxError';
}

export function parseTranscript(text: string, file: string): Part[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop(); // the final newline
  const parts: Part[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i] ?? '';
    if (line.trim() === '' || line.startsWith('#')) {
      parts.push({ kind: 'text', line });
      i++;
      continue;
    }
    const commandLine = i + 1;
    if (lines[i + 1] !== SEPARATOR) {
      throw new TranscriptSyntaxError(`${file}:${commandLine}: expected '${SEPARATOR}' after the command \`${line}\``);
    }
    i += 2;
    const expected: string[] = [];
    while (i < lines.length && (lines[i] ?? '').trim() !== '') expected.push(lines[i++] ?? '');
    parts.push({ kind: 'directive', directive: { line: commandLine, command: line.trim(), expected } });
  }
  return parts;
}

/** The file again, with each directive's output replaced by `outputs` (in order). */
export function renderTranscript(parts: readonly Part[], outputs: readonly (readonly string[])[]): string {
  const out: string[] = [];
  let n = 0;
  for (const part of parts) {
    if (part.kind === 'text') {
      out.push(part.line);
      continue;
    }
    const output = outputs[n++];
    if (output === undefined) throw new Error(`no output for the directive at line ${part.directive.line}`);
    out.push(part.directive.command, SEPARATOR, ...output);
  }
  return out.join('\n') + '\n';
}
