// The report page in a real browser (headless Chromium through
// playwright-core): it loads with no console errors and no network requests,
// draws one timeline bar per client op, draws both charts, names the failing
// key in the counterexample, and zooms. Screenshots go to test-artifacts/.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkHistory } from '../../checker/check.js';
import type { HistoryOp } from '../../checker/types.js';
import { renderReport } from '../../report/render.js';
import { CHROMIUM, CHROMIUM_ARGS } from './chromium.js';
import { synthHistory } from './synth.js';

const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) console.log(`skipping browser tests: ${CHROMIUM} is missing (apt-get install -y chromium)`);

const ARTIFACTS = resolve(import.meta.dirname, '../../test-artifacts');
const tmp = mkdtempSync(join(tmpdir(), 'rift-report-browser-'));
let browser: Browser | undefined;

beforeAll(async () => {
  if (!haveChromium) return;
  mkdirSync(ARTIFACTS, { recursive: true });
  // Playwright gives every launch a fresh temporary profile (--user-data-dir).
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
});

afterAll(async () => {
  await browser?.close();
  rmSync(tmp, { recursive: true, force: true });
});

interface Loaded {
  page: Page;
  problems: string[];
  report: { ready: boolean; errors: string[]; barCount: number; rectCount: number; lanes: number; lanesDrawn: number; charts: number };
}

async function load(name: string, html: string): Promise<Loaded> {
  const file = join(tmp, `${name}.html`);
  writeFileSync(file, html);
  const page = await browser!.newPage({ viewport: { width: 1400, height: 900 } });
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('request', (r) => {
    if (!r.url().startsWith('file:') && !r.url().startsWith('data:')) problems.push(`request: ${r.url()}`);
  });
  await page.goto(pathToFileURL(file).href);
  await page.waitForFunction(() => (globalThis as unknown as { riftReport?: { ready: boolean } }).riftReport?.ready === true, null, {
    timeout: 30_000,
  });
  const report = await page.evaluate(() => (globalThis as unknown as { riftReport: Loaded['report'] }).riftReport);
  return { page, problems, report };
}

function clientOps(h: readonly HistoryOp[]): number {
  return h.filter((o) => typeof o.process === 'number' && o.type === 'invoke').length;
}

describe.skipIf(!haveChromium)('report page in Chromium', () => {
  it('valid run: no errors, a bar per client op, both charts drawn', async () => {
    const seed = 1234;
    const s = synthHistory({ seed, ops: 4000, processes: 8, keys: 4, faults: true, gapMs: 12 });
    const check = checkHistory(s.history);
    expect(check.valid, `seed ${seed}`).toBe(true);
    const html = renderReport({
      title: `browser valid (seed ${seed})`,
      history: s.history,
      check,
      test: { name: 'browser-valid', seed, options: { nemesis: 'partition,kill' } },
    });
    const { page, problems, report } = await load('valid', html);
    expect(problems).toEqual([]);
    expect(report.errors).toEqual([]);
    expect(report.lanesDrawn).toBe(report.lanes);
    expect(report.barCount).toBe(clientOps(s.history));
    expect(await page.getAttribute('#tl-canvas', 'data-bar-count')).toBe(String(clientOps(s.history)));
    expect(report.charts).toBe(2);
    expect(await page.locator('#latency canvas').count()).toBe(1);
    expect(await page.locator('#throughput canvas').count()).toBe(1);
    expect(await page.textContent('#verdict')).toBe('Valid — linearizable');
    // Zooming in draws fewer ops; double-click resets.
    const box = (await page.locator('#tl-canvas').boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.wheel(0, -1500);
    await page.waitForFunction(
      (n) => (globalThis as unknown as { riftReport: { barCount: number } }).riftReport.barCount < n,
      clientOps(s.history),
    );
    await page.mouse.dblclick(box.x + box.width / 2, box.y + box.height / 2);
    await page.waitForFunction(
      (n) => (globalThis as unknown as { riftReport: { barCount: number } }).riftReport.barCount === n,
      clientOps(s.history),
    );
    // Hovering a bar shows the op.
    const target = await page.evaluate(() =>
      (
        globalThis as unknown as { riftReport: { barCenter(i: number): { x: number; y: number; invokeIndex: number } | null } }
      ).riftReport.barCenter(5),
    );
    expect(target).not.toBeNull();
    await page.mouse.move(target!.x, target!.y);
    await page.waitForSelector('#tl-tip:not([hidden])');
    const tip = (await page.textContent('#tl-tip')) ?? '';
    const inv = s.history[target!.invokeIndex]!;
    expect(tip).toContain(`invoke #${inv.index}`);
    expect(tip).toContain(`${inv.f} `);
    expect(tip).toContain(`key: "${String(inv.key)}"`);
    await page.screenshot({ path: join(ARTIFACTS, 'report-valid.png'), fullPage: true });
    await page.close();
  });

  it('invalid run: the counterexample names the failing key and the timeline zooms to the failure', async () => {
    const seed = 99;
    const s = synthHistory({ seed, ops: 1200, processes: 6, keys: 3, faults: true, gapMs: 15, corrupt: true });
    const check = checkHistory(s.history);
    expect(check.valid, `seed ${seed}`).toBe(false);
    expect(check.failures).toEqual([s.corruptedKey]);
    const key = check.failures[0]!;
    const html = renderReport({
      title: `browser invalid (seed ${seed})`,
      history: s.history,
      check,
      test: { name: 'browser-invalid', seed },
    });
    const { page, problems, report } = await load('invalid', html);
    expect(problems).toEqual([]);
    expect(report.errors).toEqual([]);
    expect(report.barCount).toBe(clientOps(s.history));
    expect(await page.textContent('#verdict')).toBe('Invalid — not linearizable');
    const cx = page.locator('#counterexample .cx');
    expect(await cx.getAttribute('data-key')).toBe(key);
    expect(await page.textContent('#counterexample .cx-headline')).toContain(`Key ${JSON.stringify(key)} is not linearizable`);
    expect(await page.locator('#counterexample svg .cx-failing').count()).toBe(1);
    await page.click('#tl-failure');
    await page.waitForFunction((n) => {
      const r = (globalThis as unknown as { riftReport: { barCount: number } }).riftReport;
      return r.barCount > 0 && r.barCount < n;
    }, clientOps(s.history));
    await page.locator('#counterexample').screenshot({ path: join(ARTIFACTS, 'report-counterexample.png') });
    await page.click('#tl-reset');
    await page.screenshot({ path: join(ARTIFACTS, 'report-invalid.png'), fullPage: true });
    await page.close();
  });
});
