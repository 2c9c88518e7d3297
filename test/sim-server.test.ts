// The simulator against the real service: its rows are all accepted, a drift scenario shows in
// the drift snapshot within one window, and SIMULATE_TRAFFIC feeds the service by itself.
import path from 'node:path';
import { Writable } from 'node:stream';
import t from 'tap';
import { simulate } from '../src/cli/simulate.js';
import { readProfile, type DriftSnapshot } from '../src/drift/index.js';
import { readModelCard } from '../src/model/index.js';
import { postCsv, predictUrl, runTraffic, TrafficGenerator } from '../src/sim/index.js';
import { selfUrl } from '../src/server/simulate.js';
import { BUNDLED_MODEL, startTestServer } from './helpers/server.js';

const profile = readProfile(path.join(BUNDLED_MODEL, 'reference.json'));
const card = readModelCard(path.join(BUNDLED_MODEL, 'card.json'));

const driftedNames = (s: DriftSnapshot): string =>
  Object.entries(s.features)
    .filter(([, f]) => f.drift)
    .map(([n]) => n)
    .join(', ') || 'none';

async function drift(url: string): Promise<DriftSnapshot> {
  const res = await fetch(`${url}/api/drift`);
  return (await res.json()) as DriftSnapshot;
}

t.test('simulated rows are all accepted, and age+8 drifts age within one window', async (t) => {
  const srv = await startTestServer({ WINDOW_ROWS: '1000' });
  t.teardown(() => srv.close());
  const url = predictUrl(srv.url);
  // Enough requests of 1–5 rows (the daemon's sizes) to fill the window, with no pauses.
  const send = (gen: TrafficGenerator) =>
    runTraffic({ generator: gen, rowsPerRequest: [1, 5], intervalMs: [0, 0], maxRequests: 400, send: (csv) => postCsv(url, csv) });

  const clean = await send(new TrafficGenerator(profile, card, { seed: 21 }));
  t.equal(clean.failures, 0, 'every request answered 200');
  t.equal(clean.rows_rejected, 0, 'no row rejected');
  t.equal(clean.rows_predicted, clean.rows_sent);
  t.ok(clean.rows_sent >= 1000, `${clean.rows_sent} rows fill the 1000-row window`);
  let snap = await drift(srv.url);
  t.equal(snap.window_rows, 1000);
  // Per-feature false alarms are pinned on 5000 rows in sim-generator.test.ts; in a 1000-row
  // window one draw from a heavy tail (pay_amt_aug reaches 1.7M) can move a Wasserstein score.
  t.notOk(snap.features.age!.drift, 'age does not drift on reference-like rows');
  t.notOk(snap.dataset.drift, `no dataset drift (drifted: ${driftedNames(snap)})`);

  const drifted = await send(new TrafficGenerator(profile, card, { seed: 22, drift: 'age+8' }));
  t.equal(drifted.failures, 0);
  t.equal(drifted.rows_rejected, 0, 'drifted rows still pass validation');
  snap = await drift(srv.url);
  t.equal(snap.window_rows, 1000);
  const age = snap.features.age!;
  t.ok(age.drift, `age drifted: ${age.test} ${age.score} ≥ ${age.threshold}`);
  t.ok(age.quantiles.current!.mean - age.quantiles.reference.mean > 7, "the window's mean age moved by about 8 years");
  t.notOk(snap.dataset.drift, `one feature of eight is no dataset drift (drifted: ${driftedNames(snap)})`);
});

