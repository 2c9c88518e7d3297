/**
 * The Page-Hinkley change detector as River defines it (river.drift.PageHinkley: the running
 * mean, a forgetting factor alpha on the cumulative deviation, detection when the cumulative
 * increase exceeds `threshold` once `min_instances` values were seen; it resets after a
 * detection). Fed per-row errors (0 right, 1 wrong), so only increases matter: mode "up".
 */
export interface PageHinkleyOptions {
  minInstances: number;
  delta: number;
  threshold: number;
  alpha: number;
}

export const PAGE_HINKLEY_DEFAULTS: PageHinkleyOptions = { minInstances: 30, delta: 0.005, threshold: 50, alpha: 1 - 0.0001 };

export class PageHinkley {
  private n = 0;
  private mean = 0;
  private sumIncrease = 0;
  private minIncrease = Number.POSITIVE_INFINITY;
  driftDetected = false;
  /** Values seen since the last reset. */
  get seen(): number {
    return this.n;
  }

  constructor(private readonly opts: PageHinkleyOptions = PAGE_HINKLEY_DEFAULTS) {}

  /** The statistic compared with the threshold. */
  get statistic(): number {
    return this.n === 0 ? 0 : this.sumIncrease - this.minIncrease;
  }

  update(x: number): boolean {
    if (this.driftDetected) this.reset();
    this.n++;
    this.mean += (x - this.mean) / this.n;
    const dev = x - this.mean;
    this.sumIncrease = this.opts.alpha * this.sumIncrease + dev - this.opts.delta;
    this.minIncrease = Math.min(this.minIncrease, this.sumIncrease);
    this.driftDetected = this.n >= this.opts.minInstances && this.sumIncrease - this.minIncrease > this.opts.threshold;
    return this.driftDetected;
  }

  reset(): void {
    this.n = 0;
    this.mean = 0;
    this.sumIncrease = 0;
    this.minIncrease = Number.POSITIVE_INFINITY;
    this.driftDetected = false;
  }
}
