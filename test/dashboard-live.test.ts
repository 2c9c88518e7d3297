// The dashboard in a real browser against the real service: uploads through the page fill the
// predictions table and charts, and drifted uploads turn the status to drifted within 2 s.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import type { Page } from 'playwright-core';
import type { ReferenceProfile } from '../src/drift/types.js';
import { browserSkip, chartCategories, launch, screenshotPath, type Watched } from './helpers/browser.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { parseModelCard } from '../src/model/index.js';
import { TrafficGenerator } from '../src/sim/index.js';
import { shifted, toCsv } from './helpers/synthetic-rows.js';

// page.evaluate callbacks run in the browser, but the project compiles without the DOM lib
// (it would retype setTimeout & co. for src/): the browser globals they touch, loosely.
declare const document: any;
declare const window: any;
declare const getComputedStyle: (el: unknown) => { backgroundColor: string };

const skip = browserSkip();
// A few thousand rows: the default window holds 5000, so each upload replaces it whole.
const ROWS = 5000;
const DRIFT_DEADLINE_MS = 2000;

let srv: TestServer;
let browser: Watched;
let page: Page;
let features: string[];
let header: string[];
let baseline: number[][];
const tmp = mkdtempSync(path.join(os.tmpdir(), 'dl-dash-'));

t.before(async () => {
  if (skip !== false) return;
  srv = await startTestServer();
  const profile = (await (await fetch(`${srv.url}/api/reference`)).json()) as ReferenceProfile;
  const card = parseModelCard(await (await fetch(`${srv.url}/api/model`)).json());
  features = card.features.map((f) => f.name);
  header = [...features, 'target'];
  // The simulator's generator: rows drawn from the reference profile, plus a ~22% label.
  const gen = new TrafficGenerator(profile, card, { seed: 42 });
  baseline = gen.rows(ROWS).map((r) => [...r, gen.rand() < 0.22 ? 1 : 0]);
  browser = await launch();
  page = await browser.newPage();
});

t.teardown(async () => {
  await browser?.close();
  await srv?.close();
  rmSync(tmp, { recursive: true, force: true });
});

function csvFile(name: string, rows: number[][]): string {
  const file = path.join(tmp, name);
  writeFileSync(file, toCsv(header, rows));
  return file;
}

/** Uploads through the page's file input and waits for the page to report the upload finished. */
async function upload(file: string): Promise<void> {
  await page.setInputFiles('[data-testid=upload-input]', file);
  await page.waitForSelector('[data-testid=upload-message][data-stage=done]', { timeout: 30_000 });
}

async function states(): Promise<Record<string, string | null>> {
  return page.$$eval('[data-testid=drift-table] tbody tr', (trs) =>
    Object.fromEntries(trs.map((tr) => [tr.getAttribute('data-feature'), tr.getAttribute('data-state')])),
  );
}

