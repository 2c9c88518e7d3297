import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SKLEARN_DEFAULTS } from '../src/train/gbdt.js';
import { crossValidate, expandGrid, trainModel } from '../src/train/index.js';
import type { Dataset } from '../src/train/dataset.js';
import { syntheticColumns, syntheticRows, writeSplit, writeSyntheticCsv } from './helpers/train-synthetic.js';

t.test('expandGrid: every combination, last key varying fastest', async (t) => {
  const c = expandGrid(SKLEARN_DEFAULTS, { learningRate: [0.1, 0.2], l2: [0, 1, 2] });
  t.equal(c.length, 6);
  t.same(
    c.map((p) => [p.learningRate, p.l2]),
    [
      [0.1, 0],
      [0.1, 1],
      [0.1, 2],
      [0.2, 0],
      [0.2, 1],
      [0.2, 2],
    ],
  );
  t.ok(
    c.every((p) => p.maxLeafNodes === SKLEARN_DEFAULTS.maxLeafNodes),
    'other parameters kept',
  );
});

t.test('crossValidate scores each fold on rows the fold did not train on', async (t) => {
  const { columns, y } = syntheticColumns(syntheticRows(1500, 3));
  const data: Dataset = { featureNames: [], columns, y, ids: new Float64Array(1500), rows: 1500 };
  const params = { ...SKLEARN_DEFAULTS, maxIter: 20 };
  const r = crossValidate(data, params, 3, 1);
  t.equal(r.foldAuc.length, 3);
  t.ok(
    r.foldAuc.every((a) => a > 0.6 && a < 0.95),
    `fold AUCs ${r.foldAuc.map((a) => a.toFixed(3)).join(', ')}`,
  );
  t.ok(Math.abs(r.meanAuc - r.foldAuc.reduce((a, b) => a + b) / 3) < 1e-15);
  t.same(crossValidate(data, params, 3, 1), r, 'deterministic for a seed');
});

t.test('--tune picks the best candidate by CV, keeps the requested members, and says so in the card', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'driftline-tune-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const data = path.join(dir, 'd.csv');
  const split = path.join(dir, 's.json');
  writeSyntheticCsv(data, syntheticRows(1500, 9));
  writeSplit(split, 1500);
  const events: string[] = [];
  const r = await trainModel({
    dataFile: data,
    outDir: path.join(dir, 'out'),
    splitFile: split,
    seed: 4,
    params: { ...SKLEARN_DEFAULTS, maxIter: 15, members: 2 },
    version: 't',
    producerVersion: 'test',
    tune: { grid: { maxLeafNodes: [2, 7], learningRate: [0.05, 0.3] }, folds: 3 },
    onEvent: (e) => events.push(e.type),
  });
  t.equal(events.filter((e) => e === 'tune-result').length, 4);
  const tuning = r.card.training!['tuning'] as { candidates: number; best: { params: Record<string, number>; cv_roc_auc: number }[] };
  t.equal(tuning.candidates, 4);
  const best = tuning.best[0]!;
  t.ok(
    tuning.best.every((b) => b.cv_roc_auc <= best.cv_roc_auc),
    'ranked best first',
  );
  t.equal(r.params.maxLeafNodes, best.params['max_leaf_nodes']);
  t.equal(r.params.learningRate, best.params['learning_rate']);
  t.equal(best.params['members'], 1, 'candidates are scored as single boosters');
  t.equal(r.params.members, 2, 'the final model has the requested members');
  t.equal(r.fit.members.length, 2);
});
