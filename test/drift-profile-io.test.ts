// reference.json: building, writing atomically, reading back with validation.
import t from 'tap';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildProfile, readProfile, writeProfile, VALUES_MODE_MAX_DISTINCT } from '../src/drift/index.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'dl-profile-'));
const wide = Array.from({ length: 5000 }, (_, i) => Math.sin(i) * 1000);
const profile = buildProfile({
  features: [
    { name: 'few', values: [3, 1, 2, 2, Number.NaN, 3, 3].concat(new Array(4993).fill(1)) },
    { name: 'wide', values: wide },
    { name: 'kind', values: new Array(5000).fill(0).map((_, i) => i % 3), categorical: true },
  ],
  prediction: wide.map((v) => (v + 1000) / 2000),
  target: wide.map((v) => (v > 0 ? 1 : 0)),
  source: 'test',
});

t.test('per-column summary and frozen bins', async (t) => {
  const [few, wideCol, kind] = profile.features;
  t.match(few, {
    type: 'num',
    count: 4999,
    missing: 1,
    min: 1,
    max: 3,
    n_unique: 3,
    bins: { mode: 'values', edges: [1, 2, 3], counts: [4994, 2, 3] },
  });
  t.equal(wideCol!.bins.mode, 'quantile', `more than ${VALUES_MODE_MAX_DISTINCT} distinct values`);
  const b = wideCol!.bins;
  const total = b.counts.reduce((s, c) => s + c, 0) + b.inner_counts!.reduce((s, c) => s + c, 0);
  t.equal(total, 5000, 'every reference row is in exactly one bin');
  const mean = wide.reduce((s, v) => s + v, 0) / wide.length;
  t.ok(Math.abs(wideCol!.mean - mean) < 1e-9);
  t.ok(Math.abs(wideCol!.std - Math.sqrt(wide.reduce((s, v) => s + (v - mean) ** 2, 0) / wide.length)) < 1e-9, 'population std');
  t.equal(kind!.type, 'cat');
  t.equal(profile.target!.type, 'cat');
  t.equal(profile.prediction!.name, 'prediction');
  t.ok(profile.features[1]!.tdigest.means.length > 10, 'a t-digest of the reference');
});

t.test('write then read gives the same profile; no temp file is left', async (t) => {
  const file = path.join(dir, 'sub', 'reference.json');
  writeProfile(file, profile);
  t.same(readProfile(file), profile);
  t.same(readdirSync(path.dirname(file)), ['reference.json']);
});

t.test('an invalid file is refused with DL_ERR_REFERENCE, naming the problem', async (t) => {
  const file = path.join(dir, 'bad.json');
  t.throws(() => readProfile(path.join(dir, 'missing.json')), { code: 'DL_ERR_REFERENCE', message: /Cannot read/ });
  writeFileSync(file, '{"format": "driftline-reference-profile"');
  t.throws(() => readProfile(file), { code: 'DL_ERR_REFERENCE', message: /not valid JSON/ });
  const broken = JSON.parse(readFileSync(path.join(dir, 'sub', 'reference.json'), 'utf8')) as { features: { bins: { edges: number[] } }[] };
  broken.features[0]!.bins.edges = [3, 2, 1];
  writeFileSync(file, JSON.stringify(broken));
  t.throws(() => readProfile(file), { code: 'DL_ERR_REFERENCE', message: /features\.0\.bins\.edges\.1: edges must increase strictly/ });
});

t.test('buildProfile refuses unequal columns and empty ones', async (t) => {
  t.throws(
    () =>
      buildProfile({
        features: [
          { name: 'a', values: [1, 2] },
          { name: 'b', values: [1] },
        ],
      }),
    { code: 'DL_ERR_REFERENCE' },
  );
  t.throws(() => buildProfile({ features: [{ name: 'a', values: [Number.NaN] }] }), {
    code: 'DL_ERR_REFERENCE',
    message: /no finite value/,
  });
  t.throws(() => buildProfile({ features: [] }), { code: 'DL_ERR_REFERENCE' });
});
