import { DriftlineError } from '../../errors.js';
import { exchange, sendError, type Handler } from '../http.js';

/** The routes that take POST only: a GET or another method on them is a 405, not a 404. */
const POST_ONLY = ['/predict', '/api/feedback'];

/**
 * The last routes, registered after every named one because uWS matches in order: 405s on the
 * POST-only routes, then the static files for any other GET, then 404 for the rest.
 */
export function registerFallbackRoutes(
  http: { get(p: string, h: Handler): void; any(p: string, h: Handler): void },
  staticFiles: Handler,
): void {
  for (const route of POST_ONLY) {
    http.get(route, (res, req) => {
      sendError(
        exchange(res),
        new DriftlineError('DL_ERR_METHOD_NOT_ALLOWED', `${req.getMethod().toUpperCase()} is not allowed on ${route}; use POST`),
        { headers: [['allow', 'POST']] },
      );
    });
  }
  http.get('/*', staticFiles);
  http.any('/*', (res, req) => {
    const ex = exchange(res);
    const known = POST_ONLY.includes(req.getUrl());
    sendError(
      ex,
      known
        ? new DriftlineError('DL_ERR_METHOD_NOT_ALLOWED', `${req.getMethod().toUpperCase()} is not allowed on ${req.getUrl()}`)
        : new DriftlineError('DL_ERR_NOT_FOUND', `No route ${req.getMethod().toUpperCase()} ${req.getUrl()}`),
    );
  });
}
