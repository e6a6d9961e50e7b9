// The counterexample of a non-linearizable key, drawn so that it can be read
// without knowing the search: the key's ops around the failure on a time axis
// (one lane per process), the end of the longest linearizable prefix with its
// linearization points numbered in order and the model state after each, the
// op that could not be placed in red, and in words why nothing could come
// next. Small (tens of ops), so plain SVG rendered here.
import type { CheckedOp, Counterexample, HistoryOp } from '../checker/types.js';
import { escapeHtml, fmtSec } from './html.js';
import { showValue, timeOf, type PairedHistory } from './ops.js';

/** How many of the prefix's last steps are highlighted and drawn. */
const TAIL_STEPS = 10;
/** Most ops in the picture. */
const MAX_OPS = 60;
/** Most prefix steps listed in the collapsible full list. */
const MAX_LISTED_STEPS = 2000;

const READ_FS: ReadonlySet<string> = new Set(['read', 'get']);

interface Bar {
  index: number;
  process: number | string;
  start: number;
  end: number | null;
  label: string;
  role: 'failing' | 'candidate' | 'step' | 'context';
  /** 1-based position in the linearizable prefix, for steps. */
  order?: number;
  stateAfter?: unknown;
  outcome: string;
}

function holdsPhrase(model: string): string {
  if (model === 'cas-register') return 'the register held';
  if (model === 'kv') return 'the key held';
  return 'the state was';
}

function show(v: unknown): string {
  return showValue(v, 120);
}

