import t from 'tap';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { readProfile } from '../src/drift/index.js';
import { readModelCard } from '../src/model/card.js';
import { ROOT } from './helpers/shared.js';
import { syntheticRows, writeSplit, writeSyntheticCsv } from './helpers/train-synthetic.js';

// `driftline train` end to end, as a user runs it (a child process, stderr not a terminal).

const exec = promisify(execFile);
const dir = mkdtempSync(path.join(tmpdir(), 'driftline-train-cli-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const rows = syntheticRows(2500, 5);

async function train(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await exec(process.execPath, ['--import=tsx', 'src/cli/index.ts', 'train', ...args], { cwd: ROOT });
    return { code: 0, ...r };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

t.test("a CSV in the service's format (no ID column) trains, with the shipped split by default", async (t) => {
  const data = path.join(dir, 'service.csv');
  writeSyntheticCsv(data, rows, 'service');
  const out = path.join(dir, 'model');
  const r = await train(['--data', data, '--out', out, '--members', '1', '--max-iter', '20', '--student-trees', '30']);
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout, '', 'stdout stays clean');
  t.match(r.stderr, /no ID column: using 1-based row numbers as IDs/);
  // data/validation_ids.json lists IDs up to 30,000; those ≤ 2,500 pick the validation rows.
  const shipped = (JSON.parse(readFileSync(path.join(ROOT, 'data', 'validation_ids.json'), 'utf8')) as { ids: number[] }).ids;
  const inRange = shipped.filter((id) => id <= 2500).length;
  t.match(r.stderr, new RegExp(`${6000 - inRange} of 6000 validation IDs are not in the data`));
  t.match(r.stderr, new RegExp(`2500 rows: ${2500 - inRange} to train on, ${inRange} for validation`));
  t.match(r.stderr, /booster 1\/1, tree 10: fit log-loss 0\.\d+, holdout 0\.\d+/, 'plain progress lines when stderr is not a terminal');
  t.match(r.stderr, /student, tree 30: cross-entropy to the teacher 0\.\d+/, 'the distilled booster reports its fit too');
  t.match(r.stderr, /distilled into one booster of 30 trees/);
  t.match(r.stderr, /validation ROC-AUC 0\.\d{4}, accuracy 0\.\d{4}, F1 0\.\d{4}/);

  const card = readModelCard(path.join(out, 'card.json'));
  t.match(card.training, {
    id_source: '1-based row number (no ID column)',
    split: { file: 'validation_ids.json' },
    rows: { validation: inRange },
    hyper_parameters: { student_trees: 30 },
    trees: 30,
  });
  t.same(
    card.features.map((f) => f.aliases[0]),
    ['LIMIT_BAL', 'AGE', 'PAY_0', 'PAY_2', 'BILL_AMT1', 'BILL_AMT2', 'PAY_AMT1', 'PAY_AMT2'],
  );
  t.ok(existsSync(path.join(out, 'model.onnx')));
  const profile = readProfile(path.join(out, 'reference.json'));
  t.equal(profile.rows, 2500, 'reference profile written beside the model');
  t.ok(profile.prediction !== null && profile.prediction.mean > 0 && profile.prediction.mean < 1);
});

t.test("--no-distill ships the members' average itself, as before distillation", async (t) => {
  const data = path.join(dir, 'uci-avg.csv');
  writeSyntheticCsv(data, rows);
  const split = path.join(dir, 'split-avg.json');
  writeSplit(split, 2500);
  const out = path.join(dir, 'avg');
  const r = await train(['--data', data, '--split', split, '--out', out, '--members', '2', '--max-iter', '15', '--no-distill']);
  t.equal(r.code, 0, r.stderr);
  t.notMatch(r.stderr, /student|distilled/);
  const card = readModelCard(path.join(out, 'card.json'));
  const members = card.training!['members'] as { iterations: number }[];
  t.match(card.training, { hyper_parameters: { distill: false, members: 2 }, trees: members[0]!.iterations + members[1]!.iterations });
  t.notOk('distillation' in card.training!, 'no distillation record');
  t.match(card.training!['hyper_parameters_chosen_by'], /command-line overrides of max_iter, members, distill/);
});

t.test('bad input fails with a message and a non-zero exit, writing nothing', async (t) => {
  const data = path.join(dir, 'uci.csv');
  writeSyntheticCsv(data, rows.slice(0, 300));
  const split = path.join(dir, 'split.json');
  writeSplit(split, 300);

  const badParam = await train(['--data', data, '--split', split, '--out', path.join(dir, 'x1'), '--max-leaf-nodes', '1']);
  t.not(badParam.code, 0);
  t.match(badParam.stderr, /maxLeafNodes must be an integer ≥ 2, got 1/);
  const badStudent = await train(['--data', data, '--split', split, '--out', path.join(dir, 'x1'), '--student-learning-rate', '0']);
  t.not(badStudent.code, 0);
  t.match(badStudent.stderr, /studentLearningRate must be in \(0, 1\], got 0/);

  const noAge = path.join(dir, 'no-age.csv');
  writeFileSync(noAge, readFileSync(data, 'utf8').replace('"AGE"', '"AGE_YEARS"'));
  const missing = await train(['--data', noAge, '--split', split, '--out', path.join(dir, 'x2')]);
  t.not(missing.code, 0);
  t.match(missing.stderr, /DL_ERR_SCHEMA_MISSING_COLUMNS: .*Missing required columns: \[age\]/);

  const otherSplit = path.join(dir, 'other-split.json');
  writeFileSync(otherSplit, JSON.stringify([100001, 100002]));
  const noMatch = await train(['--data', data, '--split', otherSplit, '--out', path.join(dir, 'x3')]);
  t.not(noMatch.code, 0);
  t.match(noMatch.stderr, /DL_ERR_BAD_INPUT: None of the 2 IDs in .* occurs in/);

  for (const d of ['x1', 'x2', 'x3']) t.notOk(existsSync(path.join(dir, d, 'model.onnx')), `${d}: no model written`);
});
