// The HTML report as a string: every value from data escaped, a CSP that names exactly the
// inline scripts and style the file holds, the summary's numbers; and GET /report.html.
import { createHash } from 'node:crypto';
import t from 'tap';
import { echartsSource, escapeHtml, renderReport } from '../src/report/index.js';
import { HOSTILE, hostileSnapshot } from './helpers/report.js';
import { startTestServer, TWO_ROWS } from './helpers/server.js';

const inline = (html: string, tag: 'script' | 'style'): string[] =>
  [...html.matchAll(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, 'g'))].map((m) => m[1]!);
const hash = (s: string): string => `'sha256-${createHash('sha256').update(s, 'utf8').digest('base64')}'`;

t.test('column names and sources are text, never markup', async (t) => {
  const snap = hostileSnapshot();
  const { html } = renderReport({
    snapshot: snap,
    model: { name: '<i>m</i>', version: '1"' },
    generatedAt: new Date(),
    sources: { reference: '<b>ref</b>', current: 'cur&' },
    echarts: echartsSource(),
  });
  for (const evil of [...HOSTILE.slice(0, 3), '<i>m</i>', '<b>ref</b>']) {
    t.notOk(html.includes(evil), `${JSON.stringify(evil)} does not appear raw`);
  }
  for (const evil of HOSTILE) t.ok(html.includes(escapeHtml(evil)), `${JSON.stringify(evil)} appears escaped`);
  t.equal(html.match(/<script/g)?.length, 3, 'only the three script elements the report writes');
  t.equal(html.match(/<\/script/gi)?.length, 3, 'nothing in the data closes a script element');
  // Escaped text holds no `<`, so every `<tag …>` left once script bodies are cut is real markup.
  const tags = html.replace(/(<script[^>]*>)[\s\S]*?<\/script>/g, '$1').match(/<[a-z][^>]*>/gi) ?? [];
  t.same(
    tags.filter((tag) => /\son[a-z]+\s*=/i.test(tag)),
    [],
    'no inline event handler attribute',
  );
  t.same(
    tags.filter((tag) => /\sstyle\s*=/i.test(tag)),
    [],
    'no style attribute (the CSP would block it)',
  );
  t.same(
    [...new Set(tags.map((tag) => /^<([a-z0-9]+)/i.exec(tag)![1]!.toLowerCase()))].filter((n) =>
      ['img', 'iframe', 'object', 'embed', 'b', 'i'].includes(n),
    ),
    [],
    'no element from data',
  );
  const data = JSON.parse(/<script type="application\/json" id="report-data">([\s\S]*?)<\/script>/.exec(html)![1]!) as {
    features: unknown[];
  };
  t.equal(data.features.length, HOSTILE.length, 'the chart data block parses back, one entry per feature');
});

t.test('the CSP allows exactly the inline scripts and style sheet in the file', async (t) => {
  const { html, csp } = renderReport({ snapshot: hostileSnapshot(), generatedAt: new Date(), echarts: echartsSource() });
  const scripts = inline(html, 'script');
  const styles = inline(html, 'style');
  t.equal(scripts.length, 2, 'ECharts and the chart script (the data block is not executable)');
  t.equal(styles.length, 1);
  const directives = new Map(
    csp
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .map(([k, ...v]) => [k!, v]),
  );
  t.same(directives.get('default-src'), ["'none'"]);
  t.same(directives.get('script-src'), scripts.map(hash));
  t.same(directives.get('style-src'), styles.map(hash));
  t.notOk(csp.includes('unsafe'), 'no unsafe-inline, no unsafe-eval');
  const meta = /<meta http-equiv="Content-Security-Policy" content="([^"]*)">/.exec(html)?.[1];
  t.equal(meta?.replace(/&#39;/g, "'"), csp, 'the <meta> carries the same policy');
  t.ok(html.indexOf('Content-Security-Policy') < html.indexOf('<script'), 'the policy comes before any script');
});

t.test("the summary and the table carry the snapshot's numbers", async (t) => {
  const snap = hostileSnapshot();
  const generatedAt = new Date('2026-02-03T04:05:06.000Z');
  const { html } = renderReport({ snapshot: snap, model: { name: 'credit-default', version: '7' }, generatedAt, echarts: echartsSource() });
  t.ok(snap.features[HOSTILE[0]!]!.drift, 'the shifted column drifted');
  t.equal(snap.dataset.n_drifted, 1);
  t.match(html, /<title>Data drift report — credit-default 7<\/title>/);
  t.match(html, `1 of ${HOSTILE.length} (share 0.25)`);
  t.match(html, 'Drift share threshold</dt><dd>0.5');
  t.match(html, 'Current rows</dt><dd>500');
  t.match(html, '2026-02-03T04:05:06.000Z');
  t.match(html, '2026-01-02T03:04:05.000Z');
  t.equal(html.match(/<tr class="drifted">/g)?.length, 1, 'one drifted row in the table');
  t.equal(html.match(/<span class="badge drift">Drift<\/span>/g)?.length, 2, 'its badge in the table and on its chart card');
  t.equal(html.match(/id="hist-\d+"/g)?.length, HOSTILE.length);
  t.equal(html.match(/id="quant-\d+"/g)?.length, HOSTILE.length);
});

t.test('an ECharts bundle that could end the script element is refused', async (t) => {
  t.throws(
    () => renderReport({ snapshot: hostileSnapshot(), generatedAt: new Date(), echarts: 'var s = "</script>";' }),
    /cannot be inlined/,
  );
});

t.test("GET /report.html: the live window, with its own CSP header instead of the dashboard's", async (t) => {
  const srv = await startTestServer();
  t.teardown(() => srv.close());
  const form = new FormData();
  form.append('file', new Blob([TWO_ROWS], { type: 'text/csv' }), 'two.csv');
  const scored = await fetch(`${srv.url}/predict`, { method: 'POST', body: form });
  t.equal(scored.status, 200);
  // The status comes with the first result; the window has every row once the body has ended.
  t.match(await scored.json(), { n_rows: 2, n_rejected: 0 });
  const res = await fetch(`${srv.url}/report.html`);
  t.equal(res.status, 200);
  t.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
  const html = await res.text();
  const csp = res.headers.get('content-security-policy') ?? '';
  t.equal(
    /<meta http-equiv="Content-Security-Policy" content="([^"]*)">/.exec(html)?.[1]?.replace(/&#39;/g, "'"),
    csp,
    'header and <meta> agree',
  );
  t.match(csp, /script-src 'sha256-/);
  t.equal(res.headers.get('x-content-type-options'), 'nosniff');
  t.match(html, 'Current rows</dt><dd>2<');
  t.match(html, 'credit-default 1');
  for (const f of ['credit_limit', 'age', 'pay_delay_sep', 'pay_delay_aug', 'bill_amt_sep', 'bill_amt_aug', 'pay_amt_sep', 'pay_amt_aug']) {
    t.match(html, `<th scope="row">${f}</th>`, `${f} in the table`);
  }
  t.match(html, 'the service&#39;s rolling window (2 of 5000 rows)');
});
