// The command line's certificate and export modes (cli-main.ts parses the
// flags): `--witness OUT` after a check, `--verify CERT [FILE]`, and
// `--export edn [--out PATH]`.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { certificateOf, parseCertificate, verifyCertificate } from './certificate.js';
import { historyToEdn } from './edn-export.js';
import { EXIT } from './exit-codes.js';
import { inferModel } from './models/registry.js';
import { readHistoryFile } from './read.js';
import { HistoryFormatError, type CheckOptions, type CheckResult } from './types.js';

interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
}

/** Writes the certificate of a check (run with `witness: true`). */
export function writeWitness(historyPath: string, r: CheckResult, outPath: string): void {
  writeFileSync(outPath, JSON.stringify(certificateOf(historyPath, r)) + '\n');
}

/** `--verify CERT [FILE]`: 0 when every key's certificate is confirmed, 1 when one is not, 254 for bad input. */
export async function runVerify(certPath: string, historyOverride: string | undefined, io: Io): Promise<number> {
  let cert;
  try {
    cert = parseCertificate(readFileSync(certPath, 'utf8'));
  } catch (e) {
    io.err(`rift-check: ${certPath}: ${(e as Error).message}\n`);
    return EXIT.usage;
  }
  // The history as given to the checker; relative to the certificate's folder if not found from here.
  let history = historyOverride ?? cert.history;
  if (historyOverride === undefined && !isAbsolute(history) && !existsSync(history)) history = join(dirname(certPath), history);
  try {
    const verdicts = await verifyCertificate(cert, history);
    let failed = 0;
    for (const v of verdicts) {
      if (!v.verified) failed++;
      io.out(`key ${JSON.stringify(v.key)}: ${v.verified ? 'CONFIRMED' : 'NOT CONFIRMED'}: ${v.message}\n`);
    }
    io.out(`${history}: ${verdicts.length - failed} of ${verdicts.length} key verdict(s) confirmed by the independent verifier\n`);
    return failed === 0 ? EXIT.valid : EXIT.invalid;
  } catch (e) {
    if (e instanceof HistoryFormatError) {
      io.err(`rift-check: ${history}: malformed history: ${e.message}\n`);
      return EXIT.usage;
    }
    io.err(`rift-check: cannot read ${history}: ${(e as Error).message}\n`);
    return EXIT.usage;
  }
}

/** `--export edn`: writes FILE as Jepsen's history.edn. */
export async function runExport(file: string, out: string | undefined, opts: CheckOptions, io: Io): Promise<number> {
  try {
    const ops = await readHistoryFile(file, opts.independent ?? 'auto');
    const model = opts.model ?? inferModel(ops.filter((o) => typeof o.process === 'number').map((o) => o.f)) ?? 'cas-register';
    const edn = historyToEdn(ops, { model });
    if (out === undefined) io.out(edn);
    else writeFileSync(out, edn);
    return EXIT.valid;
  } catch (e) {
    if (e instanceof HistoryFormatError) {
      io.err(`rift-check: ${file}: malformed history: ${e.message}\n`);
      return EXIT.usage;
    }
    io.err(`rift-check: cannot read ${file}: ${(e as Error).message}\n`);
    return EXIT.usage;
  }
}
