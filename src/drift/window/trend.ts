// Quantiles over time: a ring of per-bucket t-digests (one per minute by default), so the
// dashboard can draw p5/p50/p95 lines. Separate from the row window: a bucket ages out by
// time, not by row count.
import { TDigest } from '../math/tdigest.js';

export interface TrendBucket {
  /** Bucket start, ms since the epoch. */
  start: number;
  count: number;
  p5: number;
  p50: number;
  p95: number;
}

const TREND_COMPRESSION = 50;

/**
 * Values a bucket's digest takes in full; past it, one in every `count / SAMPLE` (a stride that
 * grows with the bucket), so a bulk upload of a million rows costs the trend a few thousand
 * digest inserts per minute instead of a million. p5/p95 of 4096+ evenly spread values are well
 * inside a t-digest's own error; the bucket's `count` stays exact.
 */
const SAMPLE = 4096;

export class TrendRing {
  readonly bucketMs: number;
  private readonly digests: TDigest[];
  /** Absolute bucket number held by each slot, or -1. */
  private readonly ids: Float64Array;
  /** Values seen per slot's bucket (all of them, sampled or not). */
  private readonly seen: Float64Array;
  private latest = -1;

  constructor(bucketMs: number, buckets: number) {
    this.bucketMs = bucketMs;
    this.digests = Array.from({ length: buckets }, () => new TDigest(TREND_COMPRESSION));
    this.ids = new Float64Array(buckets).fill(-1);
    this.seen = new Float64Array(buckets);
  }

  push(x: number, at: number): void {
    const id = Math.floor(at / this.bucketMs);
    const n = this.ids.length;
    // A row stamped older than the ring (a late clock) is dropped rather than mis-filed.
    if (id <= this.latest - n) return;
    const slot = id % n;
    if (this.ids[slot] !== id) {
      this.digests[slot]!.reset();
      this.ids[slot] = id;
      this.seen[slot] = 0;
    }
    if (id > this.latest) this.latest = id;
    const k = this.seen[slot]!++;
    if (k < SAMPLE || k % Math.ceil(k / SAMPLE) === 0) this.digests[slot]!.push(x);
  }

  buckets(): TrendBucket[] {
    const out: TrendBucket[] = [];
    const n = this.ids.length;
    for (let id = this.latest - n + 1; id <= this.latest; id++) {
      if (id < 0) continue;
      const slot = id % n;
      if (this.ids[slot] !== id) continue;
      const d = this.digests[slot]!;
      if (d.size === 0) continue;
      out.push({ start: id * this.bucketMs, count: this.seen[slot]!, p5: d.quantile(0.05), p50: d.quantile(0.5), p95: d.quantile(0.95) });
    }
    return out;
  }

  clear(): void {
    for (const d of this.digests) d.reset();
    this.ids.fill(-1);
    this.seen.fill(0);
    this.latest = -1;
  }
}
