// Random records, written as CSV, a JSON array or NDJSON and cut into random chunks, through the
// whole pipeline (with the fake model): every row comes back once, in order, predicted exactly
// when all its features are usable, with the probability of its own values; the rest are
// reported as row errors. And random cell values of any type straight into the validate stage.
import t from 'tap';
import fc from 'fast-check';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DriftlineError } from '../src/errors.js';
import { runPipeline } from '../src/pipeline/index.js';
import type { InputFormat, Parsed, RowBlock, RowError, Rows, Validated } from '../src/stages/types.js';
import { createValidateRows } from '../src/stages/validate.js';
import { ALIASES, FEATURES, chunked, collector, fakePredictor, fakeProbability, testCard } from './helpers/fixtures.js';

const RUNS = 200;
const card = testCard();

/** A cell as written, whether the model may use it, and the number it stands for. */
interface Cell {
  text: string;
  json: unknown;
  ok: boolean;
  value: number;
}

const usable = (text: string, value: number, json: unknown = value): Cell => ({ text, json, ok: true, value });
const unusable = (text: string, json: unknown = text): Cell => ({ text, json, ok: false, value: Number.NaN });

// testCard(): age is an integer in [18, 120], credit_limit is ≥ 0, the rest are any finite number.
const ageCell = fc.oneof(
  fc.integer({ min: 18, max: 120 }).map((v) => usable(String(v), v)),
  fc.integer({ min: 18, max: 120 }).map((v) => usable(` ${v} `, v, ` ${v} `)),
  fc.constantFrom(17, 121, -1, 1000).map((v) => unusable(String(v), v)),
  fc.constant(unusable('24.5', 24.5)),
);
const limitCell = fc.oneof(
  fc.integer({ min: 0, max: 10_000_000 }).map((v) => usable(String(v), v)),
  fc.double({ min: 0, max: 1e9, noNaN: true }).map((v) => usable(String(v), v)),
  fc.constant(unusable('-1', -1)),
);
const anyNumberCell = fc.oneof(
  fc.integer({ min: -100_000, max: 100_000 }).map((v) => usable(String(v), v)),
  fc.double({ min: -1e12, max: 1e12, noNaN: true }).map((v) => usable(String(v), v)),
  fc.constantFrom('1e3', '-2.5E-3', '+7', '.5', '5.').map((s) => usable(s, Number(s), s)),
);
const junkCell = fc.oneof(
  fc
    .constantFrom('', ' ', 'abc', 'NaN', 'Infinity', '-Infinity', '0x10', '0b11', '1e400', '1,000', '1_000', '١٢', 'null')
    .map((s) => unusable(s)),
  // Text that is not a number, of any characters but NUL (NUL in the first KiB is a 400).
  fc
    .string({ unit: 'grapheme', maxLength: 12 })
    .filter((s) => !s.includes('\u0000') && s.trim() !== '' && !/^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/.test(s))
    .map((s) => unusable(s)),
);
const featureCell = (j: number) =>
  fc.oneof({ weight: 6, arbitrary: j === 0 ? limitCell : j === 1 ? ageCell : anyNumberCell }, { weight: 1, arbitrary: junkCell });

/** A record: its eight cells, a passed-through note, and (CSV only) cells added or dropped. */
const record = fc.record({
  cells: fc.tuple(...FEATURES.map((_, j) => featureCell(j))),
  note: fc.string({ unit: 'grapheme', maxLength: 16 }).filter((s) => !s.includes('\u0000')),
  ragged: fc.oneof({ weight: 8, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constantFrom(-3, -1, 1, 2) }),
});

/** The header: each feature by its name or its raw alias, in any order, with a note column. */
const layout = fc.record({
  names: fc.tuple(...FEATURES.map((f, j) => fc.constantFrom(f, ALIASES[j]!))),
  order: fc.shuffledSubarray([...Array(FEATURES.length + 1).keys()], { minLength: FEATURES.length + 1 }),
});

