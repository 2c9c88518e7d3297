import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Config } from '../../config.js';
import type { Logger } from '../../log.js';
import { loadModel, type LoadedModel } from '../../model/index.js';
import { DriftMonitor, type MonitorOptions } from '../../monitor/index.js';
import { BatchScheduler } from '../../pipeline/index.js';
import {
  openHistory,
  openLog,
  type HistoryPoint,
  type LogStore,
  type OpenedHistory,
  type OpenedLog,
  type StoreHealth,
  type DecodedBatch,
  type WindowRow,
} from '../../store/index.js';
import { Alerting } from '../alerting.js';
import { checkKey } from '../auth.js';
import { PredictionFeed, type FeedRows, type LiveHub } from '../live.js';
import type { Metrics } from '../metrics.js';
import type { ServiceState } from '../state.js';
import type { StatsTracker, Track } from '../stats.js';
import type { CheckedSettings } from './settings.js';

/** What the routes need from outside the state: made before the socket listens. */
export interface FrontParts {
  metrics: Metrics;
  stats: StatsTracker;
  health: StoreHealth;
  hub: LiveHub;
  feedRows: FeedRows;
  track: Track;
  ready: () => boolean;
}

export interface OpenedState {
  state: ServiceState;
  /** Publishes the rows still waiting for the live feed and stops it. */
  flushFeed(): void;
  /** Stops alert delivery, persists the last drift snapshot, closes the store and the model. */
  close(): Promise<void>;
}

/**
 * Opens what the routes serve: the model (its worker threads), the prediction log, the drift
 * window rebuilt from the log, the alert rules and outbox, and the batch scheduler. On a
 * failure, whatever was opened is closed again before the error goes on.
 */
export async function openState(config: Config, log: Logger, checked: CheckedSettings, front: FrontParts): Promise<OpenedState> {
  const model = await loadModel(config.MODEL_DIR, { threads: config.INFERENCE_THREADS });
  const { opened, stored } = await openStores(config, checked, front.health).catch(async (err: unknown) => {
    await model.engine.close();
    throw err;
  });
  const { store } = opened;
  const { history } = stored;
  const feed = new PredictionFeed(front.hub);
  // With a shared log, the feed and rows/s show the cluster: every replica's committed batches.
  const committed = (b: DecodedBatch): void => {
    front.stats.rows(b.rows);
    feed.add((max) => front.feedRows.fromCommitted(b, max));
  };
  const undo = async (err: unknown): Promise<never> => {
    feed.stop();
    await store.close();
    await stored.close();
    await model.engine.close();
    throw err;
  };
  const alerting = await Alerting.open(
    { config, log, card: checked.card, rules: checked.rules, db: stored.db },
    { log, hub: front.hub, metrics: front.metrics },
  ).catch(undo);
  const monitor = await openMonitor(config, log, checked, opened, historyWriter(stored, alerting), committed).catch(
    async (err: unknown) => {
      await alerting.stop().catch(() => undefined);
      return undo(err);
    },
  );
  monitor.on('snapshot', (snap) => {
    front.metrics.observeSnapshot(snap);
    alerting.evaluate(snap);
  });
  const scheduler = openScheduler(config, model, front.metrics);
  const state: ServiceState = {
    config,
    log,
    card: checked.card,
    model,
    profile: checked.profile,
    store,
    sketch: opened.shared ? { push: () => -1, reject: (e) => monitor.reject(e) } : monitor,
    history,
    monitor,
    scheduler,
    alerting,
    metrics: front.metrics,
    hub: front.hub,
    ready: front.ready,
    authorize: checkKey(config.API_KEY),
    track: front.track,
    uploads: new Set<Promise<unknown>>(),
    onBatch: (b, requestId) => {
      front.metrics.rowsPredicted.inc(b.rows);
      if (b.count > b.rows) front.metrics.rowsRejected.inc(b.count - b.rows);
      if (opened.shared) return;
      front.stats.rows(b.rows);
      feed.add((max) => front.feedRows.fromBatch(b, requestId, max));
    },
  };
  return {
    state,
    flushFeed() {
      feed.flush();
      feed.stop();
    },
    close: () => closeState({ log, monitor, alerting, store, stored, model }),
  };
}

