// The curl, simulate and report commands of the README and its docs/ pages, run as written
// against a started service (only the address changes, and a never-ending simulate gets a
// request limit).
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { section, shLines } from './helpers/docs.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { ROOT } from './helpers/shared.js';

const run = promisify(execFile);
const DEFAULT_URL = 'http://127.0.0.1:8000';
const FEATURES = ['credit_limit', 'age', 'pay_delay_sep', 'pay_delay_aug', 'bill_amt_sep', 'bill_amt_aug', 'pay_amt_sep', 'pay_amt_aug'];
const hasCurl = spawnSync('curl', ['--version']).status === 0;

/**
 * A scratch directory that sees the repository's data/ and models/, so the files the commands
 * write stay out of the repository; node_modules too, for tsx in the inference worker.
 */
function workdir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dl-readme-'));
  for (const d of ['data', 'models', 'node_modules']) symlinkSync(path.join(ROOT, d), path.join(dir, d));
  return dir;
}

let srv: TestServer;
t.before(async () => {
  srv = await startTestServer();
});
t.teardown(() => srv?.close());

interface PredictBody {
  model_version: string;
  request_id: string;
  results: { row: number; probability: number; prediction: string; risk_level: string }[];
  errors: unknown[];
  n_rows: number;
  n_rejected: number;
}

type Asserts = Pick<typeof t, 'ok' | 'equal' | 'match' | 'fail'>;

function checkPredict(t: Asserts, status: number, text: string, rows: number): void {
  t.equal(status, 200);
  const body = JSON.parse(text) as PredictBody;
  t.match(body, { model_version: String, request_id: String, errors: [], n_rows: rows, n_rejected: 0 });
  t.equal(body.results.length, rows);
  body.results.forEach((r, i) => {
    if (
      r.row !== i ||
      !(r.probability >= 0 && r.probability <= 1) ||
      !['Default', 'No Default'].includes(r.prediction) ||
      !['Low', 'Medium', 'High'].includes(r.risk_level)
    ) {
      t.fail(`result ${i} has an unexpected shape: ${JSON.stringify(r)}`);
    }
  });
}

t.test('curl -F file=@data/sample.csv …/predict, as in the README', async (t) => {
  const line = shLines('Scoring over HTTP').find((l) => l.includes('data/sample.csv'));
  t.equal(line, `curl -F file=@data/sample.csv ${DEFAULT_URL}/predict`);
  const rows =
    readFileSync(path.join(ROOT, 'data', 'sample.csv'), 'utf8')
      .trim()
      .split('\n').length - 1;
  t.equal(rows, 20, 'the committed sample has 20 rows');
  if (hasCurl) {
    // The README's words as arguments; -s and -w only add the status after the body.
    const args = [
      ...line!
        .split(' ')
        .slice(1)
        .map((a) => a.replace(DEFAULT_URL, srv.url)),
      '-s',
      '-w',
      '\n%{http_code}',
    ];
    const { stdout } = await run('curl', args, { cwd: ROOT });
    const cut = stdout.lastIndexOf('\n');
    checkPredict(t, Number(stdout.slice(cut + 1)), stdout.slice(0, cut), rows);
  } else {
    t.comment('curl is absent: sending the same multipart request with fetch');
    const form = new FormData();
    form.append(
      'file',
      new Blob([readFileSync(path.join(ROOT, 'data', 'sample.csv'))], { type: 'application/octet-stream' }),
      'sample.csv',
    );
    const res = await fetch(`${srv.url}/predict`, { method: 'POST', body: form });
    checkPredict(t, res.status, await res.text(), rows);
  }
});

t.test('the printf | curl example', { skip: hasCurl ? false : 'curl is absent' }, async (t) => {
  const lines = shLines('Scoring over HTTP').filter((l) => /two\.csv/.test(l));
  t.equal(lines.length, 2, 'printf, then curl');
  const script = `${lines.join('\n').replaceAll(DEFAULT_URL, srv.url)} -s -w '\\n%{http_code}'`;
  const { stdout } = await run('sh', ['-c', script], { cwd: workdir() });
  const cut = stdout.lastIndexOf('\n');
  checkPredict(t, Number(stdout.slice(cut + 1)), stdout.slice(0, cut), 1);
});

