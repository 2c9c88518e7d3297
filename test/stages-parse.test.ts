import t from 'tap';
import { Readable } from 'node:stream';
import { CsvHeaderGuard, CsvRecordMapper, createParseCsv } from '../src/stages/parse-csv.js';
import { LoneCrNormalizer } from '../src/line-endings.js';
import { FixedBlocks, JsonRowAssembler, createParseJson } from '../src/stages/parse-json.js';
import { NdjsonLineParser, createParseNdjson } from '../src/stages/parse-ndjson.js';
import { isKeyedRow, isRowError, type Header, type KeyedRow, type Parsed, type RowError } from '../src/stages/types.js';

interface RawRow {
  kind: 'row';
  index: number;
  cells: unknown[];
}
import { chunked } from './helpers/fixtures.js';

type Flat = Header | RawRow | RowError | KeyedRow;
async function parseAll(stage: NodeJS.ReadWriteStream, input: Readable): Promise<Flat[]> {
  const out: Flat[] = [];
  input.pipe(stage as unknown as NodeJS.WritableStream);
  for await (const rec of stage as unknown as AsyncIterable<Parsed>) {
    if (rec.kind === 'header') out.push(rec);
    else
      rec.rows.forEach((r, i) =>
        out.push(
          isRowError(r) || isKeyedRow(r) ? r : { kind: 'row', index: rec.first + i, cells: Array.isArray(r) ? r : Object.values(r) },
        ),
      );
  }
  return out;
}
const everyByte = (s: string): Readable => {
  const b = Buffer.from(s);
  return chunked(
    b,
    Array.from({ length: b.length }, (_, i) => i),
  );
};

t.test('CsvRecordMapper: header names, BOM, blank lines and ragged rows', async (t) => {
  const m = new CsvRecordMapper();
  t.equal(m.mapHeader({ header: '\uFEFFa', index: 0 }), '0', 'columns are keyed by position');
  t.equal(m.mapHeader({ header: ' b ', index: 1 }), '1');
  t.same(m.header(), { kind: 'header', format: 'csv', columns: ['a', 'b'] });
  t.same(m.map({ 0: '1', 1: '2' }), { 0: '1', 1: '2' }, "a row is csv-parser's record itself");
  t.equal(m.map({}), undefined, 'blank lines are skipped and not counted');
  t.same(m.map({ 0: '1' }), {
    kind: 'error',
    index: 1,
    column: null,
    code: 'DL_ERR_ROW_WRONG_CELL_COUNT',
    message: 'expected 2 cells, found 1',
  });
  t.same(m.map({ 0: '1', 1: '2', _2: '3' }), {
    kind: 'error',
    index: 2,
    column: null,
    code: 'DL_ERR_ROW_WRONG_CELL_COUNT',
    message: 'expected 2 cells, found 3',
  });
  const wide = new CsvRecordMapper(2);
  for (let i = 0; i < 3; i++) wide.mapHeader({ header: `c${i}`, index: i });
  t.throws(() => wide.header(), { code: 'DL_ERR_TOO_MANY_COLUMNS' });
  t.throws(() => new CsvRecordMapper().header(), { code: 'DL_ERR_EMPTY_BODY' });
});

t.test('LoneCrNormalizer: every lone CR becomes LF, CRLF and LF pass untouched, a CR split across chunks', async (t) => {
  const run = (parts: string[]): string => {
    const n = new LoneCrNormalizer();
    return parts.map((p) => n.push(Buffer.from(p)).toString()).join('') + n.end().toString();
  };
  t.equal(run(['a,b\r1,2\r']), 'a,b\n1,2\n');
  t.equal(run(['a,b\r', '1,2\r3']), 'a,b\n1,2\n3');
  t.equal(run(['a,b\r', '\n1,2\r\n']), 'a,b\r\n1,2\r\n');
  t.equal(run(['a,b\n1\r2']), 'a,b\n1\n2', 'a lone CR after LF lines still ends a line');
  t.equal(run(['a\r\nb\rc\nd\r', '\r\ne']), 'a\r\nb\nc\nd\n\r\ne', 'mixed endings, a CR held across chunks');
  const lf = Buffer.from('a,b\n1,2\n');
  t.equal(new LoneCrNormalizer().push(lf), lf, 'a chunk without a lone CR is passed on, not copied');
  t.equal(run(['a,b\r']), 'a,b\n');
});

