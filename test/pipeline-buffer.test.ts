// The buffered path (small bodies, no streams) must answer exactly as the stream pipeline does.
import t from 'tap';
import fc from 'fast-check';
import { Readable } from 'node:stream';
import { runPipeline, scoreBuffer } from '../src/pipeline/index.js';
import type { OutputFormat } from '../src/stages/format.js';
import { FEATURES, collector, fakePredictor, testCard } from './helpers/fixtures.js';

const card = testCard();
type Outcome = { ok: true; text: string } | { ok: false; code: string; message: string };

async function viaStreams(body: Buffer, input: 'csv' | 'ndjson', output: OutputFormat): Promise<Outcome> {
  const sink = collector();
  try {
    await runPipeline({
      source: Readable.from([body]),
      input,
      output,
      sink,
      card,
      predictor: fakePredictor(),
      requestId: 'r',
      batch: { maxRows: 64, maxWaitMs: 1 },
      limits: { maxFieldBytes: 65536 },
    });
    return { ok: true, text: sink.text() };
  } catch (err) {
    const e = err as { code: string; message: string };
    return { ok: false, code: e.code, message: e.message };
  }
}

async function viaBuffer(body: Buffer, input: 'csv' | 'ndjson', output: OutputFormat): Promise<Outcome> {
  try {
    const r = await scoreBuffer({
      body,
      input,
      output,
      card,
      predictor: fakePredictor(),
      requestId: 'r',
      batchRows: 64,
      limits: { maxFieldBytes: 65536 },
    });
    return { ok: true, text: r.body.toString('utf8') };
  } catch (err) {
    const e = err as { code: string; message: string };
    return { ok: false, code: e.code, message: e.message };
  }
}

const cell = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: -3, max: 250_000 }).map(String) },
  fc.constantFrom('', 'abc', 'NaN', '1e400', '0x10', '17', '121', '30.5', ' 42 ', '"q,uo""te"', 'Zoë ✓'),
);
const row = fc.array(cell, { minLength: 7, maxLength: 10 });
const csvBody = fc
  .record({
    rows: fc.array(row, { maxLength: 150 }),
    bom: fc.boolean(),
    // One ending for the whole body, or (mixed) each line's own, as pasted-together files have.
    eol: fc.constantFrom('\n', '\r\n', '\r', 'mixed'),
    extra: fc.boolean(),
    blank: fc.boolean(),
  })
  .map(({ rows, bom, eol, extra, blank }) => {
    const nl = (i: number): string => (eol === 'mixed' ? ['\n', '\r\n', '\r'][i % 3]! : eol);
    const head = [...FEATURES, ...(extra ? ['note', 'target'] : [])].join(',');
    const lines = rows.map((r) => r.join(','));
    if (blank && lines.length > 2) lines.splice(1, 0, '');
    return Buffer.from(`${bom ? '\uFEFF' : ''}${[head, ...lines].map((l, i) => l + nl(i)).join('')}`);
  });

t.test("CSV: the buffered path gives the stream pipeline's bytes, or its error", async (t) => {
  await fc.assert(
    fc.asyncProperty(csvBody, fc.constantFrom<OutputFormat>('json', 'ndjson', 'csv'), async (body, output) => {
      const [a, b] = await Promise.all([viaStreams(body, 'csv', output), viaBuffer(body, 'csv', output)]);
      t.same(b, a);
      return JSON.stringify(a) === JSON.stringify(b);
    }),
    { numRuns: 150 },
  );
});

const ndjsonBody = fc
  .array(
    fc.oneof(
      {
        weight: 5,
        arbitrary: fc
          .array(cell, { minLength: 8, maxLength: 8 })
          .map((cells) =>
            JSON.stringify(Object.fromEntries(FEATURES.map((f, i) => [f, /^-?\d+$/.test(cells[i]!) ? Number(cells[i]) : cells[i]]))),
          ),
      },
      fc.constantFrom('not json', '[1,2]', '', '{"age": {"nested": 1}}'),
    ),
    { maxLength: 80 },
  )
  .map((lines) => Buffer.from(lines.join('\n')));

t.test("NDJSON: the buffered path gives the stream pipeline's bytes, or its error", async (t) => {
  await fc.assert(
    fc.asyncProperty(ndjsonBody, fc.constantFrom<OutputFormat>('json', 'ndjson'), async (body, output) => {
      const [a, b] = await Promise.all([viaStreams(body, 'ndjson', output), viaBuffer(body, 'ndjson', output)]);
      return JSON.stringify(a) === JSON.stringify(b);
    }),
    { numRuns: 150 },
  );
  t.pass('150 random bodies agree');
});

t.test('errors are the same too: empty, missing columns, encodings', async (t) => {
  for (const body of ['', '\n\n', 'credit_limit,age\n1,2\n', '\uFEFF', Buffer.from([0xff, 0xfe, 0x61, 0x00]).toString('latin1')]) {
    const buf = Buffer.from(body, body.startsWith('\xff') ? 'latin1' : 'utf8');
    t.same(await viaBuffer(buf, 'csv', 'json'), await viaStreams(buf, 'csv', 'json'), JSON.stringify(body));
  }
});
