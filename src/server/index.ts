import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { TemplatedApp, us_listen_socket } from 'uWebSockets.js';
import type { Config } from '../config.js';
import { AlertOutbox, AlertSender, RuleEngine, channelsFrom, loadRules } from '../alerts/index.js';
import { parseDriftOverrides, readProfile } from '../drift/index.js';
import { DriftlineError } from '../errors.js';
import type { Logger } from '../log.js';
import { CARD_FILE, loadModel, readModelCard } from '../model/index.js';
import { DriftMonitor, type MonitorSnapshot } from '../monitor/index.js';
import { BatchScheduler } from '../pipeline/scheduler.js';
import { DriftHistory, PredictionLog, StoreHealth, databaseFile, openDatabase } from '../store/index.js';
import { checkKey } from './auth.js';
import { exchange, routes, send, sendError, sendJson, type Handler } from './http.js';
import { FEED_ROWS, FeedRows, LiveHub, PredictionFeed, type RecentRow } from './live.js';
import { Metrics } from './metrics.js';
import { openApiDocument } from './openapi.js';
import { alertsRoute } from './routes/alerts.js';
import { registerFallbackRoutes } from './routes/fallback.js';
import { feedbackRoute } from './routes/feedback.js';
import { predictRoute } from './routes/predict.js';
import { registerReadRoutes } from './routes/read.js';
import { reportRoute } from './routes/report.js';
import { recordRoutes, type RouteEntry } from './routes.js';
import { SelfTraffic } from './simulate.js';
import type { ServiceState } from './state.js';
import { loadAssets, staticHandler } from './static.js';
import { StatsTracker } from './stats.js';
import { requireNativeUws } from './uws.js';

export interface Service {
  port: number;
  state: ServiceState;
  /** Every pattern registered on the router, in order. */
  routes: readonly RouteEntry[];
  shutdown(): Promise<void>;
}

/**
 * Starts the service: listens at once (so /health answers and /ready says 503 while loading),
 * then loads the model, the prediction log and the reference profile, rebuilds the drift window
 * from the log, and opens the other routes.
 */
