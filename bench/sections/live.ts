// What 200 live subscribers cost ingest, and how late they see a prediction. One server takes
// the small-request load in alternating runs without and with the clients (ABBA in a full
// run), so drift in machine load or in the server (its log grows) falls on both sides alike.
import { Worker } from 'node:worker_threads';
import { check, percent, points, profileIfMissed, type Ctx, type SectionResult } from '../lib/context.js';
import type { LiveClientsInput, LiveClientsResult } from '../lib/live-clients.js';
import { csvBody, csvText, load } from '../lib/load.js';
import { fixed, int, mb, ms, pct, table, wholeMs } from '../lib/md.js';
import { startDriftline, type ServerHandle } from '../lib/server.js';
import { preflight, step, TARGET_CONNECTIONS, type Step } from './small.js';

export const CLIENTS = 200;
export const TOPICS = ['drift', 'predictions'];
export const TARGET_COST = 0.1;
export const TARGET_LAG_P95_MS = 250;

export interface LiveClients {
  /** Connects every client and waits for each one's hello. */
  open(): Promise<void>;
  /** Counts messages and lag from now on (until pause). */
  measure(): void;
  pause(): void;
  close(): Promise<void>;
  /** Totals over every measured stretch; ends the worker. */
  result(): Promise<LiveClientsResult>;
}

