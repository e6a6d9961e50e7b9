// Readable text for a CheckResult: the verdict line, then for each invalid
// key why (Knossos-style: the op that cannot be linearized, the end of the
// longest linearizable prefix with its states, and every candidate with the
// reason it failed).
import type { CheckedOp, CheckResult, Counterexample, MinimalCounterexample } from './types.js';

/** How many steps of the linearizable prefix to print (the tail is what matters). */
const PREFIX_TAIL = 12;

function where(op: CheckedOp): string {
  const inv = op.invoke;
  const ret = op.completion;
  const lines =
    ret !== undefined ? `lines ${inv.line ?? inv.index}-${ret.line ?? ret.index}` : `line ${inv.line ?? inv.index}-(never completed)`;
  return `${lines}, process ${String(inv.process)}`;
}

function describe(op: CheckedOp): string {
  return `${op.description}${op.outcome === 'info' ? ' (info: outcome unknown)' : ''}`;
}

function counterexampleText(ce: Counterexample): string[] {
  const out: string[] = [];
  out.push(`  cannot linearize: ${describe(ce.op)}  [${where(ce.op)}]`);
  const n = ce.linearized.length;
  out.push(`  longest linearizable prefix: ${n} op${n === 1 ? '' : 's'}${n > PREFIX_TAIL ? ` (last ${PREFIX_TAIL} shown)` : ''}`);
  for (const step of ce.linearized.slice(Math.max(0, n - PREFIX_TAIL))) {
    out.push(`    ${describe(step.op)}  => state ${JSON.stringify(step.stateAfter)}  [${where(step.op)}]`);
  }
  out.push(`  state then: ${JSON.stringify(ce.stateBefore)}`);
  out.push(`  candidates to go next (${ce.candidates.length}):`);
  for (const c of ce.candidates) out.push(`    ${describe(c.op)}  [${where(c.op)}]: ${c.reason}`);
  return out;
}

/** Longest minimal sub-history printed in full. */
const MINIMAL_SHOWN = 25;

function minimalText(m: MinimalCounterexample): string[] {
  const out: string[] = [];
  const n = m.ops.length;
  out.push(
    `  minimal failing sub-history: ${n} op${n === 1 ? '' : 's'} (${m.oneMinimal ? 'removing or weakening any one makes it linearizable' : 'shrinking stopped at its time budget'}; ${m.checks} checks)${n > MINIMAL_SHOWN ? `, first ${MINIMAL_SHOWN} shown` : ''}:`,
  );
  for (const { op, completionDropped } of m.ops.slice(0, MINIMAL_SHOWN)) {
    out.push(`    ${describe(op)}${completionDropped ? ' (completion dropped: outcome taken as unknown)' : ''}  [${where(op)}]`);
  }
  return out;
}

export function formatResult(r: CheckResult, file?: string): string {
  const verdict =
    r.valid === true ? 'VALID: linearizable' : r.valid === false ? 'INVALID: not linearizable' : `UNKNOWN (${r.unknownReason ?? 'limit'})`;
  const out: string[] = [];
  out.push(`${file !== undefined ? file + ': ' : ''}${verdict}`);
  out.push(
    `model ${r.model}; ${r.opCount} ops, ${r.clientOpCount} client ops, ${r.keyCount} key${r.keyCount === 1 ? '' : 's'}; search ${r.searchMs.toFixed(1)} ms${r.workers > 0 ? ` on ${r.workers} worker threads` : ''}`,
  );
  for (const k of r.failures) {
    const kr = r.keys[k];
    out.push(`key ${JSON.stringify(k)}: not linearizable (${kr?.opCount ?? 0} ops searched)`);
    if (kr?.refutation !== undefined) out.push(`  refuted before any search: ${kr.refutation}`);
    if (kr?.minimal !== undefined) out.push(...minimalText(kr.minimal));
    if (kr?.counterexample !== undefined) out.push(...counterexampleText(kr.counterexample));
  }
  if (r.unknownKeys.length > 0) {
    const shown = r.unknownKeys
      .slice(0, 20)
      .map((k) => JSON.stringify(k))
      .join(', ');
    out.push(`unknown keys (${r.unknownKeys.length}): ${shown}${r.unknownKeys.length > 20 ? ', ...' : ''}`);
  }
  return out.join('\n');
}
