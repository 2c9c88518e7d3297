// POST /predict with 5-row bodies (text/csv and multipart `file`) at rising concurrency, each
// step raced against the bare uWS baseline right before it, so both see the same machine load.
import os from 'node:os';
import { ProcSampler, type ProcWindow } from '../lib/proc.js';
import { check, percent, points, profileIfMissed, type Ctx, type SectionResult } from '../lib/context.js';
import { csvBody, csvText, load, multipartBody, type Body, type LoadResult } from '../lib/load.js';
import { int, pct, ratio, table, wholeMs } from '../lib/md.js';
import { metric, type Series } from '../lib/prom.js';
import { startBaseline, startDriftline, type ServerHandle } from '../lib/server.js';

/** Issue 20's targets: share of the bare uWS handler's req/s at 50 connections, per body. */
export const TARGET_RATIO = 0.2;
const TARGET_BY_BODY: Record<string, number> = { 'text/csv': 0.2, multipart: 0.15 };
export const TARGET_CONNECTIONS = 50;

export interface Step extends LoadResult {
  cpu: ProcWindow;
  /** The bench process (load generator) over the step, % of one core: near 100 means it, not the server, set the pace. */
  clientCpuPercent: number;
}

export interface SmallRow {
  body: Body['kind'];
  connections: number;
  driftline: Step;
  baseline: Step;
  ratio: number;
}

/**
 * One measured load step with the server's CPU and RSS sampled over exactly that step; `hooks`
 * run at its edges too (e.g. to read /metrics before and after).
 */
export async function step(
  ctx: Ctx,
  server: ServerHandle,
  body: Body,
  connections: number,
  hooks: { start?: () => unknown; stop?: () => unknown; amount?: number; warmup?: number } = {},
): Promise<Step> {
  const sampler = new ProcSampler(server.pid);
  let cpu: ProcWindow | undefined;
  let client = process.cpuUsage();
  let clientCpuPercent = Number.NaN;
  const r = await load(
    {
      url: `${server.url}/predict`,
      connections,
      seconds: ctx.seconds,
      body,
      ...(hooks.amount === undefined ? {} : { amount: hooks.amount }),
    },
    hooks.warmup ?? ctx.warmup,
    {
      start: async () => {
        await hooks.start?.();
        sampler.start();
        client = process.cpuUsage();
      },
      stop: async () => {
        cpu = sampler.stop();
        const used = process.cpuUsage(client);
        clientCpuPercent = (used.user + used.system) / 10_000 / cpu.seconds;
        await hooks.stop?.();
      },
    },
  );
  return { ...r, cpu: cpu!, clientCpuPercent };
}

/** Refuses to measure a server that does not answer the body correctly. */
export async function preflight(server: ServerHandle, body: Body, rows: number): Promise<void> {
  const r = await fetch(`${server.url}/predict`, { method: 'POST', headers: body.headers, body: body.body });
  const text = await r.text();
  if (r.status !== 200) throw new Error(`${server.name}: ${body.kind} body answered ${r.status}: ${text.slice(0, 300)}`);
  if (server.name.startsWith('driftline') && !text.includes(`"n_rows":${rows},`))
    throw new Error(`${server.name}: expected ${rows} rows scored, got ${text.slice(0, 300)}`);
}

const okCount = (m: Series[]): number => metric(m, 'driftline_http_requests_total', { route: '/predict', status: '200' });

const baselineStats = async (s: ServerHandle): Promise<{ requests: number; bytes: number; mismatched: number }> =>
  (await (await fetch(`${s.url}/stats`)).json()) as { requests: number; bytes: number; mismatched: number };

