import t from 'tap';
import fc from 'fast-check';
import { Readable, Writable } from 'node:stream';
import { runPipeline, type PipelineOptions } from '../src/pipeline/index.js';
import { chunked, collector, fakePredictor, fakeProbability, sampleCsv, testCard } from './helpers/fixtures.js';

const card = testCard();
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
const base = (over: Partial<PipelineOptions>): PipelineOptions => ({
  source: Readable.from([]),
  input: 'csv',
  output: 'csv',
  sink: collector(),
  card,
  predictor: fakePredictor(),
  requestId: 'req',
  batch: { maxRows: 64, maxWaitMs: 1 },
  ...over,
});

async function score(buf: Buffer, cuts: number[], over: Partial<PipelineOptions> = {}): Promise<string> {
  const sink = collector();
  await runPipeline(base({ source: chunked(buf, cuts), sink, ...over }));
  return sink.text();
}

const csv = Buffer.from(sampleCsv(300, { extra: true }).replace('note 5, with comma', 'Zoë ✓ ""ünï"", 5\nsecond line'));

t.test('CSV out: input columns + probability,prediction,risk_level, computed from the row', async (t) => {
  const out = await score(csv, []);
  const lines = out.trim().split('\n');
  t.equal(
    lines[0],
    'credit_limit,age,pay_delay_sep,pay_delay_aug,bill_amt_sep,bill_amt_aug,pay_amt_sep,pay_amt_aug,ID,note,probability,prediction,risk_level',
  );
  const first = lines[1]!.split(',');
  const p = fakeProbability(first.slice(0, 8).map(Number));
  const [prob, label] = first.slice(-3);
  t.equal(Math.fround(Number(prob)), p);
  t.equal(label, p >= 0.5 ? 'Default' : 'No Default');
  t.ok(out.includes('"Zoë ✓ ""ünï"", 5\nsecond line"'), 'a quoted multi-line passthrough cell survives, re-quoted');
});

t.test('chunk boundaries anywhere give the same output (inside quotes, inside multi-byte characters)', async (t) => {
  const whole = await score(csv, []);
  const zoe = csv.indexOf('Zoë');
  const forced = [zoe + 3, zoe + 6, zoe + 7, csv.indexOf('\nsecond') + 1, csv.indexOf('\n') + 1];
  t.equal(await score(csv, forced), whole, 'cuts inside ë, ✓ and a quoted newline');
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.integer({ min: 1, max: csv.length - 1 }), { maxLength: 40 }),
      async (cuts) => (await score(csv, cuts)) === whole,
    ),
    { numRuns: 40 },
  );
  t.pass('40 random chunkings agree');
});

t.test('an upload split into 1-byte chunks', async (t) => {
  const small = Buffer.from(sampleCsv(20, { extra: true }));
  t.equal(
    await score(
      small,
      Array.from({ length: small.length }, (_, i) => i),
    ),
    await score(small, []),
  );
});

t.test('every kind of bad row is reported inline with its row and column; good rows go on', async (t) => {
  const head = 'credit_limit,age,pay_delay_sep,pay_delay_aug,bill_amt_sep,bill_amt_aug,pay_amt_sep,pay_amt_aug,target';
  const rows = [
    '20000,24,2,2,3913,3102,0,689,1', // 0 ok
    '20000,,2,2,3913,3102,0,689,1', // 1 empty
    '20000,abc,2,2,3913,3102,0,689,1', // 2 not a number
    '20000,NaN,2,2,3913,3102,0,689,1', // 3 NaN
    '20000,24,Infinity,2,3913,3102,0,689,1', // 4 Infinity
    '-5,24,2,2,3913,3102,0,689,1', // 5 out of range
    '20000,24,2,2,3913', // 6 ragged (short)
    '20000,24,2,2,3913,3102,0,689,1,9', // 7 ragged (long)
    '20000,24,2,2,3913,3102,0,689,7', // 8 bad label
    '20000,24.5,2,2,3913,3102,0,689,0', // 9 not an integer
    '1e400,24,2,2,3913,3102,0,689,0', // 10 overflow
    '30000,30,0,0,1,1,1,1,', // 11 ok, unlabelled
  ];
  const sink = collector();
  const r = await runPipeline(base({ source: Readable.from([`${head}\n${rows.join('\n')}\n`]), sink, output: 'ndjson' }));
  t.equal(r.n_rows, 2);
  t.equal(r.n_rejected, 10);
  const lines = sink
    .text()
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  t.same(
    lines.slice(0, 12).map((l) => (l.error === undefined ? 'ok' : `${l.error.column}`)),
    ['ok', 'age', 'age', 'age', 'pay_delay_sep', 'credit_limit', 'null', 'null', 'target', 'age', 'credit_limit', 'ok'],
  );
  t.same(
    lines.slice(0, 12).map((l) => l.row),
    Array.from({ length: 12 }, (_, i) => i),
    'one line per row, in input order',
  );
  t.match(lines[12], { summary: { n_rows: 2, n_rejected: 10 } });
});

