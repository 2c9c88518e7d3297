import t from 'tap';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import ort from 'onnxruntime-node';
import { LogReader } from '../src/store/index.js';
import { BUNDLED_MODEL } from './helpers/server.js';
import { ROOT, sharedFile } from './helpers/shared.js';
import { sampleCsv } from './helpers/fixtures.js';

const run = promisify(execFile);
const skip = existsSync(`${BUNDLED_MODEL}/model.onnx`) ? false : 'the bundled model is not built (models/credit-default/v1)';
const cli = (args: string[], env: Record<string, string> = {}) =>
  run(process.execPath, ['--import=tsx', path.join(ROOT, 'src/cli/index.ts'), ...args], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'silent', ...env },
    maxBuffer: 64 * 1024 * 1024,
  });

/** Plain onnxruntime on the same rows: the reference the CLI must match. */
async function plain(rows: number[][]): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(path.join(BUNDLED_MODEL, 'model.onnx'), { intraOpNumThreads: 1 });
  const out = await s.run({ input: new ort.Tensor('float32', new Float32Array(rows.flat()), [rows.length, 8]) }, ['probabilities']);
  const p = out.probabilities!.data as Float32Array;
  return Float32Array.from({ length: rows.length }, (_, i) => p[i * 2 + 1]!);
}

function parseCsvOut(text: string): { header: string[]; rows: string[][] } {
  const [head, ...lines] = text.trim().split('\n');
  return { header: head!.split(','), rows: lines.map((l) => l.split(',')) };
}

const tmp = mkdtempSync(path.join(os.tmpdir(), 'dl-score-'));

t.test("a CSV in the original service's format: the probabilities plain onnxruntime gives", { skip }, async (t) => {
  const file = path.join(tmp, 'orig.csv');
  writeFileSync(file, sampleCsv(300));
  const { stdout, stderr } = await cli(['score', file, '--model', BUNDLED_MODEL]);
  const { header, rows } = parseCsvOut(stdout);
  t.same(header.slice(-3), ['probability', 'prediction', 'risk_level']);
  t.equal(rows.length, 300);
  const want = await plain(rows.map((r) => r.slice(0, 8).map(Number)));
  const worst = Math.max(...rows.map((r, i) => Math.abs(Number(r[8]) - want[i]!)));
  t.ok(worst <= 1e-6, `max |cli − onnxruntime| = ${worst.toExponential(2)}`);
  t.match(stderr, /scored 300 rows, rejected 0/);
});

const uci = sharedFile('data/UCI_Credit_Card.csv');
t.test('the raw UCI file (aliases): same probabilities, every column passed through', { skip: skip || uci.skip }, async (t) => {
  const file = path.join(tmp, 'uci.csv');
  writeFileSync(file, readFileSync(uci.path, 'utf8').split('\n').slice(0, 1001).join('\n'));
  const { stdout } = await cli(['score', file, '--model', BUNDLED_MODEL]);
  const { header, rows } = parseCsvOut(stdout);
  t.equal(header.length, 25 + 3, 'the 25 input columns, then the 3 results');
  t.equal(rows.length, 1000);
  const at = (name: string) => header.indexOf(name);
  const cols = ['LIMIT_BAL', 'AGE', 'PAY_0', 'PAY_2', 'BILL_AMT1', 'BILL_AMT2', 'PAY_AMT1', 'PAY_AMT2'].map(at);
  const want = await plain(rows.map((r) => cols.map((c) => Number(r[c]))));
  const worst = Math.max(...rows.map((r, i) => Math.abs(Number(r[at('probability')]) - want[i]!)));
  t.ok(worst <= 1e-6, `max |cli − onnxruntime| = ${worst.toExponential(2)}`);
});

