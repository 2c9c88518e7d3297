// `driftline drift`: column selection, card aliases, reference.json input, overrides, output.
import t from 'tap';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { buildProfile, writeProfile, type DriftSnapshot } from '../src/drift/index.js';
import { ROOT } from './helpers/shared.js';

const run = promisify(execFile);
const dir = mkdtempSync(path.join(os.tmpdir(), 'dl-drift-cli-'));
const noModel = path.join(dir, 'no-model');

let seed = 11;
const rnd = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;

/** Rows of (id, limit, age, region, target); `shift` moves age. */
function rows(n: number, shift: number): number[][] {
  return Array.from({ length: n }, (_, i) => [
    i + 1,
    Math.round(rnd() * 50) * 10000,
    Math.round(25 + rnd() * 30 + shift),
    Math.floor(rnd() * 3),
    rnd() < 0.2 ? 1 : 0,
  ]);
}
function csv(file: string, header: string[], data: number[][]): string {
  const p = path.join(dir, file);
  writeFileSync(p, [header.join(','), ...data.map((r) => r.join(','))].join('\n') + '\n');
  return p;
}
const ref = rows(3000, 0);
const cur = rows(800, 6);
const refCsv = csv('ref.csv', ['ID', 'limit', 'age', 'region', 'target'], ref);
const curCsv = csv('cur.csv', ['ID', 'limit', 'age', 'region', 'target'], cur);

async function cli(args: string[], env: Record<string, string> = {}): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const r = await run(process.execPath, ['--import=tsx', 'src/cli/index.ts', 'drift', ...args], {
      cwd: ROOT,
      env: { ...process.env, MODEL_DIR: noModel, DRIFT_OVERRIDES: '', ...env },
    });
    return { ...r, code: 0 };
  } catch (err) {
    const e = err as { stdout: string; stderr: string; code: number };
    return { stdout: e.stdout, stderr: e.stderr, code: e.code };
  }
}

t.test('no card, no --columns: the columns common to both files, without ID and target', async (t) => {
  const r = await cli(['--reference', refCsv, '--current', curCsv, '--json']);
  t.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout) as DriftSnapshot;
  t.same(Object.keys(s.features), ['limit', 'age', 'region']);
  t.equal(s.features.age!.drift, true, 'age moved by 6');
  t.equal(s.features.limit!.drift, false);
  t.equal(s.target!.test, 'jensenshannon', 'the target drifts on its own line');
  t.same(s.dataset, { n_columns: 3, n_drifted: 1, share_drifted: 1 / 3, drift_share_threshold: 0.5, drift: false });
});

t.test('the human output is a table with the dataset verdict', async (t) => {
  const r = await cli(['--reference', refCsv, '--current', curCsv, '--columns', 'age,limit']);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /^column\s+test\s+score\s+threshold\s+drift\n/);
  t.match(r.stdout, /\nage\s+wasserstein\s+\d\.\d{4}\s+0\.1\s+DRIFT\n/);
  t.match(r.stdout, /\nlimit\s+wasserstein\s+\d\.\d{4}\s+0\.1\s+ok\n/);
  t.match(r.stdout, /1 of 2 columns drifted \(share 0\.500, threshold 0\.5\): DATASET DRIFT/);
});

t.test('a model card: its features, raw-name aliases in the headers, categorical columns', async (t) => {
  const model = path.join(dir, 'model');
  mkdirSync(model, { recursive: true });
  writeFileSync(
    path.join(model, 'card.json'),
    JSON.stringify({
      name: 'm',
      version: '1',
      input_name: 'input',
      output: { name: 'p' },
      features: [
        { name: 'age', aliases: ['AGE'] },
        { name: 'region', aliases: ['REGION'], categorical: true },
      ],
      target: { name: 'target', aliases: ['default.payment.next.month'] },
    }),
  );
  const rawRef = csv('raw-ref.csv', ['ID', 'LIMIT_BAL', 'AGE', 'REGION', 'default.payment.next.month'], ref);
  const rawCur = csv('raw-cur.csv', ['ID', 'LIMIT_BAL', 'AGE', 'REGION', 'default.payment.next.month'], cur);
  const r = await cli(['--reference', rawRef, '--current', rawCur, '--model', model, '--json']);
  t.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout) as DriftSnapshot;
  t.same(Object.keys(s.features), ['age', 'region'], 'the card decides, LIMIT_BAL is not a card feature');
  t.equal(s.features.region!.column_type, 'cat');
  t.equal(s.features.region!.test, 'jensenshannon');
  t.equal(s.prediction, null, 'no model.onnx beside the card');
  t.equal(s.target!.n_current, 800, 'target found by alias');
});

