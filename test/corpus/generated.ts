// Hostile inputs too large to keep as files: each body is generated as it is sent, so a
// "100 MB string" or a "never-ending body" costs the test no memory. Run, with the small cases
// of cases.json, by test/hostile-upload-corpus.test.ts.
import { FEATURE_HEADER, VALID_OBJECT, VALID_ROW, type Expect } from '../helpers/hostile.js';

export interface GeneratedCase {
  name: string;
  /** Which test server: `corpus` (the shared one) or `wide` (MAX_FIELD_BYTES raised to 64 MiB). */
  server?: 'corpus' | 'wide';
  headers: Record<string, string>;
  body: () => AsyncIterable<Buffer>;
  expect: Expect;
  /** Most body bytes the server may have read (RequestBody.bytes) when it answered. */
  maxRead?: number;
  /** The body is never-ending: the server must be the one to stop it. */
  endless?: boolean;
}

const KiB = 1024;
const MiB = 1024 * KiB;

/** The limits the corpus servers run with (every hostile-input test file starts one: helpers/corpus-server.ts). */
export const CORPUS_ENV = {
  MAX_UPLOAD_BYTES: String(4 * MiB),
  MAX_ROWS_PER_REQUEST: '5000',
  REQUEST_IDLE_TIMEOUT_MS: '1000',
} as const;
export const WIDE_ENV = { MAX_FIELD_BYTES: String(64 * MiB), MAX_UPLOAD_BYTES: String(256 * MiB) } as const;

const b = (s: string): Buffer => Buffer.from(s);

/** `head`, then `size` bytes of `fill` in 64 KiB pieces, then `tail`. */
async function* padded(head: string, fill: number, size: number, tail: string): AsyncIterable<Buffer> {
  yield b(head);
  const piece = Buffer.alloc(64 * KiB, fill);
  for (let left = size; left > 0; left -= piece.length) yield left >= piece.length ? piece : piece.subarray(0, left);
  yield b(tail);
}

/** `head`, then `line` over and over: `count` times, or forever. */
async function* repeated(head: string, line: string, count = Number.POSITIVE_INFINITY): AsyncIterable<Buffer> {
  yield b(head);
  const per = Math.max(1, Math.floor((64 * KiB) / line.length));
  const block = b(line.repeat(per));
  let left = count;
  for (; left >= per; left -= per) yield block;
  if (left > 0) yield b(line.repeat(left));
}

function header(columns: number): string {
  const names = FEATURE_HEADER.split(',');
  for (let i = names.length; i < columns; i++) names.push(`extra_${i}`);
  return names.join(',');
}

async function* millionColumns(): AsyncIterable<Buffer> {
  // c0,c1,… one million names (6.9 MB); no line break until the very end.
  let buf = '';
  for (let i = 0; i < 1_000_000; i++) {
    buf += i === 0 ? `c${i}` : `,c${i}`;
    if (buf.length >= 64 * KiB) {
      yield b(buf);
      buf = '';
    }
  }
  yield b(`${buf}\n${VALID_ROW}\n`);
}

async function* deepJson(depth: number): AsyncIterable<Buffer> {
  yield b('['.repeat(depth));
  yield b(']'.repeat(depth));
}

const objectLine = (keys: number): string => {
  const o: Record<string, number> = { ...VALID_OBJECT };
  for (let i = 0; i < keys; i++) o[`k${i}`] = i;
  return JSON.stringify(o);
};

const CSV = { 'content-type': 'text/csv' };
const BAD_ROW = 'x,x,x,x,x,x,x,x\n';
// Rows of ~1 KiB, so that a never-ending body reaches MAX_UPLOAD_BYTES (4 MiB) before
// MAX_ROWS_PER_REQUEST (5000 rows).
const NOTE = 'n'.repeat(1000);
const WIDE_HEADER = `${FEATURE_HEADER},note\n`;