export async function startService(config: Config, log: Logger): Promise<Service> {
  // Everything that can be wrong in the settings or the model directory is checked before any
  // thread or socket is opened, so a bad start-up exits at once instead of hanging.
  const rules = loadRules(config);
  const overrides = parseDriftOverrides(config.DRIFT_OVERRIDES ?? '{}');
  const card = readModelCard(path.join(config.MODEL_DIR, CARD_FILE));
  const profile = readProfile(path.join(config.MODEL_DIR, 'reference.json'));
  const names = card.features.map((f) => f.name).join(',');
  if (profile.features.map((f) => f.name).join(',') !== names) {
    throw new DriftlineError('DL_ERR_REFERENCE', `reference.json lists features ${profile.features.map((f) => f.name).join(', ')}, the model card ${names}`);
  }
  const selfTraffic = config.SIMULATE_TRAFFIC ? new SelfTraffic(config, card, profile) : undefined;
  const { uws, implementation } = requireNativeUws(config.ALLOW_UWS_FALLBACK);
  log.info({ implementation }, `uWebSockets.js: ${implementation} implementation loaded`);
  const { app, routes: registered } = recordRoutes(uws.App());
  const metrics = new Metrics();
  let ready = false;
  const s = {} as ServiceState;
  // Every route goes through one front door (framing checks, HEAD, the receive rules).
  const http = routes(app, { minRate: config.REQUEST_MIN_RECEIVE_RATE, windowMs: config.REQUEST_RECEIVE_WINDOW_MS });
  const gate = (h: Handler): Handler => (res, req) => {
    if (ready) return h(res, req);
    sendError(exchange(res), new DriftlineError('DL_ERR_NOT_READY', 'The service is starting or shutting down'), { headers: [['retry-after', '1']] });
  };
  const gated = { get: (p: string, h: Handler) => http.get(p, gate(h)), post: (p: string, h: Handler) => http.post(p, gate(h)) };
  const track = (route: string, method: string, t0: number) => (status: number): number => {
    const seconds = (performance.now() - t0) / 1000;
    metrics.requests.inc({ route, method, status: String(status) });
    metrics.requestSeconds.observe({ route }, seconds);
    if (route === '/predict') stats.request(seconds * 1000);
    return status;
  };
  const stats = new StatsTracker();
  const dbFile = databaseFile(config.DATA_DIR);
  // A damaged database file is logged once, loudly, and takes the service out of rotation.
  const health = new StoreHealth(dbFile, (err) => log.error({ err, code: err.code }, err.message));

  http.get('/health', (res) => sendJson(exchange(res), 200, { status: 'ok' }));
  http.get('/ready', (res) => {
    const ex = exchange(res);
    const corrupt = health.corruption;
    if (corrupt !== undefined) sendError(ex, new DriftlineError('DL_ERR_NOT_READY', corrupt.message, { details: { cause: corrupt.code } }));
    else if (ready) sendJson(ex, 200, { status: 'ok' });
    else sendError(ex, new DriftlineError('DL_ERR_NOT_READY', 'The model or the store is still loading'), { headers: [['retry-after', '1']] });
  });

  const feedRows = new FeedRows(card);
  // Read in uWS's open callback, where a throw would not reach any handler: a failed read
  // costs the client its recent rows (it keeps what it showed), not the connection.
  const recentRows = (): RecentRow[] | undefined => {
    try {
      return feedRows.fromLog(s.store.recent(FEED_ROWS));
    } catch (err) {
      log.error({ err }, 'could not read the recent predictions for a WebSocket hello');
      return undefined;
    }
  };
  const hub = new LiveHub({
    log,
    allowedOrigins: (config.WS_ALLOWED_ORIGINS ?? '').split(',').map((o) => o.trim()).filter((o) => o !== ''),
    hello: (topics) => ({
      model: { name: s.card.name, version: s.card.version, features: s.card.features.map((f) => f.name), labels: s.card.labels },
      window_capacity: config.WINDOW_ROWS,
      snapshot: s.monitor.current(),
      // The newest logged rows, so a page opened after the traffic still shows them.
      ...(topics.includes('predictions') ? { recent: recentRows() } : {}),
    }),
    onClients: (n) => metrics.wsClients.set(n),
    accepting: () => ready,
  });
  hub.register(app);

  // Every route is in place before the socket listens: until ready, the gate answers 503 (a
  // request with no route would have its connection closed by uWS, unanswered).
  registerReadRoutes(gated, s);
  // engine and outbox are made once the store is open; the gate keeps this from running before.
  gated.get('/api/alerts', alertsRoute(() => ({ engine, outbox }), track));
  gated.post('/predict', predictRoute(s));
  gated.post('/api/feedback', feedbackRoute(s));
  gated.get('/report.html', reportRoute(s));
  const openapi = JSON.stringify(openApiDocument(card, card.version));
  http.get('/openapi.json', (res) => {
    send(exchange(res), 200, openapi, [['content-type', 'application/json']]);
    track('/openapi.json', 'GET', performance.now())(200);
  });
  const assets = loadAssets();
  registerFallbackRoutes(http, staticHandler(assets, (status) => metrics.requests.inc({ route: 'static', method: 'GET', status: String(status) })));

  const listenSocket = await new Promise<us_listen_socket>((resolve, reject) => {
    app.listen(config.HOST, config.PORT, (sock) => (sock === false ? reject(new DriftlineError('DL_ERR_CONFIG', `Cannot listen on ${config.HOST}:${config.PORT}`)) : resolve(sock)));
  });
  const port = uws.us_socket_local_port(listenSocket);
  log.info({ host: config.HOST, port }, 'listening (loading the model)');

  const model = await loadModel(config.MODEL_DIR, { threads: config.INFERENCE_THREADS }).catch((err: unknown) => {
    uws.us_listen_socket_close(listenSocket);
    throw err;
  });
  const opened = await (async () => {
    const store = await PredictionLog.open({ file: dbFile, retentionRows: config.LOG_RETENTION_ROWS, decisionThreshold: card.decision_threshold, risk: card.risk_levels, health });
    try {
      return { store, historyDb: openDatabase(dbFile) };
    } catch (err) {
      await store.close();
      throw err;
    }
  })().catch(async (err: unknown) => {
    await model.engine.close();
    uws.us_listen_socket_close(listenSocket);
    throw err;
  });
  const { store, historyDb } = opened;
  const history = new DriftHistory(historyDb, config.DRIFT_HISTORY_RETENTION, health);
  const monitor = new DriftMonitor({
    profile,
    capacity: config.WINDOW_ROWS,
    overrides,
    driftShareThreshold: config.DRIFT_SHARE_THRESHOLD,
    history,
    historyMs: config.DRIFT_HISTORY_MS,
    reportFile: path.join(config.REPORTS_DIR, 'drift_report.json'),
    recent: (n) => store.recent(n),
    card,
  });
  const t0 = performance.now();
  monitor.rebuild(store.tail(config.WINDOW_ROWS));
  log.info({ rows: monitor.window.size, ms: Math.round(performance.now() - t0) }, 'drift window rebuilt from the prediction log');

  // Governance: every fresh snapshot goes through the rules; alerts are written to the outbox
  // first, then logged, pushed live, and delivered in the background.
  const engine = new RuleEngine(rules, {
    cooldownMs: config.ALERT_COOLDOWN_S * 1000,
    model: { name: card.name, version: card.version },
    baseline: { accuracy: card.metrics?.validation.accuracy ?? null, f1: card.metrics?.validation.f1 ?? null },
  });
  const outbox = new AlertOutbox(historyDb);
  engine.restore(outbox.lastByRule());
  const { channels, status } = channelsFrom(config);
  for (const line of status) log.info(line);
  const sender = new AlertSender(outbox, channels, log, { baseDelayMs: config.ALERT_RETRY_BASE_MS, maxDelayMs: config.ALERT_RETRY_MAX_MS });
  // One evaluation for both callers: each fresh snapshot, and the idle timer below.
  let evaluatedSinceTick = false;
  const evaluateRules = (snap: MonitorSnapshot): void => {
    evaluatedSinceTick = true;
    const alerts = engine.evaluate(snap);
    for (const a of alerts) {
      outbox.record(a, channels.map((c) => c.name));
      log[a.status === 'firing' && a.severity === 'critical' ? 'error' : 'warn']({ alert: a }, `alert ${a.status}: ${a.title}: ${a.message}`);
      hub.publish('alerts', a);
    }
    metrics.alertsFiring.set(engine.firing().length);
    if (alerts.length > 0) sender.kick();
  };
  monitor.on('snapshot', (snap) => {
    metrics.observeSnapshot(snap);
    evaluateRules(snap);
  });

  const scheduler = new BatchScheduler(
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
  const feed = new PredictionFeed(hub, feedRows.fromBatch);

  Object.assign(s, {
    config, log, card, model, profile, store, history, monitor, scheduler, metrics, hub,
    ready: () => ready,
    authorize: checkKey(config.API_KEY),
    track,
    uploads: new Set<Promise<unknown>>(),
    onBatch: (b, requestId) => {
      metrics.rowsPredicted.inc(b.rows);
      if (b.count > b.rows) metrics.rowsRejected.inc(b.count - b.rows);
      stats.rows(b.rows);
      feed.add(b, requestId);
    },
  } satisfies ServiceState);

  // Live topics: drift when the window changed (at most every DRIFT_PUSH_MS), stats every second.
  // Clients get the start-up state in their hello; only changes are pushed.
  let pushedVersion = monitor.version;
  const timers = [
    setInterval(() => {
      if (monitor.version === pushedVersion) return;
      pushedVersion = monitor.version;
      hub.publish('drift', monitor.current());
    }, config.DRIFT_PUSH_MS),
    setInterval(() => {
      try {
        monitor.maybePersist();
      } catch (err) {
        log.error({ err: health.check(err) }, 'could not persist the drift snapshot');
      }
    }, Math.min(1000, config.DRIFT_HISTORY_MS)),
    // While no rows arrive no snapshot is fresh: re-read the current one so rules can resolve.
    setInterval(() => {
      if (!evaluatedSinceTick) evaluateRules(monitor.current());
      evaluatedSinceTick = false;
    }, config.ALERT_EVAL_MS),
    setInterval(() => hub.publish('stats', stats.tick({ window_rows: monitor.window.size, ws_clients: hub.clients, uploads: s.uploads.size })), 1000),
  ];
  for (const t of timers) t.unref();
  sender.start();

  ready = true;
  log.info({ port, model: card.name, version: card.version, window_rows: monitor.window.size }, 'ready');
  selfTraffic?.start(s, port);

  let stopping: Promise<void> | undefined;
  return {
    port,
    state: s,
    routes: registered,
    shutdown() {
      stopping ??= (async () => {
        // First, so that no simulated request races the drain below.
        await selfTraffic?.stop();
        ready = false;
        uws.us_listen_socket_close(listenSocket);
        const deadline = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), config.SHUTDOWN_TIMEOUT_MS).unref());
        const drained = await Promise.race([Promise.allSettled([...s.uploads]).then(() => 'drained' as const), deadline]);
        if (drained === 'timeout') log.warn({ uploads: s.uploads.size }, 'shutdown deadline passed with uploads in flight');
        for (const t of timers) clearInterval(t);
        feed.flush();
        feed.stop();
        hub.closeAll(1001);
        await sender.stop();
        try {
          monitor.maybePersist(Date.now(), true);
        } catch (err) {
          log.error({ err }, 'could not persist the final drift snapshot');
        }
        await store.close();
        historyDb.close();
        await model.engine.close();
        log.info('stopped');
      })();
      return stopping;
    },
  };
}
