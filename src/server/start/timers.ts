import type { Logger } from '../../log.js';
import type { StoreHealth } from '../../store/index.js';
import type { ServiceState } from '../state.js';
import type { StatsTracker } from '../stats.js';
import { startRetention } from './retention.js';

/**
 * The service's clocks. Live topics: drift when the window changed (at most every
 * DRIFT_PUSH_MS), stats every second; clients get the start-up state in their hello, so only
 * changes are pushed. Also the drift history's persistence, the idle alert evaluation and the
 * shared log's retention (retention.ts).
 * Returns the function that stops them.
 */
export function startTimers(s: ServiceState, parts: { log: Logger; health: StoreHealth; stats: StatsTracker }): () => void {
  const { config, monitor, hub } = s;
  let pushedVersion = monitor.version;
  const timers = [
    setInterval(() => {
      if (monitor.version === pushedVersion) return;
      pushedVersion = monitor.version;
      hub.publish('drift', monitor.current());
    }, config.DRIFT_PUSH_MS),
    setInterval(
      () => {
        monitor.maybePersist().catch((err: unknown) => {
          parts.log.error({ err: parts.health.check(err) }, 'could not persist the drift snapshot');
        });
      },
      Math.min(1000, config.DRIFT_HISTORY_MS),
    ),
    setInterval(() => s.alerting.evaluateIfIdle(() => monitor.current()), config.ALERT_EVAL_MS),
    setInterval(
      () => hub.publish('stats', parts.stats.tick({ window_rows: monitor.window.size, ws_clients: hub.clients, uploads: s.uploads.size })),
      1000,
    ),
  ];
  for (const t of timers) t.unref();
  const stopRetention = startRetention(s, parts);
  return () => {
    for (const t of timers) clearInterval(t);
    stopRetention();
  };
}
