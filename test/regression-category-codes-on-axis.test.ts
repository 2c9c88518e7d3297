// Regression: a string column's distribution was drawn over its category codes (0, 1, 2, 3 on the
// x axis, in the dashboard and in the HTML report) with "quantiles" of those codes beside it,
// although the snapshot names each category in `labels`. Both now show the names, and no
// quantiles for such a column.
import t from 'tap';
import type { Page } from 'playwright-core';
import { echartsSource, renderReport } from '../src/report/index.js';
import { browserSkip, chartCategories, launch, screenshotPath, type Watched } from './helpers/browser.js';
import { categoricalSnapshot, EDUCATION } from './helpers/report.js';
import { startTestServer, type TestServer } from './helpers/server.js';

// page.evaluate callbacks run in the browser; the project compiles without the DOM lib.
declare const document: any;
declare const window: any;

const skip = browserSkip();
let srv: TestServer | undefined;
let browser: Watched | undefined;

t.teardown(async () => {
  await browser?.close();
  await srv?.close();
});

const snap = categoricalSnapshot();
const education = snap.features.education!;

t.test('the snapshot under test names its categories', async (t) => {
  t.same(education.reference_hist.labels, EDUCATION);
  t.same(education.reference_hist.x, [0, 1, 2, 3], 'x holds the codes');
  t.ok(education.n_current > 0 && education.drift, 'the window moved towards graduate school');
});

async function dashboard(): Promise<Page> {
  srv = await startTestServer();
  browser = await launch();
  const page = await browser.newPage();
  await page.goto(`${srv.url}/`);
  await page.waitForSelector('[data-testid=connection][data-state=live]', { timeout: 10_000 });
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=drift-table] tbody tr').length === 8);
  return page;
}

t.test('the dashboard draws a string column by category name, without quantiles', { skip }, async (t) => {
  const page = await dashboard();
  const fetched: string[] = [];
  page.on('request', (r) => fetched.push(r.url()));
  // The service does not feed string columns from uploads yet: the column reaches the page as a
  // pushed snapshot would, through its bus, beside the live snapshot's 8 numeric features.
  await page.evaluate((column) => {
    const bus = window.driftline.bus;
    const live = bus.last('snapshot');
    bus.emit('snapshot', { ...live, features: { ...live.features, education: column } });
  }, education);
  await page.click('[data-testid=drift-table] tr[data-feature=education]');
  await page.waitForFunction(() => document.querySelector('[data-testid=dist-feature]')?.textContent === 'education');
  await page.waitForTimeout(200); // the chart redraws on the next animation frame

  t.same(await chartCategories(page, '[data-testid=dist-chart]', 'xAxis'), EDUCATION, 'the x axis names the categories');
  t.equal(await page.isVisible('[data-testid=dist-categorical]'), true, 'the panel says categories have no quantiles');
  t.equal(await page.isVisible('table.quantiles'), false, 'no quantile table of category codes');
  t.same(
    fetched.filter((u) => u.includes('/api/drift/trend')),
    [],
    'no per-minute quantile trend is asked for',
  );

  const tip = await page.evaluate(async (i) => {
    const echarts = (await import('/vendor/echarts.js' as string)) as {
      getInstanceByDom(el: unknown): { dispatchAction(a: object): void } | undefined;
    };
    echarts
      .getInstanceByDom(document.querySelector('[data-testid=drift-chart]'))!
      .dispatchAction({ type: 'showTip', seriesIndex: 0, dataIndex: i });
    await new Promise((r) => setTimeout(r, 200));
    const el = ([...document.querySelectorAll('.dl-tooltip')] as { style: { display: string }; textContent: string | null }[]).find(
      (e) => e.style.display !== 'none',
    );
    return el?.textContent ?? null;
  }, 8);
  const ref = education.reference_hist.shares;
  const cur = education.current_hist.shares;
  const most = ref.reduce((b, r, i) => (Math.abs(cur[i]! - r) > Math.abs(cur[b]! - ref[b]!) ? i : b), 0);
  const pct = (v: number): string => `${(100 * v).toFixed(1)}%`;
  t.ok(
    tip?.includes(`most changed: ${EDUCATION[most]}`) && tip.includes(`${pct(ref[most]!)} → ${pct(cur[most]!)}`),
    `the drift chart's tooltip names the category that moved most (${tip})`,
  );

  // A numeric feature selected after it gets its bins and quantiles back.
  await page.click('[data-testid=drift-table] tr[data-feature=age]');
  await page.waitForFunction(() => document.querySelector('[data-testid=dist-feature]')?.textContent === 'age');
  await page.waitForSelector('table.quantiles', { state: 'visible', timeout: 5000 });
  t.notSame(await chartCategories(page, '[data-testid=dist-chart]', 'xAxis'), EDUCATION, 'age is drawn on its own bins');
  t.equal(await page.isVisible('[data-testid=dist-categorical]'), false);

  await page.click('[data-testid=drift-table] tr[data-feature=education]');
  await page.waitForTimeout(200);
  await page.screenshot({ path: screenshotPath('dashboard-categorical.png'), fullPage: true });
  t.same(browser!.problems, [], 'no console errors');
  t.same(browser!.external, [], 'no request leaves localhost');
});

t.test('the HTML report draws a string column by category name, without quantiles', { skip }, async (t) => {
  const { html } = renderReport({ snapshot: snap, generatedAt: new Date('2026-01-02T03:05:00Z'), echarts: echartsSource() });
  const i = Object.keys(snap.features).indexOf('education');
  t.match(html, `id="hist-${i}"`, 'the column has its histogram');
  t.notMatch(html, `id="quant-${i}"`, 'and no quantile chart');
  t.match(html, `id="quant-${1 - i}"`, 'the numeric column keeps its quantile chart');
  browser ??= await launch();
  const page = await browser.newPage();
  t.teardown(() => page.close());
  await page.setContent(html);
  await page.waitForFunction((id) => document.querySelector(`#${id} canvas`) !== null, `hist-${i}`);
  const axis = await page.evaluate(
    (id) => (window.echarts.getInstanceByDom(document.getElementById(id)).getOption().xAxis[0].data as unknown[]).map(String),
    `hist-${i}`,
  );
  t.same(axis, EDUCATION, "the report's x axis names the categories");
});
