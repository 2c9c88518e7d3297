import { performance } from 'node:perf_hooks';
import type { AlertOutbox, RuleEngine } from '../../alerts/index.js';
import { exchange, sendJson, type Handler } from '../http.js';

type Track = (route: string, method: string, t0: number) => (status: number) => number;

/**
 * GET /api/alerts: what fires now, the newest alerts and the undelivered ones. The engine and
 * outbox exist only once the store is open, so they are asked for per request; the readiness
 * gate keeps this handler from running before then.
 */
export function alertsRoute(alerts: () => { engine: RuleEngine; outbox: AlertOutbox }, track: Track): Handler {
  return (res, req) => {
    const ex = exchange(res);
    const n = Number(req.getQuery('limit') || 100);
    const limit = Number.isInteger(n) && n > 0 ? Math.min(n, 10_000) : 100;
    const { engine, outbox } = alerts();
    sendJson(ex, 200, { firing: engine.firing(), alerts: outbox.recent(limit), undelivered: outbox.undelivered() });
    track('/api/alerts', 'GET', performance.now())(200);
  };
}
