import t from 'tap';
import fc from 'fast-check';
import { BlockBuilder } from '../src/stages/block.js';
import { RowValidator, parseCell, rowSchema } from '../src/stages/validate.js';
import { FEATURES, testCard } from './helpers/fixtures.js';

const card = testCard();
const v = new RowValidator(card);
const header = [...FEATURES];

function one(cells: unknown[], columns: string[] = header) {
  const plan = v.plan(columns);
  const b = new BlockBuilder(FEATURES.length, 1, { cells: true, ids: plan.idAt !== -1 });
  v.rowInto(b, plan, columns, 0, cells, true);
  return b.build();
}
const good = ['20000', '24', '2', '2', '3913', '3102', '0', '689'];

t.test('missing columns: a typed 400 with the original message, before any row', async (t) => {
  t.throws(() => v.plan(['credit_limit', 'bill_amt_sep']), {
    code: 'DL_ERR_SCHEMA_MISSING_COLUMNS',
    status: 400,
    message:
      "Invalid schema. Missing required columns: ['age', 'pay_delay_sep', 'pay_delay_aug', 'bill_amt_aug', 'pay_amt_sep', 'pay_amt_aug']",
  });
});

t.test('raw UCI names are accepted as aliases; column order does not matter', async (t) => {
  const cols = ['ID', 'PAY_AMT2', 'LIMIT_BAL', 'AGE', 'PAY_0', 'PAY_2', 'BILL_AMT1', 'BILL_AMT2', 'PAY_AMT1', 'default.payment.next.month'];
  const plan = v.plan(cols);
  t.same(plan.featureAt, [2, 3, 4, 5, 6, 7, 8, 1]);
  t.equal(plan.targetAt, 9);
  t.equal(plan.idAt, 0);
  const b = one(['17', '689', '20000', '24', '2', '2', '3913', '3102', '0', '1'], cols);
  t.same(Array.from(b.features), [20000, 24, 2, 2, 3913, 3102, 0, 689]);
  t.same(Array.from(b.targets), [1]);
  t.same(b.ids, ['17']);
});

t.test('duplicate feature columns are refused', async (t) => {
  t.throws(() => v.plan([...header, 'AGE']), { code: 'DL_ERR_BAD_INPUT', message: "Invalid schema. Duplicate columns: ['age']" });
});

const bad: [string, unknown, RegExp][] = [
  ['non-number', 'abc', /not a number: "abc"/],
  ['empty', '', /empty value/],
  ['blank', '   ', /empty value/],
  ['NaN', 'NaN', /not a number/],
  ['Infinity', 'Infinity', /not a number/],
  ['1e400', '1e400', /out of range/],
  ['hex', '0x1f', /not a number/],
  ['thousands separator', '1,000', /not a number/],
  ['below min', '17', /below the minimum 18/],
  ['above max', '121', /above the maximum 120/],
  ['not an integer', '30.5', /not an integer/],
  ['JSON null', null, /empty value/],
  ['JSON missing', undefined, /missing value/],
  ['JSON boolean', true, /not a number: "true"/],
  ['JSON NaN-like number', Number.NaN, /not a finite number/],
];
for (const [what, cell, re] of bad) {
  t.test(`a bad age (${what}) is an inline error naming row and column`, async (t) => {
    const cells = [...good] as unknown[];
    cells[1] = cell;
    const b = one(cells);
    t.equal(b.rows, 0);
    t.equal(b.count, 1);
    t.match(b.errors[0], { index: 0, column: 'age', message: re });
  });
}

t.test('accepted number forms', async (t) => {
  for (const [cell, want] of [
    ['24', 24],
    [' 24 ', 24],
    ['24.0', 24],
    ['2.4e1', 24],
    ['+24', 24],
    [24, 24],
  ] as const) {
    const cells = [...good] as unknown[];
    cells[1] = cell;
    t.equal(one(cells).features[1], want, JSON.stringify(cell));
  }
  t.equal(Object.is(parseCell('-0'), -0) || parseCell('-0') === 0, true, 'negative zero is a number');
  t.equal(parseCell('3.4e39'), 3.4e39);
  const cells = [...good] as unknown[];
  cells[4] = '3.5e38';
  t.match(one(cells).errors[0], { column: 'bill_amt_sep', message: /does not fit a float32/ });
});

t.test('a bad label is an inline error; an empty label means unlabelled', async (t) => {
  const cols = [...header, 'target'];
  t.match(one([...good, '2'], cols).errors[0], { column: 'target', message: /must be 0 or 1/ });
  t.ok(Number.isNaN(one([...good, ''], cols).targets[0]!));
  t.equal(one([...good, '1.0'], cols).targets[0], 1);
});

t.test('the compiled checker agrees with the zod row schema', async (t) => {
  const schema = rowSchema(card);
  const cell = fc.oneof(
    fc.integer({ min: -1000, max: 1_000_000 }).map(String),
    fc.double({ noNaN: false }).map(String),
    fc.constantFrom('', 'abc', '1e400', '0x10', '12.5', '18', '17', '120', '121'),
  );
  fc.assert(
    fc.property(fc.array(cell, { minLength: 8, maxLength: 8 }), (cells) => {
      const b = one(cells);
      const z = schema.safeParse(Object.fromEntries(FEATURES.map((f, i) => [f, cells[i]])));
      // zod's coerce reads '' and hex as numbers; the compiled checker is deliberately stricter.
      const strictlyNumeric = cells.every((c) => /^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$/.test(c));
      const fits = cells.every((c) => Math.abs(Number(c)) <= 3.4028234663852886e38);
      if (strictlyNumeric && fits) return (b.rows === 1) === z.success;
      return b.rows === 0;
    }),
    { numRuns: 2000 },
  );
  t.pass('2000 random rows agree');
});
