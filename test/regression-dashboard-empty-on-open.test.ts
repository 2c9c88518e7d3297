// Regression: a dashboard opened after an upload showed an empty "Recent predictions" table and
// no risk split, although the window held the rows; both filled only when new traffic arrived.
// They now come with the WebSocket hello, from the prediction log.
import t from 'tap';
import { browserSkip, launch, type Watched } from './helpers/browser.js';
import { sampleCsv } from './helpers/fixtures.js';
import { startTestServer, type TestServer } from './helpers/server.js';

// page.evaluate callbacks run in the browser; the project compiles without the DOM lib.
declare const document: any;

const skip = browserSkip();
const ROWS = 300;
let srv: TestServer | undefined;
let browser: Watched | undefined;

t.teardown(async () => {
  await browser?.close();
  await srv?.close();
});

t.test('a page opened after an upload, with no traffic after, shows the last 100 predictions and their risk split', { skip }, async (t) => {
  srv = await startTestServer();
  const res = await fetch(`${srv.url}/predict`, {
    method: 'POST',
    headers: { 'content-type': 'text/csv', accept: 'application/json' },
    body: sampleCsv(ROWS, { seed: 7 }),
  });
  const scored = (await res.json()) as {
    n_rows: number;
    request_id: string;
    results: { row: number; probability: number; prediction: string; risk_level: string }[];
  };
  t.equal(scored.n_rows, ROWS, 'the upload was scored');

  browser = await launch();
  const page = await browser.newPage();
  // Count pushes after the hello: none may arrive, so what the table shows came on open.
  const pushed: string[] = [];
  page.on('websocket', (ws) =>
    ws.on('framereceived', (f) => {
      const type = /"type":"(\w+)"/.exec(String(f.payload))?.[1];
      if (type === 'predictions') pushed.push(type);
    }),
  );
  await page.goto(`${srv.url}/`);
  await page.waitForSelector('[data-testid=connection][data-state=live]', { timeout: 10_000 });
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=recent] tbody tr').length === 100, undefined, { timeout: 5000 });
  t.equal(await page.$$eval('[data-testid=recent] tbody tr', (trs) => trs.length), 100, '100 rows in the table');

  const cells = await page.$$eval('[data-testid=recent] tbody tr', (trs) =>
    trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')),
  );
  t.same(
    cells.map((c) => Number(c[2])),
    Array.from({ length: 100 }, (_, i) => ROWS - 1 - i),
    'newest first: rows 299 down to 200 of the upload',
  );
  t.ok(
    cells.every((c) => scored.request_id.startsWith(c[1]!)),
    "each row names the upload's request",
  );
  const byRow = new Map(scored.results.map((r) => [r.row, r]));
  t.same(
    cells.map((c) => [c[3], c[4], c[5]]),
    cells.map((c) => {
      const r = byRow.get(Number(c[2]))!;
      return [r.probability.toFixed(3), r.prediction, r.risk_level];
    }),
    'probability, prediction and risk match what /predict answered for the same rows',
  );
  t.equal(cells[0]!.length, 6 + 8, 'time, request, row, probability, prediction, risk and the 8 features, as live rows have');
  t.equal(await page.isVisible('[data-testid=recent] ~ p.empty'), false, 'no "Waiting for predictions…"');

  await page.waitForSelector('[data-testid=risk-split]', { state: 'visible', timeout: 5000 });
  const shares = await page.$$eval('[data-risk]', (els) =>
    Object.fromEntries(els.map((e) => [e.getAttribute('data-risk'), e.querySelector('b')?.textContent ?? ''])),
  );
  const want: Record<string, number> = { Low: 0, Medium: 0, High: 0 };
  for (let r = ROWS - 100; r < ROWS; r++) want[byRow.get(r)!.risk_level]! += 1;
  t.same(Object.keys(shares).sort(), ['High', 'Low', 'Medium'], 'the risk legend lists the three levels');
  t.match(
    (await page.textContent('h3:has(+ [data-testid=risk-split])')) ?? '',
    /last 100 predictions/,
    'the split counts the 100 rows sent on open',
  );
  t.same(
    shares,
    Object.fromEntries(Object.entries(want).map(([k, n]) => [k, `${n}%`])),
    `the shares of the 100 rows /predict answered (${JSON.stringify(want)})`,
  );
  t.same(pushed, [], 'no predictions were pushed: the rows came with the hello');

  // Live rows then join those from the hello, newest first, with none shown twice.
  const next = (await (
    await fetch(`${srv.url}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'text/csv', accept: 'application/json' },
      body: sampleCsv(30, { seed: 8 }),
    })
  ).json()) as { request_id: string };
  await page.waitForFunction(
    (id) =>
      document.querySelector('[data-testid=recent] tbody tr:first-child td:nth-child(3)')?.textContent === '29' &&
      id.startsWith(document.querySelector('[data-testid=recent] tbody tr:first-child td:nth-child(2)')?.textContent),
    next.request_id,
    { timeout: 5000 },
  );
  const after = await page.$$eval('[data-testid=recent] tbody tr', (trs) =>
    trs.map((tr) => `${tr.children[1]?.getAttribute('title')}#${tr.children[2]?.textContent}`),
  );
  t.equal(after.length, 100, 'still 100 rows');
  t.equal(new Set(after).size, 100, 'no row twice');
  t.same(
    after.slice(30, 32),
    [`${scored.request_id}#299`, `${scored.request_id}#298`],
    'the 30 new rows above the newest of the first upload',
  );
  t.same(browser.problems, [], 'no console errors');
});
