import { performance } from 'node:perf_hooks';
import type { ModelCard } from '../../model/index.js';
import type { StoreHealth } from '../../store/index.js';
import { exchange, send, type Handler } from '../http.js';
import type { Metrics } from '../metrics.js';
import { openApiDocument } from '../openapi.js';
import type { ReadinessGate, StateRoute } from '../start/gate.js';
import { loadAssets, staticHandler } from '../static.js';
import type { Track } from '../stats.js';
import { registerFallbackRoutes } from './fallback.js';
import { feedbackRoute } from './feedback.js';
import { predictRoute } from './predict.js';
import { healthRoute, readyRoute } from './probes.js';
import { registerReadRoutes } from './read.js';
import { reportRoute } from './report.js';

type Router = { get(p: string, h: Handler): void; post(p: string, h: Handler): void; any(p: string, h: Handler): void };

export interface RouteParts {
  card: ModelCard;
  gate: ReadinessGate;
  health: StoreHealth;
  metrics: Metrics;
  track: Track;
}

/**
 * Every HTTP route, registered before the socket listens. The probes and the OpenAPI document
 * answer from the start; the routes that need the model and the store go through the gate.
 */
export function registerRoutes(http: Router, p: RouteParts): void {
  http.get('/health', healthRoute);
  http.get(
    '/ready',
    readyRoute(() => p.gate.ready, p.health),
  );
  const gated = {
    get: (path: string, make: StateRoute) => http.get(path, p.gate.route(make)),
    post: (path: string, make: StateRoute) => http.post(path, p.gate.route(make)),
  };
  registerReadRoutes(gated);
  gated.post('/predict', predictRoute);
  gated.post('/api/feedback', feedbackRoute);
  gated.get('/report.html', reportRoute);
  http.get('/openapi.json', openApiRoute(p.card, p.track));
  registerFallbackRoutes(
    http,
    staticHandler(loadAssets(), (status) => p.metrics.requests.inc({ route: 'static', method: 'GET', status: String(status) })),
  );
}

function openApiRoute(card: ModelCard, track: Track): Handler {
  const openapi = JSON.stringify(openApiDocument(card, card.version));
  return (res) => {
    send(exchange(res), 200, openapi, [['content-type', 'application/json']]);
    track('/openapi.json', 'GET', performance.now())(200);
  };
}
