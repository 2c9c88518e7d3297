// Regression: in a JSON array (or NDJSON), a row object that named the features by their UCI
// names after a row that used the card's names was rejected ("missing value"): names were
// resolved once, from the first object's keys. They are now resolved per row object.
import t from 'tap';
import { rowCells } from '../src/stages/parse-json.js';
import { ALIASES, FEATURES } from './helpers/fixtures.js';
import { VALID_OBJECT, send } from './helpers/hostile.js';
import { startTestServer } from './helpers/server.js';

const CARD = VALID_OBJECT as Record<string, number>;
const UCI = Object.fromEntries(FEATURES.map((f, i) => [ALIASES[i], CARD[f]]));
const reversed = Object.fromEntries(Object.entries(CARD).reverse());
const ROWS: Record<string, unknown>[] = [
  { ...CARD, note: 'card names' },
  { ...UCI, 'default.payment.next.month': 1, note: 'UCI names, the target by its alias' },
  { ...reversed, note: 'card names, another order' },
  { ...UCI, credit_limit: 5, note: 'credit_limit twice, by name and alias' },
  { ...Object.fromEntries(Object.entries(UCI).filter(([k]) => k !== 'AGE')), note: 'no age' },
  { ...CARD, age: 40, note: 'card names again' },
];

t.test("rowCells: the first row's keys in any order are aligned cells; other keys go on as a keyed row", async (t) => {
  const cols = ['a', 'b'];
  t.same(
    rowCells(
      cols,
      new Map<string, unknown>([
        ['b', 2],
        ['a', null],
      ]),
    ),
    [null, 2],
  );
  t.same(
    rowCells(
      cols,
      new Map<string, unknown>([
        ['A', 1],
        ['b', 2],
      ]),
    ),
    { kind: 'keyed', keys: ['A', 'b'], values: [1, 2] },
  );
  t.same(rowCells(cols, new Map<string, unknown>([['a', 1]])), { kind: 'keyed', keys: ['a'], values: [1] });
  t.same(
    rowCells(
      cols,
      new Map<string, unknown>([
        ['a', 1],
        ['b', 2],
        ['c', 3],
      ]),
    ),
    { kind: 'keyed', keys: ['a', 'b', 'c'], values: [1, 2, 3] },
  );
});

interface Answer {
  results: { row: number; probability: number }[];
  errors: { row: number; column: string | null; code: string }[];
  n_rows: number;
}

t.test('POST /predict: card names, then UCI names, in one JSON array and one NDJSON body', async (t) => {
  const srv = await startTestServer();
  t.teardown(() => srv.close());
  const ndjson = ROWS.map((r) => JSON.stringify(r)).join('\n');
  // Past 64 KiB an NDJSON body takes the streamed path: the same rows, then card-named ones.
  const padding = `\n${JSON.stringify(CARD)}`.repeat(700);
  const bodies: [string, string][] = [
    ['JSON array', JSON.stringify(ROWS)],
    ['NDJSON (buffered)', ndjson],
    ['NDJSON (streamed)', ndjson + padding],
  ];
  t.ok((ndjson + padding).length > 64 * 1024);
  for (const [name, body] of bodies) {
    const type = name.startsWith('JSON') ? 'application/json' : 'application/x-ndjson';
    const r = await send(srv, { headers: { 'content-type': type }, body });
    t.equal(r.status, 200, name);
    const a = JSON.parse(r.body.toString()) as Answer;
    t.same(
      a.results.slice(0, 4).map((x) => x.row),
      [0, 1, 2, 5],
      `${name}: the rows named either way are scored`,
    );
    t.equal(a.results[1]!.probability, a.results[0]!.probability, `${name}: the same values under UCI names give the same probability`);
    t.equal(a.results[2]!.probability, a.results[0]!.probability, `${name}: and in another order`);
    t.same(
      a.errors.map((e) => [e.row, e.code, e.column]),
      [
        [3, 'DL_ERR_ROW_DUPLICATE_COLUMN', null],
        [4, 'DL_ERR_ROW_MISSING_VALUE', 'age'],
      ],
      `${name}: a feature named twice, a feature absent`,
    );
  }

  // CSV output echoes a later row's values under the first row's column names.
  const csv = await send(srv, {
    headers: { 'content-type': 'application/json', accept: 'text/csv' },
    body: JSON.stringify(ROWS.slice(0, 2)),
  });
  const lines = csv.body
    .toString()
    .trim()
    .split('\n')
    .map((l) => l.split(','));
  const at = lines[0]!.indexOf('credit_limit');
  t.equal(lines[2]![at], String(CARD.credit_limit), "the UCI row's LIMIT_BAL is echoed as credit_limit");
});
