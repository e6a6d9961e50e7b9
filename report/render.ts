// One self-contained HTML page per run: verdict and options at the top, a
// canvas timeline of every client op with fault intervals shaded, latency
// and throughput charts (uPlot), counts and availability per phase, and the
// counterexample of each non-linearizable key. No external requests: uPlot,
// the page script and the CSS are inlined, the data is embedded as JSON.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CheckResult, HistoryOp, KeyResult, Verdict } from '../checker/types.js';
import { renderCounterexample } from './counterexample.js';
import { renderMinimal } from './minimal.js';
import { buildPageData } from './data.js';
import { evidenceTable, progressText, type FaultEvidence, type ProgressAvailability } from './evidence.js';
import { escapeHtml, fmtSec, jsonForScript, scriptText, styleText } from './html.js';
import { nemesisIntervals, readNemesisCatalogue } from './nemesis.js';
import { pairClientOps, showValue } from './ops.js';
import { countsByF, phaseStats, throughput, type FCountRow, type PhaseRow } from './phases.js';

export interface ReportInput {
  title: string;
  history: readonly HistoryOp[];
  check: CheckResult | null;
  test?: Record<string, unknown>;
  /**
   * What the run itself concluded, when it was a harness run (results.json):
   * its merged verdict over every analysis (the checker, the wire monitor,
   * progress), each analysis's findings, what each fault did, and
   * availability over time. The page's verdict is the run's, not only the
   * checker's.
   */
  run?: RunConclusion;
}

export interface RunConclusion {
  readonly verdict: Verdict;
  readonly analyses: readonly {
    readonly name: string;
    readonly valid: Verdict;
    readonly conclusion: string;
    readonly findings: readonly string[];
  }[];
  readonly faults: readonly FaultEvidence[];
  readonly progress: ProgressAvailability | null;
  readonly monitorNotRun: string | null;
}

/** Counterexamples drawn in full; further failing keys are listed. */
const MAX_COUNTEREXAMPLES = 3;
/** Rows in the per-key table (failures and unknowns first). */
const MAX_KEY_ROWS = 200;

interface Assets {
  uplotJs: string;
  uplotCss: string;
  pageJs: string;
  pageCss: string;
}

let assets: Assets | null = null;

function loadAssets(): Assets {
  if (assets !== null) return assets;
  const here = dirname(fileURLToPath(import.meta.url));
  const require = createRequire(import.meta.url);
  assets = {
    uplotJs: readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8'),
    uplotCss: readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8'),
    pageJs: readFileSync(join(here, 'page.js'), 'utf8'),
    pageCss: readFileSync(join(here, 'page.css'), 'utf8'),
  };
  return assets;
}

export function verdictClass(v: Verdict | null | undefined): 'valid' | 'invalid' | 'unknown' | 'unchecked' {
  if (v === true) return 'valid';
  if (v === false) return 'invalid';
  if (v === 'unknown') return 'unknown';
  return 'unchecked';
}

function verdictText(v: Verdict | null | undefined): string {
  switch (verdictClass(v)) {
    case 'valid':
      return 'Valid — linearizable';
    case 'invalid':
      return 'Invalid — not linearizable';
    case 'unknown':
      return 'Unknown — the checker ran out of budget';
    case 'unchecked':
      return 'Not checked';
  }
}

/** The run's verdict in the words of the first analysis that decided it (the checker's own beside it when another decided). */
function runVerdictText(run: RunConclusion): string {
  const word = run.verdict === true ? 'Valid' : run.verdict === false ? 'Invalid' : 'Unknown';
  const decisive = run.analyses.find((a) => a.valid === run.verdict);
  if (decisive === undefined) return word;
  const first = run.analyses[0];
  return `${word} — ${decisive.conclusion}${first !== undefined && first !== decisive ? ` (${first.name}: ${first.conclusion})` : ''}`;
}