t.test('JSON and NDJSON output; invalid rows on stderr with row numbers; exit code', { skip }, async (t) => {
  const file = path.join(tmp, 'bad.csv');
  writeFileSync(file, `${sampleCsv(3).trim()}\n1,abc,0,0,0,0,0,0\n`);
  const nd = await cli(['score', file, '--model', BUNDLED_MODEL, '--format', 'ndjson']);
  const lines = nd.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  t.equal(lines.length, 5);
  t.match(lines[3], { row: 3, error: { column: 'age' } });
  t.match(nd.stderr, /row 3, column age: not a number: "abc"/);
  t.match(nd.stderr, /scored 3 rows, rejected 1/);
  const js = await cli(['score', file, '--model', BUNDLED_MODEL, '--format', 'json', '-o', path.join(tmp, 'out.json')]);
  t.equal(js.stdout, '');
  t.match(JSON.parse(readFileSync(path.join(tmp, 'out.json'), 'utf8')), { n_rows: 3, n_rejected: 1 });
  const none = path.join(tmp, 'none.csv');
  writeFileSync(none, 'credit_limit,age,pay_delay_sep,pay_delay_aug,bill_amt_sep,bill_amt_aug,pay_amt_sep,pay_amt_aug\nx,1,1,1,1,1,1,1\n');
  await t.rejects(cli(['score', none, '--model', BUNDLED_MODEL]), { code: 1 }, 'nothing scored: a non-zero exit');
  await t.rejects(cli(['score', path.join(tmp, 'missing.csv'), '--model', BUNDLED_MODEL]), { code: 1 });
});

t.test('--batch-rows: any batch size gives the same output, row for row; a bad size is refused', { skip }, async (t) => {
  const file = path.join(tmp, 'batches.csv');
  writeFileSync(file, `${sampleCsv(300).trim()}\n1,abc,0,0,0,0,0,0\n${sampleCsv(40).trim().split('\n').slice(1).join('\n')}\n`);
  const whole = await cli(['score', file, '--model', BUNDLED_MODEL]);
  const small = await cli(['score', file, '--model', BUNDLED_MODEL, '--batch-rows', '7']);
  t.equal(small.stdout, whole.stdout);
  t.equal(parseCsvOut(small.stdout).rows.length, 340);
  t.match(small.stderr, /row 300, column age: not a number/);
  const refused = await cli(['score', file, '--model', BUNDLED_MODEL, '--batch-rows', '0']).then(
    () => undefined,
    (err: { code: number; stderr: string }) => err,
  );
  t.equal(refused?.code, 1, 'a bad --batch-rows exits non-zero');
  t.match(refused?.stderr, /--batch-rows.*an integer from 1 to 1000000/);
});

t.test('without --log nothing reaches the prediction log; with --log every row does', { skip }, async (t) => {
  const data = mkdtempSync(path.join(os.tmpdir(), 'dl-score-data-'));
  const file = path.join(tmp, 'log.csv');
  writeFileSync(file, sampleCsv(25));
  await cli(['score', file, '--model', BUNDLED_MODEL], { DATA_DIR: data });
  t.notOk(existsSync(path.join(data, 'driftline.db')), 'no database was even created');
  const r = await cli(['score', file, '--model', BUNDLED_MODEL, '--log'], { DATA_DIR: data });
  t.match(r.stderr, /logged to/);
  const reader = LogReader.open(path.join(data, 'driftline.db'));
  t.teardown(() => reader.close());
  t.equal(reader.count(), 25);
});

t.test('stdin input with the format sniffed', { skip }, async (t) => {
  const { spawn } = await import('node:child_process');
  const child = spawn(
    process.execPath,
    ['--import=tsx', path.join(ROOT, 'src/cli/index.ts'), 'score', '-', '--model', BUNDLED_MODEL, '--format', 'ndjson'],
    { cwd: ROOT, env: { ...process.env, LOG_LEVEL: 'silent' } },
  );
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stdin.end(
    JSON.stringify([
      {
        credit_limit: 20000,
        age: 24,
        pay_delay_sep: 2,
        pay_delay_aug: 2,
        bill_amt_sep: 3913,
        bill_amt_aug: 3102,
        pay_amt_sep: 0,
        pay_amt_aug: 689,
      },
    ]),
  );
  const code = await new Promise<number | null>((r) => child.on('close', r));
  t.equal(code, 0);
  t.match(JSON.parse(out.trim().split('\n')[0]!), { row: 0, prediction: /Default/ });
});
