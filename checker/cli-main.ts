// The command line: `rift-check FILE [--model cas-register|kv] [--time-limit
// SECONDS] [--json] [--all-keys] ...`. Exit codes follow Jepsen's: 0 valid,
// 1 invalid, 2 unknown, 254 bad arguments or unreadable/malformed input,
// 255 internal error. `main` is separate from the entry file so tests can
// run it in-process.
import { parseArgs as parseArgv } from 'node:util';
import { checkFile } from './check.js';
import { isModelName } from './models/registry.js';
import { formatResult } from './format.js';
import { HistoryFormatError, type CheckOptions, type CheckResult } from './types.js';

import { EXIT, exitCodeOfVerdict } from './exit-codes.js';

export const USAGE = `usage: npm run check -- FILE [options]

Checks a history (JSON Lines in the corpus format, or Jepsen/Knossos EDN) for
linearizability, key by key.

options:
  --model cas-register|kv   model to check against (default: inferred from the f names)
  --time-limit SECONDS      give up with verdict "unknown" after this long
  --json                    print the result as JSON
  --html OUT                also write a self-contained HTML report (timeline,
                            latency, counterexample) to OUT
  --all-keys                check every key, even after one is found invalid
  --max-cache-entries N     cap on cached configurations per key (default 4000000)
  --max-cache-mb N          cap on the process's resident memory (RSS) in MiB while
                            searching (default 512); beyond it: unknown
  --no-workers              never use worker threads
  --worker-min-ops N        use worker threads from N ops (default 500000)
  --independent auto|yes|no EDN: values are [key value] tuples (default auto)
  --witness OUT             write a certificate to OUT: a linearization of each
                            valid key, a minimal failing sub-history of each
                            invalid key (check it with --verify)
  --verify CERT             verify the certificate CERT against its history (or
                            FILE) with an independent checker; exit 0 when every
                            key is confirmed, 1 when one is not
  --minimize-ms N           time budget for shrinking an invalid key to a minimal
                            failing sub-history (default 2000; 0: do not shrink)
  --no-fast-paths           plain WGL search only (for comparison)
  --export edn              write FILE as Jepsen's history.edn (to --out or stdout)
                            instead of checking it
  --out PATH                where --export writes
  -h, --help                show this help

exit codes: 0 valid, 1 invalid, 2 unknown, 254 bad arguments or input, 255 internal error`;

export interface CliIo {
  out: (s: string) => void;
  err: (s: string) => void;
  /**
   * Draws the HTML report (`--html OUT`). The drawing lives in report/, which
   * depends on the checker, not the other way round: the command's entry
   * (report/check-cli.ts) passes it in.
   */
  writeHtml?: (historyPath: string, result: CheckResult, outPath: string) => Promise<void>;
}

class UsageError extends Error {}

function positiveNumber(flag: string, v: string | undefined, integer: boolean): number {
  if (v === undefined) throw new UsageError(`${flag} needs a value`);
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    throw new UsageError(`${flag} must be a positive ${integer ? 'integer' : 'number'}, got ${JSON.stringify(v)}`);
  }
  return n;
}

interface Parsed {
  help: boolean;
  file?: string;
  json: boolean;
  html?: string;
  opts: CheckOptions;
  /** --witness OUT */
  witness?: string;
  /** --verify CERT */
  verify?: string;
  /** --export edn */
  exportEdn?: boolean;
  /** --out PATH (for --export) */
  out?: string;
}

/** node:util parseArgs options (strict): booleans, and the valued options validated by `valued` below. */
const optionSpec = {
  help: { type: 'boolean', short: 'h' },
  json: { type: 'boolean' },
  html: { type: 'string' },
  'all-keys': { type: 'boolean' },
  'no-workers': { type: 'boolean' },
  model: { type: 'string' },
  'time-limit': { type: 'string' },
  'max-cache-entries': { type: 'string' },
  'max-cache-mb': { type: 'string' },
  'worker-min-ops': { type: 'string' },
  independent: { type: 'string' },
  witness: { type: 'string' },
  verify: { type: 'string' },
  out: { type: 'string' },
  export: { type: 'string' },
  'minimize-ms': { type: 'string' },
  'no-fast-paths': { type: 'boolean' },
} as const;

type OptionName = keyof typeof optionSpec;
type ValuedOption = { [K in OptionName]: (typeof optionSpec)[K]['type'] extends 'string' ? K : never }[OptionName];

/** Validates one valued option into `p`; `raw` undefined is a flag given without its value. */
const valued: { readonly [K in ValuedOption]: (p: Parsed, raw: string | undefined) => void } = {
  html: (p, out) => {
    if (out === undefined || out === '' || out.startsWith('-')) throw new UsageError('--html needs an output file path');
    p.html = out;
  },
  model: (p, m) => {
    if (m === undefined || !isModelName(m)) throw new UsageError(`--model must be cas-register or kv, got ${JSON.stringify(m ?? '')}`);
    p.opts.model = m;
  },
  'time-limit': (p, v) => {
    p.opts.timeLimitMs = positiveNumber('--time-limit', v, false) * 1000;
  },
  'max-cache-entries': (p, v) => {
    p.opts.maxCacheEntries = positiveNumber('--max-cache-entries', v, true);
  },
  'max-cache-mb': (p, v) => {
    p.opts.maxCacheBytes = positiveNumber('--max-cache-mb', v, false) * 1024 * 1024;
  },
  'worker-min-ops': (p, v) => {
    p.opts.workerMinOps = positiveNumber('--worker-min-ops', v, true);
  },
  independent: (p, v) => {
    if (v === 'auto') p.opts.independent = 'auto';
    else if (v === 'yes') p.opts.independent = true;
    else if (v === 'no') p.opts.independent = false;
    else throw new UsageError(`--independent must be auto, yes or no, got ${JSON.stringify(v ?? '')}`);
  },
  witness: (p, v) => {
    p.witness = filePath('--witness', v);
    p.opts.witness = true;
  },
  verify: (p, v) => {
    p.verify = filePath('--verify', v);
  },
  out: (p, v) => {
    p.out = filePath('--out', v);
  },
  export: (p, v) => {
    if (v !== 'edn') throw new UsageError(`--export must be edn, got ${JSON.stringify(v ?? '')}`);
    p.exportEdn = true;
  },
  'minimize-ms': (p, v) => {
    const n = Number(v);
    if (v === undefined || v === '' || !Number.isFinite(n) || n < 0)
      throw new UsageError(`--minimize-ms must be a number >= 0, got ${JSON.stringify(v ?? '')}`);
    p.opts.minimizeMs = n;
  },
};

