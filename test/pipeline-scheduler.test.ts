import t from 'tap';
import { BatchScheduler, type RunInfo } from '../src/pipeline/scheduler.js';

/** A fake engine: P = first feature / 100, with a fixed run time, recording each run. */
function engine(runMs: number) {
  const runs: number[] = [];
  return {
    runs,
    spec: { nFeatures: 2 },
    async run(data: Float32Array, rows: number) {
      runs.push(rows);
      await new Promise((r) => setTimeout(r, runMs));
      const p = new Float32Array(rows);
      for (let i = 0; i < rows; i++) p[i] = data[i * 2]! / 100;
      return { probabilities: p, computeMs: runMs };
    },
  };
}
const rowsOf = (start: number, n: number): Float32Array => {
  const a = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) a[i * 2] = start + i;
  return a;
};

t.test('concurrent submissions share model runs and each gets its own rows back', async (t) => {
  const e = engine(10);
  const infos: RunInfo[] = [];
  const s = new BatchScheduler(e, { maxRows: 1000, maxWaitMs: 0, maxInflight: 1 }, (i) => infos.push(i));
  const results = await Promise.all(Array.from({ length: 50 }, (_, k) => s.predict(rowsOf(k * 5, 5), 5)));
  results.forEach((r, k) =>
    t.same(
      Array.from(r.probabilities),
      Array.from(rowsOf(k * 5, 5))
        .filter((_, i) => i % 2 === 0)
        .map((v) => Math.fround(v / 100)),
      `request ${k}`,
    ),
  );
  t.ok(e.runs.length <= 3, `50 requests of 5 rows took ${e.runs.length} model runs (${e.runs.join(', ')})`);
  t.equal(
    e.runs.reduce((a, b) => a + b, 0),
    250,
  );
  t.equal(
    infos.reduce((a, i) => a + i.submissions, 0),
    50,
  );
});

t.test(
  'maxInflight 2 (as `driftline score` runs it): the next run is handed over before the last ends, answers stay with their submissions',
  async (t) => {
    const e = engine(20);
    let inflight = 0;
    let most = 0;
    const counted = {
      spec: e.spec,
      async run(data: Float32Array, rows: number) {
        most = Math.max(most, ++inflight);
        try {
          return await e.run(data, rows);
        } finally {
          inflight--;
        }
      },
    };
    const s = new BatchScheduler(counted, { maxRows: 4, maxWaitMs: 0, maxInflight: 2 });
    const results = await Promise.all(Array.from({ length: 6 }, (_, k) => s.predict(rowsOf(k * 4, 4), 4)));
    t.equal(most, 2, 'two runs were with the model at once, never more');
    t.same(e.runs, [4, 4, 4, 4, 4, 4]);
    results.forEach((r, k) =>
      t.same(
        Array.from(r.probabilities),
        [0, 1, 2, 3].map((i) => Math.fround((k * 4 + i) / 100)),
        `submission ${k}`,
      ),
    );
  },
);

t.test('maxRows caps a coalesced run; a single larger submission still runs alone', async (t) => {
  const e = engine(5);
  const s = new BatchScheduler(e, { maxRows: 8, maxWaitMs: 0, maxInflight: 1 });
  await Promise.all([
    s.predict(rowsOf(0, 3), 3),
    s.predict(rowsOf(0, 3), 3),
    s.predict(rowsOf(0, 3), 3),
    s.predict(rowsOf(0, 3), 3),
    s.predict(rowsOf(0, 20), 20),
  ]);
  t.ok(
    e.runs.every((r) => r <= 8 || r === 20),
    `runs ${e.runs.join(', ')}`,
  );
  t.ok(e.runs.includes(20));
});

t.test('an idle model waits up to maxWaitMs for company', async (t) => {
  const e = engine(1);
  const s = new BatchScheduler(e, { maxRows: 100, maxWaitMs: 30, maxInflight: 1 });
  const a = s.predict(rowsOf(0, 1), 1);
  await new Promise((r) => setTimeout(r, 5));
  const b = s.predict(rowsOf(1, 1), 1);
  await Promise.all([a, b]);
  t.same(e.runs, [2], 'both rows in one run');
});

t.test("the caller's buffer is not detached (later stages still read it)", async (t) => {
  const e = engine(1);
  const s = new BatchScheduler(e, { maxRows: 100, maxWaitMs: 0, maxInflight: 1 });
  const f = rowsOf(10, 4);
  await s.predict(f, 4);
  t.equal(f.length, 8);
  t.equal(f[2], 11);
});

t.test('a failed run rejects every submission in it, and later runs go on', async (t) => {
  let fail = true;
  const e = {
    spec: { nFeatures: 2 },
    async run(_d: Float32Array, rows: number) {
      await new Promise((r) => setTimeout(r, 2));
      if (fail) {
        fail = false;
        throw new Error('worker died');
      }
      return { probabilities: new Float32Array(rows), computeMs: 1 };
    },
  };
  const s = new BatchScheduler(e, { maxRows: 100, maxWaitMs: 0, maxInflight: 1 });
  await t.rejects(s.predict(rowsOf(0, 2), 2), /worker died/);
  t.equal((await s.predict(rowsOf(0, 2), 2)).probabilities.length, 2);
});
