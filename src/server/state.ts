import type { Config } from '../config.js';
import type { DriftlineError } from '../errors.js';
import type { Logger } from '../log.js';
import type { ModelCard } from '../model/card.js';
import type { LoadedModel } from '../model/load.js';
import type { DriftMonitor } from '../monitor/index.js';
import type { Batch, BatchScheduler, SketchSink } from '../pipeline/index.js';
import type { ReferenceProfile } from '../drift/index.js';
import type { HistoryStore, LogStore } from '../store/index.js';
import type { Alerting } from './alerting.js';
import type { LiveHub } from './live.js';
import type { Metrics } from './metrics.js';
import type { Track } from './stats.js';

/** Everything a route handler may use; built once by startService. */
export interface ServiceState {
  config: Config;
  log: Logger;
  card: ModelCard;
  model: LoadedModel;
  profile: ReferenceProfile;
  store: LogStore;
  /**
   * What an upload's sketch stage feeds: the window itself, or, when the window follows a log
   * that replicas share (DATABASE_URL), only the rejected rows (the accepted ones reach it from
   * the log, in log order, like every other replica's).
   */
  sketch: SketchSink;
  history: HistoryStore;
  monitor: DriftMonitor;
  scheduler: BatchScheduler;
  metrics: Metrics;
  hub: LiveHub;
  /** The alert rules, the outbox and its delivery. */
  alerting: Alerting;
  /** True once the model and store are loaded, false again while shutting down. */
  ready(): boolean;
  /** undefined when the request may write; the error to send otherwise. */
  authorize(authorization: string): DriftlineError | undefined;
  /** Starts timing a request; call the result with the status sent. */
  track: Track;
  /** Uploads in progress, /predict and /api/feedback (admission.ts: the concurrency limit; graceful shutdown). */
  uploads: Set<Promise<unknown>>;
  /** Every batch that has passed all stages (metrics and the live predictions feed). */
  onBatch(batch: Batch, requestId: string): void;
}
