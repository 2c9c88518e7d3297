import t from 'tap';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BlockBuilder } from '../src/stages/block.js';
import { Batcher, createMicroBatch } from '../src/stages/micro-batch.js';
import { createOrderedStage } from '../src/stages/ordered.js';
import { Formatter, float32String } from '../src/stages/format.js';
import type { Batch, RowBlock } from '../src/stages/types.js';
import { testCard } from './helpers/fixtures.js';

function block(indices: number[], bad: Set<number> = new Set()): RowBlock {
  const b = new BlockBuilder(2, indices.length, { cells: true, ids: false });
  for (const i of indices) {
    if (bad.has(i)) b.reject({ kind: 'error', index: i, column: 'a', code: 'DL_ERR_ROW_NOT_A_NUMBER', message: 'bad' });
    else {
      b.features.set([i, -i], b.offset);
      b.commit(i, Number.NaN, null, [String(i)]);
    }
  }
  return b.build();
}

t.test('Batcher regroups blocks into batches of maxRows items, keeping order and errors', async (t) => {
  const batcher = new Batcher(2, 4);
  const out: Batch[] = [...batcher.add(block([0, 1, 2], new Set([1]))), ...batcher.add(block([3, 4, 5, 6, 7, 8], new Set([6])))];
  const last = batcher.flush();
  t.equal(out.length, 2);
  t.ok(last);
  const all = [...out, last!];
  t.same(
    all.map((b) => b.count),
    [4, 4, 1],
  );
  t.same(
    all.map((b) => Array.from(b.valid)),
    [[1, 0, 1, 1], [1, 1, 0, 1], [1]],
  );
  t.same(Array.from(all[0]!.rowIndex), [0, 2, 3]);
  t.same(Array.from(all[0]!.features), [0, -0, 2, -2, 3, -3]);
  t.same(
    all[1]!.errors.map((e) => e.index),
    [6],
  );
  t.same(
    all.map((b) => b.seq),
    [0, 1, 2],
  );
  t.same(all[2]!.cells, [['8']]);
  t.equal(batcher.flush(), undefined);
});

t.test('micro-batch: a partial batch leaves after maxWaitMs without more input', async (t) => {
  const stage = createMicroBatch({ nFeatures: 2, maxRows: 100, maxWaitMs: 20 });
  const got: { at: number; batch: Batch }[] = [];
  const t0 = Date.now();
  stage.on('data', (b: Batch) => got.push({ at: Date.now() - t0, batch: b }));
  stage.write({ kind: 'block', ...block([0, 1]) });
  await new Promise((r) => setTimeout(r, 80));
  t.equal(got.length, 1, 'flushed by the timer while the stream is still open');
  t.equal(got[0]!.batch.count, 2);
  t.ok(got[0]!.at >= 15, `after ~20 ms (${got[0]!.at} ms)`);
  stage.end();
});

t.test('ordered stage: concurrent steps, output in input order, bounded by a slow reader', async (t) => {
  let active = 0;
  let peak = 0;
  const stage = createOrderedStage<number>(async (n) => {
    active++;
    peak = Math.max(peak, active);
    await new Promise((r) => setTimeout(r, (7 * n) % 5));
    active--;
  }, 3);
  const seen: number[] = [];
  let pulled = 0;
  const slow = new Writable({
    objectMode: true,
    highWaterMark: 1,
    write(n: number, _e, cb) {
      seen.push(n);
      setTimeout(cb, 2);
    },
  });
  const src = Readable.from(
    Array.from({ length: 40 }, (_, i) => i),
    { highWaterMark: 1 },
  );
  src.on('data', () => pulled++);
  await pipeline(src, stage, slow);
  t.same(
    seen,
    Array.from({ length: 40 }, (_, i) => i),
  );
  t.ok(peak <= 3 && peak >= 2, `at most 3 in flight (peak ${peak})`);
});

t.test('ordered stage: a failing step fails the stream', async (t) => {
  const stage = createOrderedStage<number>(async (n) => {
    if (n === 3) throw new Error('boom');
  }, 2);
  await t.rejects(pipeline(Readable.from([1, 2, 3, 4]), stage, new Writable({ objectMode: true, write: (_c, _e, cb) => cb() })), /boom/);
});

t.test('float32String is short and reads back as the same float32', async (t) => {
  for (const p of [0, 1, 0.5, 0.1, 0.8014579, 1e-9, 0.123456789, 0.99999994]) {
    const f = Math.fround(p);
    const s = float32String(f);
    t.equal(Math.fround(Number(s)), f, `${p} → ${s}`);
    t.ok(s.length <= 13, s);
  }
});

t.test('Formatter: the original JSON shape, NDJSON lines, CSV with passthrough columns', async (t) => {
  const card = testCard({ features: [{ name: 'a' }, { name: 'b' }] });
  const b = block([0, 1, 2], new Set([1]));
  const batch: Batch = {
    kind: 'batch',
    seq: 0,
    ...b,
    results: { probabilities: new Float32Array([0.123456, 0.8]), queueMs: 0, computeMs: 0 },
  };
  const header = { kind: 'header' as const, format: 'csv' as const, columns: ['x'] };

  const j = new Formatter('json', { card, requestId: 'r' });
  const json = JSON.parse(j.start() + j.write(header) + j.write(batch) + j.end({ took_ms: 1 }));
  t.same(json, {
    model_version: 't1',
    request_id: 'r',
    results: [
      { row: 0, probability: 0.1235, prediction: 'No Default', risk_level: 'Low' },
      { row: 2, probability: 0.8, prediction: 'Default', risk_level: 'High' },
    ],
    errors: [{ row: 1, column: 'a', code: 'DL_ERR_ROW_NOT_A_NUMBER', message: 'bad' }],
    n_rows: 2,
    n_rejected: 1,
    took_ms: 1,
  });

  const n = new Formatter('ndjson', { card, requestId: 'r' });
  const lines = (n.start() + n.write(header) + n.write(batch) + n.end())
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  t.same(
    lines.map((l) => l.row ?? 'summary'),
    [0, 1, 2, 'summary'],
  );
  t.same(lines[1], { row: 1, error: { column: 'a', code: 'DL_ERR_ROW_NOT_A_NUMBER', message: 'bad' } });
  t.equal(lines[0].probability, 0.123456);
  t.match(lines[3], { summary: { n_rows: 2, n_rejected: 1, request_id: 'r', model_version: 't1' } });

  const c = new Formatter('csv', { card, requestId: 'r' });
  const csv =
    c.start() +
    c.write({ ...header, columns: ['x', 'say "hi"'] }) +
    c.write({
      ...batch,
      cells: [
        ['0', 'a,b'],
        ['2', 'c'],
      ],
    }) +
    c.end();
  t.equal(csv, 'x,"say ""hi""",probability,prediction,risk_level\n0,"a,b",0.123456,No Default,Low\n2,c,0.8,Default,High\n');
});
