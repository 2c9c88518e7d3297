import t from 'tap';
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import ort from 'onnxruntime-node';
import { readProfile } from '../src/drift/index.js';
import { loadModel, readModelCard, type ModelCard } from '../src/model/index.js';
import { initModel, type InitOptions } from '../src/onboard/index.js';
import { columnGraph } from './helpers/onnx-graphs.js';
import { startTestServer } from './helpers/server.js';
import { ROOT, sharedFile } from './helpers/shared.js';

const uci = sharedFile('data/UCI_Credit_Card.csv');
const FEATURES = ['credit_limit', 'age', 'pay_delay_sep', 'pay_delay_aug', 'bill_amt_sep', 'bill_amt_aug', 'pay_amt_sep', 'pay_amt_aug'];
// The models' README: the fixtures take these UCI columns, renamed, in this order.
const UCI_NAMES = ['LIMIT_BAL', 'AGE', 'PAY_0', 'PAY_2', 'BILL_AMT1', 'BILL_AMT2', 'PAY_AMT1', 'PAY_AMT2'];
const SPLIT = path.join(ROOT, 'data', 'validation_ids.json');

const tmp = (): string => {
  const d = mkdtempSync(path.join(os.tmpdir(), 'dl-init-'));
  t.teardown(() => rmSync(d, { recursive: true, force: true }));
  return d;
};

