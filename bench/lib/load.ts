// Small-request load with autocannon's programmatic API, in this process.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { generateCsv } from '../pipeline.bench.js';

/** `rows` generated rows as CSV text, by pipeline.bench.ts's generator (one data shape everywhere). */
export async function csvText(rows: number): Promise<string> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dl-bench-body-'));
  try {
    const file = path.join(dir, 'rows.csv');
    await generateCsv(file, rows);
    return readFileSync(file, 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface Body {
  kind: 'text/csv' | 'multipart';
  body: Buffer;
  headers: Record<string, string>;
}

export function csvBody(csv: string): Body {
  return { kind: 'text/csv', body: Buffer.from(csv), headers: { 'content-type': 'text/csv' } };
}

/** The upload form the original service took: one `file` field holding the CSV. */
export function multipartBody(csv: string): Body {
  const boundary = '----driftline-bench-7MA4YWxkTrZu0gW';
  const body = Buffer.from(
    `--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="rows.csv"\r\ncontent-type: text/csv\r\n\r\n${csv}\r\n--${boundary}--\r\n`,
  );
  return { kind: 'multipart', body, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

export interface LoadResult {
  connections: number;
  seconds: number;
  /** 2xx responses only: a refused request (429, 503) is fast and must not count as served. */
  ok: number;
  rps: number;
  /** Latency of 2xx responses, ms. */
  p50: number;
  p90: number;
  p99: number;
  max: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  statusCodes: Record<string, number>;
}

export interface LoadOptions {
  url: string;
  connections: number;
  seconds: number;
  /**
   * Send exactly this many requests instead of running for `seconds`: none is left in flight
   * at the end, so server-side counters read afterwards match the client's count exactly.
   */
  amount?: number;
  body: Body;
}

interface Run {
  result: autocannon.Result;
  /** From the start to the last response, s: autocannon's own duration rounds up to its 1 s tick when `amount` ends a run. */
  activeSeconds: number;
}

function once(o: LoadOptions, seconds: number, amount?: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let last = t0;
    const instance = autocannon(
      {
        url: o.url,
        method: 'POST',
        connections: o.connections,
        ...(amount === undefined ? { duration: seconds } : { amount }),
        body: o.body.body,
        headers: o.body.headers,
        timeout: 10,
        // Latency percentiles from 2xx responses only; non-2xx are counted apart.
        excludeErrorStats: true,
      },
      (err, result) =>
        err ? reject(err) : resolve({ result, activeSeconds: amount === undefined ? result.duration : (last - t0) / 1000 }),
    );
    instance.on('response', () => (last = performance.now()));
  });
}

/** A warm-up (discarded), then the measured run; `during` brackets the measured run only. */
export async function load(o: LoadOptions, warmupSeconds: number, during?: { start(): unknown; stop(): unknown }): Promise<LoadResult> {
  if (warmupSeconds > 0) await once(o, warmupSeconds);
  await during?.start();
  const { result: r, activeSeconds } = await once(o, o.seconds, o.amount);
  await during?.stop();
  const ok = r['2xx'];
  const codes: Record<string, number> = {};
  for (const [code, v] of Object.entries(r.statusCodeStats ?? {})) codes[code] = (v as { count: number }).count;
  return {
    connections: o.connections,
    seconds: activeSeconds,
    ok,
    rps: ok / activeSeconds,
    p50: r.latency.p50,
    p90: r.latency.p90,
    p99: r.latency.p99,
    max: r.latency.max,
    errors: r.errors,
    timeouts: r.timeouts,
    non2xx: r.non2xx,
    statusCodes: codes,
  };
}
