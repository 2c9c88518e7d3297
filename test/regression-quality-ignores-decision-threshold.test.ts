// The live quality metrics (accuracy, precision, recall, F1) and the concept-drift detector
// scored labelled rows with a threshold of their own (0.5 unless told otherwise, and start-up
// never told them), while every response decided with the card's decision_threshold: with a
// card at another threshold, /api/drift reported the accuracy of decisions nobody was sent.
// Every writer now calls the card's rules (src/model/card.ts); this pins them to agree.
import t from 'tap';
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sampleCsv } from './helpers/fixtures.js';
import { BUNDLED_MODEL, startTestServer, type TestServer } from './helpers/server.js';

const skip = existsSync(path.join(BUNDLED_MODEL, 'model.onnx')) ? false : 'the bundled model is not built (models/credit-default/v1)';

// Far from the default 0.5, with labels and risk cut-offs unlike the bundled card's, so that a
// writer reading any rule of its own shows.
const THRESHOLD = 0.15;
const RISK = { high: 0.4, medium: 0.1 };
const LABELS = ['repaid', 'defaulted'] as const;
const ROWS = 400;

let srv: TestServer;
t.before(async () => {
  if (skip !== false) return;
  const modelDir = mkdtempSync(path.join(os.tmpdir(), 'dl-card-'));
  cpSync(BUNDLED_MODEL, modelDir, { recursive: true });
  const cardFile = path.join(modelDir, 'card.json');
  const card = JSON.parse(readFileSync(cardFile, 'utf8')) as Record<string, unknown>;
  writeFileSync(cardFile, JSON.stringify({ ...card, decision_threshold: THRESHOLD, risk_levels: RISK, labels: LABELS }));
  srv = await startTestServer({ MODEL_DIR: modelDir, DRIFT_HISTORY_MS: '100' });
});
t.teardown(async () => srv?.close());

interface Result {
  row: number;
  probability: number;
  prediction: string;
  risk_level: string;
}

/** sampleCsv's rows, every one labelled 1 (defaulted): accuracy is then the share decided 1. */
function labelledCsv(): string {
  const lines = sampleCsv(ROWS, { seed: 11 }).trimEnd().split('\n');
  return `${lines.map((l, i) => `${l},${i === 0 ? 'target' : '1'}`).join('\n')}\n`;
}

const expectedRisk = (p: number): string => (p >= RISK.high ? 'High' : p >= RISK.medium ? 'Medium' : 'Low');

t.test('rolling quality uses the card’s decision threshold, not 0.5', { skip }, async (t) => {
  const r = await fetch(`${srv.url}/predict`, { method: 'POST', body: labelledCsv(), headers: { 'content-type': 'text/csv' } });
  t.equal(r.status, 200);
  const body = (await r.json()) as { n_rows: number; results: Result[] };
  t.equal(body.n_rows, ROWS);
  const between = body.results.filter((x) => x.probability >= THRESHOLD && x.probability < 0.5).length;
  // Without rows between the two thresholds this test could not tell them apart.
  t.ok(between > 0, `${between} rows have THRESHOLD ≤ p < 0.5`);

  const positive = body.results.filter((x) => x.prediction === LABELS[1]).length;
  t.equal(positive, body.results.filter((x) => x.probability >= THRESHOLD).length, 'the response decides with the card’s threshold');

  const drift = (await (await fetch(`${srv.url}/api/drift`)).json()) as {
    performance: { n_labelled: number; accuracy: number; recall: number };
  };
  t.equal(drift.performance.n_labelled, ROWS);
  // All targets are 1: accuracy and recall are the share of rows the responses called positive.
  t.equal(drift.performance.accuracy, positive / ROWS, 'accuracy of the decisions that were sent');
  t.equal(drift.performance.recall, positive / ROWS);
});

t.test('every writer reads a prediction with the card’s rules', { skip }, async (t) => {
  const csv = sampleCsv(50, { seed: 5 });
  const json = (await (
    await fetch(`${srv.url}/predict`, { method: 'POST', body: csv, headers: { 'content-type': 'text/csv' } })
  ).json()) as { request_id: string; results: Result[] };
  const byRule = (xs: Result[]): string[] => xs.map((x) => `${LABELS[x.probability >= THRESHOLD ? 1 : 0]} ${expectedRisk(x.probability)}`);
  t.same(
    json.results.map((x) => `${x.prediction} ${x.risk_level}`),
    byRule(json.results),
    'JSON',
  );
  const brief = (x: Result): string => `${x.row} ${x.probability} ${x.prediction} ${x.risk_level}`;

  const nd = await (
    await fetch(`${srv.url}/predict`, {
      method: 'POST',
      body: csv,
      headers: { 'content-type': 'text/csv', accept: 'application/x-ndjson' },
    })
  ).text();
  const ndRows = nd
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Result & { summary?: unknown })
    .filter((x) => x.summary === undefined);
  t.same(
    ndRows.map((x) => `${x.prediction} ${x.risk_level}`),
    json.results.map((x) => `${x.prediction} ${x.risk_level}`),
    'NDJSON',
  );

  const csvOut = await (
    await fetch(`${srv.url}/predict`, { method: 'POST', body: csv, headers: { 'content-type': 'text/csv', accept: 'text/csv' } })
  ).text();
  const csvRows = csvOut
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.split(',').slice(-2).join(' '));
  t.same(
    csvRows,
    json.results.map((x) => `${x.prediction} ${x.risk_level}`),
    'CSV',
  );

  // The dashboard reads the log (decision and risk as logged, labels from the card).
  const dash = (await (await fetch(`${srv.url}/dashboard/data`)).json()) as { data: { results: (Result & { request_id: string })[] } };
  const logged = dash.data.results
    .filter((x) => x.request_id !== json.request_id)
    .slice(0, 50)
    .reverse();
  t.same(logged.map(brief), json.results.map(brief), 'the dashboard’s last predictions, from the log');

  // The report file is rewritten every DRIFT_HISTORY_MS once the window changed.
  const report = path.join(srv.dataDir, 'reports', 'drift_report.json');
  const deadline = Date.now() + 10_000;
  let fromReport: Result[] = [];
  while (Date.now() < deadline) {
    if (existsSync(report)) {
      fromReport = (JSON.parse(readFileSync(report, 'utf8')) as { results: Result[] }).results;
      if (fromReport.length >= 50 && fromReport.every((x) => Object.keys(x).length === 4)) break;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  t.ok(fromReport.length > 0, 'the report was written');
  t.same(
    fromReport.map((x) => `${x.prediction} ${x.risk_level}`),
    byRule(fromReport),
    'the report file',
  );
});
