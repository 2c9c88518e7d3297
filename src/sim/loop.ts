// The traffic loop: a request of a random number of rows, then a pause of a random length,
// until a duration, a request count or an abort ends it. The sender is passed in, so the CLI
// (HTTP to any server), the service (HTTP to itself) and tests (no pause) share this loop.
import { setTimeout as sleep } from 'node:timers/promises';
import { between, intBetween } from './prng.js';
import type { TrafficGenerator } from './generator.js';

export interface SendResult {
  /** HTTP status, or 0 when no response came (connection refused, timeout). */
  status: number;
  n_rows: number;
  n_rejected: number;
  /** Why the request failed, when it did. */
  error?: string;
}

export interface RequestReport extends SendResult {
  seq: number;
  rows: number;
  elapsedMs: number;
}

export interface TrafficTotals {
  requests: number;
  rows_sent: number;
  rows_predicted: number;
  rows_rejected: number;
  failures: number;
}

export interface TrafficOptions {
  generator: TrafficGenerator;
  send(csv: string, rows: number): Promise<SendResult>;
  /** Inclusive range of rows per request. */
  rowsPerRequest: readonly [number, number];
  /** Range of the pause between requests; [0, 0] sends back to back. */
  intervalMs: readonly [number, number];
  durationMs?: number | undefined;
  maxRequests?: number | undefined;
  signal?: AbortSignal | undefined;
  now?: () => number;
  onRequest?: (r: RequestReport) => void;
}

export async function runTraffic(o: TrafficOptions): Promise<TrafficTotals> {
  const now = o.now ?? Date.now;
  const start = now();
  const totals: TrafficTotals = { requests: 0, rows_sent: 0, rows_predicted: 0, rows_rejected: 0, failures: 0 };
  const rand = o.generator.rand;
  const over = (): boolean =>
    o.signal?.aborted === true ||
    (o.durationMs !== undefined && now() - start >= o.durationMs) ||
    (o.maxRequests !== undefined && totals.requests >= o.maxRequests);
  while (!over()) {
    const elapsedMs = now() - start;
    const rows = intBetween(rand, o.rowsPerRequest[0], o.rowsPerRequest[1]);
    let r: SendResult;
    try {
      r = await o.send(o.generator.csv(rows, elapsedMs), rows);
    } catch (err) {
      r = { status: 0, n_rows: 0, n_rejected: 0, error: err instanceof Error ? err.message : String(err) };
    }
    totals.requests++;
    totals.rows_sent += rows;
    totals.rows_predicted += r.n_rows;
    totals.rows_rejected += r.n_rejected;
    if (r.status !== 200) totals.failures++;
    o.onRequest?.({ ...r, seq: totals.requests, rows, elapsedMs });
    if (over()) break;
    const pause = between(rand, o.intervalMs[0], o.intervalMs[1]);
    if (o.durationMs !== undefined && now() - start + pause >= o.durationMs) break;
    if (pause > 0) {
      try {
        await sleep(pause, undefined, o.signal === undefined ? {} : { signal: o.signal });
      } catch {
        break; // aborted while pausing
      }
    }
  }
  return totals;
}