const quote = (s: string): string => (/[",\r\n]/.test(s) || s !== s.trim() ? `"${s.replace(/"/g, '""')}"` : s);

function write(
  format: InputFormat,
  lay: { names: string[]; order: number[] },
  records: { cells: Cell[]; note: string; ragged: number }[],
): { body: string; ok: boolean[] } {
  const names = [...lay.names, 'note'];
  const ok = records.map((r) => r.cells.every((c) => c.ok) && (format !== 'csv' || r.ragged === 0));
  if (format === 'csv') {
    const lines = [lay.order.map((i) => names[i]!).join(',')];
    for (const r of records) {
      let cells = lay.order.map((i) => (i < FEATURES.length ? quote(r.cells[i]!.text) : quote(r.note)));
      if (r.ragged < 0) cells = cells.slice(0, cells.length + r.ragged);
      if (r.ragged > 0) cells = [...cells, ...Array<string>(r.ragged).fill('x')];
      lines.push(cells.join(','));
    }
    return { body: `${lines.join('\n')}\n`, ok };
  }
  const objects = records.map((r) =>
    Object.fromEntries(lay.order.map((i) => [names[i]!, i < FEATURES.length ? r.cells[i]!.json : r.note])),
  );
  return { body: format === 'json' ? JSON.stringify(objects) : objects.map((o) => JSON.stringify(o)).join('\n'), ok };
}

const scenario = fc
  .record({
    format: fc.constantFrom<InputFormat>('csv', 'json', 'ndjson'),
    lay: layout,
    records: fc.array(record, { minLength: 1, maxLength: 40 }),
    batch: fc.integer({ min: 1, max: 16 }),
  })
  .chain((s) => fc.array(fc.nat(), { maxLength: 10 }).map((cuts) => ({ ...s, cuts })));

t.test('random records through the pipeline: each row predicted or reported, once, in order', async (t) => {
  let predicted = 0;
  let rejected = 0;
  await fc.assert(
    fc.asyncProperty(scenario, async (s) => {
      const { body, ok } = write(s.format, s.lay, s.records);
      const buf = Buffer.from(body);
      const sink = collector();
      const result = await runPipeline({
        source: chunked(
          buf,
          s.cuts.map((c) => c % (buf.length + 1)),
        ),
        input: s.format,
        output: 'ndjson',
        sink,
        card,
        predictor: fakePredictor(),
        requestId: 'fuzz',
        batch: { maxRows: s.batch, maxWaitMs: 1 },
      });
      const lines = sink
        .text()
        .trim()
        .split('\n')
        .map(
          (l) =>
            JSON.parse(l) as { row?: number; probability?: number; error?: RowError; summary?: { n_rows: number; n_rejected: number } },
        );
      const summary = lines.pop()?.summary;
      const n = s.records.length;
      if (summary === undefined) throw new Error('no summary line');
      if (summary.n_rows + summary.n_rejected !== n || result.n_rows + result.n_rejected !== n)
        throw new Error(`${n} rows in, ${summary.n_rows} + ${summary.n_rejected} out`);
      if (lines.length !== n) throw new Error(`${lines.length} lines for ${n} rows`);
      lines.forEach((line, i) => {
        if (line.row !== i) throw new Error(`line ${i} is row ${line.row}`);
        if (ok[i] !== (line.error === undefined))
          throw new Error(
            `row ${i}: ${ok[i] ? 'usable' : 'unusable'} but ${line.error === undefined ? 'predicted' : `rejected (${line.error.message})`}`,
          );
        if (line.error !== undefined) return;
        // The probability of this row's own values: a shifted or misread cell would change it.
        const values = s.records[i]!.cells.map((c) => Math.fround(c.value));
        if (Math.fround(Number(line.probability)) !== fakeProbability(values))
          throw new Error(`row ${i}: probability ${line.probability}, expected ${fakeProbability(values)}`);
      });
      predicted += summary.n_rows;
      rejected += summary.n_rejected;
    }),
    { numRuns: RUNS },
  );
  t.ok(predicted > 0 && rejected > 0, `${predicted} rows predicted and ${rejected} rejected across the runs`);
});

t.test('random cell values of any type into validateRows: no throw, every row valid or an error, valid ones in range', async (t) => {
  const item = fc.oneof(
    {
      weight: 8,
      arbitrary: fc.array(fc.oneof(fc.anything(), fc.double(), fc.integer({ min: 0, max: 200 }).map(String)), {
        minLength: 0,
        maxLength: 11,
      }),
    },
    { weight: 1, arbitrary: fc.constant('error' as const) },
  );
  const chunks = fc.array(fc.array(item, { maxLength: 20 }), { maxLength: 6 });
  const columns = fc.constantFrom([...FEATURES], [...FEATURES, 'target', 'id'], ['id', ...ALIASES, 'note']);
  await fc.assert(
    fc.asyncProperty(columns, chunks, async (cols, parts) => {
      const input: Parsed[] = [{ kind: 'header', format: 'json', columns: [...cols] }];
      let next = 0;
      for (const part of parts) {
        const rows: Rows['rows'] = part.map((p, i) =>
          p === 'error' ? { kind: 'error', index: next + i, column: null, code: 'DL_ERR_ROW_MALFORMED', message: 'upstream' } : p,
        );
        input.push({ kind: 'rows', first: next, rows });
        next += part.length;
      }
      const blocks: RowBlock[] = [];
      await pipeline(
        Readable.from(input),
        createValidateRows(card, { keepCells: true }),
        new Writable({
          objectMode: true,
          write(rec: Validated, _enc, cb) {
            if (rec.kind === 'block') blocks.push(rec);
            cb();
          },
        }),
      );
      const seen: number[] = [];
      for (const b of blocks) {
        if (b.rows + b.errors.length !== b.count) throw new Error('a block lost a row');
        for (let r = 0; r < b.rows; r++) {
          seen.push(b.rowIndex[r]!);
          const f = b.features.subarray(r * FEATURES.length, (r + 1) * FEATURES.length);
          if (!f.every(Number.isFinite)) throw new Error(`row ${b.rowIndex[r]} was accepted with ${Array.from(f)}`);
          if (!(f[1]! >= 18 && f[1]! <= 120 && Number.isInteger(f[1])) || !(f[0]! >= 0))
            throw new Error(`row ${b.rowIndex[r]} out of the card's range: ${Array.from(f)}`);
        }
        for (const e of b.errors) seen.push(e.index);
      }
      seen.sort((a, b) => a - b);
      if (seen.join() !== Array.from({ length: next }, (_, i) => i).join()) throw new Error(`rows ${seen.join()} of 0..${next - 1}`);
    }),
    { numRuns: RUNS },
  );
  t.pass('every property run held');
});

t.test('runPipeline fails only with DriftlineErrors (random bodies, any format)', async (t) => {
  const formats: InputFormat[] = ['csv', 'json', 'ndjson'];
  let failed = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...formats),
      fc.uint8Array({ maxLength: 300 }),
      fc.array(fc.nat(), { maxLength: 5 }),
      async (format, bytes, cuts) => {
        const buf = Buffer.concat([Buffer.from(`${FEATURES.join(',')}\n`), Buffer.from(bytes)]);
        try {
          await runPipeline({
            source: chunked(
              buf,
              cuts.map((c) => c % (buf.length + 1)),
            ),
            input: format,
            output: 'json',
            sink: collector(),
            card,
            predictor: fakePredictor(),
            requestId: 'fuzz',
            batch: { maxRows: 8, maxWaitMs: 1 },
            limits: { maxFieldBytes: 128, maxColumns: 12 },
          });
        } catch (err) {
          failed++;
          if (!(err instanceof DriftlineError) || err.status >= 500) throw new Error(`escaped as ${String(err)}`, { cause: err });
        }
      },
    ),
    { numRuns: RUNS },
  );
  t.ok(failed > 0, `${failed} runs failed, all with typed 4xx errors`);
});
