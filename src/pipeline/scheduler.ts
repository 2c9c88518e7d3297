import { performance } from 'node:perf_hooks';
import type { InferenceEngine } from '../model/inference.js';
import type { BatchResults } from '../stages/types.js';

export interface SchedulerOptions {
  /** Most rows in one model run (a single larger submission still runs, alone). */
  maxRows: number;
  /** How long an idle model waits for more rows before running a partial batch. */
  maxWaitMs: number;
  /** Model runs handed to the worker at once. */
  maxInflight: number;
}

export interface RunInfo {
  rows: number;
  submissions: number;
  queueMs: number;
  computeMs: number;
}

interface Submission {
  features: Float32Array;
  strings: string[] | undefined;
  rows: number;
  enqueuedAt: number;
  resolve: (r: BatchResults) => void;
  reject: (e: unknown) => void;
}

/**
 * One queue in front of the model, shared by every request (Triton's dynamic batcher): rows
 * that arrive while the model is busy are coalesced into the next run, so fifty clients sending
 * five rows each cost a few model runs, not fifty. Each submission gets exactly its own slice of
 * the probabilities back.
 *
 * The caller's Float32Array is copied into the run's own buffer (which is transferred to the
 * worker), so later stages can still read the features.
 */
export class BatchScheduler {
  private readonly queue: Submission[] = [];
  private queuedRows = 0;
  private inflight = 0;
  private timer: NodeJS.Timeout | undefined;
  runs = 0;
  rowsRun = 0;
  submissions = 0;

  constructor(
    private readonly engine: Pick<InferenceEngine, 'run'> & { spec: { nFeatures: number; nStrings?: number } },
    private readonly opts: SchedulerOptions,
    private readonly onRun?: (info: RunInfo) => void,
  ) {}

  predict(features: Float32Array, rows: number, strings?: string[]): Promise<BatchResults> {
    return new Promise<BatchResults>((resolve, reject) => {
      this.queue.push({ features, strings, rows, enqueuedAt: performance.now(), resolve, reject });
      this.queuedRows += rows;
      this.submissions++;
      this.schedule();
    });
  }

  get queued(): number {
    return this.queuedRows;
  }

  private schedule(): void {
    while (this.queue.length > 0 && this.inflight < this.opts.maxInflight) {
      // An idle model waits briefly for company unless a full batch is already here.
      if (this.queuedRows < this.opts.maxRows && this.opts.maxWaitMs > 0 && this.inflight === 0) {
        const waited = performance.now() - this.queue[0]!.enqueuedAt;
        if (waited < this.opts.maxWaitMs) {
          this.timer ??= setTimeout(() => {
            this.timer = undefined;
            this.dispatch();
            this.schedule();
          }, this.opts.maxWaitMs - waited);
          return;
        }
      }
      this.dispatch();
    }
  }

  private dispatch(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.queue.length === 0) return;
    const take: Submission[] = [];
    let rows = 0;
    while (this.queue.length > 0) {
      const next = this.queue[0]!;
      if (take.length > 0 && rows + next.rows > this.opts.maxRows) break;
      take.push(this.queue.shift()!);
      rows += next.rows;
    }
    this.queuedRows -= rows;
    const f = this.engine.spec.nFeatures;
    const data = new Float32Array(rows * f);
    let at = 0;
    for (const s of take) {
      data.set(s.features.subarray(0, s.rows * f), at * f);
      at += s.rows;
    }
    const ns = this.engine.spec.nStrings ?? 0;
    let strings: string[] | undefined;
    if (ns > 0) {
      strings = [];
      for (const s of take) for (let i = 0; i < s.rows * ns; i++) strings.push(s.strings![i]!);
    }
    const started = performance.now();
    this.inflight++;
    this.runs++;
    this.rowsRun += rows;
    this.engine.run(data, rows, strings).then(
      ({ probabilities, computeMs }) => {
        this.inflight--;
        let off = 0;
        for (const s of take) {
          s.resolve({ probabilities: probabilities.slice(off, off + s.rows), queueMs: started - s.enqueuedAt, computeMs });
          off += s.rows;
        }
        this.onRun?.({ rows, submissions: take.length, queueMs: started - take[0]!.enqueuedAt, computeMs });
        this.schedule();
      },
      (err: unknown) => {
        this.inflight--;
        for (const s of take) s.reject(err);
        this.schedule();
      },
    );
  }
}
