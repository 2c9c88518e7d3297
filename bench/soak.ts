// Soak: mixed traffic at a steady, moderate rate for a long time, to see whether memory creeps
// or errors appear, not how fast anything is.
//
//   node --import=tsx bench/soak.ts --duration 600 [--rate 40] [--bulk-every 30] [--bulk-rows 50000]
//                                   [--ws 5] [--rss-slope 1] [--heap-slope 0.5]
//
// Traffic on one server child process (as in bench/run.ts): 5-row POST /predict at --rate
// req/s (a request is skipped, and counted, if 32 are already in flight), one --bulk-rows
// upload every --bulk-every s, --ws WebSocket clients on every topic, and every 2 s labels for
// 20 earlier predictions to /api/feedback (text/csv: request_id,row,target).
//
// Every 10 s a line: errors so far, server RSS (/proc) and V8 heap used (from /metrics, polled
// every 250 ms: the interval's lowest value is the nearest to a post-GC reading). At the end,
// the slope of the lower envelope of RSS and heap over the second half (after start-up and the
// first fill of the drift window and caches) says whether they still rise; above --rss-slope /
// --heap-slope MB per minute counts as rising.
// Writes reports/soak-<date>.json and reports/soak.md.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { upload } from './sections/bulk.js';
import { csvText } from './lib/load.js';
import { fixed, int, table } from './lib/md.js';
import { metric } from './lib/prom.js';
import { readProc } from './lib/proc.js';
import { ensureBuilt, ROOT, startDriftline } from './lib/server.js';
import { generateCsv } from './pipeline.bench.js';
import { arg, quantile, slope, writeJson } from './util.js';

const duration = Number(arg('duration') ?? 600);
const rate = Number(arg('rate') ?? 40);
const bulkEvery = Number(arg('bulk-every') ?? 30);
const bulkRows = Number(arg('bulk-rows') ?? 50_000);
const wsClients = Number(arg('ws') ?? 5);
const rssSlopeLimit = Number(arg('rss-slope') ?? 1);
const heapSlopeLimit = Number(arg('heap-slope') ?? 0.5);
const MAX_IN_FLIGHT = 32;
const SAMPLE_S = 10;
const HEAP_POLL_MS = 250;
const ENVELOPE_BUCKETS = 5;
/** Below this the second half still holds start-up growth (V8 compiling, caches and the drift window filling). */
const MIN_JUDGED_S = 300;

interface Sample {
  t: number;
  requests: number;
  errors: number;
  bulk: number;
  feedback: number;
  wsMessages: number;
  rssMB: number;
  heapUsedMB: number;
  heapFloorMB: number;
  cpuPercent: number;
  p99Ms: number;
}

/**
 * MB per minute of the lower envelope: the samples fall into up to ENVELOPE_BUCKETS runs of
 * time, the lowest of each is kept, and a line is fitted through those. Garbage not yet
 * collected only ever adds to a reading, so a sawtooth leaves the floor alone while a leak
 * lifts it.
 */
function envelopeSlope(samples: Sample[], y: (s: Sample) => number): number {
  const k = Math.min(ENVELOPE_BUCKETS, samples.length);
  const xs: number[] = [];
  const ys: number[] = [];
  for (let b = 0; b < k; b++) {
    const bucket = samples.slice(Math.floor((b * samples.length) / k), Math.floor(((b + 1) * samples.length) / k));
    const low = bucket.reduce((m, s) => (y(s) < y(m) ? s : m));
    xs.push(low.t / 60);
    ys.push(y(low));
  }
  return slope(xs, ys);
}

