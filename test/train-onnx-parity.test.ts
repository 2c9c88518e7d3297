import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import { loadModel } from '../src/model/index.js';
import { fitModel } from '../src/train/ensemble.js';
import { SKLEARN_DEFAULTS, type Ensemble } from '../src/train/gbdt.js';
import { buildCard } from '../src/train/model-card.js';
import { exportOnnx } from '../src/train/onnx-export.js';
import { predictLabel, predictProba } from '../src/train/predict.js';
import { readDataset, readSplitIds, splitByIds, toRowMajor } from '../src/train/dataset.js';
import { trainModel, BUNDLED_PARAMS, BUNDLED_PARAMS_SOURCE, DEFAULT_SEED } from '../src/train/index.js';
import { ROOT, sharedFile } from './helpers/shared.js';
import { syntheticColumns, syntheticRows } from './helpers/train-synthetic.js';

// The graph onnxruntime runs and the trainer's own predict must agree to within 1e-6 on P.
// onnxruntime runs with one intra-op thread, as the service does: with more, it sums the trees
// in per-thread blocks, a different float32 summation order (measured up to 6.6e-7 apart on
// the 572-tree average of five boosters with 2 threads).

const TOL = 1e-6;
const { onnx } = onnxProto;

interface OrtOut {
  p1: Float32Array;
  label: number[];
  rowSums: number;
}

async function runOrt(bytes: Uint8Array, x: Float32Array, rows: number): Promise<OrtOut> {
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1 });
  try {
    const out = await session.run({ input: new ort.Tensor('float32', x, [rows, 8]) });
    const probs = out.probabilities!;
    const label = out.label!;
    if (probs.dims.join() !== `${rows},2` || label.type !== 'int64') throw new Error(`unexpected outputs ${probs.dims} ${label.type}`);
    const pd = probs.data as Float32Array;
    let rowSums = 0;
    for (let i = 0; i < rows; i++) rowSums = Math.max(rowSums, Math.abs(pd[2 * i]! + pd[2 * i + 1]! - 1));
    return {
      p1: Float32Array.from({ length: rows }, (_, i) => pd[2 * i + 1]!),
      label: Array.from(label.data as BigInt64Array, Number),
      rowSums,
    };
  } finally {
    await session.release();
  }
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let w = 0;
  for (let i = 0; i < a.length; i++) w = Math.max(w, Math.abs(a[i]! - b[i]!));
  return w;
}

/** Rows that sit exactly on split thresholds and one float32 step either side. */
function boundaryRows(model: Ensemble, base: Float32Array): Float32Array {
  const out: number[] = [];
  const f32 = new Float32Array(1);
  const i32 = new Int32Array(f32.buffer);
  const step = (v: number, d: number): number => {
    f32[0] = v;
    i32[0] = i32[0]! + (v >= 0 ? d : -d);
    return f32[0]!;
  };
  for (const tree of model.trees.slice(0, 20)) {
    for (let n = 0; n < tree.feature.length; n++) {
      const f = tree.feature[n]!;
      if (f < 0) continue;
      for (const v of [tree.threshold[n]!, step(tree.threshold[n]!, 1), step(tree.threshold[n]!, -1)]) {
        const row = Array.from(base.subarray(0, 8));
        row[f] = v;
        out.push(...row);
      }
    }
  }
  return Float32Array.from(out);
}

