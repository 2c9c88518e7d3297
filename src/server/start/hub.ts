import type { Config } from '../../config.js';
import type { Logger } from '../../log.js';
import { FEED_ROWS, LiveHub, type FeedRows, type RecentRow } from '../live.js';
import type { Metrics } from '../metrics.js';
import type { ReadinessGate } from './gate.js';

/** The WebSocket hub on /ws; it accepts clients once the gate is open. */
export function createHub(config: Config, log: Logger, parts: { gate: ReadinessGate; metrics: Metrics; feedRows: FeedRows }): LiveHub {
  const { gate } = parts;
  // Read in uWS's open callback, where a throw would not reach any handler: a failed read
  // costs the client its recent rows (it keeps what it showed), not the connection.
  const recentRows = (): RecentRow[] | undefined => {
    try {
      return parts.feedRows.fromLog(gate.state!.store.recent(FEED_ROWS));
    } catch (err) {
      log.error({ err }, 'could not read the recent predictions for a WebSocket hello');
      return undefined;
    }
  };
  return new LiveHub({
    log,
    allowedOrigins: (config.WS_ALLOWED_ORIGINS ?? '')
      .split(',')
      .map((o) => o.trim())
      .filter((o) => o !== ''),
    // Only called while accepting, so the state is open.
    hello: (topics) => {
      const s = gate.state!;
      return {
        model: { name: s.card.name, version: s.card.version, features: s.card.features.map((f) => f.name), labels: s.card.labels },
        window_capacity: config.WINDOW_ROWS,
        snapshot: s.monitor.current(),
        // The newest logged rows, so a page opened after the traffic still shows them.
        ...(topics.includes('predictions') ? { recent: recentRows() } : {}),
      };
    },
    onClients: (n) => parts.metrics.wsClients.set(n),
    accepting: () => gate.ready,
  });
}
