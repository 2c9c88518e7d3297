// The stage sequence was spelled out twice (the stream pipeline, the buffered path for small
// bodies), so a stage added to one could miss the other: the answer would still match
// (pipeline-buffer.test.ts pins the bytes) while the log, the drift window or the live feed
// saw different things. Both paths now take their stages from one STAGE_SEQUENCE; this checks
// the sequence and that every side effect of the stages is the same on both paths.
import t from 'tap';
import { Readable } from 'node:stream';
import { runPipeline, scoreBuffer, STAGE_SEQUENCE } from '../src/pipeline/index.js';
import type { LogSink } from '../src/stages/log.js';
import type { SketchSink } from '../src/stages/sketch.js';
import type { Batch } from '../src/stages/types.js';
import { collector, fakePredictor, sampleCsv, testCard } from './helpers/fixtures.js';

const card = testCard();

interface Seen {
  logged: string[];
  sketched: string[];
  batches: string[];
}

function recorders(): { seen: Seen; log: LogSink; window: SketchSink; onBatch: (b: Batch) => void } {
  const seen: Seen = { logged: [], sketched: [], batches: [] };
  let next = 1;
  return {
    seen,
    log: {
      append: async (a) => {
        seen.logged.push(`${a.rows} rows from ${a.rowIndex[0]}: ${Array.from(a.probabilities).join(' ')}`);
        const first = next;
        next += a.rows;
        return { first, count: a.rows };
      },
    },
    window: {
      push: (features, offset, probability, target, _at, logId) => {
        seen.sketched.push(`${logId} ${features[offset]} ${probability} ${target}`);
        return seen.sketched.length - 1;
      },
    },
    onBatch: (b) => seen.batches.push(`${b.count}/${b.rows} first log id ${b.logIds?.first}`),
  };
}

t.test('one stage sequence, as the lifecycle diagram draws it', async (t) => {
  t.same([...STAGE_SEQUENCE], ['parse', 'validate', 'batch', 'predict', 'log', 'sketch', 'format']);
});

t.test('the buffered path logs, sketches and reports the same batches as the stream pipeline', async (t) => {
  // A few rows that fail validation among valid ones, over more than one batch.
  const lines = sampleCsv(150, { seed: 3 }).split('\n');
  lines[7] = lines[7]!.replace(/^\d+/, 'abc');
  lines[90] = lines[90]!.replace(/,\d+,/, ',200,');
  const body = Buffer.from(lines.join('\n'));
  for (const output of ['json', 'csv'] as const) {
    const a = recorders();
    const sink = collector();
    await runPipeline({
      source: Readable.from([body]),
      input: 'csv',
      output,
      sink,
      card,
      predictor: fakePredictor(),
      requestId: 'r',
      batch: { maxRows: 64, maxWaitMs: 1_000 },
      log: a.log,
      window: a.window,
      onBatch: a.onBatch,
    });
    const b = recorders();
    const r = await scoreBuffer({
      body,
      input: 'csv',
      output,
      card,
      predictor: fakePredictor(),
      requestId: 'r',
      batchRows: 64,
      log: b.log,
      window: b.window,
      onBatch: b.onBatch,
    });
    t.equal(r.body.toString(), sink.text(), `${output}: the same bytes`);
    t.ok(a.seen.logged.length >= 2, `${output}: more than one batch logged`);
    t.same(b.seen, a.seen, `${output}: the same rows logged, sketched (with their log ids) and reported per batch`);
  }
});