t.test('the dashboard follows uploads live', { skip }, async (t) => {
  await page.goto(`${srv.url}/`);
  await page.waitForSelector('[data-testid=connection][data-state=live]', { timeout: 10_000 });
  t.equal(await page.textContent('[data-testid=model-name]'), 'credit-default', 'header shows the model from the hello');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=drift-table] tbody tr').length === 8);
  t.same(Object.values(await states()), Array(8).fill('empty'), 'an empty window shows every feature without a verdict');

  await t.test('an in-distribution upload fills the predictions and leaves every feature ok', async (t) => {
    await upload(csvFile('baseline.csv', baseline));
    t.equal(
      await page.textContent('[data-testid=upload-scored]'),
      ROWS.toLocaleString('en-US'),
      'the upload panel counts every row from the streamed answer',
    );
    t.equal(await page.textContent('[data-testid=upload-rejected]'), '0');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=recent] tbody tr').length === 100, undefined, {
      timeout: 5000,
    });
    // The feed pushes every 100 ms, so the last rows may land just after the upload's answer.
    await page.waitForFunction(
      (last) => document.querySelector('[data-testid=recent] tbody tr:first-child td:nth-child(3)')?.textContent === last,
      String(ROWS - 1),
      { timeout: 3000 },
    );
    const first = await page.$$eval('[data-testid=recent] tbody tr:first-child td', (tds) => tds.map((td) => td.textContent ?? ''));
    t.equal(first.length, 6 + 8, 'a prediction row shows time, request, row, probability, prediction, risk and the 8 features');
    t.equal(first[2], String(ROWS - 1), 'newest first: the top row is the last row of the upload');
    t.match(first[3], /^0\.\d{3}|^1\.000/, 'probability');
    await page.waitForFunction(() => document.querySelector('[data-testid=window-rows]')?.textContent === '5,000 / 5,000');
    await page.waitForFunction(() =>
      [...document.querySelectorAll('[data-testid=drift-table] tbody tr')].every((tr) => tr.getAttribute('data-state') === 'ok'),
    );
    t.same(Object.keys(await states()), features, 'the drift table lists the 8 features in card order');
    t.same(await chartCategories(page, '[data-testid=drift-chart]', 'yAxis'), features, 'the drift chart shows the 8 features');
    t.equal(await page.getAttribute('[data-testid=dataset-drift]', 'data-state'), 'ok');
    const sparks = await page.$$eval('[data-testid=drift-table] polyline', (ps) => ps.map((p) => p.getAttribute('points') ?? ''));
    t.equal(sparks.filter((p) => p.split(' ').length >= 2).length, 8, 'every feature has a sparkline');
    await page.waitForFunction(() => document.querySelector('[data-metric=accuracy] .metric-value')?.textContent !== '—');
    t.match(
      await page.textContent('[data-metric=accuracy] .metric-value'),
      /^0\.\d{3}$/,
      'model quality appears once labelled rows are in the window',
    );
  });

  await t.test(`age + 8 turns age (and only age) to drifted within ${DRIFT_DEADLINE_MS} ms`, async (t) => {
    await upload(csvFile('age-shift.csv', shifted(header, baseline, { shift: { age: 8 } })));
    const t0 = Date.now();
    await page.waitForSelector('[data-testid=drift-table] tr[data-feature=age][data-state=drift]', { timeout: DRIFT_DEADLINE_MS });
    t.ok(Date.now() - t0 <= DRIFT_DEADLINE_MS, `age drifted after ${Date.now() - t0} ms`);
    const s = await states();
    t.equal(s.age, 'drift');
    t.same(
      Object.entries(s)
        .filter(([, v]) => v === 'drift')
        .map(([k]) => k),
      ['age'],
      'no other feature is flagged',
    );
    t.equal(await page.getAttribute('[data-testid=dataset-drift]', 'data-state'), 'ok', 'one column of 8 is below the dataset threshold');
    t.match(await page.textContent('[data-testid=dataset-drift]'), /1 of 8 columns drifted/);
    await page.click('[data-testid=drift-table] tr[data-feature=age]');
    t.equal(await page.textContent('[data-testid=dist-feature]'), 'age', 'clicking a row selects its distribution');
    t.ok((await chartCategories(page, '[data-testid=dist-chart]', 'xAxis')).length > 1, 'the distribution chart has bins');
  });

  await t.test(`shifting 5 of 8 columns turns the dataset to drifted within ${DRIFT_DEADLINE_MS} ms`, async (t) => {
    const moved = shifted(header, baseline, {
      shift: { age: 8 },
      scale: { credit_limit: 2, bill_amt_sep: 3, bill_amt_aug: 3, pay_amt_sep: 4 },
    });
    await upload(csvFile('many-shift.csv', moved));
    const t0 = Date.now();
    await page.waitForSelector('[data-testid=dataset-drift][data-state=drift]', { timeout: DRIFT_DEADLINE_MS });
    t.ok(Date.now() - t0 <= DRIFT_DEADLINE_MS, `dataset drifted after ${Date.now() - t0} ms`);
    t.match(await page.textContent('[data-testid=dataset-drift]'), /Dataset drift/);
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: screenshotPath('dashboard.png'), fullPage: true });
  });

  await t.test('the scored CSV download joins the uploaded columns with the predictions', async (t) => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=download]')]);
    const text = readFileSync((await download.path())!, 'utf8');
    const lines = text.trimEnd().split(/\r?\n/);
    t.same(lines[0]!.split(','), [...header, 'probability', 'prediction', 'risk_level', 'error']);
    t.equal(lines.length, ROWS + 1);
    const last = lines.at(-1)!.split(',');
    t.equal(last.length, header.length + 4);
    t.ok(Number(last[header.length]) >= 0 && Number(last[header.length]) <= 1, 'probability column');
    t.match(last[header.length + 2], /^(Low|Medium|High)$/);
  });

  await t.test('dark scheme and phone width', async (t) => {
    const lightBg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.waitForTimeout(300);
    t.not(await page.evaluate(() => getComputedStyle(document.body).backgroundColor), lightBg, 'the page follows prefers-color-scheme');
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: screenshotPath('dashboard-dark.png'), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(300);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    t.ok(overflow <= 1, `no sideways scrolling on a phone (overflow ${overflow}px)`);
    await page.screenshot({ path: screenshotPath('dashboard-phone.png'), fullPage: true });
    await page.emulateMedia({ colorScheme: 'light' });
    await page.setViewportSize({ width: 1440, height: 960 });
  });

  t.same(browser.problems, [], 'no console errors');
  t.same(browser.external, [], 'no request leaves localhost');
});
