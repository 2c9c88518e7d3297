import t from 'tap';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { InferenceEngine, loadModel, parseModelCard, sessionSpec } from '../src/model/index.js';
import { sharedFile } from './helpers/shared.js';

const hgb = sharedFile('models/sklearn_hgb.onnx');
const features = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `f${i}` }));
const card = (n: number, output = { name: 'probabilities', index: 1 }) =>
  parseModelCard({ name: 'x', version: '0', input_name: 'input', features: features(n), output });

t.test('a missing model file is refused at load', async (t) => {
  await t.rejects(InferenceEngine.start(sessionSpec(card(8), '/nonexistent/model.onnx', 1)), {
    code: 'DL_ERR_MODEL_LOAD',
    message: /Model file not found/,
  });
});

t.test('a corrupt model file is refused at load', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dl-model-'));
  const f = path.join(dir, 'model.onnx');
  writeFileSync(f, Buffer.from('this is not a protobuf graph at all'));
  await t.rejects(InferenceEngine.start(sessionSpec(card(8), f, 1)), { code: 'DL_ERR_MODEL_LOAD', message: /Cannot load model/ });
});

t.test('a model whose input width differs from the card is refused', { skip: hgb.skip }, async (t) => {
  await t.rejects(InferenceEngine.start(sessionSpec(card(7), hgb.path, 1)), {
    code: 'DL_ERR_MODEL_LOAD',
    message: /shape \[.*8\] but the card lists 7 features/,
  });
});

t.test('a card naming a missing output, or a wrong column, is refused', { skip: hgb.skip }, async (t) => {
  await t.rejects(InferenceEngine.start(sessionSpec(card(8, { name: 'nope', index: 1 }), hgb.path, 1)), {
    code: 'DL_ERR_MODEL_OUTPUT',
    message: /no output "nope"/,
  });
  await t.rejects(InferenceEngine.start(sessionSpec(card(8, { name: 'probabilities', index: 2 }), hgb.path, 1)), {
    code: 'DL_ERR_MODEL_OUTPUT',
  });
});

t.test('loadModel reads card.json beside the graph', { skip: hgb.skip }, async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dl-model-'));
  writeFileSync(path.join(dir, 'model.onnx'), readFileSync(hgb.path));
  writeFileSync(
    path.join(dir, 'card.json'),
    JSON.stringify({ name: 'x', version: '0', input_name: 'input', features: features(8), output: { name: 'probabilities', index: 1 } }),
  );
  const m = await loadModel(dir);
  t.teardown(() => m.engine.close());
  const r = await m.engine.run(new Float32Array(16), 2);
  t.equal(r.probabilities.length, 2);
  t.ok(r.probabilities.every((p) => p > 0 && p < 1));
});

t.test('a closed engine refuses work', { skip: hgb.skip }, async (t) => {
  const e = await InferenceEngine.start(sessionSpec(card(8), hgb.path, 1));
  await e.close();
  await t.rejects(e.run(new Float32Array(8), 1), { code: 'DL_ERR_INFERENCE' });
});