function filePath(flag: string, v: string | undefined): string {
  if (v === undefined || v === '' || v.startsWith('-')) throw new UsageError(`${flag} needs a file path`);
  return v;
}

function isValuedOption(name: string): name is ValuedOption {
  return Object.hasOwn(valued, name);
}

/** parseArgs' error as one line in this command's words (a missing value gets the option's own message). */
function usageErrorOf(error: unknown): UsageError {
  const first = ((error as Error).message.split('\n')[0] ?? 'bad arguments').trim();
  const missing = /^Option '--([\w-]+)(?: <value>)?' argument missing/.exec(first);
  if (missing !== null && isValuedOption(missing[1]!)) {
    try {
      valued[missing[1]!]({ help: false, json: false, opts: {} }, undefined);
    } catch (e) {
      if (e instanceof UsageError) return e;
      throw e;
    }
  }
  const ambiguous = /^Option '(--[\w-]+)(?: <value>)?' argument is ambiguous/.exec(first);
  if (ambiguous !== null) {
    return new UsageError(`${ambiguous[1]}: a value starting with "-" must be attached with "=", e.g. ${ambiguous[1]}=-x`);
  }
  const unknown = /^Unknown option '([^']+)'/.exec(first);
  if (unknown !== null) return new UsageError(`unknown option ${unknown[1]}`);
  return new UsageError(first);
}

export function parseArgs(argv: readonly string[]): Parsed {
  let parsed;
  try {
    parsed = parseArgv({ args: [...argv], options: optionSpec, strict: true, allowPositionals: true });
  } catch (e) {
    throw usageErrorOf(e);
  }
  const v = parsed.values;
  const p: Parsed = { help: v.help === true, json: v.json === true, opts: {} };
  if (v['all-keys'] === true) p.opts.allKeys = true;
  if (v['no-workers'] === true) p.opts.workers = false;
  if (v['no-fast-paths'] === true) p.opts.fastPaths = false;
  for (const name of Object.keys(valued) as ValuedOption[]) {
    const raw = v[name];
    if (raw !== undefined) valued[name](p, raw);
  }
  const [file, second] = parsed.positionals;
  if (second !== undefined) throw new UsageError(`only one FILE may be given (got ${JSON.stringify(file)} and ${JSON.stringify(second)})`);
  if (file !== undefined) p.file = file;
  return p;
}

export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  let parsed: Parsed;
  try {
    parsed = parseArgs(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`rift-check: ${e.message}\n${USAGE}\n`);
      return EXIT.usage;
    }
    throw e;
  }
  if (parsed.help) {
    io.out(USAGE + '\n');
    return EXIT.valid;
  }
  // Loaded only when asked for: start-up time counts on every small check.
  if (parsed.verify !== undefined) return (await import('./cli-certify.js')).runVerify(parsed.verify, parsed.file, io);
  if (parsed.file === undefined) {
    io.err(`rift-check: no FILE given\n${USAGE}\n`);
    return EXIT.usage;
  }
  if (parsed.exportEdn === true) return (await import('./cli-certify.js')).runExport(parsed.file, parsed.out, parsed.opts, io);
  const file = parsed.file;
  if (parsed.html !== undefined && io.writeHtml === undefined) {
    io.err(`rift-check: --html is not available in this entry point (run dist/report/check-cli.js)\n`);
    return EXIT.usage;
  }
  try {
    const r = await checkFile(file, parsed.opts);
    io.out(parsed.json ? JSON.stringify({ file, ...r }, null, 2) + '\n' : formatResult(r, file) + '\n');
    if (parsed.html !== undefined) {
      await io.writeHtml?.(file, r, parsed.html);
      if (!parsed.json) io.out(`report: ${parsed.html}\n`);
    }
    if (parsed.witness !== undefined) {
      (await import('./cli-certify.js')).writeWitness(file, r, parsed.witness);
      if (!parsed.json) io.out(`certificate: ${parsed.witness} (check it with --verify ${parsed.witness})\n`);
    }
    return exitCodeOfVerdict(r.valid);
  } catch (e) {
    if (e instanceof HistoryFormatError) {
      io.err(`rift-check: ${file}: malformed history: ${e.message}\n`);
      return EXIT.usage;
    }
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) {
      io.err(`rift-check: cannot read ${file}: ${(e as Error).message}\n`);
      return EXIT.usage;
    }
    io.err(`rift-check: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return EXIT.crash;
  }
}