t.test('parseCsv: quotes, CRLF, lone CR, 1-byte chunks', async (t) => {
  const csv = 'a,b\r\n"1,5","x\r\ny ""q"""\r\n3,4\r\n';
  for (const [name, src] of [
    ['whole', Readable.from([Buffer.from(csv)])],
    ['1-byte chunks', everyByte(csv)],
  ] as const) {
    const out = await parseAll(createParseCsv(), src);
    t.same(
      out,
      [
        { kind: 'header', format: 'csv', columns: ['a', 'b'] },
        { kind: 'row', index: 0, cells: ['1,5', 'x\r\ny "q"'] },
        { kind: 'row', index: 1, cells: ['3', '4'] },
      ],
      name,
    );
  }
  const cr = await parseAll(createParseCsv(), everyByte('a,b\r1,2\r3,4'));
  t.same(
    cr.slice(1),
    [
      { kind: 'row', index: 0, cells: ['1', '2'] },
      { kind: 'row', index: 1, cells: ['3', '4'] },
    ],
    'lone CR line endings',
  );
  const multi = await parseAll(createParseCsv(), everyByte('name,v\n"Zoë, ünïcode ✓",1\n'));
  t.same(multi[1], { kind: 'row', index: 0, cells: ['Zoë, ünïcode ✓', '1'] }, 'multi-byte characters split across chunks');
});

t.test('parseCsv leaves the bytes it was given as they were (csv-parser unescapes "" in place)', async (t) => {
  const body = Buffer.from('a,b\n1,"say ""hi"", twice"\n2,"""q"""\n');
  const before = Buffer.from(body);
  // Each chunk a view of one buffer, as a request body's pieces are, with rows whole inside a chunk.
  const out = await parseAll(createParseCsv(), chunked(body, [body.indexOf('\n2') + 1]));
  t.same(
    out.slice(1).map((r) => (r as RawRow).cells),
    [
      ['1', 'say "hi", twice'],
      ['2', '"q"'],
    ],
  );
  t.ok(body.equals(before), "the caller's buffer is unchanged");
  const again = await parseAll(createParseCsv(), chunked(body, []));
  t.same(again, out, 'the same buffer parsed again gives the same rows');
});

t.test('parseCsv: an empty body and a row over the byte limit are errors', async (t) => {
  await t.rejects(parseAll(createParseCsv(), Readable.from([Buffer.alloc(0)])), { code: 'DL_ERR_EMPTY_BODY' });
  await t.rejects(parseAll(createParseCsv(), Readable.from([Buffer.from('\n\n')])), { code: 'DL_ERR_EMPTY_BODY' });
  await t.rejects(parseAll(createParseCsv({ maxRowBytes: 100 }), Readable.from([Buffer.from(`a\n"${'x'.repeat(1000)}"\n`)])), {
    code: 'DL_ERR_FIELD_TOO_LARGE',
  });
});