async function main(): Promise<void> {
  if (!(duration > 0 && rate > 0)) throw new Error('--duration and --rate must be positive');
  const started = new Date();
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'dl-soak-'));
  const build = ensureBuilt(console.log);
  const server = await startDriftline(build);
  console.log(
    `soak: ${duration} s against ${server.url} (${build.how}); ${rate} req/s of 5 rows, ${int(bulkRows)} rows every ${bulkEvery} s, ${wsClients} WebSocket clients, feedback every 2 s`,
  );

  const small = Buffer.from(await csvText(5));
  const bulkFile = path.join(tmp, 'bulk.csv');
  await generateCsv(bulkFile, bulkRows);

  const errors = new Map<string, number>();
  const fail = (kind: string): void => void errors.set(kind, (errors.get(kind) ?? 0) + 1);
  const errorCount = (): number => [...errors.values()].reduce((a, b) => a + b, 0);
  let requests = 0;
  let skipped = 0;
  let inFlight = 0;
  let bulkDone = 0;
  let feedbackItems = 0;
  let wsMessages = 0;
  let latencies: number[] = [];
  const labelled: { id: string; at: number }[] = [];
  let stopping = false;

  const fire = (): void => {
    if (inFlight >= MAX_IN_FLIGHT) {
      skipped++;
      return;
    }
    inFlight++;
    requests++;
    const t0 = performance.now();
    fetch(`${server.url}/predict`, { method: 'POST', headers: { 'content-type': 'text/csv' }, body: small })
      .then(async (r) => {
        const text = await r.text();
        latencies.push(performance.now() - t0);
        if (r.status !== 200) return fail(`predict ${r.status}`);
        const id = /"request_id":"([^"]+)"/.exec(text)?.[1];
        if (id !== undefined && labelled.length < 10_000) labelled.push({ id, at: Date.now() });
      })
      .catch(() => fail('predict network'))
      .finally(() => inFlight--);
  };
  const smallTimer = setInterval(fire, 1000 / rate);

  // Labels only for predictions a few seconds old, so the log writer has committed them.
  const feedbackTimer = setInterval(() => {
    // The newest of those: older ones are dropped, as labels for them would trail ever further
    // behind and, once retention deletes their rows, be refused.
    const old = labelled.filter((l) => l.at < Date.now() - 3000);
    if (old.length === 0) return;
    labelled.splice(0, old.length);
    const ready = old.slice(-4);
    const body = `request_id,row,target\n${ready.flatMap((l) => [0, 1, 2, 3, 4].map((row) => `${l.id},${row},${(row + l.id.charCodeAt(0)) % 2}`)).join('\n')}\n`;
    fetch(`${server.url}/api/feedback`, { method: 'POST', headers: { 'content-type': 'text/csv' }, body })
      .then(async (r) => {
        await r.text();
        if (r.status === 200) feedbackItems += ready.length * 5;
        else fail(`feedback ${r.status}`);
      })
      .catch(() => fail('feedback network'));
  }, 2000);

  let bulkBusy = false;
  const bulkTimer = setInterval(() => {
    if (bulkBusy) return;
    bulkBusy = true;
    upload(server, bulkFile, bulkRows)
      .then(
        () => bulkDone++,
        () => fail('bulk'),
      )
      .finally(() => (bulkBusy = false));
  }, bulkEvery * 1000);

  const sockets = new Set<WebSocket>();
  const connect = (): void => {
    const ws = new WebSocket(`${server.url.replace('http', 'ws')}/ws?topics=drift,predictions,alerts,stats`, { perMessageDeflate: false });
    sockets.add(ws);
    ws.on('message', () => wsMessages++);
    ws.on('error', () => undefined);
    ws.on('close', () => {
      sockets.delete(ws);
      if (stopping) return;
      fail('websocket closed');
      setTimeout(connect, 1000);
    });
  };
  for (let i = 0; i < wsClients; i++) connect();

  // Heap polled every HEAP_POLL_MS (one scrape at a time); each 10 s sample keeps the
  // interval's lowest value, the nearest to a post-GC reading.
  let heapFloor = Number.POSITIVE_INFINITY;
  let heapLast = Number.NaN;
  let scraping = false;
  const heapTimer = setInterval(() => {
    if (scraping) return;
    scraping = true;
    server
      .metrics()
      .then(
        (m) => {
          heapLast = metric(m, 'driftline_nodejs_heap_size_used_bytes') / 1e6;
          heapFloor = Math.min(heapFloor, heapLast);
        },
        () => fail('metrics'),
      )
      .finally(() => (scraping = false));
  }, HEAP_POLL_MS);

  const samples: Sample[] = [];
  const t0 = performance.now();
  let lastCpu = readProc(server.pid);
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const t = (performance.now() - t0) / 1000;
      let p: ReturnType<typeof readProc>;
      try {
        p = readProc(server.pid);
      } catch {
        fail('server exited');
        console.log(`the server exited:\n${server.output()}`);
        clearInterval(tick);
        resolve();
        return;
      }
      const s: Sample = {
        t: Math.round(t),
        requests,
        errors: errorCount(),
        bulk: bulkDone,
        feedback: feedbackItems,
        wsMessages,
        rssMB: p.rssBytes / 1e6,
        heapUsedMB: heapLast,
        heapFloorMB: Number.isFinite(heapFloor) ? heapFloor : heapLast,
        cpuPercent: (p.cpuMs - lastCpu.cpuMs) / 10 / ((p.at - lastCpu.at) / 1000),
        p99Ms: quantile(latencies, 0.99),
      };
      lastCpu = p;
      latencies = [];
      heapFloor = Number.POSITIVE_INFINITY;
      samples.push(s);
      console.log(
        `t=${String(s.t).padStart(4)}s  requests ${int(s.requests)} (p99 ${fixed(0)(s.p99Ms)} ms)  errors ${s.errors}  bulk ${s.bulk}  feedback ${int(s.feedback)}  ws msgs ${int(s.wsMessages)}  |  RSS ${fixed(1)(s.rssMB)} MB  heap ${fixed(1)(s.heapUsedMB)} MB (floor ${fixed(1)(s.heapFloorMB)})  CPU ${fixed(0)(s.cpuPercent)} %`,
      );
      if (t >= duration - 0.5) {
        clearInterval(tick);
        resolve();
      }
    }, SAMPLE_S * 1000);
  });

  stopping = true;
  for (const t of [smallTimer, feedbackTimer, bulkTimer, heapTimer]) clearInterval(t);
  for (const ws of sockets) ws.close(1000);
  const drainUntil = Date.now() + 30_000;
  while ((inFlight > 0 || bulkBusy) && Date.now() < drainUntil) await new Promise((r) => setTimeout(r, 100));
  const { code } = await server.stop();
  rmSync(tmp, { recursive: true, force: true });

  const half = samples.slice(Math.floor(samples.length / 2));
  const rssSlope = envelopeSlope(half, (s) => s.rssMB);
  const heapSlope = envelopeSlope(half, (s) => s.heapFloorMB);
  const rising = { rss: rssSlope > rssSlopeLimit, heap: heapSlope > heapSlopeLimit };
  const verdict =
    duration < MIN_JUDGED_S
      ? `not judged: shorter than ${MIN_JUDGED_S} s, a run sees mostly start-up growth`
      : rising.rss || rising.heap
        ? `RISING: ${[rising.rss ? 'RSS' : '', rising.heap ? 'heap' : ''].filter(Boolean).join(' and ')}`
        : 'flat';
  const summary = {
    duration_s: duration,
    rate,
    bulk_every_s: bulkEvery,
    bulk_rows: bulkRows,
    ws_clients: wsClients,
    requests,
    skipped,
    bulk_uploads: bulkDone,
    feedback_items: feedbackItems,
    ws_messages: wsMessages,
    errors: Object.fromEntries(errors),
    error_count: errorCount(),
    server_exit_code: code,
    rss_slope_mb_per_min: rssSlope,
    heap_floor_slope_mb_per_min: heapSlope,
    limits_mb_per_min: { rss: rssSlopeLimit, heap: heapSlopeLimit },
    verdict,
  };
  console.log(
    `\n${int(requests)} requests (${skipped} skipped at ${MAX_IN_FLIGHT} in flight), ${bulkDone} bulk uploads, ${int(feedbackItems)} labels, ${int(wsMessages)} WebSocket messages; ${errorCount()} errors${errors.size > 0 ? ` (${[...errors].map(([k, v]) => `${v}× ${k}`).join(', ')})` : ''}; server exited with ${code}`,
  );
  console.log(
    `second half: RSS ${fixed(2)(rssSlope)} MB/min (limit ${rssSlopeLimit}), heap floor ${fixed(2)(heapSlope)} MB/min (limit ${heapSlopeLimit}), lower envelopes → ${verdict}`,
  );

  const stamp = started.toISOString().slice(0, 19).replace(/:/g, '-');
  const jsonFile = path.join(ROOT, 'reports', `soak-${stamp}.json`);
  writeJson(jsonFile, {
    started: started.toISOString(),
    node: process.version,
    cpus: os.cpus().length,
    server: build.how,
    summary,
    samples,
  });
  const md = [
    '# driftline soak',
    '',
    `\`node --import=tsx bench/soak.ts ${process.argv.slice(2).join(' ')}\`, started ${started.toISOString().replace('T', ' ').slice(0, 19)} UTC; node ${process.version}, ${os.cpus().length} CPUs, load average ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} at the end; server from ${build.how}. Full samples: \`${path.relative(ROOT, jsonFile)}\` (not committed).`,
    '',
    `Traffic: ${rate} req/s of 5-row \`POST /predict\`, a ${int(bulkRows)}-row upload every ${bulkEvery} s, ${wsClients} WebSocket clients on every topic, labels for 20 rows to \`/api/feedback\` every 2 s. Heap is V8's used heap from \`/metrics\` (\`driftline_nodejs_heap_size_used_bytes\`), polled every ${HEAP_POLL_MS} ms; "floor" is each 10 s interval's lowest value. A trend is the least-squares slope of the lower envelope over the second half of the run (the lowest sample in each of up to ${ENVELOPE_BUCKETS} equal stretches), since uncollected garbage only ever adds to a reading.`,
    '',
    ...(duration < MIN_JUDGED_S
      ? [
          'A run this short mostly sees start-up growth (V8 compiling, the drift window and SQLite page cache filling): judge trends on `--duration 600` or longer.',
          '',
        ]
      : []),
    `**Verdict: ${verdict}.** RSS ${fixed(2)(rssSlope)} MB/min (limit ${rssSlopeLimit}), heap floor ${fixed(2)(heapSlope)} MB/min (limit ${heapSlopeLimit}).`,
    '',
    table(
      ['requests', 'skipped', 'bulk uploads', 'labels', 'WebSocket msgs', 'errors', 'server exit'],
      [
        [
          int(requests),
          skipped,
          bulkDone,
          int(feedbackItems),
          int(wsMessages),
          `${errorCount()}${errors.size > 0 ? ` (${[...errors].map(([k, v]) => `${v}× ${k}`).join(', ')})` : ''}`,
          String(code),
        ],
      ],
    ),
    '',
    table(
      ['t (s)', 'requests', 'p99 (interval)', 'errors', 'bulk', 'labels', 'RSS MB', 'heap MB', 'heap floor MB', 'server CPU'],
      samples.map((s) => [
        s.t,
        int(s.requests),
        `${fixed(0)(s.p99Ms)} ms`,
        s.errors,
        s.bulk,
        int(s.feedback),
        fixed(1)(s.rssMB),
        fixed(1)(s.heapUsedMB),
        fixed(1)(s.heapFloorMB),
        `${fixed(0)(s.cpuPercent)} %`,
      ]),
    ),
    '',
  ].join('\n');
  writeFileSync(path.join(ROOT, 'reports', 'soak.md'), md);
  console.log(`wrote reports/soak.md and ${path.relative(ROOT, jsonFile)}`);
  if (errorCount() > 0 || code !== 0) process.exitCode = 1;
}

await main();
