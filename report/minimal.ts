// The minimal failing sub-history of a non-linearizable key (checker/
// minimize.ts): the few ops that alone are not linearizable, drawn on the
// history's clock, one lane per process. An op whose completion was dropped
// (its outcome taken as unknown) is drawn dashed to the right edge: it may
// take effect any time after its invoke. Removing or weakening any one op
// drawn here makes the rest linearizable (when the shrinking finished), so
// every op in the picture is part of the reason.
import type { MinimalCounterexample } from '../checker/types.js';
import { escapeHtml, fmtSec } from './html.js';
import { timeOf, type PairedHistory } from './ops.js';

/** Most ops drawn (shrinking may stop early on a huge key). */
const MAX_DRAWN = 40;

export function renderMinimal(key: string, m: MinimalCounterexample, refutation: string | undefined, paired: PairedHistory): string {
  const unit = paired.timeUnit;
  const drawn = m.ops.slice(0, MAX_DRAWN);
  const bars = drawn.map(({ op, completionDropped }) => {
    const start = unit === 'ns' && typeof op.invoke.time !== 'number' ? op.invoke.index : timeOf(op.invoke, unit);
    const end =
      completionDropped || op.completion === undefined || op.outcome !== 'ok'
        ? null
        : unit === 'ns' && typeof op.completion.time !== 'number'
          ? op.completion.index
          : timeOf(op.completion, unit);
    return { op, completionDropped, start, end };
  });
  let lo = Infinity;
  let hi = -Infinity;
  for (const b of bars) {
    lo = Math.min(lo, b.start);
    hi = Math.max(hi, b.end ?? b.start);
  }
  if (!(hi > lo)) hi = lo + 1;
  const pad = (hi - lo) * 0.05;
  lo -= pad;
  hi += pad * 3;
  const procs = [...new Set(bars.map((b) => String(b.op.invoke.process)))];
  const W = 980;
  const left = 90;
  const right = 20;
  const top = 22;
  const laneH = 40;
  const barH = 16;
  const H = top + procs.length * laneH + 30;
  const x = (t: number): number => left + ((t - lo) / (hi - lo)) * (W - left - right);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="cx-svg mx-svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="minimal failing sub-history for key ${escapeHtml(key)}">`,
  ];
  procs.forEach((p, i) => {
    const y = top + i * laneH;
    parts.push(
      `<rect x="0" y="${y}" width="${W}" height="${laneH}" fill="${i % 2 === 0 ? '#f7f8fa' : '#ffffff'}"/><text x="8" y="${y + 25}" class="cx-lane">process ${escapeHtml(p)}</text>`,
    );
  });
  for (let i = 0; i <= 5; i++) {
    const t = lo + ((hi - lo) * i) / 5;
    const label = unit === 'ns' ? `${fmtSec(t - paired.t0)} s` : `#${Math.round(t)}`;
    parts.push(`<text x="${x(t).toFixed(1)}" y="${H - 10}" class="cx-tick" text-anchor="middle">${escapeHtml(label)}</text>`);
  }
  for (const b of bars) {
    const y = top + procs.indexOf(String(b.op.invoke.process)) * laneH + 16;
    const x0 = x(b.start);
    const x1 = b.end === null ? W - right : Math.max(x(b.end), x0 + 3);
    const label = b.op.description + (b.completionDropped ? ' (completion dropped)' : '');
    const dash = b.end === null ? ' stroke="#5b2a86" stroke-dasharray="4 3" fill-opacity="0.5"' : '';
    parts.push(
      `<g class="mx-op" data-index="${b.op.invoke.index}"><title>${escapeHtml(`${label} (op #${b.op.invoke.index}, process ${String(b.op.invoke.process)})`)}</title>` +
        `<rect x="${x0.toFixed(1)}" y="${y}" width="${(x1 - x0).toFixed(1)}" height="${barH}" rx="3" fill="#8e4ec6"${dash}/>` +
        `<text x="${(x0 + 3).toFixed(1)}" y="${y - 3}" class="cx-label">${escapeHtml(label.length > 40 ? label.slice(0, 39) + '…' : label)}</text></g>`,
    );
  }
  parts.push('</svg>');
  const n = m.ops.length;
  const items = m.ops
    .map(
      ({ op, completionDropped }) =>
        `<li><code>${escapeHtml(op.description)}</code> <span class="muted">(op #${op.invoke.index}, process ${escapeHtml(String(op.invoke.process))}${completionDropped ? '; completion dropped: outcome taken as unknown' : ''})</span></li>`,
    )
    .join('');
  const how = m.oneMinimal
    ? 'removing any one of them, or dropping any one more completion, makes the rest linearizable'
    : 'shrinking stopped at its time budget, so it may not be the smallest';
  return (
    `<div class="mx" data-key="${escapeHtml(key)}">` +
    `<h3 class="mx-headline">Minimal failing sub-history: ${n} op${n === 1 ? '' : 's'}</h3>` +
    (refutation !== undefined ? `<p>Refuted before any search: ${escapeHtml(refutation)}</p>` : '') +
    `<p>These ops alone are not linearizable (${escapeHtml(how)}). Only weakening changes were made to get here (reads removed, completions dropped, unobserved writes removed), so this proves the key is not linearizable; <code>npm run check -- --verify</code> re-checks it independently.${n > MAX_DRAWN ? ` The first ${MAX_DRAWN} are drawn.` : ''}</p>` +
    `<div class="cx-figure">${parts.join('')}</div><ol class="cx-steps">${items}</ol></div>`
  );
}
