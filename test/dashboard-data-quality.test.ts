// The dashboard shows data quality: after an upload with blank ages and unparsable credit
// limits, the Model quality panel's table gives each feature's missing and invalid shares over
// the rows received (rejected ones included), marks the features above 5 %, and shows no unseen
// share for numeric features. A real service and headless Chromium; bounded to a few seconds.
import t from 'tap';
import { browserSkip, launch, screenshotPath } from './helpers/browser.js';
import { FEATURE_HEADER, VALID_ROW } from './helpers/hostile.js';
import { startTestServer } from './helpers/server.js';

declare const document: any;

const skip = browserSkip();

t.test("the dashboard lists each feature's missing, invalid and unseen shares", { skip }, async (t) => {
  const srv = await startTestServer({ WINDOW_ROWS: '100', DRIFT_PUSH_MS: '100' });
  t.teardown(() => srv.close());
  const browser = await launch();
  t.teardown(() => browser.close());
  const page = await browser.newPage();
  await page.goto(`${srv.url}/`);
  await page.waitForSelector('[data-testid=connection][data-state=live]', { timeout: 10_000 });

  // 100 rows: 10 blank ages, 4 credit limits that are no number (rows 8, 38, 68, 98).
  const cells = VALID_ROW.split(',');
  const row = (j: number, v: string): string => cells.map((c, k) => (k === j ? v : c)).join(',');
  const lines = [FEATURE_HEADER];
  for (let i = 0; i < 100; i++) lines.push(i % 10 === 4 ? row(1, '') : i % 30 === 8 ? row(0, 'n/a') : VALID_ROW);
  const r = await fetch(`${srv.url}/predict`, { method: 'POST', body: `${lines.join('\n')}\n`, headers: { 'content-type': 'text/csv' } });
  t.equal(r.status, 200);
  await r.text();

  await page.waitForFunction(
    () => document.querySelector('[data-testid=data-quality] tr[data-feature=age] [data-kind=missing]')?.textContent === '10.0%',
    undefined,
    { timeout: 10_000 },
  );
  const cellsOf = (feature: string): Promise<string[]> =>
    page.$$eval(`[data-testid=data-quality] tr[data-feature=${feature}] td`, (tds) => tds.map((td) => td.textContent ?? ''));
  t.same(await cellsOf('age'), ['age', '10.0%', '0.0%', '—'], 'age: 10 % missing, no unseen share for a number');
  t.same(await cellsOf('credit_limit'), ['credit_limit', '0.0%', '4.0%', '—']);
  t.equal(await page.getAttribute('[data-testid=data-quality] tr[data-feature=age]', 'data-state'), 'bad', 'above 5 %: marked');
  t.equal(await page.getAttribute('[data-testid=data-quality] tr[data-feature=credit_limit]', 'data-state'), 'some');
  t.equal(await page.getAttribute('[data-testid=data-quality] tr[data-feature=pay_amt_aug]', 'data-state'), 'ok');
  t.equal(await page.$$eval('[data-testid=data-quality] tbody tr', (trs) => trs.length), 8, 'one row per feature');
  t.match(await page.innerText('[data-testid=data-quality] caption'), /last 100 rows received/);
  await (await page.$('section[x-data=modelQuality]'))?.screenshot({ path: screenshotPath('dashboard-data-quality.png') });
  t.same(browser.problems, [], 'no console errors or Alpine warnings');
  t.same(browser.external, [], 'nothing fetched from outside this machine');
});