t.test("synthetic data: onnxruntime and the service give the trainer's probabilities", async (t) => {
  const train = syntheticColumns(syntheticRows(3000, 101));
  const test = syntheticColumns(syntheticRows(1000, 102));
  const { model } = fitModel(train, { ...SKLEARN_DEFAULTS, maxIter: 40, members: 2 }, 3);
  const fresh = toRowMajor({ columns: test.columns, rows: 1000 });
  const edges = boundaryRows(model, fresh);
  const x = Float32Array.from([...fresh, ...edges]);
  const rows = x.length / 8;
  t.ok(rows > 1500, `${rows - 1000} rows on or next to a threshold`);

  const bytes = exportOnnx(model, { inputName: 'input', graphName: 'synthetic', producerVersion: 'test' });
  const mine = predictProba(model, x, rows);
  const ortOut = await runOrt(bytes, x, rows);
  const d = maxDiff(ortOut.p1, mine);
  t.ok(d <= TOL, `plain onnxruntime: max |ΔP| = ${d.toExponential(2)} over ${rows} rows`);
  t.same(ortOut.label, Array.from(predictLabel(model, x, rows)), 'labels agree (score > 0)');
  t.ok(ortOut.rowSums < 1e-6, 'probabilities rows sum to 1');
  const dEdge = maxDiff(ortOut.p1.subarray(1000), mine.subarray(1000));
  t.ok(dEdge <= TOL, `on the thresholds themselves: ${dEdge.toExponential(2)}`);

  const dir = mkdtempSync(path.join(tmpdir(), 'driftline-parity-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(path.join(dir, 'model.onnx'), bytes);
  const card = buildCard({
    version: 't',
    validation: { roc_auc: 0.5, accuracy: 0.5, precision: 0, recall: 0, f1: 0, rows: 0, positives: 0 },
    training: {},
  });
  writeFileSync(path.join(dir, 'card.json'), JSON.stringify(card));
  const loaded = await loadModel(dir);
  t.teardown(() => loaded.engine.close());
  const { probabilities } = await loaded.engine.run(x.slice(), rows);
  const ds = maxDiff(probabilities, mine);
  t.ok(ds <= TOL, `service (loadModel): max |ΔP| = ${ds.toExponential(2)}`);
});

t.test('the graph has the layout onnxruntime expects of a binary TreeEnsembleClassifier', async (t) => {
  const { model } = fitModel(syntheticColumns(syntheticRows(800, 5)), { ...SKLEARN_DEFAULTS, maxIter: 5 }, 1);
  const m = onnx.ModelProto.decode(exportOnnx(model, { inputName: 'input', graphName: 'g', producerVersion: 'v' }));
  t.equal(Number(m.irVersion), 8);
  t.same(
    m.opsetImport!.map((o) => [o.domain, Number(o.version)]),
    [
      ['ai.onnx.ml', 1],
      ['', 17],
    ],
  );
  const g = m.graph!;
  t.equal(g.node!.length, 1);
  const node = g.node![0]!;
  t.match(node, { opType: 'TreeEnsembleClassifier', domain: 'ai.onnx.ml', input: ['input'], output: ['label', 'probabilities'] });
  const attr = (name: string) => node.attribute!.find((a) => a.name === name)!;
  t.equal(new TextDecoder().decode(attr('post_transform').s!), 'LOGISTIC');
  t.same(attr('classlabels_int64s').ints!.map(Number), [0, 1]);
  t.ok(
    attr('class_ids').ints!.every((v) => Number(v) === 0),
    'one weight per leaf, for class 0 (binary layout)',
  );
  t.same(attr('base_values').floats, [model.baseScore]);
  const thresholds = model.trees.flatMap((tr) => Array.from(tr.threshold).filter((_, i) => tr.feature[i]! >= 0));
  const modes = attr('nodes_modes').strings!.map((b) => new TextDecoder().decode(b));
  t.same(
    attr('nodes_values').floats!.filter((_, i) => modes[i] === 'BRANCH_LEQ'),
    thresholds,
    "thresholds are the trainer's float32 cuts",
  );
  const dims = (v: onnxProto.onnx.IValueInfoProto) => v.type!.tensorType!.shape!.dim!.map((d) => d.dimParam || Number(d.dimValue));
  t.same(dims(g.input![0]!), ['N', 8]);
  t.same(
    g.output!.map((o) => [o.name, o.type!.tensorType!.elemType, dims(o)]),
    [
      ['label', onnx.TensorProto.DataType.INT64, ['N']],
      ['probabilities', onnx.TensorProto.DataType.FLOAT, ['N', 2]],
    ],
  );
});

t.test('an ensemble without a negative leaf is refused (onnxruntime would skip the logistic)', async (t) => {
  const { model } = fitModel(syntheticColumns(syntheticRows(500, 8)), { ...SKLEARN_DEFAULTS, maxIter: 3 }, 1);
  const positive = { ...model, trees: model.trees.map((tr) => ({ ...tr, value: tr.value.map(Math.abs) })) };
  t.throws(() => exportOnnx(positive, { inputName: 'input', graphName: 'g', producerVersion: 'v' }), /every leaf weight is ≥ 0/);
});

const uci = sharedFile('data/UCI_Credit_Card.csv');
t.test(
  'UCI data: retraining reproduces the bundled model, and onnxruntime agrees with the trainer on the validation rows',
  { skip: uci.skip },
  async (t) => {
    const out = mkdtempSync(path.join(tmpdir(), 'driftline-bundled-'));
    t.teardown(() => rmSync(out, { recursive: true, force: true }));
    const splitFile = path.join(ROOT, 'data', 'validation_ids.json');
    const result = await trainModel({
      dataFile: uci.path,
      outDir: out,
      splitFile,
      seed: DEFAULT_SEED,
      params: BUNDLED_PARAMS,
      paramsSource: BUNDLED_PARAMS_SOURCE,
      version: '1',
      producerVersion: (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version,
    });
    t.ok(result.validation.roc_auc >= 0.766, `validation ROC-AUC ${result.validation.roc_auc.toFixed(4)} ≥ 0.766 (sklearn HGB: 0.7665)`);
    t.equal(result.validation.rows, 6000);

    const bundled = path.join(ROOT, 'models', 'credit-default', 'v1');
    const retrain = 'retrain it: npx driftline train --data path/to/UCI_Credit_Card.csv';
    t.ok(
      readFileSync(path.join(out, 'model.onnx')).equals(readFileSync(path.join(bundled, 'model.onnx'))),
      `model.onnx is what \`driftline train\` produces (${retrain})`,
    );
    t.equal(
      readFileSync(path.join(out, 'card.json'), 'utf8'),
      readFileSync(path.join(bundled, 'card.json'), 'utf8'),
      `card.json is what \`driftline train\` produces (${retrain})`,
    );

    const { dataset } = await readDataset(uci.path);
    const { validation } = splitByIds(dataset, readSplitIds(splitFile));
    const x = toRowMajor(validation);
    const mine = predictProba(result.fit.model, x, validation.rows);
    const ortOut = await runOrt(readFileSync(path.join(bundled, 'model.onnx')), x, validation.rows);
    const d = maxDiff(ortOut.p1, mine);
    t.ok(d <= TOL, `plain onnxruntime: max |ΔP| = ${d.toExponential(2)} over ${validation.rows} validation rows`);
    t.same(ortOut.label, Array.from(predictLabel(result.fit.model, x, validation.rows)));

    const loaded = await loadModel(bundled);
    t.teardown(() => loaded.engine.close());
    const { probabilities } = await loaded.engine.run(x.slice(), validation.rows);
    const ds = maxDiff(probabilities, mine);
    t.ok(ds <= TOL, `service (loadModel): max |ΔP| = ${ds.toExponential(2)}`);
    t.equal(result.onnxMaxAbsDiff, ds, "the train command's own check saw the same gap");
  },
);
