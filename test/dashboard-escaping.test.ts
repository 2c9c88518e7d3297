// Text from data (CSV headers and cells, feature and model names, alert texts) reaches the page
// as text: no dialog, no element built from it, and the literal characters are visible.
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import type { Page } from 'playwright-core';
import { browserSkip, launch, screenshotPath, type Watched } from './helpers/browser.js';
import { BUNDLED_MODEL, startTestServer, type TestServer } from './helpers/server.js';
import { FEATURES, sampleCsv } from './helpers/fixtures.js';

// page.evaluate callbacks run in the browser, but the project compiles without the DOM lib
// (it would retype setTimeout & co. for src/): the browser globals they touch, loosely.
declare const document: any;
declare const window: any;
declare const MutationObserver: any;
declare const Element: any;

const skip = browserSkip();
const EVIL = '<img src=x onerror=alert(1)>';
const EVIL_CELL = '<img src=y onerror=alert(2)>';
const tmp = mkdtempSync(path.join(os.tmpdir(), 'dl-esc-'));

let browser: Watched;

t.before(async () => {
  if (skip !== false) return;
  browser = await launch();
  // Records every active element added after the page's own markup, even one removed at once.
  await browser.context.addInitScript(() => {
    const seen: string[] = [];
    (window as unknown as { __injected: string[] }).__injected = seen;
    type El = { tagName: string; outerHTML: string; hasAttribute(a: string): boolean; querySelectorAll(s: string): El[] };
    new MutationObserver((muts: { addedNodes: unknown[] }[]) => {
      // The parser building the page's own markup is not what this watches for.
      if (document.readyState === 'loading') return;
      for (const m of muts) {
        for (const n of m.addedNodes) {
          if (!(n instanceof Element)) continue;
          const added = n as El;
          for (const el of [added, ...added.querySelectorAll('*')]) {
            if (/^(img|script|iframe|object|embed)$/i.test(el.tagName) || el.hasAttribute('onerror') || el.hasAttribute('onload'))
              seen.push(el.outerHTML.slice(0, 200));
          }
        }
      }
    }).observe(document, { childList: true, subtree: true });
  });
});

t.teardown(async () => {
  await browser?.close();
  rmSync(tmp, { recursive: true, force: true });
});

const injected = (page: Page): Promise<string[]> => page.evaluate(() => (window as unknown as { __injected: string[] }).__injected);

/** Visible elements whose own text is exactly `text`. */
async function visibleExact(page: Page, scope: string, text: string): Promise<number> {
  const loc = page.locator(scope).getByText(text, { exact: true });
  let n = 0;
  for (const el of await loc.all()) if (await el.isVisible()) n++;
  return n;
}

t.test('a CSV header and cells with markup are shown as text', { skip }, async (t) => {
  const srv: TestServer = await startTestServer();
  t.teardown(() => srv.close());
  const page = await browser.newPage();
  t.teardown(() => page.close());
  await page.goto(`${srv.url}/`);
  await page.waitForSelector('[data-testid=connection][data-state=live]');

  const [head, ...rows] = sampleCsv(20).trimEnd().split('\n');
  const csv = `${head},${EVIL}\n${rows.map((r, i) => `${r},${i === 0 ? EVIL_CELL : '<b>bold</b>'}`).join('\n')}\n`;
  const file = path.join(tmp, 'evil-header.csv');
  writeFileSync(file, csv);
  await page.setInputFiles('[data-testid=upload-input]', file);
  await page.waitForSelector('[data-testid=upload-message][data-stage=done]');

  t.ok((await visibleExact(page, '[data-testid=upload-columns]', EVIL)) >= 1, 'the column name is listed as literal text');
  t.equal(await visibleExact(page, '[data-testid=upload-preview] thead', EVIL), 1, 'the preview header shows it as text');
  t.equal(await visibleExact(page, '[data-testid=upload-preview] tbody', EVIL_CELL), 1, 'a cell with markup is shown as text');
  t.ok((await visibleExact(page, '[data-testid=upload-preview] tbody', '<b>bold</b>')) >= 1, 'tags are not interpreted');
  t.equal(await page.locator('[data-testid=upload-preview] b').count(), 0, 'no <b> element made from a cell');
  await page.waitForTimeout(300); // an onerror handler would have fired by now
  t.same(browser.dialogs, [], 'no dialog fired');
  t.same(await injected(page), [], 'no img (or other active element) was ever created');
  t.equal(await page.evaluate(() => document.images.length), 0);
});

