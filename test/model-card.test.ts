import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseModelCard, readModelCard, riskLevel } from '../src/model/index.js';

const valid = {
  name: 'credit-default',
  version: '1',
  input_name: 'input',
  features: [
    { name: 'credit_limit', min: 0, aliases: ['LIMIT_BAL'] },
    { name: 'age', type: 'integer', min: 18, max: 120, aliases: ['AGE'] },
  ],
  target: { name: 'target', aliases: ['default.payment.next.month'] },
  output: { name: 'probabilities', index: 1 },
};

t.test('a valid card parses, with defaults filled in', async (t) => {
  const c = parseModelCard(valid);
  t.same(c.risk_levels, { high: 0.75, medium: 0.5 }, 'the original service cut-offs');
  t.equal(c.decision_threshold, 0.5);
  t.equal(c.model_file, 'model.onnx');
  t.same(c.labels, ['No Default', 'Default']);
  t.equal(c.features[0]!.type, 'number');
  t.equal(c.features[0]!.categorical, false);
});

t.test('risk levels: High ≥ 0.75, Medium ≥ 0.5, else Low', async (t) => {
  const c = parseModelCard(valid);
  t.equal(riskLevel(c, 0.75), 'High');
  t.equal(riskLevel(c, 0.7499), 'Medium');
  t.equal(riskLevel(c, 0.5), 'Medium');
  t.equal(riskLevel(c, 0.4999), 'Low');
});

const broken: [string, unknown, RegExp][] = [
  ['no features', { ...valid, features: [] }, /features/],
  ['no input name', { ...valid, input_name: undefined }, /input_name/],
  ['min above max', { ...valid, features: [{ name: 'a', min: 5, max: 1 }] }, /min must be ≤ max/],
  ['duplicate name via alias', { ...valid, features: [{ name: 'a' }, { name: 'b', aliases: ['a'] }] }, /"a" is used by both a and b/],
  ['target is a feature', { ...valid, target: { name: 'age' } }, /target "age" is also a feature/],
  ['bad risk levels', { ...valid, risk_levels: { high: 0.4, medium: 0.6 } }, /medium must be ≤ high/],
  ['bad feature type', { ...valid, features: [{ name: 'a', type: 'text' }] }, /features\.0\.type/],
  [
    'a string feature with the single float input',
    { ...valid, features: [{ name: 'a', type: 'string' }] },
    /string features need `inputs`/,
  ],
  [
    'a string feature fed to a float input',
    {
      ...valid,
      input_name: undefined,
      features: [{ name: 'a', type: 'string' }],
      inputs: [{ name: 'x', columns: ['a'], type: 'float32' }],
    },
    /feature a is string but input x is float32/,
  ],
  ['no output', { ...valid, output: undefined }, /output/],
];
for (const [what, card, re] of broken) {
  t.test(`refused: ${what}`, async (t) => {
    t.throws(() => parseModelCard(card), { code: 'DL_ERR_MODEL_CARD', message: re });
  });
}

t.test('readModelCard: missing file and bad JSON are clear errors', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dl-card-'));
  t.throws(() => readModelCard(path.join(dir, 'card.json')), { code: 'DL_ERR_MODEL_CARD', message: /Cannot read model card/ });
  writeFileSync(path.join(dir, 'card.json'), '{ not json');
  t.throws(() => readModelCard(path.join(dir, 'card.json')), { code: 'DL_ERR_MODEL_CARD', message: /not valid JSON/ });
  writeFileSync(path.join(dir, 'card.json'), JSON.stringify(valid));
  t.equal(readModelCard(path.join(dir, 'card.json')).name, 'credit-default');
});