function opRef(op: CheckedOp): string {
  return `op #${op.invoke.index}, process ${String(op.invoke.process)}`;
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The sentences explaining the failure, as plain text (escaped by the caller). */
export function explainCounterexample(cx: Counterexample, model: string): { headline: string; detail: string; reasons: string[] } {
  const holds = holdsPhrase(model);
  const n = cx.linearized.length;
  // A history without keys is checked as the single key "": no key to name then.
  const subject = cx.key === '' ? 'The history' : `Key ${JSON.stringify(cx.key)}`;
  const headline = `${subject} is not linearizable: ${cx.op.description} (${opRef(cx.op)}) could not be placed.`;
  let setter: string;
  let lastWrite: CheckedOp | undefined;
  for (let i = n - 1; i >= 0; i--) {
    const s = cx.linearized[i]!;
    if (!READ_FS.has(s.op.invoke.f) && sameJson(s.stateAfter, cx.stateBefore)) {
      lastWrite = s.op;
      break;
    }
  }
  if (lastWrite !== undefined) setter = `after ${lastWrite.description} (${opRef(lastWrite)})`;
  else if (n === 0) setter = 'initially';
  else setter = 'since the start';
  const prefix =
    n === 0
      ? `No op${cx.key === '' ? '' : ' of this key'} could be placed at all.`
      : `The checker found a legal order for ${n} op${n === 1 ? '' : 's'}${cx.key === '' ? '' : ' of this key'} (the longest linearizable prefix, numbered in the picture).`;
  const detail =
    `${prefix} At that point ${holds} ${show(cx.stateBefore)} ${setter}. ` +
    `Then ${cx.op.description} (${opRef(cx.op)}) returned, so it had to take effect before any op invoked after that — ` +
    `but no op could take effect next:`;
  const reasons = cx.candidates.map((c) => {
    const self = c.op.invoke.index === cx.op.invoke.index ? ' — the op that returned' : '';
    return `${c.op.description} (${opRef(c.op)}${self}) could not come next: ${c.reason}`;
  });
  if (reasons.length === 0)
    reasons.push(`${cx.op.description} could not take effect from ${show(cx.stateBefore)}, and no other op was concurrent with it.`);
  return { headline, detail, reasons };
}

function barFromChecked(op: CheckedOp, unit: 'ns' | 'index', role: Bar['role']): Bar {
  return {
    index: op.invoke.index,
    process: op.invoke.process,
    start: timeOfSafe(op.invoke, unit),
    end: op.completion === undefined ? null : timeOfSafe(op.completion, unit),
    label: op.description,
    role,
    outcome: op.outcome,
  };
}

function timeOfSafe(op: HistoryOp, unit: 'ns' | 'index'): number {
  return unit === 'ns' && typeof op.time !== 'number' ? op.index : timeOf(op, unit);
}

/** Picks the ops to draw: the failing op, the candidates, the prefix's tail, then the key's other ops nearby. */
export function counterexampleBars(cx: Counterexample, paired: PairedHistory): Bar[] {
  const unit = paired.timeUnit;
  const bars = new Map<number, Bar>();
  const n = cx.linearized.length;
  const tailFrom = Math.max(0, n - TAIL_STEPS);
  for (let i = tailFrom; i < n; i++) {
    const s = cx.linearized[i]!;
    const b = barFromChecked(s.op, unit, 'step');
    b.order = i + 1;
    b.stateAfter = s.stateAfter;
    bars.set(b.index, b);
  }
  for (const c of cx.candidates) {
    if (!bars.has(c.op.invoke.index)) bars.set(c.op.invoke.index, barFromChecked(c.op, unit, 'candidate'));
  }
  bars.set(cx.op.invoke.index, barFromChecked(cx.op, unit, 'failing'));

  let lo = Infinity;
  let hi = -Infinity;
  for (const b of bars.values()) {
    lo = Math.min(lo, b.start);
    hi = Math.max(hi, b.end ?? b.start);
  }
  const failStart = bars.get(cx.op.invoke.index)!.start;
  const context = paired.ops
    .filter((o) => o.key === cx.key && !bars.has(o.invoke.index) && o.start <= hi && (o.end ?? paired.tEnd) >= lo)
    .sort((a, b) => Math.abs(a.start - failStart) - Math.abs(b.start - failStart))
    .slice(0, Math.max(0, MAX_OPS - bars.size));
  for (const o of context) {
    bars.set(o.invoke.index, {
      index: o.invoke.index,
      process: o.process,
      start: o.start,
      end: o.end,
      label:
        (READ_FS.has(o.f)
          ? o.outcome === 'ok'
            ? `${o.f} -> ${showValue(o.completion?.value, 30)}`
            : o.f
          : `${o.f} ${showValue(o.invoke.value, 30)}`) + (o.outcome === 'ok' ? '' : ` · ${o.outcome}`),
      role: 'context',
      outcome: o.outcome,
    });
  }
  return [...bars.values()].sort((a, b) => a.start - b.start || a.index - b.index);
}

const COLORS = {
  failing: '#e5484d',
  candidate: '#ffb224',
  step: '#3e9b6a',
  context: '#c4c9d0',
} as const;

/** The SVG picture. */
export function counterexampleSvg(cx: Counterexample, paired: PairedHistory): string {
  const bars = counterexampleBars(cx, paired);
  const unit = paired.timeUnit;
  const procs = [...new Set(bars.map((b) => String(b.process)))].sort((a, b) => Number(a) - Number(b) || (a < b ? -1 : 1));
  let lo = Infinity;
  let hi = -Infinity;
  for (const b of bars) {
    lo = Math.min(lo, b.start);
    hi = Math.max(hi, b.end ?? b.start);
  }
  if (!(hi > lo)) hi = lo + 1;
  const pad = (hi - lo) * 0.04;
  lo -= pad;
  hi += pad * 3; // room on the right for ops that never completed
  const W = 980;
  const left = 90;
  const right = 20;
  const top = 22;
  const laneH = 46;
  const barH = 16;
  const H = top + procs.length * laneH + 30;
  const x = (t: number): number => left + ((t - lo) / (hi - lo)) * (W - left - right);
  const laneY = (p: number | string): number => top + procs.indexOf(String(p)) * laneH + 18;
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" class="cx-svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="counterexample for key ${escapeHtml(cx.key)}">`,
  );
  parts.push(
    `<defs><marker id="cx-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#3e9b6a"/></marker></defs>`,
  );
  procs.forEach((p, i) => {
    const y = top + i * laneH;
    parts.push(`<rect x="0" y="${y}" width="${W}" height="${laneH}" fill="${i % 2 === 0 ? '#f7f8fa' : '#ffffff'}"/>`);
    parts.push(`<text x="8" y="${y + 28}" class="cx-lane">process ${escapeHtml(p)}</text>`);
  });
  // Time axis.
  const ticks = 6;
  for (let i = 0; i <= ticks; i++) {
    const t = lo + ((hi - lo) * i) / ticks;
    const label = unit === 'ns' ? `${fmtSec(t - paired.t0)} s` : `#${Math.round(t)}`;
    parts.push(`<line x1="${x(t).toFixed(1)}" x2="${x(t).toFixed(1)}" y1="${top}" y2="${H - 24}" stroke="#e3e6ea"/>`);
    parts.push(`<text x="${x(t).toFixed(1)}" y="${H - 10}" class="cx-tick" text-anchor="middle">${escapeHtml(label)}</text>`);
  }
  for (const b of bars) {
    const y = laneY(b.process);
    const x0 = x(b.start);
    const x1 = b.end === null ? W - right : Math.max(x(b.end), x0 + 3);
    const fill = COLORS[b.role];
    const title = [
      `${b.label} (op #${b.index}, process ${String(b.process)})`,
      `outcome: ${b.outcome}`,
      b.order !== undefined ? `step ${b.order} of the linearizable prefix; state after: ${show(b.stateAfter)}` : '',
      b.role === 'failing' ? 'could not be linearized' : b.role === 'candidate' ? 'candidate that could not come next' : '',
    ]
      .filter((s) => s !== '')
      .join('\n');
    const stroke =
      b.role === 'candidate' ? ' stroke="#b26b00" stroke-width="2"' : b.role === 'failing' ? ' stroke="#9b1c1f" stroke-width="2"' : '';
    const dash = b.end === null ? ' stroke-dasharray="4 3" fill-opacity="0.55"' : '';
    parts.push(
      `<g class="cx-op cx-${b.role}" data-index="${b.index}"><title>${escapeHtml(title)}</title>` +
        `<rect x="${x0.toFixed(1)}" y="${y}" width="${(x1 - x0).toFixed(1)}" height="${barH}" rx="3" fill="${fill}"${stroke}${dash}/>` +
        `<text x="${(x0 + 3).toFixed(1)}" y="${y - 3}" class="cx-label">${escapeHtml(b.label.length > 34 ? b.label.slice(0, 33) + '…' : b.label)}</text></g>`,
    );
  }
  // Linearization points of the highlighted prefix tail: each inside its op's
  // interval and not before the previous one (such points exist because the
  // prefix is a legal linearization).
  const steps = bars.filter((b) => b.role === 'step').sort((a, b) => a.order! - b.order!);
  let prevX = -Infinity;
  const pts: { x: number; y: number; b: Bar }[] = [];
  for (const b of steps) {
    const x0 = x(b.start);
    const x1 = b.end === null ? W - right : x(b.end);
    const px = Math.min(Math.max(x0, prevX), x1);
    prevX = px;
    pts.push({ x: px, y: laneY(b.process) + barH / 2, b });
  }
  if (pts.length > 1) {
    parts.push(
      `<polyline points="${pts.map((p) => `${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ')}" fill="none" stroke="#1f6f46" stroke-width="1.5" stroke-dasharray="3 2"/>`,
    );
  }
  for (const p of pts) {
    parts.push(
      `<g class="cx-point"><title>${escapeHtml(`step ${p.b.order}: ${p.b.label} → state ${show(p.b.stateAfter)}`)}</title>` +
        `<circle cx="${p.x.toFixed(1)}" cy="${p.y.toFixed(1)}" r="8" fill="#ffffff" stroke="#1f6f46" stroke-width="1.5"/>` +
        `<text x="${p.x.toFixed(1)}" y="${(p.y + 3.5).toFixed(1)}" text-anchor="middle" class="cx-num">${p.b.order}</text>` +
        `<text x="${p.x.toFixed(1)}" y="${(p.y + barH + 6).toFixed(1)}" text-anchor="middle" class="cx-state">= ${escapeHtml(showValue(p.b.stateAfter, 16))}</text></g>`,
    );
  }
  // The failing op's return: the point by which it had to have taken effect.
  const fail = bars.find((b) => b.role === 'failing');
  if (fail !== undefined) {
    const fx = fail.end === null ? W - right : x(fail.end);
    const fy = laneY(fail.process) + barH / 2;
    parts.push(
      `<g class="cx-fail-mark"><title>${escapeHtml(`${fail.label} returned here and could not be linearized`)}</title>` +
        `<circle cx="${fx.toFixed(1)}" cy="${fy.toFixed(1)}" r="9" fill="#9b1c1f"/>` +
        `<text x="${fx.toFixed(1)}" y="${(fy + 4).toFixed(1)}" text-anchor="middle" class="cx-x">✕</text></g>`,
    );
  }
  parts.push('</svg>');
  return parts.join('');
}

/** The whole counterexample section body (picture, words, prefix list). */
export function renderCounterexample(cx: Counterexample, model: string, paired: PairedHistory): string {
  const { headline, detail, reasons } = explainCounterexample(cx, model);
  const n = cx.linearized.length;
  const tailFrom = Math.max(0, n - TAIL_STEPS);
  const stepItem = (i: number): string => {
    const s = cx.linearized[i]!;
    return `<li value="${i + 1}"><code>${escapeHtml(s.op.description)}</code> <span class="muted">(${escapeHtml(opRef(s.op))})</span> → state <code>${escapeHtml(show(s.stateAfter))}</code></li>`;
  };
  const tail: string[] = [];
  for (let i = tailFrom; i < n; i++) tail.push(stepItem(i));
  const all: string[] = [];
  for (let i = 0; i < Math.min(n, MAX_LISTED_STEPS); i++) all.push(stepItem(i));
  const legend =
    `<div class="cx-legend"><span class="sw" style="background:${COLORS.step}"></span>last steps of the linearizable prefix (numbered in order, = state after)` +
    `<span class="sw" style="background:${COLORS.failing}"></span>the op that could not be placed (✕ = its return)` +
    `<span class="sw" style="background:${COLORS.candidate}"></span>other candidates` +
    `<span class="sw" style="background:${COLORS.context}"></span>other ops of this key` +
    `<span class="sw dashed"></span>never completed / unknown outcome</div>`;
  return (
    `<div class="cx" data-key="${escapeHtml(cx.key)}">` +
    `<h3 class="cx-headline">${escapeHtml(headline)}</h3>` +
    `<p>${escapeHtml(detail)}</p>` +
    `<ul class="cx-reasons">${reasons.map((r) => `<li>${escapeHtml(r)}</li>`).join('')}</ul>` +
    legend +
    `<div class="cx-figure">${counterexampleSvg(cx, paired)}</div>` +
    (n > 0
      ? `<h4>End of the longest linearizable prefix (${n} step${n === 1 ? '' : 's'})</h4><ol class="cx-steps">${tail.join('')}</ol>` +
        (n > tail.length
          ? `<details><summary>All ${n} steps${n > MAX_LISTED_STEPS ? ` (first ${MAX_LISTED_STEPS} shown)` : ''}</summary><ol class="cx-steps">${all.join('')}</ol></details>`
          : '')
      : '') +
    `</div>`
  );
}
