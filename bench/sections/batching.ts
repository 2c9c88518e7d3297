// Dynamic batching on and off under the same small-request load: how many rows each model run
// gets (driftline_batch_rows sum/count) and how many runs a request costs, from /metrics
// deltas over the measured step only.
import { type Ctx, type SectionResult } from '../lib/context.js';
import { csvBody, csvText, load } from '../lib/load.js';
import { sleep } from '../util.js';
import { fixed, int, pct, table, wholeMs } from '../lib/md.js';
import { metric, type Series } from '../lib/prom.js';
import { startDriftline } from '../lib/server.js';
import { preflight, step, TARGET_CONNECTIONS, type Step } from './small.js';

interface Counters {
  batchRowsSum: number;
  batchRowsCount: number;
  runs: number;
  requests: number;
  rows: number;
}

const counters = (m: Series[]): Counters => ({
  batchRowsSum: metric(m, 'driftline_batch_rows_sum'),
  batchRowsCount: metric(m, 'driftline_batch_rows_count'),
  runs: metric(m, 'driftline_model_runs_total'),
  requests: metric(m, 'driftline_http_requests_total', { route: '/predict', status: '200' }),
  rows: metric(m, 'driftline_rows_predicted_total'),
});

interface BatchingRow {
  dynamic: boolean;
  load: Step;
  amount: number;
  avgBatchRows: number;
  runsPerRequest: number;
  delta: Counters;
}

export async function batching(ctx: Ctx): Promise<SectionResult> {
  const body = csvBody(await csvText(5));
  const rows: BatchingRow[] = [];
  for (const dynamic of [true, false]) {
    const dl = await startDriftline(ctx.build, { env: { DYNAMIC_BATCHING: String(dynamic) } });
    try {
      await preflight(dl, body, 5);
      // The warm-up also gauges the rate, so that a fixed count of requests lasts about ctx.seconds.
      const warm = await load({ url: `${dl.url}/predict`, connections: TARGET_CONNECTIONS, seconds: ctx.warmup, body }, 0);
      const amount = Math.max(4 * TARGET_CONNECTIONS, Math.round(warm.rps * ctx.seconds));
      let a: Counters | undefined;
      let b: Counters | undefined;
      const load_ = await step(ctx, dl, body, TARGET_CONNECTIONS, {
        amount,
        warmup: 0,
        // Requests cut off by the warm-up's end may still be in the model: let them land first.
        start: async () => {
          await sleep(500);
          a = counters(await dl.metrics());
        },
        stop: async () => (b = counters(await dl.metrics())),
      });
      const delta = Object.fromEntries(
        Object.keys(a!).map((k) => [k, b![k as keyof Counters] - a![k as keyof Counters]]),
      ) as unknown as Counters;
      const row = {
        dynamic,
        load: load_,
        amount,
        delta,
        avgBatchRows: delta.batchRowsSum / delta.batchRowsCount,
        runsPerRequest: delta.runs / delta.requests,
      };
      rows.push(row);
      ctx.log(
        `  DYNAMIC_BATCHING=${dynamic}: ${int(load_.rps)} req/s, ${fixed(1)(row.avgBatchRows)} rows per model run, ${fixed(2)(row.runsPerRequest)} runs per request`,
      );
    } finally {
      await dl.stop();
    }
  }
  const [on, off] = rows as [BatchingRow, BatchingRow];
  const markdown = [
    `5-row \`text/csv\` requests at ${TARGET_CONNECTIONS} connections on a fresh server per setting: after ${ctx.warmup} s of warm-up, a fixed count of requests (about ${ctx.seconds} s' worth at the warm-up's rate), so that none is in flight when \`/metrics\` is read. Batch size and runs per request are deltas over that count (\`driftline_batch_rows\` sum/count; \`driftline_model_runs_total\` over the \`/predict\` 200s).`,
    '',
    table(
      [
        'DYNAMIC_BATCHING<',
        'req/s',
        'p50',
        'p99',
        'rows per model run',
        'model runs per request',
        'model runs',
        'requests (server)',
        'non-2xx',
        'server CPU',
      ],
      rows.map((r) => [
        String(r.dynamic),
        int(r.load.rps),
        wholeMs(r.load.p50),
        wholeMs(r.load.p99),
        fixed(1)(r.avgBatchRows),
        fixed(3)(r.runsPerRequest),
        int(r.delta.runs),
        int(r.delta.requests),
        r.load.non2xx,
        pct(r.load.cpu.cpuPercent),
      ]),
    ),
    '',
    ...rows
      .filter((r) => r.delta.requests !== r.amount)
      .map((r) => `Note: with DYNAMIC_BATCHING=${r.dynamic} the server counted ${r.delta.requests} 200s for ${r.amount} requests sent.`),
    `With batching on, one model run serves ${fixed(1)(1 / on.runsPerRequest)} requests on average, and throughput is ${pct((100 * on.load.rps) / off.load.rps)} of the unbatched server's.`,
  ].join('\n');
  return { name: 'batching', data: { connections: TARGET_CONNECTIONS, rows }, checks: [], markdown };
}
