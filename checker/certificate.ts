// Certified verdicts: `--witness OUT` writes, for each decided key, what an
// independent verifier needs to confirm the verdict without trusting the
// search: a linearization for a valid key, a minimal failing sub-history for
// an invalid one. `--verify CERT` checks a certificate against its history
// with checker/verify.ts.
import { readHistoryFile } from './read.js';
import { hasLinearization, opsByKey, verifyLinearization, weakenedSubHistory, type KeyVerdict } from './verify.js';
import type { CheckResult, ModelName } from './types.js';

export const CERTIFICATE_FORMAT = 'rift-certificate/1';

/** A sub-history entry: an op of the key by its invoke `index`, kept whole or with its completion dropped; ops not listed are removed. */
export interface SubHistoryEntry {
  index: number;
  completion: 'kept' | 'dropped';
}

export type CertificateKey =
  | { key: string; valid: true; linearization: number[] }
  | { key: string; valid: false; subHistory: SubHistoryEntry[]; oneMinimal: boolean }
  | { key: string; valid: 'unknown' | false; note: string };

export interface Certificate {
  format: typeof CERTIFICATE_FORMAT;
  /** The history file, as given to the checker. */
  history: string;
  model: ModelName;
  keys: CertificateKey[];
}

/** The certificate of a check run with `witness: true`. */
export function certificateOf(historyPath: string, r: CheckResult): Certificate {
  const keys: CertificateKey[] = [];
  for (const [key, kr] of Object.entries(r.keys)) {
    if (kr.valid === true && kr.linearization !== undefined) keys.push({ key, valid: true, linearization: kr.linearization });
    else if (kr.valid === false && kr.minimal !== undefined) {
      keys.push({
        key,
        valid: false,
        subHistory: kr.minimal.ops.map((o) => ({ index: o.op.invoke.index, completion: o.completionDropped ? 'dropped' : 'kept' })),
        oneMinimal: kr.minimal.oneMinimal,
      });
    } else
      keys.push({
        key,
        valid: kr.valid === true ? 'unknown' : kr.valid,
        note: kr.valid === 'unknown' ? 'no verdict' : 'no certificate recorded',
      });
  }
  return { format: CERTIFICATE_FORMAT, history: historyPath, model: r.model as ModelName, keys };
}

/** Reads a certificate, checking its shape. Throws Error with a message on a malformed one. */
export function parseCertificate(text: string): Certificate {
  const c = JSON.parse(text) as Partial<Certificate>;
  if (c.format !== CERTIFICATE_FORMAT) throw new Error(`not a certificate (format must be ${JSON.stringify(CERTIFICATE_FORMAT)})`);
  if (typeof c.history !== 'string' || (c.model !== 'cas-register' && c.model !== 'kv') || !Array.isArray(c.keys)) {
    throw new Error('certificate needs history (string), model (cas-register|kv) and keys (array)');
  }
  return c as Certificate;
}

/** Exhaustive re-checks give up above this many search nodes (the sub-histories are minimal, so small). */
const MAX_VERIFY_NODES = 2_000_000;

/** Verifies every key of `cert` against the history at `historyPath`. */
export async function verifyCertificate(cert: Certificate, historyPath: string): Promise<KeyVerdict[]> {
  const byKey = opsByKey(await readHistoryFile(historyPath));
  return cert.keys.map((k): KeyVerdict => {
    const ops = byKey.get(k.key);
    if (ops === undefined) return { key: k.key, verified: false, message: 'no such key in the history' };
    if ('note' in k) return { key: k.key, verified: false, message: `nothing to verify (${k.note})` };
    if (k.valid === true) {
      const why = verifyLinearization(cert.model, ops, k.linearization);
      return why === null
        ? { key: k.key, verified: true, message: `valid: the linearization of ${k.linearization.length} ops replays (real time and model)` }
        : { key: k.key, verified: false, message: `linearization rejected: ${why}` };
    }
    const sub = weakenedSubHistory(cert.model, ops, k.subHistory);
    if (typeof sub === 'string') return { key: k.key, verified: false, message: `sub-history rejected: ${sub}` };
    const lin = hasLinearization(cert.model, sub, MAX_VERIFY_NODES);
    if (lin === null)
      return { key: k.key, verified: false, message: `sub-history of ${sub.length} ops too large to re-check exhaustively` };
    return lin
      ? { key: k.key, verified: false, message: `sub-history rejected: it is linearizable` }
      : {
          key: k.key,
          verified: true,
          message: `invalid: the sub-history of ${sub.length} ops weakens the key and has no linearization (exhaustive)`,
        };
  });
}
