import t from 'tap';
import { learnedRange, RANGE_MARGIN } from '../src/onboard/index.js';
import { brier } from '../src/model/metrics.js';

t.test('a learned range is the training span widened by the margin on each side', async (t) => {
  t.equal(RANGE_MARGIN, 0.1);
  t.same(learnedRange([-10, 0, 90], false), { min: -20, max: 100 }, '10 % of a span of 100 on each side');
  t.same(learnedRange([21, 79], true), { min: 15, max: 85 }, 'integers rounded outward (15.2 → 15, 84.8 → 85)');
  t.same(learnedRange([10_000, 1_000_000], false), { min: 0, max: 1_099_000 }, 'a column with no negative value keeps 0 as its floor');
  t.same(learnedRange([50, 50, 50], false), { min: 45, max: 55 }, 'a constant column: 10 % of its value');
  t.same(learnedRange([5, 5], false), { min: 4, max: 6 }, '… and at least 1');
  t.same(learnedRange([0, 0], true), { min: 0, max: 1 }, 'a constant zero column: at least 1 wide');
  const r = learnedRange([0.123456789, 0.987654321], false);
  t.ok(r.min <= 0.123456789 && r.max >= 0.987654321, `bounds rounded to 6 digits still hold every training value (${r.min}, ${r.max})`);
  t.throws(() => learnedRange([], false), RangeError);
});

t.test("the Brier score is sklearn's brier_score_loss", async (t) => {
  // brier_score_loss([0, 1, 1, 0], [0.1, 0.9, 0.8, 0.3]) = (0.01 + 0.01 + 0.04 + 0.09) / 4
  t.ok(Math.abs(brier([0, 1, 1, 0], [0.1, 0.9, 0.8, 0.3]) - 0.0375) < 1e-12);
  t.ok(Number.isNaN(brier([], [])));
  t.throws(() => brier([0, 2], [0.5, 0.5]), RangeError, 'labels other than 0/1 are a caller bug');
});
