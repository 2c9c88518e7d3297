// The dashboard's live connection: jittered capped backoff, a stalled link shown as such, and a
// dropped one retried until the server accepts again, then a fresh hello and live pushes.
import t from 'tap';
import { browserSkip, launch, type Watched } from './helpers/browser.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { sampleCsv } from './helpers/fixtures.js';

// page.evaluate callbacks run in the browser, but the project compiles without the DOM lib
// (it would retype setTimeout & co. for src/): the browser globals they touch, loosely.
declare const document: any;
declare const window: any;

const skip = browserSkip();
let srv: TestServer | undefined;
let browser: Watched;

t.before(async () => {
  if (skip !== false) return;
  srv = await startTestServer();
  browser = await launch();
});

t.teardown(async () => {
  await browser?.close();
  await srv?.close();
});

interface LiveState {
  state: string;
  attempt: number;
}

t.test('backoff delays are jittered, grow exponentially and are capped', { skip }, async (t) => {
  const page = await browser.newPage();
  t.teardown(() => page.close());
  await page.goto(`${srv!.url}/`);
  const d = await page.evaluate(async () => {
    const { backoffDelay, BACKOFF } = (await import('/js/live.js' as string)) as {
      backoffDelay(n: number, r: () => number): number;
      BACKOFF: { capMs: number };
    };
    const lo = (n: number) => backoffDelay(n, () => 0);
    const hi = (n: number) => backoffDelay(n, () => 1);
    return { lo: [1, 2, 3, 4].map(lo), hi: [1, 2, 3, 4].map(hi), far: [lo(30), hi(30)], cap: BACKOFF.capMs };
  });
  t.same(d.lo, [250, 500, 1000, 2000], 'the floor doubles with each attempt');
  t.same(d.hi, [500, 1000, 2000, 4000], 'the random half at most doubles it');
  t.same(d.far, [d.cap / 2, d.cap], 'capped however many attempts failed');
});

t.test('a quiet link shows as stalled; a dropped one backs off while refused and comes back', { skip }, async (t) => {
  const page = await browser.newPage();
  t.teardown(() => page.close());
  // The socket goes through the test: `down` refuses new connections (as a restarting server
  // does), `mute` drops the server's messages while the connection stays open.
  let down = false;
  let mute = false;
  await page.routeWebSocket(/\/ws(\?|$)/, (ws) => {
    if (down) {
      ws.close({ code: 1013, reason: 'try again later' });
      return;
    }
    const server = ws.connectToServer();
    server.onMessage((m) => {
      if (!mute) ws.send(m);
    });
  });
  const hellos = (): Promise<number> => page.evaluate(() => (window as unknown as { driftline: { hellos(): number } }).driftline.hellos());
  const state = (): Promise<LiveState> =>
    page.evaluate(() => (window as unknown as { driftline: { live: { state: LiveState } } }).driftline.live.state);

  await page.goto(`${srv!.url}/`);
  await page.waitForSelector('[data-testid=connection][data-state=live]');
  t.equal(await hellos(), 1);

  mute = true;
  await page.waitForSelector('[data-testid=connection][data-state=stale]', { timeout: 6000 });
  t.match(await page.textContent('[data-testid=connection]'), /Stalled/, 'no stats for 3 s reads as stalled');
  mute = false;
  await page.waitForSelector('[data-testid=connection][data-state=live]', { timeout: 3000 });
  t.equal(await hellos(), 1, 'the same connection recovered: no reconnect');

  down = true;
  srv!.service.state.hub.closeAll(1012, 'restarting');
  await page.waitForSelector('[data-testid=connection][data-state=reconnecting]', { timeout: 3000 });
  t.match(await page.textContent('[data-testid=connection]'), /Reconnecting/, 'the header says so');
  await page.waitForFunction(
    () => (window as unknown as { driftline: { live: { state: LiveState } } }).driftline.live.state.attempt >= 3,
    undefined,
    { timeout: 8000 },
  );
  t.ok((await state()).attempt >= 3, 'it keeps retrying, further apart, while refused');

  down = false;
  // The next attempt may be a whole backoff step away (≤ 8 s at the 5th attempt).
  await page.waitForSelector('[data-testid=connection][data-state=live]', { timeout: 20_000 });
  t.equal(await hellos(), 2, 'a fresh hello');
  t.equal((await state()).attempt, 0, 'the backoff starts over after a hello');

  const r = await fetch(`${srv!.url}/predict`, { method: 'POST', body: sampleCsv(300), headers: { 'content-type': 'text/csv' } });
  t.equal(r.status, 200);
  await r.text();
  await page.waitForFunction(() => document.querySelector('[data-testid=window-rows]')?.textContent?.startsWith('300 '), undefined, {
    timeout: 3000,
  });
  t.pass('pushes after the reconnect are rendered');
  t.same(browser.problems, [], 'no console errors');
  t.same(browser.external, [], 'no request leaves localhost');
});
