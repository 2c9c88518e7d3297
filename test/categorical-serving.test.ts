import t from 'tap';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readModelCard } from '../src/model/index.js';
import { startTestServer } from './helpers/server.js';
import { CAT_STRINGS, categoricalCheckCsv, categoricalSkip, initCategoricalModel } from './helpers/categorical-model.js';
import { sharedFile } from './helpers/shared.js';

// String (categorical) ONNX inputs served end to end: `init` on the skl2onnx pipeline with
// SEX/EDUCATION/MARRIAGE as words, then the service on its output.

const onnx = sharedFile('models/sklearn_pipeline_cat.onnx');
const skip = categoricalSkip;
const STRINGS = CAT_STRINGS;

interface Expected {
  check_rows: { proba_1: number[] };
  unseen_category_row: { features: (number | string)[]; sklearn_proba_1: number };
}

t.test(
  'string inputs: init writes categorical features, /predict matches sklearn (unseen category included), the window has them and a restart rebuilds them',
  { skip, timeout: 120_000 },
  async (t) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'dl-cat-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const out = await initCategoricalModel(dir);
    const card = readModelCard(path.join(out, 'card.json'));
    for (const s of STRINGS) {
      t.match(
        card.features.find((f) => f.name === s),
        { type: 'string', categorical: true },
        `${s} is a string categorical feature`,
      );
      t.same(
        card.inputs!.find((i) => i.name === s),
        { name: s, columns: [s], type: 'string' },
      );
    }
    t.same(
      card.features.find((f) => f.name === 'EDUCATION')!.categories,
      ['graduate_school', 'high_school', 'other', 'university'],
      'categories learned from the data',
    );
    t.same(card.features.find((f) => f.name === 'SEX')!.categories, ['female', 'male']);

    const exp = JSON.parse(readFileSync(onnx.path.replace(/\.onnx$/, '.expected.json'), 'utf8')) as Expected;
    const check = categoricalCheckCsv().trim().split(/\r?\n/);
    // The 200 check rows and, last, the row with EDUCATION = 'phd' (never seen in training).
    const body = [...check, [...exp.unseen_category_row.features, 0].join(',')].join('\n') + '\n';
    const predict = async (url: string) => {
      const res = await fetch(`${url}/predict`, {
        method: 'POST',
        headers: { 'content-type': 'text/csv', accept: 'application/x-ndjson' },
        body,
      });
      const text = await res.text();
      t.equal(res.status, 200, 'POST /predict answers 200');
      return text
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as { probability?: number; error?: unknown });
    };

    // CSV echoes the cells; a category is the client's text, so it is quoted and defused like any other.
    {
      const srv0 = await startTestServer({ MODEL_DIR: out });
      const row = exp.unseen_category_row.features.map((v, i) => (i === 9 ? '"=1+2,phd"' : v));
      const res = await fetch(`${srv0.url}/predict`, {
        method: 'POST',
        headers: { 'content-type': 'text/csv', accept: 'text/csv' },
        body: `${check[0]}\n${[...row, 0].join(',')}\n`,
      });
      const text = await res.text();
      await srv0.close();
      t.equal(res.status, 200);
      t.match(text.split('\n')[1], /^50000,46,.*,male,"'=1\+2,phd",single,0,/, 'the category is echoed, quoted, its formula defused');
    }
    const dataDir = path.join(dir, 'data');
    let srv = await startTestServer({ MODEL_DIR: out, DATA_DIR: dataDir });
    let closed = false;
    t.teardown(async () => {
      if (!closed) await srv.close();
    });
    const lines = await predict(srv.url);
    const probs = lines.filter((l) => l.probability !== undefined).map((l) => l.probability!);
    t.equal(probs.length, 201, 'every row scored, the unseen category included');
    const want = [...exp.check_rows.proba_1, exp.unseen_category_row.sklearn_proba_1];
    const worst = Math.max(...probs.map((p, i) => Math.abs(p - want[i]!)));
    t.ok(worst < 1e-5, `max |served − sklearn| = ${worst.toExponential(2)} over 201 rows`);
    t.ok(
      Math.abs(probs[200]! - exp.unseen_category_row.sklearn_proba_1) < 1e-5,
      "the unseen category scores as sklearn's all-zero one-hot block",
    );

    type Drift = { window_rows: number; features: Record<string, { test?: string }> };
    const drift = async (url: string): Promise<Drift> => (await (await fetch(`${url}/api/drift`)).json()) as Drift;
    const before = await drift(srv.url);
    t.equal(before.window_rows, 201, 'every scored row reached the window');
    for (const s of STRINGS) {
      const f = before.features[s];
      t.ok(f !== undefined, `the snapshot has ${s}`);
      // Evidently's categorical test for a reference of more than 1,000 rows (24,000 here).
      t.equal(f?.test, 'jensenshannon', `${s} is tested as categories`);
    }

    // A restart rebuilds the window from the prediction log: the strings were logged with their rows.
    await srv.close();
    closed = true;
    srv = await startTestServer({ MODEL_DIR: out, DATA_DIR: dataDir });
    closed = false;
    const after = await drift(srv.url);
    t.equal(after.window_rows, 201, 'the window holds the logged rows again');
    for (const s of STRINGS) t.same(after.features[s], before.features[s], `${s} after the restart is what it was before`);
  },
);
