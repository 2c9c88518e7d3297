// `driftline profile`: a model's reference profile with its probabilities, written to
// <model>/reference.json; then `driftline drift` from it reports prediction drift.
import t from 'tap';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { buildModelProfile } from '../src/cli/profile.js';
import { readProfile, type DriftSnapshot } from '../src/drift/index.js';
import { ROOT, sharedFile } from './helpers/shared.js';

const run = promisify(execFile);
const onnx = sharedFile('models/sklearn_logreg.onnx');
const RAW = ['LIMIT_BAL', 'AGE', 'PAY_0', 'PAY_2', 'BILL_AMT1', 'BILL_AMT2', 'PAY_AMT1', 'PAY_AMT2'];
const NAMES = ['credit_limit', 'age', 'pay_delay_sep', 'pay_delay_aug', 'bill_amt_sep', 'bill_amt_aug', 'pay_amt_sep', 'pay_amt_aug'];

t.test('profile → reference.json → drift', { skip: onnx.skip }, async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dl-profile-cli-'));
  const model = path.join(dir, 'model');
  mkdirSync(model);
  copyFileSync(onnx.path, path.join(model, 'model.onnx'));
  writeFileSync(
    path.join(model, 'card.json'),
    JSON.stringify({
      name: 'logreg',
      version: '0',
      input_name: 'input',
      output: { name: 'probabilities', index: 1 },
      features: NAMES.map((name, j) => ({ name, aliases: [RAW[j]] })),
      target: { name: 'target', aliases: ['default.payment.next.month'] },
    }),
  );
  // The fixture's check rows (sklearn's own probabilities alongside), under the raw UCI names.
  const exp = JSON.parse(readFileSync(onnx.path.replace(/\.onnx$/, '.expected.json'), 'utf8')) as {
    check_rows: { features: number[][]; proba_1: number[]; target: number[] };
  };
  const rows = exp.check_rows.features;
  const data = path.join(dir, 'data.csv');
  writeFileSync(
    data,
    [['ID', ...RAW, 'default.payment.next.month'].join(','), ...rows.map((r, i) => [i, ...r, exp.check_rows.target[i]].join(','))].join(
      '\n',
    ),
  );

  const { stdout } = await run(
    process.execPath,
    ['--import=tsx', 'src/cli/index.ts', 'profile', '--data', data, '--model', model, '--rows', '150'],
    { cwd: ROOT },
  );
  t.match(stdout, /reference profile: 150 rows, 8 features, target, prediction mean 0\.\d{4}/);
  const profile = readProfile(path.join(model, 'reference.json'));
  t.equal(profile.rows, 150);
  t.same(
    profile.features.map((f) => f.name),
    NAMES,
  );
  t.equal(profile.target!.count, 150);
  const sklearnMean = exp.check_rows.proba_1.slice(0, 150).reduce((a, b) => a + b, 0) / 150;
  t.ok(Math.abs(profile.prediction!.mean - sklearnMean) < 1e-5, `prediction mean ${profile.prediction!.mean} vs sklearn ${sklearnMean}`);
  t.equal(profile.features[0]!.mean, rows.slice(0, 150).reduce((a, r) => a + r[0]!, 0) / 150);

  const direct = await buildModelProfile({ dataPath: data, modelDir: model, rows: 150, out: null });
  t.equal(direct.file, null, 'out: null writes nothing');
  t.equal(direct.profile.id, profile.id, 'same bins from the function the training command calls');

  const drift = await run(
    process.execPath,
    [
      '--import=tsx',
      'src/cli/index.ts',
      'drift',
      '--reference',
      path.join(model, 'reference.json'),
      '--current',
      data,
      '--model',
      model,
      '--json',
    ],
    { cwd: ROOT, env: { ...process.env, DRIFT_OVERRIDES: '' } },
  );
  const s = JSON.parse(drift.stdout) as DriftSnapshot;
  t.equal(s.prediction!.n_current, 200, 'the model scored the current rows');
  t.equal(s.prediction!.test, 'ks', '150 reference rows: KS');
  t.equal(s.window_rows, 200);
});
