import t from 'tap';
import Database from 'better-sqlite3';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { runPipeline } from '../src/pipeline/index.js';
import { LogReader, migrate, PredictionLog, schemaVersion, type AppendInput } from '../src/store/index.js';
import * as sql from '../src/store/log-sql.js';
import { collector, fakePredictor, sampleCsv, testCard } from './helpers/fixtures.js';

const tmpDb = (): string => path.join(mkdtempSync(path.join(os.tmpdir(), 'dl-log-')), 'driftline.db');
const open = (file: string, retentionRows = 1_000_000) =>
  PredictionLog.open({ file, retentionRows, decisionThreshold: 0.5, risk: { high: 0.75, medium: 0.5 } });

function batch(start: number, rows: number, requestId = 'r1'): AppendInput {
  const features = new Float32Array(rows * 2);
  const probabilities = new Float32Array(rows);
  const rowIndex = new Int32Array(rows);
  const targets = new Float64Array(rows).fill(Number.NaN);
  for (let i = 0; i < rows; i++) {
    features[i * 2] = start + i;
    features[i * 2 + 1] = -(start + i);
    probabilities[i] = ((start + i) % 100) / 100;
    rowIndex[i] = start + i;
  }
  return { ts: 1000 + start, requestId, modelVersion: 'v1', nFeatures: 2, rows, features, probabilities, rowIndex, targets, extIds: null };
}

t.test('append commits a batch; reads see it, with label, risk and features', async (t) => {
  const file = tmpDb();
  const log = await open(file);
  t.teardown(() => log.close());
  const r = await log.append({ ...batch(0, 3), extIds: ['a', null, 'c'], targets: new Float64Array([1, Number.NaN, 0]) });
  t.same(r, { first: 1, count: 3 });
  t.equal(log.count(), 3);
  const rows = log.recent(10);
  t.same(
    rows.map((x) => x.row),
    [2, 1, 0],
    'newest first',
  );
  t.match(rows[2], { request_id: 'r1', model_version: 'v1', probability: 0, prediction: 0, risk_level: 'Low', target: 1, ext_id: 'a' });
  t.same(rows[2]!.features, [0, -0]);
  t.equal(rows[1]!.target, null);
  const tail = log.tail(2);
  t.same(
    tail.map((x) => Array.from(x.features)),
    [
      [1, -1],
      [2, -2],
    ],
    'tail is oldest first',
  );
  t.same(
    log.findByRequestRow([
      { requestId: 'r1', row: 1 },
      { requestId: 'r1', row: 9 },
    ]),
    new Map([['r1#1', 2]]),
  );
  t.same(log.findByExtId(['c', 'zz']), new Map([['c', 3]]));
  t.equal(await log.label([2], [1]), 1);
  t.equal(log.recent(10)[1]!.target, 1);
});

t.test('risk levels and predictions follow the card cut-offs', async (t) => {
  const log = await open(tmpDb());
  t.teardown(() => log.close());
  const b = batch(0, 3);
  b.probabilities.set([0.49, 0.5, 0.75]);
  await log.append(b);
  t.same(
    log
      .recent(3)
      .reverse()
      .map((r) => [r.prediction, r.risk_level]),
    [
      [0, 'Low'],
      [1, 'Medium'],
      [1, 'High'],
    ],
  );
});

t.test('retention deletes the oldest whole batches, keeps at least the newest LOG_RETENTION_ROWS', async (t) => {
  const log = await open(tmpDb(), 250);
  t.teardown(() => log.close());
  for (let i = 0; i < 10; i++) await log.append(batch(i * 100, 100));
  // Rows 751-1000 must stay; they start inside the batch 701-800, which stays whole.
  t.equal(log.count(), 300);
  t.same(
    log.tail(1).map((r) => r.id),
    [1000],
  );
  t.equal(log.recent(1000).at(-1)!.id, 701);
  await log.label([701, 1000], [1, 0]);
  t.same(
    log
      .recent(1000)
      .filter((r) => r.target !== null)
      .map((r) => [r.id, r.target]),
    [
      [1000, 0],
      [701, 1],
    ],
  );
});

t.test('paging walks every row once, from any id, across batches of any size', async (t) => {
  const log = await open(tmpDb());
  t.teardown(() => log.close());
  for (const [start, rows] of [
    [0, 3],
    [3, 1],
    [4, 7],
    [11, 2],
  ] as const)
    await log.append(batch(start, rows));
  const ids: number[] = [];
  for (let after = 0, got = log.page(after, 4); got.length > 0; after = got.at(-1)!.id, got = log.page(after, 4))
    ids.push(...got.map((r) => r.id));
  t.same(
    ids,
    Array.from({ length: 13 }, (_, i) => i + 1),
  );
  t.same(
    log.page(5, 3).map((r) => r.row),
    [5, 6, 7],
    'a page can start inside a batch',
  );
  t.same(log.page(13, 10), [], 'nothing after the newest row');
});