t.test('feature names, the model name and alert texts with markup are shown as text', { skip }, async (t) => {
  // The bundled model under hostile names: only card.json and reference.json change.
  const dir = mkdtempSync(path.join(tmp, 'model-'));
  copyFileSync(path.join(BUNDLED_MODEL, 'model.onnx'), path.join(dir, 'model.onnx'));
  const card = JSON.parse(readFileSync(path.join(BUNDLED_MODEL, 'card.json'), 'utf8')) as {
    name: string;
    description: string;
    features: { name: string }[];
  };
  const profile = JSON.parse(readFileSync(path.join(BUNDLED_MODEL, 'reference.json'), 'utf8')) as { features: { name: string }[] };
  const at = card.features.findIndex((f) => f.name === 'age');
  card.features[at]!.name = EVIL;
  profile.features[at]!.name = EVIL;
  card.name = '<svg onload=alert(3)>model';
  card.description = '<img src=z onerror=alert(4)> description';
  writeFileSync(path.join(dir, 'card.json'), JSON.stringify(card));
  writeFileSync(path.join(dir, 'reference.json'), JSON.stringify(profile));

  const srv: TestServer = await startTestServer({ MODEL_DIR: dir });
  t.teardown(() => srv.close());
  const page = await browser.newPage();
  t.teardown(() => page.close());
  await page.goto(`${srv.url}/`);
  await page.waitForSelector('[data-testid=connection][data-state=live]');

  const names = FEATURES.map((f) => (f === 'age' ? EVIL : f));
  const csv = sampleCsv(300).replace(/^[^\n]*/, names.join(','));
  const file = path.join(tmp, 'evil-feature.csv');
  writeFileSync(file, csv);
  await page.setInputFiles('[data-testid=upload-input]', file);
  await page.waitForSelector('[data-testid=upload-message][data-stage=done]');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=recent] tbody tr').length > 0);

  t.equal(await page.textContent('[data-testid=model-name]'), card.name, 'the model name is text');
  t.equal(await visibleExact(page, '[data-testid=drift-table] tbody', EVIL), 1, 'the drift table shows the feature name as text');
  t.equal(await visibleExact(page, '[data-testid=recent] thead', EVIL), 1, 'the predictions table header shows it as text');

  await page.click(`[data-testid=drift-table] tr[data-feature="${EVIL}"]`);
  t.equal(await page.textContent('[data-testid=dist-feature]'), EVIL, 'the distribution title shows it as text');

  // ECharts renders tooltip formatter output as HTML: show the tip for that bar and read it back.
  const tip = await page.evaluate(async (i) => {
    const echarts = (await import('/vendor/echarts.js' as string)) as {
      getInstanceByDom(el: unknown): { dispatchAction(a: object): void } | undefined;
    };
    echarts
      .getInstanceByDom(document.querySelector('[data-testid=drift-chart]')!)!
      .dispatchAction({ type: 'showTip', seriesIndex: 0, dataIndex: i });
    await new Promise((r) => setTimeout(r, 200));
    const el = (
      [...document.querySelectorAll('.dl-tooltip')] as {
        style: { display: string };
        textContent: string | null;
        querySelectorAll(s: string): { tagName: string }[];
      }[]
    ).find((e) => e.style.display !== 'none');
    return el === undefined
      ? null
      : { text: el.textContent ?? '', elements: [...el.querySelectorAll('*')].map((e) => e.tagName.toLowerCase()) };
  }, at);
  t.ok(tip !== null, 'the drift chart shows a tooltip');
  t.ok(tip?.text.includes(EVIL), 'the tooltip shows the feature name as text');
  t.notOk(tip?.elements.includes('img'), 'the tooltip holds no img');

  const alert = {
    id: 'evil-1',
    rule: '<i>rule</i>',
    title: '<img src=w onerror=alert(5)>',
    severity: 'critical',
    status: 'firing',
    message: '<script>alert(6)</script> drifted',
    value: 1,
    threshold: 0.5,
    values: {},
    model: { name: card.name, version: '1' },
    at: new Date().toISOString(),
  };
  srv.service.state.hub.publish('alerts', alert);
  await page.waitForSelector('[data-testid=alerts] li[data-severity=critical]');
  t.equal(await visibleExact(page, '[data-testid=alerts]', alert.title), 1, 'the alert title is text');
  t.equal(await visibleExact(page, '[data-testid=alerts]', alert.message), 1, 'the alert message is text');

  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: screenshotPath('dashboard-escaping.png'), fullPage: true });
  await page.waitForTimeout(300);
  t.same(browser.dialogs, [], 'no dialog fired');
  t.same(await injected(page), [], 'no img, script or handler attribute was ever created');
  t.same(browser.problems, [], 'no console errors');
  t.same(browser.external, [], 'no request leaves localhost');
});