/**
 * What the monitor writes the history through. A shared history is written by the leader
 * alone, as the rules run there alone: every window is the same, so its points stand for the
 * cluster's, one per DRIFT_HISTORY_MS.
 */
function historyWriter(stored: OpenedHistory, alerting: Alerting): MonitorOptions['history'] {
  return { add: (p: HistoryPoint) => (!stored.shared || alerting.isLeader ? stored.history.add(p) : false) };
}

async function closeState(p: {
  log: Logger;
  monitor: DriftMonitor;
  alerting: Alerting;
  store: LogStore;
  stored: OpenedHistory;
  model: LoadedModel;
}): Promise<void> {
  const persistLast = async (): Promise<void> => {
    try {
      await p.monitor.maybePersist(Date.now(), true);
    } catch (err) {
      p.log.error({ err }, 'could not persist the final drift snapshot');
    }
  };
  // Among replicas the leader adds the last point while it still leads; a single node, once its
  // rules have stopped.
  if (p.stored.shared) await persistLast();
  await p.alerting.stop();
  if (!p.stored.shared) await persistLast();
  await p.store.close();
  await p.stored.close();
  await p.model.engine.close();
}

async function openStores(
  config: Config,
  checked: CheckedSettings,
  health: StoreHealth,
): Promise<{ opened: OpenedLog; stored: OpenedHistory }> {
  const opened = await openLog(config, checked.card, health);
  try {
    return { opened, stored: await openHistory(config, health) };
  } catch (err) {
    await opened.store.close();
    throw err;
  }
}

async function openMonitor(
  config: Config,
  log: Logger,
  checked: CheckedSettings,
  opened: OpenedLog,
  history: MonitorOptions['history'],
  committed: (b: DecodedBatch) => void,
): Promise<DriftMonitor> {
  const store: LogStore = opened.store;
  const monitor = new DriftMonitor({
    profile: checked.profile,
    capacity: config.WINDOW_ROWS,
    overrides: checked.overrides,
    driftShareThreshold: config.DRIFT_SHARE_THRESHOLD,
    history,
    historyMs: config.DRIFT_HISTORY_MS,
    reportFile: path.join(config.REPORTS_DIR, 'drift_report.json'),
    recent: (n) => store.recent(n),
    card: checked.card,
  });
  const t0 = performance.now();
  const feed = {
    rebuild: (rows: readonly WindowRow[]) => monitor.rebuild(rows),
    label: (id: number, target: number) => monitor.label(id, target),
    applyBatch: (b: DecodedBatch) => {
      monitor.applyBatch(b);
      committed(b);
    },
  };
  await opened.feedWindow(feed, {
    onError: (err) => log.warn({ err }, 'the prediction log follower lost its connection; it reconnects at the next poll'),
    onGap: (last, next) => log.warn({ last, next }, 'batches were removed from the log before this replica read them'),
  });
  log.info(
    { rows: monitor.window.size, ms: Math.round(performance.now() - t0), shared: opened.shared },
    opened.shared ? 'drift window rebuilt from the shared prediction log; following it' : 'drift window rebuilt from the prediction log',
  );
  return monitor;
}

function openScheduler(config: Config, model: LoadedModel, metrics: Metrics): BatchScheduler {
  return new BatchScheduler(
    model.engine,
    { maxRows: config.DYNAMIC_BATCHING ? config.BATCH_MAX_ROWS : 0, maxWaitMs: 0, maxInflight: 1 },
    (run) => {
      metrics.modelRuns.inc();
      metrics.batchRows.observe(run.rows);
      metrics.batchSubmissions.observe(run.submissions);
      metrics.queueSeconds.observe(run.queueMs / 1000);
      metrics.computeSeconds.observe(run.computeMs / 1000);
    },
  );
}
