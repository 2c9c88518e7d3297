import t from 'tap';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseModelCard } from '../src/model/card.js';
import { BUNDLED_PARAMS, trainModel } from '../src/train/index.js';
import { syntheticRows, writeSplit, writeSyntheticCsv } from './helpers/train-synthetic.js';

// A training run is a function of (data, split, parameters, seed): same seed, same bytes —
// so a committed model can be checked by retraining — and another seed, another model.

const dir = mkdtempSync(path.join(tmpdir(), 'driftline-determinism-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const data = path.join(dir, 'UCI_sample.csv');
const split = path.join(dir, 'split.json');
writeSyntheticCsv(data, syntheticRows(2500, 77));
writeSplit(split, 2500);

// Two members and a cap of 30 trees keep this to about a second a run (the 80-tree student included).
const params = { ...BUNDLED_PARAMS, maxIter: 30, members: 2 };
const run = async (seed: number, out: string) => {
  const r = await trainModel({
    dataFile: data,
    outDir: path.join(dir, out),
    splitFile: split,
    seed,
    params,
    version: 't',
    producerVersion: 'test',
  });
  return { r, model: readFileSync(r.modelPath), card: readFileSync(r.cardPath, 'utf8') };
};

t.test('same seed: byte-identical model.onnx and card.json; another seed: a different model', async (t) => {
  const a = await run(42, 'a');
  const b = await run(42, 'b');
  const c = await run(43, 'c');
  t.ok(a.model.length > 1000, `a real model (${a.model.length} bytes)`);
  t.ok(a.model.equals(b.model), 'model.onnx identical for seed 42 twice');
  t.equal(a.card, b.card, 'card.json identical for seed 42 twice');
  t.notOk(a.model.equals(c.model), 'seed 43 gives another model.onnx');
  t.not(a.card, c.card);

  const card = parseModelCard(JSON.parse(a.card));
  t.match(card.training, {
    data_file: 'UCI_sample.csv',
    seed: 42,
    split: { file: 'split.json', listed_ids: 500, missing_ids: 0 },
    rows: { total: 2500, train: 2000, fit_per_member: 1800, early_stopping_holdout_per_member: 200, validation: 500 },
    hyper_parameters: {
      learning_rate: 0.05,
      max_leaf_nodes: 15,
      min_samples_leaf: 50,
      l2_regularization: 1,
      max_iter: 30,
      members: 2,
      max_depth: null,
      distill: true,
      student_trees: 80,
      student_learning_rate: 0.5,
    },
    distillation: { student: { trees: 80, fit_rows: 2000 } },
    trees: 80,
  });
  t.equal(card.metrics!.validation.roc_auc, Math.round(a.r.validation.roc_auc * 1e6) / 1e6);
  t.ok(!JSON.stringify(card).includes(dir), 'the card names the data file, not its path');
});
