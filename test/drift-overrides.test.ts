// DRIFT_OVERRIDES: per-column test and threshold, parsed and checked.
import t from 'tap';
import { buildProfile, DriftWindow, parseDriftOverrides, snapshot, statTestNames } from '../src/drift/index.js';

const profile = buildProfile({
  features: [
    { name: 'age', values: Array.from({ length: 3000 }, (_, i) => 20 + (i % 40)) },
    { name: 'region', values: Array.from({ length: 3000 }, (_, i) => i % 4), categorical: true },
  ],
});
const window = new DriftWindow(profile, { capacity: 500 });
for (let i = 0; i < 500; i++) window.push([25 + (i % 40), i % 3], 0, Number.NaN, Number.NaN);

t.test('parses tests and thresholds', async (t) => {
  const o = parseDriftOverrides('{"age":{"test":"ks","threshold":0.01},"region":{"threshold":0.3}}');
  t.same(o, { age: { test: 'ks', threshold: 0.01 }, region: { threshold: 0.3 } });
  t.same(parseDriftOverrides(undefined), {});
  t.same(parseDriftOverrides('  '), {});
});

t.test('an unknown test throws DL_ERR_DRIFT_UNKNOWN_TEST, listing the known ones', async (t) => {
  t.throws(() => parseDriftOverrides('{"age":{"test":"anderson"}}'), {
    code: 'DL_ERR_DRIFT_UNKNOWN_TEST',
    message: new RegExp(`"anderson".*${statTestNames().join(', ')}`),
  });
  t.same(statTestNames().sort(), ['chisquare', 'jensenshannon', 'kl_div', 'ks', 'psi', 'wasserstein', 'z']);
});

t.test('malformed overrides throw DL_ERR_CONFIG', async (t) => {
  t.throws(() => parseDriftOverrides('{age:'), { code: 'DL_ERR_CONFIG', message: /not valid JSON/ });
  t.throws(() => parseDriftOverrides('{"age":{"threshold":"high"}}'), { code: 'DL_ERR_CONFIG', message: /age\.threshold/ });
  t.throws(() => parseDriftOverrides('{"age":{"tset":"ks"}}'), { code: 'DL_ERR_CONFIG' });
});

t.test('the snapshot applies them', async (t) => {
  const plain = snapshot(profile, window);
  t.equal(plain.features.age!.test, 'wasserstein');
  t.equal(plain.features.region!.test, 'jensenshannon');
  const s = snapshot(profile, window, {
    overrides: parseDriftOverrides('{"age":{"test":"psi","threshold":5},"region":{"threshold":0.9}}'),
  });
  t.equal(s.features.age!.test, 'psi');
  t.equal(s.features.age!.threshold, 5);
  t.equal(s.features.age!.drift, false, 'a high PSI threshold is not reached');
  t.equal(s.features.region!.test, 'jensenshannon', 'threshold only: the default test stays');
  t.equal(s.features.region!.threshold, 0.9);
});

t.test('checked against the profile: unknown column, test not for the column type', async (t) => {
  t.throws(() => snapshot(profile, window, { overrides: { agee: { test: 'ks' } } }), { code: 'DL_ERR_CONFIG', message: /"agee"/ });
  t.throws(() => snapshot(profile, window, { overrides: { region: { test: 'wasserstein' } } }), {
    code: 'DL_ERR_CONFIG',
    message: /categorical column "region"/,
  });
  t.throws(() => snapshot(profile, window, { overrides: { age: { test: 'nope' } } }), { code: 'DL_ERR_DRIFT_UNKNOWN_TEST' });
});
