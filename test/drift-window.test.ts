// The rolling window: capacity, eviction order, sequence numbers, labels, version, clear.
import t from 'tap';
import { buildProfile, DriftWindow, snapshot } from '../src/drift/index.js';

const profile = buildProfile({
  features: [
    { name: 'a', values: [1, 2, 3, 4, 5, 6] },
    { name: 'b', values: [10, 20, 30, 40, 50, 60] },
  ],
  target: [0, 1, 0, 1, 0, 1],
});

t.test('keeps the last `capacity` rows, evicting the oldest', async (t) => {
  const w = new DriftWindow(profile, { capacity: 3 });
  t.equal(w.capacity, 3);
  const batch = new Float32Array([1, 10, 2, 20, 3, 30, 4, 40, 5, 50]);
  const seqs = [0, 1, 2, 3, 4].map((i) => w.push(batch, i * 2, Number.NaN, Number.NaN));
  t.same(seqs, [0, 1, 2, 3, 4], 'sequence numbers count from 0');
  t.equal(w.size, 3);
  const s = snapshot(profile, w, { at: 0 });
  t.equal(s.window_rows, 3);
  t.same(
    s.features.a!.current_hist,
    { kind: 'values', x: [1, 2, 3, 4, 5, 6], shares: [0, 0, 1 / 3, 1 / 3, 1 / 3, 0] },
    'rows 3, 4, 5 remain',
  );
  t.equal(s.features.b!.quantiles.current!.p50, 40);
});

t.test('a Float32Array batch at an offset, non-finite values left out', async (t) => {
  const w = new DriftWindow(profile, { capacity: 10 });
  w.push(new Float32Array([0, 0, 2, Number.NaN]), 2, Number.NaN, Number.NaN);
  const s = snapshot(profile, w);
  t.equal(s.features.a!.n_current, 1);
  t.equal(s.features.b!.n_current, 0);
  t.equal(s.features.b!.score, null);
});

t.test('label() reaches rows in the window only; version counts changes', async (t) => {
  const w = new DriftWindow(profile, { capacity: 2 });
  const v0 = w.version;
  const s0 = w.push([1, 10], 0, Number.NaN, Number.NaN);
  const s1 = w.push([2, 20], 0, Number.NaN, Number.NaN);
  t.equal(w.version, v0 + 2);
  t.equal(snapshot(profile, w).target, null, 'no label yet: no target drift');
  t.equal(w.label(s1, 1), true);
  t.equal(w.version, v0 + 3);
  t.equal(w.label(s1, 1), true, 'the same label again');
  t.equal(w.version, v0 + 3, 'is no change');
  w.push([3, 30], 0, Number.NaN, Number.NaN);
  t.equal(w.label(s0, 1), false, 'evicted');
  t.equal(w.label(99, 1), false, 'never pushed');
  const tg = snapshot(profile, w).target!;
  t.equal(tg.n_current, 1);
  t.equal(tg.test, 'z', 'the target is categorical with two values');
  t.equal(snapshot(profile, w).dataset.n_columns, 2, 'the target is not in the dataset share');
  t.equal(w.label(s1, 0), true, 'relabel');
  t.same(snapshot(profile, w).target!.current_hist.shares, [1, 0]);
});

t.test('clear() empties the window; capacity must be a positive integer', async (t) => {
  const w = new DriftWindow(profile, { capacity: 4 });
  const seq = w.push([1, 10], 0, Number.NaN, 1);
  w.clear();
  t.equal(w.size, 0);
  t.equal(w.label(seq, 0), false);
  t.equal(snapshot(profile, w).features.a!.score, null);
  t.equal(w.push([1, 10], 0, Number.NaN, 1), seq + 1, 'sequence numbers keep increasing');
  t.throws(() => new DriftWindow(profile, { capacity: 0 }), { code: 'DL_ERR_CONFIG' });
  t.throws(() => new DriftWindow(profile, { capacity: 1.5 }), { code: 'DL_ERR_CONFIG' });
});
