// CSV's byte-level fast path (src/stages/csv-spans.ts) against csv-parser, the reference: on
// generated bodies — quote-free lines mostly, with quoted cells, ragged and blank lines, mixed
// line endings, non-ASCII text, lines over the row limit — cut into random chunks, both give the
// same rows (cells, numbers, errors), the same validated values and the same failure.
import t from 'tap';
import fc from 'fast-check';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { toDriftlineError } from '../src/errors.js';
import { allSpanCells, spanCells } from '../src/stages/csv-spans.js';
import { Formatter } from '../src/stages/format.js';
import { CsvParseCore, createParseCsv } from '../src/stages/parse-csv.js';
import { isRowError, type CsvSpans, type KeptCells, type ParsedOrSpans, type RowBlock } from '../src/stages/types.js';
import { ChunkValidator } from '../src/stages/validate.js';
import { FEATURES, chunked, testCard } from './helpers/fixtures.js';

const RUNS = 300;
const card = testCard();

const plainCell = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: -200_000, max: 2_000_000 }).map(String) },
  { weight: 2, arbitrary: fc.double({ min: -1e6, max: 1e6, noNaN: true }).map(String) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      '',
      ' ',
      ' 7',
      '7 ',
      '-0',
      '007',
      '0',
      '00',
      '+5',
      '1e3',
      '.5',
      '5.',
      '0x1f',
      '0b1',
      'abc',
      'é',
      '١٢',
      '9999999999999999',
      '-',
      '--1',
      '1-',
    ),
  },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 6 }).filter((s) => !/[",\r\n]/.test(s) && !s.includes('\u0000')) },
);
const quotedCell = fc.oneof(
  plainCell.map((s) => `"${s}"`),
  fc.constantFrom('"a""b"', '"x,y"', '"line\nbreak"', '""', '"', 'a"b', '"12"3'),
);
const targetCell = fc.constantFrom('0', '1', '0', '1', '', ' 1', '2', '1.0', 'yes', '-1', '01');
/** \u0001 stands for a byte that is no UTF-8 (see text()). */
const noteCell = fc.oneof(plainCell, fc.constantFrom('=1+2', '-x', '@a', '\t1', '+-', '-1', '+5', 'a\u0001b', 'é=', '-'));
const usually = (good: fc.Arbitrary<string>) => fc.oneof({ weight: 10, arbitrary: good }, { weight: 1, arbitrary: plainCell });
/** A column's cell: mostly what the card accepts there (testCard: age 18–120, credit_limit ≥ 0). */
const columnCell = (name: string): fc.Arbitrary<string> =>
  name === 'target'
    ? targetCell
    : name === 'note'
      ? noteCell
      : name === 'age'
        ? usually(fc.integer({ min: 18, max: 120 }).map(String))
        : name === 'credit_limit'
          ? usually(fc.oneof(fc.nat().map(String), fc.double({ min: 0, max: 1e7, noNaN: true }).map(String)))
          : usually(fc.oneof(fc.integer({ min: -1e6, max: 1e6 }).map(String), fc.double({ min: -1e6, max: 1e6, noNaN: true }).map(String)));

/** A layout: the features in some order with, maybe, target, id and note columns. */
const layout = fc.record({
  order: fc.shuffledSubarray([...FEATURES, 'target', 'id', 'note'], { minLength: FEATURES.length + 3 }),
  drop: fc.subarray(['target', 'id', 'note']),
});

const line = (n: number, names: string[]) =>
  fc.oneof(
    { weight: 30, arbitrary: fc.tuple(...names.map(columnCell)).map((cells) => cells.join(',')) },
    { weight: 1, arbitrary: fc.array(plainCell, { minLength: 0, maxLength: n + 2 }).map((cells) => cells.join(',')) },
    { weight: 1, arbitrary: fc.array(fc.oneof(plainCell, quotedCell), { minLength: n, maxLength: n }).map((cells) => cells.join(',')) },
    { weight: 1, arbitrary: fc.constantFrom('', ' ', ',', ','.repeat(n - 1), ','.repeat(n)) },
  );

const body = layout.chain(({ order, drop }) => {
  const names = order.filter((c) => !drop.includes(c));
  return fc.record({
    names: fc.constant(names),
    lines: fc.array(line(names.length, names), { maxLength: 40, size: 'medium' }),
    ends: fc.array(fc.constantFrom('\n', '\n', '\n', '\r\n', '\r'), { minLength: 41, maxLength: 41 }),
    lastEnd: fc.boolean(),
    cuts: fc.array(fc.nat({ max: 4000 }), { maxLength: 12 }),
    maxRowBytes: fc.constantFrom(64 * 1024, 64 * 1024, 64 * 1024, 90, 200),
  });
});

function text(b: { names: string[]; lines: string[]; ends: string[]; lastEnd: boolean }): Buffer {
  let s = `${b.names.join(',')}${b.ends[40]}`;
  b.lines.forEach((l, i) => (s += l + (i < b.lines.length - 1 || b.lastEnd ? b.ends[i] : '')));
  return Buffer.from(Buffer.from(s).map((c) => (c === 1 ? 0xff : c)));
}

interface Outcome {
  items: unknown[];
  error?: string;
}

/** Parse-level: every row as its cells (spans materialized) or its error, with its number. */
function parseItems(recs: ParsedOrSpans[]): unknown[] {
  const out: unknown[] = [];
  for (const r of recs) {
    if (r.kind === 'header') out.push({ header: r.columns });
    else if (r.kind === 'spans') allSpanCells(r).forEach((cells, i) => out.push({ row: r.first + i, cells }));
    else r.rows.forEach((x, i) => out.push(isRowError(x) ? x : { row: r.first + i, cells: Object.values(x) }));
  }
  return out;
}

const cellsOf = (k: KeptCells, spanRow: number): unknown[] => (spanRow === -1 ? Object.values(k) : spanCells(k as CsvSpans, spanRow));

/** Validate-level: per item, its row number and values, or its error; cells as the output echoes them. */
function blockItems(blocks: RowBlock[]): unknown[] {
  const out: unknown[] = [];
  for (const b of blocks) {
    let r = 0;
    let e = 0;
    for (let i = 0; i < b.count; i++) {
      if (b.valid[i] === 1) {
        out.push({
          row: b.rowIndex[r],
          features: Array.from(b.features.subarray(r * b.nFeatures, (r + 1) * b.nFeatures)),
          target: b.targets[r],
          id: b.ids?.[r] ?? null,
          cells: b.cells === null ? null : cellsOf(b.cells[r]!, b.spanRow![r]!),
        });
        r++;
      } else out.push(b.errors[e++]);
    }
  }
  return out;
}

async function streamed(buf: Buffer, cuts: number[], spans: boolean, maxRowBytes: number): Promise<Outcome & { recs: ParsedOrSpans[] }> {
  const recs: ParsedOrSpans[] = [];
  const sink = new Writable({
    objectMode: true,
    write(p: ParsedOrSpans, _enc, cb) {
      recs.push(p);
      cb();
    },
  });
  try {
    await pipeline(chunked(buf, cuts), createParseCsv({ spans, maxRowBytes, maxColumns: 50 }), sink);
    return { recs, items: parseItems(recs) };
  } catch (err) {
    return { recs, items: parseItems(recs), error: toDriftlineError(err).code };
  }
}

/** Validated rows and, with cells kept, the CSV response they make (a made-up probability per row). */
function validated(recs: ParsedOrSpans[], keepCells: boolean): Outcome {
  const v = new ChunkValidator(card, { keepCells });
  const f = new Formatter('csv', { card, requestId: 'r' });
  const csv: Buffer[] = [];
  const blocks: RowBlock[] = [];
  try {
    for (const r of recs) {
      if (r.kind === 'header') {
        v.onHeader(r);
        csv.push(f.write(r));
      } else {
        const b = v.block(r);
        blocks.push(b);
        const probabilities = Float32Array.from(b.rowIndex, (i) => (i % 97) / 96);
        if (keepCells) csv.push(f.write({ ...b, kind: 'batch', seq: blocks.length, results: { probabilities, queueMs: 0, computeMs: 0 } }));
      }
    }
    return { items: [...blockItems(blocks), Buffer.concat(csv).toString('latin1')] };
  } catch (err) {
    return { items: blockItems(blocks), error: toDriftlineError(err).code };
  }
}

/** What differs; one side may have passed on more rows before a failure: compare the common part. */
function differences(a: Outcome, b: Outcome, what: string): string[] {
  const same = (x: unknown, y: unknown): boolean => JSON.stringify(x) === JSON.stringify(y);
  if (a.error === undefined && b.error === undefined) return same(a.items, b.items) ? [] : [what];
  const n = Math.min(a.items.length, b.items.length);
  return [
    ...(a.error === b.error ? [] : [`${what}: failed with ${a.error} against ${b.error}`]),
    ...(same(a.items.slice(0, n), b.items.slice(0, n)) ? [] : [`${what}: different rows before the failure`]),
  ];
}

t.test('streamed: spans give csv-parser’s rows, values and failures, however the body is cut', async (t) => {
  let spanRows = 0;
  let validRows = 0;
  await fc.assert(
    fc.asyncProperty(body, async (b) => {
      const buf = text(b);
      const ref = await streamed(buf, b.cuts, false, b.maxRowBytes);
      const fast = await streamed(buf, b.cuts, true, b.maxRowBytes);
      spanRows += fast.recs.reduce((n, r) => n + (r.kind === 'spans' ? r.rows : 0), 0);
      validRows += validated(fast.recs, false).items.filter((x) => (x as { features?: unknown }).features !== undefined).length;
      const fails = differences(fast, ref, 'parsed rows');
      if (ref.error === undefined && fast.error === undefined) {
        for (const keep of [false, true])
          fails.push(...differences(validated(fast.recs, keep), validated(ref.recs, keep), `validated (cells kept: ${keep})`));
      }
      if (fails.length > 0) throw new Error(fails.join('; '));
    }),
    { numRuns: RUNS },
  );
  t.ok(spanRows > RUNS, `the fast path took rows (${spanRows})`);
  t.ok(validRows > RUNS, `rows passed validation (${validRows})`);
});

t.test('a whole body at once (small requests) gives what the stream gives', async (t) => {
  await fc.assert(
    fc.asyncProperty(body, async (b) => {
      const buf = text(b);
      const whole = (spans: boolean): Outcome & { recs: ParsedOrSpans[] } => {
        const recs: ParsedOrSpans[] = [];
        const core = new CsvParseCore({ spans, maxRowBytes: 64 * 1024, maxColumns: 50 }, (p) => recs.push(p));
        try {
          core.parseAll(buf);
          return { recs, items: parseItems(recs) };
        } catch (err) {
          return { recs, items: parseItems(recs), error: toDriftlineError(err).code };
        }
      };
      const fast = whole(true);
      const ref = whole(false);
      const fails = differences(fast, ref, 'parsed rows');
      if (ref.error === undefined) fails.push(...differences(validated(fast.recs, true), validated(ref.recs, true), 'validated rows'));
      if (fails.length > 0) throw new Error(fails.join('; '));
    }),
    { numRuns: RUNS },
  );
  t.pass(`${RUNS} bodies`);
});
