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
  const failed = (err: unknown): undefined => {
    log.error({ err }, 'could not read the recent predictions for a WebSocket hello');
    return undefined;
  };
  const recentRows = (): RecentRow[] | undefined | Promise<RecentRow[] | undefined> => {
    try {
      const rows = gate.state!.store.recent(FEED_ROWS);
      return rows instanceof Promise ? rows.then((r) => parts.feedRows.fromLog(r), failed) : parts.feedRows.fromLog(rows);
    } catch (err) {
      return failed(err);
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
      const hello = {
        model: { name: s.card.name, version: s.card.version, features: s.card.features.map((f) => f.name), labels: s.card.labels },
        window_capacity: config.WINDOW_ROWS,
        snapshot: s.monitor.current(),
      };
      if (!topics.includes('predictions')) return hello;
      // The newest logged rows, so a page opened after the traffic still shows them.
      const recent = recentRows();
      return recent instanceof Promise ? recent.then((r) => ({ ...hello, recent: r })) : { ...hello, recent };
    },
    onClients: (n) => parts.metrics.wsClients.set(n),
    accepting: () => gate.ready,
  });
}
