// Opt-in measurement (RIFT_REPORT_PERF=1): render time and Chromium load time
// of the report of a generated 100,000-op history. Prints the figures; it
// asserts only that everything was drawn, never a duration.
//   RIFT_REPORT_PERF=1 npx vitest run test/report/perf.test.ts
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { expect, it } from 'vitest';
import { checkHistory } from '../../checker/check.js';
import { renderReport } from '../../report/render.js';
import { CHROMIUM, CHROMIUM_ARGS } from './chromium.js';
import { synthHistory } from './synth.js';

const enabled = process.env['RIFT_REPORT_PERF'] === '1' && existsSync(CHROMIUM);
const OPS = Number(process.env['RIFT_REPORT_PERF_OPS'] ?? 100_000);

it.skipIf(!enabled)(`report of a ${OPS}-op history: render and load times`, { timeout: 300_000 }, async () => {
  const seed = Number(process.env['RIFT_REPORT_PERF_SEED'] ?? 2024);
  const s = synthHistory({ seed, ops: OPS, processes: 10, keys: 10, faults: true, gapMs: 8 });
  const tc = performance.now();
  const check = checkHistory(s.history, { timeLimitMs: 120_000 });
  const checkMs = performance.now() - tc;
  const tr = performance.now();
  const html = renderReport({ title: `perf ${OPS} ops (seed ${seed})`, history: s.history, check, test: { seed } });
  const renderMs = performance.now() - tr;
  const dir = mkdtempSync(join(tmpdir(), 'rift-report-perf-'));
  const file = join(dir, 'report.html');
  writeFileSync(file, html);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const tl = performance.now();
    await page.goto(pathToFileURL(file).href);
    await page.waitForFunction(() => (globalThis as unknown as { riftReport?: { ready: boolean } }).riftReport?.ready === true, null, {
      timeout: 120_000,
    });
    const loadMs = performance.now() - tl;
    // Everything painted: two frames after ready (uPlot commits its first draw asynchronously).
    const paintedSinceNavMs = await page.evaluate(
      () =>
        new Promise<number>((ok) => {
          const raf = (globalThis as unknown as { requestAnimationFrame(cb: () => void): void }).requestAnimationFrame;
          raf(() => raf(() => ok(performance.now())));
        }),
    );
    const paintedMs = performance.now() - tl;
    const r = await page.evaluate(
      () =>
        (
          globalThis as unknown as {
            riftReport: { barCount: number; rectCount: number; lanes: number; lanesDrawn: number; drawMs: number; setupMs: number };
          }
        ).riftReport,
    );
    // A zoom redraw.
    const box = (await page.locator('#tl-canvas').boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.wheel(0, -600);
    await page.waitForFunction(
      (n) => (globalThis as unknown as { riftReport: { barCount: number } }).riftReport.barCount !== n,
      r.barCount,
    );
    const zoomDrawMs = await page.evaluate(() => (globalThis as unknown as { riftReport: { drawMs: number } }).riftReport.drawMs);
    const art = resolve(import.meta.dirname, '../../test-artifacts');
    mkdirSync(art, { recursive: true });
    await page.mouse.dblclick(box.x + box.width / 2, box.y + box.height / 2);
    await page.screenshot({ path: join(art, 'report-100k.png'), fullPage: true });
    const figures = {
      seed,
      historyLines: s.history.length,
      verdict: check.valid,
      checkMs: Math.round(checkMs),
      renderReportMs: Math.round(renderMs),
      htmlBytes: statSync(file).size,
      chromiumLoadToReadyMs: Math.round(loadMs),
      chromiumLoadToPaintedMs: Math.round(paintedMs),
      pagePaintedSinceNavigationMs: Math.round(paintedSinceNavMs),
      pageSetupMs: Math.round(r.setupMs),
      timelineDrawMs: Math.round(r.drawMs),
      zoomRedrawMs: Math.round(zoomDrawMs),
      barCount: r.barCount,
      rectCount: r.rectCount,
      lanes: r.lanes,
      lanesDrawn: r.lanesDrawn,
    };
    console.log('report perf figures:', JSON.stringify(figures));
    expect(errors).toEqual([]);
    expect(r.barCount).toBeGreaterThan(0);
  } finally {
    await browser.close();
    if (process.env['RIFT_REPORT_PERF_KEEP'] === undefined) rmSync(dir, { recursive: true, force: true });
    else console.log('kept', file);
  }
});