export async function small(ctx: Ctx): Promise<SectionResult> {
  const csv = await csvText(5);
  const bodies = [csvBody(csv), multipartBody(csv)];
  const levels = ctx.quick ? [1, TARGET_CONNECTIONS] : [1, 10, TARGET_CONNECTIONS, 100];
  const base = await startBaseline();
  const dl = await startDriftline(ctx.build);
  const rows: SmallRow[] = [];
  const notes: string[] = [];
  try {
    for (const b of bodies) {
      await preflight(dl, b, 5);
      await preflight(base, b, 5);
    }
    for (const body of bodies) {
      for (const c of levels) {
        const before = await baselineStats(base);
        const baseline = await step(ctx, base, body, c);
        const after = await baselineStats(base);
        // Every body the baseline answered must have been read to its last byte.
        const read = after.requests - before.requests;
        if (after.bytes - before.bytes !== read * body.body.length || after.mismatched !== before.mismatched) {
          throw new Error(
            `baseline did not read whole bodies: ${read} requests, ${after.bytes - before.bytes} bytes, ${after.mismatched - before.mismatched} mismatched`,
          );
        }
        let served = 0;
        const driftline = await step(ctx, dl, body, c, {
          start: async () => (served = -okCount(await dl.metrics())),
          stop: async () => (served += okCount(await dl.metrics())),
        });
        // Requests in flight when autocannon stops may be counted by one side only.
        if (Math.abs(served - driftline.ok) > c)
          notes.push(`${body.kind} × ${c}: the server counted ${served} 200s, autocannon ${driftline.ok}`);
        const row = { body: body.kind, connections: c, driftline, baseline, ratio: driftline.rps / baseline.rps };
        rows.push(row);
        ctx.log(
          `  ${body.kind.padEnd(9)} ${String(c).padStart(3)} conns: driftline ${int(driftline.rps)} req/s (p99 ${wholeMs(driftline.p99)}, non-2xx ${driftline.non2xx}, errors ${driftline.errors}), bare uWS ${int(baseline.rps)} req/s → ${ratio(row.ratio)}`,
        );
      }
    }
  } finally {
    await dl.stop();
    await base.stop();
  }

  const checks = bodies.map((b) => {
    const r = rows.find((x) => x.body === b.kind && x.connections === TARGET_CONNECTIONS)!;
    return check(
      `small ${b.kind} at ${TARGET_CONNECTIONS} conns vs bare uWS`,
      r.ratio * 100,
      '>=',
      (TARGET_BY_BODY[b.kind] ?? TARGET_RATIO) * 100,
      percent,
      points,
    );
  });
  const csvAtTarget = bodies[0]!;
  const profile = await profileIfMissed(
    ctx,
    'small',
    checks,
    `${ctx.seconds} s of ${csvAtTarget.kind} 5-row requests at ${TARGET_CONNECTIONS} connections`,
    {},
    (s, w) => load({ url: `${s.url}/predict`, connections: TARGET_CONNECTIONS, seconds: ctx.seconds, body: csvAtTarget }, ctx.warmup, w),
  );

  const clientBound = rows.filter((r) => r.baseline.cpu.cpuPercent < 85 && r.connections >= 10);
  const markdown = [
    `5-row CSV bodies (${bodies.map((b) => `${b.kind} ${b.body.length} B`).join(', ')}) to \`POST /predict\`; autocannon in the bench process, ${ctx.seconds} s per step after ${ctx.warmup} s of warm-up. req/s counts 2xx responses only; latency is of 2xx responses. The baseline (\`bench/baseline-server.ts\`) is a bare uWebSockets.js handler that copies and counts the whole body and answers a fixed 5-row-sized JSON; each driftline step runs right after the baseline step it is compared with.`,
    '',
    table(
      [
        'body<',
        'conns',
        'driftline req/s',
        'bare uWS req/s',
        'driftline / bare',
        'p50',
        'p99',
        'bare p50',
        'bare p99',
        'errors',
        'non-2xx',
        'server CPU',
        'bare CPU',
        'client CPU (driftline / bare)',
      ],
      rows.map((r) => [
        r.body,
        r.connections,
        int(r.driftline.rps),
        int(r.baseline.rps),
        pct(r.ratio * 100),
        wholeMs(r.driftline.p50),
        wholeMs(r.driftline.p99),
        wholeMs(r.baseline.p50),
        wholeMs(r.baseline.p99),
        r.driftline.errors + r.driftline.timeouts,
        nonOk(r.driftline),
        pct(r.driftline.cpu.cpuPercent),
        pct(r.baseline.cpu.cpuPercent),
        `${pct(r.driftline.clientCpuPercent)} / ${pct(r.baseline.clientCpuPercent)}`,
      ]),
    ),
    '',
    'Server CPU is the server process (all threads) over the step, client CPU the bench process (autocannon): 100 % is one core busy. Errors are connection errors and timeouts; non-2xx are answered refusals, left out of req/s and latency.',
    rows.some((r) => (r.driftline.statusCodes['429'] ?? 0) > 0)
      ? 'The 429s come from MAX_CONCURRENT_UPLOADS (default 64): beyond 64 uploads in flight the service refuses with 429 and closes the connection, by design.'
      : '',
    clientBound.length > 0
      ? `At ${clientBound.map((r) => `${r.body} × ${r.connections}`).join(', ')} the bare server used less than 85 % of a core, so something else held it back (the load generator, see client CPU, or other work on this ${os.cpus().length}-core machine) and the ratio flatters driftline there.`
      : '',
    ...notes.map((n) => `Note: ${n}.`),
  ]
    .filter((l, i, a) => l !== '' || a[i - 1] !== '')
    .join('\n');
  return { name: 'small', data: { levels, rows, notes }, checks, markdown, ...(profile === undefined ? {} : { profile }) };
}

function nonOk(r: LoadResult): string {
  if (r.non2xx === 0) return '0';
  const codes = Object.entries(r.statusCodes)
    .filter(([c]) => !c.startsWith('2'))
    .map(([c, n]) => `${n}×${c}`);
  return `${r.non2xx} (${codes.join(', ')})`;
}
