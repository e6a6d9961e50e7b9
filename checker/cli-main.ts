// The command line: `rift-check FILE [--model cas-register|kv] [--time-limit
// SECONDS] [--json] [--all-keys] ...`. Exit codes follow Jepsen's: 0 valid,
// 1 invalid, 2 unknown, 254 bad arguments or unreadable/malformed input,
// 255 internal error. `main` is separate from the entry file so tests can
// run it in-process.
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

export function parseArgs(argv: readonly string[]): Parsed {
  const p: Parsed = { help: false, json: false, opts: {} };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    const flag = eq > 0 ? a.slice(0, eq) : a;
    const inline = eq > 0 ? a.slice(eq + 1) : undefined;
    const value = (): string | undefined => (inline !== undefined ? inline : argv[++i]);
    switch (flag) {
      case '-h':
      case '--help':
        p.help = true;
        break;
      case '--json':
        p.json = true;
        break;
      case '--html': {
        const out = value();
        if (out === undefined || out === '' || out.startsWith('-')) throw new UsageError('--html needs an output file path');
        p.html = out;
        break;
      }
      case '--all-keys':
        p.opts.allKeys = true;
        break;
      case '--no-workers':
        p.opts.workers = false;
        break;
      case '--model': {
        const m = value();
        if (m === undefined || !isModelName(m)) throw new UsageError(`--model must be cas-register or kv, got ${JSON.stringify(m ?? '')}`);
        p.opts.model = m;
        break;
      }
      case '--time-limit':
        p.opts.timeLimitMs = positiveNumber(flag, value(), false) * 1000;
        break;
      case '--max-cache-entries':
        p.opts.maxCacheEntries = positiveNumber(flag, value(), true);
        break;
      case '--max-cache-mb':
        p.opts.maxCacheBytes = positiveNumber(flag, value(), false) * 1024 * 1024;
        break;
      case '--worker-min-ops':
        p.opts.workerMinOps = positiveNumber(flag, value(), true);
        break;
      case '--independent': {
        const v = value();
        if (v === 'auto') p.opts.independent = 'auto';
        else if (v === 'yes') p.opts.independent = true;
        else if (v === 'no') p.opts.independent = false;
        else throw new UsageError(`--independent must be auto, yes or no, got ${JSON.stringify(v ?? '')}`);
        break;
      }
      case '--witness':
      case '--verify':
      case '--out': {
        const v = value();
        if (v === undefined || v === '' || v.startsWith('-')) throw new UsageError(`${flag} needs a file path`);
        if (flag === '--witness') {
          p.witness = v;
          p.opts.witness = true;
        } else if (flag === '--verify') p.verify = v;
        else p.out = v;
        break;
      }
      case '--export': {
        const v = value();
        if (v !== 'edn') throw new UsageError(`--export must be edn, got ${JSON.stringify(v ?? '')}`);
        p.exportEdn = true;
        break;
      }
      case '--minimize-ms': {
        const v = value();
        const n = Number(v);
        if (v === undefined || !Number.isFinite(n) || n < 0) throw new UsageError(`--minimize-ms must be a number >= 0, got ${JSON.stringify(v ?? '')}`);
        p.opts.minimizeMs = n;
        break;
      }
      case '--no-fast-paths':
        p.opts.fastPaths = false;
        break;
      default:
        if (a.startsWith('-') && a !== '-') throw new UsageError(`unknown option ${a}`);
        if (p.file !== undefined) throw new UsageError(`only one FILE may be given (got ${JSON.stringify(p.file)} and ${JSON.stringify(a)})`);
        p.file = a;
    }
  }
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
