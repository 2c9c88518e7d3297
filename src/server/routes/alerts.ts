import { performance } from 'node:perf_hooks';
import { exchange, sendJson, type Handler } from '../http.js';
import type { ServiceState } from '../state.js';

/** GET /api/alerts: what fires now, the newest alerts and the undelivered ones. */
export function alertsRoute(s: ServiceState): Handler {
  const { engine, outbox } = s.alerting;
  return (res, req) => {
    const ex = exchange(res);
    const n = Number(req.getQuery('limit') || 100);
    const limit = Number.isInteger(n) && n > 0 ? Math.min(n, 10_000) : 100;
    sendJson(ex, 200, { firing: engine.firing(), alerts: outbox.recent(limit), undelivered: outbox.undelivered() });
    s.track('/api/alerts', 'GET', performance.now())(200);
  };
}
