/**
 * Exit statuses of every rift command that judges something (`npm run
 * check`, `jepsen`, `sim`, `gate`, later `mc`), as Jepsen's: 0 valid, 1
 * invalid (a definite finding), 2 unknown (no verdict within the bounds),
 * 254 bad arguments or input, 255 internal error or crash. One table, so a
 * script that drives one command can drive them all. (The node binary has
 * its own: node/exit-codes.ts.)
 */
export const EXIT = {
  valid: 0,
  invalid: 1,
  unknown: 2,
  usage: 254,
  crash: 255,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** The exit status of a verdict. */
export function exitCodeOfVerdict(valid: true | false | 'unknown'): ExitCode {
  return valid === true ? EXIT.valid : valid === false ? EXIT.invalid : EXIT.unknown;
}

/** What an exit status means, for gate tables and messages; a status outside the table reads as a crash. */
export function verdictOfExitCode(code: number): 'valid' | 'invalid' | 'unknown' | 'bad-arguments' | 'crashed' {
  switch (code) {
    case EXIT.valid:
      return 'valid';
    case EXIT.invalid:
      return 'invalid';
    case EXIT.unknown:
      return 'unknown';
    case EXIT.usage:
      return 'bad-arguments';
    default:
      return 'crashed';
  }
}