t.test('missing feature columns fail before anything is written', async (t) => {
  const sink = collector();
  await t.rejects(runPipeline(base({ source: Readable.from(['credit_limit,age\n1,2\n']), sink, output: 'json' })), {
    code: 'DL_ERR_SCHEMA_MISSING_COLUMNS',
    message: /^Invalid schema\. Missing required columns: \['pay_delay_sep'/,
  });
  t.equal(sink.text(), '');
});

t.test('JSON and NDJSON input give the same predictions as CSV', async (t) => {
  const text = sampleCsv(50);
  const [head, ...lines] = text.trim().split('\n');
  const cols = head!.split(',');
  const objs = lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [cols[i], Number(v)])));
  const fromCsv = await score(Buffer.from(text), [], { output: 'ndjson' });
  const strip = (s: string) =>
    s
      .split('\n')
      .filter((l) => !l.includes('summary'))
      .join('\n');
  t.equal(strip(await score(Buffer.from(JSON.stringify(objs)), [7, 100, 333], { input: 'json', output: 'ndjson' })), strip(fromCsv));
  t.equal(
    strip(await score(Buffer.from(objs.map((o) => JSON.stringify(o)).join('\n')), [5, 99], { input: 'ndjson', output: 'ndjson' })),
    strip(fromCsv),
  );
});

t.test('abort midway rejects with DL_ERR_ABORTED and tears every stage down', async (t) => {
  const ac = new AbortController();
  let pulled = 0;
  const endless = Readable.from(
    (async function* () {
      yield Buffer.from(sampleCsv(1));
      for (;;) {
        pulled++;
        await tick(); // a real upload waits on the socket between chunks
        yield Buffer.from('20000,24,2,2,3913,3102,0,689\n'.repeat(100));
      }
    })(),
  );
  const sink = collector();
  setTimeout(() => ac.abort(), 50);
  await t.rejects(runPipeline(base({ source: endless, sink, signal: ac.signal })), { code: 'DL_ERR_ABORTED' });
  t.ok(endless.destroyed, 'the source was destroyed');
  t.ok(pulled > 0);
});

t.test('a consumer that stops reading pauses the source: memory stays bounded', async (t) => {
  const ac = new AbortController();
  let pulled = 0;
  const chunk = Buffer.from('20000,24,2,2,3913,3102,0,689\n'.repeat(1000)); // ~29 KB
  const endless = Readable.from(
    (async function* () {
      yield Buffer.from(sampleCsv(1));
      for (;;) {
        pulled++;
        await tick();
        yield chunk;
      }
    })(),
  );
  let received = 0;
  const stuck = new Writable({
    highWaterMark: 16 * 1024,
    write(c: Buffer, _e, _cb) {
      received += c.length; // never calls back: the reader has stopped
    },
  });
  const run = runPipeline(base({ source: endless, sink: stuck, signal: ac.signal }));
  // Until the stages' buffers are full the source is read; on a loaded machine that takes
  // longer than on an idle one, so wait for the count to settle (up to 10 s), then watch it.
  let last = -1;
  const until = Date.now() + 10_000;
  while (pulled !== last && Date.now() < until) {
    last = pulled;
    await new Promise((r) => setTimeout(r, 300));
  }
  const settled = pulled;
  await new Promise((r) => setTimeout(r, 300));
  t.equal(pulled, settled, `the source stopped being read (${pulled} chunks pulled)`);
  t.ok(pulled * chunk.length < 8 * 1024 * 1024, `at most a few MB in flight (${((pulled * chunk.length) / 1e6).toFixed(1)} MB read)`);
  t.ok(received > 0);
  ac.abort();
  await t.rejects(run, { code: 'DL_ERR_ABORTED' });
});

t.test('counters: rows in, predicted, rejected, batches, stage time', async (t) => {
  const r = await runPipeline(base({ source: Readable.from([`${sampleCsv(200)}1,2,3\n`]) }));
  t.equal(r.stats.rowsIn, 201);
  t.equal(r.stats.rowsPredicted, 200);
  t.equal(r.stats.rowsRejected, 1);
  t.ok(r.stats.batches >= 4);
  t.ok(r.stats.stageMs.parse! > 0 && r.stats.stageMs.validate! > 0);
});
