import { performance } from 'node:perf_hooks';
import type { Transform } from 'node:stream';

/** Counters for one pipeline run (and, summed, for the service). */
export class PipelineStats {
  rowsIn = 0;
  rowsPredicted = 0;
  rowsRejected = 0;
  batches = 0;
  queueMs = 0;
  computeMs = 0;
  /** Main-thread time spent inside each stage's transform, by stage name. */
  readonly stageMs: Record<string, number> = {};

  toJSON(): Record<string, unknown> {
    return {
      rows_in: this.rowsIn,
      rows_predicted: this.rowsPredicted,
      rows_rejected: this.rowsRejected,
      batches: this.batches,
      queue_ms: round(this.queueMs),
      compute_ms: round(this.computeMs),
      stage_ms: Object.fromEntries(Object.entries(this.stageMs).map(([k, v]) => [k, round(v)])),
    };
  }
}

const round = (v: number): number => Math.round(v * 100) / 100;

type TransformFn = (chunk: unknown, enc: BufferEncoding, cb: (err?: Error | null, data?: unknown) => void) => void;

/** Measures the synchronous time a stage spends per chunk, without changing what it does. */
export function timed<T extends Transform>(stage: T, name: string, stats: PipelineStats): T {
  const inner = (stage as unknown as { _transform: TransformFn })._transform.bind(stage);
  stats.stageMs[name] ??= 0;
  (stage as unknown as { _transform: TransformFn })._transform = (chunk, enc, cb) => {
    const t0 = performance.now();
    inner(chunk, enc, cb);
    stats.stageMs[name]! += performance.now() - t0;
  };
  return stage;
}