/** The ```json block that follows the first line matching `after` in a section. */
function jsonAfter(title: string, after: RegExp): string {
  const { file, body } = section(title);
  const at = body.search(after);
  const m = at === -1 ? null : /```json\n([\s\S]*?)```/.exec(body.slice(at));
  if (m === null) throw new Error(`${file}'s "${title}" has no json block after ${after}`);
  return m[1]!.trim();
}

// Regression: the README showed a probability (0.7333) the service did not return (0.7361).
t.test("the printf | curl example prints the README's output, but for the request id and the time taken", async (t) => {
  const shown = JSON.parse(jsonAfter('Scoring over HTTP', /curl -F file=@two\.csv/)) as PredictBody & { took_ms?: number };
  const lines = shLines('Scoring over HTTP').filter((l) => /two\.csv/.test(l));
  const dir = workdir();
  let text: string;
  if (hasCurl) {
    ({ stdout: text } = await run('sh', ['-c', lines.join('\n').replaceAll(DEFAULT_URL, srv.url)], { cwd: dir }));
  } else {
    t.comment('curl is absent: writing two.csv as the README does, then sending it with fetch');
    await run('sh', ['-c', lines[0]!], { cwd: dir });
    const form = new FormData();
    form.append('file', new Blob([readFileSync(path.join(dir, 'two.csv'))], { type: 'application/octet-stream' }), 'two.csv');
    text = await (await fetch(`${srv.url}/predict`, { method: 'POST', body: form })).text();
  }
  const got = JSON.parse(text) as PredictBody & { took_ms?: number };
  t.type(got.request_id, 'string');
  t.type(got.took_ms, 'number');
  t.equal(shown.request_id, '…', 'the README elides the request id');
  t.same({ ...got, request_id: shown.request_id, took_ms: shown.took_ms }, shown, 'every other field as the README shows it');
  t.same(Object.keys(got), Object.keys(shown), 'in the same order');
});

t.test('the driftline simulate and report commands', async (t) => {
  const lines = [...shLines('Demo traffic'), ...shLines('Drift report')];
  t.ok(lines.length >= 5, `${lines.length} commands`);
  const dir = workdir();
  // tsx by its file URL: the commands run in a scratch directory without node_modules.
  const cli = `${JSON.stringify(process.execPath)} --import=${JSON.stringify(import.meta.resolve('tsx'))} ${JSON.stringify(path.join(ROOT, 'src', 'cli', 'index.ts'))}`;
  for (const line of lines) {
    let cmd = line.replaceAll(DEFAULT_URL, srv.url).replace(/^curl /, 'curl -sS ');
    if (cmd.startsWith('npx driftline simulate') && !cmd.includes('--out')) {
      cmd += ` --url ${srv.url}`;
      if (!cmd.includes('--requests')) cmd += ' --requests 1 --interval 0';
    }
    cmd = cmd.replace(/^npx driftline /, `${cli} `);
    // Asynchronously: the service under test runs in this process and must keep answering.
    const r = await run('sh', ['-c', cmd], { cwd: dir, timeout: 120_000, env: { ...process.env, NODE_OPTIONS: '' } }).then(
      () => ({ code: 0, stderr: '' }),
      (err: { code?: number; stderr?: string }) => ({ code: err.code ?? -1, stderr: err.stderr ?? '' }),
    );
    t.equal(r.code, 0, `${line}${r.stderr === '' ? '' : `\n${r.stderr}`}`);
  }
  // What the commands left behind.
  const sample = readFileSync(path.join(dir, 'sample.csv'), 'utf8').trim().split('\n');
  t.equal(sample.length, 21, 'simulate --out wrote a header and 20 rows');
  t.equal(sample[0], FEATURES.join(','));
  const report = readFileSync(path.join(dir, 'report.html'), 'utf8');
  for (const f of FEATURES) t.match(report, `<th scope="row">${f}</th>`);
  const drift = (await (await fetch(`${srv.url}/api/drift`)).json()) as { window_rows: number };
  t.ok(drift.window_rows > 400, `the simulate commands reached the service (${drift.window_rows} rows)`);
});

t.test('the sample file is where the README says', async (t) => {
  t.ok(existsSync(path.join(ROOT, 'data', 'sample.csv')));
});