export const GENERATED: GeneratedCase[] = [
  {
    name: 'a 10 MB single CSV field',
    headers: CSV,
    body: () => padded(`${FEATURE_HEADER}\n"`, 0x78, 10 * MiB, `",24,2,2,3913,3102,0,689\n`),
    expect: { status: 413, code: 'DL_ERR_FIELD_TOO_LARGE', detail: 'MAX_FIELD_BYTES' },
    maxRead: 2 * MiB,
  },
  {
    name: 'a 10 MB single CSV field after valid rows (results may have started)',
    headers: { ...CSV, accept: 'application/x-ndjson' },
    body: async function* () {
      yield b(`${FEATURE_HEADER}\n${`${VALID_ROW}\n`.repeat(3000)}`);
      yield* padded('"', 0x78, 10 * MiB, `",24,2,2,3913,3102,0,689\n`);
    },
    expect: { status: 413, code: 'DL_ERR_FIELD_TOO_LARGE', inband: true },
    maxRead: 2 * MiB,
  },
  {
    name: 'one million columns in the CSV header',
    headers: CSV,
    body: millionColumns,
    expect: { status: 413, code: 'DL_ERR_TOO_MANY_COLUMNS', detail: 'more than 1000 columns \\(MAX_COLUMNS\\)' },
    maxRead: 1 * MiB,
  },
  {
    name: 'one million columns, with MAX_FIELD_BYTES too high to stop the header line: MAX_COLUMNS fails it before the line ends',
    server: 'wide',
    headers: CSV,
    body: millionColumns,
    expect: { status: 413, code: 'DL_ERR_TOO_MANY_COLUMNS' },
    // The header line is 6.9 MB: answering after reading 1 MiB means it was not read whole.
    maxRead: 1 * MiB,
  },
  {
    name: 'exactly MAX_COLUMNS columns',
    headers: CSV,
    body: async function* () {
      yield b(`${header(1000)}\n${VALID_ROW}${','.repeat(992)}\n`);
    },
    expect: { status: 200, rows: 1, errors: [] },
  },
  {
    name: 'MAX_COLUMNS + 1 columns',
    headers: CSV,
    body: async function* () {
      yield b(`${header(1001)}\n${VALID_ROW}${','.repeat(993)}\n`);
    },
    expect: { status: 413, code: 'DL_ERR_TOO_MANY_COLUMNS' },
  },
  {
    name: 'a JSON row with 2000 keys',
    headers: { 'content-type': 'application/json' },
    body: async function* () {
      yield b(`[${objectLine(2000)}]`);
    },
    expect: { status: 413, code: 'DL_ERR_TOO_MANY_COLUMNS', detail: 'JSON row' },
  },
  {
    name: 'an NDJSON row with 2000 keys',
    headers: { 'content-type': 'application/x-ndjson' },
    body: async function* () {
      yield b(`${objectLine(2000)}\n`);
    },
    expect: { status: 413, code: 'DL_ERR_TOO_MANY_COLUMNS', detail: 'NDJSON row' },
  },
  {
    name: 'a never-ending body (rows that all fail validation, so nothing is written yet)',
    headers: CSV,
    body: () => repeated(WIDE_HEADER, `x,x,x,x,x,x,x,x,${NOTE}\n`),
    endless: true,
    expect: { status: 413, code: 'DL_ERR_PAYLOAD_TOO_LARGE', detail: 'MAX_UPLOAD_BYTES' },
    // The limit plus what one read from the socket can add (uWS reads up to 512 KiB at once).
    maxRead: 4 * MiB + 512 * KiB,
  },
  {
    name: 'a never-ending body of valid rows, results streaming as NDJSON',
    headers: { ...CSV, accept: 'application/x-ndjson' },
    body: () => repeated(WIDE_HEADER, `${VALID_ROW},${NOTE}\n`),
    endless: true,
    expect: { status: 413, code: 'DL_ERR_PAYLOAD_TOO_LARGE', inband: true },
    maxRead: 4 * MiB + 512 * KiB,
  },
  {
    name: 'a never-ending multipart preamble (no part ever starts)',
    headers: { 'content-type': 'multipart/form-data; boundary=never' },
    body: () => repeated('', 'preamble text that is not a boundary\r\n'),
    endless: true,
    expect: { status: 413, code: 'DL_ERR_PAYLOAD_TOO_LARGE' },
    maxRead: 4 * MiB + 512 * KiB,
  },
  {
    name: 'a 100 MB JSON string',
    headers: { 'content-type': 'application/json' },
    body: () => padded('[{"credit_limit":"', 0x61, 100 * MiB, '"}]'),
    expect: { status: 413, code: 'DL_ERR_FIELD_TOO_LARGE', detail: 'JSON value is longer than 65536 bytes' },
    maxRead: 2 * MiB,
  },
  {
    name: 'a 100 MB JSON key',
    headers: { 'content-type': 'application/json' },
    body: () => padded('[{"', 0x61, 100 * MiB, '":1}]'),
    expect: { status: 413, code: 'DL_ERR_FIELD_TOO_LARGE' },
    maxRead: 2 * MiB,
  },
  {
    name: 'a 100 MB JSON number',
    headers: { 'content-type': 'application/json' },
    body: () => padded('[{"credit_limit":1', 0x30, 100 * MiB, '}]'),
    expect: { status: 413, code: 'DL_ERR_FIELD_TOO_LARGE' },
    maxRead: 2 * MiB,
  },
  {
    name: 'JSON nested 100,000 deep',
    headers: { 'content-type': 'application/json' },
    body: () => deepJson(100_000),
    expect: { status: 400, code: 'DL_ERR_BAD_INPUT', detail: 'nested deeper than 64' },
  },
  {
    name: 'JSON nested 100,000 deep inside a row value',
    headers: { 'content-type': 'application/json' },
    body: async function* () {
      yield b('[{"credit_limit":');
      yield* deepJson(100_000);
      yield b('}]');
    },
    expect: { status: 400, code: 'DL_ERR_BAD_INPUT', detail: 'nested deeper than 64' },
  },
  {
    name: 'an NDJSON value nested 30,000 deep (JSON.stringify of it overflows the stack)',
    headers: { 'content-type': 'application/x-ndjson' },
    body: async function* () {
      yield b(
        `{"credit_limit":${'['.repeat(30_000)}${']'.repeat(30_000)},"age":24,"pay_delay_sep":2,"pay_delay_aug":2,"bill_amt_sep":3913,"bill_amt_aug":3102,"pay_amt_sep":0,"pay_amt_aug":689}\n`,
      );
      yield b(`${JSON.stringify(VALID_OBJECT)}\n`);
    },
    expect: { status: 200, rows: 1, errors: [[0, null, 'holds a nested array']] },
  },
  {
    name: 'an NDJSON line of 1 MB in one chunk',
    headers: { 'content-type': 'application/x-ndjson' },
    body: async function* () {
      yield b(`{"credit_limit":"${'1'.repeat(MiB)}"}\n${JSON.stringify(VALID_OBJECT)}\n`);
    },
    expect: { status: 413, code: 'DL_ERR_FIELD_TOO_LARGE', detail: 'NDJSON line' },
  },
  {
    name: 'an NDJSON body with no line break (5 MB)',
    headers: { 'content-type': 'application/x-ndjson' },
    body: () => padded('{"credit_limit":"', 0x31, 5 * MiB, '"}'),
    expect: { status: 413, code: 'DL_ERR_FIELD_TOO_LARGE' },
    maxRead: 2 * MiB,
  },
  {
    name: 'NDJSON: a line of 25,000 three-byte characters (past the limit in bytes, not in characters)',
    headers: { 'content-type': 'application/x-ndjson' },
    body: async function* () {
      yield b(`{"credit_limit":1,"note":"${'€'.repeat(25_000)}"}\n`);
    },
    expect: { status: 413, code: 'DL_ERR_FIELD_TOO_LARGE' },
  },
  {
    name: 'exactly MAX_ROWS_PER_REQUEST rows',
    headers: CSV,
    body: () => repeated(`${FEATURE_HEADER}\n`, `${VALID_ROW}\n`, 5000),
    expect: { status: 200, rows: 5000, errors: [] },
  },
  {
    name: 'MAX_ROWS_PER_REQUEST + 1 rows, all invalid (nothing written before the limit)',
    headers: CSV,
    body: () => repeated(`${FEATURE_HEADER}\n`, BAD_ROW, 5001),
    expect: { status: 413, code: 'DL_ERR_TOO_MANY_ROWS', detail: 'more than 5000 rows' },
  },
  {
    name: 'MAX_ROWS_PER_REQUEST + 1 valid rows (results may have started)',
    headers: CSV,
    body: () => repeated(`${FEATURE_HEADER}\n`, `${VALID_ROW}\n`, 5001),
    expect: { status: 413, code: 'DL_ERR_TOO_MANY_ROWS', inband: true },
  },
  {
    name: 'an unterminated quote takes the rest of the body into one (ragged) row',
    headers: CSV,
    body: async function* () {
      yield b(
        `${FEATURE_HEADER}\n${VALID_ROW}\n1,2,3\n${VALID_ROW}\n${VALID_ROW}\n"unterminated,1,2,3,4,5,6,7\n${`${VALID_ROW}\n`.repeat(10)}`,
      );
    },
    expect: {
      status: 200,
      rows: 3,
      errors: [
        [1, null, 'expected 8 cells, found 3'],
        [4, null, 'expected 8 cells, found 1'],
      ],
    },
  },
];
