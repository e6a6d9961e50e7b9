// What a test run stores beside its results.json, for Jepsen/Knossos users
// and for independent re-checking: `history.edn` (the history as Jepsen's
// store writes it, see edn-export.ts) and `certificate.json` (each decided
// key's linearization or minimal failing sub-history, see certificate.ts;
// `npm run check -- --verify certificate.json` re-checks it).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { certificateOf } from './certificate.js';
import { historyToEdn } from './edn-export.js';
import { readHistoryFile } from './read.js';
import type { CheckResult, ModelName } from './types.js';

export const HISTORY_EDN_FILE = 'history.edn';
export const CERTIFICATE_FILE = 'certificate.json';

/**
 * Writes history.edn (always) and certificate.json (when there is a check
 * result) into `runDir`. Returns the paths written; never throws (a run's
 * verdict must not be lost to a failing extra file): errors go to `log`.
 */
export async function writeCheckArtifacts(
  runDir: string,
  historyJsonl: string,
  result: CheckResult | null,
  model: ModelName,
  log: (s: string) => void,
): Promise<string[]> {
  const written: string[] = [];
  try {
    const edn = join(runDir, HISTORY_EDN_FILE);
    writeFileSync(edn, historyToEdn(await readHistoryFile(historyJsonl), { model }));
    written.push(edn);
  } catch (e) {
    log(`writing ${HISTORY_EDN_FILE} failed: ${(e as Error).message}`);
  }
  if (result !== null) {
    try {
      const cert = join(runDir, CERTIFICATE_FILE);
      // The history path relative to the run directory, so the run can be moved.
      writeFileSync(cert, JSON.stringify(certificateOf('history.jsonl', result)) + '\n');
      written.push(cert);
    } catch (e) {
      log(`writing ${CERTIFICATE_FILE} failed: ${(e as Error).message}`);
    }
  }
  return written;
}
