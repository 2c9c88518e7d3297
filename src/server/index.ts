import type { TemplatedApp, us_listen_socket } from 'uWebSockets.js';
import type { Config } from '../config.js';
import { DriftlineError } from '../errors.js';
import type { Logger } from '../log.js';
import { StoreHealth, databaseFile } from '../store/index.js';
import { routes } from './http.js';
import { FeedRows } from './live.js';
import { Metrics } from './metrics.js';
import { registerRoutes } from './routes/index.js';
import { recordRoutes, type RouteEntry } from './routes.js';
import { SelfTraffic } from './simulate.js';
import { ReadinessGate } from './start/gate.js';
import { createHub } from './start/hub.js';
import { openState } from './start/open-state.js';
import { checkSettings } from './start/settings.js';
import { shutdown } from './start/shutdown.js';
import { startTimers } from './start/timers.js';
import type { ServiceState } from './state.js';
import { StatsTracker, requestTracker } from './stats.js';
import { requireNativeUws } from './uws.js';

export interface Service {
  port: number;
  state: ServiceState;
  /** Every pattern registered on the router, in order. */
  routes: readonly RouteEntry[];
  shutdown(): Promise<void>;
}

/**
 * Starts the service: checks the settings and the model directory, registers every route and
 * listens at once (so /health answers and the other routes say 503 while loading), then opens
 * the model, the store and the drift window, starts the clocks and opens the gate.
 */
export async function startService(config: Config, log: Logger): Promise<Service> {
  const checked = checkSettings(config);
  const selfTraffic = config.SIMULATE_TRAFFIC ? new SelfTraffic(config, checked.card, checked.profile) : undefined;
  const { uws, implementation } = requireNativeUws(config.ALLOW_UWS_FALLBACK);
  log.info({ implementation }, `uWebSockets.js: ${implementation} implementation loaded`);

  const { app, routes: registered } = recordRoutes(uws.App());
  const gate = new ReadinessGate();
  const metrics = new Metrics(config.DATABASE_URL === undefined ? undefined : config.REPLICA_ID);
  const stats = new StatsTracker();
  const track = requestTracker(metrics, stats);
  // A damaged database file is logged once, loudly, and takes the service out of rotation.
  const health = new StoreHealth(databaseFile(config.DATA_DIR), (err) => log.error({ err, code: err.code }, err.message));
  const feedRows = new FeedRows(checked.card);
  const hub = createHub(config, log, { gate, metrics, feedRows });
  hub.register(app);
  // Every route goes through one front door (framing checks, HEAD, the receive rules).
  const http = routes(app, { minRate: config.REQUEST_MIN_RECEIVE_RATE, windowMs: config.REQUEST_RECEIVE_WINDOW_MS });
  registerRoutes(http, { card: checked.card, gate, health, metrics, track });

  const listenSocket = await listen(app, config);
  const port = uws.us_socket_local_port(listenSocket);
  log.info({ host: config.HOST, port }, 'listening (loading the model)');
  const opened = await openState(config, log, checked, { metrics, stats, health, hub, feedRows, track, ready: () => gate.ready }).catch(
    (err: unknown) => {
      uws.us_listen_socket_close(listenSocket);
      throw err;
    },
  );
  const { state } = opened;
  const stopTimers = startTimers(state, { log, health, stats });
  await state.alerting.start();
  gate.open(state);
  log.info({ port, model: state.card.name, version: state.card.version, window_rows: state.monitor.window.size }, 'ready');
  selfTraffic?.start(state, port);

  let stopping: Promise<void> | undefined;
  const closeListen = (): void => uws.us_listen_socket_close(listenSocket);
  return {
    port,
    state,
    routes: registered,
    shutdown: () => (stopping ??= shutdown(log, { selfTraffic, gate, closeListen, stopTimers, opened })),
  };
}

function listen(app: TemplatedApp, config: Config): Promise<us_listen_socket> {
  return new Promise((resolve, reject) => {
    app.listen(config.HOST, config.PORT, (sock) =>
      sock === false ? reject(new DriftlineError('DL_ERR_CONFIG', `Cannot listen on ${config.HOST}:${config.PORT}`)) : resolve(sock),
    );
  });
}