t.test('a log written before batches were packed is carried over row for row', async (t) => {
  const file = tmpDb();
  const old = new Database(file);
  migrate(old, 2);
  const ins =
    old.prepare(`INSERT INTO predictions (ts, request_id, row, model_version, features, probability, prediction, risk_level, target, ext_id, labelled_at)
    VALUES (?, ?, ?, 'v0', ?, ?, ?, ?, ?, ?, ?)`);
  const f = (a: number, b: number): Buffer => Buffer.from(new Float32Array([a, b]).buffer);
  // Cut-offs differ from the ones the log is opened with: what was logged must stay as logged.
  ins.run(10, 'old', 0, f(1, 2), 0.625, 1, 'Medium', null, null, null);
  ins.run(11, 'old', 1, f(3, 4), 0.5, 0, 'Low', 1, 'x7', null);
  ins.run(12, 'old', 2, f(5, 6), 0.875, 1, 'High', 0, null, 99);
  old.close();
  const log = await open(file);
  t.teardown(() => log.close());
  t.same(
    log
      .recent(3)
      .reverse()
      .map((r) => [r.id, r.ts, r.row, r.features, r.probability, r.prediction, r.risk_level, r.target, r.ext_id, r.model_version]),
    [
      [1, 10, 0, [1, 2], 0.625, 1, 'Medium', null, null, 'v0'],
      [2, 11, 1, [3, 4], 0.5, 0, 'Low', 1, 'x7', 'v0'],
      [3, 12, 2, [5, 6], 0.875, 1, 'High', 0, null, 'v0'],
    ],
  );
  t.same([...log.findByExtId(['x7'])], [['x7', 2]]);
  t.same([...log.findByRequestRow([{ requestId: 'old', row: 2 }])], [['old#2', 3]]);
  t.equal((await log.append(batch(0, 2))).first, 4, 'new rows continue the ids');
  const db = new Database(file, { readonly: true });
  t.teardown(() => db.close());
  t.equal(schemaVersion(db), 3);
  t.equal(db.prepare("SELECT COUNT(*) FROM sqlite_master WHERE name = 'predictions'").pluck().get(), 0, 'the old table is gone');
});

t.test('no statement of the log scans a table: each runs per transaction or read on up to a million batches', async (t) => {
  const file = tmpDb();
  const log = await open(file);
  await log.append(batch(0, 3));
  await log.close();
  const db = new Database(file, { readonly: true });
  t.teardown(() => db.close());
  for (const [name, text] of Object.entries(sql)) {
    const params = Array.from({ length: (String(text).match(/\?/g) ?? []).length }, () => 0);
    const plan = (db.prepare(`EXPLAIN QUERY PLAN ${text}`).all(...params) as { detail: string }[]).map((p) => p.detail);
    // "SCAN t" alone reads every row; a SEARCH, or a scan of the primary key that stops at the
    // first row (ORDER BY … LIMIT 1), does not.
    const scans = plan.filter((d) => /^SCAN (prediction_batches|labels|ext_ids)\b/.test(d) && !/LIMIT 1/.test(String(text)));
    t.same(scans, [], `${name}: ${plan.join('; ')}`);
  }
});

t.test('the log survives a restart; a closed log refuses writes', async (t) => {
  const file = tmpDb();
  const a = await open(file);
  await a.append(batch(0, 5));
  await a.close();
  await t.rejects(a.append(batch(5, 1)), /closed/);
  const b = await open(file);
  t.teardown(() => b.close());
  t.equal(b.count(), 5);
  const r = await b.append(batch(5, 2));
  t.equal(r.first, 6);
});

t.test('the pipeline logs every predicted row; an aborted upload leaves whole batches only', async (t) => {
  const file = tmpDb();
  const log = await open(file);
  t.teardown(() => log.close());
  const card = testCard();
  const ok = await runPipeline({
    source: Readable.from([sampleCsv(500, { extra: true })]),
    input: 'csv',
    output: 'json',
    sink: collector(),
    card,
    predictor: fakePredictor(),
    requestId: 'full',
    batch: { maxRows: 64, maxWaitMs: 1 },
    log,
  });
  t.equal(ok.n_rows, 500);
  t.equal(log.count(), 500);
  t.same(log.findByExtId(['17']).size, 1, 'a user `ID` column is kept for feedback');

  const ac = new AbortController();
  const endless = Readable.from(
    (async function* () {
      yield Buffer.from(sampleCsv(1));
      for (;;) {
        await new Promise((r) => setImmediate(r));
        yield Buffer.from('20000,24,2,2,3913,3102,0,689\n'.repeat(50));
      }
    })(),
  );
  setTimeout(() => ac.abort(), 100);
  await t.rejects(
    runPipeline({
      source: endless,
      input: 'csv',
      output: 'ndjson',
      sink: collector(),
      card,
      predictor: fakePredictor({ delayMs: 1 }),
      requestId: 'aborted',
      batch: { maxRows: 64, maxWaitMs: 1 },
      log,
      signal: ac.signal,
    }),
    { code: 'DL_ERR_ABORTED' },
  );
  await new Promise((r) => setTimeout(r, 50));
  const db = new Database(file, { readonly: true });
  t.teardown(() => db.close());
  const reader = LogReader.open(file);
  t.teardown(() => reader.close());
  const rows = reader
    .page(0, 1_000_000)
    .filter((r) => r.request_id === 'aborted')
    .map((r) => r.row);
  const n = rows.length;
  t.ok(n > 0, `${n} rows of the aborted upload were logged before the abort`);
  // Batches commit whole and in order, so what was logged is exactly the first n rows.
  t.same(
    rows,
    Array.from({ length: n }, (_, i) => i),
    'the logged rows are a gap-free prefix of the upload, in order',
  );
  t.equal(db.pragma('integrity_check', { simple: true }), 'ok');
});
