import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { MonitorSnapshot } from '../monitor/index.js';

/** Seconds, for the inference queue and compute histograms: 100 µs to 1 s. */
const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

/** The service's Prometheus metrics (one registry per service instance, so tests don't collide). */
export class Metrics {
  readonly registry = new Registry();
  readonly requests: Counter<'route' | 'method' | 'status'> = new Counter({
    name: 'driftline_http_requests_total',
    help: 'HTTP requests by route, method and status',
    labelNames: ['route', 'method', 'status'],
    registers: [this.registry],
  });
  readonly requestSeconds: Histogram<'route'> = new Histogram({
    name: 'driftline_http_request_duration_seconds',
    help: 'HTTP request latency by route',
    labelNames: ['route'],
    registers: [this.registry],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
  });
  readonly rowsPredicted: Counter = new Counter({
    name: 'driftline_rows_predicted_total',
    help: 'Rows scored by the model',
    registers: [this.registry],
  });
  readonly rowsRejected: Counter = new Counter({
    name: 'driftline_rows_rejected_total',
    help: 'Rows rejected by validation',
    registers: [this.registry],
  });
  readonly batchRows: Histogram = new Histogram({
    name: 'driftline_batch_rows',
    help: 'Rows per model run (after dynamic batching)',
    registers: [this.registry],
    buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000],
  });
  readonly batchSubmissions: Histogram = new Histogram({
    name: 'driftline_batch_requests',
    help: 'Request batches coalesced into one model run',
    registers: [this.registry],
    buckets: [1, 2, 3, 5, 10, 20, 50, 100],
  });
  readonly queueSeconds: Histogram = new Histogram({
    name: 'driftline_inference_queue_seconds',
    help: 'Time a batch waited in the dynamic-batching queue',
    registers: [this.registry],
    buckets: LATENCY_BUCKETS,
  });
  readonly computeSeconds: Histogram = new Histogram({
    name: 'driftline_inference_compute_seconds',
    help: 'Time the model spent on a run',
    registers: [this.registry],
    buckets: LATENCY_BUCKETS,
  });
  readonly modelRuns: Counter = new Counter({ name: 'driftline_model_runs_total', help: 'Model runs', registers: [this.registry] });
  readonly driftShare: Gauge = new Gauge({
    name: 'driftline_drift_share',
    help: 'Share of drifted features in the window',
    registers: [this.registry],
  });
  readonly datasetDrift: Gauge = new Gauge({
    name: 'driftline_dataset_drift',
    help: '1 when the dataset is drifted',
    registers: [this.registry],
  });
  readonly featureScore: Gauge<'feature' | 'test'> = new Gauge({
    name: 'driftline_feature_drift_score',
    help: 'Drift score per feature (p-value or distance, see test)',
    labelNames: ['feature', 'test'],
    registers: [this.registry],
  });
  readonly featureDrift: Gauge<'feature'> = new Gauge({
    name: 'driftline_feature_drift',
    help: '1 when the feature is drifted',
    labelNames: ['feature'],
    registers: [this.registry],
  });
  readonly windowRows: Gauge = new Gauge({ name: 'driftline_window_rows', help: 'Rows in the drift window', registers: [this.registry] });
  readonly wsClients: Gauge = new Gauge({
    name: 'driftline_websocket_clients',
    help: 'Open WebSocket connections',
    registers: [this.registry],
  });
  readonly uploadsInFlight: Gauge = new Gauge({
    name: 'driftline_uploads_in_flight',
    help: 'POST /predict requests in progress',
    registers: [this.registry],
  });
  readonly leader: Gauge = new Gauge({
    name: 'driftline_leader',
    help: '1 while this process runs the alert rules and delivery (always alone; the elected replica among replicas sharing DATABASE_URL)',
    registers: [this.registry],
  });
  readonly alertsFiring: Gauge = new Gauge({
    name: 'driftline_alerts_firing',
    help: 'Alert rules currently in violation',
    registers: [this.registry],
  });
  readonly quality: Gauge<'metric'> = new Gauge({
    name: 'driftline_model_quality',
    help: 'Rolling accuracy, precision, recall, f1 and roc_auc over the labelled rows of the window',
    labelNames: ['metric'],
    registers: [this.registry],
  });
  readonly estimated: Gauge<'metric' | 'bound'> = new Gauge({
    name: 'driftline_model_quality_estimated',
    help: 'Quality estimated before labels (CBPE) over the window: accuracy, precision, recall, f1, roc_auc; bound is estimate, lower or upper (±3 standard errors)',
    labelNames: ['metric', 'bound'],
    registers: [this.registry],
  });
  readonly dataQuality: Gauge<'feature' | 'kind'> = new Gauge({
    name: 'driftline_data_quality_share',
    help: 'Share of the last rows (accepted or rejected) whose feature is missing, invalid or an unseen category; kind is missing, invalid or unseen',
    labelNames: ['feature', 'kind'],
    registers: [this.registry],
  });
  readonly labelled: Gauge = new Gauge({
    name: 'driftline_labelled_rows',
    help: 'Labelled rows in the window',
    registers: [this.registry],
  });

  /** `replica`: this replica's name, set when replicas share a log (every series carries it then). */
  constructor(replica?: string) {
    if (replica !== undefined) this.registry.setDefaultLabels({ replica });
    collectDefaultMetrics({ register: this.registry, prefix: 'driftline_' });
  }

  observeSnapshot(s: MonitorSnapshot): void {
    this.labelled.set(s.performance.n_labelled);
    for (const m of ['accuracy', 'precision', 'recall', 'f1', 'roc_auc'] as const) {
      const v = s.performance[m];
      if (v !== null) this.quality.set({ metric: m }, v);
    }
    const e = s.performance_estimate;
    if (e !== null) {
      for (const m of ['accuracy', 'precision', 'recall', 'f1', 'roc_auc'] as const) {
        const v = e[m];
        const band = e.bands[m];
        if (v !== null) this.estimated.set({ metric: m, bound: 'estimate' }, v);
        if (band !== null) {
          this.estimated.set({ metric: m, bound: 'lower' }, band[0]);
          this.estimated.set({ metric: m, bound: 'upper' }, band[1]);
        }
      }
    }
    for (const [feature, q] of Object.entries(s.data_quality ?? {})) {
      for (const kind of ['missing', 'invalid', 'unseen'] as const) {
        const v = q[`${kind}_share`];
        if (v !== null) this.dataQuality.set({ feature, kind }, v);
      }
    }
    this.driftShare.set(s.dataset.share_drifted);
    this.datasetDrift.set(s.dataset.drift ? 1 : 0);
    this.windowRows.set(s.window_rows);
    for (const [name, f] of Object.entries(s.features)) {
      if (f.score !== null) this.featureScore.set({ feature: name, test: f.test }, f.score);
      this.featureDrift.set({ feature: name }, f.drift ? 1 : 0);
    }
  }
}
