// The HTML report in headless Chromium with the network shut: it opens from a file, shows every
// feature, draws its charts, breaks no CSP rule, and keeps hostile column names as text.
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import t from 'tap';
import { writeReport } from '../src/cli/report.js';
import { readProfile } from '../src/drift/index.js';
import { readModelCard } from '../src/model/index.js';
import { echartsSource, renderReport } from '../src/report/index.js';
import { TrafficGenerator } from '../src/sim/index.js';
import { HOSTILE, hostileSnapshot } from './helpers/report.js';
import { BUNDLED_MODEL, startTestServer } from './helpers/server.js';

// page.evaluate callbacks run in the browser, but the project compiles without the DOM lib
// (it would retype setTimeout & co. for src/): the browser globals they touch, loosely.
declare const document: any;
declare const window: any;

const CHROMIUM = '/usr/bin/chromium';
const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is absent: the report is not opened in a browser`;
const FEATURES = ['credit_limit', 'age', 'pay_delay_sep', 'pay_delay_aug', 'bill_amt_sep', 'bill_amt_aug', 'pay_amt_sep', 'pay_amt_aug'];
const tmp = mkdtempSync(path.join(os.tmpdir(), 'dl-report-'));

let browser: Browser;
t.before(async () => {
  if (skip !== false) return;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
  });
});
t.teardown(() => browser?.close());

interface Watched {
  page: Page;
  context: BrowserContext;
  /** Every request the page made other than the one file it was opened from; all aborted. */
  blocked: string[];
  problems: string[];
  dialogs: string[];
}

/** A page whose every request is routed: only `allow` (the report file itself) goes through. */
async function open(allow?: string): Promise<Watched> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const blocked: string[] = [];
  const problems: string[] = [];
  const dialogs: string[] = [];
  await context.route('**/*', (route) => {
    const u = route.request().url();
    if (u === allow) return route.continue();
    blocked.push(u);
    return route.abort('blockedbyclient');
  });
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e: { violatedDirective: string; blockedURI: string }) =>
      console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`),
    );
  });
  const page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console.${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  return { page, context, blocked, problems, dialogs };
}

/** Per chart container: whether ECharts drew into it (a sized canvas) and how many series. */
async function charts(page: Page): Promise<{ id: string; canvas: boolean; series: number }[]> {
  return page.evaluate(() => {
    const ec = (window as { echarts: { getInstanceByDom(el: unknown): { getOption(): { series: unknown[] } } | undefined } }).echarts;
    return [...document.querySelectorAll('.chart')].map(
      (el: { id: string; querySelector(s: string): { width: number; height: number } | null }) => {
        const c = el.querySelector('canvas');
        return {
          id: el.id,
          canvas: c !== null && c.width > 0 && c.height > 0,
          series: ec.getInstanceByDom(el)?.getOption().series.length ?? 0,
        };
      },
    );
  });
}

t.test('driftline report: opened from a file with no network, every feature and chart is there', { skip }, async (t) => {
  const profile = readProfile(path.join(BUNDLED_MODEL, 'reference.json'));
  const card = readModelCard(path.join(BUNDLED_MODEL, 'card.json'));
  const current = path.join(tmp, 'current.csv');
  writeFileSync(current, new TrafficGenerator(profile, card, { seed: 4, drift: 'age+8' }).csv(2000));
  const out = path.join(tmp, 'report.html');
  const r = await writeReport({ reference: path.join(BUNDLED_MODEL, 'reference.json'), current, model: BUNDLED_MODEL, out });
  t.equal(r.file, out);

  const url = pathToFileURL(out).href;
  const w = await open(url);
  t.teardown(() => w.context.close());
  await w.page.goto(url);
  await w.page.waitForFunction(() => document.querySelectorAll('.chart canvas').length >= 16);

  t.same(
    await w.page.locator('table.columns').first().locator('tbody th[scope=row]').allInnerTexts(),
    FEATURES,
    'the table lists the 8 features in card order',
  );
  t.same(await w.page.locator('article.feature h3 .name').allInnerTexts(), FEATURES, 'a chart card per feature');
  for (const f of FEATURES) t.ok(await w.page.getByText(f, { exact: true }).first().isVisible(), `${f} is visible`);
  const drawn = await charts(w.page);
  t.equal(drawn.length, 16, 'a histogram and a quantile chart per feature');
  t.same(
    drawn.filter((c) => !c.canvas || c.series === 0),
    [],
    'every chart has a drawn canvas and its series',
  );
  t.equal(
    await w.page
      .locator('article.feature.drifted h3 .name')
      .allInnerTexts()
      .then((n) => n.join()),
    'age',
    'age, and only age, is shown drifted',
  );
  t.match(await w.page.locator('.summary').innerText(), /Model\s+credit-default 1/);
  t.same(w.blocked, [], 'no request beyond the file itself');
  t.same(w.problems, [], 'no console error, page error or CSP violation');
});

t.test('hostile column names stay text in the browser too', { skip }, async (t) => {
  const { html } = renderReport({ snapshot: hostileSnapshot(), generatedAt: new Date(), echarts: echartsSource() });
  const w = await open();
  t.teardown(() => w.context.close());
  await w.page.setContent(html, { waitUntil: 'load' });
  await w.page.waitForFunction((n) => document.querySelectorAll('.chart canvas').length >= n, HOSTILE.length * 2);
  t.same(await w.page.locator('article.feature h3 .name').allInnerTexts(), HOSTILE, 'each name shown literally');
  t.same(w.dialogs, [], 'no script from a column name ran');
  t.equal(await w.page.locator('body img, body iframe, body object, body embed').count(), 0, 'no element from a column name');
  t.equal(await w.page.locator('script').count(), 3, "only the report's own scripts");
  t.same(
    (await charts(w.page)).filter((c) => !c.canvas),
    [],
    'charts drawn',
  );
  t.same(w.blocked, []);
  t.same(w.problems, []);
});

t.test('GET /report.html saved from the service reads offline the same way', { skip }, async (t) => {
  const srv = await startTestServer({ WINDOW_ROWS: '500' });
  t.teardown(() => srv.close());
  const profile = readProfile(path.join(BUNDLED_MODEL, 'reference.json'));
  const card = readModelCard(path.join(BUNDLED_MODEL, 'card.json'));
  const form = new FormData();
  form.append(
    'file',
    new Blob([new TrafficGenerator(profile, card, { seed: 8, drift: 'credit_limit*1.5' }).csv(500)], { type: 'text/csv' }),
    'rows.csv',
  );
  const scored = await fetch(`${srv.url}/predict`, { method: 'POST', body: form });
  t.equal(scored.status, 200);
  // The status comes with the first result; the window has every row once the body has ended.
  t.match(await scored.json(), { n_rows: 500, n_rejected: 0 });
  const html = await (await fetch(`${srv.url}/report.html`)).text();
  const w = await open();
  t.teardown(() => w.context.close());
  await w.page.setContent(html, { waitUntil: 'load' });
  await w.page.waitForFunction(() => document.querySelectorAll('.chart canvas').length >= 16);
  t.same(await w.page.locator('article.feature h3 .name').allInnerTexts(), FEATURES);
  t.same(
    (await charts(w.page)).filter((c) => !c.canvas || c.series === 0),
    [],
  );
  t.same(
    await w.page.locator('article.feature.drifted h3 .name').allInnerTexts(),
    ['credit_limit'],
    'credit_limit, and only it, shown drifted',
  );
  t.match(await w.page.locator('table.columns').nth(1).innerText(), /prediction/, 'the model output has its own table');
  t.same(w.blocked, []);
  t.same(w.problems, []);
});
