// The dashboard showed the CBPE estimate only as today's number in the Model quality panel:
// nothing showed estimated next to realized performance over time. The "Quality over time"
// chart draws the estimated F1 and ROC AUC with their band, the realized ones once labels
// arrive, and the card's validation values, from the drift history first, then live.
import t from 'tap';
import { browserSkip, launch, screenshotPath, type Watched } from './helpers/browser.js';
import { sampleCsv } from './helpers/fixtures.js';
import { startTestServer, type TestServer } from './helpers/server.js';

// page.evaluate callbacks run in the browser; the project compiles without the DOM lib.
declare const document: any;

const skip = browserSkip();
let srv: TestServer | undefined;
let browser: Watched | undefined;

t.teardown(async () => {
  await browser?.close();
  await srv?.close();
});

interface SeriesView {
  name: string;
  data: [number, number | null][];
  markLine: number[];
}

/** The quality chart's series as ECharts holds them. */
async function seriesOf(page: import('playwright-core').Page): Promise<SeriesView[]> {
  return page.evaluate(async () => {
    const echarts = (await import('/vendor/echarts.js' as string)) as {
      getInstanceByDom(
        el: unknown,
      ):
        | { getOption(): { series?: { name: string; data?: [number, number | null][]; markLine?: { data?: { yAxis: number }[] } }[] } }
        | undefined;
    };
    const el = document.querySelector('[data-testid=quality-timeline-chart]');
    const chart = el === null ? undefined : echarts.getInstanceByDom(el);
    return (chart?.getOption().series ?? []).map((s) => ({
      name: s.name,
      data: s.data ?? [],
      markLine: (s.markLine?.data ?? []).map((d) => d.yAxis),
    }));
  });
}

/**
 * Waits (up to 10 s) until the chart's series `name` has a numeric point. Polled from here: a
 * waitForFunction predicate must be synchronous, and reading the chart needs an import.
 */
async function untilSeries(page: import('playwright-core').Page, name: string): Promise<void> {
  const until = Date.now() + 10_000;
  while (Date.now() < until) {
    const s = (await seriesOf(page)).find((x) => x.name === name);
    if ((s?.data ?? []).some((d) => typeof d[1] === 'number')) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

const values = (s: SeriesView | undefined): number[] =>
  (s?.data ?? []).map((d) => d[1]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));

const post = async (url: string, csv: string): Promise<void> => {
  const r = await fetch(`${url}/predict`, {
    method: 'POST',
    headers: { 'content-type': 'text/csv', accept: 'application/json' },
    body: csv,
  });
  await r.arrayBuffer();
  if (!r.ok) throw new Error(`POST /predict answered ${r.status}`);
};

t.test(
  'Quality over time: estimated F1 and ROC AUC with their band from history, then realized once labels arrive',
  { skip },
  async (t) => {
    // History every 200 ms, so rows posted before the page opens are in GET /api/drift/history.
    srv = await startTestServer({ DRIFT_HISTORY_MS: '200' });
    // Two uploads over a second apart: two history points, where the hello carries one snapshot.
    await post(srv.url, sampleCsv(300, { seed: 11 }));
    await new Promise((r) => setTimeout(r, 1300));
    await post(srv.url, sampleCsv(300, { seed: 13 }));
    await new Promise((r) => setTimeout(r, 600));
    const history = (await (await fetch(`${srv.url}/api/drift/history?since=0`)).json()) as {
      points: { at: number; performance_estimate?: { f1: number | null } }[];
    };
    const withEstimate = history.points.filter((p) => typeof p.performance_estimate?.f1 === 'number');
    t.ok(withEstimate.length > 0, 'the history holds estimated points (the bundled model has a calibration map)');
    const opened = Date.now();

    browser = await launch();
    const page = await browser.newPage();
    await page.goto(`${srv.url}/`);
    await page.waitForSelector('[data-testid=connection][data-state=live]', { timeout: 10_000 });
    await page.waitForFunction(() => document.querySelector('[data-testid=quality-timeline-chart] canvas') !== null, undefined, {
      timeout: 5000,
    });
    await untilSeries(page, 'estimated F1');

    let series = await seriesOf(page);
    const byName = (n: string): SeriesView | undefined => series.find((s) => s.name === n);
    for (const m of ['F1', 'ROC AUC']) {
      const est = values(byName(`estimated ${m}`));
      t.ok(est.length > 0, `estimated ${m} has points`);
      t.ok(
        est.every((v) => v > 0 && v <= 1),
        `estimated ${m} lies in (0, 1]`,
      );
      const lo = values(byName(`${m} band low`));
      const width = values(byName(`${m} band`));
      t.ok(width.length > 0 && width.every((w) => w > 0), `the ${m} band is drawn with a positive width`);
      t.equal(lo.length, width.length, `the ${m} band has a lower edge for each width`);
      t.ok(
        lo.every((v, i) => v <= est[i]! && est[i]! <= v + width[i]!),
        `the ${m} band holds its estimate`,
      );
      t.same(values(byName(`realized ${m}`)), [], `no realized ${m} before any label`);
      t.equal(byName(`estimated ${m}`)?.markLine.length, 1, `the card's validation ${m} is a mark line`);
    }
    t.ok(
      byName('estimated F1')!.data.filter(([at]) => at < opened).length >= 2,
      'the points from before the page opened came from the history',
    );
    await page.screenshot({ path: screenshotPath('dashboard-quality-timeline.png'), fullPage: true });

    const estimated = await page.textContent('[data-metric=f1] [data-role=estimated]');
    t.match(estimated, /^estimated 0\.\d{3} \(0\.\d{3}–[01]\.\d{3}\)$/, 'the Model quality panel still shows the estimate with its band');

    // Labelled rows: the realized lines join the estimated ones, live.
    const [head, ...rows] = sampleCsv(400, { seed: 12 }).trimEnd().split('\n');
    await post(srv.url, `${head},target\n${rows.map((r, i) => `${r},${i % 4 === 0 ? 1 : 0}`).join('\n')}\n`);
    await untilSeries(page, 'realized F1');
    series = await seriesOf(page);
    for (const m of ['F1', 'ROC AUC']) {
      const real = values(byName(`realized ${m}`));
      t.ok(real.length > 0 && real.every((v) => v >= 0 && v <= 1), `realized ${m} appears once labels arrive`);
    }
    t.equal(await page.isVisible('[data-testid=quality-timeline-chart] ~ p.empty'), false, 'no "No estimate yet" note');
    t.same(browser.problems, [], 'no console errors');
    t.same(browser.external, [], 'no request leaves localhost');
  },
);
