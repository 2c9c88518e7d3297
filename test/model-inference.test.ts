import t from 'tap';
import { readFileSync } from 'node:fs';
import { InferenceEngine, parseModelCard, sessionSpec } from '../src/model/index.js';
import { sharedFile } from './helpers/shared.js';

interface Expected {
  feature_order: string[];
  input_name: string;
  check_rows: { features: number[][]; proba_1: number[] };
}

function cardFor(exp: Expected, outputName: string) {
  return parseModelCard({
    name: 'fixture',
    version: '0',
    input_name: exp.input_name,
    features: exp.feature_order.map((name) => ({ name })),
    output: { name: outputName, index: 1 },
  });
}

for (const name of ['sklearn_logreg', 'sklearn_hgb']) {
  const onnx = sharedFile(`models/${name}.onnx`);
  t.test(`${name}: onnxruntime in the worker gives sklearn's probabilities within 1e-5`, { skip: onnx.skip }, async (t) => {
    const exp = JSON.parse(readFileSync(onnx.path.replace(/\.onnx$/, '.expected.json'), 'utf8')) as Expected;
    const card = cardFor(exp, 'probabilities');
    const engine = await InferenceEngine.start(sessionSpec(card, onnx.path, 1));
    t.teardown(() => engine.close());
    const rows = exp.check_rows.features;
    t.equal(rows.length, 200);
    const data = new Float32Array(rows.flat());
    const { probabilities } = await engine.run(data, rows.length);
    t.equal(data.byteLength, 0, 'the batch buffer was transferred, not copied');
    t.equal(probabilities.length, 200);
    let worst = 0;
    for (let i = 0; i < rows.length; i++) worst = Math.max(worst, Math.abs(probabilities[i]! - exp.check_rows.proba_1[i]!));
    t.ok(worst < 1e-5, `max |onnx - sklearn| = ${worst.toExponential(2)}`);
  });
}

const zipmap = sharedFile('models/sklearn_logreg_zipmap.onnx');
t.test('a ZipMap model is refused at load, naming the non-tensor output', { skip: zipmap.skip }, async (t) => {
  const exp = JSON.parse(readFileSync(zipmap.path.replace(/\.onnx$/, '.expected.json'), 'utf8')) as Expected;
  const card = cardFor(exp, 'output_probability');
  await t.rejects(InferenceEngine.start(sessionSpec(card, zipmap.path, 1)), {
    code: 'DL_ERR_MODEL_OUTPUT',
    message: /non-tensor output\(s\) "output_probability"/,
  });
});