/** The UCI rows as the fixtures' README names them: ID, the 8 features, `default`. Built per run, never committed. */
function trainingCsv(dir: string, limit = Number.POSITIVE_INFINITY, name = 'train.csv'): string {
  const lines = readFileSync(uci.path, 'utf8')
    .split(/\r?\n/)
    .filter((l) => l !== '');
  const head = lines[0]!.split(',').map((h) => h.replace(/"/g, ''));
  const at = [head.indexOf('ID'), ...UCI_NAMES.map((n) => head.indexOf(n)), head.indexOf('default.payment.next.month')];
  const out = ['ID,' + FEATURES.join(',') + ',default'];
  for (const l of lines.slice(1, 1 + Math.min(limit, lines.length))) {
    const cells = l.split(',');
    out.push(at.map((i) => cells[i]).join(','));
  }
  const file = path.join(dir, name);
  writeFileSync(file, out.join('\n') + '\n');
  return file;
}

interface Expected {
  check_rows: { features: number[][]; proba_1: number[] };
}

/** Metrics computed here, differently from src/model/metrics.ts: AUC by counting pairs. */
function independentMetrics(y: number[], p: number[], at: number) {
  let tp = 0,
    fp = 0,
    tn = 0,
    fn = 0,
    sq = 0;
  const pos: number[] = [];
  const neg: number[] = [];
  y.forEach((yi, i) => {
    const pred = p[i]! >= at;
    if (yi === 1) {
      pos.push(p[i]!);
      if (pred) tp++;
      else fn++;
    } else {
      neg.push(p[i]!);
      if (pred) fp++;
      else tn++;
    }
    sq += (p[i]! - yi) ** 2;
  });
  neg.sort((a, b) => a - b);
  let wins = 0;
  for (const s of pos) {
    // Negatives strictly below s count 1, ties ½ (binary search on the sorted negatives).
    let lo = 0,
      hi = neg.length;
    while (lo < hi) {
      const m = (lo + hi) >> 1;
      if (neg[m]! < s) lo = m + 1;
      else hi = m;
    }
    let eq = lo;
    while (eq < neg.length && neg[eq] === s) eq++;
    wins += lo + (eq - lo) / 2;
  }
  const precision = tp / (tp + fp);
  const recall = tp / (tp + fn);
  return {
    roc_auc: wins / (pos.length * neg.length),
    accuracy: (tp + tn) / y.length,
    precision,
    recall,
    f1: (2 * precision * recall) / (precision + recall),
    brier: sq / y.length,
  };
}

async function predictNdjson(url: string, header: string[], rows: number[][]): Promise<number[]> {
  const body = [header.join(','), ...rows.map((r) => r.join(','))].join('\n') + '\n';
  const res = await fetch(`${url}/predict`, {
    method: 'POST',
    headers: { 'content-type': 'text/csv', accept: 'application/x-ndjson' },
    body,
  });
  const lines = (await res.text())
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as { row?: number; probability?: number; error?: unknown });
  if (res.status !== 200) throw new Error(`POST /predict: ${res.status}`);
  return lines.filter((l) => l.probability !== undefined).map((l) => l.probability!);
}

/** Nothing of a refused init is left: not the destination, not a temporary directory beside it. */
function assertNothingWritten(t: { same(a: unknown, b: unknown, m: string): unknown }, parent: string, before: string[]): void {
  t.same(readdirSync(parent).sort(), before.sort(), 'nothing written');
}

for (const name of ['sklearn_hgb', 'sklearn_logreg']) {
  const onnx = sharedFile(`models/${name}.onnx`);
  const skip = uci.skip || onnx.skip;
  t.test(
    `init on ${name}.onnx, then serving it gives sklearn's probabilities and the card's metrics hold`,
    { skip, timeout: 60_000 },
    async (t) => {
      const dir = tmp();
      const csv = trainingCsv(dir);
      const out = path.join(dir, 'models', name, '1');
      const r = await initModel({ onnx: onnx.path, data: csv, target: 'default', id: 'ID', validationIds: SPLIT, out, name });
      t.equal(r.outDir, out);
      t.same(readdirSync(out).sort(), ['card.json', 'model.onnx', 'reference.json']);
      const card = readModelCard(path.join(out, 'card.json'));
      t.same(
        card.inputs,
        [{ name: 'input', columns: FEATURES, type: 'float32' }],
        'the single [N, 8] input takes the CSV columns minus target and id, in order',
      );
      t.same(
        card.features.map((f) => f.name),
        FEATURES,
      );
      t.same(card.output, { name: 'probabilities', index: 1 });
      t.equal(card.source?.sha256, createHash('sha256').update(readFileSync(onnx.path)).digest('hex'), "the source file's SHA-256");
      t.match(card, { decision_threshold: 0.5, risk_levels: { high: 0.75, medium: 0.5 }, target: { name: 'default' } });
      for (const f of card.features) t.ok(f.min! <= f.max!, `${f.name} has a range`);
      t.match(r.inferred.join('\n'), /credit_limit, age, pay_delay_sep/);

      // The card's metrics, recomputed here on the same held-out rows with onnxruntime run directly.
      const ids = new Set((JSON.parse(readFileSync(SPLIT, 'utf8')) as { ids: number[] }).ids);
      const rows = readFileSync(csv, 'utf8')
        .trim()
        .split('\n')
        .slice(1)
        .map((l) => l.split(',').map(Number));
      const held = rows.filter((c) => ids.has(c[0]!));
      const session = await ort.InferenceSession.create(onnx.path);
      const x = new Float32Array(held.flatMap((c) => c.slice(1, 9)));
      const o = await session.run({ input: new ort.Tensor('float32', x, [held.length, 8]) }, ['probabilities']);
      await session.release();
      const probs = o.probabilities!.data as Float32Array;
      const p = held.map((_, i) => probs[i * 2 + 1]!);
      const want = independentMetrics(
        held.map((c) => c[9]!),
        p,
        0.5,
      );
      const got = card.metrics!.validation;
      t.equal(got.rows, held.length);
      for (const k of ['roc_auc', 'accuracy', 'precision', 'recall', 'f1', 'brier'] as const) {
        t.ok(Math.abs((got[k] as number) - want[k]) <= 1e-6, `${k}: card ${got[k]}, independent ${want[k]}`);
      }
      const profile = readProfile(path.join(out, 'reference.json'));
      t.equal(profile.rows, rows.length - held.length, 'the reference profiles the training rows');
      t.ok(profile.prediction !== null && profile.target !== null, 'with predictions and target');

      const srv = await startTestServer({ MODEL_DIR: out });
      t.teardown(() => srv.close());
      const exp = JSON.parse(readFileSync(onnx.path.replace(/\.onnx$/, '.expected.json'), 'utf8')) as Expected;
      const served = await predictNdjson(srv.url, FEATURES, exp.check_rows.features);
      t.equal(served.length, 200);
      const worst = Math.max(...served.map((v, i) => Math.abs(v - exp.check_rows.proba_1[i]!)));
      t.ok(worst < 1e-5, `max |served − sklearn| = ${worst.toExponential(2)} over the 200 check rows`);
      t.same(
        await (await fetch(`${srv.url}/api/model`)).json(),
        JSON.parse(readFileSync(path.join(out, 'card.json'), 'utf8')),
        'GET /api/model returns the card',
      );
      const api = (await (await fetch(`${srv.url}/openapi.json`)).json()) as {
        paths: Record<string, { get: { responses: Record<string, { content?: Record<string, { schema: { properties?: object } }> }> } }>;
      };
      t.ok(
        api.paths['/api/model']!.get.responses['200']!.content?.['application/json']?.schema.properties,
        '/openapi.json describes the card',
      );
    },
  );
}

t.test('a model with one input per column (float, double, int64) is fed each column by name', { timeout: 30_000 }, async (t) => {
  const dir = tmp();
  const onnx = path.join(dir, 'columns.onnx');
  writeFileSync(
    onnx,
    columnGraph([
      { name: 'b', type: 'int64', weight: -0.5 },
      { name: 'a', type: 'float', weight: 0.25 },
      { name: 'c', type: 'double', weight: 1 },
    ]),
  );
  // Columns in another order than the inputs, and one the model does not take.
  const rows: number[][] = [];
  for (let i = 0; i < 400; i++) rows.push([i, (i % 7) - 3, (i % 5) * 0.5, (i % 3) - 1 + (i % 2) * 0.25, i % 4 === 0 ? 1 : 0]);
  const csv = path.join(dir, 'train.csv');
  writeFileSync(csv, 'ID,a,b,c,y\n' + rows.map((r) => [r[0], r[2], r[1], r[3], r[4]].join(',')).join('\n') + '\n');
  const out = path.join(dir, 'out');
  const r = await initModel({ onnx, data: csv, target: 'y', id: 'ID', out });
  const card: ModelCard = r.card;
  t.same(card.inputs, [
    { name: 'b', columns: ['b'], type: 'int64' },
    { name: 'a', columns: ['a'], type: 'float32' },
    { name: 'c', columns: ['c'], type: 'float64' },
  ]);
  t.same(
    card.features.map((f) => [f.name, f.type]),
    [
      ['b', 'integer'],
      ['a', 'number'],
      ['c', 'number'],
    ],
    "an int64 input's column is validated as an integer",
  );
  const srv = await startTestServer({ MODEL_DIR: out });
  t.teardown(() => srv.close());
  const sample = rows.slice(0, 20);
  const served = await predictNdjson(
    srv.url,
    ['c', 'a', 'b'],
    sample.map((r) => [r[3]!, r[2]!, r[1]!]),
  );
  const worst = Math.max(
    ...served.map((v, i) => Math.abs(v - 1 / (1 + Math.exp(-(-0.5 * sample[i]![1]! + 0.25 * sample[i]![2]! + sample[i]![3]!))))),
  );
  t.ok(worst < 1e-6, `served P = σ(Σ wⱼxⱼ) with each input fed its own column (max error ${worst.toExponential(2)})`);
  // The window, the dashboard's data and the report speak of this model's columns.
  const drift = (await (await fetch(`${srv.url}/api/drift`)).json()) as { window_rows: number; features: Record<string, unknown> };
  t.equal(drift.window_rows, 20, 'the rows reached the drift window');
  t.same(Object.keys(drift.features).sort(), ['a', 'b', 'c'], "the snapshot has the model's own features");
  t.equal((await fetch(`${srv.url}/dashboard/data`)).status, 200);
  const report = await fetch(`${srv.url}/report.html`);
  t.equal(report.status, 200, 'the report renders');
  await report.text();
});

t.test('refusals: a clear typed error and nothing written', { timeout: 60_000 }, async (t) => {
  const dir = tmp();
  const parent = path.join(dir, 'models');
  mkdirSync(parent);
  const numeric = path.join(dir, 'numeric.onnx');
  writeFileSync(
    numeric,
    columnGraph([
      { name: 'a', type: 'float', weight: 1 },
      { name: 'b', type: 'float', weight: -1 },
    ]),
  );
  const csv = path.join(dir, 'train.csv');
  writeFileSync(
    csv,
    'ID,a,b,y,three\n' + Array.from({ length: 50 }, (_, i) => `${i},${i % 5},${i % 3},${i % 2},${i % 3}`).join('\n') + '\n',
  );
  const base: InitOptions = { onnx: numeric, data: csv, target: 'y', id: 'ID', out: path.join(parent, 'm') };
  const refuse = async (what: string, o: Partial<InitOptions>, code: string, message: RegExp): Promise<void> => {
    const before = readdirSync(parent);
    await t.rejects(initModel({ ...base, ...o }), { code, message }, what);
    assertNothingWritten(t, parent, before);
  };
  await refuse('target missing', { target: 'nope' }, 'DL_ERR_INIT_TARGET', /Target column "nope" is not in the data/);
  await refuse('target not binary', { target: 'three' }, 'DL_ERR_INIT_TARGET', /must hold the two classes 0 and 1 .*; it holds 0, 1, …/);
  const wide = path.join(dir, 'wide.onnx');
  writeFileSync(
    wide,
    columnGraph([
      { name: 'a', type: 'float', weight: 1 },
      { name: 'zz', type: 'float', weight: 1 },
    ]),
  );
  await refuse(
    'an ONNX input with no matching column',
    { onnx: wide },
    'DL_ERR_INIT_COLUMNS',
    /ONNX input\(s\) "zz" has no column in the data/,
  );
  await refuse('an unreadable ONNX file', { onnx: csv }, 'DL_ERR_MODEL_LOAD', /Cannot load model/);
  await refuse('a missing ONNX file', { onnx: path.join(dir, 'absent.onnx') }, 'DL_ERR_MODEL_LOAD', /not found/);
  const three = path.join(dir, 'three.onnx');
  writeFileSync(
    three,
    columnGraph(
      [
        { name: 'a', type: 'float', weight: 1 },
        { name: 'b', type: 'float', weight: 1 },
      ],
      { classes: 3 },
    ),
  );
  await refuse('more than two classes', { onnx: three }, 'DL_ERR_MODEL_OUTPUT', /3 classes; only binary classifiers/);
  const labelOnly = path.join(dir, 'label.onnx');
  writeFileSync(
    labelOnly,
    columnGraph(
      [
        { name: 'a', type: 'float', weight: 1 },
        { name: 'b', type: 'float', weight: 1 },
      ],
      { probabilities: false },
    ),
  );
  await refuse('no probability output', { onnx: labelOnly }, 'DL_ERR_MODEL_OUTPUT', /no probability output/);

  const zipmap = sharedFile('models/sklearn_logreg_zipmap.onnx');
  const hgb = sharedFile('models/sklearn_hgb.onnx');
  const cat = sharedFile('models/sklearn_pipeline_cat.onnx');
  if (uci.skip === false) {
    const uciCsv = trainingCsv(dir, 300, 'uci.csv');
    if (zipmap.skip === false)
      await refuse(
        'a ZipMap model, with the fix',
        { onnx: zipmap.path, data: uciCsv, target: 'default' },
        'DL_ERR_MODEL_OUTPUT',
        /ZipMap.*zipmap=False/s,
      );
    if (hgb.skip === false) {
      await refuse(
        'a feature missing from the CSV',
        { onnx: hgb.path, data: uciCsv, target: 'default', features: [...FEATURES.slice(0, 7), 'nope'] },
        'DL_ERR_INIT_COLUMNS',
        /Feature\(s\) "nope" has no column/,
      );
      await refuse(
        'shapes that disagree',
        { onnx: hgb.path, data: uciCsv, target: 'default', features: FEATURES.slice(0, 7) },
        'DL_ERR_INIT_COLUMNS',
        /\[N, 8\], 8 features, but 7 columns/,
      );
    }
    if (cat.skip === false)
      await refuse(
        'string inputs, not yet supported',
        { onnx: cat.path, data: uciCsv, target: 'default' },
        'DL_ERR_MODEL_INPUT',
        /string inputs are not yet supported/,
      );
  }

  // An existing model is kept unless --force.
  const held = path.join(parent, 'held');
  mkdirSync(held);
  writeFileSync(path.join(held, 'card.json'), '{"mine": true}');
  await refuse('--out already holding a model', { out: held }, 'DL_ERR_INIT_OUT_EXISTS', /already holds a model \(card\.json\).*--force/);
  t.equal(readFileSync(path.join(held, 'card.json'), 'utf8'), '{"mine": true}', 'the existing card is untouched');
  await initModel({ ...base, out: held, force: true });
  t.same(readdirSync(held).sort(), ['card.json', 'model.onnx', 'reference.json'], '--force replaces it');
  t.notOk(existsSync(path.join(parent, 'm')));
});

t.test('the command prints what it inferred and refuses with the code on stderr', { timeout: 60_000 }, async (t) => {
  const dir = tmp();
  const onnx = path.join(dir, 'm.onnx');
  writeFileSync(
    onnx,
    columnGraph([
      { name: 'a', type: 'float', weight: 1 },
      { name: 'b', type: 'float', weight: -1 },
    ]),
  );
  const csv = path.join(dir, 'train.csv');
  writeFileSync(csv, 'a,b,y\n' + Array.from({ length: 60 }, (_, i) => `${i % 5},${i % 3},${i % 2}`).join('\n') + '\n');
  const run = (args: string[]) =>
    promisify(execFile)(
      process.execPath,
      [`--import=${import.meta.resolve('tsx')}`, path.join(ROOT, 'src', 'cli', 'index.ts'), 'init', ...args],
      { cwd: ROOT },
    ).then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
  const out = path.join(dir, 'models', 'mine', '3');
  const ok = await run([
    '--onnx',
    onnx,
    '--data',
    csv,
    '--target',
    'y',
    '--name',
    'mine',
    '--version',
    '3',
    '--threshold',
    '0.4',
    '--out',
    out,
  ]);
  t.equal(ok.code, 0, ok.stderr);
  t.match(ok.stdout, /Inferred:[\s\S]*2 inputs, one per column[\s\S]*Check:[\s\S]*MODEL_DIR=.*models\/mine\/3 npm start/);
  t.match(readModelCard(path.join(dir, 'models', 'mine', '3', 'card.json')), { name: 'mine', version: '3', decision_threshold: 0.4 });
  const again = await run(['--onnx', onnx, '--data', csv, '--target', 'y', '--out', out]);
  t.equal(again.code, 1);
  t.match(again.stderr, /DL_ERR_INIT_OUT_EXISTS: .*already holds a model/);
});

const zipmapFixture = sharedFile('models/sklearn_logreg_zipmap.onnx');
t.test(
  "init and the service's loader refuse a ZipMap model by one check, in the same words",
  { skip: zipmapFixture.skip || uci.skip, timeout: 30_000 },
  async (t) => {
    const dir = tmp();
    const csv = trainingCsv(dir, 200);
    const byInit = await initModel({ onnx: zipmapFixture.path, data: csv, target: 'default', out: path.join(dir, 'out') }).then(
      () => null,
      (e: Error) => e,
    );
    // The loader, given a card naming the ZipMap output, as a hand-written card would.
    const modelDir = path.join(dir, 'hand');
    mkdirSync(modelDir);
    writeFileSync(path.join(modelDir, 'model.onnx'), readFileSync(zipmapFixture.path));
    writeFileSync(
      path.join(modelDir, 'card.json'),
      JSON.stringify({
        name: 'z',
        version: '1',
        input_name: 'input',
        features: FEATURES.map((name) => ({ name })),
        output: { name: 'output_probability' },
      }),
    );
    const byLoader = await loadModel(modelDir).then(
      async (m) => {
        await m.engine.close();
        return null;
      },
      (e: Error) => e,
    );
    t.match(byInit, { code: 'DL_ERR_MODEL_OUTPUT', message: /zipmap=False/ });
    t.match(byLoader, { code: 'DL_ERR_MODEL_OUTPUT' });
    const words = (e: Error | null) => e?.message.replace(/^Model \S+ /, 'Model ');
    t.equal(words(byLoader), words(byInit), 'the same message, but for the file path');
  },
);
