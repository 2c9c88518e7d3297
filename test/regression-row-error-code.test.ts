// Regression: row errors were `{row, column, message}` with no `code`, although the README
// promises a stable code on every error; clients could only match on English messages.
import t from 'tap';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ROW_ERROR_CODES } from '../src/errors.js';
import { FEATURE_HEADER, VALID_OBJECT, VALID_ROW, send } from './helpers/hostile.js';
import { startTestServer } from './helpers/server.js';
import { ROOT } from './helpers/shared.js';

const v = VALID_ROW.split(',');
const withCell = (i: number, cell: string): string => v.map((c, j) => (j === i ? cell : c)).join(',');
/** One CSV row per row code CSV can produce, and the code it must carry. */
const CSV_CASES: [string, string, string | null][] = [
  ['1,2', 'DL_ERR_ROW_WRONG_CELL_COUNT', null],
  [`${withCell(0, 'abc')},`, 'DL_ERR_ROW_NOT_A_NUMBER', 'credit_limit'],
  [`${withCell(0, '')},`, 'DL_ERR_ROW_EMPTY_VALUE', 'credit_limit'],
  [`${withCell(1, '121')},`, 'DL_ERR_ROW_OUT_OF_RANGE', 'age'],
  [`${withCell(1, '24.5')},`, 'DL_ERR_ROW_NOT_AN_INTEGER', 'age'],
  [`${VALID_ROW},2`, 'DL_ERR_ROW_BAD_LABEL', 'target'],
];

t.test('every row error in JSON and NDJSON output carries a documented code', async (t) => {
  const srv = await startTestServer();
  t.teardown(() => srv.close());
  const doc = readFileSync(path.join(ROOT, 'docs', 'errors.md'), 'utf8');
  const csv = `${FEATURE_HEADER},target\n${VALID_ROW},1\n${CSV_CASES.map(([row]) => row).join('\n')}\n`;

  const json = await send(srv, { headers: { 'content-type': 'text/csv' }, body: csv });
  const j = JSON.parse(json.body.toString()) as { errors: { row: number; column: string | null; code: string; message: string }[] };
  t.same(
    j.errors.map((e) => [e.row, e.code, e.column]),
    CSV_CASES.map(([, code, column], i) => [i + 1, code, column]),
    'JSON: {row, column, code, message}',
  );
  t.ok(j.errors.every((e) => typeof e.message === 'string' && e.message.length > 0));

  const nd = await send(srv, { headers: { 'content-type': 'text/csv', accept: 'application/x-ndjson' }, body: csv });
  const lines = nd.body
    .toString()
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { row?: number; error?: { column: string | null; code: string; message: string } });
  t.same(
    lines.filter((l) => l.error !== undefined).map((l) => [l.row, l.error!.code, l.error!.column]),
    CSV_CASES.map(([, code, column], i) => [i + 1, code, column]),
    'NDJSON: {row, error: {column, code, message}}',
  );

  const body = JSON.stringify([VALID_OBJECT, 5, { ...VALID_OBJECT, age: [1] }, { ...VALID_OBJECT, age: null }]);
  const js = JSON.parse((await send(srv, { headers: { 'content-type': 'application/json' }, body })).body.toString()) as {
    errors: { code: string }[];
  };
  t.same(
    js.errors.map((e) => e.code),
    ['DL_ERR_ROW_MALFORMED', 'DL_ERR_ROW_MALFORMED', 'DL_ERR_ROW_EMPTY_VALUE'],
    'JSON body: malformed elements and a null cell',
  );
  const ndBody = ['not json', JSON.stringify(VALID_OBJECT), '[1]'].join('\n');
  const ndj = JSON.parse((await send(srv, { headers: { 'content-type': 'application/x-ndjson' }, body: ndBody })).body.toString()) as {
    errors: { code: string }[];
  };
  t.same(
    ndj.errors.map((e) => e.code),
    ['DL_ERR_ROW_MALFORMED', 'DL_ERR_ROW_MALFORMED'],
    'NDJSON body: malformed lines',
  );

  const seen = new Set([...j.errors, ...js.errors, ...ndj.errors].map((e) => e.code));
  for (const code of seen) {
    t.ok(code in ROW_ERROR_CODES, `${code} is a row error code`);
    t.match(doc, `| \`${code}\` | row |`, `${code} is documented in docs/errors.md`);
  }
});

t.test('the WebSocket upgrade refusals carry a code too', async (t) => {
  const srv = await startTestServer({ WS_ALLOWED_ORIGINS: 'http://127.0.0.1' });
  t.teardown(() => srv.close());
  const upgrade = (query: string, origin: string) =>
    send(srv, {
      method: 'GET',
      path: `/ws${query}`,
      headers: {
        origin,
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-version': '13',
        'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
      },
    });
  const origin = await upgrade('', 'http://evil.example');
  t.equal(origin.status, 403);
  t.match(JSON.parse(origin.body.toString()), { code: 'DL_ERR_ORIGIN_NOT_ALLOWED' });
  const topics = await upgrade('?topics=bogus', 'http://127.0.0.1');
  t.equal(topics.status, 400);
  t.match(JSON.parse(topics.body.toString()), { code: 'DL_ERR_BAD_INPUT' });
});