t.test('JsonRowAssembler and parseJson', async (t) => {
  const body = '[{"a":1,"b":"x"},{"b":2,"a":"3"},5,{"a":{"n":1},"b":1},{"a":[1,2],"b":2},{"a":null,"b":true}]';
  const out = await parseAll(createParseJson(), everyByte(body));
  t.same(out, [
    { kind: 'header', format: 'json', columns: ['a', 'b'] },
    { kind: 'row', index: 0, cells: [1, 'x'] },
    { kind: 'row', index: 1, cells: ['3', 2] },
    { kind: 'error', index: 2, column: null, code: 'DL_ERR_ROW_MALFORMED', message: 'the array element 5 is not a row object' },
    { kind: 'error', index: 3, column: null, code: 'DL_ERR_ROW_MALFORMED', message: 'column "a" holds a nested object' },
    { kind: 'error', index: 4, column: null, code: 'DL_ERR_ROW_MALFORMED', message: 'column "a" holds a nested array' },
    { kind: 'row', index: 5, cells: [null, true] },
  ]);
  await t.rejects(parseAll(createParseJson(), Readable.from([Buffer.from('{"a":1}')])), {
    code: 'DL_ERR_BAD_INPUT',
    message: /must be an array/,
  });
  await t.rejects(parseAll(createParseJson(), Readable.from([Buffer.from('[]')])), { code: 'DL_ERR_EMPTY_BODY' });
  await t.rejects(parseAll(createParseJson(), Readable.from([Buffer.from('')])), { code: 'DL_ERR_EMPTY_BODY' });
  await t.rejects(parseAll(createParseJson(), Readable.from([Buffer.from('[{"a":1},')])), {
    code: 'DL_ERR_BAD_INPUT',
    message: /Malformed JSON/,
  });
  await t.rejects(parseAll(createParseJson({ maxDepth: 10 }), Readable.from([Buffer.from(`[${'['.repeat(50)}`)])), {
    code: 'DL_ERR_BAD_INPUT',
    message: /nested deeper/,
  });
  await t.rejects(parseAll(createParseJson({ maxFieldBytes: 100 }), Readable.from([Buffer.from(`[{"a":"${'x'.repeat(1000)}"}]`)])), {
    code: 'DL_ERR_FIELD_TOO_LARGE',
  });
  const seen: unknown[] = [];
  const asm = new JsonRowAssembler((p) => seen.push(p));
  t.throws(() => asm.end(), { code: 'DL_ERR_EMPTY_BODY' });
});

t.test('FixedBlocks re-cuts a stream at fixed offsets, however it arrived', async (t) => {
  const body = Buffer.from('abcdefghijklmnopqrstuvwxyz');
  for (const cuts of [[], [1], [3, 4, 5], [2, 9, 10, 25], Array.from({ length: 26 }, (_, i) => i)]) {
    const fb = new FixedBlocks(4);
    const blocks: string[] = [];
    for await (const c of chunked(body, cuts)) blocks.push(...fb.push(c as Buffer).map(String));
    blocks.push(...fb.end().map(String));
    t.same(blocks, ['abcd', 'efgh', 'ijkl', 'mnop', 'qrst', 'uvwx', 'yz'], `cut at ${cuts.join(',') || 'nothing'}`);
  }
  const fb = new FixedBlocks(4);
  t.same(fb.push(Buffer.from('abcd')).map(String), ['abcd']);
  t.same(fb.end(), [], 'ending on a block boundary leaves nothing');
});

t.test('parseJson: a row over a limit before a syntax error answers the same, wherever the body is cut', async (t) => {
  // The first row has 7 columns (limit 6); a second top-level value follows: both are fatal.
  const body = Buffer.from('[{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7},{"a":1}]\n[]');
  const codes = new Set<string | undefined>();
  for (let cut = 0; cut <= body.length; cut++) {
    const stage = createParseJson({ maxColumns: 6 });
    try {
      await parseAll(stage, chunked(body, [cut]));
      codes.add(undefined);
    } catch (err) {
      codes.add((err as { code?: string }).code);
    }
  }
  t.equal(codes.size, 1, `one answer for every cut (${[...codes].join(', ')})`);
});

