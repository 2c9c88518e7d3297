import { performance } from 'node:perf_hooks';
import type { Metrics } from './metrics.js';

/**
 * Once-a-second service stats for the `stats` topic: rows/s and requests/s over the last
 * second, and latency quantiles over the last requests (a ring, so cost is flat under load).
 */
export class StatsTracker {
  private rowsTotal = 0;
  private requestsTotal = 0;
  private lastRows = 0;
  private lastRequests = 0;
  private lastAt = Date.now();
  private readonly latencies = new Float64Array(2048);
  private n = 0;

  rows(n: number): void {
    this.rowsTotal += n;
  }

  request(ms: number): void {
    this.latencies[this.n++ % this.latencies.length] = ms;
    this.requestsTotal++;
  }

  tick(extra: Record<string, unknown> = {}): Record<string, unknown> {
    const now = Date.now();
    const dt = Math.max(1, now - this.lastAt) / 1000;
    const out = {
      at: new Date(now).toISOString(),
      rows_per_s: Math.round((this.rowsTotal - this.lastRows) / dt),
      requests_per_s: Math.round(((this.requestsTotal - this.lastRequests) / dt) * 10) / 10,
      rows_total: this.rowsTotal,
      requests_total: this.requestsTotal,
      latency_ms: this.quantiles(),
      ...extra,
    };
    this.lastRows = this.rowsTotal;
    this.lastRequests = this.requestsTotal;
    this.lastAt = now;
    return out;
  }

  private quantiles(): { p50: number | null; p95: number | null; p99: number | null } {
    const k = Math.min(this.n, this.latencies.length);
    if (k === 0) return { p50: null, p95: null, p99: null };
    const sorted = this.latencies.slice(0, k).sort();
    const q = (p: number): number => Math.round(sorted[Math.min(k - 1, Math.floor(p * k))]! * 100) / 100;
    return { p50: q(0.5), p95: q(0.95), p99: q(0.99) };
  }
}

/** Starts timing a request; the result, called with the status sent, records it. */
export type Track = (route: string, method: string, t0: number) => (status: number) => number;

/** Request metrics for every route; /predict's latency also feeds the live stats. */
export function requestTracker(metrics: Metrics, stats: StatsTracker): Track {
  return (route, method, t0) => (status) => {
    const seconds = (performance.now() - t0) / 1000;
    metrics.requests.inc({ route, method, status: String(status) });
    metrics.requestSeconds.observe({ route }, seconds);
    if (route === '/predict') stats.request(seconds * 1000);
    return status;
  };
}