function runSection(run: RunConclusion): string {
  const findings = run.analyses.flatMap((a) => a.findings.map((f) => `<li class="v-${verdictClass(a.valid)}">${escapeHtml(f)}</li>`));
  const analyses = run.analyses
    .map(
      (a) =>
        `<tr class="v-${verdictClass(a.valid)}"><td>${escapeHtml(a.name)}</td><td>${escapeHtml(verdictClass(a.valid))}</td><td>${escapeHtml(a.conclusion)}</td></tr>`,
    )
    .join('');
  return (
    `<section id="analyses"><h2>Analyses</h2><table class="grid analyses"><tr><th>analysis</th><th>verdict</th><th>conclusion</th></tr>${analyses}</table>` +
    `${findings.length > 0 ? `<ul class="findings">${findings.join('')}</ul>` : ''}` +
    `${run.monitorNotRun !== null ? `<p class="muted">Wire monitor ${escapeHtml(run.monitorNotRun)}.</p>` : ''}` +
    `${run.progress !== null ? `<p id="progress">Availability over time: ${escapeHtml(progressText(run.progress))}.</p>` : ''}</section>` +
    `<section id="evidence"><h2>What each fault did</h2>` +
    `<p class="muted">Leader and term as sampled every 100 ms; datagrams as the relay counted them on each link between the fault's start and its stop; ` +
    `stopped processes as the kernel reported them (/proc/PID/stat).</p>${evidenceTable(run.faults)}</section>`
  );
}

/** Flattens the test object to dotted paths (two levels), values as short JSON. */
function optionRows(test: Record<string, unknown> | undefined): [string, string][] {
  if (test === undefined) return [];
  const rows: [string, string][] = [];
  const walk = (prefix: string, v: unknown, depth: number): void => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && depth < 2) {
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) walk(prefix === '' ? k : `${prefix}.${k}`, x, depth + 1);
      return;
    }
    rows.push([prefix, typeof v === 'string' ? v : showValue(v, 300)]);
  };
  walk('', test, 0);
  return rows;
}

function pct(x: number | null): string {
  return x === null ? '—' : `${(x * 100).toFixed(1)}%`;
}

function phaseTable(rows: readonly PhaseRow[], unit: 'ns' | 'index'): string {
  const head = `<tr><th>phase</th><th>${unit === 'ns' ? 'duration (s)' : 'span (ops)'}</th><th>ops invoked</th><th>ok</th><th>fail</th><th>info / unknown</th><th>availability (ok / ops)</th><th>ok per second</th></tr>`;
  const body = rows
    .map(
      (r) =>
        `<tr data-phase="${escapeHtml(r.phase)}"><td>${escapeHtml(r.phase)}</td><td>${unit === 'ns' ? fmtSec(r.duration) : r.duration}</td><td>${r.ops}</td><td>${r.ok}</td><td>${r.fail}</td><td>${r.info}</td>` +
        `<td class="avail">${pct(r.availability)}</td><td>${r.okPerSec === null ? '—' : r.okPerSec.toFixed(1)}</td></tr>`,
    )
    .join('');
  return `<table class="grid phases">${head}${body}</table>`;
}

function countsTable(rows: readonly FCountRow[]): string {
  const head = '<tr><th>f</th><th>ok</th><th>fail</th><th>info</th><th>never completed</th><th>total</th></tr>';
  const body = rows
    .map(
      (r) =>
        `<tr${r.f === 'all' ? ' class="total"' : ''}><td>${escapeHtml(r.f)}</td><td>${r.ok}</td><td>${r.fail}</td><td>${r.info}</td><td>${r.pending}</td><td>${r.total}</td></tr>`,
    )
    .join('');
  return `<table class="grid counts">${head}${body}</table>`;
}