t.test('NdjsonLineParser and parseNdjson', async (t) => {
  const body = '{"a":1,"b":2}\n\n{"a":3,"b":4}\r\nnot json\n[1,2]\n{"b":5}';
  const out = await parseAll(createParseNdjson(), everyByte(body));
  t.same(out[0], { kind: 'header', format: 'ndjson', columns: ['a', 'b'] });
  t.same(out[1], { kind: 'row', index: 0, cells: [1, 2] });
  t.same(out[2], { kind: 'row', index: 1, cells: [3, 4] }, 'CRLF and blank lines');
  t.match(out[3], { kind: 'error', index: 2, column: null, message: /not valid JSON/ });
  t.same(out[4], { kind: 'error', index: 3, column: null, code: 'DL_ERR_ROW_MALFORMED', message: 'the line is not a JSON object' });
  t.same(
    out[5],
    { kind: 'keyed', keys: ['b'], values: [5] },
    "a row without one of the header's keys keeps its own (validation reports the missing value); no trailing newline needed",
  );
  const p = new NdjsonLineParser(() => undefined, { maxLineBytes: 10 });
  t.throws(() => p.write(Buffer.from('{"a":"0123456789"')), { code: 'DL_ERR_FIELD_TOO_LARGE' });
  await t.rejects(parseAll(createParseNdjson(), Readable.from([Buffer.from('\n \n')])), { code: 'DL_ERR_EMPTY_BODY' });
});

t.test('CsvHeaderGuard: counts header columns as bytes arrive, skips leading blank lines, then steps aside', async (t) => {
  const g = new CsvHeaderGuard(3, 100);
  t.equal(g.push(Buffer.from('\r\n\n')).length, 0, 'blank lines before the header are dropped');
  t.equal(g.push(Buffer.from('a,"b,c",')).toString(), 'a,"b,c",', 'a quoted comma is no column');
  g.push(Buffer.from('d'));
  t.throws(
    () => g.push(Buffer.from(',e')),
    { code: 'DL_ERR_TOO_MANY_COLUMNS' },
    'the fourth column fails at its comma, before the line ends',
  );
  const ok = new CsvHeaderGuard(3, 100);
  ok.push(Buffer.from('a,b,c\n'));
  t.equal(ok.push(Buffer.from('1,2,3,4,5,6\n')).toString(), '1,2,3,4,5,6\n', 'rows after the header pass untouched');
  t.throws(
    () => new CsvHeaderGuard(1000, 10).push(Buffer.from('abcdefghijk')),
    { code: 'DL_ERR_FIELD_TOO_LARGE' },
    'a header line past MAX_FIELD_BYTES',
  );
  await t.rejects(parseAll(createParseCsv({ maxColumns: 3 }), Readable.from([Buffer.from(`${'c,'.repeat(1_000_000)}c\n`)])), {
    code: 'DL_ERR_TOO_MANY_COLUMNS',
  });
});

t.test('limits count UTF-8 bytes, and a long NDJSON line is refused however it is chunked', async (t) => {
  // Four 3-byte characters: 12 bytes, 4 characters.
  await t.rejects(parseAll(createParseJson({ maxFieldBytes: 10 }), Readable.from([Buffer.from('[{"a":"€€€€"}]')])), {
    code: 'DL_ERR_FIELD_TOO_LARGE',
  });
  const p = new NdjsonLineParser(() => undefined, { maxLineBytes: 20 });
  t.throws(
    () => p.write(Buffer.from(`{"a":"${'x'.repeat(30)}"}\n{"a":1}\n`)),
    { code: 'DL_ERR_FIELD_TOO_LARGE' },
    'a whole long line inside one chunk',
  );
  t.throws(
    () => new NdjsonLineParser(() => undefined, { maxLineBytes: 10 }).write(Buffer.from('{"a":"€€€€"}\n')),
    { code: 'DL_ERR_FIELD_TOO_LARGE' },
    '8 characters, 16 bytes',
  );
  const rows: unknown[] = [];
  new NdjsonLineParser((r) => rows.push(r), { maxLineBytes: 64 }).write(Buffer.from('{"a":1,"b":[[1]]}\n{"a":2,"b":3}\n'));
  t.match(
    rows,
    [{ kind: 'error', index: 0, message: 'column "b" holds a nested array' }, { kind: 'header' }, [2, 3]],
    'a nested value is a row error, as in a JSON body',
  );
});
