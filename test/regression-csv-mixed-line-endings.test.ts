// Regression: a CSV whose lines end in a bare CR after LF or CRLF lines (files pasted together
// from old Mac and Windows tools) lost those rows inside one merged, ragged row, because the
// line-ending rule was chosen once from the first line break.
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readCsvColumns } from '../src/csv-columns.js';
import { CsvParseCore, createParseCsv } from '../src/stages/parse-csv.js';
import { isRowError, type Parsed } from '../src/stages/types.js';
import { chunked } from './helpers/fixtures.js';
import { FEATURE_HEADER, send } from './helpers/hostile.js';
import { startTestServer } from './helpers/server.js';

const ROWS = [
  '20000,24,2,2,3913,3102,0,689',
  '120000,26,-1,2,2682,1725,0,1000',
  '90000,34,0,0,29239,14027,1518,1500',
  '50000,37,0,0,46990,48233,2000,2019',
  '50000,57,-1,0,8617,5670,2000,36681',
];
/** Every terminator after every other one: LF, CRLF, CR, CR, LF, CRLF, with a CR at the very end. */
const ENDINGS = ['\n', '\r\n', '\r', '\r', '\n', '\r\n'];
const MIXED = [FEATURE_HEADER, ...ROWS]
  .map((l, i) => l + ENDINGS[i]!)
  .join('')
  .replace(/\r\n$/, '\r');

function cellsOf(parsed: Parsed[]): unknown[] {
  return parsed.flatMap((p) => (p.kind === 'rows' ? p.rows.map((r) => (isRowError(r) ? r : Object.values(r))) : []));
}

t.test('mixed LF, CRLF and lone CR line endings: every row is its own row', async (t) => {
  const want = ROWS.map((r) => r.split(','));
  const whole: Parsed[] = [];
  new CsvParseCore({}, (p) => whole.push(p as Parsed)).parseAll(Buffer.from(MIXED));
  t.same(cellsOf(whole), want, 'buffered (whole body)');
  const body = Buffer.from(MIXED);
  // Every cut, so each CR sits at a chunk's end once (held until the next byte tells CRLF from CR).
  for (const cuts of [[], Array.from({ length: body.length }, (_, i) => i)]) {
    const streamed: Parsed[] = [];
    for await (const p of chunked(body, cuts).pipe(createParseCsv())) streamed.push(p as Parsed);
    t.same(cellsOf(streamed), want, `streamed, ${cuts.length} cuts`);
  }
  const first = whole.find((p) => p.kind === 'header');
  t.same(first?.kind === 'header' ? first.columns : [], FEATURE_HEADER.split(','));
});

t.test('POST /predict with mixed line endings scores every row (buffered and streamed paths)', async (t) => {
  const srv = await startTestServer();
  t.teardown(() => srv.close());
  const json = (b: Buffer): { n_rows: number; n_rejected: number; results: unknown[] } => JSON.parse(b.toString());
  const small = await send(srv, { headers: { 'content-type': 'text/csv' }, body: MIXED });
  t.equal(small.status, 200);
  t.match(json(small.body), { n_rows: ROWS.length, n_rejected: 0 }, 'Content-Length body');
  // Past 64 KiB a body takes the streamed path (the same mixed block, repeated).
  const copies = 500;
  const big = `${FEATURE_HEADER}\n${MIXED.slice(MIXED.indexOf('\n') + 1).repeat(copies)}`;
  const streamed = await send(srv, { headers: { 'content-type': 'text/csv' }, body: big });
  t.ok(big.length > 64 * 1024, "past the buffered path's 64 KiB");
  t.equal(streamed.status, 200);
  t.match(json(streamed.body), { n_rows: ROWS.length * copies, n_rejected: 0 }, `a ${big.length}-byte body`);
});

t.test('offline CSV files (drift, profile, train) read mixed line endings the same way', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dl-eol-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'mixed.csv');
  writeFileSync(file, MIXED);
  const { rows, columns } = await readCsvColumns(file, [{ name: 'age' }, { name: 'pay_amt_aug' }]);
  t.equal(rows, ROWS.length);
  t.same(
    [...columns.get('age')!],
    ROWS.map((r) => Number(r.split(',')[1])),
  );
  t.same(
    [...columns.get('pay_amt_aug')!],
    ROWS.map((r) => Number(r.split(',')[7])),
    'the last cell of each line carries no CR',
  );
});