function keyTable(check: CheckResult): string {
  const rank = (k: KeyResult): number => (k.valid === false ? 0 : k.valid === 'unknown' ? 1 : 2);
  const entries = Object.entries(check.keys).sort((a, b) => rank(a[1]) - rank(b[1]) || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const shown = entries.slice(0, MAX_KEY_ROWS);
  const body = shown
    .map(
      ([k, r]) =>
        `<tr class="v-${verdictClass(r.valid)}"><td><code>${escapeHtml(JSON.stringify(k))}</code></td><td>${escapeHtml(String(r.valid))}${r.unknownReason !== undefined ? ` (${escapeHtml(r.unknownReason)})` : ''}</td>` +
        `<td>${r.opCount}</td><td>${typeof r.searchMs === 'number' ? r.searchMs.toFixed(1) : '?'}</td><td>${r.cacheEntries ?? '?'}</td></tr>`,
    )
    .join('');
  const more =
    entries.length > shown.length ? `<p class="muted">${entries.length - shown.length} more keys not shown (all valid).</p>` : '';
  return `<table class="grid keys"><tr><th>key</th><th>verdict</th><th>ops searched</th><th>search ms</th><th>cache entries</th></tr>${body}</table>${more}`;
}

export function renderReport(input: ReportInput): string {
  const a = loadAssets();
  const { title, history, check, test } = input;
  const paired = pairClientOps(history);
  // A rift run says what its nemesis ops mean (test.json); other histories get the generic rules.
  const nemesis = nemesisIntervals(history, paired.timeUnit, paired.tEnd, readNemesisCatalogue(test?.['nemesisCatalogue']));
  // 1 s buckets (Jepsen's rate graph); a short history gets 100 ms buckets so it still has a shape.
  const bucketNs = paired.tEnd - paired.t0 >= 10e9 ? 1e9 : 1e8;
  const tp = paired.timeUnit === 'ns' ? throughput(paired.ops, paired.t0, paired.tEnd, bucketNs) : null;
  const phases = phaseStats(paired.ops, nemesis.intervals, paired.t0, paired.tEnd, paired.timeUnit);
  const counts = countsByF(paired.ops);
  const data = buildPageData(title, paired, nemesis, tp, check);

  const run = input.run;
  const vc = verdictClass(run !== undefined ? run.verdict : check?.valid);
  const headline = run !== undefined ? runVerdictText(run) : verdictText(check?.valid);
  const summary: string[] = [];
  summary.push(
    `${history.length} history lines`,
    `${paired.ops.length} client ops`,
    `${new Set(paired.ops.map((o) => o.process)).size} processes`,
  );
  if (data.laneMode === 'thread') summary.push(`${data.lanes.length} client threads`);
  if (check !== null) {
    summary.push(
      `model ${check.model}`,
      `${check.keyCount} key${check.keyCount === 1 ? '' : 's'}`,
      `search ${check.searchMs.toFixed(0)} ms`,
    );
    if (check.failures.length > 0)
      summary.push(
        `non-linearizable keys: ${check.failures
          .slice(0, 10)
          .map((k) => JSON.stringify(k))
          .join(', ')}${check.failures.length > 10 ? '…' : ''}`,
      );
    if (check.unknownKeys.length > 0)
      summary.push(`unknown keys: ${check.unknownKeys.length}${check.unknownReason !== undefined ? ` (${check.unknownReason})` : ''}`);
  }
  if (paired.timeUnit === 'ns') summary.push(`${fmtSec(paired.tEnd - paired.t0)} s`);
  else summary.push('no op times: the x axis is the op index');
  if (nemesis.intervals.length > 0) summary.push(`${nemesis.intervals.length} fault interval${nemesis.intervals.length === 1 ? '' : 's'}`);
  if (paired.anomalies > 0) summary.push(`${paired.anomalies} unpaired client lines`);

  const opts = optionRows(test);
  const optsHtml =
    opts.length === 0
      ? '<p class="muted">No test options recorded.</p>'
      : `<table class="grid opts">${opts.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('')}</table>`;

  const faultRows = nemesis.intervals
    .map(
      (iv) =>
        `<tr><td><span class="fault-sw fault-${escapeHtml(iv.kind)}" data-kind="${escapeHtml(iv.kind)}"></span>${escapeHtml(iv.label)}</td><td>${escapeHtml(iv.startF)} → ${escapeHtml(iv.stopF ?? '(end of history)')}</td>` +
        `<td>${paired.timeUnit === 'ns' ? fmtSec(iv.start - paired.t0) : iv.start}</td><td>${paired.timeUnit === 'ns' ? fmtSec(iv.end - paired.t0) : iv.end}</td>` +
        `<td>${escapeHtml(iv.values.map((v) => showValue(v, 100)).join('; '))}</td></tr>`,
    )
    .join('');
  const faultsHtml =
    nemesis.intervals.length === 0
      ? '<p class="muted">No faults injected.</p>'
      : `<details><summary>${nemesis.intervals.length} fault intervals</summary><table class="grid faults"><tr><th>kind</th><th>ops</th><th>from</th><th>to</th><th>what</th></tr>${faultRows}</table></details>`;

  let cxHtml = '';
  if (check !== null && check.failures.length > 0) {
    const drawn = check.failures.slice(0, MAX_COUNTEREXAMPLES);
    const parts = drawn.map((k) => {
      const cx = check.keys[k]?.counterexample;
      const none = (why: string): string =>
        `<div class="cx" data-key="${escapeHtml(k)}"><h3 class="cx-headline">Key ${escapeHtml(JSON.stringify(k))} is not linearizable (${escapeHtml(why)}).</h3></div>`;
      const kr = check.keys[k];
      let minimal = '';
      try {
        if (kr?.minimal !== undefined) minimal = renderMinimal(k, kr.minimal, kr.refutation, paired);
      } catch (e) {
        minimal = none(`the minimal sub-history could not be drawn: ${(e as Error).message}`);
      }
      if (cx === undefined) return minimal + none('no counterexample recorded');
      try {
        return minimal + renderCounterexample(cx, check.model, paired);
      } catch (e) {
        // A results.json from another checker version: the rest of the page still renders.
        return none(`the counterexample could not be drawn: ${(e as Error).message}`);
      }
    });
    const rest =
      check.failures.length > drawn.length
        ? `<p>Also not linearizable: ${check.failures
            .slice(drawn.length)
            .map((k) => `<code>${escapeHtml(JSON.stringify(k))}</code>`)
            .join(', ')}</p>`
        : '';
    cxHtml = `<section id="counterexample"><h2>Counterexample</h2>${parts.join('')}${rest}</section>`;
  }

  const chartsHtml =
    paired.timeUnit === 'ns'
      ? `<section id="latency-section"><h2>Latency</h2><p class="muted">One point per completed op at its invoke time, by f and outcome (log scale). Drag to zoom, double-click to reset.</p><div id="latency" class="chart"></div></section>` +
        `<section id="throughput-section"><h2>Throughput</h2><p class="muted">Completions per second in ${tp !== null && tp.bucketSec < 1 ? `${Math.round(tp.bucketSec * 1000)} ms` : '1 s'} buckets, by outcome.</p><div id="throughput" class="chart"></div></section>`
      : `<section><h2>Latency and throughput</h2><p class="muted">The history has no op times, so there is no latency or throughput to draw.</p></section>`;

  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} — ${escapeHtml(headline)}</title>
<style>${styleText(a.uplotCss)}</style>
<style>${styleText(a.pageCss)}</style>
</head>
<body class="verdict-${vc}">
<header>
<h1>${escapeHtml(title)}</h1>
<div id="verdict" class="verdict ${vc}" data-verdict="${vc}">${escapeHtml(headline)}</div>
<p class="summary">${summary.map(escapeHtml).join(' · ')}</p>
</header>
${run !== undefined ? runSection(run) : ''}
<section id="options"><h2>Test</h2>${optsHtml}<h3>Faults</h3>${faultsHtml}</section>
${cxHtml}
<section id="timeline-section"><h2>Timeline</h2>
<p class="muted">${data.laneMode === 'thread' ? `One lane per client thread (t<i>k</i> = processes k, k+${data.lanes.length}, …: a client gets a new process number after an info op)` : 'One lane per client process'}; a bar from invoke to completion, coloured by outcome; info (unknown) bars run to the end. Shaded: faults active. Wheel: zoom; drag: pan; shift+wheel: scroll lanes; double-click: reset.</p>
<div class="tl-toolbar"><button type="button" id="tl-reset">Reset zoom</button>${data.failing.length > 0 ? '<button type="button" id="tl-failure">Zoom to the failure</button>' : ''}<span id="tl-legend" class="legend"></span><span id="tl-range" class="muted"></span></div>
<div id="tl-wrap" class="tl-wrap"><canvas id="tl-canvas"></canvas><div id="tl-spacer"></div></div>
<div id="tl-tip" class="tip" hidden></div>
<noscript><p>The timeline and charts need JavaScript.</p></noscript>
</section>
${chartsHtml}
<section id="stats"><h2>Counts and availability</h2><h3>By phase</h3>${phaseTable(phases, paired.timeUnit)}<h3>By operation</h3>${countsTable(counts)}</section>
${check !== null && Object.keys(check.keys).length > 0 ? `<section id="keys"><h2>Keys</h2>${keyTable(check)}</section>` : ''}
<footer class="muted">rift report</footer>
<script type="application/json" id="rift-data">${jsonForScript(data)}</script>
<script>${scriptText(a.uplotJs)}</script>
<script>${scriptText(a.pageJs)}</script>
</body>
</html>
`;
}
