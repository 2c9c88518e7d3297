// The categorical model fixture (shared models/sklearn_pipeline_cat.onnx: SEX, EDUCATION and
// MARRIAGE as words) brought in by `init` over training rows rebuilt from the UCI file per run.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { initModel } from '../../src/onboard/index.js';
import { sharedFile } from './shared.js';

export const CAT_NUMERIC = ['LIMIT_BAL', 'AGE', 'PAY_0', 'PAY_2', 'BILL_AMT1', 'BILL_AMT2', 'PAY_AMT1', 'PAY_AMT2'];
export const CAT_STRINGS = ['SEX', 'EDUCATION', 'MARRIAGE'];
const CAT_TARGET = 'default.payment.next.month';
// The fixture's README: integer codes of the UCI file mapped to words.
const WORDS: Record<string, (code: string) => string> = {
  SEX: (c) => ({ 1: 'male', 2: 'female' })[c] ?? 'other',
  EDUCATION: (c) => ({ 1: 'graduate_school', 2: 'university', 3: 'high_school' })[c] ?? 'other',
  MARRIAGE: (c) => ({ 1: 'married', 2: 'single' })[c] ?? 'other',
};

const uci = sharedFile('data/UCI_Credit_Card.csv');
const onnx = sharedFile('models/sklearn_pipeline_cat.onnx');
const check = sharedFile('models/sklearn_pipeline_cat.check.csv');
/** Why the fixture cannot be built here, or false. */
export const categoricalSkip = uci.skip || onnx.skip || check.skip;

/** The fixture's training rows rebuilt from the UCI file into `dir`/train.csv (never committed). */
function categoricalTrainingCsv(dir: string): string {
  const lines = readFileSync(uci.path, 'utf8')
    .split(/\r?\n/)
    .filter((l) => l !== '');
  const head = lines[0]!.split(',').map((h) => h.replace(/"/g, ''));
  const at = (n: string): number => head.indexOf(n);
  const out = [['ID', ...CAT_NUMERIC, ...CAT_STRINGS, CAT_TARGET].join(',')];
  for (const l of lines.slice(1)) {
    const c = l.split(',');
    out.push(
      [c[at('ID')], ...CAT_NUMERIC.map((n) => c[at(n)]), ...CAT_STRINGS.map((n) => WORDS[n]!(c[at(n)]!)), c[at(CAT_TARGET)]].join(','),
    );
  }
  const data = path.join(dir, 'train.csv');
  writeFileSync(data, out.join('\n') + '\n');
  return data;
}

/** Runs `init` on the fixture into `dir`/model and returns the model directory. */
export async function initCategoricalModel(dir: string): Promise<string> {
  const model = path.join(dir, 'model');
  await initModel({ onnx: onnx.path, data: categoricalTrainingCsv(dir), target: CAT_TARGET, id: 'ID', out: model, name: 'cat' });
  return model;
}

/** The fixture's 200 check rows as CSV (header first). */
export function categoricalCheckCsv(): string {
  return readFileSync(check.path, 'utf8');
}
