import { DriftlineError } from '../../errors.js';
import type { StoreHealth } from '../../store/index.js';
import { exchange, sendError, sendJson, type Handler } from '../http.js';

/** GET /health: the process answers. Open before anything is loaded. */
export const healthRoute: Handler = (res) => sendJson(exchange(res), 200, { status: 'ok' });

/**
 * GET /ready: 503 while loading or shutting down, when the database file is damaged, and while
 * the shared log (PostgreSQL) cannot be reached.
 */
export function readyRoute(ready: () => boolean, health: StoreHealth): Handler {
  return (res) => {
    const ex = exchange(res);
    const corrupt = health.corruption;
    const unreachable = health.unreachable;
    if (corrupt !== undefined) sendError(ex, new DriftlineError('DL_ERR_NOT_READY', corrupt.message, { details: { cause: corrupt.code } }));
    else if (unreachable !== undefined)
      sendError(
        ex,
        new DriftlineError('DL_ERR_NOT_READY', unreachable.message, {
          details: { cause: unreachable.code },
          retryAfterS: unreachable.retryAfterS,
        }),
      );
    else if (ready()) sendJson(ex, 200, { status: 'ok' });
    else
      sendError(ex, new DriftlineError('DL_ERR_NOT_READY', 'The model or the store is still loading'), { headers: [['retry-after', '1']] });
  };
}