t.test('a reference.json profile as the reference, and DRIFT_OVERRIDES', async (t) => {
  const profile = buildProfile({
    features: ['limit', 'age', 'region'].map((name, j) => ({ name, values: ref.map((r) => r[j + 1]!) })),
    target: ref.map((r) => r[4]!),
  });
  const file = path.join(dir, 'reference.json');
  writeProfile(file, profile);
  const fromCsv = JSON.parse((await cli(['--reference', refCsv, '--current', curCsv, '--json'])).stdout) as DriftSnapshot;
  const fromJson = JSON.parse((await cli(['--reference', file, '--current', curCsv, '--json'])).stdout) as DriftSnapshot;
  for (const f of ['limit', 'age', 'region'])
    t.equal(fromJson.features[f]!.score, fromCsv.features[f]!.score, `${f}: same score as from the CSV`);
  const o = await cli(['--reference', file, '--current', curCsv, '--json'], { DRIFT_OVERRIDES: '{"age":{"test":"psi","threshold":0.2}}' });
  const s = JSON.parse(o.stdout) as DriftSnapshot;
  t.match(s.features.age, { test: 'psi', threshold: 0.2 });
  const bad = await cli(['--reference', file, '--current', curCsv], { DRIFT_OVERRIDES: '{"age":{"test":"anderson"}}' });
  t.equal(bad.code, 1);
  t.match(bad.stderr, /DL_ERR_DRIFT_UNKNOWN_TEST: Unknown drift test "anderson"; known tests: ks, wasserstein/);
});

t.test('no card and nothing in common: a clear error', async (t) => {
  const other = csv('other.csv', ['ID', 'foo', 'target'], [[1, 2, 0]]);
  const r = await cli(['--reference', refCsv, '--current', other]);
  t.equal(r.code, 1);
  t.match(r.stderr, /DL_ERR_SCHEMA_MISSING_COLUMNS: No model card .* pass --columns/);
});

t.test('columns of words are categorical with no card; --categorical makes a column of numbers one', async (t) => {
  const words = ['north', 'south', 'east'];
  const header = ['ID', 'limit', 'age', 'region', 'target'];
  const named = (rs: number[][], extra: number): string[][] =>
    rs.map((r) => [...r.slice(0, 3), r[3]! < extra ? words[r[3]!]! : 'west', r[4]!].map(String));
  const write = (file: string, rs: string[][]): string => {
    const p = path.join(dir, file);
    writeFileSync(p, [header.join(','), ...rs.map((r) => r.join(','))].join('\n') + '\n');
    return p;
  };
  // The current gains a region the reference never had.
  const refWords = write('ref-words.csv', named(ref, 3));
  const curWords = write('cur-words.csv', named(cur, 2));
  const r = await cli(['--reference', refWords, '--current', curWords, '--categorical', 'age,nope', '--json']);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, /--categorical names "nope", not a feature here; ignored/);
  const s = JSON.parse(r.stdout) as DriftSnapshot;
  t.match(s.features.region, { column_type: 'cat', test: 'jensenshannon', drift: true });
  t.same(s.features.region!.current_hist.labels, ['east', 'north', 'south', 'west'], 'categories by name, the new one included');
  t.equal(s.features.region!.current_hist.shares[0], 0, 'no east in the current');
  t.match(s.features.age, { column_type: 'cat', test: 'jensenshannon' }, 'numbers, named categorical');
  t.match(s.features.limit, { column_type: 'num', test: 'wasserstein' });
});