export function liveClients(server: ServerHandle, clients: number, topics = TOPICS): LiveClients {
  const input: LiveClientsInput = { url: server.url, clients, topics };
  // Workers do not inherit the --import=tsx hook: the worker loads tsx's API, then the file.
  const file = new URL('../lib/live-clients.ts', import.meta.url).href;
  const boot = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then(({ tsImport }) => tsImport(${JSON.stringify(file)}, ${JSON.stringify(file)}))`;
  const worker = new Worker(boot, { eval: true, workerData: input });
  let failure: Error | undefined;
  worker.on('error', (err) => (failure = err));
  const next = <T>(types: string[], timeoutMs = 30_000): Promise<T> =>
    new Promise((resolve, reject) => {
      if (failure !== undefined) return reject(failure);
      const timer = setTimeout(() => {
        worker.off('message', on);
        reject(new Error(`WebSocket clients: no ${types.join('/')} after ${timeoutMs / 1000} s`));
      }, timeoutMs);
      const on = (m: { type: string; detail?: string }): void => {
        if (!types.includes(m.type) && m.type !== 'failed') return;
        clearTimeout(timer);
        worker.off('message', on);
        if (m.type === 'failed') reject(new Error(`WebSocket clients could not connect: ${m.detail ?? ''}`));
        else resolve(m as T);
      };
      worker.on('message', on);
    });
  return {
    async open() {
      const ready = next(['ready']);
      worker.postMessage({ type: 'open' });
      await ready;
    },
    measure: () => worker.postMessage({ type: 'measure' }),
    pause: () => worker.postMessage({ type: 'pause' }),
    async close() {
      const closed = next(['closed']);
      worker.postMessage({ type: 'close' });
      await closed;
    },
    async result() {
      const r = next<{ result: LiveClientsResult }>(['result']);
      worker.postMessage({ type: 'result' });
      const { result } = await r;
      await worker.terminate();
      return result;
    },
  };
}

interface Phase {
  round: number;
  clients: boolean;
  load: Step;
}

export async function live(ctx: Ctx): Promise<SectionResult> {
  const body = csvBody(await csvText(5));
  // Runs of a second or so hold only a few request latencies at this load: too noisy to halve.
  const rounds = ctx.quick ? 1 : 2;
  const slice = ctx.seconds / rounds;
  // A cold server's first seconds are slower, and would all fall on the first run.
  const warmup = Math.max(2, ctx.warmup);
  const sliceCtx = { ...ctx, seconds: slice };
  const dl = await startDriftline(ctx.build);
  const phases: Phase[] = [];
  const clients = liveClients(dl, CLIENTS);
  let delivery: LiveClientsResult;
  try {
    await preflight(dl, body, 5);
    await load({ url: `${dl.url}/predict`, connections: TARGET_CONNECTIONS, seconds: warmup, body }, 0);
    for (let r = 0; r < rounds; r++) {
      for (const withClients of r % 2 === 0 ? [false, true] : [true, false]) {
        if (withClients) await clients.open();
        const s = await step(
          sliceCtx,
          dl,
          body,
          TARGET_CONNECTIONS,
          withClients ? { warmup: 0, start: () => clients.measure(), stop: () => clients.pause() } : { warmup: 0 },
        );
        if (withClients) await clients.close();
        phases.push({ round: r + 1, clients: withClients, load: s });
        ctx.log(`  round ${r + 1} ${withClients ? `with ${CLIENTS} clients` : 'without clients'}: ${int(s.rps)} req/s`);
      }
    }
  } finally {
    delivery = await clients.result().catch(() => ({
      closedEarly: 0,
      closeCodes: {},
      messages: {},
      bytes: 0,
      lag: { samples: 0, p50: Number.NaN, p95: Number.NaN, p99: Number.NaN, max: Number.NaN },
    }));
    await dl.stop();
  }
  const rate = (ps: Phase[]): { rps: number; seconds: number } => {
    const seconds = ps.reduce((a, p) => a + p.load.seconds, 0);
    return { rps: ps.reduce((a, p) => a + p.load.ok, 0) / seconds, seconds };
  };
  const without = rate(phases.filter((p) => !p.clients));
  const withC = rate(phases.filter((p) => p.clients));
  const cost = 1 - withC.rps / without.rps;
  ctx.log(`  ${int(without.rps)} req/s without, ${int(withC.rps)} with → cost ${pct(100 * cost)}; row lag p95 ${ms(delivery.lag.p95)}`);
  const checks = [
    check(`live: ingest cost of ${CLIENTS} WebSocket clients`, cost * 100, '<=', TARGET_COST * 100, percent, points),
    check('live: row delivery lag p95', delivery.lag.p95, '<=', TARGET_LAG_P95_MS, (v) => `${v.toFixed(0)} ms`),
  ];
  const profile = await profileIfMissed(
    ctx,
    'live',
    checks,
    `${ctx.seconds} s of 5-row requests at ${TARGET_CONNECTIONS} connections with ${CLIENTS} WebSocket clients`,
    {},
    async (s, w) => {
      const c = liveClients(s, CLIENTS);
      await c.open();
      await load({ url: `${s.url}/predict`, connections: TARGET_CONNECTIONS, seconds: ctx.seconds, body }, ctx.warmup, w);
      await c.close();
      await c.result();
    },
  );

  const perClient = (topic: string): number => (delivery.messages[topic] ?? 0) / CLIENTS / withC.seconds;
  const markdown = [
    `${CLIENTS} \`ws\` clients (in a worker thread of the bench process) subscribed to \`${TOPICS.join('` and `')}\` while autocannon sends 5-row \`text/csv\` requests at ${TARGET_CONNECTIONS} connections, on one server after ${warmup} s of warm-up: ${rounds === 1 ? `${fixed(1)(slice)} s without, then ${fixed(1)(slice)} s with the clients` : `${rounds} rounds of ${fixed(1)(slice)} s without and ${fixed(1)(slice)} s with the clients, in ABBA order`} (clients connect before and leave after each of their runs). Cost = 1 − (with req/s) / (without req/s), over all rounds. Lag is receipt time − \`rows[].ts\` (when the row was predicted) for every row of every \`predictions\` message at every client, same machine clock; it includes the feed's 100 ms publish interval.`,
    '',
    table(
      ['round', 'clients<', 'req/s', 'p50', 'p99', 'non-2xx', 'server CPU', 'server RSS peak'],
      phases.map((p) => [
        p.round,
        p.clients ? String(CLIENTS) : 'none',
        int(p.load.rps),
        wholeMs(p.load.p50),
        wholeMs(p.load.p99),
        p.load.non2xx,
        pct(p.load.cpu.cpuPercent),
        mb(p.load.cpu.rssPeakMB),
      ]),
    ),
    '',
    table(
      [
        'req/s without',
        'req/s with',
        'with / without',
        'ingest cost',
        'lag p50',
        'lag p95',
        'lag p99',
        'lag max',
        'rows timed',
        'predictions msgs/s per client',
        'drift msgs/s per client',
        'delivered',
        'clients dropped',
      ],
      [
        [
          int(without.rps),
          int(withC.rps),
          pct(100 * (1 - cost)),
          pct(cost * 100),
          ms(delivery.lag.p50),
          ms(delivery.lag.p95),
          ms(delivery.lag.p99),
          ms(delivery.lag.max),
          int(delivery.lag.samples),
          fixed(1)(perClient('predictions')),
          fixed(1)(perClient('drift')),
          `${mb(delivery.bytes / 1e6 / withC.seconds)}/s`,
          delivery.closedEarly,
        ],
      ],
    ),
  ].join('\n');
  return {
    name: 'live',
    data: { clients: CLIENTS, topics: TOPICS, rounds, phases, without, with: withC, cost, delivery },
    checks,
    markdown,
    ...(profile === undefined ? {} : { profile }),
  };
}