t.test('driftline simulate sends its requests and reports what came back', async (t) => {
  const srv = await startTestServer();
  t.teardown(() => srv.close());
  let out = '';
  let err = '';
  const sink = (f: (s: string) => void) => new Writable({ write: (c: Buffer, _e, cb) => (f(c.toString()), cb()) });
  const totals = await simulate(
    { url: srv.url, rowsPerRequest: '3', interval: '0', requests: '4', seed: '5', drift: 'credit_limit*1.5', model: BUNDLED_MODEL },
    { stdout: sink((s) => (out += s)), stderr: sink((s) => (err += s)) },
  );
  t.same(totals, { requests: 4, rows_sent: 12, rows_predicted: 12, rows_rejected: 0, failures: 0 });
  t.equal(out.trim().split('\n').length, 4, 'a line per request');
  t.match(out, /#4 3 rows → 200: 3 predicted, 0 rejected/);
  t.match(err, /drift credit_limit\*1\.5, seed 5/);
  t.equal((await drift(srv.url)).window_rows, 12);
});

t.test('a wrong API key is a failed request, not a crash; the right one is accepted', async (t) => {
  const srv = await startTestServer({ API_KEY: 'sesame' });
  t.teardown(() => srv.close());
  const gen = new TrafficGenerator(profile, card, { seed: 1 });
  const url = predictUrl(srv.url);
  const bad = await postCsv(url, gen.csv(2), { apiKey: 'wrong' });
  t.equal(bad.status, 401);
  t.equal(bad.n_rows, 0);
  const good = await postCsv(url, gen.csv(2), { apiKey: 'sesame' });
  t.same(good, { status: 200, n_rows: 2, n_rejected: 0 });
  const refused = await runTraffic({
    generator: gen,
    rowsPerRequest: [1, 1],
    intervalMs: [0, 0],
    maxRequests: 2,
    send: (csv) => postCsv(new URL('http://127.0.0.1:9/predict'), csv, { timeoutMs: 2000 }),
  });
  t.same([refused.requests, refused.failures], [2, 2], 'nothing listening: counted as failures');
});

t.test('SIMULATE_TRAFFIC=1: the service feeds itself (through auth), and shutdown cuts the pause short', async (t) => {
  const srv = await startTestServer({ SIMULATE_TRAFFIC: '1', API_KEY: 'sesame', SIMULATE_DRIFT: 'age+8' });
  let closed = false;
  t.teardown(() => (closed ? undefined : srv.close()));
  // The first request goes out as soon as the service is ready.
  const deadline = Date.now() + 10_000;
  let snap = await drift(srv.url);
  while (snap.window_rows === 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    snap = await drift(srv.url);
  }
  t.ok(snap.window_rows >= 1 && snap.window_rows <= 5, `${snap.window_rows} simulated rows arrived`);
  t.ok(snap.features.age!.quantiles.current!.mean >= 21 + 8, 'the rows carry SIMULATE_DRIFT (every age ≥ the reference minimum + 8)');
  const t0 = Date.now();
  await srv.close();
  closed = true;
  t.ok(Date.now() - t0 < 2000, `shutdown took ${Date.now() - t0} ms, not the rest of a 2–8 s pause`);
});

t.test('a bad SIMULATE_DRIFT stops start-up with the reason', async (t) => {
  await t.rejects(startTestServer({ SIMULATE_TRAFFIC: '1', SIMULATE_DRIFT: 'height+3' }), {
    code: 'DL_ERR_CONFIG',
    message: /Not a drift scenario: "height\+3"/,
  });
});

t.test('the service reaches itself over loopback when it listens on a wildcard', async (t) => {
  t.equal(selfUrl('0.0.0.0', 7860).href, 'http://127.0.0.1:7860/predict');
  t.equal(selfUrl('::', 7860).href, 'http://[::1]:7860/predict');
  t.equal(selfUrl('127.0.0.1', 8000).href, 'http://127.0.0.1:8000/predict');
  t.equal(selfUrl('fe80::1', 1).href, 'http://[fe80::1]:1/predict');
  t.equal(predictUrl('http://h:1').href, 'http://h:1/predict');
  t.equal(predictUrl('http://h:1/base/').href, 'http://h:1/base/predict');
  t.equal(predictUrl('http://h:1/predict').href, 'http://h:1/predict');
});
